//! Platform certificates and CA certificates (PEM or DER): parsing, delta chains, comparison,
//! signature checks and the class registry JSON never panic, and every issue offset lies
//! inside the decoded DER.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_platcert::platform_configuration::ComponentClassId;
use tamperscan_platcert::registry::ClassRegistry;
use tamperscan_platcert::{apply_deltas, compare, parse_all, pem, verify, Parsed};

fuzz_target!(|data: &[u8]| {
    let der_len = pem::unwrap(data)
        .ok()
        .and_then(|b| b.iter().map(|b| b.der.len() as u64).max())
        .unwrap_or(0);
    if let Ok(all) = parse_all(data) {
        let cas: Vec<_> = all
            .iter()
            .filter_map(Parsed::certificate)
            .cloned()
            .collect();
        for parsed in &all {
            match parsed {
                Parsed::Platform(p) => {
                    for issue in &p.issues {
                        assert!(issue.offset <= der_len);
                    }
                    for c in p.components() {
                        assert!(c.offset < der_len);
                        let _ = c.macs();
                    }
                    if let Ok(chain) = apply_deltas(p, std::slice::from_ref(p.as_ref())) {
                        let _ = compare(&chain, &[]);
                    }
                    for ca in &cas {
                        let _ = verify(p.as_ref(), ca, None);
                    }
                }
                Parsed::Certificate(c) => {
                    for issue in &c.issues {
                        assert!(issue.offset <= der_len);
                    }
                    let _ = verify(c.as_ref(), c, None);
                }
            }
        }
    }
    if let Ok(registry) = ClassRegistry::from_json(data) {
        let class = ComponentClassId {
            registry: "2.23.133.18.3.1".to_string(),
            value: 0x0001_0002,
        };
        let _ = (
            registry.describe(&class),
            registry.to_inventory_class(&class),
        );
    }
});
