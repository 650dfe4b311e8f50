//! `reference.toml` parsing answers every input with a value or a located error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Err(e) =
        tamperscan_fleet::boot_reference::parse_boot_reference(data, Path::new("reference.toml"))
    {
        let _ = e.to_string();
    }
});
