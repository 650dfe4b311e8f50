//! X.501 `Name`, RFC 5280 `GeneralName(s)` and RFC 5755 `IssuerSerial`.

use crate::der::{Der, Tag, TagClass, Tlv};
use crate::oid;
use tamperscan_bytes::Error;

/// Most RDNs / attributes / general names read from one name.
const MAX_PARTS: usize = 64;

/// One attribute of a relative distinguished name, with its value as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAttribute {
    /// Attribute type OID (dotted).
    pub oid: String,
    /// The value as text (non-string values as lowercase hex prefixed with `#`).
    pub value: String,
}

/// An X.501 `Name` (`RDNSequence`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Name {
    /// The RDNs in encoded order, each a set of attributes.
    pub rdns: Vec<Vec<NameAttribute>>,
}

impl Name {
    /// Decodes a `Name` from its SEQUENCE element.
    pub fn parse(tlv: &Tlv<'_>) -> Result<Name, Error> {
        tlv.expect(Tag::SEQUENCE, "Name")?;
        let mut seq = tlv.enter()?;
        let mut rdns = Vec::new();
        while !seq.is_empty() {
            let set = seq.read_tag(Tag::SET, "RelativeDistinguishedName")?;
            let mut atvs = set.enter()?;
            let mut rdn = Vec::new();
            while !atvs.is_empty() {
                let mut atv = atvs.sequence("AttributeTypeAndValue")?;
                let oid = atv.read_tag(Tag::OID, "attribute type")?.oid()?;
                let v = atv.read()?;
                let value = if v.is_string() {
                    v.text()
                } else {
                    format!("#{}", tamperscan_bytes::hex(v.raw))
                };
                rdn.push(NameAttribute { oid, value });
                if rdn.len() > MAX_PARTS {
                    return Err(Error::invalid(set.offset, "RDN", "too many attributes"));
                }
            }
            rdns.push(rdn);
            if rdns.len() > MAX_PARTS {
                return Err(Error::invalid(tlv.offset, "Name", "too many RDNs"));
            }
        }
        Ok(Name { rdns })
    }

    /// Every attribute in order.
    pub fn attributes(&self) -> impl Iterator<Item = &NameAttribute> {
        self.rdns.iter().flatten()
    }

    /// The first value of attribute `oid`.
    pub fn get(&self, oid: &str) -> Option<&str> {
        self.attributes()
            .find(|a| a.oid == oid)
            .map(|a| a.value.as_str())
    }

    /// True when the name has no attributes.
    pub fn is_empty(&self) -> bool {
        self.attributes().next().is_none()
    }

    /// Compares two names the way RFC 5280 §7.1 asks in practice: same RDNs in the same
    /// order, values compared case-insensitively with surrounding and repeated inner spaces
    /// ignored (whatever the string type each side used).
    pub fn matches(&self, other: &Name) -> bool {
        if self.rdns.len() != other.rdns.len() {
            return false;
        }
        self.rdns.iter().zip(&other.rdns).all(|(a, b)| {
            let mut a: Vec<(String, String)> =
                a.iter().map(|x| (x.oid.clone(), fold(&x.value))).collect();
            let mut b: Vec<(String, String)> =
                b.iter().map(|x| (x.oid.clone(), fold(&x.value))).collect();
            a.sort();
            b.sort();
            a == b
        })
    }
}

fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for a in self.attributes() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            match oid::name(&a.oid) {
                Some(n) => write!(f, "{n}={}", a.value)?,
                None => write!(f, "{}={}", a.oid, a.value)?,
            }
        }
        Ok(())
    }
}

/// One RFC 5280 `GeneralName`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GeneralName {
    /// `[4] directoryName`.
    Directory(Name),
    /// `[1] rfc822Name`.
    Email(String),
    /// `[2] dNSName`.
    Dns(String),
    /// `[6] uniformResourceIdentifier`.
    Uri(String),
    /// `[7] iPAddress`.
    Ip(Vec<u8>),
    /// `[8] registeredID`.
    RegisteredId(String),
    /// Any other form (otherName, x400Address, ediPartyName), kept as its tag number.
    Other(u32),
}

impl GeneralName {
    /// Decodes one `GeneralName` element.
    pub fn parse(tlv: &Tlv<'_>) -> Result<GeneralName, Error> {
        if tlv.tag.class != TagClass::Context {
            return Err(Error::invalid(
                tlv.offset,
                "GeneralName",
                format!("expected a context tag, found {}", tlv.tag),
            ));
        }
        Ok(match tlv.tag.number {
            1 => GeneralName::Email(tlv.text()),
            2 => GeneralName::Dns(tlv.text()),
            6 => GeneralName::Uri(tlv.text()),
            7 => GeneralName::Ip(tlv.value.to_vec()),
            8 => GeneralName::RegisteredId(tlv.oid()?),
            4 => {
                // Name is a CHOICE, so the [4] tag is explicit.
                let mut inner = tlv.enter()?;
                let name = inner.read()?;
                GeneralName::Directory(Name::parse(&name)?)
            }
            n => GeneralName::Other(n),
        })
    }

    /// The directory name, when this is one.
    pub fn directory(&self) -> Option<&Name> {
        match self {
            GeneralName::Directory(n) => Some(n),
            _ => None,
        }
    }
}

/// Decodes the elements of a `GeneralNames` whose contents `seq` reads.
pub fn general_names(seq: &mut Der<'_>) -> Result<Vec<GeneralName>, Error> {
    let mut out = Vec::new();
    while !seq.is_empty() {
        let t = seq.read()?;
        out.push(GeneralName::parse(&t)?);
        if out.len() > MAX_PARTS {
            return Err(Error::invalid(t.offset, "GeneralNames", "too many names"));
        }
    }
    Ok(out)
}

/// The first directory name of a list of general names.
pub fn first_directory(names: &[GeneralName]) -> Option<&Name> {
    names.iter().find_map(GeneralName::directory)
}

/// RFC 5755 `IssuerSerial`: the issuer and serial of a public-key certificate (the EK
/// certificate in a platform certificate's holder, or the base certificate a delta names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IssuerSerial {
    /// `issuer GeneralNames`.
    pub issuer: Vec<GeneralName>,
    /// `serial CertificateSerialNumber`, big-endian without leading zeros.
    pub serial: Vec<u8>,
}

impl IssuerSerial {
    /// Decodes the contents of an `IssuerSerial` (SEQUENCE or IMPLICIT-tagged).
    pub fn parse(tlv: &Tlv<'_>) -> Result<IssuerSerial, Error> {
        let mut seq = tlv.enter()?;
        let names = seq.sequence("IssuerSerial.issuer")?;
        let issuer = general_names(&mut names.clone())?;
        let serial = seq
            .read_tag(Tag::INTEGER, "IssuerSerial.serial")?
            .unsigned_bytes()
            .to_vec();
        Ok(IssuerSerial { issuer, serial })
    }

    /// The issuer's directory name.
    pub fn issuer_name(&self) -> Option<&Name> {
        first_directory(&self.issuer)
    }

    /// The serial as lowercase hex.
    pub fn serial_hex(&self) -> String {
        tamperscan_bytes::hex(&self.serial)
    }
}
