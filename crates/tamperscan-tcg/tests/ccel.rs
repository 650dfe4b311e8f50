//! A real TDX guest's measurements, rebuilt as a CC event log, replay to the RTMRs its quote
//! reported (see `data/tdx-dstack-rtmr.txt` for where they come from).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // A test: fail loudly.

use tamperscan_bytes::{hex, unhex};
use tamperscan_tcg::ccel::{replay_rtmrs, RTMR_COUNT};
use tamperscan_tcg::writer::LogWriter;
use tamperscan_tcg::{check_digests, event_data, parse, AlgId, EventType, LogFormat};

const SAMPLE: &str = include_str!("data/tdx-dstack-rtmr.txt");

/// The rebuilt log (0xFF padding after it, as sysfs exports the log area) and the quote's RTMRs.
fn sample() -> (Vec<u8>, Vec<String>) {
    let mut log = LogWriter::cc_sha384();
    let mut rtmrs = Vec::new();
    for line in SAMPLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields[0].starts_with("rtmr") {
            rtmrs.push(fields[1].to_string());
            continue;
        }
        let rtmr: u32 = fields[0].parse().unwrap();
        let ty = EventType(fields[1].parse().unwrap());
        let digest = unhex(fields[2]).unwrap();
        let data = unhex(fields[3]).unwrap();
        log = log.event_with_digests(rtmr + 1, ty, &data, &[(AlgId::SHA384, digest)]);
    }
    let mut bytes = log.bytes;
    bytes.extend_from_slice(&[0xff; 4096]);
    (bytes, rtmrs)
}

#[test]
fn real_tdx_measurements_replay_to_the_quoted_rtmrs() {
    let (bytes, quoted) = sample();
    assert_eq!(quoted.len(), RTMR_COUNT as usize);
    let log = parse(&bytes).unwrap();
    assert_eq!(log.format, LogFormat::Ccel);
    assert_eq!(log.events.len(), 26);
    assert_eq!(log.trailing.map(|t| t.byte), Some(Some(0xff)));
    let (rtmrs, issues) = replay_rtmrs(&log);
    assert!(issues.is_empty(), "{issues:?}");
    let replayed: Vec<String> = rtmrs.0.iter().map(|r| hex(r)).collect();
    assert_eq!(replayed, quoted);
    // The genuine log's own digests are consistent with its data (boot variables hash their
    // VariableData, as EDK2 does) and its events decode.
    assert_eq!(check_digests(&log), Vec::new());
    let secure_boot = log
        .events
        .iter()
        .filter_map(|e| event_data::variable(e.data, e.data_offset).ok())
        .find(|v| v.name == "SecureBoot")
        .unwrap();
    assert_eq!(secure_boot.data, b"");
    for e in &log.events {
        let _ = event_data::describe(e);
    }
}

#[test]
fn one_changed_digest_or_data_byte_is_caught() {
    let (bytes, quoted) = sample();
    let log = parse(&bytes).unwrap();
    // The separator of RTMR1: change its data; the digest check must flag it.
    let sep = log
        .events
        .iter()
        .find(|e| e.pcr == 2 && e.event_type == EventType::EV_SEPARATOR)
        .unwrap();
    let mut edited = bytes.clone();
    edited[sep.data_offset as usize] = 1;
    let edited_log = parse(&edited).unwrap();
    assert_eq!(check_digests(&edited_log).len(), 1);
    // Change one digest byte of the first event: RTMR0 no longer matches the quote.
    let first = &log.events[1];
    let mut forged = bytes.clone();
    forged[first.offset as usize + 14] ^= 0x80;
    let (rtmrs, _) = replay_rtmrs(&parse(&forged).unwrap());
    assert_ne!(hex(&rtmrs.0[0]), quoted[0]);
    assert_eq!(hex(&rtmrs.0[1]), quoted[1]);
}
