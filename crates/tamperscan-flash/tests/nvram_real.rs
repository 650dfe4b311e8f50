//! Debian 12 OVMF variable stores against the UEFIExtract report and module manifest beside
//! them, and (for the Secure Boot databases) the PyPI `virt-firmware` 26.10 tools
//! (`virt-fw-vars --print`, `virt.firmware.efi.siglist`).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use tamperscan_bytes::hex;
use tamperscan_flash::nvram::{self, StoreFormat, VariableState, AUTH_VARIABLE_HEADER_SIZE};

fn firmware() -> Option<PathBuf> {
    Some(tamperscan_testdata::data_dir()?.join("firmware"))
}

/// The NVRAM FV's body (after the header, whose length is the u16 at 0x30) and its offset.
fn volume_body(fv: &[u8]) -> (&[u8], usize) {
    let header_len = usize::from(u16::from_le_bytes([fv[0x30], fv[0x31]]));
    let fv_len = u64::from_le_bytes(fv[0x20..0x28].try_into().unwrap()) as usize;
    (&fv[header_len..fv_len], header_len)
}

#[test]
fn empty_ovmf_store_and_its_ftw_block() {
    let Some(fw) = firmware() else { return };
    let fv = std::fs::read(fw.join("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.fd")).unwrap();
    let (body, at) = volume_body(&fv);
    assert_eq!(at, 0x48);
    assert_eq!(nvram::find_stores(body), vec![0]);
    assert_eq!(nvram::find_ftw(body), vec![0xf000 - 0x48]);
    let n = nvram::scan(body, at as u64);
    assert!(n.errors.is_empty() && n.issues.is_empty(), "{n:?}");
    // UEFIExtract: "VSS2 store | 00000048 | 0000DFB8", "Free space | 00000064 | 0000DF9C".
    let s = &n.stores[0];
    assert_eq!(
        (s.offset, s.size, s.format),
        (0x48, 0xdfb8, StoreFormat::Authenticated)
    );
    assert!(s.healthy());
    assert!(s.variables.is_empty());
    assert_eq!(s.end_offset, 0x64);
    assert!(s.issues.is_empty());
    // UEFIExtract: "FTW store | 0000F000 | 00001000".
    let f = &n.ftw_blocks[0];
    assert_eq!(f.offset, 0xf000);
    assert_eq!(f.signature, nvram::WORKING_BLOCK_SIGNATURE);
    assert_eq!(f.size(), 0x1000);
    assert!(f.crc_valid && f.valid && !f.write_queue_in_use);
}

/// `(subtype, base, size, name)` of every "VSS entry" row of a UEFIExtract report.
fn report_entries(text: &str) -> Vec<(String, u64, u64, String)> {
    text.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            if cols.first() != Some(&"VSS entry") {
                return None;
            }
            Some((
                cols[1].to_string(),
                u64::from_str_radix(cols[2], 16).unwrap(),
                u64::from_str_radix(cols[3], 16).unwrap(),
                cols.get(6).copied().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

fn uefiextract_attribute_names(text: &str) -> Vec<&'static str> {
    let inner = text
        .split_once('(')
        .map(|(_, r)| r.trim_end_matches(')'))
        .unwrap_or("");
    inner
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "NonVolatile" => "NV",
            "BootService" => "BS",
            "Runtime" => "RT",
            "HwErrorRecord" => "HR",
            "AuthWrite" => "AW",
            "TimeBasedAuthWrite" => "TBAW",
            "AppendWrite" => "AP",
            _ => "unknown UEFIExtract attribute",
        })
        .collect()
}

