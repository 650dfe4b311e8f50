//! `dmidecode` text parsing of arbitrary bytes (as lossy UTF-8): never panics, keeps its
//! record, field and line bounds, and what it reads normalizes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_smbios::{
    identifiers, parse_dmidecode_text, to_components, MAX_TEXT_FIELDS, MAX_TEXT_ITEMS,
    MAX_TEXT_LINE, MAX_TEXT_RECORDS,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_dmidecode_text(&text) {
        Ok(t) => {
            assert!(!t.records.is_empty() && t.records.len() <= MAX_TEXT_RECORDS);
            assert!(t.records.windows(2).all(|w| w[0].line < w[1].line));
            for r in &t.records {
                assert!(r.fields.len() <= MAX_TEXT_FIELDS);
                for f in &r.fields {
                    assert!(f.items.len() <= MAX_TEXT_ITEMS);
                    assert!(f.value.len() <= MAX_TEXT_LINE);
                }
            }
            for c in to_components(&t) {
                assert_eq!(c.source, "dmidecode");
            }
            let _ = identifiers(&t);
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
