//! Signature verification of platform certificates and CA certificates against an issuer CA
//! certificate: RSA PKCS#1 v1.5 (SHA-256/384/512; SHA-1 accepted but reported weak),
//! RSASSA-PSS (RFC 4055, MGF1 with the same hash), ECDSA P-256/P-384 (ring); plus the issuer
//! name, the authority key identifier and the validity period.

use crate::der::{Der, Tag};
use crate::name::Name;
use crate::platform_certificate::PlatformCertificate;
use crate::time::{Time, Validity};
use crate::x509::{AlgorithmIdentifier, AuthorityKeyId, Certificate, SubjectPublicKeyInfo};
use crate::{name, oid};
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Largest RSA modulus accepted, in bits.
const MAX_RSA_BITS: usize = 8192;

/// `DigestInfo` prefix for SHA-1 (RFC 8017 §9.2 note 1).
const SHA1_DIGEST_INFO_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

/// Anything signed by a CA: X.509 certificates and platform certificates.
pub trait Signed {
    /// The exact signed bytes.
    fn tbs(&self) -> &[u8];
    /// The outer signature algorithm.
    fn signature_algorithm(&self) -> &AlgorithmIdentifier;
    /// The signature value.
    fn signature(&self) -> &[u8];
    /// The issuer's name.
    fn issuer_name(&self) -> Option<&Name>;
    /// The authority key identifier extension.
    fn authority_key_id(&self) -> Option<&AuthorityKeyId>;
    /// The validity period.
    fn validity(&self) -> &Validity;
}

impl Signed for Certificate {
    fn tbs(&self) -> &[u8] {
        &self.tbs
    }
    fn signature_algorithm(&self) -> &AlgorithmIdentifier {
        &self.signature_algorithm
    }
    fn signature(&self) -> &[u8] {
        &self.signature
    }
    fn issuer_name(&self) -> Option<&Name> {
        Some(&self.issuer)
    }
    fn authority_key_id(&self) -> Option<&AuthorityKeyId> {
        self.authority_key_id.as_ref()
    }
    fn validity(&self) -> &Validity {
        &self.validity
    }
}

impl Signed for PlatformCertificate {
    fn tbs(&self) -> &[u8] {
        &self.tbs
    }
    fn signature_algorithm(&self) -> &AlgorithmIdentifier {
        &self.signature_algorithm
    }
    fn signature(&self) -> &[u8] {
        &self.signature
    }
    fn issuer_name(&self) -> Option<&Name> {
        self.issuer.as_ref()
    }
    fn authority_key_id(&self) -> Option<&AuthorityKeyId> {
        self.authority_key_id.as_ref()
    }
    fn validity(&self) -> &Validity {
        &self.validity
    }
}

/// The outcome of checking a certificate against a candidate issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// The signature algorithm's name.
    pub algorithm: String,
    /// The signature verifies under the CA's key.
    pub signature_ok: bool,
    /// The algorithm is one that should no longer be trusted (SHA-1).
    pub weak_algorithm: bool,
    /// The certificate's issuer name equals the CA's subject.
    pub issuer_matches: bool,
    /// The authority key identifier names the CA's key (and serial, when given); `None` when
    /// the certificate carries no key identifier.
    pub key_id_matches: Option<bool>,
    /// Both the certificate and the CA are valid at the time asked; `None` when no time was
    /// given.
    pub within_validity: Option<bool>,
    /// Why anything above is false, in words.
    pub reasons: Vec<String>,
}

impl Verification {
    /// True when nothing failed (signature, issuer, key id, validity) and the algorithm is not
    /// weak.
    pub fn is_valid(&self) -> bool {
        self.signature_ok
            && self.issuer_matches
            && self.key_id_matches != Some(false)
            && self.within_validity != Some(false)
            && !self.weak_algorithm
    }
}

