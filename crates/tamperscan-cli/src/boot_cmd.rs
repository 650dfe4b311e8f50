//! `tamperscan boot events|replay LOG`: read TCG event logs (binary, CEL-TLV, CEL-JSON, TDX
//! CCEL) and ACPI `CCEL` tables.

use crate::{Format, EXIT_FINDINGS, EXIT_PASS, EXIT_TROUBLE};
use anyhow::{bail, Context};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tamperscan_bytes::hex;
use tamperscan_tcg::ccel::{parse_ccel_table, replay_rtmrs, CcelTable, CCEL_SIGNATURE};
use tamperscan_tcg::{
    check_digests, decode, event_data, replay, EventLog, LogFormat, ReplayIssue, MAX_EVENT_SIZE,
};

/// The largest log file read (real logs are tens of KiB; firmware log areas at most a few MiB).
const LOG_SIZE_LIMIT: u64 = 4 * MAX_EVENT_SIZE;

/// One pretty JSON document and a newline.
pub(crate) fn write_json(out: &mut impl Write, doc: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)?;
    Ok(())
}

fn read_log(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(LOG_SIZE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > LOG_SIZE_LIMIT {
        bail!(
            "{} is larger than {LOG_SIZE_LIMIT} bytes; no TCG event log is that large",
            path.display()
        );
    }
    Ok(bytes)
}

/// Parses any log format tamperscan reads; CEL-JSON values are decoded into `scratch`.
fn parse_or_explain<'a>(
    path: &Path,
    bytes: &'a [u8],
    scratch: &'a mut Vec<u8>,
) -> anyhow::Result<EventLog<'a>> {
    decode(bytes, scratch).with_context(|| {
        format!(
            "{} is not a TCG event log (legacy SHA1, crypto-agile, CEL-TLV, CEL-JSON or TDX CCEL)",
            path.display()
        )
    })
}

/// True when the file is an ACPI `CCEL` table rather than a log.
fn is_ccel_table(bytes: &[u8]) -> bool {
    bytes.starts_with(CCEL_SIGNATURE)
}

/// The ACPI `CCEL` table, for JSON.
#[derive(Serialize)]
struct CcelTableDoc {
    cc_type: String,
    cc_subtype: u8,
    revision: u8,
    oem_id: String,
    oem_table_id: String,
    log_area_start_address: String,
    log_area_minimum_length: u64,
}

fn ccel_table_doc(t: &CcelTable) -> CcelTableDoc {
    CcelTableDoc {
        cc_type: t.cc_type.name(),
        cc_subtype: t.cc_subtype,
        revision: t.revision,
        oem_id: String::from_utf8_lossy(&t.oem_id).trim_end().to_string(),
        oem_table_id: String::from_utf8_lossy(&t.oem_table_id)
            .trim_end()
            .to_string(),
        log_area_start_address: format!("0x{:x}", t.log_area_start_address),
        log_area_minimum_length: t.log_area_minimum_length,
    }
}

fn read_ccel_table(path: &Path, bytes: &[u8]) -> anyhow::Result<CcelTableDoc> {
    let table = parse_ccel_table(bytes)
        .with_context(|| format!("{} is not a valid ACPI CCEL table", path.display()))?;
    Ok(ccel_table_doc(&table))
}

#[derive(Serialize)]
struct EventEntry {
    index: usize,
    offset: u64,
    pcr: u32,
    /// In a CCEL log, the register the index names (`RTMR0`..`RTMR3`, `MRTD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    mr: Option<&'static str>,
    event_type: String,
    event_type_value: u32,
    digests: BTreeMap<String, String>,
    data_size: usize,
    description: String,
}

#[derive(Serialize)]
struct EventsDocument {
    file: String,
    format: &'static str,
    banks: Vec<String>,
    events: Vec<EventEntry>,
    trailing: Option<Trailing>,
}

#[derive(Serialize)]
struct Trailing {
    offset: u64,
    length: u64,
    padding: Option<String>,
}

fn trailing(log: &EventLog<'_>) -> Option<Trailing> {
    log.trailing.map(|t| Trailing {
        offset: t.offset,
        length: t.len,
        padding: t.byte.map(|b| format!("0x{b:02x}")),
    })
}

/// Output of `boot events`: the two usual ones, or the log converted to CEL-JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventsFormat {
    /// A table for people
    Text,
    /// One JSON document for scripts (schema in the README)
    Json,
    /// The log itself as a TCG Canonical Event Log in its JSON form
    CelJson,
}

