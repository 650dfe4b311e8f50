//! SMBIOS binary decoding (dump-bin files with any entry point, Windows RawSMBIOSData, bare
//! tables) of arbitrary bytes: never panics, stays within its bounds, and what it decodes
//! normalizes without placeholders in identity fields.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_smbios::{
    identifiers, parse_binary, parse_entry_point, parse_table, to_components, MAX_STRING_LEN,
    MAX_STRUCTURES,
};

fuzz_target!(|data: &[u8]| {
    let _ = parse_entry_point(data);
    for result in [parse_binary(data), parse_table(data, None)] {
        match result {
            Ok(smbios) => {
                assert!(!smbios.structures.is_empty());
                assert!(smbios.structures.len() <= MAX_STRUCTURES);
                assert!(smbios
                    .structures
                    .windows(2)
                    .all(|w| w[0].offset < w[1].offset));
                for c in to_components(&smbios) {
                    assert_eq!(c.source, "smbios");
                    for v in [&c.manufacturer, &c.model, &c.serial, &c.location]
                        .into_iter()
                        .flatten()
                    {
                        assert!(!v.is_empty() && v.len() <= MAX_STRING_LEN + 16);
                    }
                }
                let ids = identifiers(&smbios);
                if let Some(uuid) = ids.smbios_uuid {
                    assert_eq!(uuid.len(), 36);
                    assert_eq!(uuid, uuid.to_ascii_lowercase());
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
