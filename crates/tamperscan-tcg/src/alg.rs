use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::fmt;

/// `TPM_ALG_ID` (TPM 2.0 Part 2, 6.3; TCG Algorithm Registry): an open set, so unknown values
/// are kept and printed in hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlgId(pub u16);

impl AlgId {
    /// `TPM_ALG_SHA1`.
    pub const SHA1: AlgId = AlgId(0x0004);
    /// `TPM_ALG_SHA256`.
    pub const SHA256: AlgId = AlgId(0x000b);
    /// `TPM_ALG_SHA384`.
    pub const SHA384: AlgId = AlgId(0x000c);
    /// `TPM_ALG_SHA512`.
    pub const SHA512: AlgId = AlgId(0x000d);
    /// `TPM_ALG_SM3_256`.
    pub const SM3_256: AlgId = AlgId(0x0012);

    /// The bank name used in reports and JSON (`sha1`, `sha256`, ...); `alg_0x....` otherwise.
    pub fn name(self) -> String {
        match self.known_name() {
            Some(n) => n.to_string(),
            None => format!("alg_0x{:04x}", self.0),
        }
    }

    fn known_name(self) -> Option<&'static str> {
        Some(match self {
            AlgId::SHA1 => "sha1",
            AlgId::SHA256 => "sha256",
            AlgId::SHA384 => "sha384",
            AlgId::SHA512 => "sha512",
            AlgId::SM3_256 => "sm3_256",
            AlgId(0x0027) => "sha3_256",
            AlgId(0x0028) => "sha3_384",
            AlgId(0x0029) => "sha3_512",
            _ => return None,
        })
    }

    /// The algorithm for a bank name.
    pub fn from_name(name: &str) -> Option<AlgId> {
        [
            AlgId::SHA1,
            AlgId::SHA256,
            AlgId::SHA384,
            AlgId::SHA512,
            AlgId::SM3_256,
        ]
        .into_iter()
        .find(|a| a.known_name() == Some(name))
    }

    /// The digest size this build can compute, if it implements the algorithm.
    pub fn digest_size(self) -> Option<usize> {
        match self {
            AlgId::SHA1 => Some(20),
            AlgId::SHA256 | AlgId::SM3_256 => Some(32),
            AlgId::SHA384 => Some(48),
            AlgId::SHA512 => Some(64),
            _ => None,
        }
    }

    /// Hashes the concatenation of `parts`, if this build implements the algorithm.
    pub fn hash(self, parts: &[&[u8]]) -> Option<Vec<u8>> {
        self.digest(parts).map(|d| d.as_slice().to_vec())
    }

    /// [`AlgId::hash`] without allocating: the digest is held inline. Replay and digest
    /// checks hash millions of small inputs in a fleet audit.
    pub fn digest(self, parts: &[&[u8]]) -> Option<DigestBuf> {
        fn run<D: Digest>(parts: &[&[u8]]) -> DigestBuf {
            let mut d = D::new();
            for p in parts {
                d.update(p);
            }
            let out = d.finalize();
            let mut buf = DigestBuf {
                bytes: [0; MAX_DIGEST_SIZE],
                len: 0,
            };
            if let Some(dst) = buf.bytes.get_mut(..out.len()) {
                dst.copy_from_slice(&out);
                buf.len = out.len();
            }
            buf
        }
        Some(match self {
            AlgId::SHA1 => run::<Sha1>(parts),
            AlgId::SHA256 => run::<Sha256>(parts),
            AlgId::SHA384 => run::<Sha384>(parts),
            AlgId::SHA512 => run::<Sha512>(parts),
            AlgId::SM3_256 => run::<sm3::Sm3>(parts),
            _ => return None,
        })
    }
}

/// The largest digest this build computes (SHA-512).
const MAX_DIGEST_SIZE: usize = 64;

/// A digest held inline, as [`AlgId::digest`] returns it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DigestBuf {
    bytes: [u8; MAX_DIGEST_SIZE],
    len: usize,
}

impl DigestBuf {
    /// The digest's bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Debug for DigestBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tamperscan_bytes::hex(self.as_slice()))
    }
}

impl fmt::Debug for AlgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Display for AlgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}