/// `tamperscan boot events LOG`.
pub fn events(path: &Path, events_format: EventsFormat) -> anyhow::Result<u8> {
    let format = match events_format {
        EventsFormat::Text => Format::Text,
        EventsFormat::Json | EventsFormat::CelJson => Format::Json,
    };
    let bytes = read_log(path)?;
    if is_ccel_table(&bytes) {
        if events_format == EventsFormat::CelJson {
            bail!(
                "{} is an ACPI CCEL table, which holds no events: give the log it points at \
                 (/sys/firmware/acpi/tables/data/CCEL)",
                path.display()
            );
        }
        return print_ccel_table(path, &bytes, format);
    }
    let mut scratch = Vec::new();
    let log = parse_or_explain(path, &bytes, &mut scratch)?;
    if events_format == EventsFormat::CelJson {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", tamperscan_tcg::cel_json::to_cel_json(&log))?;
        return Ok(EXIT_PASS);
    }
    let doc = EventsDocument {
        file: path.display().to_string(),
        format: log.format.name(),
        banks: log.banks().iter().map(|a| a.name()).collect(),
        events: log
            .events
            .iter()
            .map(|e| EventEntry {
                index: e.index,
                offset: e.offset,
                pcr: e.pcr,
                mr: (log.format == LogFormat::Ccel)
                    .then(|| tamperscan_tcg::ccel::mr_name(e.pcr))
                    .flatten(),
                event_type: e.event_type.to_string(),
                event_type_value: e.event_type.0,
                digests: e.digests.iter().map(|(a, d)| (a.name(), hex(d))).collect(),
                data_size: e.data.len(),
                description: event_data::describe(e),
            })
            .collect(),
        trailing: trailing(&log),
    };
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &doc)?,
        Format::Text => {
            writeln!(
                out,
                "{}: {} log, banks {}, {} events",
                doc.file,
                doc.format,
                doc.banks.join(", "),
                doc.events.len()
            )?;
            for e in &doc.events {
                let digest = e
                    .digests
                    .get("sha256")
                    .or_else(|| e.digests.values().next())
                    .map_or("", String::as_str);
                let short = digest.get(..16).unwrap_or(digest);
                let register = match e.mr {
                    Some(mr) => format!("{mr:<5}"),
                    None => format!("PCR{:<2}", pcr_label(e.pcr)),
                };
                writeln!(
                    out,
                    "{:>4}  {register} {:<34} {short}  {}",
                    e.index, e.event_type, e.description
                )?;
            }
            if let Some(t) = &doc.trailing {
                writeln!(
                    out,
                    "trailing: {} bytes at offset {} ({})",
                    t.length,
                    t.offset,
                    t.padding
                        .as_deref()
                        .map_or("not padding".to_string(), |p| format!("{p} padding"))
                )?;
            }
        }
    }
    Ok(EXIT_PASS)
}

/// `boot events TABLE`: the ACPI `CCEL` table says where the CC event log lies.
fn print_ccel_table(path: &Path, bytes: &[u8], format: Format) -> anyhow::Result<u8> {
    let doc = read_ccel_table(path, bytes)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &doc)?,
        Format::Text => writeln!(
            out,
            "{}: ACPI CCEL table, {} (subtype {}), event log area at {}, {} bytes",
            path.display(),
            doc.cc_type,
            doc.cc_subtype,
            doc.log_area_start_address,
            doc.log_area_minimum_length
        )?,
    }
    Ok(EXIT_PASS)
}

fn pcr_label(pcr: u32) -> String {
    if pcr == u32::MAX {
        "-1".into()
    } else {
        pcr.to_string()
    }
}

#[derive(Serialize)]
struct ReplayDocument {
    file: String,
    format: &'static str,
    events: usize,
    /// Bank name, then PCR index as a decimal string, then lowercase hex: the shape of the
    /// shared data set's `expected.pcrs`. For a CCEL log the index is the log's own index
    /// field (1 to 4 = RTMR0..RTMR3), as a TPM-minded tool would print it.
    pcrs: BTreeMap<String, BTreeMap<String, String>>,
    /// A CCEL log's RTMR values, RTMR index (0 to 3) as a decimal string, then lowercase hex:
    /// what a TDX quote reports (RTMR3 also holds what the OS extends after boot).
    #[serde(skip_serializing_if = "Option::is_none")]
    rtmrs: Option<BTreeMap<String, String>>,
    /// The ACPI `CCEL` table, when the file is one (it holds the log's place, not the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    ccel_table: Option<CcelTableDoc>,
    /// The file's size (to check a CCEL log against a CCEL table given beside it).
    #[serde(skip)]
    size: u64,
    digest_mismatches: Vec<Mismatch>,
    issues: Vec<String>,
    trailing: Option<Trailing>,
}

