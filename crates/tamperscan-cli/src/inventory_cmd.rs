//! `tamperscan inventory show|check`: what a server reports it is made of, and whether that is
//! what was ordered and certified.

use crate::boot_cmd::write_json;
use crate::{Format, EXIT_FINDINGS, EXIT_PASS};
use anyhow::{bail, Context};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tamperscan_inventory::bom::{Bom, BomCheck};
use tamperscan_inventory::Component;

/// Inventory files are text or small tables; a Redfish capture is many small files.
const FILE_LIMIT: u64 = 64 << 20;
/// Files read from one Redfish capture directory.
const MAX_CAPTURE_FILES: usize = 20_000;

fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > FILE_LIMIT {
        bail!(
            "{} is larger than {} MiB; no inventory file is that large",
            path.display(),
            FILE_LIMIT >> 20
        );
    }
    Ok(bytes)
}

/// Identifiers any source may carry.
#[derive(Debug, Default, Serialize)]
struct Ids {
    system_serial: Option<String>,
    board_serial: Option<String>,
    chassis_serial: Option<String>,
    smbios_uuid: Option<String>,
}

impl From<tamperscan_smbios::Identifiers> for Ids {
    fn from(i: tamperscan_smbios::Identifiers) -> Ids {
        Ids {
            system_serial: i.system_serial,
            board_serial: i.board_serial,
            chassis_serial: i.chassis_serial,
            smbios_uuid: i.smbios_uuid,
        }
    }
}

/// One source read.
#[derive(Debug, Serialize)]
struct Shown {
    schema: &'static str,
    path: String,
    source: &'static str,
    identifiers: Ids,
    components: Vec<Component>,
    issues: Vec<String>,
}

fn looks_like_lspci(text: &str) -> bool {
    text.lines().take(5).any(|l| {
        let b = l.as_bytes();
        b.len() > 8 && b[2] == b':' && b[5] == b'.' && b[..2].iter().all(u8::is_ascii_hexdigit)
    })
}

