//! RFC 5755 attribute certificates read as TCG platform certificates (Platform Certificate
//! Profile v1.1 §3.2, v2.0/v2.1 §6): holder, issuer, validity, the TCG attributes and the
//! platform identity from the subject alternative name.

use crate::der::{Der, Tag, TagClass, Tlv};
use crate::name::{first_directory, general_names, GeneralName, IssuerSerial, Name};
use crate::platform_configuration::{
    self, ConfigurationVersion, PlatformConfiguration, UriReference,
};
use crate::time::{Time, Validity};
use crate::x509::{
    envelope, extensions, interpret, AlgorithmIdentifier, AuthorityKeyId, Extension,
};
use crate::{oid, Issue};
use tamperscan_bytes::Error;

/// Most attributes read from one certificate.
const MAX_ATTRIBUTES: usize = 256;

/// What kind of platform credential (`tcgCredentialType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialType {
    /// `tcg-kp-PlatformAttributeCertificate`: a base platform certificate.
    Base,
    /// `tcg-kp-DeltaPlatformAttributeCertificate`.
    Delta,
    /// `tcg-kp-PlatformKeyCertificate`.
    PlatformKey,
    /// `tcg-kp-DeltaPlatformKeyCertificate`.
    DeltaPlatformKey,
    /// `tcg-kp-AdditionalPlatformAttributeCertificate`.
    Additional,
    /// Any other OID.
    Other(String),
}

impl CredentialType {
    fn from_oid(o: &str) -> CredentialType {
        match o {
            oid::TCG_KP_PLATFORM_ATTRIBUTE_CERTIFICATE => CredentialType::Base,
            oid::TCG_KP_DELTA_PLATFORM_ATTRIBUTE_CERTIFICATE => CredentialType::Delta,
            oid::TCG_KP_PLATFORM_KEY_CERTIFICATE => CredentialType::PlatformKey,
            oid::TCG_KP_DELTA_PLATFORM_KEY_CERTIFICATE => CredentialType::DeltaPlatformKey,
            oid::TCG_KP_ADDITIONAL_PLATFORM_ATTRIBUTE_CERTIFICATE => CredentialType::Additional,
            other => CredentialType::Other(other.to_string()),
        }
    }

    /// True for the delta kinds.
    pub fn is_delta(&self) -> bool {
        matches!(
            self,
            CredentialType::Delta | CredentialType::DeltaPlatformKey
        )
    }
}

/// `TCGSpecificationVersion ::= SEQUENCE { majorVersion, minorVersion, revision }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpecVersion {
    /// Major version.
    pub major: i64,
    /// Minor version.
    pub minor: i64,
    /// Revision.
    pub revision: i64,
}

impl SpecVersion {
    fn parse(seq: &mut Der<'_>) -> Result<SpecVersion, Error> {
        Ok(SpecVersion {
            major: seq.read_tag(Tag::INTEGER, "majorVersion")?.small_int()?,
            minor: seq.read_tag(Tag::INTEGER, "minorVersion")?.small_int()?,
            revision: seq.read_tag(Tag::INTEGER, "revision")?.small_int()?,
        })
    }
}

/// `TCGPlatformSpecification ::= SEQUENCE { version TCGSpecificationVersion, platformClass
/// OCTET STRING SIZE(4) }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpecification {
    /// The platform specification version.
    pub version: SpecVersion,
    /// `platformClass` bytes (`00000001` = PC client).
    pub platform_class: Vec<u8>,
}

/// `CommonCriteriaMeasures` (the fields used in practice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonCriteria {
    /// `version` (e.g. `3.1`).
    pub version: String,
    /// `assurancelevel` (EAL 1..7).
    pub assurance_level: i64,
    /// `evaluationStatus` (0 designedToMeet, 1 evaluationInProgress, 2 evaluationCompleted).
    pub evaluation_status: i64,
    /// `plus`.
    pub plus: bool,
    /// `strengthOfFunction`.
    pub strength_of_function: Option<i64>,
    /// `profileOid`.
    pub profile_oid: Option<String>,
    /// `targetOid`.
    pub target_oid: Option<String>,
}