#[derive(Serialize)]
struct Mismatch {
    event: usize,
    pcr: u32,
    event_type: String,
    bank: String,
    recorded: String,
    computed: String,
}

/// `tamperscan boot replay LOG...`: logs are read and replayed in parallel; exit 1 when a log
/// shows signs of editing (digests that are not the hash of their data, or bytes after the last
/// event that are not padding), 2 when a file is no event log (the others are still reported).
pub fn replay_cmd(paths: &[PathBuf], format: Format) -> anyhow::Result<u8> {
    let mut docs: Vec<anyhow::Result<ReplayDocument>> =
        paths.par_iter().map(|p| replay_one(p)).collect();
    check_against_ccel_table(&mut docs);
    let mut code = EXIT_PASS;
    let mut out = std::io::stdout().lock();
    let mut json_docs = Vec::new();
    for (path, doc) in paths.iter().zip(docs) {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) if paths.len() == 1 => return Err(e),
            Err(e) => {
                eprintln!("tamperscan: {}: {e:#}", path.display());
                code = EXIT_TROUBLE;
                continue;
            }
        };
        let suspicious = !doc.digest_mismatches.is_empty()
            || doc.trailing.as_ref().is_some_and(|t| t.padding.is_none());
        if suspicious && code == EXIT_PASS {
            code = EXIT_FINDINGS;
        }
        match format {
            Format::Json => json_docs.push(doc),
            Format::Text => write_replay_text(&mut out, &doc)?,
        }
    }
    if format == Format::Json {
        // One log: its document; several: an array of them.
        if paths.len() == 1 {
            if let Some(doc) = json_docs.first() {
                write_json(&mut out, doc)?;
            }
        } else {
            write_json(&mut out, &json_docs)?;
        }
    }
    Ok(code)
}

/// A CCEL table given beside CCEL logs: each log must fit the log area the table declares.
fn check_against_ccel_table(docs: &mut [anyhow::Result<ReplayDocument>]) {
    let table = docs.iter().find_map(|d| {
        let d = d.as_ref().ok()?;
        Some((
            d.file.clone(),
            d.ccel_table.as_ref()?.log_area_minimum_length,
        ))
    });
    let Some((table_file, laml)) = table else {
        return;
    };
    for doc in docs.iter_mut().flatten() {
        if doc.format == LogFormat::Ccel.name() && doc.size > laml {
            doc.issues.push(format!(
                "the log is {} bytes, more than the {laml}-byte log area {table_file} declares",
                doc.size
            ));
        }
    }
}

fn replay_one(path: &Path) -> anyhow::Result<ReplayDocument> {
    let bytes = read_log(path)?;
    if is_ccel_table(&bytes) {
        return Ok(ReplayDocument {
            file: path.display().to_string(),
            format: "ccel-table",
            events: 0,
            pcrs: BTreeMap::new(),
            rtmrs: None,
            ccel_table: Some(read_ccel_table(path, &bytes)?),
            size: bytes.len() as u64,
            digest_mismatches: Vec::new(),
            issues: Vec::new(),
            trailing: None,
        });
    }
    let mut scratch = Vec::new();
    let log = parse_or_explain(path, &bytes, &mut scratch)?;
    let (pcrs, mut issues) = replay(&log);
    let rtmrs = (log.format == LogFormat::Ccel).then(|| {
        let (rtmrs, rtmr_issues) = replay_rtmrs(&log);
        issues.extend(rtmr_issues);
        rtmrs
            .0
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), hex(v)))
            .collect()
    });
    let mismatches = check_digests(&log);
    Ok(ReplayDocument {
        file: path.display().to_string(),
        format: log.format.name(),
        events: log.events.len(),
        rtmrs,
        ccel_table: None,
        size: bytes.len() as u64,
        pcrs: pcrs
            .banks
            .iter()
            .map(|(alg, bank)| {
                (
                    alg.name(),
                    bank.iter().map(|(i, v)| (i.to_string(), hex(v))).collect(),
                )
            })
            .collect(),
        digest_mismatches: mismatches
            .iter()
            .map(|m| Mismatch {
                event: m.event,
                pcr: m.pcr,
                event_type: m.event_type.to_string(),
                bank: m.alg.name(),
                recorded: hex(&m.recorded),
                computed: hex(&m.computed),
            })
            .collect(),
        issues: issues.iter().map(describe_issue).collect(),
        trailing: trailing(&log),
    })
}

