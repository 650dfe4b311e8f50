use super::*;
use crate::sha256;

const VENDOR: Guid = Guid::from_fields(0x1234_5678, 0x9abc, 0xdef0, [1, 2, 3, 4, 5, 6, 7, 8]);

fn utf16z(name: &str) -> Vec<u8> {
    name.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// One variable record, padded to 4 bytes with 0xFF.
fn var(auth: bool, state: u8, attrs: u32, vendor: Guid, name: &str, data: &[u8]) -> Vec<u8> {
    let name = utf16z(name);
    let mut v = vec![0xaa, 0x55, state, 0];
    v.extend_from_slice(&attrs.to_le_bytes());
    if auth {
        v.extend_from_slice(&7u64.to_le_bytes());
        v.extend_from_slice(&[0xe8, 0x07, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0xff, 0x07, 0, 0]);
        v.extend_from_slice(&0u32.to_le_bytes());
    }
    v.extend_from_slice(&(name.len() as u32).to_le_bytes());
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(&vendor.0);
    v.extend_from_slice(&name);
    v.extend_from_slice(data);
    while v.len() % 4 != 0 {
        v.push(0xff);
    }
    v
}

fn store(format: StoreFormat, size: usize, vars: &[Vec<u8>]) -> Vec<u8> {
    let mut s = match format {
        StoreFormat::Plain => EFI_VARIABLE_GUID.0.to_vec(),
        StoreFormat::Authenticated => EFI_AUTHENTICATED_VARIABLE_GUID.0.to_vec(),
        StoreFormat::LegacyVss => VSS_SIGNATURE.to_vec(),
    };
    s.extend_from_slice(&(size as u32).to_le_bytes());
    s.extend_from_slice(&[STORE_FORMATTED, STORE_HEALTHY, 0, 0, 0, 0, 0, 0]);
    for v in vars {
        s.extend_from_slice(v);
    }
    s.resize(size, 0xff);
    s
}

fn sample() -> Vec<u8> {
    store(
        StoreFormat::Authenticated,
        0x400,
        &[
            var(true, 0x3c, 7, EFI_GLOBAL_VARIABLE, "Boot0000", b"old"),
            var(true, 0x3f, 7, EFI_GLOBAL_VARIABLE, "Boot0000", b"new!"),
            var(true, 0x3e, 3, VENDOR, "Moving", b"x"),
            var(true, 0x7f, 3, VENDOR, "Half", b""),
        ],
    )
}

#[test]
fn decodes_records_and_their_states() {
    let bytes = sample();
    assert_eq!(find_stores(&bytes), vec![0]);
    let s = parse_store(&bytes, 0x48).unwrap();
    assert_eq!(s.format, StoreFormat::Authenticated);
    assert!(s.healthy());
    let states: Vec<_> = s.variables.iter().map(|v| v.state).collect();
    assert_eq!(
        states,
        [
            VariableState::Deleted,
            VariableState::Valid,
            VariableState::InDeletedTransition,
            VariableState::HeaderOnly
        ]
    );
    let boot = &s.variables[1];
    assert_eq!(boot.name, "Boot0000");
    assert_eq!(
        boot.vendor.to_string(),
        "8BE4DF61-93CA-11D2-AA0D-00E098032B8C"
    );
    assert_eq!(boot.data, b"new!");
    assert_eq!(boot.data_sha256, sha256(b"new!"));
    assert_eq!(boot.attributes.to_string(), "NV+BS+RT");
    assert_eq!(boot.offset, 0x48 + 28 + 84);
    assert_eq!(boot.data_offset, boot.offset + 60 + 18);
    assert_eq!(boot.auth.unwrap().timestamp.year, 2024);
    assert_eq!(s.live().count(), 2);
    assert!(s.issues.is_empty(), "{:?}", s.issues);
}

#[test]
fn plain_and_legacy_stores() {
    for format in [StoreFormat::Plain, StoreFormat::LegacyVss] {
        let bytes = store(format, 0x200, &[var(false, 0x3f, 1, VENDOR, "A", b"12345")]);
        let s = parse_store(&bytes, 0).unwrap();
        assert_eq!(s.format, format);
        assert_eq!(s.variables.len(), 1);
        assert_eq!(s.variables[0].data, b"12345");
        assert!(s.variables[0].auth.is_none());
    }
}

#[test]
fn unerased_free_space_is_an_issue_with_offset_and_length() {
    let mut bytes = sample();
    bytes[0x300..0x310].fill(0x41);
    bytes[0x320] = 0;
    let s = parse_store(&bytes, 0x1000).unwrap();
    assert_eq!(s.issues.len(), 1, "{:?}", s.issues);
    assert_eq!(s.issues[0].offset, 0x1300);
    assert_eq!(s.issues[0].length, 0x21);
    assert!(s.issues[0].message.starts_with("17 bytes"));
}

#[test]
fn a_corrupt_record_keeps_the_ones_before_it() {
    let mut bytes = sample();
    let second = 28 + 84;
    bytes[second] = 0x12; // StartId of the second record
    let s = parse_store(&bytes, 0).unwrap();
    assert_eq!(s.variables.len(), 1);
    assert_eq!(s.issues.len(), 1);
    assert_eq!(s.issues[0].offset, second as u64);
    assert!(s.issues[0].message.contains("StartId"), "{}", s.issues[0]);

    // DataSize past the end of the store, and NameSize near u32::MAX.
    for (field, value) in [(40usize, 0x7fff_fff0u32), (36, u32::MAX)] {
        let mut bytes = sample();
        let at = second + field;
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let s = parse_store(&bytes, 0).unwrap();
        assert_eq!(s.variables.len(), 1);
        assert!(
            s.issues[0].message.contains("more than the limit"),
            "{}",
            s.issues[0]
        );
    }
}

#[test]
fn hostile_store_headers_are_errors() {
    let good = sample();
    let mut big = good.clone();
    big[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = parse_store(&big, 0x10).unwrap_err();
    assert_eq!(e.offset, 0x10);
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    let mut small = good.clone();
    small[16..20].copy_from_slice(&4u32.to_le_bytes());
    assert_eq!(parse_store(&small, 0).unwrap_err().offset, 16);
    assert!(parse_store(b"not a store at all", 0).is_err());
    assert!(parse_store(&[], 0).is_err());
}

#[test]
fn truncation_at_every_offset() {
    let good = sample();
    let used = 28 + 84 + 84 + 76 + 72;
    for len in 0..good.len() {
        // The Size field says 0x400: any shorter input is refused with an offset inside it.
        let e = parse_store(&good[..len], 0).unwrap_err();
        assert!(e.offset <= len as u64, "{e} at {len}");
        // A store whose Size is cut to `len` stops cleanly or with an issue.
        if len >= 28 {
            let mut cut = good[..len].to_vec();
            cut[16..20].copy_from_slice(&(len as u32).to_le_bytes());
            let s = parse_store(&cut, 0).unwrap();
            assert!(s.variables.len() <= 4);
            if len >= used {
                assert_eq!(s.variables.len(), 4, "{len}");
            }
        }
    }
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = 0x9e37_79b9u32;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        rng
    };
    let good = sample();
    for _ in 0..3000 {
        let mut bytes = good.clone();
        for _ in 0..(next() % 8 + 1) {
            let at = next() as usize % bytes.len();
            bytes[at] = next() as u8;
        }
        if let Ok(s) = parse_store(&bytes, 0) {
            for v in &s.variables {
                assert!(v.data_offset as usize + v.data.len() <= bytes.len());
            }
        }
        let _ = scan(&bytes, 0);
    }
    let noise: Vec<u8> = (0..4096).map(|_| next() as u8).collect();
    let n = scan(&noise, 0);
    assert!(n.stores.is_empty());
}

#[test]
fn secure_boot_databases_are_decoded() {
    let owner = Guid([9; 16]);
    let mut db = Vec::new();
    db.extend_from_slice(&CERT_SHA256.0);
    db.extend_from_slice(&(28u32 + 48).to_le_bytes());
    db.extend_from_slice(&0u32.to_le_bytes());
    db.extend_from_slice(&48u32.to_le_bytes());
    db.extend_from_slice(&owner.0);
    db.extend_from_slice(&[0xab; 32]);
    let bytes = store(
        StoreFormat::Authenticated,
        0x400,
        &[
            var(true, 0x3f, 0x27, EFI_IMAGE_SECURITY_DATABASE, "dbx", &db),
            var(
                true,
                0x3f,
                0x27,
                EFI_IMAGE_SECURITY_DATABASE,
                "db",
                &db[..40],
            ),
            var(true, 0x3f, 0x07, VENDOR, "dbx", &db),
        ],
    );
    let s = parse_store(&bytes, 0).unwrap();
    let lists = s.variables[0]
        .signature_lists
        .as_ref()
        .unwrap()
        .as_ref()
        .unwrap();
    assert_eq!(lists[0].type_name(), Some("SHA256"));
    assert_eq!(lists[0].entries[0].owner, owner);
    assert_eq!(lists[0].entries[0].hash.as_deref(), Some(&[0xab; 32][..]));
    assert!(s.variables[1].signature_lists.as_ref().unwrap().is_err());
    assert!(s.variables[2].signature_lists.is_none());
}

fn ftw_block(queue: usize) -> Vec<u8> {
    let mut h = WORKING_BLOCK_SIGNATURE.0.to_vec();
    h.extend_from_slice(&[0xff; 4]);
    h.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    h.extend_from_slice(&(queue as u64).to_le_bytes());
    let crc = crc32fast::hash(&h);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h[20] = 0xfe;
    h.resize(32 + queue, 0xff);
    h
}

#[test]
fn scan_recognises_stores_ftw_and_stray_bytes() {
    let mut area = sample();
    area.resize(0x800, 0xff);
    area.extend(ftw_block(0x1e0));
    area.resize(0x1000, 0xff);
    let n = scan(&area, 0x48);
    assert_eq!(n.stores.len(), 1);
    assert_eq!(n.ftw_blocks.len(), 1);
    let ftw = &n.ftw_blocks[0];
    assert_eq!(ftw.offset, 0x848);
    assert!(ftw.crc_valid && ftw.valid && !ftw.write_queue_in_use);
    assert!(n.issues.is_empty() && n.errors.is_empty(), "{n:?}");
    assert_eq!(find_ftw(&area), vec![0x800]);

    area[0x700] = 0x5a;
    area[0xf00] = 0x00;
    let n = scan(&area, 0);
    let offsets: Vec<u64> = n.issues.iter().map(|i| i.offset).collect();
    assert_eq!(offsets, [0x700, 0xf00]);

    // An FTW header whose queue runs past the end is an error, not a skip.
    let mut bad = ftw_block(0x10);
    bad[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    let n = scan(&bad, 0);
    assert_eq!(n.errors.len(), 1);
}
