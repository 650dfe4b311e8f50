//! `tamperscan firmware manifest|diff|check`: one firmware image at a time.

use crate::boot_cmd::write_json;
use crate::{Format, EXIT_FINDINGS, EXIT_PASS};
use anyhow::{bail, Context};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::Path;
use tamperscan_firmware::diff::{diff, Diff};
use tamperscan_firmware::rules::{RuleHit, RuleSet};
use tamperscan_firmware::{analyze, Limits, Manifest};

/// The largest image read: SPI flash parts top out at 64 MiB today; four times that leaves room
/// for dumps of several chips concatenated.
pub const IMAGE_SIZE_LIMIT: u64 = 256 << 20;

/// Reads an image, refusing what no flash part holds.
pub fn read_image(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open firmware image {}", path.display()))?;
    if file.metadata().map(|m| !m.is_file()).unwrap_or(false) {
        bail!("{} is not a regular file", path.display());
    }
    let mut bytes = Vec::new();
    file.take(IMAGE_SIZE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > IMAGE_SIZE_LIMIT {
        bail!(
            "{} is larger than {} MiB; no flash image is that large (is it a disk image?)",
            path.display(),
            IMAGE_SIZE_LIMIT >> 20
        );
    }
    if bytes.is_empty() {
        bail!("{} is empty", path.display());
    }
    Ok(bytes)
}

fn short(h: &str) -> &str {
    h.get(..16).unwrap_or(h)
}

fn place(offset: u64, stored_in: Option<u64>) -> String {
    match stored_in {
        Some(s) => format!("{offset:#x} in the data unpacked from {s:#x}"),
        None => format!("{offset:#x}"),
    }
}

/// `firmware manifest IMAGE`.
pub fn manifest(path: &Path, format: Format, all: bool) -> anyhow::Result<u8> {
    let bytes = read_image(path)?;
    let m = analyze(&bytes, Limits::default());
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &m)?,
        Format::Text => write_manifest_text(&mut out, path, &m, all)?,
    }
    Ok(EXIT_PASS)
}

fn write_manifest_text(
    out: &mut impl Write,
    path: &Path,
    m: &Manifest,
    all: bool,
) -> anyhow::Result<()> {
    let files = m.modules_nonpad().count();
    writeln!(
        out,
        "{}: {} ({} bytes, sha256 {})",
        path.display(),
        m.image.format,
        m.image.size,
        m.image.sha256
    )?;
    writeln!(
        out,
        "{} regions, {} volumes, {files} modules, {} variables, {} spans of non-erased free space, {} FIT hashes, {} issues",
        m.regions.len(),
        m.volumes.len(),
        m.variables.len(),
        m.free_space.len(),
        m.fit_hashes.len(),
        m.issues.len()
    )?;
    for r in &m.regions {
        writeln!(
            out,
            "  region  {:<16} {:#010x}..{:#010x}  ({})",
            r.name,
            r.offset,
            r.offset + r.size,
            r.source
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<36}  {:<28}  {:<18}  {:>9}  SHA256",
        "GUID", "NAME", "TYPE", "SIZE"
    )?;
    for md in m.modules.iter().filter(|x| all || x.type_raw != Some(0xF0)) {
        let guid = md.guid.map(|g| g.to_string()).unwrap_or_default();
        let mut name = md.name.clone().unwrap_or_default();
        if name.chars().count() > 28 {
            name = name.chars().take(27).collect::<String>() + "…";
        }
        writeln!(
            out,
            "{guid:<36}  {name:<28}  {:<18}  {:>9}  {}{}",
            md.file_type,
            md.size,
            short(&md.sha256),
            if md.checksum_ok { "" } else { "  CHECKSUM" }
        )?;
    }
    if !m.variables.is_empty() {
        writeln!(out, "\nVariables:")?;
        for v in &m.variables {
            writeln!(
                out,
                "  {:<20} {} {:<14} {:<8} {:>6} bytes  {}{}",
                v.name,
                v.guid,
                v.attributes,
                v.state,
                v.size,
                short(&v.sha256),
                if v.signatures.is_empty() {
                    String::new()
                } else {
                    format!("  ({} signatures)", v.signatures.len())
                }
            )?;
        }
    }
    for h in &m.fit_hashes {
        writeln!(
            out,
            "FIT {} {}: {}",
            h.image,
            h.algo,
            if h.ok { "ok" } else { "MISMATCH" }
        )?;
    }
    for f in &m.free_space {
        writeln!(
            out,
            "NOT ERASED: {} bytes at {} ({}): {}…",
            f.size,
            place(f.offset, f.stored_in),
            f.within,
            f.preview
        )?;
    }
    for i in &m.issues {
        writeln!(
            out,
            "issue {} at {}: {}",
            i.kind,
            place(i.offset, i.stored_in),
            i.message
        )?;
    }
    Ok(())
}

