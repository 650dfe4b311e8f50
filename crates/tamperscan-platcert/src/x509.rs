//! X.509 public-key certificates (RFC 5280 §4.1), enough for the CAs that sign platform
//! certificates: names, validity, key, key identifiers, basic constraints, signature.

use crate::der::{Der, Tag, Tlv};
use crate::name::{general_names, GeneralName, Name};
use crate::time::{Time, Validity};
use crate::{oid, Issue};
use tamperscan_bytes::Error;

/// Most extensions read from one certificate.
const MAX_EXTENSIONS: usize = 128;

/// An `AlgorithmIdentifier`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlgorithmIdentifier {
    /// The algorithm OID.
    pub oid: String,
    /// The DER of the parameters, when present (`NULL` included).
    pub parameters: Option<Vec<u8>>,
}

impl AlgorithmIdentifier {
    /// Decodes an `AlgorithmIdentifier` SEQUENCE.
    pub fn parse(tlv: &Tlv<'_>) -> Result<AlgorithmIdentifier, Error> {
        tlv.expect(Tag::SEQUENCE, "AlgorithmIdentifier")?;
        let mut seq = tlv.enter()?;
        let oid = seq.read_tag(Tag::OID, "algorithm")?.oid()?;
        let parameters = if seq.is_empty() {
            None
        } else {
            Some(seq.read()?.raw.to_vec())
        };
        Ok(AlgorithmIdentifier { oid, parameters })
    }

    /// The algorithm's short name, or its OID.
    pub fn name(&self) -> String {
        oid::name(&self.oid).map_or_else(|| self.oid.clone(), str::to_string)
    }
}

/// One certificate extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// `extnID`.
    pub oid: String,
    /// `critical`.
    pub critical: bool,
    /// Absolute offset of the `extnValue` contents.
    pub offset: u64,
    /// The DER inside `extnValue`.
    pub value: Vec<u8>,
}

/// RFC 5280 §4.2.1.1 `AuthorityKeyIdentifier`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorityKeyId {
    /// `[0] keyIdentifier`.
    pub key_id: Option<Vec<u8>>,
    /// `[1] authorityCertIssuer`.
    pub issuer: Vec<GeneralName>,
    /// `[2] authorityCertSerialNumber`, big-endian without leading zeros.
    pub serial: Option<Vec<u8>>,
}

/// RFC 5280 §4.2.1.9 `BasicConstraints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraints {
    /// `cA`.
    pub ca: bool,
    /// `pathLenConstraint`.
    pub path_len: Option<i64>,
}

/// A `SubjectPublicKeyInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectPublicKeyInfo {
    /// Key algorithm (with the curve OID as parameters for EC keys).
    pub algorithm: AlgorithmIdentifier,
    /// The `subjectPublicKey` BIT STRING bytes (an RSAPublicKey or an EC point).
    pub key: Vec<u8>,
}

impl SubjectPublicKeyInfo {
    /// Decodes a `SubjectPublicKeyInfo` SEQUENCE.
    pub fn parse(tlv: &Tlv<'_>) -> Result<SubjectPublicKeyInfo, Error> {
        tlv.expect(Tag::SEQUENCE, "SubjectPublicKeyInfo")?;
        let mut seq = tlv.enter()?;
        let algorithm = AlgorithmIdentifier::parse(&seq.read()?)?;
        let key = seq
            .read_tag(Tag::BIT_STRING, "subjectPublicKey")?
            .bit_string()?
            .to_vec();
        Ok(SubjectPublicKeyInfo { algorithm, key })
    }

    /// The curve OID of an EC key.
    pub fn curve(&self) -> Option<String> {
        let params = self.algorithm.parameters.as_deref()?;
        Der::new(params).read().ok()?.oid().ok()
    }

    /// `(modulus, exponent)` of an RSA key, big-endian without leading zeros.
    pub fn rsa_components(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let mut outer = Der::new(&self.key);
        let mut seq = outer.sequence("RSAPublicKey").ok()?;
        let n = seq.read_tag(Tag::INTEGER, "modulus").ok()?;
        let e = seq.read_tag(Tag::INTEGER, "publicExponent").ok()?;
        Some((n.unsigned_bytes().to_vec(), e.unsigned_bytes().to_vec()))
    }
}

/// The three parts of any signed X.509-style object.
pub(crate) struct Envelope<'a> {
    pub tbs: Tlv<'a>,
    pub algorithm: AlgorithmIdentifier,
    pub signature: Vec<u8>,
}

