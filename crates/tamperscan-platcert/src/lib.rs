//! TCG platform certificates: parse, verify, chain, compare with observed hardware.
//!
//! A platform certificate (TCG Platform Certificate Profile v1.1 and v2.0/v2.1) is an RFC 5755
//! attribute certificate whose attributes list what a platform was built with: manufacturer,
//! model, serial, and every component (class, manufacturer, model, serial, revision, MACs).
//! Delta certificates add, modify and remove components of the certificate they name.
//!
//! * [`parse`] reads PEM or DER into a [`Parsed`] X.509 [`Certificate`] or
//!   [`PlatformCertificate`];
//! * [`verify::verify`] checks a signature (RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256/P-384)
//!   against an issuer CA, plus issuer name, key identifier and validity;
//! * [`registry::ClassRegistry`] names component classes; [`registry::inventory_class`] maps
//!   them to [`tamperscan_inventory::ComponentClass`];
//! * [`delta::apply_deltas`] folds delta certificates into a [`delta::CertifiedPlatform`];
//! * [`compare::compare`] matches the certified components with observed ones.
//!
//! **Invariant:** no I/O, no panics, bounded: input size, nesting depth, counts of names,
//! attributes, components and traits are all capped; anything inside a certificate that cannot
//! be interpreted becomes an [`Issue`] (OID and offset) rather than failing the certificate.
//! Offsets are absolute in the certificate's DER (after PEM unwrapping).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod compare;
pub mod delta;
pub mod der;
pub mod name;
pub mod oid;
pub mod pem;
pub mod platform_certificate;
pub mod platform_configuration;
pub mod registry;
pub mod time;
pub mod verify;
pub mod writer;
pub mod x509;

pub use compare::{compare, Comparison};
pub use delta::{apply_deltas, CertifiedPlatform};
pub use platform_certificate::PlatformCertificate;
pub use platform_configuration::PlatformComponent;
pub use verify::{verify, Verification};
pub use x509::Certificate;

/// Why a certificate could not be read or a chain could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed certificate (offset and what was expected).
    #[error("{0}")]
    Decode(#[from] tamperscan_bytes::Error),
    /// The input decoded, but as the other kind of certificate.
    #[error("expected {expected}, found {found}")]
    WrongKind {
        /// What the caller asked for.
        expected: &'static str,
        /// What the input is.
        found: &'static str,
    },
    /// The component class registry JSON is not usable.
    #[error("component class registry: {0}")]
    Registry(String),
    /// A delta chain cannot start from the given certificate.
    #[error("delta chain: {0}")]
    Chain(String),
}

/// Something inside a certificate that was skipped: where, under which OID, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issue {
    /// Absolute offset in the DER.
    pub offset: u64,
    /// The attribute or extension OID it belongs to, when known.
    pub oid: Option<String>,
    /// What was wrong, in words.
    pub what: String,
}

impl Issue {
    /// Builds an issue.
    pub fn new(offset: u64, oid: Option<String>, what: impl Into<String>) -> Issue {
        Issue {
            offset,
            oid,
            what: what.into(),
        }
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.oid {
            Some(o) => write!(f, "at offset {} ({o}): {}", self.offset, self.what),
            None => write!(f, "at offset {}: {}", self.offset, self.what),
        }
    }
}

/// A decoded certificate of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An X.509 public-key certificate (a CA, an EK certificate).
    Certificate(Box<Certificate>),
    /// An attribute certificate read as a platform certificate.
    Platform(Box<PlatformCertificate>),
}

impl Parsed {
    /// The X.509 certificate, when this is one.
    pub fn certificate(&self) -> Option<&Certificate> {
        match self {
            Parsed::Certificate(c) => Some(c),
            Parsed::Platform(_) => None,
        }
    }

    /// The platform certificate, when this is one.
    pub fn platform(&self) -> Option<&PlatformCertificate> {
        match self {
            Parsed::Platform(p) => Some(p),
            Parsed::Certificate(_) => None,
        }
    }
}

/// Decodes one DER certificate of either kind.
pub fn parse_der(der: &[u8]) -> Result<Parsed, Error> {
    if platform_certificate::is_attribute_certificate(der) {
        Ok(Parsed::Platform(Box::new(PlatformCertificate::from_der(
            der,
        )?)))
    } else {
        Ok(Parsed::Certificate(Box::new(Certificate::from_der(der)?)))
    }
}

/// Decodes the first certificate in `bytes` (PEM `CERTIFICATE` / `ATTRIBUTE CERTIFICATE`, or
/// DER).
pub fn parse(bytes: &[u8]) -> Result<Parsed, Error> {
    let blocks = pem::unwrap(bytes)?;
    let first = blocks.first().ok_or_else(|| {
        Error::Decode(tamperscan_bytes::Error::invalid(
            0,
            "certificate input",
            "empty",
        ))
    })?;
    parse_der(&first.der)
}

/// Decodes every certificate in `bytes` (a PEM bundle, or one DER certificate).
pub fn parse_all(bytes: &[u8]) -> Result<Vec<Parsed>, Error> {
    pem::unwrap(bytes)?
        .iter()
        .map(|b| parse_der(&b.der))
        .collect()
}

/// Decodes the first certificate in `bytes`, which must be an X.509 certificate.
pub fn parse_certificate(bytes: &[u8]) -> Result<Certificate, Error> {
    match parse(bytes)? {
        Parsed::Certificate(c) => Ok(*c),
        Parsed::Platform(_) => Err(Error::WrongKind {
            expected: "X.509 certificate",
            found: "attribute certificate",
        }),
    }
}

/// Decodes the first certificate in `bytes`, which must be a platform (attribute)
/// certificate.
pub fn parse_platform_certificate(bytes: &[u8]) -> Result<PlatformCertificate, Error> {
    match parse(bytes)? {
        Parsed::Platform(p) => Ok(*p),
        Parsed::Certificate(_) => Err(Error::WrongKind {
            expected: "attribute certificate",
            found: "X.509 certificate",
        }),
    }
}
