//! The OCP Tioga Pass (C620 Lewisburg) flash descriptor against coreboot `ifdtool`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use tamperscan_flash::ifd::{self, IfdVersion};

fn data() -> Option<PathBuf> {
    Some(tamperscan_testdata::data_dir()?.join("firmware"))
}

/// `Flash Region N (Name): base - limit [(unused)]` lines of an `ifdtool -d` dump.
fn reference_regions(text: &str) -> Vec<(u8, String, u64, u64, bool)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("Flash Region ")?;
            let (index, rest) = rest.split_once(" (")?;
            let (name, rest) = rest.split_once("): ")?;
            let (base, rest) = rest.split_once(" - ")?;
            let limit = rest.split_whitespace().next()?;
            Some((
                index.parse().ok()?,
                name.to_string(),
                u64::from_str_radix(base, 16).ok()?,
                u64::from_str_radix(limit, 16).ok()?,
                !rest.contains("(unused)"),
            ))
        })
        .collect()
}

/// Per `FLMSTRn`: (n, raw, [(region index, read?, enabled)], requester id).
type MasterRef = (u8, u32, Vec<(u8, bool, bool)>, Option<u16>);

fn reference_masters(text: &str) -> Vec<MasterRef> {
    let region = |label: &str| match label {
        "Flash Descriptor" => Some(0),
        "Host CPU/BIOS Region" => Some(1),
        "Intel ME Region" => Some(2),
        "GbE Region" => Some(3),
        "Platform Data Region" => Some(4),
        "EC Region" => Some(8),
        _ => None,
    };
    let mut out: Vec<MasterRef> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("FLMSTR") {
            let (n, rest) = rest.split_once(':').unwrap();
            let raw = rest.split_whitespace().next().unwrap();
            let raw = u32::from_str_radix(raw.trim_start_matches("0x"), 16).unwrap();
            out.push((n.parse().unwrap(), raw, Vec::new(), None));
        } else if let Some(m) = out.last_mut() {
            if let Some((label, value)) = t.split_once(':') {
                let value = value.trim();
                if label == "Requester ID" {
                    m.3 = Some(u16::from_str_radix(value.trim_start_matches("0x"), 16).unwrap());
                }
                for (suffix, read) in [(" Write Access", false), (" Read Access", true)] {
                    if let Some(idx) = label.strip_suffix(suffix).and_then(region) {
                        m.2.push((idx, read, value == "enabled"));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn v1_decode_matches_every_region_and_access_bit_of_ifdtool() {
    let Some(fw) = data() else { return };
    let image = std::fs::read(fw.join("flash/ocp-tiogapass-ifd/descriptor.bin")).unwrap();
    let text = std::fs::read_to_string(
        fw.join("reference/flash_ocp-tiogapass-ifd_descriptor.bin.ifdtool.txt"),
    )
    .unwrap();
    assert_eq!(ifd::find(&image), Some(0));
    // coreboot-utils 4.15 `ifdtool -d` decodes as IFD v1 unless given `-p <platform>`.
    let d = ifd::parse_at(&image, 0, Some(IfdVersion::V1)).unwrap();
    assert_eq!(d.signature_offset, 0x10);
    assert!(
        text.contains(&format!("PCH Revision: {}", d.chipset)),
        "{}",
        d.chipset
    );
    assert_eq!(d.map.frba, 0x40);
    assert_eq!(d.map.fcba, 0x30);
    assert_eq!(d.map.fmba, 0x80);
    assert_eq!(d.map.fpsba, 0x100);
    assert_eq!(d.map.fmsba, 0x400);
    assert_eq!(d.map.flumap1, Some(0x0000_32df));
    assert_eq!(d.components.flcomp, 0x649c_00f6);
    assert_eq!(
        ifd::spi_frequency_name(d.components.read_clock, d.version),
        Some("17MHz")
    );
    // NC: 1 component; both density fields read 32MB in v1.
    assert_eq!(d.components.count, 1);
    assert!(d
        .components
        .densities
        .iter()
        .all(|c| c.bytes == Some(32 << 20)));
    assert_eq!(d.flash_size, Some(32 << 20));
    assert_eq!(d.pch_straps.len(), 0x8b);
    assert_eq!(d.pch_straps[4], 0x03ff_ffff);

    let expected = reference_regions(&text);
    assert_eq!(expected.len(), 5);
    assert_eq!(d.regions.len(), expected.len());
    for (index, name, base, limit, used) in expected {
        let r = &d.regions[usize::from(index)];
        assert_eq!((r.index, r.name), (index, name.as_str()));
        assert_eq!(
            (r.base, r.limit, r.used),
            (base, limit, used),
            "region {index}"
        );
    }

    let expected = reference_masters(&text);
    assert_eq!(expected.len(), 3);
    for (n, raw, bits, requester) in expected {
        let m = d.masters.iter().find(|m| m.index == n).unwrap();
        assert_eq!(m.raw, raw);
        assert_eq!(m.requester_id, requester);
        assert_eq!(bits.len(), 10, "FLMSTR{n}");
        for (region, read, enabled) in bits {
            let got = if read {
                m.can_read(region)
            } else {
                m.can_write(region)
            };
            assert_eq!(got, enabled, "FLMSTR{n} region {region} read={read}");
        }
    }

    // Read as v1, the BIOS region covers 0-0xFFFFFF and overlaps the descriptor, GbE and ME.
    let overlaps: Vec<&str> = d
        .issues
        .iter()
        .map(|i| i.message.as_str())
        .filter(|m| m.contains("overlaps"))
        .collect();
    assert_eq!(overlaps.len(), 3, "{overlaps:?}");
    assert!(overlaps.iter().all(|m| m.contains("(BIOS) 0x0-0xffffff")));
}

#[test]
fn guessed_version_is_v2_and_matches_ifdtool_with_the_lewisburg_platform() {
    let Some(fw) = data() else { return };
    let image = std::fs::read(fw.join("flash/ocp-tiogapass-ifd/descriptor.bin")).unwrap();
    let d = ifd::parse(&image).unwrap();
    assert_eq!(d.version, IfdVersion::V2);
    assert!(d.version_reason.contains("17 MHz"), "{}", d.version_reason);
    assert_eq!(d.chipset, "C620 series Lewisburg");
    assert_eq!(d.map.nm, 6);
    // Component 1 is 32MB, component 2 "UNUSED" (0xF), as `ifdtool -p lbg -d` prints.
    assert_eq!(d.flash_size, Some(32 << 20));
    assert!(d.components.densities[1].unused);

    // Regions as `ifdtool -p lbg -d` (coreboot-utils 4.15) prints them; that version stops at
    // region 8, the rest are the raw registers FLREG9..15 decoded with the same 15-bit masks.
    let used: Vec<(u8, &str, u64, u64)> = d
        .regions
        .iter()
        .filter(|r| r.used)
        .map(|r| (r.index, r.name, r.base, r.limit))
        .collect();
    assert_eq!(
        used,
        [
            (0, "Flash Descriptor", 0x0, 0xfff),
            (1, "BIOS", 0x0100_0000, 0x01ff_ffff),
            (2, "Intel ME", 0x3000, 0xa2_5fff),
            (3, "GbE", 0x1000, 0x2fff),
            (5, "Device Exp1", 0xa2_6000, 0xa3_5fff),
            (11, "10GbE_0", 0xa3_6000, 0xfe_ffff),
            (15, "PTT", 0xff_0000, 0xff_ffff),
        ]
    );
    assert_eq!(d.regions.len(), 16);
    assert_eq!((d.regions[4].base, d.regions[4].used), (0x7fff000, false));
    assert!(!d.regions[8].used);

    // Master access as `ifdtool -p lbg -d` prints it (regions 0 FD, 1 BIOS, 2 ME, 3 GbE,
    // 4 PD, 8 EC).
    let bits = |n: u8| {
        let m = d.masters.iter().find(|m| m.index == n).unwrap();
        let set = |f: &dyn Fn(u8) -> bool| [0u8, 1, 2, 3, 4, 8].map(f);
        (
            set(&|r| m.can_read(r)),
            set(&|r| m.can_write(r)),
            m.requester_id,
        )
    };
    let (t, f) = (true, false);
    assert_eq!(bits(1), ([t, t, f, t, t, f], [t, t, f, t, t, f], None));
    assert_eq!(bits(2), ([t, f, t, t, f, f], [f, f, t, t, f, f], None));
    assert_eq!(bits(3), ([f, f, f, t, f, f], [f, f, f, t, f, f], None));
    assert_eq!(bits(5), ([f, f, f, f, f, t], [f, f, f, f, f, t], None));
    assert_eq!(d.masters.len(), 6);
    assert!(d.issues.is_empty(), "{:?}", d.issues);
}

#[test]
fn every_truncation_of_the_real_descriptor_is_an_error_or_a_decode() {
    let Some(fw) = data() else { return };
    let image = std::fs::read(fw.join("flash/ocp-tiogapass-ifd/descriptor.bin")).unwrap();
    for len in 0..image.len() {
        match ifd::parse_at(&image[..len], 0, None) {
            Ok(d) => assert!(len >= 0x98, "decoded from {len} bytes: {d:?}"),
            Err(e) => assert!(e.offset <= len as u64),
        }
    }
}