/// Splits `SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING }`.
pub(crate) fn envelope(der: &[u8]) -> Result<Envelope<'_>, Error> {
    let mut top = Der::new(der);
    let outer = top.read_tag(Tag::SEQUENCE, "signed object")?;
    let mut seq = outer.enter()?;
    let tbs = seq.read_tag(Tag::SEQUENCE, "to-be-signed part")?;
    let algorithm = AlgorithmIdentifier::parse(&seq.read()?)?;
    let signature = seq
        .read_tag(Tag::BIT_STRING, "signatureValue")?
        .bit_string()?
        .to_vec();
    Ok(Envelope {
        tbs,
        algorithm,
        signature,
    })
}

/// Decodes an `Extensions` SEQUENCE; each bad extension becomes an issue.
pub(crate) fn extensions(tlv: &Tlv<'_>, issues: &mut Vec<Issue>) -> Result<Vec<Extension>, Error> {
    let mut seq = tlv.enter()?;
    let mut out = Vec::new();
    while !seq.is_empty() {
        let ext = seq.read()?;
        match extension(&ext) {
            Ok(e) => out.push(e),
            Err(e) => issues.push(Issue::new(e.offset, None, format!("extension: {e}"))),
        }
        if out.len() > MAX_EXTENSIONS {
            return Err(Error::invalid(
                ext.offset,
                "Extensions",
                "too many extensions",
            ));
        }
    }
    Ok(out)
}

fn extension(tlv: &Tlv<'_>) -> Result<Extension, Error> {
    let mut seq = tlv.enter()?;
    let oid = seq.read_tag(Tag::OID, "extnID")?.oid()?;
    let critical = match seq.read_optional(Tag::BOOLEAN)? {
        Some(b) => b.boolean()?,
        None => false,
    };
    let value = seq.read_tag(Tag::OCTET_STRING, "extnValue")?;
    Ok(Extension {
        oid,
        critical,
        offset: value.value_offset,
        value: value.value.to_vec(),
    })
}

/// The interpreted extensions shared by certificates and attribute certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KnownExtensions {
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<AuthorityKeyId>,
    pub basic_constraints: Option<BasicConstraints>,
    pub subject_alt_names: Vec<GeneralName>,
}

