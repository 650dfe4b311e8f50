//! `fleet.toml` parsing answers every input with a value or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = tamperscan_fleet::parse_fleet_toml(data, Path::new("fleet.toml")) {
        let _ = e.to_string();
    }
});
