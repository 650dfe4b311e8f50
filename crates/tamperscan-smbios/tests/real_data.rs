#![allow(clippy::unwrap_used)]
//! The decoders against real tables and real `dmidecode` outputs (see
//! shared/data/inventory/SOURCES.md).

use std::path::{Path, PathBuf};
use tamperscan_smbios::{
    identifiers, parse_binary, parse_dmidecode_text, parse_entry_point, to_components, Component,
    ComponentClass, EntryPointKind, Identifiers, Record, TableSource, Version,
};

fn inventory() -> Option<PathBuf> {
    Some(tamperscan_testdata::data_dir()?.join("inventory"))
}

fn read_text(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

/// The fields both decodes of one machine must agree on.
fn key(c: &Component) -> String {
    format!(
        "{:?} | {:?} | {:?} | {:?} | {:?} | {:?} | {:?} | {:?} | {}",
        c.class,
        c.manufacturer,
        c.model,
        c.serial,
        c.location,
        c.part_number,
        c.revision,
        c.firmware_version,
        c.source_ref
    )
}

fn of_class(cs: &[Component], class: ComponentClass) -> Vec<&Component> {
    cs.iter()
        .filter(|c| c.class.as_ref() == Some(&class))
        .collect()
}

const U_ROOT: [&str; 4] = [
    "GigaByte-X399",
    "Lenovo-ThinkPad-T480",
    "MSI-MS-7816",
    "SuperMicro-X9DBL",
];

#[test]
fn u_root_binary_and_text_decodes_agree() {
    let Some(dir) = inventory() else { return };
    let dir = dir.join("smbios-bin/u-root");
    for name in U_ROOT {
        let bin = std::fs::read(dir.join(format!("{name}.bin"))).unwrap();
        let text = read_text(&dir.join(format!("{name}.dmidecode-3.2.txt")));
        let smbios = parse_binary(&bin).unwrap();
        let dmi = parse_dmidecode_text(&text).unwrap();
        assert_eq!(smbios.source, TableSource::DumpBin);
        assert_eq!(smbios.table_offset, 0x20);
        assert!(smbios.issues.is_empty(), "{name}: {:?}", smbios.issues);
        assert_eq!(
            smbios.version.map(|v| v.to_string()).as_deref(),
            dmi.smbios_version,
            "{name}"
        );
        // dmidecode prints one record per structure, with its handle, type and length.
        assert_eq!(smbios.structures.len(), dmi.records.len(), "{name}");
        for (s, r) in smbios.structures.iter().zip(&dmi.records) {
            assert_eq!(
                (Some(s.handle), Some(s.ty), Some(u16::from(s.length))),
                (r.handle, r.dmi_type, r.length),
                "{name}"
            );
        }
        let a = to_components(&smbios);
        let b = to_components(&dmi);
        assert!(a.iter().all(|c| c.source == "smbios"));
        assert!(b.iter().all(|c| c.source == "dmidecode"));
        let ka: Vec<String> = a.iter().map(key).collect();
        let kb: Vec<String> = b.iter().map(key).collect();
        assert_eq!(ka, kb, "{name}");
        assert_eq!(identifiers(&smbios), identifiers(&dmi), "{name}");
        assert_eq!(of_class(&a, ComponentClass::System).len(), 1, "{name}");
        println!(
            "{name}: {} structures, {} components",
            smbios.structures.len(),
            a.len()
        );
    }
}

#[test]
fn supermicro_x9dbl_real_values() {
    let Some(dir) = inventory() else { return };
    let bin = std::fs::read(dir.join("smbios-bin/u-root/SuperMicro-X9DBL.bin")).unwrap();
    let ep = parse_entry_point(&bin).unwrap();
    assert_eq!(ep.kind, EntryPointKind::Smbios2);
    assert_eq!(ep.version, Version::new(2, 7));
    assert_eq!(
        (ep.table_address, ep.table_length, ep.structure_count),
        (0x20, 4631, Some(115))
    );
    assert!(ep.checksum_ok && ep.intermediate_checksum_ok == Some(true));
    let s = parse_binary(&bin).unwrap();
    assert_eq!(s.structures.len(), 115);
    assert_eq!(
        identifiers(&s),
        Identifiers {
            system_serial: Some("9000116105".into()),
            board_serial: Some("VM147S018307".into()),
            // The chassis serial is the placeholder 0123456789.
            chassis_serial: None,
            smbios_uuid: Some("00000000-0000-0000-0000-0cc47a133878".into()),
        }
    );
    let cs = to_components(&s);
    let board = of_class(&cs, ComponentClass::Baseboard)[0];
    assert_eq!(board.manufacturer.as_deref(), Some("Supermicro"));
    assert_eq!(board.model.as_deref(), Some("X9DBL-3F/X9DBL-iF"));
    assert_eq!(board.revision, None);
    assert_eq!(board.placeholders, ["revision: 0123456789"]);
    assert_eq!(board.source_ref, "type 2 handle 0x0002");
    let bios = of_class(&cs, ComponentClass::Bios)[0];
    assert_eq!(bios.firmware_version.as_deref(), Some("3.00"));
    let dimms = of_class(&cs, ComponentClass::Memory);
    assert_eq!(dimms.len(), 6);
    assert_eq!(dimms[2].serial.as_deref(), Some("15C774EF"));
    assert_eq!(dimms[2].part_number.as_deref(), Some("36KSF2G72PZ-1G6N1"));
    assert_eq!(dimms[2].location.as_deref(), Some("P1-DIMM1C"));
    let cpus = of_class(&cs, ComponentClass::Cpu);
    assert_eq!(cpus.len(), 2);
    assert_eq!(
        cpus[1].model.as_deref(),
        Some("Intel(R) Xeon(R) CPU E5-2403 v2 @ 1.80GHz")
    );
    let bmc = of_class(&cs, ComponentClass::Bmc);
    assert_eq!(bmc[0].model.as_deref(), Some("IPMI KCS"));
    assert_eq!(bmc[0].revision.as_deref(), Some("2.0"));
    // Every field of its only power supply is "To Be Filled By O.E.M.".
    let psu = of_class(&cs, ComponentClass::PowerSupply);
    assert_eq!(psu.len(), 1);
    assert_eq!(psu[0].serial, None);
    assert_eq!(psu[0].placeholders.len(), 6);
    // dmidecode: Size: 4 GB, 4 GB, 16 GB, 4 GB, 4 GB, 16 GB.
    let sizes: Vec<u64> = s
        .of_type(17)
        .filter_map(|x| match &x.record {
            Record::MemoryDevice(m) => m.size_kib.map(|k| k >> 20),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [4, 4, 16, 4, 4, 16]);
}

#[test]
fn uuid_byte_order_matches_dmidecode() {
    let Some(dir) = inventory() else { return };
    // GigaByte X399 (SMBIOS 3.1.1): dmidecode prints 032e02b4-0499-0533-a106-940700080009.
    let bin = std::fs::read(dir.join("smbios-bin/u-root/GigaByte-X399.bin")).unwrap();
    let s = parse_binary(&bin).unwrap();
    let system = s.of_type(1).next().unwrap();
    let at = usize::try_from(system.offset).unwrap() + 8;
    assert_eq!(
        &bin[at..at + 16],
        &[
            0xb4, 0x02, 0x2e, 0x03, 0x99, 0x04, 0x33, 0x05, 0xa1, 0x06, 0x94, 0x07, 0x00, 0x08,
            0x00, 0x09
        ]
    );
    assert_eq!(
        identifiers(&s).smbios_uuid.as_deref(),
        Some("032e02b4-0499-0533-a106-940700080009")
    );
    let ep = parse_entry_point(&bin).unwrap();
    assert_eq!(ep.kind, EntryPointKind::Smbios3);
    assert_eq!(ep.version.to_string(), "3.1.1");
    assert_eq!((ep.table_address, ep.table_length), (0x20, 3415));
    assert!(ep.checksum_ok);
    // MSI MS-7816 prints "UUID: Not Present": all FFh.
    let bin = std::fs::read(dir.join("smbios-bin/u-root/MSI-MS-7816.bin")).unwrap();
    assert_eq!(identifiers(&parse_binary(&bin).unwrap()).smbios_uuid, None);
}

#[test]
fn smbios_lib_windows_table_parses() {
    let Some(dir) = inventory() else { return };
    let bytes = std::fs::read(dir.join("smbios-bin/smbios-lib/jeffgerlap_3_2_0.dat")).unwrap();
    let s = parse_binary(&bytes).unwrap();
    assert_eq!(s.source, TableSource::WindowsRaw);
    assert_eq!(s.version, Some(Version::new(3, 2)));
    assert_eq!(s.structures.last().unwrap().ty, 127);
    // Its chassis names an asset tag string (3) past its two strings.
    assert_eq!(s.issues.len(), 1);
    assert!(s.issues[0].message.contains("type 3 handle 0x000F"));
    let ids = identifiers(&s);
    assert_eq!(ids.system_serial.as_deref(), Some("023078193757"));
    assert_eq!(ids.board_serial.as_deref(), Some("A009250100J1939A"));
    let cs = to_components(&s);
    let system = of_class(&cs, ComponentClass::System)[0];
    assert_eq!(system.model.as_deref(), Some("Surface Laptop 3"));
    assert_eq!(system.part_number.as_deref(), Some("Surface_Laptop_3_1873"));
    let dimms = of_class(&cs, ComponentClass::Memory);
    assert_eq!(dimms.len(), 2);
    assert!(dimms.iter().all(|d| d.serial.is_none()
        && d.placeholders == ["serial: 00000000"]
        && d.part_number.as_deref() == Some("HMAA1GS6CMR6N-UH")));
}

fn dmidecode_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for sub in ["dmidecode", "dmidecode-netbox-agent"] {
        files.extend(
            tamperscan_testdata::files_under(&dir.join(sub))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "txt")),
        );
    }
    files
}

