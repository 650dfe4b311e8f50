//! zlib, raw deflate and gzip: miniz_oxide-made streams, hand-built bombs, header fields, and
//! real gzip files from the shared data set.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{every_truncation_errors, garbage_never_panics, sha256_hex, varied};
use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
use tamperscan_decompress::{deflate, gzip, zlib, Error};

const MIB: usize = 1 << 20;

/// Writes bits least-significant first, as deflate reads them.
struct LsbWriter {
    bytes: Vec<u8>,
    bits: u32,
}

impl LsbWriter {
    fn put(&mut self, n: u32, value: u32) {
        for i in 0..n {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            *self.bytes.last_mut().unwrap() |= (((value >> i) & 1) as u8) << (self.bits % 8);
            self.bits += 1;
        }
    }
    /// Huffman codes go in most-significant bit first.
    fn code(&mut self, n: u32, code: u32) {
        for i in (0..n).rev() {
            self.put(1, code >> i);
        }
    }
}

/// One fixed-Huffman block: a literal 0, then `matches` copies of 258 bytes at distance 1.
/// Returns the raw deflate stream and the output length.
fn zeros_deflate(matches: usize) -> (Vec<u8>, u64) {
    let mut w = LsbWriter {
        bytes: Vec::new(),
        bits: 0,
    };
    w.put(1, 1); // BFINAL
    w.put(2, 1); // BTYPE = fixed Huffman
    w.code(8, 0x30); // literal 0
    for _ in 0..matches {
        w.code(8, 0xC5); // length symbol 285: 258
        w.code(5, 0); // distance symbol 0: 1
    }
    w.code(7, 0); // end of block
    (w.bytes, 1 + 258 * matches as u64)
}

fn gzip_member(header_extra: &[u8], flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3];
    out.extend_from_slice(header_extra);
    if flags & 0x02 != 0 {
        let crc = crc32fast::hash(&out) as u16;
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out.extend_from_slice(&compress_to_vec(payload, 6));
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out
}

#[test]
fn zlib_and_deflate_round_trip_with_an_exact_budget() {
    let input = varied(48 * 1024, 0x1234_5678);
    let z = compress_to_vec_zlib(&input, 9);
    assert_eq!(zlib(&z, MIB).unwrap(), input);
    assert_eq!(zlib(&z, input.len()).unwrap(), input);
    assert_eq!(
        zlib(&z, input.len() - 1),
        Err(Error::TooLarge {
            limit: input.len() - 1,
            declared: None
        })
    );
    let d = compress_to_vec(&input, 1);
    assert_eq!(deflate(&d, MIB).unwrap(), input);
    assert!(deflate(&d, 100).unwrap_err().is_too_large());
    assert_eq!(
        zlib(&compress_to_vec_zlib(&[], 6), 0).unwrap(),
        Vec::<u8>::new()
    );
}

#[test]
fn zlib_checks_its_adler32() {
    let mut z = compress_to_vec_zlib(b"firmware volume firmware volume", 6);
    let last = z.len() - 1;
    z[last] ^= 1;
    let err = zlib(&z, MIB).unwrap_err();
    assert!(err.to_string().contains("Adler-32"), "{err}");
}

#[test]
fn sixty_four_mib_bombs_stop_at_the_budget() {
    let (raw, n) = zeros_deflate((64 * MIB - 1) / 258);
    assert!(raw.len() < 512 * 1024 && n > 63 * MIB as u64);
    // zlib: header 78 01, Adler-32 of n zeros (a = 1, b = n mod 65521).
    let mut z = vec![0x78, 0x01];
    z.extend_from_slice(&raw);
    z.extend_from_slice(&((((n % 65521) as u32) << 16) | 1).to_be_bytes());
    // gzip: with the right CRC-32 and ISIZE.
    let mut crc = crc32fast::Hasher::new();
    let chunk = vec![0u8; 1 << 16];
    let mut left = n;
    while left > 0 {
        let take = left.min(chunk.len() as u64) as usize;
        crc.update(&chunk[..take]);
        left -= take as u64;
    }
    let mut gz = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3];
    gz.extend_from_slice(&raw);
    gz.extend_from_slice(&crc.finalize().to_le_bytes());
    gz.extend_from_slice(&(n as u32).to_le_bytes());

    for (name, data, decode) in [
        ("deflate", &raw, deflate as fn(&[u8], usize) -> _),
        ("zlib", &z, zlib),
        ("gzip", &gz, gzip),
    ] {
        let start = Instant::now();
        assert_eq!(
            decode(data, MIB),
            Err(Error::TooLarge {
                limit: MIB,
                declared: None
            }),
            "{name}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            start.elapsed()
        );
    }
    // The same construction, small, is valid.
    let (small, n) = zeros_deflate(10);
    assert_eq!(deflate(&small, MIB).unwrap(), vec![0; n as usize]);
}