/// `firmware diff GOLDEN SUSPECT`.
pub fn diff_cmd(golden: &Path, suspect: &Path, format: Format) -> anyhow::Result<u8> {
    let (g, s) = rayon::join(|| read_image(golden), || read_image(suspect));
    let (g, s) = (g?, s?);
    let (gm, sm) = rayon::join(
        || analyze(&g, Limits::default()),
        || analyze(&s, Limits::default()),
    );
    let d = diff(&gm, &sm);
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &d)?,
        Format::Text => write_diff_text(&mut out, golden, suspect, &d)?,
    }
    Ok(if d.has_differences() {
        EXIT_FINDINGS
    } else {
        EXIT_PASS
    })
}

fn label(guid: &Option<tamperscan_bytes::Guid>, name: &Option<String>) -> String {
    match (guid, name) {
        (Some(g), Some(n)) => format!("{g} {n}"),
        (Some(g), None) => g.to_string(),
        (None, Some(n)) => n.clone(),
        (None, None) => "(unnamed)".into(),
    }
}

fn write_diff_text(
    out: &mut impl Write,
    golden: &Path,
    suspect: &Path,
    d: &Diff,
) -> anyhow::Result<()> {
    writeln!(out, "golden  {}  {}", golden.display(), d.golden_sha256)?;
    writeln!(out, "suspect {}  {}", suspect.display(), d.suspect_sha256)?;
    if d.identical {
        writeln!(out, "identical: the images are the same bytes")?;
        return Ok(());
    }
    writeln!(
        out,
        "{} added, {} removed, {} changed, {} unchanged modules",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    )?;
    for a in &d.added {
        writeln!(
            out,
            "+ {} ({}) in {} at {}",
            label(&a.guid, &a.name),
            a.file_type,
            a.path,
            place(a.offset, a.stored_in)
        )?;
    }
    for r in &d.removed {
        writeln!(
            out,
            "- {} ({}) in {}",
            label(&r.guid, &r.name),
            r.file_type,
            r.path
        )?;
    }
    for c in &d.changed {
        writeln!(
            out,
            "~ {} ({}) in {}: {} differ; {} -> {} at {}",
            label(&c.guid, &c.name),
            c.file_type,
            c.path,
            c.differs.join(", "),
            short(&c.golden_sha256),
            short(&c.sha256),
            place(c.offset, c.stored_in)
        )?;
    }
    for v in &d.variables.added {
        writeln!(out, "+ variable {} {}", v.name, v.guid)?;
    }
    for v in &d.variables.removed {
        writeln!(out, "- variable {} {}", v.name, v.guid)?;
    }
    for v in &d.variables.changed {
        writeln!(
            out,
            "~ variable {} {}: data or attributes differ",
            v.name, v.guid
        )?;
    }
    for f in &d.free_space {
        writeln!(
            out,
            "! {} bytes of data in free space at {} ({}): {}…",
            f.size,
            place(f.offset, f.stored_in),
            f.within,
            f.preview
        )?;
    }
    for h in &d.fit_hash_mismatches {
        writeln!(
            out,
            "! FIT image {}: {} stored {} but the data hashes to {}",
            h.image, h.algo, h.expected, h.actual
        )?;
    }
    for v in &d.volume_headers {
        writeln!(out, "! the header of volume {v} differs")?;
    }
    if d.unexplained {
        writeln!(out, "! the images differ outside every module tamperscan reads (padding or metadata): compare them byte by byte")?;
    }
    for i in &d.new_issues {
        writeln!(
            out,
            "! {} at {}: {}",
            i.kind,
            place(i.offset, i.stored_in),
            i.message
        )?;
    }
    Ok(())
}

