//! The platform configuration attribute: components and properties.
//!
//! Three encodings exist:
//! * `PlatformConfiguration` (v1, `tcg-at-platformConfiguration-v1` 2.23.133.5.1.7.1,
//!   Platform Certificate Profile v1.0): `ComponentIdentifier` without a class;
//! * `PlatformConfiguration-v2` (2.23.133.5.1.7.2, Profile v1.1 §3.1.6): `ComponentIdentifier-v2`
//!   with `componentClass`, `componentPlatformCert` and the delta `status`;
//! * `PlatformConfiguration-v3` (2.23.133.5.1.7.3, Profile v2.0/v2.1): every component is a
//!   `SEQUENCE OF Trait`; a `componentIdentifierV11` trait carries a whole v2 identifier.
//!
//! Everything is decoded leniently: an element that does not fit becomes an [`Issue`].

use crate::der::{Der, Tag, TagClass, Tlv};
use crate::name::IssuerSerial;
use crate::x509::AlgorithmIdentifier;
use crate::{oid, Issue};
use tamperscan_bytes::Error;

/// Most components or properties read from one configuration.
pub const MAX_COMPONENTS: usize = 4096;
/// Most traits or addresses read from one component.
const MAX_PER_COMPONENT: usize = 256;

/// Which `PlatformConfiguration` encoding a certificate used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigurationVersion {
    /// 2.23.133.5.1.7.1 (and the bare 2.23.133.5.1.7 of early drafts).
    V1,
    /// 2.23.133.5.1.7.2.
    V2,
    /// 2.23.133.5.1.7.3 (traits).
    V3,
}

/// `ComponentClass ::= SEQUENCE { componentClassRegistry OID, componentClassValue OCTET
/// STRING SIZE(4) }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentClassId {
    /// The registry OID (2.23.133.18.3.1 TCG, .3 SMBIOS, .4 PCIe, .5 disk).
    pub registry: String,
    /// The 4-byte class value, big-endian.
    pub value: u32,
}

impl ComponentClassId {
    fn parse(tlv: &Tlv<'_>) -> Result<ComponentClassId, Error> {
        let mut seq = tlv.enter()?;
        let registry = seq.read_tag(Tag::OID, "componentClassRegistry")?.oid()?;
        let v = seq.read_tag(Tag::OCTET_STRING, "componentClassValue")?;
        let value = match v.value {
            [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
            _ => {
                return Err(Error::invalid(
                    v.offset,
                    "componentClassValue",
                    format!("{} bytes, expected 4", v.value.len()),
                ))
            }
        };
        Ok(ComponentClassId { registry, value })
    }

    /// The value as eight uppercase hex digits, the way registries write it (`00030003`).
    pub fn value_hex(&self) -> String {
        format!("{:08X}", self.value)
    }
}

/// What a component address is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressKind {
    /// `tcg-address-ethernetmac`.
    EthernetMac,
    /// `tcg-address-wlanmac`.
    WlanMac,
    /// `tcg-address-bluetoothmac`.
    BluetoothMac,
    /// Another address type OID.
    Other(String),
}

/// `ComponentAddress ::= SEQUENCE { addressType OID, addressValue UTF8String }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ComponentAddress {
    /// Address type.
    pub kind: AddressKind,
    /// The value as written (`AF:3A:94:10:A5`, `CC483A4BEB00`).
    pub value: String,
}

impl ComponentAddress {
    fn parse(tlv: &Tlv<'_>) -> Result<ComponentAddress, Error> {
        let mut seq = tlv.enter()?;
        let kind_oid = seq.read_tag(Tag::OID, "addressType")?.oid()?;
        let value = seq.read()?.text();
        Ok(ComponentAddress {
            kind: address_kind(&kind_oid),
            value,
        })
    }

    /// The value as a canonical MAC (`aa:bb:cc:dd:ee:ff`), when it is one.
    pub fn mac(&self) -> Option<String> {
        tamperscan_inventory::normalize_mac(&self.value)
    }
}

fn address_kind(oid_text: &str) -> AddressKind {
    match oid_text {
        oid::TCG_ADDRESS_ETHERNET_MAC => AddressKind::EthernetMac,
        oid::TCG_ADDRESS_WLAN_MAC => AddressKind::WlanMac,
        oid::TCG_ADDRESS_BLUETOOTH_MAC => AddressKind::BluetoothMac,
        other => AddressKind::Other(other.to_string()),
    }
}

