//! Small fixtures made with `dtc` and `mkimage` (see tests/data/README.md): every field checked
//! against `dumpimage -l`, `fdtdump` and `sha256sum`, then the same bytes damaged in every way
//! we can think of without a panic.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::fs;
use std::path::Path;

use tamperscan_bmc::fit::DataLocation;
use tamperscan_bmc::uboot::{Arch, Compression, ImageType, Os};
use tamperscan_bmc::{fdt, fit, openbmc, partitions, scan, uboot, FitIssue, FoundKind};
use tamperscan_bytes::hex;

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

const KERNEL_SHA256: &str = "0c8d2b305e155fb7fd42fbe838c87df3cca0e6d4c297c4ffdb20bd8c9bb1e166";
const RAMDISK_SHA256: &str = "6958faf29e1cb4918796758c58f5829063d04fac3c87b420a399344339e1fcc8";
const DTB_SHA256: &str = "ef8c2662151bfb933245995db73257ba904c0a4ffe636a41709666300acb41c6";
const FIXTURES: [&str; 7] = [
    "test.dtb",
    "small.itb",
    "small-external.itb",
    "small-position.itb",
    "signed.itb",
    "legacy.uimg",
    "multi.uimg",
];

/// Every parse entry point; none may panic.
fn all_entry_points(bytes: &[u8]) {
    if let Ok(tree) = fdt::parse(bytes) {
        let _ = partitions(&tree);
        let _ = tree.nodes();
    }
    let _ = fit::parse(bytes);
    let _ = uboot::parse(bytes);
    let _ = openbmc::parse(bytes);
    let _ = scan::scan_report(bytes);
}

#[test]
fn test_dtb_matches_fdtdump() {
    let bytes = fixture("test.dtb");
    let tree = fdt::parse(&bytes).unwrap();
    assert_eq!((tree.node_count(), tree.property_count()), (9, 22));
    assert_eq!(tree.reservations.len(), 1);
    assert_eq!(tree.reservations[0].address, 0x9f00_0000);
    assert_eq!(tree.reservations[0].size, 0x0100_0000);
    assert_eq!(tree.root.prop_str("model"), Some("tamperscan test board"));
    let parts = partitions(&tree);
    let summary: Vec<(&str, u64, u64, bool)> = parts
        .iter()
        .map(|p| (p.label.as_str(), p.offset, p.size, p.read_only))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("u-boot", 0, 0xe0000, true),
            ("u-boot-env", 0xe0000, 0x20000, false),
            ("kernel", 0x100000, 0x900000, false),
            ("rofs", 0xa00000, 0x2000000, false),
            // No label: the node name stands in.
            ("rwfs", 0x2a00000, 0x1600000, false),
        ]
    );
    assert_eq!(
        parts[4].path,
        "/spi@1e620000/flash@0/partitions/rwfs@2a00000"
    );
}

/// Checks the three images of small.its whatever the data layout.
fn check_small_fit(bytes: &[u8], location: fn(&str) -> DataLocation) {
    let fit = fit::parse(bytes).unwrap();
    assert_eq!(fit.description.as_deref(), Some("tamperscan test FIT"));
    assert_eq!(fit.issues, vec![], "{:?}", fit.issues);
    assert!(fit.all_hashes_ok());
    let names: Vec<&str> = fit.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["kernel-1", "ramdisk-1", "fdt-1"]);

    let kernel = fit.image("kernel-1").unwrap();
    assert_eq!(kernel.location, location("kernel-1"));
    assert_eq!(kernel.size, Some(620));
    assert_eq!(hex(&kernel.sha256.unwrap()), KERNEL_SHA256);
    assert_eq!(kernel.kind.as_deref(), Some("kernel"));
    assert_eq!(kernel.arch.as_deref(), Some("arm"));
    assert_eq!(kernel.os.as_deref(), Some("linux"));
    assert_eq!(kernel.compression.as_deref(), Some("none"));
    assert_eq!(
        (kernel.load, kernel.entry),
        (Some(0x8000_8000), Some(0x8000_8000))
    );
    let hashes: Vec<(&str, String)> = kernel
        .hashes
        .iter()
        .map(|h| (h.algo.as_str(), hex(h.actual.as_ref().unwrap())))
        .collect();
    assert_eq!(
        hashes,
        vec![
            ("sha256", KERNEL_SHA256.to_string()),
            ("crc32", "39b6c560".to_string()),
            (
                "sha1",
                "530f75db92010f04f3fe3c0809faa75ba40dba4f".to_string()
            ),
            ("md5", "75e84cd28299fe4d876724489f8cfdbb".to_string()),
        ]
    );

    let ramdisk = fit.image("ramdisk-1").unwrap();
    assert_eq!(ramdisk.location, location("ramdisk-1"));
    assert_eq!(hex(&ramdisk.sha256.unwrap()), RAMDISK_SHA256);
    assert_eq!(ramdisk.hashes[0].algo, "sha512");
    assert_eq!(
        hex(&ramdisk.hashes[0].expected),
        "7d256236a27f87f9fd20613ca2778576ca549adf4f70fb5334785b085af8dd774439b0215cd031eee0e5f8db2f2f0bcd75d0b743bdad4c14235853633d7f16d3"
    );
    assert_eq!(ramdisk.hashes[1].algo, "sha384");
    assert_eq!(
        hex(&ramdisk.hashes[1].expected),
        "c269d415f8d4d9635633b9a8c3d0b45cdba10d8d94fed11eb77cc56ef9be8a7b82bcc3a72bc4d08eb8edd07b1d9d88b3"
    );

    let dtb = fit.image("fdt-1").unwrap();
    assert_eq!(hex(&dtb.sha256.unwrap()), DTB_SHA256);
    let range = dtb.data_range.clone().unwrap();
    let inner = fdt::parse_at(bytes, range.start as usize).unwrap();
    assert_eq!(inner.total_size(), range.end - range.start);
    assert_eq!(inner.node_count(), 9);

    assert_eq!(fit.default_config.as_deref(), Some("conf-1"));
    let conf = fit.default_configuration().unwrap();
    assert_eq!(
        conf.references(),
        vec![
            ("kernel", "kernel-1"),
            ("fdt", "fdt-1"),
            ("ramdisk", "ramdisk-1")
        ]
    );
    assert_eq!(fit.end(), bytes.len() as u64);
}