#[test]
fn secure_boot_store_matches_manifest_and_report() {
    let Some(fw) = firmware() else { return };
    let fv = std::fs::read(fw.join("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.ms.fd")).unwrap();
    let (body, at) = volume_body(&fv);
    let n = nvram::scan(body, at as u64);
    assert!(n.errors.is_empty() && n.issues.is_empty(), "{n:?}");
    assert_eq!(n.stores.len(), 1);
    assert_eq!(n.ftw_blocks.len(), 1);
    let s = &n.stores[0];
    assert!(s.issues.is_empty(), "{:?}", s.issues);
    // UEFIExtract: "Free space | 00005998 | 00008668".
    assert_eq!(s.end_offset, 0x5998);

    // Every live variable, in order, with the manifest's name, GUID, attributes and body hash.
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fw.join(
            "reference/manifests/uefi_ovmf-x64-debian12-2022.11_OVMF_VARS.ms.fd.manifest.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let expected = manifest["variables"].as_array().unwrap();
    let live: Vec<_> = s.live().collect();
    assert_eq!(live.len(), expected.len());
    assert_eq!(live.len(), 31);
    for (v, e) in live.iter().zip(expected) {
        assert_eq!(v.name, e["name"].as_str().unwrap());
        assert_eq!(
            v.vendor.to_string(),
            e["guid"].as_str().unwrap(),
            "{}",
            v.name
        );
        let attrs = e["attributes"].as_str().unwrap();
        let raw = u32::from_str_radix(attrs.split('h').next().unwrap(), 16).unwrap();
        assert_eq!(v.attributes.0, raw, "{}", v.name);
        assert_eq!(
            v.attributes.names(),
            uefiextract_attribute_names(attrs),
            "{}",
            v.name
        );
        assert_eq!(
            hex(&v.data_sha256),
            e["body_sha256"].as_str().unwrap(),
            "{}",
            v.name
        );
        assert_eq!(v.state, VariableState::Valid);
        assert!(v.auth.is_some());
    }

    // Every record, deleted ones included, at UEFIExtract's offset and size.
    let report = std::fs::read_to_string(fw.join(
        "reference/uefiextract-reports/uefi_ovmf-x64-debian12-2022.11_OVMF_VARS.ms.fd.report.txt",
    ))
    .unwrap();
    let rows = report_entries(&report);
    assert_eq!(rows.len(), 57);
    assert_eq!(s.variables.len(), rows.len());
    for (v, (subtype, base, size, _)) in s.variables.iter().zip(&rows) {
        assert_eq!(v.offset, *base);
        let record = (AUTH_VARIABLE_HEADER_SIZE + v.name_size as usize + v.data.len()) as u64;
        assert_eq!(record, *size, "record at 0x{base:x}");
        let deleted = v.state == VariableState::Deleted;
        assert_eq!(deleted, subtype == "Invalid", "record at 0x{base:x}");
    }
    assert_eq!(
        s.variables
            .iter()
            .filter(|v| v.state == VariableState::Deleted)
            .count(),
        26
    );
}

/// (signature type, owner, data length, sha256 of the data).
type Entry = (&'static str, &'static str, usize, &'static str);

#[test]
fn secure_boot_signature_lists_match_virt_firmware() {
    let Some(fw) = firmware() else { return };
    let fv = std::fs::read(fw.join("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.ms.fd")).unwrap();
    let (body, at) = volume_body(&fv);
    let n = nvram::scan(body, at as u64);
    let s = &n.stores[0];
    // (variable, [(type, owner, data length, sha256 of the data)]) from virt-firmware.
    let microsoft = "77FA9ABD-0359-4D32-BD60-28F4E78F784B";
    let debian_owner = "A0BAA8A3-041D-48A8-BC87-C36D121B5E3D";
    let debian_pk = "5fb05ed84c5170d542ed6a7b7487dd57b8faedb02f7e107b0409e1d22cac4169";
    let expected: [(&str, Vec<Entry>); 4] = [
        (
            "db",
            vec![
                (
                    "X509",
                    microsoft,
                    1499,
                    "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961",
                ),
                (
                    "X509",
                    microsoft,
                    1556,
                    "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507",
                ),
            ],
        ),
        (
            "dbx",
            vec![(
                "SHA256",
                debian_owner,
                32,
                "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456",
            )],
        ),
        (
            "KEK",
            vec![
                ("X509", debian_owner, 961, debian_pk),
                (
                    "X509",
                    microsoft,
                    1516,
                    "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503",
                ),
            ],
        ),
        (
            "PK",
            vec![(
                "X509",
                "8BE4DF61-93CA-11D2-AA0D-00E098032B8C",
                961,
                debian_pk,
            )],
        ),
    ];
    for (name, entries) in expected {
        let v = s.live().find(|v| v.name == name).unwrap();
        let lists = v.signature_lists.as_ref().unwrap().as_ref().unwrap();
        let got: Vec<(&str, String, usize, String)> = lists
            .iter()
            .flat_map(|l| {
                l.entries.iter().map(move |e| {
                    (
                        l.type_name().unwrap(),
                        e.owner.to_string(),
                        e.data_len,
                        hex(&e.sha256),
                    )
                })
            })
            .collect();
        let want: Vec<(&str, String, usize, String)> = entries
            .iter()
            .map(|(t, o, len, sha)| (*t, o.to_string(), *len, sha.to_string()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
    // The dbx entry is the SHA-256 of nothing, the usual placeholder.
    let dbx = s.live().find(|v| v.name == "dbx").unwrap();
    let lists = dbx.signature_lists.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(
        hex(lists[0].entries[0].hash.as_ref().unwrap()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // Variables that are not signature databases are left alone.
    assert!(s.live().filter(|v| v.signature_lists.is_some()).count() == 4);
}

#[test]
fn tampering_with_the_real_store_is_reported() {
    let Some(fw) = firmware() else { return };
    let fv = std::fs::read(fw.join("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.ms.fd")).unwrap();
    let (body, at) = volume_body(&fv);
    let body = body.to_vec();

    // Bytes hidden in the free space after the last variable.
    let mut hidden = body.clone();
    let free = 0x5998 - at;
    hidden[free + 0x100..free + 0x140].fill(0);
    let s = nvram::parse_store(&hidden, at as u64).unwrap();
    assert_eq!(s.issues.len(), 1);
    assert_eq!((s.issues[0].offset, s.issues[0].length), (0x5a98, 0x40));

    // A corrupt DataSize in the middle (the db record at 0x3CF4): the 50 records before stay.
    let mut corrupt = body.clone();
    let db = 0x3cf4 - at;
    corrupt[db + 40..db + 44].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let s = nvram::parse_store(&corrupt, at as u64).unwrap();
    assert_eq!(s.variables.len(), 50);
    assert_eq!(s.issues.len(), 1);
    assert_eq!(s.issues[0].offset, 0x3cf4);

    // Every truncation of the store's Size decodes a prefix or reports where it stopped.
    for cut in (0x1c..0x5998 - at).step_by(7) {
        let mut t = body[..cut].to_vec();
        t[16..20].copy_from_slice(&(cut as u32).to_le_bytes());
        let s = nvram::parse_store(&t, at as u64).unwrap();
        assert!(s.variables.len() <= 57);
        for v in &s.variables {
            assert!(v.data_offset + v.data.len() as u64 <= (at + cut) as u64);
        }
    }
}