/// `AttributeStatus ::= ENUMERATED { added (0), modified (1), removed (2) }`: what a delta
/// certificate does to a component or property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeStatus {
    /// `added (0)`.
    Added,
    /// `modified (1)`.
    Modified,
    /// `removed (2)`.
    Removed,
    /// A value the profile does not define.
    Other(i64),
}

impl AttributeStatus {
    fn from_value(v: i64) -> AttributeStatus {
        match v {
            0 => AttributeStatus::Added,
            1 => AttributeStatus::Modified,
            2 => AttributeStatus::Removed,
            n => AttributeStatus::Other(n),
        }
    }
}

/// `URIReference ::= SEQUENCE { uniformResourceIdentifier IA5String, hashAlgorithm
/// AlgorithmIdentifier OPTIONAL, hashValue BIT STRING OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriReference {
    /// The URI.
    pub uri: String,
    /// Hash algorithm of the referenced document.
    pub hash_algorithm: Option<AlgorithmIdentifier>,
    /// Hash of the referenced document.
    pub hash: Option<Vec<u8>>,
}

impl UriReference {
    /// Decodes a `URIReference` (SEQUENCE or IMPLICIT-tagged).
    pub fn parse(tlv: &Tlv<'_>) -> Result<UriReference, Error> {
        let mut seq = tlv.enter_any()?;
        let uri = seq.read()?.text();
        let mut hash_algorithm = None;
        let mut hash = None;
        while !seq.is_empty() {
            let t = seq.read()?;
            if t.tag == Tag::SEQUENCE {
                hash_algorithm = Some(AlgorithmIdentifier::parse(&t)?);
            } else if t.tag == Tag::BIT_STRING {
                hash = Some(t.bit_string()?.to_vec());
            }
        }
        Ok(UriReference {
            uri,
            hash_algorithm,
            hash,
        })
    }
}

/// `CertificateIdentifier`: the certificate that certifies a component (e.g. a component's
/// own platform certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateIdentifier {
    /// `[0] attributeCertIdentifier`: hash algorithm and the hash over the signature value.
    pub attribute_cert_hash: Option<(AlgorithmIdentifier, Vec<u8>)>,
    /// `[1] genericCertIdentifier`: issuer and serial.
    pub generic: Option<IssuerSerial>,
}

impl CertificateIdentifier {
    fn parse(tlv: &Tlv<'_>) -> Result<CertificateIdentifier, Error> {
        let mut seq = tlv.enter_any()?;
        let mut out = CertificateIdentifier {
            attribute_cert_hash: None,
            generic: None,
        };
        while !seq.is_empty() {
            let t = seq.read()?;
            if t.tag.is_context(0) {
                let mut inner = t.enter_any()?;
                let alg = AlgorithmIdentifier::parse(&inner.read()?)?;
                let hash = inner.read()?.value.to_vec();
                out.attribute_cert_hash = Some((alg, hash));
            } else if t.tag.is_context(1) {
                out.generic = Some(IssuerSerial::parse(&t)?);
            }
        }
        Ok(out)
    }
}

/// One v2.x trait as found (whether or not this crate interprets it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraitInfo {
    /// `traitId`.
    pub id: String,
    /// `traitCategory`.
    pub category: String,
    /// `traitRegistry`.
    pub registry: String,
    /// `description`.
    pub description: Option<String>,
    /// Absolute offset of the trait.
    pub offset: u64,
}

/// One component of the platform as the certificate describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformComponent {
    /// Absolute offset of the component in the certificate DER.
    pub offset: u64,
    /// `componentClass` (absent in v1).
    pub class: Option<ComponentClassId>,
    /// `componentManufacturer`.
    pub manufacturer: Option<String>,
    /// `componentModel`.
    pub model: Option<String>,
    /// `componentSerial`.
    pub serial: Option<String>,
    /// `componentRevision`.
    pub revision: Option<String>,
    /// `componentManufacturerId` (a private enterprise number OID).
    pub manufacturer_id: Option<String>,
    /// `fieldReplaceable`.
    pub field_replaceable: Option<bool>,
    /// `componentAddresses`.
    pub addresses: Vec<ComponentAddress>,
    /// `componentPlatformCert`.
    pub platform_cert: Option<CertificateIdentifier>,
    /// `componentPlatformCertUri`.
    pub platform_cert_uri: Option<UriReference>,
    /// `status` (delta certificates).
    pub status: Option<AttributeStatus>,
    /// `componentLocation` (v2.x trait).
    pub location: Option<String>,
    /// The v2.x traits the component was built from (empty for v1/v2).
    pub traits: Vec<TraitInfo>,
}