#[test]
fn small_fits_in_all_three_layouts() {
    check_small_fit(&fixture("small.itb"), |_| DataLocation::Embedded);
    check_small_fit(&fixture("small-external.itb"), |name| {
        DataLocation::External {
            data_offset: match name {
                "kernel-1" => 0,
                _ => 620,
            },
        }
    });
    check_small_fit(&fixture("small-position.itb"), |name| {
        DataLocation::Position {
            data_position: match name {
                "kernel-1" => 0x1000,
                _ => 0x1000 + 620,
            },
        }
    });
}

#[test]
fn signatures_are_reported_and_not_verified() {
    let bytes = fixture("signed.itb");
    let fit = fit::parse(&bytes).unwrap();
    assert!(fit.all_hashes_ok());
    let sig = &fit.configurations[0].signatures[0];
    assert_eq!(sig.path, "/configurations/conf-1/signature-1");
    assert_eq!(sig.algo.as_deref(), Some("sha256,rsa2048"));
    assert_eq!(sig.key_name_hint.as_deref(), Some("dev"));
    assert_eq!(sig.signed, vec!["kernel", "fdt", "ramdisk"]);
    assert_eq!(sig.value_len, 256);
    assert_eq!(
        fit.issues,
        vec![FitIssue::SignatureNotVerified {
            path: "/configurations/conf-1/signature-1".into()
        }]
    );
}

#[test]
fn a_flipped_byte_in_each_sub_image_is_a_mismatch_naming_image_and_algo() {
    for file in ["small.itb", "small-external.itb", "small-position.itb"] {
        let clean = fixture(file);
        let fit = fit::parse(&clean).unwrap();
        for image in &fit.images {
            let mut bytes = clean.clone();
            let at = image.data_range.as_ref().unwrap().start as usize + 10;
            bytes[at] ^= 0x01;
            let damaged = fit::parse(&bytes).unwrap();
            let mismatches: Vec<(String, String)> = damaged
                .issues
                .iter()
                .map(|i| match i {
                    FitIssue::HashMismatch { image, algo, .. } => (image.clone(), algo.clone()),
                    other => panic!("{file}: unexpected {other:?}"),
                })
                .collect();
            let want: Vec<(String, String)> = image
                .hashes
                .iter()
                .map(|h| (image.name.clone(), h.algo.clone()))
                .collect();
            assert_eq!(mismatches, want, "{file} {}", image.name);
            let got = damaged.image(&image.name).unwrap();
            assert!(got.hashes.iter().all(|h| !h.ok));
            assert_ne!(got.sha256, image.sha256);
        }
    }
}

#[test]
fn absurd_data_size_is_reported_not_fatal() {
    let mut bytes = fixture("small-external.itb");
    let fit = fit::parse(&bytes).unwrap();
    let tree = fdt::parse(&bytes).unwrap();
    let size = tree
        .find("/images/ramdisk-1")
        .unwrap()
        .property("data-size")
        .unwrap()
        .offset;
    bytes[size as usize..size as usize + 4].copy_from_slice(&[0xff; 4]);
    let damaged = fit::parse(&bytes).unwrap();
    let ramdisk = damaged.image("ramdisk-1").unwrap();
    assert_eq!(ramdisk.data_range, None);
    assert_eq!(ramdisk.sha256, None);
    assert!(damaged.issues.iter().any(|i| matches!(
        i,
        FitIssue::DataOutsideInput { image, end, .. } if image == "ramdisk-1" && *end > 0xffff_ffff
    )));
    assert!(damaged.issues.iter().any(|i| matches!(
        i,
        FitIssue::HashNotChecked { image, .. } if image == "ramdisk-1"
    )));
    assert_eq!(damaged.image("kernel-1"), fit.image("kernel-1"));
}

