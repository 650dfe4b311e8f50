//! CEL-JSON logs: decoding never panics, decoded values fit in half the input (hex), and a
//! decoded log replays, checks and re-encodes to JSON that decodes to the same events.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_tcg::cel_json::to_cel_json;

fuzz_target!(|data: &[u8]| {
    let mut scratch = Vec::new();
    let Ok(log) = tamperscan_tcg::decode(data, &mut scratch) else {
        return;
    };
    for event in &log.events {
        let _ = tamperscan_tcg::event_data::describe(event);
    }
    let _ = tamperscan_tcg::replay(&log);
    let _ = tamperscan_tcg::check_digests(&log);
    if log.format == tamperscan_tcg::LogFormat::CelJson {
        let text = to_cel_json(&log);
        let mut again = Vec::new();
        let back = tamperscan_tcg::decode(text.as_bytes(), &mut again).expect("re-encoded log");
        assert_eq!(back.events.len(), log.events.len());
    }
});