impl PlatformComponent {
    /// The addresses that are MACs, canonical (`aa:bb:cc:dd:ee:ff`), in order.
    pub fn macs(&self) -> Vec<String> {
        self.addresses
            .iter()
            .filter_map(ComponentAddress::mac)
            .collect()
    }
}

/// One platform property (`Properties` / `Property`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformProperty {
    /// `propertyName`.
    pub name: String,
    /// `propertyValue`.
    pub value: String,
    /// `status` (delta certificates).
    pub status: Option<AttributeStatus>,
}

/// A decoded platform configuration attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformConfiguration {
    /// Which encoding.
    pub version: ConfigurationVersion,
    /// Absolute offset of the attribute value.
    pub offset: u64,
    /// The components, in certificate order.
    pub components: Vec<PlatformComponent>,
    /// `componentIdentifiersUri` (v2).
    pub components_uri: Option<UriReference>,
    /// The platform properties.
    pub properties: Vec<PlatformProperty>,
    /// `platformPropertiesUri`.
    pub properties_uri: Option<UriReference>,
}

/// Decodes a platform configuration attribute value of the given `version`.
pub fn parse(
    tlv: &Tlv<'_>,
    version: ConfigurationVersion,
    issues: &mut Vec<Issue>,
) -> Result<PlatformConfiguration, Error> {
    tlv.expect(Tag::SEQUENCE, "PlatformConfiguration")?;
    let mut seq = tlv.enter()?;
    let mut config = PlatformConfiguration {
        version,
        offset: tlv.offset,
        components: Vec::new(),
        components_uri: None,
        properties: Vec::new(),
        properties_uri: None,
    };
    while !seq.is_empty() {
        let t = seq.read()?;
        let n = if t.tag.class == TagClass::Context {
            t.tag.number
        } else {
            u32::MAX
        };
        let result = match (version, n) {
            (_, 0) => components(&t, version, &mut config.components, issues),
            (ConfigurationVersion::V2, 1) => {
                UriReference::parse(&t).map(|u| config.components_uri = Some(u))
            }
            (ConfigurationVersion::V1 | ConfigurationVersion::V3, 1)
            | (ConfigurationVersion::V2, 2) => properties(&t, &mut config.properties, issues),
            (ConfigurationVersion::V1, 2) | (ConfigurationVersion::V2, 3) => {
                UriReference::parse(&t).map(|u| config.properties_uri = Some(u))
            }
            _ => {
                issues.push(Issue::new(
                    t.offset,
                    None,
                    format!("platform configuration: unexpected element {}", t.tag),
                ));
                Ok(())
            }
        };
        if let Err(e) = result {
            issues.push(Issue::new(
                e.offset,
                None,
                format!("platform configuration {}: {e}", t.tag),
            ));
        }
    }
    Ok(config)
}

fn components(
    tlv: &Tlv<'_>,
    version: ConfigurationVersion,
    out: &mut Vec<PlatformComponent>,
    issues: &mut Vec<Issue>,
) -> Result<(), Error> {
    let mut seq = tlv.enter_any()?;
    while !seq.is_empty() {
        let c = seq.read()?;
        let parsed = match version {
            ConfigurationVersion::V3 => component_v3(&c, issues),
            _ => component_v2(&c, issues),
        };
        match parsed {
            Ok(comp) => out.push(comp),
            Err(e) => issues.push(Issue::new(e.offset, None, format!("component: {e}"))),
        }
        if out.len() > MAX_COMPONENTS {
            return Err(Error::invalid(c.offset, "platform components", "too many"));
        }
    }
    Ok(())
}

/// Decodes a v1 `ComponentIdentifier` or a v2 `ComponentIdentifier-v2` (the class, when
/// present, is the leading SEQUENCE).
fn component_v2(tlv: &Tlv<'_>, issues: &mut Vec<Issue>) -> Result<PlatformComponent, Error> {
    let mut comp = PlatformComponent {
        offset: tlv.offset,
        ..PlatformComponent::default()
    };
    merge_identifier(&mut comp, tlv, issues)?;
    Ok(comp)
}

