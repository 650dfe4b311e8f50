//! EFI standard compression and its Tiano variant: EDK2-made vectors, hand-built streams,
//! hostile input, and the compressed sections of Intel's Apollo Lake FSP image.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{every_truncation_errors, garbage_never_panics, sha256_hex, varied};
use tamperscan_decompress::{efi, tiano, Error};

const MIB: usize = 1 << 20;

#[test]
fn edk2_vectors_decode_to_the_generated_input() {
    let big = varied(48 * 1024, 0x1234_5678);
    let small = varied(3000, 0xC0FF_EE11);
    assert_eq!(efi(vector!("varied.efi"), MIB).unwrap(), big);
    assert_eq!(tiano(vector!("varied.tiano"), MIB).unwrap(), big);
    assert_eq!(efi(vector!("small.efi"), MIB).unwrap(), small);
    assert_eq!(tiano(vector!("small.tiano"), MIB).unwrap(), small);
}

#[test]
fn the_other_variant_does_not_silently_succeed() {
    let big = varied(48 * 1024, 0x1234_5678);
    // The position-set count is one bit wider in Tiano: reading one as the other derails.
    assert!(efi(vector!("varied.tiano"), MIB).map_or(true, |out| out != big));
    assert!(tiano(vector!("varied.efi"), MIB).map_or(true, |out| out != big));
}

#[test]
fn original_size_above_the_limit_is_refused_before_decoding() {
    let data = vector!("varied.efi");
    assert_eq!(
        efi(data, 1000),
        Err(Error::TooLarge {
            limit: 1000,
            declared: Some(48 * 1024)
        })
    );
    // Exactly the limit is fine.
    assert_eq!(efi(data, 48 * 1024).unwrap().len(), 48 * 1024);
}

#[test]
fn trailing_padding_after_the_compressed_size_is_ignored() {
    let mut data = vector!("small.efi").to_vec();
    data.extend_from_slice(&[0xFF; 7]);
    assert_eq!(efi(&data, MIB).unwrap(), varied(3000, 0xC0FF_EE11));
}

#[test]
fn every_truncation_errors_with_and_without_a_matching_size_field() {
    let expected = varied(3000, 0xC0FF_EE11);
    for (valid, decode) in [
        (vector!("small.efi"), efi as fn(&[u8], usize) -> _),
        (vector!("small.tiano"), tiano),
    ] {
        every_truncation_errors(valid, decode);
        // Also cut the bit stream itself: shorten the compressed-size field to match the cut.
        for len in 8..valid.len() {
            let mut cut = valid[..len].to_vec();
            cut[..4].copy_from_slice(&((len - 8) as u32).to_le_bytes());
            match decode(&cut, MIB) {
                Err(Error::Truncated { offset }) => assert!(offset <= len as u64),
                Err(Error::Corrupt { offset, .. }) => assert!(offset <= len as u64),
                // The encoder pads its last byte with zero bits, which may fill a whole byte.
                Ok(out) => assert!(len == valid.len() - 1 && out == expected, "cut at {len}"),
                Err(e) => panic!("cut at {len}: {e:?}"),
            }
        }
    }
}

#[test]
fn garbage_and_bit_flips_never_panic() {
    garbage_never_panics(vector!("small.efi"), efi);
    garbage_never_panics(vector!("small.tiano"), tiano);
}

#[test]
fn absurd_header_sizes() {
    // Compressed size far beyond the input.
    let mut data = vector!("small.efi").to_vec();
    data[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        efi(&data, MIB),
        Err(Error::Truncated {
            offset: data.len() as u64
        })
    );
    // Original size of 4 GiB.
    let mut data = vector!("small.efi").to_vec();
    data[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        efi(&data, MIB),
        Err(Error::TooLarge {
            limit: MIB,
            declared: Some(u64::from(u32::MAX))
        })
    );
    // Too short for a header; an empty original needs no stream.
    assert_eq!(efi(&[1, 2, 3], MIB), Err(Error::Truncated { offset: 3 }));
    assert_eq!(efi(&[0; 8], MIB).unwrap(), Vec::<u8>::new());
}

/// Writes bits most-significant first, as the format reads them.
struct BitWriter {
    bytes: Vec<u8>,
    bits: u32,
}