/// Checks `cert` against the CA certificate `ca`; `at` is the time validity is judged at.
pub fn verify<S: Signed + ?Sized>(cert: &S, ca: &Certificate, at: Option<Time>) -> Verification {
    let mut reasons = Vec::new();
    let alg = cert.signature_algorithm();
    let (signature_ok, weak_algorithm) =
        match check_signature(cert.tbs(), alg, cert.signature(), &ca.public_key) {
            Ok(weak) => {
                if weak {
                    reasons.push(format!("weak signature algorithm {}", alg.name()));
                }
                (true, weak)
            }
            Err(why) => {
                reasons.push(format!("signature: {why}"));
                (false, is_weak(&alg.oid))
            }
        };
    let issuer_matches = cert.issuer_name().is_some_and(|n| n.matches(&ca.subject));
    if !issuer_matches {
        reasons.push(match cert.issuer_name() {
            Some(n) => format!("issuer {n} is not the CA subject {}", ca.subject),
            None => "certificate names no issuer".to_string(),
        });
    }
    let key_id_matches = cert.authority_key_id().map(|aki| {
        let mut ok = true;
        if let Some(kid) = &aki.key_id {
            if *kid != ca.key_id() {
                reasons.push(format!(
                    "authority key id {} is not the CA key id {}",
                    tamperscan_bytes::hex(kid),
                    tamperscan_bytes::hex(&ca.key_id())
                ));
                ok = false;
            }
        }
        if let Some(serial) = &aki.serial {
            if *serial != ca.serial {
                reasons.push(format!(
                    "authority certificate serial {} is not the CA serial {}",
                    tamperscan_bytes::hex(serial),
                    ca.serial_hex()
                ));
                ok = false;
            }
        }
        if let Some(n) = name::first_directory(&aki.issuer) {
            if !n.matches(&ca.issuer) {
                reasons.push(format!(
                    "authority certificate issuer {n} is not the CA issuer {}",
                    ca.issuer
                ));
                ok = false;
            }
        }
        ok
    });
    let within_validity = at.map(|t| {
        let mine = cert.validity().contains(t);
        let theirs = ca.validity.contains(t);
        if !mine {
            reasons.push(format!(
                "certificate not valid at {} ({} .. {})",
                t.to_rfc3339(),
                cert.validity().not_before.to_rfc3339(),
                cert.validity().not_after.to_rfc3339()
            ));
        }
        if !theirs {
            reasons.push(format!("CA not valid at {}", t.to_rfc3339()));
        }
        mine && theirs
    });
    Verification {
        algorithm: alg.name(),
        signature_ok,
        weak_algorithm,
        issuer_matches,
        key_id_matches,
        within_validity,
        reasons,
    }
}

/// Among `candidates`, the first CA whose key verifies `cert`'s signature (the issuer of a
/// chain link), preferring candidates whose subject is the certificate's issuer.
pub fn find_issuer<'c, S: Signed + ?Sized>(
    cert: &S,
    candidates: &'c [Certificate],
) -> Option<&'c Certificate> {
    let by_name = candidates
        .iter()
        .filter(|c| cert.issuer_name().is_some_and(|n| n.matches(&c.subject)));
    let others = candidates
        .iter()
        .filter(|c| !cert.issuer_name().is_some_and(|n| n.matches(&c.subject)));
    by_name.chain(others).find(|c| {
        check_signature(
            cert.tbs(),
            cert.signature_algorithm(),
            cert.signature(),
            &c.public_key,
        )
        .is_ok()
    })
}

fn is_weak(alg: &str) -> bool {
    alg == oid::SHA1_WITH_RSA
}

/// Verifies `signature` over `tbs` with `algorithm` under `key`. `Ok(weak)` when it verifies
/// (`weak` for SHA-1), `Err(reason)` otherwise.
pub fn check_signature(
    tbs: &[u8],
    algorithm: &AlgorithmIdentifier,
    signature: &[u8],
    key: &SubjectPublicKeyInfo,
) -> Result<bool, String> {
    match algorithm.oid.as_str() {
        oid::SHA1_WITH_RSA | oid::SHA256_WITH_RSA | oid::SHA384_WITH_RSA | oid::SHA512_WITH_RSA => {
            let pk = rsa_key(key)?;
            let (scheme, hashed) = match algorithm.oid.as_str() {
                oid::SHA1_WITH_RSA => (
                    Pkcs1v15Sign {
                        hash_len: Some(20),
                        prefix: Box::new(SHA1_DIGEST_INFO_PREFIX),
                    },
                    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, tbs)
                        .as_ref()
                        .to_vec(),
                ),
                oid::SHA384_WITH_RSA => {
                    (Pkcs1v15Sign::new::<Sha384>(), Sha384::digest(tbs).to_vec())
                }
                oid::SHA512_WITH_RSA => {
                    (Pkcs1v15Sign::new::<Sha512>(), Sha512::digest(tbs).to_vec())
                }
                _ => (Pkcs1v15Sign::new::<Sha256>(), Sha256::digest(tbs).to_vec()),
            };
            pk.verify(scheme, &hashed, signature)
                .map_err(|e| format!("RSA PKCS#1 v1.5 does not verify ({e})"))?;
            Ok(is_weak(&algorithm.oid))
        }
        oid::RSASSA_PSS => {
            let pk = rsa_key(key)?;
            let (hash, salt) = pss_params(algorithm.parameters.as_deref())?;
            let result = match hash {
                oid::SHA256 => pk.verify(
                    Pss::new_with_salt::<Sha256>(salt),
                    &Sha256::digest(tbs),
                    signature,
                ),
                oid::SHA384 => pk.verify(
                    Pss::new_with_salt::<Sha384>(salt),
                    &Sha384::digest(tbs),
                    signature,
                ),
                oid::SHA512 => pk.verify(
                    Pss::new_with_salt::<Sha512>(salt),
                    &Sha512::digest(tbs),
                    signature,
                ),
                other => return Err(format!("RSA-PSS with hash {other} is not supported")),
            };
            result.map_err(|e| format!("RSA-PSS does not verify ({e})"))?;
            Ok(false)
        }
        oid::ECDSA_WITH_SHA256 | oid::ECDSA_WITH_SHA384 => {
            if key.algorithm.oid != oid::EC_PUBLIC_KEY {
                return Err(format!(
                    "ECDSA signature but the CA key is {}",
                    key.algorithm.oid
                ));
            }
            let curve = key.curve().unwrap_or_default();
            let sha384 = algorithm.oid == oid::ECDSA_WITH_SHA384;
            let alg: &dyn ring::signature::VerificationAlgorithm = match (curve.as_str(), sha384) {
                (oid::CURVE_P256, false) => &ring::signature::ECDSA_P256_SHA256_ASN1,
                (oid::CURVE_P256, true) => &ring::signature::ECDSA_P256_SHA384_ASN1,
                (oid::CURVE_P384, false) => &ring::signature::ECDSA_P384_SHA256_ASN1,
                (oid::CURVE_P384, true) => &ring::signature::ECDSA_P384_SHA384_ASN1,
                (other, _) => return Err(format!("EC curve {other:?} is not supported")),
            };
            ring::signature::UnparsedPublicKey::new(alg, &key.key)
                .verify(tbs, signature)
                .map_err(|_| "ECDSA does not verify".to_string())?;
            Ok(false)
        }
        other => Err(format!("signature algorithm {other} is not supported")),
    }
}

