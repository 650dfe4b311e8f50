#![no_main]
//! Any text as a firmware rule file: parsed or refused, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tamperscan_firmware::rules::RuleSet::parse(text);
    }
});
