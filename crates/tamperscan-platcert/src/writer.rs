//! A small DER writer for SYNTHETIC demo certificates: a self-signed ECDSA P-256 CA and base
//! platform certificates (RFC 5755 attribute certificates laid out after the TCG Platform
//! Certificate Profile v1.1: `platformConfiguration-v2` components, platform identity in the
//! subject alternative name). Everything is deterministic: the key comes from a 32-byte seed,
//! signatures are RFC 6979, times are fixed (2026-01-01 to 2036-01-01). For tests and the
//! demo fleet only; these certificates certify nothing real.

use crate::der::oid_bytes;
use crate::oid;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::ops::ReduceNonZero;
use p256::{NonZeroScalar, U256};
use sha2::{Digest, Sha256};

const NOT_BEFORE_UTC: &str = "260101000000Z";
const NOT_AFTER_UTC: &str = "360101000000Z";
const NOT_BEFORE_GENERALIZED: &str = "20260101000000Z";
const NOT_AFTER_GENERALIZED: &str = "20360101000000Z";
/// Common name of the invented EK certificate issuer a platform certificate's holder names.
pub const DEMO_EK_ISSUER: &str = "tamperscan demo TPM EK CA";

/// The platform identity written into the subject alternative name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformSpec {
    /// `platformManufacturerStr` (2.23.133.5.1.1).
    pub manufacturer: String,
    /// `platformModel` (2.23.133.5.1.4).
    pub model: String,
    /// `platformVersion` (2.23.133.5.1.5).
    pub version: String,
    /// `platformSerial` (2.23.133.5.1.6).
    pub serial: String,
}

/// One component written as a `ComponentIdentifier-v2`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentSpec {
    /// TCG component class registry (2.23.133.18.3.1) value, e.g. `0x00030003` motherboard.
    pub class_value: u32,
    /// `componentManufacturer`.
    pub manufacturer: String,
    /// `componentModel`.
    pub model: String,
    /// `componentSerial`.
    pub serial: Option<String>,
    /// `componentRevision`.
    pub revision: Option<String>,
}

/// A demo certificate authority: a deterministic ECDSA P-256 key and a name.
#[derive(Debug, Clone)]
pub struct DemoCa {
    key: SigningKey,
    /// Uncompressed public point (65 bytes).
    public_point: Vec<u8>,
    /// DER `Name` (one CN).
    name: Vec<u8>,
    /// SHA-1 of the public point (RFC 5280 §4.2.1.2 method 1).
    key_id: Vec<u8>,
}