fn rsa_key(key: &SubjectPublicKeyInfo) -> Result<RsaPublicKey, String> {
    if key.algorithm.oid != oid::RSA_ENCRYPTION && key.algorithm.oid != oid::RSASSA_PSS {
        return Err(format!(
            "RSA signature but the CA key is {}",
            key.algorithm.oid
        ));
    }
    let (n, e) = key
        .rsa_components()
        .ok_or_else(|| "CA RSA key does not decode".to_string())?;
    RsaPublicKey::new_with_max_size(
        BigUint::from_bytes_be(&n),
        BigUint::from_bytes_be(&e),
        MAX_RSA_BITS,
    )
    .map_err(|e| format!("CA RSA key refused ({e})"))
}

/// `RSASSA-PSS-params`: returns (hash OID, salt length). Defaults per RFC 4055 §3.1.
fn pss_params(params: Option<&[u8]>) -> Result<(&'static str, usize), String> {
    let mut hash: String = oid::SHA1.to_string();
    let mut mgf_hash: String = oid::SHA1.to_string();
    let mut salt: i64 = 20;
    if let Some(p) = params {
        let mut parse = || -> Result<(), tamperscan_bytes::Error> {
            let mut top = Der::new(p);
            let mut seq = top.sequence("RSASSA-PSS-params")?;
            while !seq.is_empty() {
                let t = seq.read()?;
                let mut inner = t.enter_any()?;
                let v = inner.read()?;
                if t.tag.is_context(0) {
                    hash = AlgorithmIdentifier::parse(&v)?.oid;
                } else if t.tag.is_context(1) {
                    let mgf = AlgorithmIdentifier::parse(&v)?;
                    if mgf.oid == oid::MGF1 {
                        if let Some(mp) = mgf.parameters {
                            mgf_hash = AlgorithmIdentifier::parse(&Der::new(&mp).read()?)?.oid;
                        }
                    } else {
                        mgf_hash = mgf.oid;
                    }
                } else if t.tag.is_context(2) && v.tag == Tag::INTEGER {
                    salt = v.small_int()?;
                }
            }
            Ok(())
        };
        parse().map_err(|e| format!("RSA-PSS parameters do not decode ({e})"))?;
    }
    if hash != mgf_hash {
        return Err(format!(
            "RSA-PSS with hash {hash} but MGF1 hash {mgf_hash} is not supported"
        ));
    }
    let salt = usize::try_from(salt).map_err(|_| format!("RSA-PSS salt length {salt}"))?;
    let hash: &'static str = match hash.as_str() {
        oid::SHA256 => oid::SHA256,
        oid::SHA384 => oid::SHA384,
        oid::SHA512 => oid::SHA512,
        other => return Err(format!("RSA-PSS with hash {other} is not supported")),
    };
    Ok((hash, salt))
}
