#![allow(clippy::unwrap_used)]
//! Hostile inputs: truncations, flipped bytes, garbage, absurd lengths, unterminated strings,
//! huge tables and texts. Every one must give a result or an error with its place, never a
//! panic, a hang or unbounded memory.

use tamperscan_smbios::{
    parse_binary, parse_dmidecode_text, parse_entry_point, parse_table, to_components, Error,
    Inventory, Record, MAX_STRUCTURES, MAX_TEXT_LINE, MAX_TEXT_RECORDS,
};

/// One SMBIOS structure: header (type, length, handle), formatted body, string set.
fn structure(ty: u8, handle: u16, body: &[u8], strings: &[&str]) -> Vec<u8> {
    let mut out = vec![ty, u8::try_from(4 + body.len()).unwrap()];
    out.extend_from_slice(&handle.to_le_bytes());
    out.extend_from_slice(body);
    if strings.is_empty() {
        out.push(0);
    }
    for s in strings {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out.push(0);
    out
}

/// A type 2 baseboard naming strings 1..=4 and a type 127 end.
fn small_table() -> Vec<u8> {
    let mut t = structure(
        2,
        0x0002,
        &[1, 2, 3, 4],
        &["Supermicro", "X11DPH-T", "1.02", "ZM19AS026837"],
    );
    t.extend(structure(127, 0x7f00, &[], &[]));
    t
}

/// A `dmidecode --dump-bin` style file: `_SM3_` entry point, table at 0x20.
fn dump_bin(table: &[u8]) -> Vec<u8> {
    let mut ep = b"_SM3_".to_vec();
    ep.extend_from_slice(&[0, 0x18, 3, 2, 0, 1, 0]);
    ep.extend_from_slice(&u32::try_from(table.len()).unwrap().to_le_bytes());
    ep.extend_from_slice(&0x20u64.to_le_bytes());
    let sum = ep.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    ep[5] = 0u8.wrapping_sub(sum);
    ep.resize(0x20, 0);
    ep.extend_from_slice(table);
    ep
}

fn real(name: &str) -> Option<Vec<u8>> {
    let dir = tamperscan_testdata::data_dir()?.join("inventory/smbios-bin");
    Some(std::fs::read(dir.join(name)).unwrap())
}

#[test]
fn built_table_decodes() {
    let file = dump_bin(&small_table());
    let s = parse_binary(&file).unwrap();
    assert!(s.issues.is_empty(), "{:?}", s.issues);
    assert_eq!(s.structures.len(), 2);
    let ids = s.identifiers();
    assert_eq!(ids.board_serial.as_deref(), Some("ZM19AS026837"));
    let c = &s.components()[0];
    assert_eq!(c.model.as_deref(), Some("X11DPH-T"));
    assert_eq!(c.revision.as_deref(), Some("1.02"));
    assert_eq!(c.source_ref, "type 2 handle 0x0002");
}

#[test]
fn every_truncation_of_real_tables() {
    let mut files = vec![("built", dump_bin(&small_table()))];
    for name in [
        "u-root/SuperMicro-X9DBL.bin",
        "u-root/GigaByte-X399.bin",
        "u-root/MSI-MS-7816.bin",
        "u-root/Lenovo-ThinkPad-T480.bin",
        "smbios-lib/jeffgerlap_3_2_0.dat",
    ] {
        if let Some(b) = real(name) {
            files.push((name, b));
        }
    }
    for (name, bytes) in &files {
        let full = parse_binary(bytes).unwrap().structures.len();
        let (mut ok, mut err) = (0, 0);
        for cut in 0..bytes.len() {
            match parse_binary(&bytes[..cut]) {
                Ok(s) => {
                    ok += 1;
                    assert!(s.structures.len() <= full, "{name} cut at {cut}");
                    // A cut table always says so, unless the cut fell after End-of-Table.
                    let last_is_end = s.structures.last().is_some_and(|x| x.ty == 127);
                    assert!(!s.issues.is_empty() || last_is_end, "{name} cut at {cut}");
                    let _ = s.components();
                }
                Err(e) => {
                    err += 1;
                    assert!(!e.to_string().is_empty());
                }
            }
            let _ = parse_entry_point(&bytes[..cut]);
        }
        println!("{name}: {ok} truncations decoded partly, {err} refused");
        assert!(err > 0, "{name}: short prefixes must be refused");
    }
}

#[test]
fn truncated_entry_points_name_the_offset() {
    let Some(bin) = real("u-root/SuperMicro-X9DBL.bin") else {
        return;
    };
    let Error::Binary(e) = parse_binary(&bin[..0x17]).unwrap_err() else {
        panic!("binary error expected");
    };
    assert_eq!(e.offset, 0x16);
    assert!(e.to_string().contains("structure table length"), "{e}");
    let err = parse_entry_point(b"_SM3_\x00\x18").unwrap_err();
    assert_eq!(err.offset, 7);
    let err = parse_entry_point(b"NOPE").unwrap_err();
    assert_eq!(err.offset, 0);
    assert!(err.to_string().contains("_SM3_"), "{err}");
}

#[test]
fn every_byte_flipped_in_a_real_table() {
    let Some(bin) = real("u-root/SuperMicro-X9DBL.bin") else {
        return;
    };
    for at in 0..bin.len() {
        let mut b = bin.clone();
        b[at] ^= 0xff;
        if let Ok(s) = parse_binary(&b) {
            assert!(s.structures.len() <= MAX_STRUCTURES);
            let _ = s.components();
            let _ = s.identifiers();
        }
    }
}

#[test]
fn bad_checksums_are_issues_not_errors() {
    let Some(mut bin) = real("u-root/SuperMicro-X9DBL.bin") else {
        return;
    };
    bin[0x04] = bin[0x04].wrapping_add(1);
    bin[0x15] = bin[0x15].wrapping_add(1);
    let s = parse_binary(&bin).unwrap();
    assert_eq!(s.structures.len(), 115);
    let ep = s.entry_point.as_ref().unwrap();
    assert!(!ep.checksum_ok);
    assert_eq!(ep.intermediate_checksum_ok, Some(false));
    let offsets: Vec<u64> = s.issues.iter().map(|i| i.offset).collect();
    assert_eq!(offsets, [0, 0x10]);
}

#[test]
fn table_address_outside_the_file_is_refused() {
    let mut file = dump_bin(&small_table());
    file[0x10..0x18].copy_from_slice(&0x7880_6000u64.to_le_bytes());
    let Error::Binary(e) = parse_binary(&file).unwrap_err() else {
        panic!("binary error expected");
    };
    assert_eq!(e.offset, 0x10);
    assert!(e.to_string().contains("0x78806000"), "{e}");
}

#[test]
fn structure_lengths_past_the_end() {
    // The first structure claims 255 bytes in a 20-byte table: refused with its offset.
    let mut t = small_table();
    t[1] = 0xff;
    let Error::Binary(e) = parse_table(&t, None).unwrap_err() else {
        panic!("binary error expected");
    };
    assert_eq!(e.offset, 0);
    assert!(e.to_string().contains("needed 255 bytes"), "{e}");
    // A later structure that overruns stops the walk; what came before is kept.
    let mut t = small_table();
    let end = t.len() - 5;
    t[end] = 0xf0;
    let s = parse_table(&t, None).unwrap();
    assert_eq!(s.structures.len(), 1);
    assert_eq!(s.issues.len(), 1);
    assert_eq!(s.issues[0].offset, u64::try_from(end - 1).unwrap());
    // A length shorter than the header cannot be walked past.
    let mut t = small_table();
    t[end] = 2;
    let s = parse_table(&t, None).unwrap();
    assert_eq!(s.structures.len(), 1);
    assert!(s.issues[0]
        .message
        .contains("shorter than the 4-byte header"));
}

#[test]
fn a_table_of_100000_tiny_structures_is_bounded() {
    let mut t = Vec::with_capacity(600_000);
    for h in 0..100_000u32 {
        t.extend(structure(0x80, (h & 0xffff) as u16, &[], &[]));
    }
    let s = parse_table(&t, None).unwrap();
    assert_eq!(s.structures.len(), MAX_STRUCTURES);
    assert_eq!(s.issues.len(), 1);
    assert_eq!(
        s.issues[0].offset,
        u64::try_from(MAX_STRUCTURES * 6).unwrap()
    );
    assert!(s.issues[0].message.contains("more than 16384 structures"));
    assert!(s.structures.iter().all(|x| x.record == Record::Raw));
}

#[test]
fn strings_without_terminators() {
    // The string set never ends: the complete strings are kept, the walk stops at the end.
    let mut t = structure(2, 2, &[1, 2, 3, 4], &[]);
    t.truncate(t.len() - 2);
    t.extend_from_slice(b"Supermicro\0X11DPH-T\0ZM19AS02683");
    let s = parse_table(&t, None).unwrap();
    assert_eq!(s.structures.len(), 1);
    assert_eq!(s.issues.len(), 2, "{:?}", s.issues);
    assert!(s.issues[0].message.contains("string number(s) [3, 4]"));
    assert_eq!(s.issues[1].offset, u64::try_from(t.len()).unwrap());
    assert!(s.issues[1].message.contains("double NUL"));
    let Record::Baseboard(b) = &s.structures[0].record else {
        panic!("baseboard expected");
    };
    assert_eq!(b.product.as_deref(), Some("X11DPH-T"));
    assert_eq!(b.serial, None);
    // One endless string (no NUL at all) is dropped, never read past the end.
    let mut t = structure(1, 1, &[1, 1, 1, 1], &[]);
    t.truncate(t.len() - 2);
    t.extend(std::iter::repeat_n(b'A', 100_000));
    let s = parse_table(&t, None).unwrap();
    assert_eq!(s.components()[0].serial, None);
    // A 5000-byte string is cut to MAX_STRING_LEN, with an issue.
    let long = "S".repeat(5000);
    let t = structure(1, 1, &[0, 0, 0, 1], &[&long]);
    let s = parse_table(&t, None).unwrap();
    let Record::System(x) = &s.structures[0].record else {
        panic!("system expected");
    };
    assert_eq!(
        x.serial.as_ref().unwrap().len(),
        tamperscan_smbios::MAX_STRING_LEN
    );
    assert!(s.issues[0].message.contains("longer than 1024 bytes"));
}

#[test]
fn non_printable_string_bytes_become_dots() {
    let t = structure(
        2,
        2,
        &[1, 2, 0, 3],
        &["Vendor\x01", "Model\u{e9}", "SN\x7f1"],
    );
    let c = &parse_table(&t, None).unwrap().components()[0];
    assert_eq!(c.manufacturer.as_deref(), Some("Vendor."));
    assert_eq!(c.model.as_deref(), Some("Model.."));
    assert_eq!(c.serial.as_deref(), Some("SN.1"));
}

/// xorshift: reproducible garbage without a dependency.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn random_garbage() {
    for seed in 0..2000u64 {
        let len = usize::try_from(seed % 700).unwrap();
        let mut g = garbage(seed, len);
        let _ = parse_binary(&g);
        let _ = parse_entry_point(&g);
        let text = String::from_utf8_lossy(&g).into_owned();
        let _ = parse_dmidecode_text(&text);
        // Garbage behind each kind of entry point, and behind a Windows header.
        for magic in [&b"_SM_"[..], b"_SM3_", b"_DMI_", b"\0\x03\x02\0"] {
            g.splice(0..magic.len().min(g.len()), magic.iter().copied());
            if let Ok(s) = parse_binary(&g) {
                let _ = to_components(&s);
            }
        }
    }
}

