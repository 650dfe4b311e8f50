#![allow(clippy::unwrap_used)]
//! Signature schemes the real data set does not use (RSA-PSS, ECDSA P-256), on certificates
//! generated for these tests (see `fixtures/README.md`).

use tamperscan_platcert::{parse_certificate, verify};

#[test]
fn rsa_pss_and_p256_self_signed_verify_and_detect_tampering() {
    for (pem, alg) in [
        (
            &include_bytes!("fixtures/rsa-pss-self-signed.pem")[..],
            "RSASSA-PSS",
        ),
        (
            &include_bytes!("fixtures/p256-self-signed.pem")[..],
            "ecdsa-with-SHA256",
        ),
    ] {
        let cert = parse_certificate(pem).unwrap();
        assert!(cert.issues.is_empty(), "{:?}", cert.issues);
        let v = verify(&cert, &cert, None);
        assert_eq!(v.algorithm, alg);
        assert!(v.is_valid(), "{alg}: {:?}", v.reasons);
        assert_eq!(v.key_id_matches, Some(true));
        let mut bad = cert.clone();
        let mid = bad.tbs.len() / 2;
        bad.tbs[mid] ^= 0x04;
        assert!(!verify(&bad, &cert, None).signature_ok, "{alg}");
    }
}