fn merge_identifier(
    comp: &mut PlatformComponent,
    tlv: &Tlv<'_>,
    issues: &mut Vec<Issue>,
) -> Result<(), Error> {
    tlv.expect(Tag::SEQUENCE, "ComponentIdentifier")?;
    let mut seq = tlv.enter()?;
    let mut strings = 0;
    while !seq.is_empty() {
        let t = seq.read()?;
        let result: Result<(), Error> = (|| {
            if t.tag == Tag::SEQUENCE && comp.class.is_none() && strings == 0 {
                comp.class = Some(ComponentClassId::parse(&t)?);
            } else if t.is_string() {
                match strings {
                    0 => comp.manufacturer = Some(t.text()),
                    1 => comp.model = Some(t.text()),
                    _ => issues.push(Issue::new(t.offset, None, "component: extra string")),
                }
                strings += 1;
            } else if t.tag.class == TagClass::Context {
                match t.tag.number {
                    0 => comp.serial = Some(t.text()),
                    1 => comp.revision = Some(t.text()),
                    2 => comp.manufacturer_id = Some(t.oid()?),
                    3 => comp.field_replaceable = Some(t.boolean()?),
                    4 => {
                        let mut addrs = t.enter_any()?;
                        while !addrs.is_empty() {
                            comp.addresses
                                .push(ComponentAddress::parse(&addrs.read()?)?);
                            if comp.addresses.len() > MAX_PER_COMPONENT {
                                return Err(Error::invalid(t.offset, "addresses", "too many"));
                            }
                        }
                    }
                    5 => comp.platform_cert = Some(CertificateIdentifier::parse(&t)?),
                    6 => comp.platform_cert_uri = Some(UriReference::parse(&t)?),
                    7 => comp.status = Some(AttributeStatus::from_value(t.small_int()?)),
                    n => issues.push(Issue::new(
                        t.offset,
                        None,
                        format!("component: unknown field [{n}]"),
                    )),
                }
            } else {
                issues.push(Issue::new(
                    t.offset,
                    None,
                    format!("component: unexpected {}", t.tag),
                ));
            }
            Ok(())
        })();
        if let Err(e) = result {
            issues.push(Issue::new(e.offset, None, format!("component field: {e}")));
        }
    }
    Ok(())
}

/// Decodes a v2.x `ComponentIdentifier ::= SEQUENCE OF Trait`.
fn component_v3(tlv: &Tlv<'_>, issues: &mut Vec<Issue>) -> Result<PlatformComponent, Error> {
    let mut comp = PlatformComponent {
        offset: tlv.offset,
        ..PlatformComponent::default()
    };
    let mut seq = tlv.enter()?;
    while !seq.is_empty() {
        let t = seq.read()?;
        if let Err(e) = merge_trait(&mut comp, &t, issues) {
            issues.push(Issue::new(e.offset, None, format!("trait: {e}")));
        }
        if comp.traits.len() > MAX_PER_COMPONENT {
            return Err(Error::invalid(t.offset, "traits", "too many"));
        }
    }
    Ok(comp)
}

