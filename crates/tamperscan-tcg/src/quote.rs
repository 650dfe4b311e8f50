//! TPM 2.0 quotes: `TPMS_ATTEST` (TPM 2.0 Library Part 2, 10.12.12), `TPMT_SIGNATURE` (11.3.4),
//! the attestation key as `TPM2B_PUBLIC` (12.2.5) or an X.509 SubjectPublicKeyInfo (PEM or
//! DER), and the checks a verifier makes: magic and type, nonce, PCR selection and digest
//! against replayed values, signature (RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA P-256/P-384).
//! TPM structures are big-endian.

use crate::alg::AlgId;
use crate::replay::Pcrs;
use tamperscan_bytes::{Error, Reader};

/// `TPM_GENERATED_VALUE`: every structure the TPM signs starts with it.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
/// `TPM_ST_ATTEST_QUOTE`.
pub const TPM_ST_ATTEST_QUOTE: u16 = 0x8018;

const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_RSASSA: u16 = 0x0014;
const TPM_ALG_RSAPSS: u16 = 0x0016;
const TPM_ALG_ECDSA: u16 = 0x0018;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ECC_NIST_P256: u16 = 0x0003;
const TPM_ECC_NIST_P384: u16 = 0x0004;

/// The most PCR selections one `TPML_PCR_SELECTION` may hold.
const MAX_SELECTIONS: u64 = 16;

/// `TPMS_ATTEST` of a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attest<'a> {
    /// `magic` (must be [`TPM_GENERATED_VALUE`]).
    pub magic: u32,
    /// `type` (a quote is [`TPM_ST_ATTEST_QUOTE`]).
    pub attest_type: u16,
    /// `qualifiedSigner`: the signing key's qualified name.
    pub qualified_signer: &'a [u8],
    /// `extraData`: the verifier's nonce.
    pub extra_data: &'a [u8],
    /// `clockInfo.clock`.
    pub clock: u64,
    /// `clockInfo.resetCount`.
    pub reset_count: u32,
    /// `clockInfo.restartCount`.
    pub restart_count: u32,
    /// `clockInfo.safe`.
    pub safe: bool,
    /// `firmwareVersion`.
    pub firmware_version: u64,
    /// `attested.quote` when this is a quote.
    pub quote: Option<QuoteInfo<'a>>,
}

/// `TPMS_QUOTE_INFO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteInfo<'a> {
    /// `pcrSelect`: banks and PCR indices, in the order the TPM concatenated them.
    pub selections: Vec<(AlgId, Vec<u32>)>,
    /// `pcrDigest`.
    pub pcr_digest: &'a [u8],
}

fn tpm2b<'a>(r: &mut Reader<'a>, limit: u64, what: &'static str) -> Result<&'a [u8], Error> {
    let len = r.u16_be(what)?;
    let len = r.bounded(u64::from(len), limit, what)?;
    r.take(len, what)
}

/// `TPML_PCR_SELECTION`, big-endian as the TPM writes it.
fn pcr_selection(r: &mut Reader<'_>) -> Result<Vec<(AlgId, Vec<u32>)>, Error> {
    let count = r.u32_be("TPML_PCR_SELECTION.count")?;
    let count = r.bounded(u64::from(count), MAX_SELECTIONS, "TPML_PCR_SELECTION.count")?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let alg = AlgId(r.u16_be("TPMS_PCR_SELECTION.hash")?);
        let size = r.u8("sizeofSelect")?;
        let bitmap = r.take(usize::from(size), "pcrSelect")?;
        out.push((alg, bitmap_indices(bitmap)));
    }
    Ok(out)
}

fn bitmap_indices(bitmap: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    for (byte_index, byte) in bitmap.iter().enumerate() {
        for bit in 0..8u32 {
            if byte & (1 << bit) != 0 {
                out.push(byte_index as u32 * 8 + bit);
            }
        }
    }
    out
}

