//! Digest consistency: for events whose digest the PC Client PFP defines as the hash of their
//! own data, recompute it. A log edited after the fact (a variable's value changed, a separator
//! moved) is caught here even when someone also fixed up the PCR values it replays to.

use crate::alg::AlgId;
use crate::event_data::variable;
use crate::event_log::{Event, EventLog};
use crate::event_type::EventType;

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

/// The forms of the data whose hash the digest of `event` may be; empty when the digest is of
/// something not in the log (an image in memory, a firmware volume).
fn acceptable_inputs<'a>(event: &Event<'a>) -> Vec<&'a [u8]> {
    match event.event_type {
        // PFP 10.4.4: digest of the data. EV_EFI_VARIABLE_AUTHORITY is not checked: genuine
        // logs (shim's vendor certificate, some EDK2 builds' db entries) carry digests of forms
        // of the certificate that are not in the log.
        EventType::EV_SEPARATOR
        | EventType::EV_EFI_ACTION
        | EventType::EV_EFI_VARIABLE_DRIVER_CONFIG
        | EventType::EV_EFI_GPT_EVENT
        | EventType::EV_EFI_GPT_EVENT2 => vec![event.data],
        // Boot variables: the PFP says the digest is of the whole UEFI_VARIABLE_DATA, but EDK2
        // and most vendors' firmware hash only VariableData; both are genuine.
        EventType::EV_EFI_VARIABLE_BOOT | EventType::EV_EFI_VARIABLE_BOOT2 => {
            let mut forms = vec![event.data];
            if let Ok(v) = variable(event.data, event.data_offset) {
                forms.push(v.data);
            }
            forms
        }
        _ => Vec::new(),
    }
}

/// Every digest that does not match its event's data.
pub fn check_digests(log: &EventLog<'_>) -> Vec<DigestMismatch> {
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
            for form in &forms {
                let Some(h) = alg.digest(&[form]) else {
                    break;
                };
                if h.as_slice() == digest {
                    matched = true;
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