/// `Trait ::= SEQUENCE { traitId, traitCategory, traitRegistry, description [0] OPTIONAL,
/// descriptionURI [1] OPTIONAL, traitValue OCTET STRING (CONTAINING ...) }`. Some encoders
/// (paccor) put the value itself rather than an OCTET STRING around it; both are read.
fn merge_trait(
    comp: &mut PlatformComponent,
    tlv: &Tlv<'_>,
    issues: &mut Vec<Issue>,
) -> Result<(), Error> {
    let mut seq = tlv.enter()?;
    let id = seq.read_tag(Tag::OID, "traitId")?.oid()?;
    let category = seq.read_tag(Tag::OID, "traitCategory")?.oid()?;
    let registry = seq.read_tag(Tag::OID, "traitRegistry")?.oid()?;
    let mut description = None;
    let mut value = None;
    while !seq.is_empty() {
        let t = seq.read()?;
        if t.tag.is_context(0) {
            description = Some(t.text());
        } else if t.tag.is_context(1) {
            // descriptionURI: kept only as part of the trait's presence.
        } else {
            value = Some(t);
        }
    }
    comp.traits.push(TraitInfo {
        id: id.clone(),
        category: category.clone(),
        registry,
        description,
        offset: tlv.offset,
    });
    let Some(value) = value else {
        return Err(Error::invalid(tlv.offset, "Trait", "no traitValue"));
    };
    let value = unwrap_octets(value);
    match id.as_str() {
        oid::TCG_TR_ID_COMPONENT_IDENTIFIER_V11 => merge_identifier(comp, &value, issues)?,
        oid::TCG_TR_ID_COMPONENT_CLASS => comp.class = Some(ComponentClassId::parse(&value)?),
        oid::TCG_TR_ID_UTF8_STRING | oid::TCG_TR_ID_IA5_STRING => {
            let text = Some(value.text());
            match category.as_str() {
                oid::TCG_TR_CAT_COMPONENT_MANUFACTURER => comp.manufacturer = text,
                oid::TCG_TR_CAT_COMPONENT_MODEL => comp.model = text,
                oid::TCG_TR_CAT_COMPONENT_SERIAL => comp.serial = text,
                oid::TCG_TR_CAT_COMPONENT_REVISION => comp.revision = text,
                oid::TCG_TR_CAT_COMPONENT_LOCATION => comp.location = text,
                _ => {}
            }
        }
        oid::TCG_TR_ID_BOOLEAN if category == oid::TCG_TR_CAT_COMPONENT_FIELD_REPLACEABLE => {
            comp.field_replaceable = Some(value.boolean()?);
        }
        oid::TCG_TR_ID_STATUS => {
            comp.status = Some(AttributeStatus::from_value(value.small_int()?));
        }
        oid::TCG_TR_ID_NETWORK_MAC => {
            if value.tag == Tag::SEQUENCE {
                comp.addresses.push(ComponentAddress::parse(&value)?);
            } else {
                comp.addresses.push(ComponentAddress {
                    kind: AddressKind::EthernetMac,
                    value: value.text(),
                });
            }
        }
        oid::TCG_TR_ID_CERTIFICATE_IDENTIFIER => {
            comp.platform_cert = Some(CertificateIdentifier::parse(&value)?);
        }
        _ => {}
    }
    Ok(())
}