/// Parses `TPMS_ATTEST` (the quote as `tpm2_quote -m` writes it).
pub fn parse_attest(bytes: &[u8]) -> Result<Attest<'_>, Error> {
    let mut r = Reader::new(bytes);
    let magic = r.u32_be("magic")?;
    if magic != TPM_GENERATED_VALUE {
        return Err(Error::invalid(
            0,
            "magic",
            format!(
                "0x{magic:08x}, not TPM_GENERATED_VALUE 0xff544347: this is no TPM attestation"
            ),
        ));
    }
    let attest_type = r.u16_be("type")?;
    let qualified_signer = tpm2b(&mut r, 256, "qualifiedSigner")?;
    let extra_data = tpm2b(&mut r, 256, "extraData")?;
    let clock = r.u64_be("clockInfo.clock")?;
    let reset_count = r.u32_be("clockInfo.resetCount")?;
    let restart_count = r.u32_be("clockInfo.restartCount")?;
    let safe = r.u8("clockInfo.safe")? != 0;
    let firmware_version = r.u64_be("firmwareVersion")?;
    let quote = if attest_type == TPM_ST_ATTEST_QUOTE {
        let selections = pcr_selection(&mut r)?;
        let pcr_digest = tpm2b(&mut r, 64, "pcrDigest")?;
        r.finish("TPMS_ATTEST")?;
        Some(QuoteInfo {
            selections,
            pcr_digest,
        })
    } else {
        None
    };
    Ok(Attest {
        magic,
        attest_type,
        qualified_signer,
        extra_data,
        clock,
        reset_count,
        restart_count,
        safe,
        firmware_version,
        quote,
    })
}

/// `TPMT_SIGNATURE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteSignature<'a> {
    /// RSASSA-PKCS1-v1_5.
    RsaSsa {
        /// Hash algorithm.
        hash: AlgId,
        /// The signature.
        sig: &'a [u8],
    },
    /// RSA-PSS.
    RsaPss {
        /// Hash algorithm.
        hash: AlgId,
        /// The signature.
        sig: &'a [u8],
    },
    /// ECDSA.
    Ecdsa {
        /// Hash algorithm.
        hash: AlgId,
        /// `signatureR`.
        r: &'a [u8],
        /// `signatureS`.
        s: &'a [u8],
    },
}

impl QuoteSignature<'_> {
    /// The scheme's hash algorithm (also the one of the quote's `pcrDigest`).
    pub fn hash(&self) -> AlgId {
        match self {
            QuoteSignature::RsaSsa { hash, .. }
            | QuoteSignature::RsaPss { hash, .. }
            | QuoteSignature::Ecdsa { hash, .. } => *hash,
        }
    }
}

/// Parses `TPMT_SIGNATURE` (as `tpm2_quote -s` writes it).
pub fn parse_signature(bytes: &[u8]) -> Result<QuoteSignature<'_>, Error> {
    let mut r = Reader::new(bytes);
    let alg = r.u16_be("sigAlg")?;
    let hash = AlgId(r.u16_be("hash")?);
    let sig = match alg {
        TPM_ALG_RSASSA => QuoteSignature::RsaSsa {
            hash,
            sig: tpm2b(&mut r, 1024, "signature")?,
        },
        TPM_ALG_RSAPSS => QuoteSignature::RsaPss {
            hash,
            sig: tpm2b(&mut r, 1024, "signature")?,
        },
        TPM_ALG_ECDSA => {
            let rr = tpm2b(&mut r, 128, "signatureR")?;
            let s = tpm2b(&mut r, 128, "signatureS")?;
            QuoteSignature::Ecdsa { hash, r: rr, s }
        }
        other => {
            return Err(Error::invalid(
                0,
                "sigAlg",
                format!("0x{other:04x} is not RSASSA, RSAPSS or ECDSA"),
            ))
        }
    };
    r.finish("TPMT_SIGNATURE")?;
    Ok(sig)
}

/// An attestation key's public part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AkPublic {
    /// RSA.
    Rsa(rsa::RsaPublicKey),
    /// ECDSA on NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA on NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
}