impl DemoCa {
    /// Derives the key from `seed` (SHA-256 of a label and the seed, reduced to a non-zero
    /// scalar) and names the CA `CN=common_name`.
    pub fn new(seed: [u8; 32], common_name: &str) -> DemoCa {
        let digest = Sha256::new()
            .chain_update(b"tamperscan demo CA key v1")
            .chain_update(seed)
            .finalize();
        let scalar = <NonZeroScalar as ReduceNonZero<U256>>::reduce_nonzero_bytes(&digest);
        let key = SigningKey::from(scalar);
        let public_point = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        let key_id = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &public_point)
            .as_ref()
            .to_vec();
        DemoCa {
            key,
            public_point,
            name: cn_name(common_name),
            key_id,
        }
    }

    /// The uncompressed public point (`04 || X || Y`).
    pub fn public_point(&self) -> &[u8] {
        &self.public_point
    }

    /// The subject key identifier (SHA-1 of the public point).
    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    /// The private key as PKCS#8 v1 DER (`PrivateKeyInfo` around an RFC 5915 `ECPrivateKey`
    /// with the public key, without the redundant `[0]` parameters), as ring reads it.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        let ec_private_key = seq(&[
            uint(&[1]),
            tlv(0x04, &self.key.to_bytes()),
            ctx(1, &bit_string(&self.public_point)),
        ]);
        seq(&[uint(&[0]), ec_algorithm(), tlv(0x04, &ec_private_key)])
    }

    /// A self-signed X.509 v3 CA certificate (basicConstraints CA, keyUsage keyCertSign and
    /// cRLSign, subject and authority key identifiers, ecdsa-with-SHA256).
    pub fn ca_certificate_der(&self) -> Vec<u8> {
        let serial = self.key_id.get(..8).unwrap_or(&[1]);
        let validity = seq(&[
            tlv(0x17, NOT_BEFORE_UTC.as_bytes()),
            tlv(0x17, NOT_AFTER_UTC.as_bytes()),
        ]);
        let spki = seq(&[ec_algorithm(), bit_string(&self.public_point)]);
        let extensions = seq(&[
            extension(oid::CE_BASIC_CONSTRAINTS, true, &seq(&[tlv(0x01, &[0xff])])),
            // keyUsage: keyCertSign (bit 5) and cRLSign (bit 6).
            extension("2.5.29.15", true, &tlv(0x03, &[0x01, 0x06])),
            extension(oid::CE_SUBJECT_KEY_ID, false, &tlv(0x04, &self.key_id)),
            extension(oid::CE_AUTHORITY_KEY_ID, false, &self.authority_key_id()),
        ]);
        let tbs = seq(&[
            ctx(0, &uint(&[2])),
            uint(serial),
            signature_algorithm(),
            self.name.clone(),
            validity,
            self.name.clone(),
            spki,
            ctx(3, &extensions),
        ]);
        self.sign(tbs)
    }

    /// A base platform certificate (attribute certificate v2) for `platform` with
    /// `components`, serial number `serial`, signed by this CA. The holder names an invented
    /// EK certificate (issuer [`DEMO_EK_ISSUER`], serial derived from the platform serial).
    pub fn platform_certificate_der(
        &self,
        platform: &PlatformSpec,
        components: &[ComponentSpec],
        serial: u64,
    ) -> Vec<u8> {
        let ek_serial = Sha256::new()
            .chain_update(b"tamperscan demo EK serial")
            .chain_update(platform.serial.as_bytes())
            .finalize();
        let holder = seq(&[ctx(
            0,
            &cat(&[
                directory_names(&cn_name(DEMO_EK_ISSUER)),
                uint(ek_serial.get(..8).unwrap_or(&[1])),
            ]),
        )]);
        let issuer = ctx(0, &directory_names(&self.name));
        let validity = seq(&[
            tlv(0x18, NOT_BEFORE_GENERALIZED.as_bytes()),
            tlv(0x18, NOT_AFTER_GENERALIZED.as_bytes()),
        ]);
        let identifiers: Vec<Vec<u8>> = components.iter().map(component_identifier).collect();
        let configuration = if identifiers.is_empty() {
            seq(&[])
        } else {
            seq(&[ctx(0, &cat(&identifiers))])
        };
        let attributes = seq(&[
            attribute(
                oid::TCG_AT_PLATFORM_SPECIFICATION,
                &seq(&[version(1, 5, 0), tlv(0x04, &[0, 0, 0, 1])]),
            ),
            attribute(
                oid::TCG_AT_CREDENTIAL_TYPE,
                &seq(&[oid_tlv(oid::TCG_KP_PLATFORM_ATTRIBUTE_CERTIFICATE)]),
            ),
            attribute(oid::TCG_AT_CREDENTIAL_SPECIFICATION, &version(1, 1, 19)),
            attribute(oid::TCG_AT_PLATFORM_CONFIGURATION_V2, &configuration),
        ]);
        let platform_name = seq(&[
            rdn(oid::TCG_AT_PLATFORM_MANUFACTURER, &platform.manufacturer),
            rdn(oid::TCG_AT_PLATFORM_MODEL, &platform.model),
            rdn(oid::TCG_AT_PLATFORM_VERSION, &platform.version),
            rdn(oid::TCG_AT_PLATFORM_SERIAL, &platform.serial),
        ]);
        let extensions = seq(&[
            extension(oid::CE_AUTHORITY_KEY_ID, false, &self.authority_key_id()),
            extension(
                oid::CE_SUBJECT_ALT_NAME,
                false,
                &directory_names(&platform_name),
            ),
        ]);
        let tbs = seq(&[
            uint(&[1]),
            holder,
            issuer,
            signature_algorithm(),
            uint(&serial.to_be_bytes()),
            validity,
            attributes,
            extensions,
        ]);
        self.sign(tbs)
    }

    /// `AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }`.
    fn authority_key_id(&self) -> Vec<u8> {
        seq(&[tlv(0x80, &self.key_id)])
    }

    /// `SEQUENCE { tbs, signatureAlgorithm, BIT STRING ECDSA-Sig-Value }`.
    fn sign(&self, tbs: Vec<u8>) -> Vec<u8> {
        let signature: Signature = self.key.sign(&tbs);
        let (r, s) = signature.split_bytes();
        let value = seq(&[uint(&r), uint(&s)]);
        seq(&[tbs, signature_algorithm(), bit_string(&value)])
    }
}