#[test]
fn gzip_header_fields_and_members() {
    let a = varied(3000, 0xC0FF_EE11);
    let b = varied(5000, 0x1234_5678);
    // FEXTRA with two subfields, FNAME, FCOMMENT, FHCRC.
    let mut extra = vec![10, 0, b'A', b'B', 2, 0, 1, 2, b'C', b'D', 0, 0];
    extra.extend_from_slice(b"Fsp.fd\0a comment\0");
    let first = gzip_member(&extra, 0x04 | 0x08 | 0x10 | 0x02, &a);
    let second = gzip_member(&[], 0, &b);
    assert_eq!(gzip(&first, MIB).unwrap(), a);

    let mut both = [first.clone(), second.clone()].concat();
    let mut expected = a.clone();
    expected.extend_from_slice(&b);
    assert_eq!(gzip(&both, MIB).unwrap(), expected);
    // The budget covers all members together.
    assert!(gzip(&both, 7999).unwrap_err().is_too_large());
    // Zero padding after the last member is accepted; other trailing bytes are not.
    both.extend_from_slice(&[0; 16]);
    assert_eq!(gzip(&both, MIB).unwrap(), expected);
    both.push(7);
    assert!(matches!(gzip(&both, MIB), Err(Error::Corrupt { .. })));

    // A wrong header CRC, CRC-32, ISIZE, method or reserved flag is corrupt.
    for (at, what) in [
        (extra.len() + 10, "header CRC"),
        (first.len() - 8, "CRC-32"),
        (first.len() - 4, "ISIZE"),
        (2, "method"),
        (3, "flags"),
    ] {
        let mut bad = first.clone();
        bad[at] ^= if at == 3 { 0x80 } else { 1 };
        let err = gzip(&bad, MIB).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{what}: {err:?}");
    }
}

#[test]
fn every_truncation_errors_and_garbage_never_panics() {
    let input = varied(3000, 0xC0FF_EE11);
    let z = compress_to_vec_zlib(&input, 9);
    every_truncation_errors(&z, zlib);
    let mut extra = vec![4, 0, b'A', b'B', 0, 0];
    extra.extend_from_slice(b"name\0");
    let gz = gzip_member(&extra, 0x04 | 0x08 | 0x02, &input);
    every_truncation_errors(&gz, gzip);
    garbage_never_panics(&z, zlib);
    garbage_never_panics(&gz, gzip);
    // Raw deflate has no trailer: a prefix may end on a block boundary, so only check that no
    // prefix panics or returns more than the input it came from.
    let d = compress_to_vec(&input, 9);
    for len in 0..d.len() {
        if let Ok(out) = deflate(&d[..len], MIB) {
            assert!(input.starts_with(&out));
        }
    }
    garbage_never_panics(&d, deflate);
}

#[test]
fn real_gzip_logs() {
    let Some(dir) = tamperscan_testdata::data_dir() else {
        return;
    };
    // Expected sizes and hashes from `gzip -dc | sha256sum`.
    for (name, size, sha) in [
        (
            "dns.15_00_00-16_00_00.log.gz",
            4235,
            "3da67fdae923257f320b409e56681f76d49856a6c1ad1065d77832ff43fa130e",
        ),
        (
            "conn.16_00_00-17_00_00.log.gz",
            1053241,
            "c25b46b9ea34307a09923cb76c93328d70fb55bd852b9d8276b3537e9ff1e285",
        ),
        (
            "capture_loss.15_00_00-16_00_00.log.gz",
            452,
            "532e50115b5fe0c2efe9601883b7db6d11b666f7eedd230c30f368b0f266325d",
        ),
    ] {
        let data = std::fs::read(dir.join("netflows/rita_proxy_rolling").join(name)).unwrap();
        let out = gzip(&data, 4 * MIB).unwrap();
        assert_eq!(out.len(), size, "{name}");
        assert_eq!(sha256_hex(&out), sha, "{name}");
        assert!(gzip(&data, size - 1).unwrap_err().is_too_large());
    }
}
