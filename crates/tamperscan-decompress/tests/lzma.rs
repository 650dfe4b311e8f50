//! LZMA "alone" and LzmaF86: EDK2-made vectors, hostile input, a 64 MiB bomb, and the LZMA
//! GUIDed sections of patina's LZMATEST.Fv and Debian's OVMF.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{
    every_truncation_errors, garbage_never_panics, sha256_hex, truncations_error, varied, x86ish,
};
use tamperscan_decompress::{lzma, lzma_x86, Error};

const MIB: usize = 1 << 20;

#[test]
fn edk2_lzma_compress_output_decodes() {
    let data = vector!("varied.lzma");
    // EDK2's LzmaCompress: lc=3 lp=0 pb=2, and the size written in the header.
    assert_eq!(data[0], 0x5D);
    assert_eq!(
        u64::from_le_bytes(data[5..13].try_into().unwrap()),
        48 * 1024
    );
    assert_eq!(lzma(data, MIB).unwrap(), varied(48 * 1024, 0x1234_5678));
}

#[test]
fn unknown_size_with_end_marker_decodes() {
    let data = vector!("small.lzma");
    assert_eq!(&data[5..13], &[0xFF; 8]);
    assert_eq!(lzma(data, MIB).unwrap(), varied(3000, 0xC0FF_EE11));
    // The budget applies while decoding, since nothing is declared.
    assert_eq!(
        lzma(data, 2999),
        Err(Error::TooLarge {
            limit: 2999,
            declared: None
        })
    );
    assert_eq!(lzma(data, 3000).unwrap().len(), 3000);
}

#[test]
fn declared_size_above_the_limit_is_refused_before_decoding() {
    assert_eq!(
        lzma(vector!("varied.lzma"), 1000),
        Err(Error::TooLarge {
            limit: 1000,
            declared: Some(48 * 1024)
        })
    );
    let mut absurd = vector!("varied.lzma").to_vec();
    absurd[5..13].copy_from_slice(&(u64::MAX - 1).to_le_bytes());
    assert!(lzma(&absurd, MIB).unwrap_err().is_too_large());
}

#[test]
fn lzma_f86_applies_the_x86_filter() {
    let data = vector!("x86ish.lzmaf86");
    let code = x86ish(12 * 1024);
    let plain = lzma(data, MIB).unwrap();
    assert!(plain != code, "the vector holds filtered bytes");
    assert!(lzma_x86(data, MIB).unwrap() == code);
}

#[test]
fn a_64_mib_bomb_stops_at_the_budget() {
    // 64 MiB of zeros in 9.5 KB, size unknown (end marker), dictionary 64 MiB.
    let data = vector!("zeros-64m.lzma");
    let start = Instant::now();
    assert_eq!(
        lzma(data, MIB),
        Err(Error::TooLarge {
            limit: MIB,
            declared: None
        })
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn every_truncation_fails() {
    // Declared size, and unknown size with an end marker that a prefix cannot reach.
    every_truncation_errors(vector!("small.lzma"), lzma);
    truncations_error(vector!("varied.lzma"), lzma, 101);
    truncations_error(vector!("x86ish.lzmaf86"), lzma_x86, 101);
}

#[test]
fn garbage_and_bit_flips_never_panic() {
    garbage_never_panics(vector!("small.lzma"), lzma);
    garbage_never_panics(vector!("varied.lzma"), lzma_x86);
}

#[test]
fn bad_properties_byte_is_corrupt() {
    let mut data = vector!("varied.lzma").to_vec();
    data[0] = 225;
    assert!(matches!(
        lzma(&data, MIB),
        Err(Error::Corrupt { offset: 0, .. })
    ));
}

/// The body of the first LZMA GUIDed section (EE4E5898-3914-4259-9D6E-DC7BD79403CF): common
/// header (24-bit size, type 0x02), GUID, u16 data offset, u16 attributes.
fn lzma_section(image: &[u8]) -> &[u8] {
    const GUID: [u8; 16] = [
        0x98, 0x58, 0x4E, 0xEE, 0x14, 0x39, 0x59, 0x42, 0x9D, 0x6E, 0xDC, 0x7B, 0xD7, 0x94, 0x03,
        0xCF,
    ];
    let at = image.windows(16).position(|w| w == GUID).unwrap() - 4;
    let size = u32::from_le_bytes([image[at], image[at + 1], image[at + 2], 0]) as usize;
    assert_eq!(image[at + 3], 0x02, "EFI_SECTION_GUID_DEFINED");
    let data_offset = u16::from_le_bytes([image[at + 20], image[at + 21]]) as usize;
    &image[at + data_offset..at + size]
}

#[test]
fn patina_lzmatest_section() {
    let Some(dir) = tamperscan_testdata::data_dir() else {
        return;
    };
    let image = std::fs::read(dir.join("firmware/uefi/patina-testfv/LZMATEST.Fv")).unwrap();
    let out = lzma(lzma_section(&image), MIB).unwrap();
    // patina's expected values: a RAW section of 0xBCC2 data bytes, then UI "Logo".
    assert_eq!(&out[..4], &[0xC6, 0xBC, 0x00, 0x19]);
    let ui = &out[0xBCC8..];
    assert_eq!(ui[3], 0x15);
    let name: Vec<u16> = ui[4..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(String::from_utf16_lossy(&name), "Logo\0");
    // Python's lzma (liblzma) gives the same bytes.
    assert_eq!(
        sha256_hex(&out),
        "da2fbcf61dad01eb8da30c1d6daff828db9eaa0227480d785c63060d5e9e47c3"
    );
}

#[test]
fn ovmf_code_main_firmware_volume_section() {
    let Some(dir) = tamperscan_testdata::data_dir() else {
        return;
    };
    let image =
        std::fs::read(dir.join("firmware/uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd")).unwrap();
    let section = lzma_section(&image);
    // 16 MiB dictionary, 13500560 bytes declared.
    assert!(lzma(section, 13_500_559).unwrap_err().is_too_large());
    let out = lzma(section, 16 * MIB).unwrap();
    assert_eq!(out.len(), 13_500_560);
    // A RAW section, then the first firmware-volume image section with its _FVH signature.
    assert_eq!(&out[..4], &[0x7C, 0x00, 0x00, 0x19]);
    assert_eq!(out[0x7C + 3], 0x17);
    assert_eq!(&out[0x80 + 0x28..0x80 + 0x2C], b"_FVH");
    // Python's lzma (liblzma) gives the same bytes.
    assert_eq!(
        sha256_hex(&out),
        "fe1a71f3dd92cf4e3250b05baf52eb2352893b64c7dd80bc9abee04cf39e0002"
    );
}
