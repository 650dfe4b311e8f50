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