/// What `firmware check` found.
#[derive(Debug, Serialize)]
struct CheckReport<'a> {
    schema: &'static str,
    image: &'a tamperscan_firmware::ImageInfo,
    rules: usize,
    hits: Vec<RuleHit>,
    free_space: &'a [tamperscan_firmware::FreeSpace],
    fit_hash_mismatches: Vec<&'a tamperscan_firmware::FitHash>,
    checksum_failures: Vec<&'a tamperscan_firmware::Module>,
    issues: &'a [tamperscan_firmware::Issue],
}

/// Loads the rules: the default set, a file, or both.
pub fn load_rules(file: Option<&Path>, no_default: bool) -> anyhow::Result<RuleSet> {
    let mut set = if no_default {
        RuleSet::default()
    } else {
        RuleSet::parse(tamperscan_firmware::rules::DEFAULT_RULES)
            .context("the built-in rule set does not parse")?
    };
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read rule file {}", f.display()))?;
        let extra = RuleSet::parse(&text).with_context(|| {
            format!(
                "{} is not a valid rule file (see README: firmware rules)",
                f.display()
            )
        })?;
        if let Some(clash) = extra
            .rules
            .iter()
            .find(|r| set.rules.iter().any(|b| b.id == r.id))
        {
            bail!(
                "{}: rule id {:?} is already a built-in rule; give yours another id (or pass --no-default-rules)",
                f.display(),
                clash.id
            );
        }
        set.rules.extend(extra.rules);
    }
    Ok(set)
}

/// `firmware check IMAGE [--rules FILE]`.
pub fn check(
    path: &Path,
    rules: Option<&Path>,
    no_default: bool,
    format: Format,
) -> anyhow::Result<u8> {
    let set = load_rules(rules, no_default)?;
    let bytes = read_image(path)?;
    let limits = Limits {
        keep_content: set.needs_content(),
        ..Limits::default()
    };
    let m = analyze(&bytes, limits);
    let hits = set.check(&m);
    let report = CheckReport {
        schema: "tamperscan.firmware.check/1",
        image: &m.image,
        rules: set.rules.len(),
        hits,
        free_space: &m.free_space,
        fit_hash_mismatches: m.fit_hashes.iter().filter(|h| !h.ok).collect(),
        checksum_failures: m
            .modules
            .iter()
            .filter(|x| !x.checksum_ok && x.kind != tamperscan_firmware::ModuleKind::FitImage)
            .collect(),
        issues: &m.issues,
    };
    let bad = !report.hits.is_empty()
        || !report.free_space.is_empty()
        || !report.fit_hash_mismatches.is_empty()
        || !report.checksum_failures.is_empty();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &report)?,
        Format::Text => {
            writeln!(
                out,
                "{}: {} ({} bytes), {} modules, {} rules",
                path.display(),
                m.image.format,
                m.image.size,
                m.modules.len(),
                report.rules
            )?;
            for h in &report.hits {
                writeln!(
                    out,
                    "[{}] {}: {}{}{}",
                    h.severity,
                    h.rule,
                    h.title,
                    match (&h.key, h.matched_on.as_slice()) {
                        (Some(k), on) => format!(" — module {k} (matched on {})", on.join(", ")),
                        (None, _) => " — required module is missing".to_string(),
                    },
                    h.source
                        .as_ref()
                        .map(|s| format!(" [source: {s}]"))
                        .unwrap_or_default()
                )?;
            }
            for f in report.free_space {
                writeln!(
                    out,
                    "[high] data in free space: {} bytes at {} ({}): {}…",
                    f.size,
                    place(f.offset, f.stored_in),
                    f.within,
                    f.preview
                )?;
            }
            for h in &report.fit_hash_mismatches {
                writeln!(
                    out,
                    "[critical] FIT image {}: {} mismatch (stored {}, actual {})",
                    h.image, h.algo, h.expected, h.actual
                )?;
            }
            for x in &report.checksum_failures {
                writeln!(
                    out,
                    "[medium] checksum fails: {} {}",
                    x.key,
                    x.name.clone().unwrap_or_default()
                )?;
            }
            for i in report.issues {
                writeln!(
                    out,
                    "[info] {} at {}: {}",
                    i.kind,
                    place(i.offset, i.stored_in),
                    i.message
                )?;
            }
            if !bad {
                writeln!(out, "nothing matched")?;
            }
        }
    }
    Ok(if bad { EXIT_FINDINGS } else { EXIT_PASS })
}
