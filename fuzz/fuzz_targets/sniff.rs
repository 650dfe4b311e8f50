//! Format sniffing, PNG header decoding and the text check never panic on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_bytes::{sniff, text};

fuzz_target!(|data: &[u8]| {
    let format = sniff::sniff(data);
    let _ = format.name();
    if let Ok(sniff::Format::Png { width, height, .. }) = sniff::png_header(data) {
        assert!(width > 0 && height > 0);
    }
    if let Ok(t) = text::as_text(data) {
        let _ = text::line_col(t, data.len() / 2);
    }
});