/// Reads one inventory source: SMBIOS binary, dmidecode text, lspci text, a Redfish capture
/// directory, or a TCG platform certificate (its certified components).
fn read_source(path: &Path) -> anyhow::Result<Shown> {
    let shown = |source, identifiers, components, issues| Shown {
        schema: "tamperscan.inventory/1",
        path: path.display().to_string(),
        source,
        identifiers,
        components,
        issues,
    };
    if path.is_dir() {
        let mut resources = BTreeMap::new();
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
            {
                let entry = entry?;
                let ft = entry.file_type()?;
                if ft.is_dir() {
                    stack.push(entry.path());
                } else if ft.is_file() && entry.path().extension().is_some_and(|e| e == "json") {
                    if resources.len() >= MAX_CAPTURE_FILES {
                        bail!("{} holds more than {MAX_CAPTURE_FILES} JSON files; is it a Redfish capture?", path.display());
                    }
                    let rel = entry
                        .path()
                        .strip_prefix(path)
                        .unwrap_or(&entry.path())
                        .to_string_lossy()
                        .replace('\\', "/");
                    resources.insert(rel, read_limited(&entry.path())?);
                }
            }
        }
        if resources.is_empty() {
            bail!("{} holds no JSON resources: a Redfish capture is a directory of <odata path>/index.json files", path.display());
        }
        let c = tamperscan_redfish::parse_capture(&resources)
            .with_context(|| format!("{} is not a readable Redfish capture", path.display()))?;
        let ids = Ids {
            system_serial: c.identifiers.system_serial.clone(),
            board_serial: c.identifiers.board_serial.clone(),
            chassis_serial: c.identifiers.chassis_serial.clone(),
            smbios_uuid: c.identifiers.smbios_uuid.clone(),
        };
        let issues = c.issues.iter().map(|i| format!("{i:?}")).collect();
        return Ok(shown("redfish", ids, c.components, issues));
    }
    let bytes = read_limited(path)?;
    let head = bytes.get(..5).unwrap_or(&bytes);
    if head.starts_with(b"_SM_")
        || head.starts_with(b"_SM3_")
        || head.starts_with(b"_DMI_")
        || (!bytes.is_empty()
            && std::str::from_utf8(&bytes).is_err()
            && !bytes.starts_with(&[0x30]))
    {
        let s = tamperscan_smbios::parse_binary(&bytes)
            .with_context(|| format!("{} is not an SMBIOS table", path.display()))?;
        let ids = Ids::from(tamperscan_smbios::identifiers(&s));
        let issues = s.issues.iter().map(|i| format!("{i:?}")).collect();
        return Ok(shown(
            "smbios",
            ids,
            tamperscan_smbios::to_components(&s),
            issues,
        ));
    }
    // PEM, or DER (a SEQUENCE that is not text: lspci lines start with '0' = 0x30 too).
    let is_text = std::str::from_utf8(&bytes).is_ok();
    if bytes.starts_with(b"-----BEGIN") || (bytes.starts_with(&[0x30]) && !is_text) {
        let all = tamperscan_platcert::parse_all(&bytes)
            .with_context(|| format!("{} is not a certificate", path.display()))?;
        let mut components = Vec::new();
        for p in &all {
            if let Some(pc) = p.platform() {
                let certified = tamperscan_platcert::CertifiedPlatform::from_base(pc);
                for (i, c) in certified.components.iter().enumerate() {
                    components.push(tamperscan_platcert::compare::to_component(c, i, None));
                }
            }
        }
        return Ok(shown(
            "platform-certificate",
            Ids::default(),
            components,
            Vec::new(),
        ));
    }
    let text = String::from_utf8_lossy(&bytes);
    if looks_like_lspci(&text) {
        let devices = tamperscan_redfish::parse_lspci(&text)
            .with_context(|| format!("{} is not lspci output", path.display()))?;
        return Ok(shown(
            "lspci",
            Ids::default(),
            tamperscan_redfish::to_components(&devices),
            Vec::new(),
        ));
    }
    let d = tamperscan_smbios::parse_dmidecode_text(&text).with_context(|| {
        format!("{} is none of: SMBIOS table, dmidecode or lspci text, Redfish capture directory, platform certificate", path.display())
    })?;
    let ids = Ids::from(tamperscan_smbios::identifiers(&d));
    let issues = d.issues.iter().map(|i| format!("{i:?}")).collect();
    Ok(shown(
        "dmidecode",
        ids,
        tamperscan_smbios::to_components(&d),
        issues,
    ))
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

fn class(c: &Component) -> String {
    c.class
        .as_ref()
        .map_or_else(|| "?".into(), |k| k.name().to_string())
}

fn write_components(out: &mut impl Write, components: &[Component]) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<18} {:<22} {:<36} {:<20} {:<16} FIRMWARE",
        "CLASS", "MANUFACTURER", "MODEL", "SERIAL", "LOCATION"
    )?;
    for c in components {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        writeln!(
            out,
            "{:<18} {:<22} {:<36} {:<20} {:<16} {}",
            cut(&class(c), 18),
            cut(opt(&c.manufacturer), 22),
            cut(opt(&c.model), 36),
            cut(opt(&c.serial), 20),
            cut(opt(&c.location), 16),
            opt(&c.firmware_version)
        )?;
    }
    Ok(())
}

/// `inventory show PATH`.
pub fn show(path: &Path, format: Format) -> anyhow::Result<u8> {
    let s = read_source(path)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &s)?,
        Format::Text => {
            writeln!(
                out,
                "{} ({}): {} components",
                s.path,
                s.source,
                s.components.len()
            )?;
            let ids = &s.identifiers;
            writeln!(
                out,
                "system serial {}, board serial {}, chassis serial {}, UUID {}",
                opt(&ids.system_serial),
                opt(&ids.board_serial),
                opt(&ids.chassis_serial),
                opt(&ids.smbios_uuid)
            )?;
            writeln!(out)?;
            write_components(&mut out, &s.components)?;
            for i in &s.issues {
                writeln!(out, "issue: {i}")?;
            }
        }
    }
    Ok(EXIT_PASS)
}

/// What `inventory check` found.
#[derive(Debug, Serialize)]
struct CheckReport {
    schema: &'static str,
    observed: usize,
    bom: Option<BomCheck>,
    certificate: Option<CertReport>,
}

