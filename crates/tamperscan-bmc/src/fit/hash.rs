//! The digest algorithms a FIT `hash-N` node may name in its `algo` property.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Algorithm names this crate can compute, as written in `algo`.
pub const SUPPORTED_ALGOS: [&str; 6] = ["sha1", "sha256", "sha384", "sha512", "md5", "crc32"];

/// The digest of `data` under `algo`, or `None` for an algorithm this crate does not compute.
/// A `crc32` value is the big-endian 4-byte CRC-32 (IEEE), as mkimage stores it.
pub fn digest(algo: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match algo {
        "sha1" => Sha1::digest(data).to_vec(),
        "sha256" => Sha256::digest(data).to_vec(),
        "sha384" => Sha384::digest(data).to_vec(),
        "sha512" => Sha512::digest(data).to_vec(),
        "md5" => Md5::digest(data).to_vec(),
        "crc32" => crc32fast::hash(data).to_be_bytes().to_vec(),
        _ => return None,
    })
}

/// The SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tamperscan_bytes::hex;

    #[test]
    fn known_answers_for_abc() {
        let cases = [
            ("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                "sha256",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            ("md5", "900150983cd24fb0d6963f7d28e17f72"),
            ("crc32", "352441c2"),
        ];
        for (algo, want) in cases {
            assert_eq!(hex(&digest(algo, b"abc").unwrap()), want, "{algo}");
        }
        assert_eq!(digest("sha384", b"").unwrap().len(), 48);
        assert_eq!(digest("sha512", b"").unwrap().len(), 64);
        assert_eq!(digest("crc16-ccitt", b""), None);
    }
}
