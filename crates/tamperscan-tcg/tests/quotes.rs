//! Quote verification against real quote vectors: each verifies, and fails when one byte of the
//! quote, the signature, the nonce or the PCR values changes.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use base64::Engine as _;
use std::fs;
use tamperscan_tcg::quote::{parse_ak, parse_attest, verify_quote};
use tamperscan_tcg::{parse, replay, AlgId, Pcrs};
use tamperscan_testdata::data_dir;

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// tpm2-tools 4.x `quotepcr.out`: the host-endian `TPML_PCR_SELECTION` struct (132 bytes), a
/// u32 count of `TPML_DIGEST` structs, then each (u32 count, 8 slots of u16 size + 64 bytes).
fn tpm2_tools_pcrs(bytes: &[u8], bank: AlgId, indices: &[u32]) -> Pcrs {
    let mut values = Vec::new();
    let count = u32::from_le_bytes(bytes[132..136].try_into().unwrap()) as usize;
    for d in 0..count {
        let base = 136 + d * 532;
        let n = u32::from_le_bytes(bytes[base..base + 4].try_into().unwrap()) as usize;
        for slot in 0..n {
            let at = base + 4 + slot * 66;
            let size = u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap()) as usize;
            values.push(bytes[at + 2..at + 2 + size].to_vec());
        }
    }
    let mut pcrs = Pcrs::default();
    let bank_values = pcrs.banks.entry(bank).or_default();
    for (index, value) in indices.iter().zip(values) {
        bank_values.insert(*index, value);
    }
    pcrs
}

#[test]
fn keylime_quote_vector_verifies_and_every_tamper_fails() {
    let Some(data) = data_dir() else { return };
    let dir = data.join("eventlogs/keylime-quote");
    let quote = fs::read(dir.join("quote.out")).unwrap();
    let sig = fs::read(dir.join("quotesig.out")).unwrap();
    let nonce = hex_decode("db1db298db6d60e6385b7231743e9c3056a18003");
    let attest = parse_attest(&quote).unwrap();
    let info = attest.quote.as_ref().unwrap();
    assert_eq!(info.selections, vec![(AlgId::SHA256, vec![15, 16, 22])]);
    assert_eq!(attest.extra_data, &nonce[..]);
    let pcrs = tpm2_tools_pcrs(
        &fs::read(dir.join("quotepcr.out")).unwrap(),
        AlgId::SHA256,
        &[15, 16, 22],
    );
    for ak_file in ["akpub.pem", "ak.pub"] {
        let ak = parse_ak(&fs::read(dir.join(ak_file)).unwrap()).unwrap();
        let v = verify_quote(&quote, &sig, &ak, Some(&nonce), Some(&pcrs)).unwrap();
        assert!(v.ok(), "{ak_file}: {v:?}");
        assert_eq!(v.pcr_digest_matches, Some(true));
        assert_eq!(v.selected, ["sha256:15", "sha256:16", "sha256:22"]);

        // One byte anywhere in the quote: the signature no longer verifies (or it no longer parses).
        for at in 0..quote.len() {
            let mut q = quote.clone();
            q[at] ^= 0x01;
            if let Ok(v) = verify_quote(&q, &sig, &ak, Some(&nonce), Some(&pcrs)) {
                assert!(!v.ok(), "{ak_file}: quote byte {at} changed, still ok");
            }
        }
        let mut s = sig.clone();
        let last = s.len() - 1;
        s[last] ^= 0x01;
        assert!(!verify_quote(&quote, &s, &ak, Some(&nonce), Some(&pcrs))
            .unwrap()
            .ok());
        let mut n = nonce.clone();
        n[0] ^= 0x01;
        let v = verify_quote(&quote, &sig, &ak, Some(&n), Some(&pcrs)).unwrap();
        assert_eq!(v.nonce_matches, Some(false));
        assert!(!v.ok());
        let mut p = pcrs.clone();
        p.banks
            .get_mut(&AlgId::SHA256)
            .unwrap()
            .get_mut(&16)
            .unwrap()[0] ^= 0x01;
        let v = verify_quote(&quote, &sig, &ak, Some(&nonce), Some(&p)).unwrap();
        assert_eq!(v.pcr_digest_matches, Some(false));
    }
}

#[test]
fn windows_quote_vector_verifies_against_its_own_replayed_log() {
    let Some(data) = data_dir() else { return };
    let json: serde_json::Value = serde_json::from_slice(
        &fs::read(data.join("eventlogs/go-attestation/windows_gcp_shielded_vm.json")).unwrap(),
    )
    .unwrap();
    let ak = parse_ak(&b64(json["AK"]["Public"].as_str().unwrap())).unwrap();
    let quote = b64(json["Quote"]["Quote"].as_str().unwrap());
    let sig = b64(json["Quote"]["Signature"].as_str().unwrap());
    let raw = b64(json["Log"]["Raw"].as_str().unwrap());
    let log = parse(&raw).unwrap();
    let (pcrs, _) = replay(&log);
    // The log replays to the PCR values the TPM reported, all 24 of them.
    for pcr in json["Log"]["PCRs"].as_array().unwrap() {
        let index = pcr["Index"].as_u64().unwrap() as u32;
        let want = b64(pcr["Digest"].as_str().unwrap());
        let reset = vec![if (17..=22).contains(&index) { 0xff } else { 0 }; 20];
        let got = pcrs
            .banks
            .get(&AlgId::SHA1)
            .and_then(|b| b.get(&index))
            .cloned()
            .unwrap_or(reset);
        assert_eq!(got, want, "PCR{index}");
    }
    let v = verify_quote(&quote, &sig, &ak, Some(&[]), Some(&pcrs)).unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.pcr_digest_matches, Some(true));
    // A log with one event changed replays to other PCRs: the quote no longer covers it.
    let event = &log.events[3];
    let mut edited = raw.clone();
    let digest_at = event.offset as usize + 8;
    edited[digest_at] ^= 0x01;
    let (other, _) = replay(&parse(&edited).unwrap());
    let v = verify_quote(&quote, &sig, &ak, Some(&[]), Some(&other)).unwrap();
    assert_eq!(v.pcr_digest_matches, Some(false));
}

#[test]
fn garbage_quotes_and_keys_are_errors_not_panics() {
    assert!(parse_attest(b"").is_err());
    assert!(parse_attest(&[0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0xff, 0xff]).is_err());
    assert!(parse_ak(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
    assert!(parse_ak(&[0x00, 0x01, 0x00]).is_err());
    let err = parse_attest(b"not a quote at all").unwrap_err();
    assert!(err.to_string().contains("TPM_GENERATED_VALUE"), "{err}");
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