/// Parses an attestation key: PEM or DER SubjectPublicKeyInfo, or `TPM2B_PUBLIC` /
/// `TPMT_PUBLIC` as `tpm2_createak -u` writes it.
pub fn parse_ak(bytes: &[u8]) -> Result<AkPublic, Error> {
    use rsa::pkcs8::DecodePublicKey;
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.trim_start().starts_with("-----BEGIN") {
            if let Ok(k) = rsa::RsaPublicKey::from_public_key_pem(text.trim()) {
                return Ok(AkPublic::Rsa(k));
            }
            if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(text.trim()) {
                return Ok(AkPublic::P256(k));
            }
            if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_pem(text.trim()) {
                return Ok(AkPublic::P384(k));
            }
            return Err(Error::invalid(
                0,
                "PEM public key",
                "not an RSA, P-256 or P-384 SubjectPublicKeyInfo",
            ));
        }
    }
    if bytes.first() == Some(&0x30) {
        if let Ok(k) = rsa::RsaPublicKey::from_public_key_der(bytes) {
            return Ok(AkPublic::Rsa(k));
        }
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(bytes) {
            return Ok(AkPublic::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(bytes) {
            return Ok(AkPublic::P384(k));
        }
    }
    tpm_public(bytes)
}

/// `TPM2B_PUBLIC` (or a bare `TPMT_PUBLIC`).
fn tpm_public(bytes: &[u8]) -> Result<AkPublic, Error> {
    let mut outer = Reader::new(bytes);
    let size = outer.clone().u16_be("TPM2B_PUBLIC.size")?;
    let mut r = if usize::from(size) + 2 == bytes.len() {
        outer.skip(2, "TPM2B_PUBLIC.size")?;
        outer
    } else {
        Reader::new(bytes)
    };
    let ty = r.u16_be("TPMT_PUBLIC.type")?;
    let _name_alg = r.u16_be("nameAlg")?;
    let _attributes = r.u32_be("objectAttributes")?;
    tpm2b(&mut r, 128, "authPolicy")?;
    let symmetric = r.u16_be("symmetric.algorithm")?;
    if symmetric != TPM_ALG_NULL {
        r.u16_be("symmetric.keyBits")?;
        r.u16_be("symmetric.mode")?;
    }
    let scheme = r.u16_be("scheme")?;
    if scheme != TPM_ALG_NULL {
        r.u16_be("scheme.hashAlg")?;
    }
    match ty {
        TPM_ALG_RSA => {
            let _bits = r.u16_be("keyBits")?;
            let exponent = r.u32_be("exponent")?;
            let modulus = tpm2b(&mut r, 1024, "unique.rsa")?;
            let e = if exponent == 0 { 65537 } else { exponent };
            rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(modulus), rsa::BigUint::from(e))
                .map(AkPublic::Rsa)
                .map_err(|e| r.invalid("RSA public key", e.to_string()))
        }
        TPM_ALG_ECC => {
            let curve = r.u16_be("curveID")?;
            let kdf = r.u16_be("kdf.scheme")?;
            if kdf != TPM_ALG_NULL {
                r.u16_be("kdf.hashAlg")?;
            }
            let x = tpm2b(&mut r, 128, "unique.ecc.x")?;
            let y = tpm2b(&mut r, 128, "unique.ecc.y")?;
            let mut sec1 = vec![0x04];
            let size = match curve {
                TPM_ECC_NIST_P256 => 32,
                TPM_ECC_NIST_P384 => 48,
                other => {
                    return Err(r.invalid(
                        "curveID",
                        format!("0x{other:04x} is not NIST P-256 or P-384"),
                    ))
                }
            };
            for coordinate in [x, y] {
                if coordinate.len() > size {
                    return Err(r.invalid("ECC point", "coordinate longer than the curve"));
                }
                sec1.extend(std::iter::repeat_n(0u8, size - coordinate.len()));
                sec1.extend_from_slice(coordinate);
            }
            let bad = |e: String| r.invalid("ECC point", e);
            match curve {
                TPM_ECC_NIST_P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map(AkPublic::P256)
                    .map_err(|e| bad(e.to_string())),
                _ => p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map(AkPublic::P384)
                    .map_err(|e| bad(e.to_string())),
            }
        }
        other => Err(Error::invalid(
            2,
            "TPMT_PUBLIC.type",
            format!("0x{other:04x} is not RSA or ECC"),
        )),
    }
}

