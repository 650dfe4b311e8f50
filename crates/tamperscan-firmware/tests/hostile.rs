#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile images: truncations and bit flips of real ones, recursive nesting, decompression
//! budgets; and the section kinds the real data does not cover (Brotli), built by our writer.

use std::path::Path;
use tamperscan_firmware::{analyze, writer, Limits};

fn ovmf() -> Option<Vec<u8>> {
    let dir = tamperscan_testdata::data_dir()?;
    Some(std::fs::read(dir.join("firmware/uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd")).unwrap())
}

#[test]
fn truncated_images_never_panic_and_keep_what_precedes_the_cut() {
    let Some(bytes) = ovmf() else { return };
    let full = analyze(&bytes, Limits::default());
    for i in 0..64 {
        let cut = bytes.len() * i / 64 + (i * 7919) % 4096;
        let m = analyze(&bytes[..cut.min(bytes.len())], Limits::default());
        assert!(m.modules.len() <= full.modules.len() + 8, "cut at {cut}");
        if cut > 0x90 + 0x200000 {
            assert!(!m.modules.is_empty());
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let Some(bytes) = ovmf() else { return };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..40 {
        let mut b = bytes.clone();
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % b.len() as u64) as usize;
            b[at] ^= (x >> 32) as u8 | 1;
        }
        let _ = analyze(&b, Limits::default());
    }
}

#[test]
fn a_decompression_budget_stops_work_with_an_issue() {
    let Some(bytes) = ovmf() else { return };
    let m = analyze(
        &bytes,
        Limits {
            decompress_budget: 64 * 1024,
            ..Limits::default()
        },
    );
    assert!(
        m.issues
            .iter()
            .any(|i| i.kind == "decompress_failed" || i.kind == "decompress_budget"),
        "{:?}",
        m.issues
    );
    // What is not compressed is still there.
    assert!(!m.modules.is_empty());
}

#[test]
fn recursive_nesting_stops_at_the_depth_limit() {
    let g = |n: u32| -> tamperscan_bytes::Guid {
        format!("{n:08X}-0000-4000-8000-000000000000")
            .parse()
            .unwrap()
    };
    let mut inner = writer::volume(
        g(0),
        &[writer::ffs_file(g(1), 0x07, &writer::ui_section("Leaf"))],
        0x1000,
    )
    .unwrap();
    for level in 1..60u32 {
        let file = writer::ffs_file(g(level + 100), 0x0B, &writer::section(0x17, &inner));
        let size = (inner.len() + 0x200).div_ceil(0x1000) * 0x1000;
        inner = writer::volume(g(level), &[file], size).unwrap();
    }
    let m = analyze(&inner, Limits::default());
    assert!(
        m.issues.iter().any(|i| i.kind == "nesting_too_deep"),
        "{:?}",
        m.issues
    );
    assert!(m.volumes.len() <= 18, "{} volumes", m.volumes.len());
}

#[test]
fn brotli_sections_are_decoded_fully() {
    let guid: tamperscan_bytes::Guid = "11111111-2222-4333-8444-555555555555".parse().unwrap();
    let pe: Vec<u8> = b"MZ"
        .iter()
        .copied()
        .chain((0..100_000u32).map(|i| (i * 31 % 251) as u8))
        .collect();
    let inner = writer::sections(&[writer::section(0x10, &pe), writer::ui_section("BrotliDxe")]);
    let file = writer::ffs_file(guid, 0x07, &writer::brotli_section(&inner));
    let vol = writer::volume(guid, &[file], 0x40000).unwrap();
    let m = analyze(&vol, Limits::default());
    assert!(m.issues.is_empty(), "{:?}", m.issues);
    let md = m.modules.iter().find(|x| x.guid == Some(guid)).unwrap();
    assert_eq!(md.name.as_deref(), Some("BrotliDxe"));
    assert_eq!(md.sections, ["GUID defined (Brotli)", "PE32 image", "UI"]);
    assert_eq!(md.pe32_sha256.len(), 1);
    // A byte flipped inside the compressed stream changes the module's code hash, not its key.
    let mut bad = vol.clone();
    let at = vol
        .windows(4)
        .position(|w| w == [b'M', b'Z', 0, 31])
        .unwrap()
        + 5000;
    bad[at] ^= 0xFF;
    let d = tamperscan_firmware::diff::diff(&m, &analyze(&bad, Limits::default()));
    assert_eq!(d.changed.len(), 1);
    assert!(d.changed[0].differs.contains(&"code"));
}

#[test]
fn garbage_is_recognised_as_nothing_and_hashed_whole() {
    let bytes: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let m = analyze(&bytes, Limits::default());
    assert_eq!(m.image.format, "unknown");
    assert_eq!(m.modules.len(), 1);
    assert!(analyze(&[], Limits::default()).modules.is_empty());
    let _ = Path::new("");
}

