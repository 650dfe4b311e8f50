//! Typed observations made from evidence bytes by the format crates (which do no I/O), kept
//! compact and owned so the bytes can be dropped as soon as a host is read.

use std::cell::RefCell;
use std::collections::BTreeSet;
use tamperscan_bytes::hex;
use tamperscan_tcg::{
    check_digests_with, decode, event_data, replay, AlgId, DigestMemo, EventType, LogFormat, Pcrs,
};

thread_local! {
    /// Event data this thread found to match its digest (see [`DigestMemo`]): the large
    /// variables (db, dbx, KEK) recur in every host of a model and are compared, not hashed
    /// again. Bounded, and gone with the reading thread.
    static DIGEST_MEMO: RefCell<DigestMemo> = RefCell::new(DigestMemo::new());
}

/// The PCRs whose events are kept for comparison with siblings: those the platform firmware
/// alone decides (0: S-CRTM and firmware blobs, 2: add-in device code, 7: Secure Boot policy).
/// PCR 1 holds per-machine data and PCRs 4 and up the operating system's choices.
pub const CONSENSUS_PCRS: [u32; 3] = [0, 2, 7];

/// The same for a TDX CC event log (CCEL), whose index is a measurement register: 1 (RTMR0)
/// holds what the TD firmware measures of its configuration and Secure Boot policy (PCRs 1
/// and 7 on a TPM); 2 and 3 (RTMR1, RTMR2) hold the OS loader, kernel and command line, each
/// host's own choice.
pub const CC_CONSENSUS_MRS: [u32; 1] = [1];

/// One TCG event log of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootLog {
    /// Evidence path, relative to the fleet root.
    pub path: String,
    /// The parsed log, or why it could not be parsed (with the offset).
    pub parsed: Result<BootSummary, String>,
}

/// The log that stands for a host's boot: the first one that parsed, with its path.
pub fn first_parsed(logs: &[BootLog]) -> Option<(&str, &BootSummary)> {
    logs.iter()
        .find_map(|l| l.parsed.as_ref().ok().map(|s| (l.path.as_str(), s)))
}

/// What a parsed event log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootSummary {
    /// The log format's name (`sha1`, `crypto-agile`, `cel-tlv`, `cel-json`, `ccel`).
    pub format: &'static str,
    /// How many events the log holds (the header included).
    pub event_count: usize,
    /// The events detectors look at: those of [`CONSENSUS_PCRS`] and those whose digest does
    /// not match their data. Keeping only these keeps a 100,000-host fleet in memory.
    pub events: Vec<BootEvent>,
    /// The indices whose events are kept and compared with siblings: [`CONSENSUS_PCRS`], or
    /// [`CC_CONSENSUS_MRS`] for a CC event log.
    pub compared: &'static [u32],
    /// Replayed PCRs (for a CC event log: the sha384 bank keyed by the log's own index).
    pub pcrs: Pcrs,
    /// Events whose digest is not the hash of their data.
    pub digest_mismatches: Vec<BootDigestMismatch>,
    /// Bytes after the last event that are not padding: (offset, length).
    pub trailing_garbage: Option<(u64, u64)>,
    /// The SecureBoot variable's value as measured into PCR 7 (`None`: not measured).
    pub secure_boot: Option<bool>,
    /// Events whose digest the model's reference forbids.
    pub forbidden_hits: Vec<BootEvent>,
}

/// One event, reduced to what detectors compare and show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEvent {
    /// Index in the log.
    pub index: usize,
    /// Offset in the log.
    pub offset: u64,
    /// PCR index (in a CC event log, the measurement register index: 1 = RTMR0).
    pub pcr: u32,
    /// In a CC event log, the register's name (`RTMR0`..`RTMR3`); `None` for a PCR.
    pub mr: Option<&'static str>,
    /// The event type.
    pub event_type: EventType,
    /// The strongest digest the event carries, the one siblings are compared on.
    pub digest: (AlgId, Vec<u8>),
    /// The decoded data, one line.
    pub description: String,
}

/// An event whose digest is not the hash of its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootDigestMismatch {
    /// Event index.
    pub event: usize,
    /// The bank.
    pub bank: String,
    /// Digest in the log.
    pub recorded: String,
    /// Hash of the data.
    pub computed: String,
}