/// Whether `sig` over `message` verifies with `ak`.
pub fn verify_signature(ak: &AkPublic, message: &[u8], sig: &QuoteSignature<'_>) -> bool {
    // ring hashes the message itself on its paths; the others verify a prehash.
    let prehash = || sig.hash().digest(&[message]);
    match (ak, sig) {
        (AkPublic::Rsa(key), QuoteSignature::RsaSsa { hash, sig }) => {
            let scheme = match *hash {
                AlgId::SHA1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                AlgId::SHA256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                AlgId::SHA384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                AlgId::SHA512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                _ => return false,
            };
            prehash().is_some_and(|d| key.verify(scheme, d.as_slice(), sig).is_ok())
        }
        (AkPublic::Rsa(key), QuoteSignature::RsaPss { hash, sig }) => {
            // TPMs sign PSS with a salt as long as the digest (Part 1, B.7); older ones used
            // the largest salt, which the auto-detecting verifier also accepts.
            let scheme = match *hash {
                AlgId::SHA1 => rsa::Pss::new::<sha1::Sha1>(),
                AlgId::SHA256 => rsa::Pss::new::<sha2::Sha256>(),
                AlgId::SHA384 => rsa::Pss::new::<sha2::Sha384>(),
                AlgId::SHA512 => rsa::Pss::new::<sha2::Sha512>(),
                _ => return false,
            };
            prehash().is_some_and(|d| key.verify(scheme, d.as_slice(), sig).is_ok())
        }
        (AkPublic::P256(key), QuoteSignature::Ecdsa { hash, r, s }) => {
            let (Some(r), Some(s)) = (pad::<32>(r), pad::<32>(s)) else {
                return false;
            };
            // The usual pairing goes through ring's constant-time assembly, several times
            // faster than the portable arithmetic (which dominated a fleet audit); other hash
            // pairings use the RustCrypto verifier on the prehashed message.
            if *hash == AlgId::SHA256 {
                let point = key.to_encoded_point(false);
                let sig = [r.as_slice(), s.as_slice()].concat();
                let ring_key = ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ECDSA_P256_SHA256_FIXED,
                    point.as_bytes(),
                );
                return ring_key.verify(message, &sig).is_ok();
            }
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let Some(digest) = prehash() else {
                return false;
            };
            p256::ecdsa::Signature::from_scalars(r, s)
                .is_ok_and(|sig| key.verify_prehash(digest.as_slice(), &sig).is_ok())
        }
        (AkPublic::P384(key), QuoteSignature::Ecdsa { hash, r, s }) => {
            let (Some(r), Some(s)) = (pad::<48>(r), pad::<48>(s)) else {
                return false;
            };
            if *hash == AlgId::SHA384 {
                let point = key.to_encoded_point(false);
                let sig = [r.as_slice(), s.as_slice()].concat();
                let ring_key = ring::signature::UnparsedPublicKey::new(
                    &ring::signature::ECDSA_P384_SHA384_FIXED,
                    point.as_bytes(),
                );
                return ring_key.verify(message, &sig).is_ok();
            }
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            let Some(digest) = prehash() else {
                return false;
            };
            p384::ecdsa::Signature::from_scalars(r, s)
                .is_ok_and(|sig| key.verify_prehash(digest.as_slice(), &sig).is_ok())
        }
        _ => false,
    }
}

/// A big-endian integer left-padded to `N` bytes.
fn pad<const N: usize>(v: &[u8]) -> Option<[u8; N]> {
    let v = match v.iter().position(|&b| b != 0) {
        Some(first) => v.get(first..)?,
        None => &[],
    };
    let mut out = [0u8; N];
    let start = N.checked_sub(v.len())?;
    out.get_mut(start..)?.copy_from_slice(v);
    Some(out)
}

