//! TCG event logs: parsing, replay, digest checks and event decoding never panic, and every
//! parsed event lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(log) = tamperscan_tcg::parse(data) else {
        return;
    };
    for event in &log.events {
        assert!(event.data_offset + event.data.len() as u64 <= data.len() as u64);
        let _ = tamperscan_tcg::event_data::describe(event);
    }
    let _ = tamperscan_tcg::replay(&log);
    let _ = tamperscan_tcg::check_digests(&log);
});