/// `ComponentIdentifier-v2 ::= SEQUENCE { componentClass, componentManufacturer,
/// componentModel, [0] componentSerial OPTIONAL, [1] componentRevision OPTIONAL }`.
fn component_identifier(c: &ComponentSpec) -> Vec<u8> {
    let mut parts = vec![
        seq(&[
            oid_tlv(oid::TCG_REGISTRY_COMPONENT_CLASS_TCG),
            tlv(0x04, &c.class_value.to_be_bytes()),
        ]),
        utf8(&c.manufacturer),
        utf8(&c.model),
    ];
    if let Some(s) = &c.serial {
        parts.push(tlv(0x80, s.as_bytes()));
    }
    if let Some(r) = &c.revision {
        parts.push(tlv(0x81, r.as_bytes()));
    }
    seq(&parts)
}

/// `TCGSpecificationVersion ::= SEQUENCE { major, minor, revision }`.
fn version(major: u8, minor: u8, revision: u8) -> Vec<u8> {
    seq(&[uint(&[major]), uint(&[minor]), uint(&[revision])])
}

fn attribute(attr_oid: &str, value: &[u8]) -> Vec<u8> {
    seq(&[oid_tlv(attr_oid), tlv(0x31, value)])
}

fn extension(ext_oid: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    let mut parts = vec![oid_tlv(ext_oid)];
    if critical {
        parts.push(tlv(0x01, &[0xff]));
    }
    parts.push(tlv(0x04, value));
    seq(&parts)
}

/// `id-ecPublicKey` with the P-256 curve.
fn ec_algorithm() -> Vec<u8> {
    seq(&[oid_tlv(oid::EC_PUBLIC_KEY), oid_tlv(oid::CURVE_P256)])
}

fn signature_algorithm() -> Vec<u8> {
    seq(&[oid_tlv(oid::ECDSA_WITH_SHA256)])
}

/// A `Name` with one RDN `CN=cn`.
fn cn_name(cn: &str) -> Vec<u8> {
    seq(&[rdn(oid::AT_COMMON_NAME, cn)])
}

/// One RDN holding one UTF8String attribute.
fn rdn(attr_oid: &str, value: &str) -> Vec<u8> {
    tlv(0x31, &seq(&[oid_tlv(attr_oid), utf8(value)]))
}

/// `GeneralNames` holding one `[4] directoryName`.
fn directory_names(name: &[u8]) -> Vec<u8> {
    seq(&[ctx(4, name)])
}

fn oid_tlv(dotted: &str) -> Vec<u8> {
    tlv(0x06, &oid_bytes(dotted).unwrap_or_default())
}

fn utf8(s: &str) -> Vec<u8> {
    tlv(0x0c, s.as_bytes())
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x03, &cat(&[vec![0], bytes.to_vec()]))
}

/// A non-negative INTEGER from big-endian magnitude bytes (minimal encoding).
fn uint(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let magnitude = bytes.get(start..).unwrap_or(&[]);
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    tlv(0x02, &content)
}

/// A constructed context-specific element `[n]` (EXPLICIT wrapper or IMPLICIT constructed).
fn ctx(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &cat(parts))
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// Identifier, definite length (short or long form), content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}
