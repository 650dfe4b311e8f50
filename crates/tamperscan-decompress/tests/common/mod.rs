//! Shared helpers for the integration tests: the generators behind the stored vectors
//! (the same xorshift32 sequences as tests/vectors/make_vectors.py), and hostile-input loops.
#![allow(dead_code, clippy::panic)]

use sha2::{Digest, Sha256};
use tamperscan_decompress::Error;

/// A stored vector from tests/vectors.
#[macro_export]
macro_rules! vector {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/",
            $name
        ))
        .as_slice()
    };
}

pub struct Xorshift32(pub u32);

impl Xorshift32 {
    pub fn next(&mut self) -> u32 {
        let mut s = self.0;
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        self.0 = s;
        s
    }
}

const WORDS: [&[u8]; 16] = [
    b"firmware",
    b"volume",
    b"section",
    b"guid",
    b"the",
    b"of",
    b"PEI",
    b"DXE",
    b"driver",
    b"0x0000",
    b"compress",
    b"block",
    b"\r\n",
    b"  ",
    b"EFI_",
    b"Tiano",
];

/// make_vectors.py `varied()`: text, noise, runs, back-references and counters.
pub fn varied(length: usize, seed: u32) -> Vec<u8> {
    let mut rng = Xorshift32(seed);
    let mut out: Vec<u8> = Vec::new();
    while out.len() < length {
        let kind = rng.next() % 5;
        if kind == 0 {
            for _ in 0..rng.next() % 40 + 1 {
                out.extend_from_slice(WORDS[(rng.next() % 16) as usize]);
                out.push(b' ');
            }
        } else if kind == 1 {
            for _ in 0..rng.next() % 200 + 1 {
                out.push(rng.next() as u8);
            }
        } else if kind == 2 {
            let b = rng.next() as u8;
            let n = rng.next() % 600 + 1;
            out.extend(std::iter::repeat_n(b, n as usize));
        } else if kind == 3 && !out.is_empty() {
            let dist = (rng.next() as usize) % out.len().min(8000) + 1;
            for _ in 0..rng.next() % 300 + 3 {
                out.push(out[out.len() - dist]);
            }
        } else {
            let base = rng.next();
            for i in 0..rng.next() % 50 {
                out.extend_from_slice(&base.wrapping_add(i).to_le_bytes());
            }
        }
    }
    out.truncate(length);
    out
}

/// make_vectors.py `x86ish()`: bytes with many E8/E9 opcodes, often close together.
pub fn x86ish(length: usize) -> Vec<u8> {
    let mut rng = Xorshift32(0x0BAD_F00D);
    let mut out: Vec<u8> = Vec::new();
    while out.len() < length {
        let r = rng.next() % 16;
        if r < 6 {
            out.push(rng.next() as u8);
        } else if r < 12 {
            out.push(if r & 1 == 1 { 0xE8 } else { 0xE9 });
            let disp = (rng.next() % 0x40000) as i32 - 0x20000;
            out.extend_from_slice(&disp.to_le_bytes());
        } else if r < 14 {
            out.push(0xE8);
            for _ in 0..rng.next() % 4 {
                out.push(rng.next() as u8);
            }
            out.push(0xE9);
            let v = if rng.next() & 1 == 1 {
                rng.next() & 0x01FF_FFFF
            } else {
                rng.next()
            };
            out.extend_from_slice(&v.to_le_bytes());
        } else {
            let pattern = [0x00, 0xFF, 0xE8, 0xFF, 0x00];
            let n = (rng.next() % 5 + 1) as usize;
            out.extend_from_slice(&pattern[..n]);
        }
    }
    out.truncate(length);
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every proper prefix of `valid` must fail (the format has no valid prefixes), and an error
/// offset must lie within the prefix.
pub fn every_truncation_errors(valid: &[u8], decode: fn(&[u8], usize) -> Result<Vec<u8>, Error>) {
    truncations_error(valid, decode, 1);
}

/// Like [`every_truncation_errors`] for larger samples: every prefix within the first and last
/// 64 bytes, and every `step`-th one between.
pub fn truncations_error(
    valid: &[u8],
    decode: fn(&[u8], usize) -> Result<Vec<u8>, Error>,
    step: usize,
) {
    let lens =
        (0..valid.len()).filter(|&len| len < 64 || len + 64 >= valid.len() || len % step == 0);
    for len in lens {
        let prefix = &valid[..len];
        match decode(prefix, 1 << 20) {
            Ok(out) => panic!("prefix of {len} bytes decoded to {} bytes", out.len()),
            Err(Error::Truncated { offset }) | Err(Error::Corrupt { offset, .. }) => {
                assert!(offset <= len as u64, "offset {offset} past prefix of {len}");
            }
            Err(e) => panic!("prefix of {len} bytes: unexpected {e:?}"),
        }
    }
}

/// Random garbage, and the valid sample with bytes flipped: must return (anything) without
/// panicking, within the budget.
pub fn garbage_never_panics(valid: &[u8], decode: fn(&[u8], usize) -> Result<Vec<u8>, Error>) {
    let mut rng = Xorshift32(0xDEAD_BEEF);
    for round in 0..300 {
        let len = (rng.next() % 600) as usize;
        let noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Ok(out) = decode(&noise, 1 << 16) {
            assert!(out.len() <= 1 << 16, "round {round}");
        }
        let mut flipped = valid.to_vec();
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % flipped.len().max(1);
            if let Some(b) = flipped.get_mut(at) {
                *b ^= 1 << (rng.next() % 8);
            }
        }
        if let Ok(out) = decode(&flipped, 1 << 20) {
            assert!(out.len() <= 1 << 20, "round {round}");
        }
    }
}
