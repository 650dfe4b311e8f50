#![allow(clippy::unwrap_used)]
//! Hostile inputs: truncations at every offset of real certificates, single-byte mutations,
//! garbage, absurd lengths, deep nesting. Nothing may panic; truncated DER must fail with an
//! offset inside the input.

use tamperscan_platcert::registry::ClassRegistry;
use tamperscan_platcert::*;

fn real(rel: &str) -> Option<Vec<u8>> {
    let dir = tamperscan_testdata::data_dir()?.join("inventory/tcg-platform-certs");
    Some(std::fs::read(dir.join(rel)).unwrap())
}

/// Exercises every entry point on whatever parsed.
fn exercise(bytes: &[u8]) {
    if let Ok(all) = parse_all(bytes) {
        for p in &all {
            match p {
                Parsed::Platform(pc) => {
                    let chain = apply_deltas(pc, std::slice::from_ref(pc));
                    if let Ok(chain) = chain {
                        let _ = compare(&chain, &[]);
                    }
                    let _ = pc.holder_points_at(pc);
                }
                Parsed::Certificate(c) => {
                    let _ = verify(c.as_ref(), c, None);
                    let _ = c.key_id();
                }
            }
        }
    }
}

#[test]
fn truncation_at_every_offset_fails_cleanly() {
    for rel in [
        "hirs-ci-laptop/deltaPlatMem/platformcerts/laptop_deltaPlatCert_addMem.crt",
        "hirs-ci-laptop/default/trustcerts/ca.crt",
        "oem-ca/dell/Dell_iDRAC_SCV-SIS.cer",
    ] {
        let Some(der) = real(rel) else { return };
        assert!(parse(&der).is_ok());
        for cut in 0..der.len() {
            let head = &der[..cut];
            match parse(head) {
                Ok(_) => panic!("{rel}: truncation at {cut} parsed"),
                Err(Error::Decode(e)) => assert!(e.offset <= cut as u64, "{rel} at {cut}: {e}"),
                Err(e) => panic!("{rel} at {cut}: unexpected {e}"),
            }
        }
    }
    // PEM input truncated anywhere: never a panic.
    let Some(pem) = real("paccor/sample_testgen1/platform_cert.20250909102720.crt") else {
        return;
    };
    for cut in (0..pem.len()).step_by(7) {
        exercise(&pem[..cut]);
    }
}

#[test]
fn every_single_byte_mutation_is_survived() {
    let Some(der) =
        real("hirs-ci-laptop/deltaPlatMem/platformcerts/laptop_deltaPlatCert_addMem.crt")
    else {
        return;
    };
    for i in 0..der.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut m = der.clone();
            m[i] ^= flip;
            exercise(&m);
        }
    }
}

#[test]
fn garbage_is_refused_without_panics() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..2000 {
        let len = (next() % 600) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 && !bytes.is_empty() {
            bytes[0] = 0x30; // look like DER
        }
        exercise(&bytes);
        let _ = ClassRegistry::from_json(&bytes);
    }
    assert!(parse(b"").is_err());
    assert!(parse(b"not a certificate").is_err());
}

#[test]
fn absurd_lengths_are_refused_with_offsets() {
    let cases: [&[u8]; 5] = [
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00],
        &[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        &[0x30, 0x80, 0x00, 0x00],
        &[0x30, 0x06, 0x30, 0x04, 0x02, 0x7f, 0x00, 0x00],
        &[0x30, 0x03, 0x30, 0x01],
    ];
    for c in cases {
        match parse(c) {
            Err(Error::Decode(e)) => assert!(e.offset <= c.len() as u64, "{e}"),
            other => panic!("{c:02x?}: {other:?}"),
        }
    }
    // A PEM body that decodes to an absurd length.
    let pem = b"-----BEGIN CERTIFICATE-----\nMIT/////\n-----END CERTIFICATE-----\n";
    assert!(parse(pem).is_err());
    assert!(ClassRegistry::from_json(&vec![b'['; 2 * 1024 * 1024]).is_err());
}

#[test]
fn deep_nesting_is_bounded() {
    // 5000 nested SEQUENCEs with long-form lengths: refused without recursion trouble.
    let mut nested: Vec<u8> = vec![0x05, 0x00];
    for _ in 0..5000 {
        let len = nested.len() as u32;
        let mut outer = vec![0x30, 0x84];
        outer.extend(len.to_be_bytes());
        outer.extend(&nested);
        nested = outer;
    }
    assert!(parse(&nested).is_err());
    // Deep nesting inside a real certificate's attribute: replace the tcgCredentialType value
    // by nested SEQUENCEs of the same size.
    let Some(der) =
        real("hirs-ci-laptop/deltaPlatMem/platformcerts/laptop_deltaPlatCert_addMem.crt")
    else {
        return;
    };
    let cert = parse_platform_certificate(&der).unwrap();
    assert!(cert.issues.is_empty());
    // The 9-byte value `30 07 06 05 67 81 05 08 05` becomes four nested SEQUENCEs + NULL.
    let needle = [0x30, 0x07, 0x06, 0x05, 0x67, 0x81, 0x05, 0x08, 0x05];
    let at = der.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut m = der.clone();
    m[at..at + 9].copy_from_slice(&[0x30, 0x07, 0x30, 0x05, 0x30, 0x03, 0x30, 0x01, 0x00]);
    let p = parse_platform_certificate(&m).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.credential_type, None);
    assert_eq!(p.issues.len(), 1);
    assert_eq!(p.issues[0].oid.as_deref(), Some("2.23.133.2.25"));
}
