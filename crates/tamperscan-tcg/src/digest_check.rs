//! Digest consistency: for events whose digest the PC Client PFP defines as the hash of their
//! own data, recompute it. A log edited after the fact (a variable's value changed, a separator
//! moved) is caught here even when someone also fixed up the PCR values it replays to.

use crate::alg::AlgId;
use crate::event_data::variable;
use crate::event_log::{Event, EventLog};
use crate::event_type::EventType;
use std::collections::HashMap;

/// An event whose recorded digest is not the hash of its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestMismatch {
    /// Event index.
    pub event: usize,
    /// Its PCR.
    pub pcr: u32,
    /// Its type.
    pub event_type: EventType,
    /// The bank.
    pub alg: AlgId,
    /// The digest in the log.
    pub recorded: Vec<u8>,
    /// What the data hashes to (the first acceptable form, for EV_EFI_VARIABLE_BOOT).
    pub computed: Vec<u8>,
}

/// The forms of the data whose hash the digest of `event` may be (at most two, held inline: a
/// fleet audit checks millions of events); empty when the digest is of something not in the
/// log (an image in memory, a firmware volume).
fn acceptable_inputs<'a>(event: &Event<'a>) -> Forms<'a> {
    let mut forms = Forms::default();
    match event.event_type {
        // PFP 10.4.4: digest of the data. EV_EFI_VARIABLE_AUTHORITY is not checked: genuine
        // logs (shim's vendor certificate, some EDK2 builds' db entries) carry digests of forms
        // of the certificate that are not in the log.
        EventType::EV_SEPARATOR
        | EventType::EV_EFI_ACTION
        | EventType::EV_EFI_VARIABLE_DRIVER_CONFIG
        | EventType::EV_EFI_GPT_EVENT
        | EventType::EV_EFI_GPT_EVENT2 => forms.push(event.data),
        // Boot variables: the PFP says the digest is of the whole UEFI_VARIABLE_DATA, but EDK2
        // and most vendors' firmware hash only VariableData; both are genuine.
        EventType::EV_EFI_VARIABLE_BOOT | EventType::EV_EFI_VARIABLE_BOOT2 => {
            forms.push(event.data);
            if let Ok(v) = variable(event.data, event.data_offset) {
                forms.push(v.data);
            }
        }
        _ => {}
    }
    forms
}

/// Up to two forms of an event's data, in the order they are tried.
#[derive(Default)]
struct Forms<'a> {
    forms: [&'a [u8]; 2],
    len: usize,
}

impl<'a> Forms<'a> {
    fn push(&mut self, form: &'a [u8]) {
        if let Some(slot) = self.forms.get_mut(self.len) {
            *slot = form;
            self.len += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.forms.iter().take(self.len).copied()
    }
}

/// Event data found to hash to its recorded digest, kept so that the same bytes met again in
/// another log (the db, dbx, KEK and PK variables are the same in every host of a model, and
/// they are most of a log's bytes) are compared instead of hashed again.
///
/// Sound by construction: an entry is only made after the data was hashed and matched, and a
/// hit needs the same bank, the same recorded digest and every byte of the data equal to the
/// entry's; anything else is hashed. Only positive results are kept, so a mismatch is always
/// computed and reported with the hash of the data. Bounded: data shorter than
/// [`DigestMemo::MIN_DATA`] is not kept (hashing it costs no more than a lookup), and once
/// [`DigestMemo::MAX_BYTES`] are held nothing more is added.
#[derive(Debug, Default)]
pub struct DigestMemo {
    /// Recorded digest, then the banks and data known to hash to it.
    known: HashMap<Box<[u8]>, Vec<KnownData>>,
    /// Data bytes held.
    bytes: usize,
}

/// A bank and data found to hash to the digest the entry is filed under.
type KnownData = (AlgId, Box<[u8]>);

impl DigestMemo {
    /// The shortest data kept.
    pub const MIN_DATA: usize = 256;
    /// The most data bytes one memo holds.
    pub const MAX_BYTES: usize = 4 * 1024 * 1024;

    /// An empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when `data` is byte for byte data already found to hash to `digest` in `alg`.
    fn knows(&self, alg: AlgId, digest: &[u8], data: &[u8]) -> bool {
        data.len() >= Self::MIN_DATA
            && self
                .known
                .get(digest)
                .is_some_and(|v| v.iter().any(|(a, d)| *a == alg && **d == *data))
    }