pub(crate) fn interpret(exts: &[Extension], issues: &mut Vec<Issue>) -> KnownExtensions {
    let mut known = KnownExtensions::default();
    for e in exts {
        let mut d = Der::with_base(&e.value, e.offset);
        let result: Result<(), Error> = (|| {
            match e.oid.as_str() {
                oid::CE_SUBJECT_KEY_ID => {
                    let t = d.read_tag(Tag::OCTET_STRING, "subjectKeyIdentifier")?;
                    known.subject_key_id = Some(t.value.to_vec());
                }
                oid::CE_AUTHORITY_KEY_ID => {
                    let mut seq = d.sequence("AuthorityKeyIdentifier")?;
                    let mut aki = AuthorityKeyId::default();
                    while !seq.is_empty() {
                        let t = seq.read()?;
                        if t.tag.is_context(0) {
                            aki.key_id = Some(t.value.to_vec());
                        } else if t.tag.is_context(1) {
                            aki.issuer = general_names(&mut t.enter_any()?)?;
                        } else if t.tag.is_context(2) {
                            aki.serial = Some(t.unsigned_bytes().to_vec());
                        }
                    }
                    known.authority_key_id = Some(aki);
                }
                oid::CE_BASIC_CONSTRAINTS => {
                    let mut seq = d.sequence("BasicConstraints")?;
                    let ca = match seq.read_optional(Tag::BOOLEAN)? {
                        Some(b) => b.boolean()?,
                        None => false,
                    };
                    let path_len = match seq.read_optional(Tag::INTEGER)? {
                        Some(i) => Some(i.small_int()?),
                        None => None,
                    };
                    known.basic_constraints = Some(BasicConstraints { ca, path_len });
                }
                oid::CE_SUBJECT_ALT_NAME => {
                    let t = d.read_tag(Tag::SEQUENCE, "GeneralNames")?;
                    // Legacy TCPA credentials put a bare Name (SEQUENCE OF SET) here.
                    let bare_name = t.enter()?.peek_tag() == Some(Tag::SET);
                    known.subject_alt_names = if bare_name {
                        vec![GeneralName::Directory(Name::parse(&t)?)]
                    } else {
                        general_names(&mut t.enter()?)?
                    };
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(err) = result {
            issues.push(Issue::new(
                err.offset,
                Some(e.oid.clone()),
                format!("extension not interpreted: {err}"),
            ));
        }
    }
    known
}

/// An X.509 certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// `version` (1, 2 or 3).
    pub version: i64,
    /// `serialNumber`, big-endian without leading zeros.
    pub serial: Vec<u8>,
    /// The algorithm named inside the signed part.
    pub tbs_signature_algorithm: AlgorithmIdentifier,
    /// `issuer`.
    pub issuer: Name,
    /// `validity`.
    pub validity: Validity,
    /// `subject`.
    pub subject: Name,
    /// `subjectPublicKeyInfo`.
    pub public_key: SubjectPublicKeyInfo,
    /// Every extension, interpreted or not.
    pub extensions: Vec<Extension>,
    /// `subjectKeyIdentifier`.
    pub subject_key_id: Option<Vec<u8>>,
    /// `authorityKeyIdentifier`.
    pub authority_key_id: Option<AuthorityKeyId>,
    /// `basicConstraints`.
    pub basic_constraints: Option<BasicConstraints>,
    /// `subjectAltName` (EK certificates carry the TPM identity there).
    pub subject_alt_names: Vec<GeneralName>,
    /// The outer `signatureAlgorithm`.
    pub signature_algorithm: AlgorithmIdentifier,
    /// The `signatureValue` bytes.
    pub signature: Vec<u8>,
    /// The exact DER of `tbsCertificate` (what the signature covers).
    pub tbs: Vec<u8>,
    /// Absolute offset of `tbsCertificate` in the DER.
    pub tbs_offset: u64,
    /// What could not be interpreted.
    pub issues: Vec<Issue>,
}

impl Certificate {
    /// Decodes a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        let env = envelope(der)?;
        let mut issues = Vec::new();
        let mut tbs = env.tbs.enter()?;
        let version = match tbs.read_optional(Tag::context(0, true))? {
            Some(v) => {
                let mut inner = v.enter()?;
                inner.read_tag(Tag::INTEGER, "version")?.small_int()? + 1
            }
            None => 1,
        };
        let serial = tbs
            .read_tag(Tag::INTEGER, "serialNumber")?
            .unsigned_bytes()
            .to_vec();
        let tbs_signature_algorithm = AlgorithmIdentifier::parse(&tbs.read()?)?;
        let issuer = Name::parse(&tbs.read()?)?;
        let mut validity_seq = tbs.sequence("Validity")?;
        let validity = Validity {
            not_before: Time::parse(&validity_seq.read()?)?,
            not_after: Time::parse(&validity_seq.read()?)?,
        };
        let subject = Name::parse(&tbs.read()?)?;
        let public_key = SubjectPublicKeyInfo::parse(&tbs.read()?)?;
        let mut exts = Vec::new();
        while !tbs.is_empty() {
            let t = tbs.read()?;
            if t.tag == Tag::context(3, true) {
                let mut inner = t.enter()?;
                exts = extensions(&inner.read()?, &mut issues)?;
            }
        }
        let known = interpret(&exts, &mut issues);
        if tbs_signature_algorithm != env.algorithm {
            issues.push(Issue::new(
                env.tbs.offset,
                Some(env.algorithm.oid.clone()),
                "signature algorithm inside and outside the signed part differ",
            ));
        }
        Ok(Certificate {
            version,
            serial,
            tbs_signature_algorithm,
            issuer,
            validity,
            subject,
            public_key,
            extensions: exts,
            subject_key_id: known.subject_key_id,
            authority_key_id: known.authority_key_id,
            basic_constraints: known.basic_constraints,
            subject_alt_names: known.subject_alt_names,
            signature_algorithm: env.algorithm,
            signature: env.signature,
            tbs: env.tbs.raw.to_vec(),
            tbs_offset: env.tbs.offset,
            issues,
        })
    }

    /// The serial as lowercase hex.
    pub fn serial_hex(&self) -> String {
        tamperscan_bytes::hex(&self.serial)
    }

    /// True when subject and issuer are the same name.
    pub fn is_self_issued(&self) -> bool {
        self.subject.matches(&self.issuer)
    }

    /// The subject key identifier, or the RFC 5280 §4.2.1.2 method 1 value (SHA-1 of the
    /// `subjectPublicKey` bits) when the certificate has none.
    pub fn key_id(&self) -> Vec<u8> {
        match &self.subject_key_id {
            Some(k) => k.clone(),
            None => ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &self.public_key.key,
            )
            .as_ref()
            .to_vec(),
        }
    }
}