#[test]
fn every_dmidecode_text_parses_and_names_the_machine() {
    let Some(dir) = inventory() else { return };
    let files = dmidecode_files(&dir);
    assert_eq!(files.len(), 305);
    let mut failures = Vec::new();
    let (mut records, mut components, mut with_board_serial) = (0, 0, 0);
    for f in &files {
        let text = read_text(f);
        let t = match parse_dmidecode_text(&text) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        let headers = text.lines().filter(|l| l.starts_with("Handle 0x")).count();
        if t.records.len() != headers || t.records.iter().any(|r| r.handle.is_none()) {
            failures.push(format!(
                "{}: {} records for {headers} headers",
                f.display(),
                t.records.len()
            ));
        }
        let cs = to_components(&t);
        let named = cs.iter().any(|c| {
            matches!(
                c.class,
                Some(ComponentClass::System | ComponentClass::Baseboard)
            ) && (c.model.is_some() || c.manufacturer.is_some())
        });
        if !named {
            failures.push(format!("{}: no System or Baseboard component", f.display()));
        }
        // No placeholder (and none of linuxhw's `--` anonymisations) reaches a serial.
        let ids = identifiers(&t);
        for v in [&ids.system_serial, &ids.board_serial, &ids.chassis_serial]
            .into_iter()
            .flatten()
        {
            if v == "--" || v.contains("O.E.M.") || v == "0123456789" {
                failures.push(format!("{}: placeholder serial {v}", f.display()));
            }
        }
        with_board_serial += usize::from(ids.board_serial.is_some());
        records += t.records.len();
        components += cs.len();
    }
    println!(
        "{} dmidecode texts, {records} records, {components} components, {with_board_serial} with a board serial",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Only the netbox-agent fixtures keep board serials: 3 real ones, 2 replaced by `4242`
    // upstream (linux-hardware.org anonymised all of its own to `--`).
    assert_eq!(with_board_serial, 5);
}

/// MANIFEST.tsv (derived from the dumps by the data's curators) against our decode.
#[test]
fn linuxhw_manifest_values_match() {
    let Some(dir) = inventory() else { return };
    let manifest = read_text(&dir.join("dmidecode/MANIFEST.tsv"));
    let mut rows = 0;
    let mut failures = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, _, _, sys_mfr, sys_product, board_mfr, board_product, board_version, bios_vendor, bios_version, bios_date, ..] =
            cols[..]
        else {
            panic!("short row {line}");
        };
        let text = read_text(&dir.join("dmidecode").join(file));
        let t = parse_dmidecode_text(&text).unwrap();
        let first = |ty: u8, key: &str| {
            t.records
                .iter()
                .find(|r| r.dmi_type == Some(ty))
                .and_then(|r| r.get(key))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let checks = [
            (first(1, "Manufacturer"), sys_mfr),
            (first(1, "Product Name"), sys_product),
            (first(2, "Manufacturer"), board_mfr),
            (first(2, "Product Name"), board_product),
            (first(2, "Version"), board_version),
            (first(0, "Vendor"), bios_vendor),
            (first(0, "Version"), bios_version),
            (first(0, "Release Date"), bios_date),
        ];
        for (ours, theirs) in checks {
            if ours != theirs.trim() {
                failures.push(format!("{file}: {ours:?} != {theirs:?}"));
            }
        }
        rows += 1;
    }
    assert_eq!(rows, 299);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn netbox_agent_real_serials_and_uuids() {
    let Some(dir) = inventory() else { return };
    let dir = dir.join("dmidecode-netbox-agent");
    let ids = |name: &str| identifiers(&parse_dmidecode_text(&read_text(&dir.join(name))).unwrap());
    assert_eq!(
        ids("SM_SSG-6028R.txt"),
        Identifiers {
            system_serial: Some("S212101X7A18218".into()),
            board_serial: Some("NM175S004964".into()),
            chassis_serial: Some("C8260FG11N50348".into()),
            smbios_uuid: Some("00000000-0000-0000-0000-ac1f6b05e596".into()),
        }
    );
    let dell = ids("Dell_PowerEdge_M630.txt");
    assert_eq!(
        dell.smbios_uuid.as_deref(),
        Some("4c4c4544-0036-3210-805a-b7c04f4d3632")
    );
    let qct = ids("QCT_X10E-9N.txt");
    assert_eq!(qct.system_serial.as_deref(), Some("QTFCQ57140285"));
    assert_eq!(qct.board_serial.as_deref(), Some("CQ571000415"));
}

#[test]
fn ironlib_psu_and_tpm_outputs() {
    let Some(dir) = inventory() else { return };
    for sub in [
        "ironlib-fixtures/supermicro-x11dph-t",
        "ironlib-fixtures/utils",
    ] {
        let d = dir.join(sub).join("dmidecode");
        let tpm_text = read_text(&d.join("tpm"));
        let tpm = parse_dmidecode_text(&tpm_text).unwrap();
        assert_eq!(tpm.dmidecode_version, Some("3.2"));
        assert_eq!(tpm.smbios_version, Some("3.2.1"));
        let cs = to_components(&tpm);
        assert_eq!(cs.len(), 1, "{sub}");
        let c = &cs[0];
        assert_eq!(c.class, Some(ComponentClass::Tpm));
        assert_eq!(c.manufacturer, None, "its Vendor ID is blank");
        assert_eq!(c.model.as_deref(), Some("INFINEON"));
        assert_eq!(c.revision.as_deref(), Some("2.0"));
        assert_eq!(c.firmware_version.as_deref(), Some("7.62"));
        assert_eq!(c.source_ref, "type 43 handle 0x0028");

        let psu_text = read_text(&d.join("psu"));
        let psu = parse_dmidecode_text(&psu_text).unwrap();
        let cs = to_components(&psu);
        assert!(cs.len() >= 2, "{sub}");
        assert!(cs
            .iter()
            .all(|c| c.class == Some(ComponentClass::PowerSupply)));
        assert_eq!(cs[0].serial.as_deref(), Some("P1K2ACK07HB0670"));
        assert_eq!(cs[1].serial.as_deref(), Some("P1K2ACK07HB0669"));
        assert_eq!(cs[1].location.as_deref(), Some("PSU2"));
        assert_eq!(cs[0].model.as_deref(), Some("PWS-1K23A-1R"));
        assert_eq!(cs[0].part_number.as_deref(), Some("PWS-1K23A-1R"));
        assert_eq!(cs[0].manufacturer.as_deref(), Some("SUPERMICRO"));
        assert_eq!(cs[0].revision.as_deref(), Some("1.4"));
        // -t39 output has no system or board.
        assert_eq!(identifiers(&psu), Identifiers::default());
    }
}
