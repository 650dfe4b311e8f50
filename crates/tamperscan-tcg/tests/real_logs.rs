//! Every real event log in the shared data set replays to its published PCR values.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use tamperscan_tcg::{check_digests, decode, event_data, parse, replay, AlgId};
use tamperscan_testdata::{data_dir, files_under};

struct Case {
    log: PathBuf,
    expected: serde_json::Value,
}

fn cases() -> Vec<Case> {
    let Some(data) = data_dir() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for path in files_under(&data.join("eventlogs")) {
        let name = path.to_string_lossy().to_string();
        let Some(log) = name.strip_suffix(".expected.json") else {
            continue;
        };
        let expected: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let kind = expected["kind"].as_str().unwrap_or("");
        if kind.starts_with("eventlog") {
            out.push(Case {
                log: PathBuf::from(log),
                expected,
            });
        }
    }
    out
}

#[test]
fn every_log_replays_to_its_expected_pcrs_in_every_bank() {
    let cases = cases();
    if cases.is_empty() {
        return;
    }
    let mut compared = 0;
    for case in &cases {
        let bytes = fs::read(&case.log).unwrap();
        let log = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", case.log.display()));
        if let Some(n) = case.expected["events_incl_header"].as_u64() {
            assert_eq!(
                log.events.len() as u64,
                n,
                "{}: event count",
                case.log.display()
            );
        }
        if let Some(n) = case.expected["trailing_bytes"].as_u64() {
            assert_eq!(
                log.trailing.map_or(0, |t| t.len),
                n,
                "{}: trailing bytes",
                case.log.display()
            );
        }
        let (pcrs, _issues) = replay(&log);
        let Some(banks) = case.expected["expected"]["pcrs"].as_object() else {
            continue;
        };
        for (bank, values) in banks {
            let alg = AlgId::from_name(bank).unwrap();
            let got: BTreeMap<u32, &Vec<u8>> = pcrs
                .banks
                .get(&alg)
                .map(|b| b.iter().map(|(k, v)| (*k, v)).collect())
                .unwrap_or_default();
            for (pcr, want) in values.as_object().unwrap() {
                let index: u32 = pcr.parse().unwrap();
                let size = alg.digest_size().unwrap();
                let reset = if (17..=22).contains(&index) {
                    vec![0xff; size]
                } else {
                    vec![0; size]
                };
                let value = got.get(&index).map_or(reset, |v| (*v).clone());
                let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(
                    &hex,
                    want.as_str().unwrap(),
                    "{} {bank} PCR{pcr}",
                    case.log.display()
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 400, "compared only {compared} PCR values");
}

#[test]
fn every_real_log_converted_to_cel_json_reads_back_to_the_same_events_and_pcrs() {
    let mut converted = 0;
    for case in cases() {
        let bytes = fs::read(&case.log).unwrap();
        let Ok(log) = parse(&bytes) else {
            continue; // must-fail cases are covered above
        };
        let json = tamperscan_tcg::cel_json::to_cel_json(&log);
        let mut scratch = Vec::new();
        let back = decode(json.as_bytes(), &mut scratch)
            .unwrap_or_else(|e| panic!("{}: CEL-JSON of it: {e}", case.log.display()));
        assert_eq!(
            back.events.len(),
            log.events.len(),
            "{}",
            case.log.display()
        );
        for (a, b) in log.events.iter().zip(&back.events) {
            assert_eq!(
                (a.pcr, a.event_type, a.data, &a.digests),
                (b.pcr, b.event_type, b.data, &b.digests),
                "{} event {}",
                case.log.display(),
                a.index
            );
        }
        assert_eq!(replay(&log).0, replay(&back).0, "{}", case.log.display());
        converted += 1;
    }
    if data_dir().is_some() {
        assert!(converted >= 20, "converted only {converted} logs");
    }
}

#[test]
fn genuine_logs_have_consistent_digests_and_decodable_events() {
    for case in cases() {
        let bytes = fs::read(&case.log).unwrap();
        let log = parse(&bytes).unwrap();
        let mismatches = check_digests(&log);
        assert!(
            mismatches.is_empty(),
            "{}: {mismatches:#?}",
            case.log.display()
        );
        for event in &log.events {
            let text = event_data::describe(event);
            assert!(
                !text.starts_with("undecodable"),
                "{} event {}: {text}",
                case.log.display(),
                event.index
            );
        }
    }
}

#[test]
fn tampering_with_any_event_byte_is_detected_or_refused() {
    let Some(case) = cases()
        .into_iter()
        .find(|c| c.log.ends_with("binary_measurements_pc_client.bin"))
    else {
        return;
    };
    let bytes = fs::read(&case.log).unwrap();
    let log = parse(&bytes).unwrap();
    let (genuine, _) = replay(&log);
    // Flip one byte in every event's data: the log must fail to parse, replay differently, or
    // show a digest mismatch, unless the event is one whose digest covers memory outside the log.
    let mut undetected = 0;
    let mut checked = 0;
    for event in log.events.iter().skip(1).filter(|e| !e.data.is_empty()) {
        let mut edited = bytes.clone();
        edited[event.data_offset as usize] ^= 0x01;
        checked += 1;
        match parse(&edited) {
            Err(_) => {}
            Ok(e) => {
                if replay(&e).0 == genuine && check_digests(&e).is_empty() {
                    undetected += 1;
                }
            }
        }
    }
    assert!(checked > 10);
    // Events whose digest is of an image or firmware in memory cannot be checked from the log.
    assert!(
        undetected < checked,
        "{undetected} of {checked} edits undetected"
    );
}