fn write_replay_text(out: &mut impl Write, doc: &ReplayDocument) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: {} log, {} events",
        doc.file, doc.format, doc.events
    )?;
    for (bank, values) in &doc.pcrs {
        let mut sorted: Vec<(&String, &String)> = values.iter().collect();
        sorted.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
        for (pcr, value) in sorted {
            writeln!(out, "{bank:<7} PCR{pcr:<2} {value}")?;
        }
    }
    for (index, value) in doc.rtmrs.iter().flatten() {
        writeln!(out, "RTMR{index}   {value}")?;
    }
    if let Some(t) = &doc.ccel_table {
        writeln!(
            out,
            "ACPI CCEL table: {} (subtype {}), event log area at {}, {} bytes",
            t.cc_type, t.cc_subtype, t.log_area_start_address, t.log_area_minimum_length
        )?;
    }
    for m in &doc.digest_mismatches {
        writeln!(
            out,
            "EDITED? event {} (PCR{} {}) {} digest {} is not the hash of its data ({})",
            m.event, m.pcr, m.event_type, m.bank, m.recorded, m.computed
        )?;
    }
    for i in &doc.issues {
        writeln!(out, "note: {i}")?;
    }
    if let Some(t) = doc.trailing.as_ref().filter(|t| t.padding.is_none()) {
        writeln!(
            out,
            "SUSPICIOUS: {} bytes after the last event at offset {} are not padding",
            t.length, t.offset
        )?;
    }
    Ok(())
}

fn describe_issue(issue: &ReplayIssue) -> String {
    match issue {
        ReplayIssue::UnsupportedBank(alg) => format!("bank {alg} is not computed by this build"),
        ReplayIssue::MissingDigest { event, alg } => {
            format!("event {event} has no {alg} digest; that PCR is left out")
        }
        ReplayIssue::PcrOutOfRange { event, pcr } => {
            format!("event {event} names PCR {} (not extended)", pcr_label(*pcr))
        }
        ReplayIssue::LateStartupLocality { event } => {
            format!("event {event} is a StartupLocality event after PCR 0 was extended (ignored)")
        }
    }
}

/// Arguments of `tamperscan boot verify`.
pub struct VerifyArgs<'a> {
    /// `TPMS_ATTEST`.
    pub quote: &'a Path,
    /// `TPMT_SIGNATURE`.
    pub signature: &'a Path,
    /// The attestation key.
    pub ak: &'a Path,
    /// Expected nonce, hex.
    pub nonce: Option<&'a str>,
    /// Event log whose replay the quote must cover.
    pub log: Option<&'a Path>,
}

#[derive(Serialize)]
struct VerifyDocument {
    ok: bool,
    signature_valid: bool,
    is_quote: bool,
    nonce_matches: Option<bool>,
    pcr_digest_matches: Option<bool>,
    selected: Vec<String>,
    extra_data: String,
    pcr_digest: Option<String>,
    clock: u64,
    reset_count: u32,
    restart_count: u32,
    firmware_version: String,
}