/// Parses, replays and checks one log; `forbidden` holds `bank:hex` digests that must never
/// be measured (from the model's reference).
pub fn boot_log(path: &str, bytes: &[u8], forbidden: &BTreeSet<String>) -> BootLog {
    // CEL-JSON logs decode their hex values here; binary logs are borrowed from `bytes`.
    let mut scratch = Vec::new();
    let parsed = decode(bytes, &mut scratch)
        .map_err(|e| e.to_string())
        .map(|log| {
            let strongest = [
                AlgId::SHA512,
                AlgId::SHA384,
                AlgId::SHA256,
                AlgId::SM3_256,
                AlgId::SHA1,
            ];
            let mismatches = DIGEST_MEMO.with(|memo| match memo.try_borrow_mut() {
                Ok(mut memo) => check_digests_with(&log, &mut memo),
                Err(_) => tamperscan_tcg::check_digests(&log),
            });
            let edited: BTreeSet<usize> = mismatches.iter().map(|m| m.event).collect();
            let skip = usize::from(log.spec_id.is_some());
            let cc = log.format == LogFormat::Ccel;
            let compared: &'static [u32] = if cc {
                &CC_CONSENSUS_MRS
            } else {
                &CONSENSUS_PCRS
            };
            let mr = |index: u32| cc.then(|| tamperscan_tcg::ccel::mr_name(index)).flatten();
            // The SecureBoot variable is measured into PCR 7, or RTMR0 in a CC event log.
            let secure_boot_index = if cc { 1 } else { 7 };
            let events = log
                .events
                .iter()
                .skip(skip)
                .filter(|e| compared.contains(&e.pcr) || edited.contains(&e.index))
                .map(|e| {
                    let digest = strongest
                        .iter()
                        .find_map(|a| e.digest(*a).map(|d| (*a, d.to_vec())))
                        .or_else(|| e.digests.first().map(|(a, d)| (*a, d.to_vec())))
                        .unwrap_or((AlgId::SHA1, Vec::new()));
                    BootEvent {
                        index: e.index,
                        offset: e.offset,
                        pcr: e.pcr,
                        mr: mr(e.pcr),
                        event_type: e.event_type,
                        digest,
                        description: event_data::describe(e),
                    }
                })
                .collect();
            let (pcrs, _issues) = replay(&log);
            let secure_boot = log
                .events
                .iter()
                .filter(|e| {
                    e.pcr == secure_boot_index
                        && e.event_type == EventType::EV_EFI_VARIABLE_DRIVER_CONFIG
                })
                .filter_map(|e| event_data::variable(e.data, e.data_offset).ok())
                .find(|v| v.name == "SecureBoot" && v.guid == event_data::EFI_GLOBAL_VARIABLE)
                .map(|v| v.data == [1]);
            // Only hash-to-text what a reference forbids at all: most models list nothing.
            let forbidden_hits =
                log.events
                    .iter()
                    .skip(skip)
                    .filter(|_| !forbidden.is_empty())
                    .filter_map(|e| {
                        let (alg, d) = e.digests.iter().find(|(a, d)| {
                            forbidden.contains(&format!("{}:{}", a.name(), hex(d)))
                        })?;
                        Some(BootEvent {
                            index: e.index,
                            offset: e.offset,
                            pcr: e.pcr,
                            mr: mr(e.pcr),
                            event_type: e.event_type,
                            digest: (*alg, d.to_vec()),
                            description: event_data::describe(e),
                        })
                    })
                    .collect();
            BootSummary {
                compared,
                secure_boot,
                forbidden_hits,
                format: log.format.name(),
                event_count: log.events.len(),
                events,
                pcrs,
                digest_mismatches: mismatches
                    .into_iter()
                    .map(|m| BootDigestMismatch {
                        event: m.event,
                        bank: m.alg.name(),
                        recorded: hex(&m.recorded),
                        computed: hex(&m.computed),
                    })
                    .collect(),
                trailing_garbage: log
                    .trailing
                    .filter(|t| t.byte.is_none())
                    .map(|t| (t.offset, t.len)),
            }
        });
    BootLog {
        path: path.to_string(),
        parsed,
    }
}

/// The files of a host's TPM quote, gathered while its evidence is read.
#[derive(Debug, Default)]
pub struct QuoteParts {
    attest: Option<(String, Vec<u8>)>,
    signature: Option<(String, Vec<u8>)>,
    ak: Option<(String, Vec<u8>)>,
}