/// The DER element inside an OCTET STRING when the string holds exactly one; the element
/// itself otherwise.
fn unwrap_octets(t: Tlv<'_>) -> Tlv<'_> {
    if t.tag != Tag::OCTET_STRING {
        return t;
    }
    let Ok(mut inner) = t.enter_any() else {
        return t;
    };
    match inner.read() {
        Ok(v) if inner.is_empty() => v,
        _ => t,
    }
}

fn properties(
    tlv: &Tlv<'_>,
    out: &mut Vec<PlatformProperty>,
    issues: &mut Vec<Issue>,
) -> Result<(), Error> {
    let mut seq = tlv.enter_any()?;
    while !seq.is_empty() {
        let p = seq.read()?;
        match property(&p) {
            Ok(prop) => out.push(prop),
            Err(e) => issues.push(Issue::new(e.offset, None, format!("property: {e}"))),
        }
        if out.len() > MAX_COMPONENTS {
            return Err(Error::invalid(p.offset, "platform properties", "too many"));
        }
    }
    Ok(())
}

fn property(tlv: &Tlv<'_>) -> Result<PlatformProperty, Error> {
    let mut seq: Der<'_> = tlv.enter()?;
    let name = seq.read()?.text();
    let value = seq.read()?.text();
    let mut status = None;
    while !seq.is_empty() {
        let t = seq.read()?;
        if t.tag.is_context(0) {
            status = Some(AttributeStatus::from_value(t.small_int()?));
        }
    }
    Ok(PlatformProperty {
        name,
        value,
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::der::{oid_bytes, Der};

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.push(0x82);
            out.extend((content.len() as u16).to_be_bytes());
        }
        out.extend(content);
        out
    }

    fn oid(dotted: &str) -> Vec<u8> {
        tlv(0x06, &oid_bytes(dotted).unwrap())
    }

    /// A trait in the specification's form: the value DER inside an OCTET STRING.
    fn spec_trait(id: &str, category: &str, value: &[u8]) -> Vec<u8> {
        let mut body = oid(id);
        body.extend(oid(category));
        body.extend(oid("2.23.133.18.3.1"));
        body.extend(tlv(0x04, value));
        tlv(0x30, &body)
    }

    #[test]
    fn v3_traits_in_octet_strings_build_a_component() {
        let mut class = oid("2.23.133.18.3.1");
        class.extend(tlv(0x04, &[0x00, 0x09, 0x00, 0x02]));
        let mut address = oid(oid::TCG_ADDRESS_ETHERNET_MAC);
        address.extend(tlv(0x0c, b"00-1B-21-AA-BB-CC"));
        let traits = [
            spec_trait(
                oid::TCG_TR_ID_COMPONENT_CLASS,
                "2.23.133.19.2.7",
                &tlv(0x30, &class),
            ),
            spec_trait(
                oid::TCG_TR_ID_UTF8_STRING,
                oid::TCG_TR_CAT_COMPONENT_MANUFACTURER,
                &tlv(0x0c, b"Intel"),
            ),
            spec_trait(
                oid::TCG_TR_ID_UTF8_STRING,
                oid::TCG_TR_CAT_COMPONENT_MODEL,
                &tlv(0x0c, b"X710"),
            ),
            spec_trait(
                oid::TCG_TR_ID_UTF8_STRING,
                oid::TCG_TR_CAT_COMPONENT_SERIAL,
                &tlv(0x0c, b"SN123"),
            ),
            spec_trait(
                oid::TCG_TR_ID_NETWORK_MAC,
                "2.23.133.19.2.29",
                &tlv(0x30, &address),
            ),
            spec_trait(
                oid::TCG_TR_ID_BOOLEAN,
                oid::TCG_TR_CAT_COMPONENT_FIELD_REPLACEABLE,
                &tlv(0x01, &[0xff]),
            ),
            spec_trait(oid::TCG_TR_ID_STATUS, "2.23.133.19.2.11", &tlv(0x0a, &[2])),
            spec_trait("2.23.133.19.1.99", "2.23.133.19.2.99", &tlv(0x05, &[])),
        ];
        let component = tlv(0x30, &traits.concat());
        let mut prop = tlv(0x0c, b"k");
        prop.extend(tlv(0x0c, b"v"));
        prop.extend(tlv(0x80, &[0]));
        let mut config = tlv(0xa0, &component);
        config.extend(tlv(0xa1, &tlv(0x30, &prop)));
        let bytes = tlv(0x30, &config);
        let mut issues = Vec::new();
        let parsed = parse(
            &Der::new(&bytes).read().unwrap(),
            ConfigurationVersion::V3,
            &mut issues,
        )
        .unwrap();
        assert!(issues.is_empty(), "{issues:?}");
        let c = &parsed.components[0];
        assert_eq!(c.class.as_ref().unwrap().value, 0x0009_0002);
        assert_eq!(c.manufacturer.as_deref(), Some("Intel"));
        assert_eq!(c.model.as_deref(), Some("X710"));
        assert_eq!(c.serial.as_deref(), Some("SN123"));
        assert_eq!(c.macs(), ["00:1b:21:aa:bb:cc"]);
        assert_eq!(c.field_replaceable, Some(true));
        assert_eq!(c.status, Some(AttributeStatus::Removed));
        assert_eq!(c.traits.len(), 8);
        assert_eq!(parsed.properties[0].status, Some(AttributeStatus::Added));
    }

    #[test]
    fn a_bad_component_is_an_issue_not_an_error() {
        // [0] { SEQUENCE { SEQUENCE { OCTET STRING (3 bytes) as class } }, INTEGER }
        let mut class = oid("2.23.133.18.3.1");
        class.extend(tlv(0x04, &[1, 2, 3]));
        let mut comp = tlv(0x30, &class);
        comp.extend(tlv(0x0c, b"M"));
        let bad = tlv(0x30, &comp);
        let mut list = bad.clone();
        list.extend(tlv(0x02, &[1]));
        let bytes = tlv(0x30, &tlv(0xa0, &list));
        let mut issues = Vec::new();
        let parsed = parse(
            &Der::new(&bytes).read().unwrap(),
            ConfigurationVersion::V2,
            &mut issues,
        )
        .unwrap();
        assert_eq!(parsed.components.len(), 1);
        assert_eq!(parsed.components[0].manufacturer.as_deref(), Some("M"));
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(issues[0].what.contains("componentClassValue"));
    }
}