fn read_small(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open the {what} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(1024 * 1024 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > 1024 * 1024 {
        bail!("{} is larger than 1 MiB; no {what} is", path.display());
    }
    Ok(bytes)
}

/// `tamperscan boot verify`: exit 0 when every check passes, 1 when one fails.
pub fn verify(args: &VerifyArgs<'_>, format: Format) -> anyhow::Result<u8> {
    use tamperscan_tcg::quote::{parse_ak, parse_attest, verify_quote};
    let quote = read_small(args.quote, "quote")?;
    let signature = read_small(args.signature, "signature")?;
    let ak_bytes = read_small(args.ak, "attestation key")?;
    let ak = parse_ak(&ak_bytes).with_context(|| {
        format!(
            "{} is not an attestation key (PEM, DER or TPM2B_PUBLIC)",
            args.ak.display()
        )
    })?;
    let nonce = match args.nonce {
        Some(h) => {
            Some(tamperscan_bytes::unhex(h).with_context(|| format!("--nonce {h:?} is not hex"))?)
        }
        None => None,
    };
    let log_bytes = match args.log {
        Some(p) => Some(read_log(p)?),
        None => None,
    };
    let pcrs = match (&log_bytes, args.log) {
        (Some(bytes), Some(path)) => {
            let mut scratch = Vec::new();
            Some(replay(&parse_or_explain(path, bytes, &mut scratch)?).0)
        }
        _ => None,
    };
    let attest = parse_attest(&quote)
        .with_context(|| format!("{} is not a TPMS_ATTEST", args.quote.display()))?;
    let verdict = verify_quote(&quote, &signature, &ak, nonce.as_deref(), pcrs.as_ref())
        .with_context(|| format!("{} is not a TPMT_SIGNATURE", args.signature.display()))?;
    let doc = VerifyDocument {
        ok: verdict.ok(),
        signature_valid: verdict.signature_valid,
        is_quote: verdict.is_quote,
        nonce_matches: verdict.nonce_matches,
        pcr_digest_matches: verdict.pcr_digest_matches,
        selected: verdict.selected.clone(),
        extra_data: hex(attest.extra_data),
        pcr_digest: attest.quote.as_ref().map(|q| hex(q.pcr_digest)),
        clock: attest.clock,
        reset_count: attest.reset_count,
        restart_count: attest.restart_count,
        firmware_version: format!("0x{:016x}", attest.firmware_version),
    };
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &doc)?,
        Format::Text => {
            let mark = |b: Option<bool>| match b {
                Some(true) => "ok",
                Some(false) => "FAILED",
                None => "not checked",
            };
            writeln!(
                out,
                "quote {}: {}",
                args.quote.display(),
                if doc.ok { "VERIFIED" } else { "NOT VERIFIED" }
            )?;
            writeln!(out, "  signature:  {}", mark(Some(doc.signature_valid)))?;
            writeln!(out, "  quote type: {}", mark(Some(doc.is_quote)))?;
            writeln!(
                out,
                "  nonce:      {} (extraData {})",
                mark(doc.nonce_matches),
                doc.extra_data
            )?;
            writeln!(
                out,
                "  PCR digest: {} (covers {})",
                mark(doc.pcr_digest_matches),
                doc.selected.join(", ")
            )?;
        }
    }
    Ok(if doc.ok { EXIT_PASS } else { EXIT_FINDINGS })
}

/// `tamperscan boot learn FLEET_DIR --model M`: a reference from the model's known-good hosts.
pub fn learn(dir: &Path, model: &str, out: Option<&Path>) -> anyhow::Result<u8> {
    let fleet = match tamperscan_fleet::load(dir, &|_, _| {}) {
        Ok(f) => f,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            return Ok(EXIT_TROUBLE);
        }
    };
    let of_model: Vec<&tamperscan_fleet::Host> = fleet
        .hosts
        .iter()
        .filter(|h| h.config.model.as_ref().is_some_and(|(m, _)| m == model))
        .collect();
    if of_model.is_empty() {
        bail!("no host in {} has model = {model:?}", dir.display());
    }
    let good: Vec<&tamperscan_fleet::Host> = of_model
        .iter()
        .copied()
        .filter(|h| h.config.known_good)
        .collect();
    if good.is_empty() {
        bail!(
            "none of the {} {model} hosts is marked known_good = true in its host.toml; mark the hosts you vouch for and run again",
            of_model.len()
        );
    }
    let reference = tamperscan_detect::boot::learn(&good);
    if reference.events.is_empty() {
        bail!("the known-good {model} hosts have no parsable event log (boot/eventlog.bin)");
    }
    let text = format!(
        "# Boot reference values for model {model}: {}.\n\
         # Events of PCRs 0, 2 and 7, each with every digest allowed; add digests to accept a new\n\
         # firmware version, list known-bad ones under `forbidden`. See the README, \"Measured boot\".\n{}",
        reference.source,
        toml::to_string(&reference)?
    );
    match out {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} ({} events from {} known-good hosts)",
                path.display(),
                reference.events.len(),
                good.len()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(EXIT_PASS)
}