/// A host's TPM quote, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteObservation {
    /// The quote's path (or the first quote file found).
    pub path: String,
    /// The files the quote needs that the host lacks (`boot/quote.sig`, `boot/ak.*`, ...).
    pub missing: Vec<&'static str>,
    /// The verdict, or why the files could not be read as a quote.
    pub verdict: Option<Result<tamperscan_tcg::quote::QuoteVerdict, String>>,
}

impl QuoteParts {
    /// Records one file: `boot/quote.sig` is the `TPMT_SIGNATURE`, any other `boot/quote.*`
    /// the `TPMS_ATTEST`, `boot/ak.*` the attestation key.
    pub fn add(&mut self, kind: &tamperscan_model::EvidenceKind, path: &str, bytes: Vec<u8>) {
        let slot = match kind {
            tamperscan_model::EvidenceKind::AkPublic => &mut self.ak,
            _ if path.ends_with(".sig") => &mut self.signature,
            _ => &mut self.attest,
        };
        if slot.is_none() {
            *slot = Some((path.to_string(), bytes));
        }
    }

    /// Verifies the quote against the replayed PCRs of the host's first parsed log.
    pub fn verify(self, logs: &[BootLog], nonce: Option<&[u8]>) -> Option<QuoteObservation> {
        let path = [&self.attest, &self.signature, &self.ak]
            .iter()
            .find_map(|p| p.as_ref().map(|(p, _)| p.clone()))?;
        let mut missing = Vec::new();
        if self.attest.is_none() {
            missing.push("boot/quote.msg (TPMS_ATTEST)");
        }
        if self.signature.is_none() {
            missing.push("boot/quote.sig (TPMT_SIGNATURE)");
        }
        if self.ak.is_none() {
            missing.push("boot/ak.pem|der|pub (attestation key)");
        }
        let verdict = match (&self.attest, &self.signature, &self.ak) {
            (Some((_, attest)), Some((_, sig)), Some((ak_path, ak))) => Some(
                tamperscan_tcg::quote::parse_ak(ak)
                    .map_err(|e| format!("{ak_path}: {e}"))
                    .and_then(|ak| {
                        let pcrs = first_parsed(logs).map(|(_, s)| &s.pcrs);
                        tamperscan_tcg::quote::verify_quote(attest, sig, &ak, nonce, pcrs)
                            .map_err(|e| e.to_string())
                    }),
            ),
            _ => None,
        };
        Some(QuoteObservation {
            path,
            missing,
            verdict,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tamperscan_tcg::writer::{variable_data, LogWriter};

    #[test]
    fn a_cc_event_log_is_compared_on_rtmr0_and_its_secure_boot_read_there() {
        let secure_boot = variable_data(event_data::EFI_GLOBAL_VARIABLE, "SecureBoot", &[1]);
        let mut log = LogWriter::cc_sha384()
            .cc_event(1, EventType::EV_EFI_HANDOFF_TABLES2, b"td hob")
            .cc_event(1, EventType::EV_EFI_VARIABLE_DRIVER_CONFIG, &secure_boot)
            .cc_event(2, EventType::EV_EFI_BOOT_SERVICES_APPLICATION, b"grub")
            .cc_event(3, EventType::EV_EVENT_TAG, b"cmdline")
            .bytes;
        log.resize(log.len() + 512, 0xff);
        let parsed = boot_log("hosts/h/boot/eventlog.bin", &log, &BTreeSet::new());
        let summary = parsed.parsed.unwrap();
        assert_eq!(summary.format, "ccel");
        assert_eq!(summary.compared, &CC_CONSENSUS_MRS);
        assert_eq!(summary.events.len(), 2);
        assert!(summary.events.iter().all(|e| e.mr == Some("RTMR0")));
        assert_eq!(summary.secure_boot, Some(true));
        assert!(summary.digest_mismatches.is_empty());

        // A TPM log keeps PCRs 0, 2 and 7 and names no register.
        let tpm = LogWriter::agile()
            .event(0, EventType::EV_S_CRTM_VERSION, b"1.0")
            .event(1, EventType::EV_PLATFORM_CONFIG_FLAGS, b"serial")
            .bytes;
        let summary = boot_log("t", &tpm, &BTreeSet::new()).parsed.unwrap();
        assert_eq!(summary.compared, &CONSENSUS_PCRS);
        assert_eq!(summary.events.len(), 1);
        assert_eq!(summary.events[0].mr, None);
    }
}
