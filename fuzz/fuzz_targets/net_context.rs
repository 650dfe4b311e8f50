//! Fuzzes the network layer's own inputs: the `[policy]` table of `fleet.toml` and baseline
//! files written by `net scan --write-baseline`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tamperscan_net::{Baseline, Context};

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Baseline::from_json(data) {
        let again = Baseline::from_json(&b.to_json());
        assert!(again.is_ok(), "a written baseline must read back");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(table) = text.parse::<toml::Table>() {
            let _ = Context::from_policy(&table);
        }
    }
});
