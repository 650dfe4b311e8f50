//! SPI-flash structures (Intel flash descriptor, ME `$FPT`, UEFI variable stores, FTW working
//! blocks, `EFI_SIGNATURE_LIST` chains): every entry point never panics, and everything it
//! returns lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_flash::{fpt, ifd, nvram};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;

    if let Some(at) = ifd::find(data) {
        assert!(at < data.len());
    }
    for version in [None, Some(ifd::IfdVersion::V1), Some(ifd::IfdVersion::V2)] {
        if let Ok(d) = ifd::parse_at(data, 0, version) {
            assert!(d.regions.len() <= ifd::MAX_REGIONS_V2);
            assert!(d.signature_offset + 4 <= len);
        }
    }
    let _ = ifd::parse(data);

    if let Some(at) = fpt::find(data) {
        if let Ok(t) = fpt::parse_with_base(&data[at..], at as u64) {
            for p in &t.partitions {
                assert!(p.entry_offset + 32 <= len);
            }
        }
    }
    if let Ok(t) = fpt::parse(data) {
        for p in &t.partitions {
            assert_eq!(p.inside_region, p.end() <= len);
        }
    }

    for at in nvram::find_stores(data) {
        if let Ok(store) = nvram::parse_store(&data[at..], at as u64) {
            for v in &store.variables {
                assert!(v.data_offset + v.data.len() as u64 <= len);
            }
        }
    }
    let _ = nvram::parse_store(data, 0);
    for at in nvram::find_ftw(data) {
        assert!(nvram::parse_ftw_working_block(&data[at..], at as u64).is_ok());
    }
    let area = nvram::scan(data, 0);
    for store in &area.stores {
        assert!(store.offset + u64::from(store.size) <= len);
    }
    for issue in &area.issues {
        assert!(issue.offset + issue.length <= len);
    }
    if let Ok(lists) = nvram::parse_signature_lists(data, 0) {
        for entry in lists.iter().flat_map(|l| &l.entries) {
            assert!(entry.data_offset + entry.data_len as u64 <= len);
        }
    }
});
