//! The Intel Purley (SPS Ignition) ME region's partition table.
//!
//! The UEFIExtract report beside this file does not list ME partitions (it sees the region as a
//! plain "UEFI image"); the expected table comes from the PyPI `uefi-firmware` 1.16 package
//! (`uefi_firmware.me.PartitionEntry` over the table only, contents not parsed), and the
//! partition hashes from Python's `hashlib.sha256` over those offset/length ranges.
#![allow(clippy::unwrap_used)]

use tamperscan_bytes::hex;
use tamperscan_flash::fpt::{self, HeaderChecksum};

const EXPECTED: [(&str, u32, u32, u32); 10] = [
    ("FTPR", 0x31000, 0x40000, 0x0),
    ("FTUP", 0x0, 0x0, 0xff00_0000),
    ("DLMP", 0x9000, 0x28000, 0x0),
    ("MFS", 0x4000, 0x2000, 0x1),
    ("ROMB", 0x1000, 0x0, 0x1),
    ("FPTB", 0x1000, 0x1000, 0x1),
    ("MFSB", 0x2000, 0x2000, 0x1),
    ("FLOG", 0x6000, 0x1000, 0x1),
    ("UTOK", 0x7000, 0x2000, 0x1),
    ("FCP", 0x71000, 0x2000, 0x1),
];

fn region() -> Option<Vec<u8>> {
    let dir = tamperscan_testdata::data_dir()?;
    Some(std::fs::read(dir.join("firmware/flash/intel-purley-me-ignition/MeRegion.bin")).unwrap())
}

#[test]
fn lists_every_partition_of_the_purley_me_region() {
    let Some(region) = region() else { return };
    assert_eq!(region.len(), 471_040);
    assert_eq!(fpt::find(&region), Some(0));
    let t = fpt::parse(&region).unwrap();
    assert_eq!(t.marker_offset, 0x10);
    assert!(t.rom_bypass.is_some());
    assert_eq!(t.entry_count, 10);
    assert_eq!(
        (t.header_version, t.entry_version, t.header_length),
        (0x20, 0x10, 0x20)
    );
    assert_eq!(
        t.checksum,
        HeaderChecksum::Sum8 {
            stored: 0x9c,
            valid: true
        }
    );
    let got: Vec<(&str, u32, u32, u32)> = t
        .partitions
        .iter()
        .map(|p| (p.name.as_str(), p.offset, p.length, p.flags))
        .collect();
    assert_eq!(got, EXPECTED);
    assert!(t.partitions.iter().all(|p| p.inside_region));
    assert!(!t.partitions[1].valid, "FTUP is marked not valid");
    assert_eq!(t.partition("FTPR").unwrap().kind_name(), "code");
    assert_eq!(t.partition("MFS").unwrap().kind_name(), "data");
    let sha = |name: &str| hex(&t.partition(name).unwrap().sha256.unwrap());
    assert_eq!(
        sha("FTPR"),
        "5ca64d83e296b9c3f4c7f25d71c7f0fd291c572adc566a8a129e49abaa9492fa"
    );
    assert_eq!(
        sha("FCP"),
        "51eb4356a2d5af38b49cc21786444ed35403264505d5ed5c83b470b8a333f426"
    );
    assert_eq!(
        sha("MFS"),
        "7d2c7ac4888bfd75cd5f56e8d61f69595121183afc81556c876732fd3782c62f"
    );
    assert!(t.partition("ROMB").unwrap().sha256.is_none(), "empty");
    assert!(t.issues.is_empty(), "{:?}", t.issues);
}

#[test]
fn the_table_found_inside_a_larger_image_keeps_absolute_offsets() {
    let Some(region) = region() else { return };
    let mut image = vec![0xffu8; 0x3000];
    image.extend_from_slice(&region);
    let start = fpt::find(&image).unwrap();
    assert_eq!(start, 0x3000);
    let t = fpt::parse_with_base(&image[start..], start as u64).unwrap();
    assert_eq!(t.marker_offset, 0x3010);
    assert_eq!(t.partitions[0].entry_offset, 0x3030);
}

#[test]
fn truncated_or_shrunk_regions_are_reported() {
    let Some(region) = region() else { return };
    for len in 0..0x200 {
        match fpt::parse(&region[..len]) {
            Ok(t) => assert!(len >= 0x30 + 10 * 32, "{len}: {t:?}"),
            Err(e) => assert!(e.offset <= len as u64),
        }
    }
    // The region cut before FCP: FCP lies outside it.
    let t = fpt::parse(&region[..0x71000]).unwrap();
    let fcp = t.partition("FCP").unwrap();
    assert!(!fcp.inside_region && fcp.sha256.is_none());
    assert_eq!(t.issues.len(), 1);
    assert!(t.issues[0].message.contains("FCP"), "{}", t.issues[0]);
}
