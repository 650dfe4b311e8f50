//! `host.toml` parsing answers every input with a value or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = tamperscan_fleet::parse_host_toml(data, Path::new("host.toml")) {
        let _ = e.to_string();
    }
});