#[test]
fn legacy_kernel_matches_dumpimage() {
    let bytes = fixture("legacy.uimg");
    let img = uboot::parse(&bytes).unwrap();
    assert!(img.is_intact());
    assert_eq!(img.name, "tamperscan test kernel");
    assert_eq!((img.os, img.arch), (Os::LINUX, Arch::ARM));
    assert_eq!(
        (img.image_type, img.compression),
        (ImageType::KERNEL, Compression::NONE)
    );
    assert_eq!((img.load, img.entry), (0x8000_8000, 0x8000_8000));
    assert_eq!(img.data_size, 620);
    assert_eq!(img.data_crc, 0x39b6_c560);
    assert_eq!(img.header_crc, 0xd98c_42e1);
    assert_eq!(img.timestamp, 0x6b01_528f);
    assert_eq!(img.data_range, Some(64..684));
    assert!(img.parts.is_empty());

    let mut bad = bytes.clone();
    bad[100] ^= 0x80;
    let img = uboot::parse(&bad).unwrap();
    assert_eq!((img.header_crc_ok, img.data_crc_ok), (true, Some(false)));
    let mut bad = bytes;
    bad[31] = 2; // ih_comp bzip2, so the header CRC no longer matches.
    let img = uboot::parse(&bad).unwrap();
    assert!(!img.header_crc_ok);
    assert_eq!(img.compression, Compression::BZIP2);
}

#[test]
fn legacy_multi_lists_its_parts() {
    let bytes = fixture("multi.uimg");
    let img = uboot::parse(&bytes).unwrap();
    assert!(img.is_intact());
    assert_eq!(img.image_type, ImageType::MULTI);
    let sizes: Vec<u64> = img.parts.iter().map(|r| r.end - r.start).collect();
    assert_eq!(sizes, vec![620, 220, 792]);
    let dtb = &img.parts[2];
    let part = &bytes[dtb.start as usize..dtb.end as usize];
    assert_eq!(part, fixture("test.dtb").as_slice());
    assert_eq!(fdt::parse(part).unwrap().node_count(), 9);
}

#[test]
fn scan_finds_fixtures_placed_in_a_flash_image() {
    let mut flash = vec![0xffu8; 0x1000];
    let legacy = fixture("legacy.uimg");
    flash.extend_from_slice(&legacy);
    flash.resize(0x2000, 0xff);
    let fit = fixture("small-external.itb");
    flash.extend_from_slice(&fit);
    flash.resize(0x4000, 0xff);
    let found = scan::scan(&flash);
    let summary: Vec<(u64, FoundKind, u64, Option<u64>)> = found
        .iter()
        .map(|f| (f.offset, f.kind, f.len, f.within))
        .collect();
    // The dtb inside the FIT (external data at 1476 rounded + 620 + 220) is found within it.
    let tree = fdt::parse(&fit).unwrap();
    let dtb_at = 0x2000 + tree.total_size().next_multiple_of(4) + 840;
    assert_eq!(
        summary,
        vec![
            (0x1000, FoundKind::UbootLegacy, legacy.len() as u64, None),
            (0x2000, FoundKind::Fit, fit.len() as u64, None),
            (dtb_at, FoundKind::Fdt, 792, Some(0x2000)),
        ]
    );
}

#[test]
fn every_truncation_of_every_fixture_is_handled() {
    for name in FIXTURES {
        let bytes = fixture(name);
        for len in 0..bytes.len() {
            all_entry_points(&bytes[..len]);
        }
        // The tree itself fails to parse when cut anywhere inside it.
        if let Ok(tree) = fdt::parse(&bytes) {
            for len in 0..tree.total_size() as usize {
                assert!(fdt::parse(&bytes[..len]).is_err(), "{name} cut at {len}");
            }
        }
    }
}

#[test]
fn every_single_byte_corruption_is_handled() {
    for name in ["small-external.itb", "signed.itb", "multi.uimg", "test.dtb"] {
        let clean = fixture(name);
        for at in 0..clean.len() {
            for value in [0xff, clean[at] ^ 0x80] {
                let mut bytes = clean.clone();
                bytes[at] = value;
                all_entry_points(&bytes);
            }
        }
    }
}

#[test]
fn random_garbage_is_handled() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let len = (next() % 4096) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half the time start with a real magic so the parsers get past the first check.
        if round % 2 == 0 && bytes.len() >= 4 {
            let magic: u32 = if round % 4 == 0 {
                0xd00d_feed
            } else {
                0x2705_1956
            };
            bytes[..4].copy_from_slice(&magic.to_be_bytes());
        }
        all_entry_points(&bytes);
    }
}

#[test]
fn absurd_header_lengths_are_errors() {
    let mut bytes = fixture("small.itb");
    bytes[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = fdt::parse(&bytes).unwrap_err();
    assert_eq!(err.offset, 0);
    assert!(err.to_string().contains("totalsize"), "{err}");

    let mut bytes = fixture("legacy.uimg");
    bytes[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
    let img = uboot::parse(&bytes).unwrap();
    assert_eq!(img.data_range, None);
    assert_eq!(img.data_crc_ok, None);
    assert!(!img.header_crc_ok);
}
