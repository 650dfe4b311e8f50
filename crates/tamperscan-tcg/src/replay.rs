//! PCR replay per the PC Client PFP (sections 3.3.4 and 10.4.5): every bank, StartupLocality,
//! EV_NO_ACTION never extended.

use crate::alg::AlgId;
use crate::event_log::EventLog;
use crate::event_type::EventType;
use std::collections::{BTreeMap, BTreeSet};

/// Number of PCRs of a PC Client TPM.
const PCR_COUNT: u32 = 24;

/// The data of the StartupLocality EV_NO_ACTION event, before its one-byte locality.
pub const STARTUP_LOCALITY: &[u8; 16] = b"StartupLocality\0";

/// Replayed PCR values: bank, then PCR index, then value. Only PCRs the log touched.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pcrs {
    /// Values per bank.
    pub banks: BTreeMap<AlgId, BTreeMap<u32, Vec<u8>>>,
}

/// Something in the log that replay could not use as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayIssue {
    /// The log declares a bank this build cannot compute.
    UnsupportedBank(AlgId),
    /// An event lacks the digest of a declared bank; that bank's PCR is then unknown.
    MissingDigest {
        /// Event index.
        event: usize,
        /// The bank.
        alg: AlgId,
    },
    /// An event names a PCR beyond 23 (Windows logs use 0xFFFFFFFF for such events).
    PcrOutOfRange {
        /// Event index.
        event: usize,
        /// The PCR index.
        pcr: u32,
    },
    /// A StartupLocality event after PCR 0 had already been extended: it cannot set its start.
    LateStartupLocality {
        /// Event index.
        event: usize,
    },
}

/// The reset value of `pcr`: all-zero, except PCRs 17-22 (dynamic launch) which reset to 0xFF.
fn reset_value(pcr: u32, size: usize) -> Vec<u8> {
    vec![if (17..=22).contains(&pcr) { 0xff } else { 0x00 }; size]
}

/// Replays every bank of `log`.
pub fn replay(log: &EventLog<'_>) -> (Pcrs, Vec<ReplayIssue>) {
    let mut issues = Vec::new();
    let mut banks = Vec::new();
    for alg in log.banks() {
        match alg.digest_size() {
            Some(size) => banks.push((alg, size)),
            None => issues.push(ReplayIssue::UnsupportedBank(alg)),
        }
    }
    let mut pcrs = Pcrs::default();
    let mut broken: BTreeSet<(AlgId, u32)> = BTreeSet::new();
    let mut locality: Option<u8> = None;
    let skip_header = usize::from(log.spec_id.is_some());
    for event in log.events.iter().skip(skip_header) {
        if event.event_type == EventType::EV_NO_ACTION {
            if event.pcr == 0 && event.data.len() == 17 && event.data.starts_with(STARTUP_LOCALITY)
            {
                let touched = pcrs.banks.values().any(|b| b.contains_key(&0));
                if touched {
                    issues.push(ReplayIssue::LateStartupLocality { event: event.index });
                } else {
                    locality = event.data.last().copied();
                }
            }
            continue;
        }
        if event.pcr >= PCR_COUNT {
            issues.push(ReplayIssue::PcrOutOfRange {
                event: event.index,
                pcr: event.pcr,
            });
            continue;
        }
        for &(alg, size) in &banks {
            let Some(digest) = event.digest(alg) else {
                issues.push(ReplayIssue::MissingDigest {
                    event: event.index,
                    alg,
                });
                broken.insert((alg, event.pcr));
                continue;
            };
            let bank = pcrs.banks.entry(alg).or_default();
            let current = bank.entry(event.pcr).or_insert_with(|| {
                let mut start = reset_value(event.pcr, size);
                if event.pcr == 0 {
                    if let (Some(l), Some(last)) = (locality, start.last_mut()) {
                        *last = l;
                    }
                }
                start
            });
            if let Some(next) = alg.digest(&[current, digest]) {
                current.clear();
                current.extend_from_slice(next.as_slice());
            }
        }
    }
    // A PCR whose chain missed a digest has no trustworthy value: leave it out.
    for (alg, pcr) in broken {
        if let Some(bank) = pcrs.banks.get_mut(&alg) {
            bank.remove(&pcr);
        }
    }
    (pcrs, issues)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::parse;
    use crate::writer::LogWriter as LogBuilder;

    fn extend(alg: AlgId, start: Vec<u8>, data: &[&[u8]]) -> Vec<u8> {
        data.iter().fold(start, |acc, d| {
            alg.hash(&[&acc, &alg.hash(&[d]).unwrap()]).unwrap()
        })
    }

    #[test]
    fn extends_every_bank_and_skips_no_action() {
        let b = LogBuilder::agile()
            .event(0, EventType::EV_S_CRTM_VERSION, b"v1")
            .event(0, EventType::EV_NO_ACTION, b"SP800-155 Event\0")
            .event(7, EventType::EV_SEPARATOR, &[0; 4])
            .event(0xffff_ffff, EventType::EV_NO_ACTION, b"windows")
            .event(0xffff_ffff, EventType(0x8000_0099), b"windows")
            .bytes;
        let log = parse(&b).unwrap();
        let (pcrs, issues) = replay(&log);
        for alg in [AlgId::SHA1, AlgId::SHA256] {
            let size = alg.digest_size().unwrap();
            assert_eq!(pcrs.banks[&alg][&0], extend(alg, vec![0; size], &[b"v1"]));
            assert_eq!(pcrs.banks[&alg][&7], extend(alg, vec![0; size], &[&[0; 4]]));
            assert_eq!(pcrs.banks[&alg].len(), 2);
        }
        assert_eq!(
            issues,
            vec![ReplayIssue::PcrOutOfRange {
                event: 5,
                pcr: 0xffff_ffff
            }]
        );
    }

    #[test]
    fn startup_locality_sets_pcr0_start() {
        let mut locality = STARTUP_LOCALITY.to_vec();
        locality.push(3);
        let b = LogBuilder::agile()
            .event(0, EventType::EV_NO_ACTION, &locality)
            .event(0, EventType::EV_S_CRTM_VERSION, b"v1")
            .event(17, EventType::EV_EVENT_TAG, b"drtm")
            .bytes;
        let (pcrs, issues) = replay(&parse(&b).unwrap());
        assert!(issues.is_empty());
        let mut start = vec![0u8; 32];
        start[31] = 3;
        assert_eq!(
            pcrs.banks[&AlgId::SHA256][&0],
            extend(AlgId::SHA256, start, &[b"v1"])
        );
        assert_eq!(
            pcrs.banks[&AlgId::SHA256][&17],
            extend(AlgId::SHA256, vec![0xff; 32], &[b"drtm"])
        );
    }

    #[test]
    fn late_startup_locality_is_an_issue_not_a_reset() {
        let mut locality = STARTUP_LOCALITY.to_vec();
        locality.push(3);
        let b = LogBuilder::agile()
            .event(0, EventType::EV_S_CRTM_VERSION, b"v1")
            .event(0, EventType::EV_NO_ACTION, &locality)
            .bytes;
        let (pcrs, issues) = replay(&parse(&b).unwrap());
        assert_eq!(issues, vec![ReplayIssue::LateStartupLocality { event: 2 }]);
        assert_eq!(
            pcrs.banks[&AlgId::SHA1][&0],
            extend(AlgId::SHA1, vec![0; 20], &[b"v1"])
        );
    }
}