/// `FIPSLevel ::= SEQUENCE { version IA5String, level SecurityLevel, plus BOOLEAN DEFAULT
/// FALSE }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipsLevel {
    /// FIPS 140 version (`140-2`).
    pub version: String,
    /// Security level 1..4.
    pub level: i64,
    /// `plus`.
    pub plus: bool,
}

/// `TBBSecurityAssertions` (Profile v1.1 §3.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TbbSecurityAssertions {
    /// `version` (0 = v1).
    pub version: i64,
    /// `[0] ccInfo`.
    pub common_criteria: Option<CommonCriteria>,
    /// `[1] fipsLevel`.
    pub fips_level: Option<FipsLevel>,
    /// `[2] rtmType` (0 static, 1 dynamic, 2 nonHost, 3 hybrid, 4 physical, 5 virtual).
    pub rtm_type: Option<i64>,
    /// `iso9000Certified`.
    pub iso9000_certified: bool,
    /// `iso9000Uri`.
    pub iso9000_uri: Option<String>,
}

/// The platform's identity: manufacturer, model, version, serial (from the subject
/// alternative name's directory name, or from attributes of the same OIDs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformIdentity {
    /// `platformManufacturerStr` (2.23.133.5.1.1).
    pub manufacturer: Option<String>,
    /// `platformManufacturerId` (2.23.133.5.1.2).
    pub manufacturer_id: Option<String>,
    /// `platformModel` (2.23.133.5.1.4).
    pub model: Option<String>,
    /// `platformVersion` (2.23.133.5.1.5).
    pub version: Option<String>,
    /// `platformSerial` (2.23.133.5.1.6).
    pub serial: Option<String>,
}

/// `ObjectDigestInfo` of a holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDigestInfo {
    /// `digestedObjectType` (0 publicKey, 1 publicKeyCert, 2 otherObjectTypes).
    pub object_type: i64,
    /// `digestAlgorithm`.
    pub algorithm: AlgorithmIdentifier,
    /// `objectDigest`.
    pub digest: Vec<u8>,
}

/// RFC 5755 `Holder`: for a base platform certificate the EK certificate, for a delta the
/// certificate it updates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holder {
    /// `[0] baseCertificateID`.
    pub base_certificate_id: Option<IssuerSerial>,
    /// `[1] entityName`.
    pub entity_name: Vec<GeneralName>,
    /// `[2] objectDigestInfo`.
    pub object_digest: Option<ObjectDigestInfo>,
}

/// One attribute as found, whether or not it was interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAttribute {
    /// Attribute type.
    pub oid: String,
    /// Absolute offset.
    pub offset: u64,
    /// Number of values in its SET.
    pub values: usize,
}

/// A TCG platform certificate (an RFC 5755 attribute certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCertificate {
    /// `version` as encoded (1 = v2).
    pub version: i64,
    /// `holder`.
    pub holder: Holder,
    /// `issuer` general names (v2Form `issuerName` or v1Form).
    pub issuer_names: Vec<GeneralName>,
    /// The issuer's directory name.
    pub issuer: Option<Name>,
    /// The algorithm named inside the signed part.
    pub tbs_signature_algorithm: AlgorithmIdentifier,
    /// `serialNumber`, big-endian without leading zeros.
    pub serial: Vec<u8>,
    /// `attrCertValidityPeriod`.
    pub validity: Validity,
    /// Every attribute, in order.
    pub attributes: Vec<RawAttribute>,
    /// Every extension, in order.
    pub extensions: Vec<Extension>,
    /// `authorityKeyIdentifier`.
    pub authority_key_id: Option<AuthorityKeyId>,
    /// `subjectAltName`.
    pub subject_alt_names: Vec<GeneralName>,
    /// `tcgCredentialType`.
    pub credential_type: Option<CredentialType>,
    /// `tcgPlatformSpecification`.
    pub platform_specification: Option<PlatformSpecification>,
    /// `tcgCredentialSpecification`.
    pub credential_specification: Option<SpecVersion>,
    /// `tbbSecurityAssertions`.
    pub tbb_security_assertions: Option<TbbSecurityAssertions>,
    /// `platformConfigUri`.
    pub platform_config_uri: Option<UriReference>,
    /// Platform manufacturer, model, version and serial.
    pub platform: PlatformIdentity,
    /// The platform configuration (components and properties).
    pub configuration: Option<PlatformConfiguration>,
    /// The outer `signatureAlgorithm`.
    pub signature_algorithm: AlgorithmIdentifier,
    /// `signatureValue` bytes.
    pub signature: Vec<u8>,
    /// Exact DER of `acinfo` (what the signature covers).
    pub tbs: Vec<u8>,
    /// Absolute offset of `acinfo`.
    pub tbs_offset: u64,
    /// What could not be interpreted: OID and offset.
    pub issues: Vec<Issue>,
}