impl BitWriter {
    fn new() -> Self {
        BitWriter {
            bytes: Vec::new(),
            bits: 0,
        }
    }
    fn put(&mut self, n: u32, value: u32) {
        for i in (0..n).rev() {
            if self.bits.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = (value >> i) & 1;
            *self.bytes.last_mut().unwrap() |= (bit as u8) << (7 - self.bits % 8);
            self.bits += 1;
        }
    }
    /// A block whose three sets each have a single symbol (coded with no bits).
    fn single_symbol_block(&mut self, pbit: u32, size: u32, char_len: u32, position: u32) {
        self.put(16, size);
        self.put(5, 0); // extra set: count 0 ...
        self.put(5, 0); // ... single symbol 0 (unused)
        self.put(9, 0); // char&length set: count 0 ...
        self.put(9, char_len); // ... single symbol
        self.put(pbit, 0); // position set: count 0 ...
        self.put(pbit, position); // ... single symbol
    }
    fn finish(self, original: u32) -> Vec<u8> {
        let mut out = (self.bytes.len() as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&original.to_le_bytes());
        out.extend_from_slice(&self.bytes);
        out
    }
}

/// A literal zero, then matches of 256 bytes at distance 1, for `original` bytes of zeros.
fn zeros_stream(pbit: u32, original: u32) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.single_symbol_block(pbit, 1, 0, 0);
    let mut produced = 1u64;
    while produced < u64::from(original) {
        w.single_symbol_block(pbit, 0xFFFF, 509, 0);
        produced += 0xFFFF * 256;
    }
    w.finish(original)
}

#[test]
fn single_symbol_sets_take_no_bits() {
    for (pbit, decode) in [(4, efi as fn(&[u8], usize) -> _), (5, tiano)] {
        let data = zeros_stream(pbit, 3 * MIB as u32);
        assert!(data.len() < 64, "{} bytes", data.len());
        let out = decode(&data, 4 * MIB).unwrap();
        assert_eq!(out.len(), 3 * MIB);
        assert!(out.iter().all(|&b| b == 0));
    }
}

#[test]
fn a_tiny_bomb_is_refused_promptly() {
    let data = zeros_stream(4, 64 * MIB as u32);
    let start = Instant::now();
    assert_eq!(
        efi(&data, MIB),
        Err(Error::TooLarge {
            limit: MIB,
            declared: Some(64 * MIB as u64)
        })
    );
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_match_before_the_start_of_the_output_is_corrupt() {
    let mut w = BitWriter::new();
    w.single_symbol_block(4, 1, 300, 0);
    let err = efi(&w.finish(100), MIB).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("before the start"), "{err}");
}

