//! Redfish captures and `lspci` text answer every input with a value or an error, never a
//! panic. The first byte picks the parser; for captures the rest is split on 0xFF (never in
//! UTF-8 JSON) into resources: the first is the service root, the others are linkable as
//! `/redfish/v1/R<n>` so the walk has links to follow.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(devices) = tamperscan_redfish::parse_lspci_bytes(rest) {
            let _ = tamperscan_redfish::to_components(&devices);
        }
        return;
    }
    let mut resources = BTreeMap::new();
    for (i, part) in rest.split(|b| *b == 0xff).take(64).enumerate() {
        let key = if i == 0 {
            "redfish/v1/index.json".to_string()
        } else if mode % 4 == 1 {
            format!("redfish/v1/R{i}/index.json")
        } else {
            // A flat set of responses named by a collector.
            format!("response-{i}.json")
        };
        resources.insert(key, part.to_vec());
    }
    match tamperscan_redfish::parse_capture(&resources) {
        Ok(capture) => {
            for issue in &capture.issues {
                let _ = issue.message.len();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