/// True when `der` looks like an attribute certificate (its signed part starts with an
/// INTEGER version followed by a holder SEQUENCE of context-tagged choices) rather than an
/// X.509 certificate.
pub fn is_attribute_certificate(der: &[u8]) -> bool {
    let Ok(env) = envelope(der) else {
        return false;
    };
    let Ok(mut tbs) = env.tbs.enter() else {
        return false;
    };
    if tbs.read_tag(Tag::INTEGER, "version").is_err() {
        return false;
    }
    let Ok(holder) = tbs.read_tag(Tag::SEQUENCE, "holder") else {
        return false;
    };
    let Ok(mut inner) = holder.enter() else {
        return false;
    };
    inner
        .read()
        .is_ok_and(|first| first.tag.class == TagClass::Context)
}

impl PlatformCertificate {
    /// Decodes a DER attribute certificate.
    pub fn from_der(der: &[u8]) -> Result<PlatformCertificate, Error> {
        let env = envelope(der)?;
        let mut issues = Vec::new();
        let mut tbs = env.tbs.enter()?;
        let version = tbs
            .read_tag(Tag::INTEGER, "AttributeCertificateInfo.version")?
            .small_int()?;
        let holder_tlv = tbs.read_tag(Tag::SEQUENCE, "Holder")?;
        let holder = parse_holder(&holder_tlv).unwrap_or_else(|e| {
            issues.push(Issue::new(e.offset, None, format!("holder: {e}")));
            Holder::default()
        });
        let issuer_tlv = tbs.read()?;
        let issuer_names = parse_issuer(&issuer_tlv).unwrap_or_else(|e| {
            issues.push(Issue::new(e.offset, None, format!("issuer: {e}")));
            Vec::new()
        });
        let tbs_signature_algorithm = AlgorithmIdentifier::parse(&tbs.read()?)?;
        let serial = tbs
            .read_tag(Tag::INTEGER, "serialNumber")?
            .unsigned_bytes()
            .to_vec();
        let mut validity_seq = tbs.sequence("AttCertValidityPeriod")?;
        let validity = Validity {
            not_before: Time::parse(&validity_seq.read()?)?,
            not_after: Time::parse(&validity_seq.read()?)?,
        };
        let attributes_tlv = tbs.read_tag(Tag::SEQUENCE, "attributes")?;
        let mut exts = Vec::new();
        while !tbs.is_empty() {
            let t = tbs.read()?;
            if t.tag == Tag::SEQUENCE {
                exts = extensions(&t, &mut issues)?;
            }
        }
        let known = interpret(&exts, &mut issues);
        let mut cert = PlatformCertificate {
            version,
            holder,
            issuer: first_directory(&issuer_names).cloned(),
            issuer_names,
            tbs_signature_algorithm,
            serial,
            validity,
            attributes: Vec::new(),
            extensions: exts,
            authority_key_id: known.authority_key_id,
            subject_alt_names: known.subject_alt_names,
            credential_type: None,
            platform_specification: None,
            credential_specification: None,
            tbb_security_assertions: None,
            platform_config_uri: None,
            platform: PlatformIdentity::default(),
            configuration: None,
            signature_algorithm: env.algorithm,
            signature: env.signature,
            tbs: env.tbs.raw.to_vec(),
            tbs_offset: env.tbs.offset,
            issues,
        };
        if cert.tbs_signature_algorithm != cert.signature_algorithm {
            cert.issues.push(Issue::new(
                cert.tbs_offset,
                Some(cert.signature_algorithm.oid.clone()),
                "signature algorithm inside and outside the signed part differ",
            ));
        }
        cert.read_attributes(&attributes_tlv)?;
        cert.read_platform_identity();
        Ok(cert)
    }