#[test]
fn out_of_range_single_symbols_are_corrupt() {
    // Char&length symbol 510 does not exist.
    let mut w = BitWriter::new();
    w.single_symbol_block(4, 1, 510, 0);
    assert!(matches!(
        efi(&w.finish(10), MIB),
        Err(Error::Corrupt { .. })
    ));
    // Extra-set count 20 exceeds the 19 symbols.
    let mut w = BitWriter::new();
    w.put(16, 1);
    w.put(5, 20);
    w.put(32, 0);
    assert!(matches!(
        efi(&w.finish(10), MIB),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn incomplete_and_overlong_code_lengths_are_corrupt() {
    // Extra set with two lengths, 1 and 2: half of the code space is unused.
    let mut w = BitWriter::new();
    w.put(16, 1);
    w.put(5, 2);
    w.put(3, 1);
    w.put(3, 2);
    w.put(32, 0);
    let err = efi(&w.finish(10), MIB).unwrap_err();
    assert!(err.to_string().contains("incomplete"), "{err}");
    // A length written as 111 followed by ten 1 bits is 17, above the maximum of 16.
    let mut w = BitWriter::new();
    w.put(16, 1);
    w.put(5, 1);
    w.put(3, 7);
    w.put(10, 0x3FF);
    w.put(8, 0);
    let err = efi(&w.finish(10), MIB).unwrap_err();
    assert!(err.to_string().contains("above 16"), "{err}");
}

/// EFI_SECTION_COMPRESSION sections in a real vendor image: common header (24-bit size, type
/// 0x01), u32 uncompressed length, u8 compression type 1, then the compressed data.
fn compression_sections(image: &[u8]) -> Vec<(usize, u32, &[u8])> {
    let mut found = Vec::new();
    for off in (0..image.len().saturating_sub(17)).step_by(4) {
        let size = u32::from_le_bytes([image[off], image[off + 1], image[off + 2], 0]) as usize;
        if image[off + 3] != 0x01 || size < 17 || off + size > image.len() {
            continue;
        }
        let uncompressed = u32::from_le_bytes(image[off + 4..off + 8].try_into().unwrap());
        let compressed = u32::from_le_bytes(image[off + 9..off + 13].try_into().unwrap());
        let original = u32::from_le_bytes(image[off + 13..off + 17].try_into().unwrap());
        if image[off + 8] == 1
            && uncompressed > 0
            && original == uncompressed
            && compressed as usize + 8 <= size - 9
        {
            found.push((off, uncompressed, &image[off + 9..off + size]));
        }
    }
    found
}

/// Walks the sections of a decompressed section body; returns (type, body) pairs.
fn sections(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 4 {
        let size = u32::from_le_bytes([data[0], data[1], data[2], 0]) as usize;
        assert!(
            size >= 4 && size <= data.len(),
            "section size {size:#x} does not fit"
        );
        out.push((data[3], &data[4..size]));
        let next = (size + 3) & !3;
        data = data.get(next..).unwrap_or(&[]);
    }
    out
}

#[test]
fn apollo_lake_fsp_compressed_sections() {
    let Some(dir) = tamperscan_testdata::data_dir() else {
        return;
    };
    let fw = dir.join("firmware");
    let image = std::fs::read(fw.join("uefi/intel-fsp-apollolake/Fsp.fd")).unwrap();
    let manifest = std::fs::read_to_string(
        fw.join("reference/manifests/uefi_intel-fsp-apollolake_Fsp.fd.manifest.json"),
    )
    .unwrap();

    let found = compression_sections(&image);
    // UEFIExtract counts 5 "Compressed" sections in this image.
    assert_eq!(
        found.len(),
        5,
        "{:x?}",
        found.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    let mut pe32 = Vec::new();
    let mut sizes = Vec::new();
    for (off, uncompressed, data) in found {
        let out = efi(data, 16 * MIB).unwrap_or_else(|e| panic!("section at {off:#x}: {e}"));
        assert_eq!(out.len(), uncompressed as usize, "section at {off:#x}");
        sizes.push(out.len());
        // The Tiano reading of the same bytes must not produce the same thing.
        assert!(tiano(data, 16 * MIB).map_or(true, |t| t != out));
        for (kind, body) in sections(&out) {
            // PE32, TE, DXE dependency, version, UI, raw, PEI dependency.
            assert!(
                [0x10, 0x12, 0x13, 0x14, 0x15, 0x19, 0x1B].contains(&kind),
                "section type {kind:#x} at {off:#x}"
            );
            if kind == 0x10 {
                assert_eq!(&body[..2], b"MZ");
                pe32.push(sha256_hex(body));
            }
        }
    }
    assert_eq!(sizes, vec![18310, 74342, 50084, 7626, 1502]);
    // Every PE32 image in the image's compressed sections, hashed as UEFIExtract hashed them.
    assert_eq!(pe32.len(), 5);
    for hash in &pe32 {
        assert!(
            manifest.contains(hash.as_str()),
            "PE32 sha256 {hash} not in the manifest"
        );
    }
}

#[test]
fn random_bit_streams_behind_a_valid_header_never_panic() {
    let mut rng = common::Xorshift32(0x5EED_0001);
    for round in 0..3000 {
        let len = (rng.next() % 300) as usize;
        let mut data = (len as u32).to_le_bytes().to_vec();
        data.extend_from_slice(&(rng.next() % 20_000).to_le_bytes());
        data.extend((0..len).map(|_| rng.next() as u8));
        for decode in [efi, tiano] {
            if let Ok(out) = decode(&data, MIB) {
                assert!(out.len() < 20_000, "round {round}");
            }
        }
    }
}