/// The digest a quote over `selections` must carry, given PCR values: the selected PCRs'
/// values concatenated in selection order, hashed with `alg`. `None` when a selected PCR's
/// value is unknown.
pub fn expected_pcr_digest(
    selections: &[(AlgId, Vec<u32>)],
    pcrs: &Pcrs,
    alg: AlgId,
) -> Option<Vec<u8>> {
    let mut concat = Vec::new();
    for (bank, indices) in selections {
        let size = bank.digest_size()?;
        let values = pcrs.banks.get(bank);
        for index in indices {
            match values.and_then(|v| v.get(index)) {
                Some(value) => concat.extend_from_slice(value),
                // A PCR the log never extended still holds its reset value.
                None => concat.extend(std::iter::repeat_n(
                    if (17..=22).contains(index) { 0xff } else { 0 },
                    size,
                )),
            }
        }
    }
    alg.hash(&[&concat])
}

/// The outcome of verifying one quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteVerdict {
    /// The signature verifies with the attestation key.
    pub signature_valid: bool,
    /// The attestation is a quote.
    pub is_quote: bool,
    /// `extraData` equals the expected nonce (`None` when no nonce was given).
    pub nonce_matches: Option<bool>,
    /// `pcrDigest` equals the digest of the replayed PCRs (`None` without PCR values).
    pub pcr_digest_matches: Option<bool>,
    /// The PCRs the quote covers, as `bank:index` text.
    pub selected: Vec<String>,
}

impl QuoteVerdict {
    /// Every check that was made passed.
    pub fn ok(&self) -> bool {
        self.signature_valid
            && self.is_quote
            && self.nonce_matches != Some(false)
            && self.pcr_digest_matches != Some(false)
    }
}

/// Verifies a quote: structure, signature, nonce and PCR digest.
pub fn verify_quote(
    attest_bytes: &[u8],
    signature_bytes: &[u8],
    ak: &AkPublic,
    nonce: Option<&[u8]>,
    pcrs: Option<&Pcrs>,
) -> Result<QuoteVerdict, Error> {
    let attest = parse_attest(attest_bytes)?;
    let sig = parse_signature(signature_bytes)?;
    let signature_valid = verify_signature(ak, attest_bytes, &sig);
    let quote = attest.quote.as_ref();
    let pcr_digest_matches = match (quote, pcrs) {
        (Some(q), Some(p)) => {
            expected_pcr_digest(&q.selections, p, sig.hash()).map(|d| d == q.pcr_digest)
        }
        _ => None,
    };
    Ok(QuoteVerdict {
        signature_valid,
        is_quote: quote.is_some(),
        nonce_matches: nonce.map(|n| n == attest.extra_data),
        pcr_digest_matches,
        selected: quote
            .map(|q| {
                q.selections
                    .iter()
                    .flat_map(|(a, ix)| ix.iter().map(move |i| format!("{a}:{i}")))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecdsa_signature(hash: AlgId, r: &[u8], s: &[u8]) -> Vec<u8> {
        let mut t = 0x0018u16.to_be_bytes().to_vec();
        t.extend_from_slice(&hash.0.to_be_bytes());
        for part in [r, s] {
            t.extend_from_slice(&(part.len() as u16).to_be_bytes());
            t.extend_from_slice(part);
        }
        t
    }

    /// Both ECDSA paths (ring for the curve's own hash, RustCrypto for other pairings) accept
    /// a genuine signature and refuse it over another message.
    #[test]
    fn ecdsa_p384_and_cross_hash_pairings() {
        use p384::ecdsa::signature::hazmat::PrehashSigner;
        let key = p384::ecdsa::SigningKey::from_bytes((&[7u8; 48]).into()).unwrap();
        let ak = AkPublic::P384(*key.verifying_key());
        for hash in [AlgId::SHA384, AlgId::SHA256] {
            let message = b"TPMS_ATTEST stand-in";
            let digest = hash.hash(&[message]).unwrap();
            let sig: p384::ecdsa::Signature = key.sign_prehash(&digest).unwrap();
            let (r, s) = sig.split_bytes();
            let bytes = ecdsa_signature(hash, &r, &s);
            let parsed = parse_signature(&bytes).unwrap();
            assert!(verify_signature(&ak, message, &parsed), "{hash}");
            assert!(
                !verify_signature(&ak, b"another message", &parsed),
                "{hash}"
            );
        }
    }
}