    /// Records that `data` hashes to `digest` in `alg` (just computed and compared).
    fn remember(&mut self, alg: AlgId, digest: &[u8], data: &[u8]) {
        if data.len() < Self::MIN_DATA || self.bytes + data.len() > Self::MAX_BYTES {
            return;
        }
        self.bytes += data.len();
        self.known
            .entry(digest.into())
            .or_default()
            .push((alg, data.into()));
    }
}

/// Every digest that does not match its event's data.
pub fn check_digests(log: &EventLog<'_>) -> Vec<DigestMismatch> {
    check(log, None)
}

/// [`check_digests`] with a memo kept across logs: data already seen to match its digest is
/// compared byte for byte instead of hashed again. The result is the same as without it.
pub fn check_digests_with(log: &EventLog<'_>, memo: &mut DigestMemo) -> Vec<DigestMismatch> {
    check(log, Some(memo))
}

fn check(log: &EventLog<'_>, mut memo: Option<&mut DigestMemo>) -> Vec<DigestMismatch> {
    let mut out = Vec::new();
    let skip_header = usize::from(log.spec_id.is_some());
    for event in log.events.iter().skip(skip_header) {
        if event.event_type == EventType::EV_NO_ACTION {
            // PFP 10.4.5: EV_NO_ACTION digests are all zero.
            for &(alg, digest) in &event.digests {
                if digest.iter().any(|&b| b != 0) {
                    out.push(mismatch(event, alg, digest, vec![0; digest.len()]));
                }
            }
            continue;
        }
        let forms = acceptable_inputs(event);
        if forms.is_empty() {
            continue;
        }
        for &(alg, digest) in &event.digests {
            // Forms are tried in order and hashing stops at the first that matches.
            let mut first = None;
            let mut matched = false;
            for form in forms.iter() {
                if memo.as_ref().is_some_and(|m| m.knows(alg, digest, form)) {
                    matched = true;
                    break;
                }
                let Some(h) = alg.digest(&[form]) else {
                    break;
                };
                if h.as_slice() == digest {
                    matched = true;
                    if let Some(m) = memo.as_deref_mut() {
                        m.remember(alg, digest, form);
                    }
                    break;
                }
                first.get_or_insert(h);
            }
            if let (false, Some(first)) = (matched, first) {
                out.push(mismatch(event, alg, digest, first.as_slice().to_vec()));
            }
        }
    }
    out
}

fn mismatch(event: &Event<'_>, alg: AlgId, recorded: &[u8], computed: Vec<u8>) -> DigestMismatch {
    DigestMismatch {
        event: event.index,
        pcr: event.pcr,
        event_type: event.event_type,
        alg,
        recorded: recorded.to_vec(),
        computed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event_log::parse;
    use crate::writer::LogWriter as LogBuilder;

    /// The memo changes nothing: a log edited after a genuine one with the same data was
    /// checked is still caught, in every bank, and genuine logs still pass.
    #[test]
    fn the_memo_gives_the_same_result() {
        let big = vec![0x5au8; 4 * DigestMemo::MIN_DATA];
        let genuine = LogBuilder::agile()
            .event(7, EventType::EV_EFI_VARIABLE_DRIVER_CONFIG, &big)
            .event(7, EventType::EV_SEPARATOR, &[0, 0, 0, 0])
            .bytes;
        let mut memo = DigestMemo::new();
        let log = parse(&genuine).unwrap();
        assert!(check_digests_with(&log, &mut memo).is_empty());
        assert!(memo.bytes >= 2 * big.len(), "both banks remembered");
        assert!(check_digests_with(&log, &mut memo).is_empty());
        // One byte of the data changed, digests left as they were: caught in both banks.
        let mut edited = genuine.clone();
        let at = log.events[1].data_offset as usize + big.len() / 2;
        edited[at] ^= 1;
        let edited_log = parse(&edited).unwrap();
        let with = check_digests_with(&edited_log, &mut memo);
        assert_eq!(with, check_digests(&edited_log));
        assert_eq!(with.len(), 2);
        // The same data under a digest that is not its hash: caught.
        let mut forged = genuine.clone();
        let digest_at = log.events[1].offset as usize + 4 + 4 + 4 + 2;
        forged[digest_at] ^= 1;
        let forged_log = parse(&forged).unwrap();
        let with = check_digests_with(&forged_log, &mut memo);
        assert_eq!(with, check_digests(&forged_log));
        assert_eq!(with.len(), 1);
    }

    #[test]
    fn an_edited_separator_is_caught() {
        let mut b = LogBuilder::agile()
            .event(7, EventType::EV_SEPARATOR, &[0, 0, 0, 0])
            .event(
                4,
                EventType::EV_EFI_ACTION,
                b"Calling EFI Application from Boot Option",
            )
            .bytes;
        let log = parse(&b).unwrap();
        assert!(check_digests(&log).is_empty());
        // Change the separator's data after the fact.
        let at = log.events[1].data_offset as usize;
        b[at] = 1;
        let mismatches = check_digests(&parse(&b).unwrap());
        assert_eq!(mismatches.len(), 2, "both banks: {mismatches:?}");
        assert_eq!(mismatches[0].event, 1);
        assert_eq!(mismatches[0].event_type, EventType::EV_SEPARATOR);
    }
}