#[test]
fn openbmc_update_tarballs_are_read_member_by_member() {
    let fit = writer::fit(
        "SYNTHETIC BMC",
        &[
            writer::FitPart {
                name: "kernel".into(),
                kind: "kernel".into(),
                data: vec![7u8; 5000],
            },
            writer::FitPart {
                name: "fdt".into(),
                kind: "flat_dt".into(),
                data: writer::fdt(&writer::Node::new("")),
            },
        ],
    );
    let manifest = b"purpose=xyz.openbmc_project.Software.Version.VersionPurpose.BMC\nversion=2.14.0-dev\nMachineName=demo\n";
    let tarball = writer::tar(&[
        ("MANIFEST", manifest),
        ("image-bmc", &fit),
        ("image-bmc.sig", b"sig"),
    ]);
    let m = analyze(&tarball, Limits::default());
    assert_eq!(m.image.format, "tar");
    let man = m
        .modules
        .iter()
        .find(|x| x.name.as_deref() == Some("MANIFEST demo"))
        .unwrap();
    assert_eq!(man.version.as_deref(), Some("2.14.0-dev"));
    assert!(m
        .modules
        .iter()
        .any(|x| x.name.as_deref() == Some("image-bmc.sig")));
    let kernel = m
        .modules
        .iter()
        .find(|x| x.name.as_deref() == Some("kernel"))
        .unwrap();
    assert_eq!(kernel.path, "tar/image-bmc/FIT");
    assert!(m.fit_hashes.iter().all(|h| h.ok) && m.fit_hashes.len() == 2);
    // A new release in the MANIFEST shows as a version change of that module.
    let newer_manifest = String::from_utf8_lossy(manifest).replace("2.14.0", "2.15.0");
    let newer = writer::tar(&[
        ("MANIFEST", newer_manifest.as_bytes()),
        ("image-bmc", &fit),
        ("image-bmc.sig", b"sig"),
    ]);
    let d = tamperscan_firmware::diff::diff(&m, &analyze(&newer, Limits::default()));
    assert_eq!(d.changed.len(), 1, "{d:?}");
    assert!(d.changed[0].differs.contains(&"version"));
}

#[test]
fn crc32_sections_are_checked() {
    let guid: tamperscan_bytes::Guid = "22222222-3333-4444-8555-666666666666".parse().unwrap();
    let inner = writer::sections(&[
        writer::section(0x19, b"payload bytes"),
        writer::ui_section("Crc"),
    ]);
    let mut payload = crc32_of(&inner).to_le_bytes().to_vec();
    payload.extend_from_slice(&inner);
    // The CRC sits between the GUID-defined header and the data: data offset 28.
    let mut body = guid_crc_header();
    body.extend_from_slice(&payload);
    let file = writer::ffs_file(guid, 0x07, &writer::section(0x02, &body));
    let vol = writer::volume(guid, &[file], 0x2000).unwrap();
    let m = analyze(&vol, Limits::default());
    let md = m.modules.iter().find(|x| x.guid == Some(guid)).unwrap();
    assert_eq!(md.name.as_deref(), Some("Crc"));
    assert!(md.checksum_ok && m.issues.is_empty(), "{:?}", m.issues);
    let mut bad = vol.clone();
    let at = vol.windows(7).position(|w| w == b"payload").unwrap();
    bad[at] ^= 1;
    let m = analyze(&bad, Limits::default());
    assert!(
        m.issues.iter().any(|i| i.kind == "crc32_mismatch"),
        "{:?}",
        m.issues
    );
}

fn guid_crc_header() -> Vec<u8> {
    let mut b = tamperscan_firmware::uefi::CRC32.0.to_vec();
    b.extend_from_slice(&28u16.to_le_bytes());
    b.extend_from_slice(&0x0001u16.to_le_bytes());
    b
}

fn crc32_of(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn thousands_of_nested_sections_stop_at_the_depth_limit_without_overflowing_the_stack() {
    // Uncompressed "compression" sections nested 5,000 deep inside one FFS file.
    let mut inner = writer::ui_section("Deep");
    for _ in 0..5000 {
        let mut body = (inner.len() as u32).to_le_bytes().to_vec();
        body.push(0); // not compressed
        body.extend_from_slice(&inner);
        inner = writer::section(0x01, &body);
    }
    let guid: tamperscan_bytes::Guid = "33333333-4444-4555-8666-777777777777".parse().unwrap();
    let file = writer::ffs_file(guid, 0x07, &inner);
    let vol = writer::volume(guid, &[file], 0x40000).unwrap();
    let m = analyze(&vol, Limits::default());
    assert!(
        m.issues.iter().any(|i| i.kind == "nesting_too_deep"),
        "{:?}",
        m.issues
    );
    assert!(m.modules.iter().any(|x| x.guid == Some(guid)));
}

#[test]
fn a_second_archive_member_of_the_same_name_is_not_hidden() {
    let a = writer::tar(&[("image-rofs", b"genuine rootfs")]);
    let mut b = writer::tar(&[
        ("image-rofs", b"genuine rootfs"),
        ("image-rofs", b"replacement!!"),
    ]);
    // Make the second member a "contiguous file" (typeflag 7), which extractors write too.
    let second = 512 * 2;
    b[second + 156] = b'7';
    let sum: u32 = b[second..second + 512]
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(x)
            }
        })
        .sum();
    b[second + 148..second + 156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let (ma, mb) = (
        analyze(&a, Limits::default()),
        analyze(&b, Limits::default()),
    );
    assert!(
        mb.issues.iter().any(|i| i.kind == "duplicate_member"),
        "{:?}",
        mb.issues
    );
    let d = tamperscan_firmware::diff::diff(&ma, &mb);
    assert!(d.has_differences());
    assert_eq!(d.added.len(), 1, "{d:?}");
}