    fn read_attributes(&mut self, tlv: &Tlv<'_>) -> Result<(), Error> {
        let mut seq = tlv.enter()?;
        while !seq.is_empty() {
            let attr = seq.read()?;
            let mut inner = match attr.enter() {
                Ok(i) => i,
                Err(e) => {
                    self.issues
                        .push(Issue::new(e.offset, None, format!("attribute: {e}")));
                    continue;
                }
            };
            let attr_oid = match inner
                .read_tag(Tag::OID, "attribute type")
                .and_then(|t| t.oid())
            {
                Ok(o) => o,
                Err(e) => {
                    self.issues
                        .push(Issue::new(e.offset, None, format!("attribute: {e}")));
                    continue;
                }
            };
            let values: Vec<Tlv<'_>> = match inner.read_tag(Tag::SET, "attribute values") {
                Ok(set) => {
                    let mut vals = Vec::new();
                    let mut rd = set.enter()?;
                    while !rd.is_empty() && vals.len() < MAX_ATTRIBUTES {
                        match rd.read() {
                            Ok(v) => vals.push(v),
                            Err(e) => {
                                self.issues.push(Issue::new(
                                    e.offset,
                                    Some(attr_oid.clone()),
                                    format!("attribute value: {e}"),
                                ));
                                break;
                            }
                        }
                    }
                    vals
                }
                Err(e) => {
                    self.issues
                        .push(Issue::new(e.offset, Some(attr_oid.clone()), e.to_string()));
                    Vec::new()
                }
            };
            self.attributes.push(RawAttribute {
                oid: attr_oid.clone(),
                offset: attr.offset,
                values: values.len(),
            });
            if self.attributes.len() > MAX_ATTRIBUTES {
                return Err(Error::invalid(attr.offset, "attributes", "too many"));
            }
            for v in &values {
                if let Err(e) = self.interpret_attribute(&attr_oid, v) {
                    self.issues.push(Issue::new(
                        e.offset,
                        Some(attr_oid.clone()),
                        format!("attribute not interpreted: {e}"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn interpret_attribute(&mut self, attr_oid: &str, v: &Tlv<'_>) -> Result<(), Error> {
        match attr_oid {
            oid::TCG_AT_CREDENTIAL_TYPE => {
                let mut seq = v.enter()?;
                let o = seq.read_tag(Tag::OID, "certificateType")?.oid()?;
                self.credential_type = Some(CredentialType::from_oid(&o));
            }
            oid::TCG_AT_PLATFORM_SPECIFICATION => {
                let mut seq = v.enter()?;
                let mut ver = seq.sequence("TCGSpecificationVersion")?;
                let version = SpecVersion::parse(&mut ver)?;
                // An OCTET STRING per the profile; early encoders used a string type.
                let platform_class = seq.read()?.value.to_vec();
                self.platform_specification = Some(PlatformSpecification {
                    version,
                    platform_class,
                });
            }
            oid::TCG_AT_CREDENTIAL_SPECIFICATION => {
                let mut seq = v.enter()?;
                // Some encoders wrap the version in one more SEQUENCE.
                if seq.peek_tag() == Some(Tag::SEQUENCE) {
                    seq = seq.sequence("TCGSpecificationVersion")?;
                }
                self.credential_specification = Some(SpecVersion::parse(&mut seq)?);
            }
            oid::TCG_AT_TBB_SECURITY_ASSERTIONS => {
                self.tbb_security_assertions = Some(parse_tbb(v)?);
            }
            oid::TCG_AT_PLATFORM_CONFIG_URI | oid::TCG_AT_PLATFORM_CONFIG_URI_V3 => {
                self.platform_config_uri = Some(UriReference::parse(v)?);
            }
            oid::TCG_AT_PLATFORM_CONFIGURATION
            | oid::TCG_AT_PLATFORM_CONFIGURATION_V1
            | oid::TCG_AT_PLATFORM_CONFIGURATION_V2
            | oid::TCG_AT_PLATFORM_CONFIGURATION_V3 => {
                let version = match attr_oid {
                    oid::TCG_AT_PLATFORM_CONFIGURATION_V2 => ConfigurationVersion::V2,
                    oid::TCG_AT_PLATFORM_CONFIGURATION_V3 => ConfigurationVersion::V3,
                    _ => ConfigurationVersion::V1,
                };
                let config = platform_configuration::parse(v, version, &mut self.issues)?;
                self.configuration = Some(config);
            }
            oid::TCG_AT_PLATFORM_MANUFACTURER => self.platform.manufacturer = Some(v.text()),
            oid::TCG_AT_PLATFORM_MODEL => self.platform.model = Some(v.text()),
            oid::TCG_AT_PLATFORM_VERSION => self.platform.version = Some(v.text()),
            oid::TCG_AT_PLATFORM_SERIAL => self.platform.serial = Some(v.text()),
            oid::TCG_AT_PLATFORM_MANUFACTURER_ID => {
                let mut seq = v.enter()?;
                self.platform.manufacturer_id = Some(seq.read()?.oid()?);
            }
            other if other.starts_with("2.23.133.") => {
                self.issues.push(Issue::new(
                    v.offset,
                    Some(other.to_string()),
                    "TCG attribute not interpreted",
                ));
            }
            _ => {}
        }
        Ok(())
    }

    /// Fills the platform identity from the subject alternative name's directory names
    /// (attributes found earlier win).
    fn read_platform_identity(&mut self) {
        let mut from_san = PlatformIdentity::default();
        for name in self
            .subject_alt_names
            .iter()
            .filter_map(GeneralName::directory)
        {
            for a in name.attributes() {
                let v = Some(a.value.clone());
                match a.oid.as_str() {
                    // The TCPA-era credential profile used 2.23.133.2.4/5/6.
                    oid::TCG_AT_PLATFORM_MANUFACTURER | "2.23.133.2.4" => {
                        from_san.manufacturer = v;
                    }
                    oid::TCG_AT_PLATFORM_MODEL | "2.23.133.2.5" => from_san.model = v,
                    oid::TCG_AT_PLATFORM_VERSION | "2.23.133.2.6" => from_san.version = v,
                    oid::TCG_AT_PLATFORM_SERIAL => from_san.serial = v,
                    oid::TCG_AT_PLATFORM_MANUFACTURER_ID => {
                        from_san.manufacturer_id = manufacturer_id_text(&a.value);
                    }
                    _ => {}
                }
            }
        }
        let p = &mut self.platform;
        p.manufacturer = p.manufacturer.take().or(from_san.manufacturer);
        p.model = p.model.take().or(from_san.model);
        p.version = p.version.take().or(from_san.version);
        p.serial = p.serial.take().or(from_san.serial);
        p.manufacturer_id = p.manufacturer_id.take().or(from_san.manufacturer_id);
    }

    /// The serial as lowercase hex.
    pub fn serial_hex(&self) -> String {
        tamperscan_bytes::hex(&self.serial)
    }

    /// True for a delta platform certificate.
    pub fn is_delta(&self) -> bool {
        self.credential_type
            .as_ref()
            .is_some_and(CredentialType::is_delta)
    }

    /// The components (empty when the certificate has no platform configuration).
    pub fn components(&self) -> &[platform_configuration::PlatformComponent] {
        self.configuration
            .as_ref()
            .map_or(&[], |c| c.components.as_slice())
    }

    /// True when this certificate's holder names `other` (issuer name and serial), the way a
    /// delta points at the certificate it updates.
    pub fn holder_points_at(&self, other: &PlatformCertificate) -> bool {
        let Some(base_id) = &self.holder.base_certificate_id else {
            return false;
        };
        let names_match = match (base_id.issuer_name(), &other.issuer) {
            (Some(a), Some(b)) => a.matches(b),
            _ => false,
        };
        names_match && base_id.serial == other.serial
    }
}

/// `ManufacturerId ::= SEQUENCE { manufacturerIdentifier PrivateEnterpriseNumber }` kept in
/// a name as `#`-hex DER: the OID as dotted text (or the raw text when it is not that).
fn manufacturer_id_text(value: &str) -> Option<String> {
    let Some(hex) = value.strip_prefix('#') else {
        return Some(value.to_string());
    };
    let der = tamperscan_bytes::unhex(hex)?;
    let t = Der::new(&der).read().ok()?;
    if t.tag == Tag::OID {
        return t.oid().ok();
    }
    t.enter().ok()?.read().ok()?.oid().ok()
}

fn parse_holder(tlv: &Tlv<'_>) -> Result<Holder, Error> {
    let mut seq = tlv.enter()?;
    let mut holder = Holder::default();
    while !seq.is_empty() {
        let t = seq.read()?;
        if t.tag.is_context(0) {
            holder.base_certificate_id = Some(IssuerSerial::parse(&t)?);
        } else if t.tag.is_context(1) {
            holder.entity_name = general_names(&mut t.enter_any()?)?;
        } else if t.tag.is_context(2) {
            holder.object_digest = Some(parse_object_digest(&t)?);
        }
    }
    Ok(holder)
}

fn parse_object_digest(tlv: &Tlv<'_>) -> Result<ObjectDigestInfo, Error> {
    let mut seq = tlv.enter_any()?;
    let object_type = seq
        .read_tag(Tag::ENUMERATED, "digestedObjectType")?
        .small_int()?;
    let mut next = seq.read()?;
    if next.tag == Tag::OID {
        // otherObjectTypeID
        next = seq.read()?;
    }
    let algorithm = AlgorithmIdentifier::parse(&next)?;
    let digest = seq
        .read_tag(Tag::BIT_STRING, "objectDigest")?
        .bit_string()?
        .to_vec();
    Ok(ObjectDigestInfo {
        object_type,
        algorithm,
        digest,
    })
}

fn parse_issuer(tlv: &Tlv<'_>) -> Result<Vec<GeneralName>, Error> {
    if tlv.tag == Tag::SEQUENCE {
        // v1Form: GeneralNames.
        return general_names(&mut tlv.enter()?);
    }
    if !tlv.tag.is_context(0) {
        return Err(Error::invalid(
            tlv.offset,
            "AttCertIssuer",
            format!("expected v1Form or [0] v2Form, found {}", tlv.tag),
        ));
    }
    let mut v2 = tlv.enter_any()?;
    let mut names = Vec::new();
    while !v2.is_empty() {
        let t = v2.read()?;
        if t.tag == Tag::SEQUENCE {
            names = general_names(&mut t.enter()?)?;
        }
    }
    Ok(names)
}

fn parse_tbb(tlv: &Tlv<'_>) -> Result<TbbSecurityAssertions, Error> {
    let mut seq = tlv.enter()?;
    let mut out = TbbSecurityAssertions::default();
    while !seq.is_empty() {
        let t = seq.read()?;
        if t.tag == Tag::INTEGER {
            out.version = t.small_int()?;
        } else if t.tag.is_context(0) {
            let mut cc = t.enter_any()?;
            let version = cc.read()?.text();
            let assurance_level = cc.read()?.small_int()?;
            let evaluation_status = cc.read()?.small_int()?;
            let mut c = CommonCriteria {
                version,
                assurance_level,
                evaluation_status,
                plus: false,
                strength_of_function: None,
                profile_oid: None,
                target_oid: None,
            };
            while !cc.is_empty() {
                let f = cc.read()?;
                if f.tag == Tag::BOOLEAN {
                    c.plus = f.boolean()?;
                } else if f.tag.is_context(0) {
                    c.strength_of_function = Some(f.small_int()?);
                } else if f.tag.is_context(1) {
                    c.profile_oid = Some(f.oid()?);
                } else if f.tag.is_context(3) {
                    c.target_oid = Some(f.oid()?);
                }
            }
            out.common_criteria = Some(c);
        } else if t.tag.is_context(1) {
            let mut f = t.enter_any()?;
            let version = f.read()?.text();
            let level = f.read()?.small_int()?;
            let plus = match f.read_optional(Tag::BOOLEAN)? {
                Some(b) => b.boolean()?,
                None => false,
            };
            out.fips_level = Some(FipsLevel {
                version,
                level,
                plus,
            });
        } else if t.tag.is_context(2) {
            out.rtm_type = Some(t.small_int()?);
        } else if t.tag == Tag::BOOLEAN {
            out.iso9000_certified = t.boolean()?;
        } else if t.tag == Tag::IA5_STRING {
            out.iso9000_uri = Some(t.text());
        }
    }
    Ok(out)
}
