//! The .xz container: xz-made vectors (checks, blocks, streams, padding), the refused filters and
//! checks, a 64 MiB bomb, and real xz files from the shared data set.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{every_truncation_errors, garbage_never_panics, sha256_hex, varied};
use tamperscan_decompress::{xz, Error};

const MIB: usize = 1 << 20;

#[test]
fn checks_and_blocks() {
    let big = varied(48 * 1024, 0x1234_5678);
    assert_eq!(
        xz(vector!("small.xz"), MIB).unwrap(),
        varied(3000, 0xC0FF_EE11)
    );
    // Six blocks of 8 KiB with CRC64 checks.
    assert_eq!(xz(vector!("varied-crc64-blocks.xz"), MIB).unwrap(), big);
    assert_eq!(xz(vector!("varied-nocheck.xz"), MIB).unwrap(), big);
}

#[test]
fn the_budget_is_checked_before_decoding() {
    let data = vector!("varied-crc64-blocks.xz");
    assert_eq!(xz(data, 48 * 1024).unwrap().len(), 48 * 1024);
    assert_eq!(
        xz(data, 48 * 1024 - 1),
        Err(Error::TooLarge {
            limit: 48 * 1024 - 1,
            declared: Some(48 * 1024)
        })
    );
}

#[test]
fn concatenated_streams_and_padding() {
    let small = varied(3000, 0xC0FF_EE11);
    let one = vector!("small.xz");
    let mut two = one.to_vec();
    two.extend_from_slice(&[0; 8]);
    two.extend_from_slice(one);
    two.extend_from_slice(&[0; 4]);
    assert_eq!(
        xz(&two, MIB).unwrap(),
        [small.clone(), small.clone()].concat()
    );
    // The budget spans the streams.
    assert_eq!(
        xz(&two, 5000),
        Err(Error::TooLarge {
            limit: 5000,
            declared: Some(6000)
        })
    );
    // Padding must come in fours, and nothing else may follow.
    let mut bad = one.to_vec();
    bad.extend_from_slice(&[0; 3]);
    assert!(matches!(xz(&bad, MIB), Err(Error::Corrupt { .. })));
    let mut bad = one.to_vec();
    bad.extend_from_slice(b"junk");
    assert!(matches!(xz(&bad, MIB), Err(Error::Corrupt { .. })));
}

#[test]
fn unsupported_filters_and_checks_are_refused() {
    let err = xz(vector!("small-x86.xz"), MIB).unwrap_err();
    assert!(err.to_string().contains("only LZMA2"), "{err}");
    let err = xz(vector!("small-sha256.xz"), MIB).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
}

#[test]
fn corrupted_data_is_caught_by_the_checks() {
    let data = vector!("small.xz");
    // Flip a bit in the stored CRC32 of the block (just before the index).
    let mut bad = data.to_vec();
    let at = data.len() - 12 - 12 - 4;
    bad[at] ^= 1;
    assert!(matches!(xz(&bad, MIB), Err(Error::Corrupt { .. })));
}

#[test]
fn a_64_mib_bomb_is_refused_from_its_chunk_headers() {
    let data = vector!("zeros-64m.xz");
    let start = Instant::now();
    assert_eq!(
        xz(data, MIB),
        Err(Error::TooLarge {
            limit: MIB,
            declared: Some(64 * MIB as u64)
        })
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn every_truncation_errors_and_garbage_never_panics() {
    every_truncation_errors(vector!("small.xz"), xz);
    garbage_never_panics(vector!("small.xz"), xz);
    garbage_never_panics(vector!("varied-crc64-blocks.xz"), xz);
}

#[test]
fn real_xz_files() {
    let Some(dir) = tamperscan_testdata::data_dir() else {
        return;
    };
    let fw = dir.join("firmware");
    // Expected sizes and hashes from `xz -dc | sha256sum`.
    let copyright = std::fs::read(fw.join("LICENSES/debian-u-boot_copyright.txt.xz")).unwrap();
    let out = xz(&copyright, 4 * MIB).unwrap();
    assert_eq!(out.len(), 906557);
    assert_eq!(
        sha256_hex(&out),
        "303b441e3c744e78b8fdbf7388a869de978cf88afbf683ae02cdbecdc7f9efb3"
    );

    let rootfs =
        std::fs::read(fw.join("bmc/aspeed-ast2600-evb-buildroot-2023.11/rootfs.cpio.xz")).unwrap();
    // One block with sizes in its header (dictionary 64 MiB); refused before decoding.
    assert_eq!(
        xz(&rootfs, MIB),
        Err(Error::TooLarge {
            limit: MIB,
            declared: Some(6395392)
        })
    );
    let out = xz(&rootfs, 8 * MIB).unwrap();
    assert_eq!(out.len(), 6395392);
    assert_eq!(
        sha256_hex(&out),
        "b6eeb07d6bf86fde987ce11207a1e984c2916738484e940256516476c82b9e6d"
    );
    assert_eq!(&out[..6], b"070701", "a newc cpio archive");
}