#[test]
fn text_with_binary_junk_and_huge_lines() {
    let mut text = String::from("# dmidecode 3.3\nSMBIOS 3.2.0 present.\n\n");
    text.push_str(&String::from_utf8_lossy(&garbage(7, 4000)));
    text.push_str("\n\nHandle 0x0002, DMI type 2, 15 bytes\nBase Board Information\n");
    text.push_str("\tManufacturer: Supermicro\n\tProduct Name: X11DPH-T\n");
    text.push_str("\tSerial Number: ZM19AS026837\n");
    let long_line = 3 + text.lines().count() + 1;
    text.push_str("\tVersion: ");
    text.push_str(&"\u{fffd}x".repeat(1 << 19));
    text.push('\n');
    text.push_str("\0\0\x01\x02 junk \u{7f}\n\t\t\t\n");
    let t = parse_dmidecode_text(&text).unwrap();
    let board = t.records.iter().find(|r| r.dmi_type == Some(2)).unwrap();
    assert_eq!(board.get("Serial Number"), Some("ZM19AS026837"));
    assert!(board.get("Version").unwrap().len() <= MAX_TEXT_LINE);
    assert!(
        t.issues
            .iter()
            .any(|i| i.line == long_line - 3 && i.message.contains("cut to 4096")),
        "{:?}",
        t.issues
    );
    assert_eq!(
        t.identifiers().board_serial.as_deref(),
        Some("ZM19AS026837")
    );
    // One 1 MiB line and nothing else: no record, an error on line 1.
    let err = parse_dmidecode_text(&"x".repeat(1 << 20)).unwrap_err();
    assert_eq!(
        err,
        Error::Text {
            line: 1,
            reason: "no dmidecode record found (no `Handle 0x...` header and no record title \
                     followed by indented fields)"
                .into()
        }
    );
}

#[test]
fn text_record_count_is_bounded() {
    let text = "Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tSerial Number: X\n\n"
        .repeat(MAX_TEXT_RECORDS + 10);
    let t = parse_dmidecode_text(&text).unwrap();
    assert_eq!(t.records.len(), MAX_TEXT_RECORDS);
    assert_eq!(t.issues.len(), 1);
    assert!(t.issues[0].message.contains("more than 16384 records"));
    // One field with a million list values keeps MAX_TEXT_ITEMS of them.
    let mut text =
        String::from("Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tList:\n");
    text.push_str(&"\t\tv\n".repeat(1_000_000));
    let t = parse_dmidecode_text(&text).unwrap();
    assert_eq!(
        t.records[0].fields[0].items.len(),
        tamperscan_smbios::MAX_TEXT_ITEMS
    );
    assert_eq!(t.issues.len(), 1);
}
