//! The ACPI CCEL table and TDX CC event logs: table parsing never panics and accepts only
//! tables whose bytes sum to zero; RTMR replay of any parsed log never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_tcg::ccel::{parse_ccel_table, replay_rtmrs, CCEL_TABLE_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(table) = parse_ccel_table(data) {
        assert!(data.len() >= CCEL_TABLE_LEN);
        assert_eq!(data.iter().fold(0u8, |a, b| a.wrapping_add(*b)), 0);
        let _ = table.fits(data.len() as u64);
    }
    if let Ok(log) = tamperscan_tcg::parse(data) {
        let _ = replay_rtmrs(&log);
    }
});