#[derive(Debug, Serialize)]
struct CertReport {
    signature: Option<SignatureReport>,
    chain_problems: Vec<String>,
    matched: Vec<(Component, Component)>,
    missing: Vec<Component>,
    extra: Vec<Component>,
    mismatched: Vec<FieldReport>,
}

#[derive(Debug, Serialize)]
struct SignatureReport {
    ok: bool,
    reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
struct FieldReport {
    component: String,
    field: String,
    certified: String,
    observed: String,
}

/// Arguments of `inventory check`.
pub struct CheckArgs<'a> {
    /// Inventory sources of the server.
    pub observed: &'a [PathBuf],
    /// A BOM file (TOML or CSV).
    pub bom: Option<&'a Path>,
    /// Platform certificates (base and deltas, any order).
    pub certs: &'a [PathBuf],
    /// The CA that signs them.
    pub ca: Option<&'a Path>,
}

/// `inventory check`.
pub fn check(args: &CheckArgs<'_>, format: Format) -> anyhow::Result<u8> {
    if args.bom.is_none() && args.certs.is_empty() {
        bail!("nothing to check against: give --bom FILE and/or --cert FILE");
    }
    let mut observed = Vec::new();
    for p in args.observed {
        observed.extend(read_source(p)?.components);
    }
    let bom = match args.bom {
        None => None,
        Some(p) => {
            let text = String::from_utf8(read_limited(p)?)
                .with_context(|| format!("{} is not text", p.display()))?;
            let parsed = if p.extension().is_some_and(|e| e == "csv") {
                Bom::from_csv(&text)
            } else {
                Bom::from_toml(&text)
            };
            Some(
                parsed
                    .with_context(|| {
                        format!(
                            "{} is not a BOM (see README: bill of materials)",
                            p.display()
                        )
                    })?
                    .check(&observed),
            )
        }
    };
    let certificate = if args.certs.is_empty() {
        None
    } else {
        let mut certs = Vec::new();
        for p in args.certs {
            let all = tamperscan_platcert::parse_all(&read_limited(p)?)
                .with_context(|| format!("{} is not a platform certificate", p.display()))?;
            let before = certs.len();
            certs.extend(all.iter().filter_map(|x| x.platform().cloned()));
            if certs.len() == before {
                bail!("{} holds no platform (attribute) certificate", p.display());
            }
        }
        let signature = match args.ca {
            None => None,
            Some(p) => {
                let ca = tamperscan_platcert::parse_certificate(&read_limited(p)?)
                    .with_context(|| format!("{} is not an X.509 certificate", p.display()))?;
                let mut ok = true;
                let mut reasons = Vec::new();
                for c in &certs {
                    let v = tamperscan_platcert::verify(c, &ca, None);
                    if !(v.signature_ok && v.issuer_matches && v.key_id_matches != Some(false)) {
                        ok = false;
                        reasons.push(format!(
                            "certificate {}: {}",
                            c.serial_hex(),
                            v.reasons.join("; ")
                        ));
                    }
                }
                Some(SignatureReport { ok, reasons })
            }
        };
        let Some(base) = certs.iter().find(|c| !c.is_delta()) else {
            bail!("no base platform certificate among the --cert files (only deltas)");
        };
        let deltas: Vec<_> = certs.iter().filter(|c| c.is_delta()).cloned().collect();
        let certified = tamperscan_platcert::apply_deltas(base, &deltas)
            .context("the delta certificates cannot be applied")?;
        let cmp = tamperscan_platcert::compare(&certified, &observed);
        Some(CertReport {
            signature,
            chain_problems: certified
                .problems
                .iter()
                .map(|p| format!("{p:?}"))
                .collect(),
            matched: cmp
                .matched
                .iter()
                .map(|p| (p.certified.clone(), p.observed.clone()))
                .collect(),
            missing: cmp.missing.iter().map(|u| u.component.clone()).collect(),
            extra: cmp.extra.iter().map(|u| u.component.clone()).collect(),
            mismatched: cmp
                .mismatched
                .iter()
                .flat_map(|m| {
                    m.fields.iter().map(|f| FieldReport {
                        component: format!(
                            "{} {} {}",
                            class(&m.pair.certified),
                            opt(&m.pair.certified.manufacturer),
                            opt(&m.pair.certified.model)
                        ),
                        field: f.field.to_string(),
                        certified: f.certified.clone(),
                        observed: f.observed.clone(),
                    })
                })
                .chain(cmp.platform_differences.iter().map(|f| FieldReport {
                    component: "platform".into(),
                    field: f.field.to_string(),
                    certified: f.certified.clone(),
                    observed: f.observed.clone(),
                }))
                .collect(),
        })
    };
    let bad = bom
        .as_ref()
        .is_some_and(|b| !b.unexpected.is_empty() || b.lines.iter().any(|l| !l.ok()))
        || certificate.as_ref().is_some_and(|c| {
            c.signature.as_ref().is_some_and(|s| !s.ok)
                || !c.chain_problems.is_empty()
                || !c.missing.is_empty()
                || !c.extra.is_empty()
                || !c.mismatched.is_empty()
        });
    let report = CheckReport {
        schema: "tamperscan.inventory.check/1",
        observed: observed.len(),
        bom,
        certificate,
    };
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => write_json(&mut out, &report)?,
        Format::Text => {
            writeln!(out, "{} components observed", report.observed)?;
            if let Some(b) = &report.bom {
                writeln!(out, "\nBill of materials:")?;
                for l in &b.lines {
                    let e = &l.expected;
                    writeln!(
                        out,
                        "  {} {:<10} {} {} {}: expected {}, found {}",
                        if l.ok() { "ok      " } else { "MISMATCH" },
                        e.class,
                        e.manufacturer.as_deref().unwrap_or(""),
                        e.model.as_deref().unwrap_or(""),
                        if l.matched.is_empty() {
                            String::new()
                        } else {
                            format!("({})", l.matched.join(", "))
                        },
                        e.count,
                        l.found
                    )?;
                }
                for c in &b.unexpected {
                    writeln!(
                        out,
                        "  UNEXPECTED {} {} {} at {}",
                        class(c),
                        opt(&c.manufacturer),
                        opt(&c.model),
                        opt(&c.location)
                    )?;
                }
            }
            if let Some(c) = &report.certificate {
                writeln!(out, "\nPlatform certificate:")?;
                match &c.signature {
                    Some(s) if s.ok => writeln!(out, "  signature: verified against the CA")?,
                    Some(s) => writeln!(out, "  signature: FAILS: {}", s.reasons.join("; "))?,
                    None => writeln!(out, "  signature: not checked (no --ca)")?,
                }
                for p in &c.chain_problems {
                    writeln!(out, "  CHAIN {p}")?;
                }
                writeln!(
                    out,
                    "  {:<40} {:<30} {:<30}",
                    "COMPONENT / FIELD", "CERTIFIED", "OBSERVED"
                )?;
                for (cert, obs) in &c.matched {
                    writeln!(
                        out,
                        "  ok {:<37} {:<30} {:<30}",
                        format!("{} {}", class(cert), opt(&cert.model)),
                        opt(&cert.serial),
                        opt(&obs.serial)
                    )?;
                }
                for m in &c.mismatched {
                    writeln!(
                        out,
                        "  MISMATCH {:<31} {:<30} {:<30}",
                        format!("{} {}", m.component, m.field),
                        m.certified,
                        m.observed
                    )?;
                }
                for x in &c.missing {
                    writeln!(
                        out,
                        "  MISSING {:<32} {:<30} {:<30}",
                        format!("{} {}", class(x), opt(&x.model)),
                        opt(&x.serial),
                        "-"
                    )?;
                }
                for x in &c.extra {
                    writeln!(
                        out,
                        "  EXTRA {:<34} {:<30} {:<30}",
                        format!("{} {}", class(x), opt(&x.model)),
                        "-",
                        opt(&x.serial)
                    )?;
                }
            }
            writeln!(
                out,
                "\n{}",
                if bad {
                    "differences found"
                } else {
                    "everything matches"
                }
            )?;
        }
    }
    Ok(if bad { EXIT_FINDINGS } else { EXIT_PASS })
}
