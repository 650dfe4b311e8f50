//! Firmware: images that hold modules of publicly documented implants, data in free space,
//! FIT hashes that fail, broken checksums, and modules that differ from the model's golden image
//! or, without one, from the image most of the host's same-model siblings carry.
//!
//! A host's image is compared module by module (see `tamperscan_firmware::diff`), so a finding
//! names the module that was added, removed or changed, not just "the hash differs". With a
//! golden image for the slot (`models/<model>/firmware/<slot>.bin`) the golden image is the
//! reference and sibling consensus is not consulted for that slot.

use crate::consensus::Consensus;
use crate::engine::Detector;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use tamperscan_firmware::diff::{diff, Diff};
use tamperscan_firmware::picture::{flash_map_svg, top_level_span, Mark};
use tamperscan_fleet::firmware::{FirmwareAnalysis, FirmwareImage};
use tamperscan_fleet::{Fleet, Host};
use tamperscan_model::{Finding, HostId, Layer, Picture, Reference, Severity};

pub(crate) struct FirmwareDetector;

impl Detector for FirmwareDetector {
    fn name(&self) -> &'static str {
        "firmware"
    }

    fn run(&self, fleet: &Fleet) -> Vec<Finding> {
        let mut out: Vec<Finding> = fleet
            .hosts
            .par_iter()
            .flat_map_iter(|h| h.firmware.iter().flat_map(move |img| intrinsic(h, img)))
            .collect();
        out.extend(relative(fleet));
        // Images of hosts without a model have no reference: their free-space data is all new.
        for h in fleet.hosts.iter().filter(|h| h.config.model.is_none()) {
            for img in &h.firmware {
                out.extend(free_space_findings(
                    &h.id,
                    img,
                    &img.analysis.manifest.free_space,
                ));
            }
        }
        out
    }
}

fn finding(
    host: &HostId,
    img: &FirmwareImage,
    kind: &str,
    severity: Severity,
    summary: String,
    reference: Reference,
) -> Finding {
    Finding::new(
        host,
        Layer::Firmware,
        kind,
        severity,
        summary,
        &img.path,
        reference,
    )
}

fn slot_label(img: &FirmwareImage) -> String {
    format!("{} firmware", img.name.to_uppercase())
}

fn rule_severity(s: &str) -> Severity {
    match s {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        _ => Severity::Low,
    }
}

fn where_(offset: u64, stored_in: Option<u64>) -> String {
    match stored_in {
        Some(s) => format!("offset {offset:#x} of the data unpacked from {s:#x}"),
        None => format!("offset {offset:#x}"),
    }
}

/// Data in free space: against a reference only what the reference does not have; alone, all.
fn free_space_findings(
    host: &HostId,
    img: &FirmwareImage,
    spans: &[tamperscan_firmware::FreeSpace],
) -> Vec<Finding> {
    let m = &img.analysis.manifest;
    let label = slot_label(img);
    let mut out = Vec::new();
    for fs in spans {
        let mut f = finding(
            host,
            img,
            "firmware.free_space_data",
            Severity::High,
            format!("{label} has {} bytes of data in space that should be erased ({}), a place to hide code", fs.size, fs.within),
            Reference::Specification { name: "UEFI PI spec vol. 3, firmware volume free space".into() },
        );
        f.expected = Some("erased bytes".into());
        f.observed = Some(format!("{}… (sha256 {})", fs.preview, fs.sha256));
        f.location.at = where_(fs.offset, fs.stored_in);
        let (offset, size) = match fs.stored_in {
            None => (fs.offset, fs.size),
            Some(s) => top_level_span(m, s).unwrap_or((s, 0)),
        };
        f.pictures.push(map_picture(
            img,
            &[Mark {
                offset,
                size,
                label: format!("{} bytes", fs.size),
                kind: "data",
            }],
        ));
        out.push(f);
    }
    out
}

/// Findings from one image alone: rules, FIT hashes, checksums.
fn intrinsic(host: &Host, img: &FirmwareImage) -> Vec<Finding> {
    let a = &img.analysis;
    let m = &a.manifest;
    let mut out = Vec::new();
    let label = slot_label(img);
    for hit in &a.hits {
        let what = match (&hit.name, &hit.guid) {
            (Some(n), Some(g)) => format!("module '{n}' ({g})"),
            (Some(n), None) => format!("module '{n}'"),
            (None, Some(g)) => format!("module {g}"),
            (None, None) => "a module".into(),
        };
        let summary = if hit.key.is_some() {
            format!(
                "{label} holds {what}, matching rule '{}': {}",
                hit.rule, hit.title
            )
        } else {
            format!(
                "{label} lacks the required {what} (rule '{}': {})",
                hit.rule, hit.title
            )
        };
        let mut f = finding(
            &host.id,
            img,
            "firmware.rule_match",
            rule_severity(&hit.severity),
            summary,
            Reference::Rule {
                id: hit.rule.clone(),
            },
        );
        f.observed = Some(format!("matched on {}", hit.matched_on.join(", ")));
        f.expected = hit.why.clone();
        f.location.at = hit.key.clone().unwrap_or_default();
        out.push(f);
    }
    for h in m.fit_hashes.iter().filter(|h| !h.ok) {
        let mut f = finding(
            &host.id,
            img,
            "firmware.fit_hash_mismatch",
            Severity::Critical,
            format!("{label}: FIT image '{}' does not match its stored {} hash; it was modified after the image was built", h.image, h.algo),
            Reference::Specification { name: "U-Boot FIT format, hash nodes".into() },
        );
        f.expected = Some(h.expected.clone());
        f.observed = Some(h.actual.clone());
        f.location.at = format!("/images/{}", h.image);
        out.push(f);
    }
    // FIT sub-images whose hash fails are reported as FIT hash mismatches above.
    for md in m
        .modules
        .iter()
        .filter(|x| !x.checksum_ok && x.kind != tamperscan_firmware::ModuleKind::FitImage)
    {
        let mut f = finding(
            &host.id,
            img,
            "firmware.checksum_failure",
            Severity::Medium,
            format!("{label}: the checksum of {} '{}' fails; the module was altered or the dump is corrupt (dump it again)", md.file_type, md.name.clone().unwrap_or_else(|| md.guid.map(|g| g.to_string()).unwrap_or_default())),
            Reference::Specification { name: "UEFI PI spec vol. 3, FFS file integrity check".into() },
        );
        f.location.at = format!("{} at {}", md.key, where_(md.offset, md.stored_in));
        out.push(f);
    }
    // An image of no format tamperscan knows is not a finding by itself (vendors have formats
    // of their own): it is still compared whole with the golden image or the siblings' one.
    out
}

fn map_picture(img: &FirmwareImage, marks: &[Mark]) -> Picture {
    let title = format!(
        "{} ({}): where it is",
        img.path, img.analysis.manifest.image.format
    );
    Picture {
        caption: format!(
            "Flash map of {}: the marked span is where the finding is",
            img.path
        ),
        media_type: "image/svg+xml".into(),
        data: flash_map_svg(&img.analysis.manifest, &title, marks).into_bytes(),
    }
}

fn module_label(
    guid: &Option<tamperscan_bytes::Guid>,
    name: &Option<String>,
    kind: &str,
) -> String {
    match (name, guid) {
        (Some(n), Some(g)) => format!("{kind} '{n}' ({g})"),
        (Some(n), None) => format!("{kind} '{n}'"),
        (None, Some(g)) => format!("{kind} {g}"),
        (None, None) => kind.to_string(),
    }
}

/// Findings from a diff of a host's image against a reference image.
fn diff_findings(
    host: &HostId,
    img: &FirmwareImage,
    d: &Diff,
    reference: &Reference,
    against: &str,
    suffix: &str,
) -> Vec<Finding> {
    let label = slot_label(img);
    let mut out = Vec::new();
    let manifest = &img.analysis.manifest;
    let by_key: std::collections::HashMap<&str, &tamperscan_firmware::Module> = manifest
        .modules
        .iter()
        .map(|m| (m.key.as_str(), m))
        .collect();
    let mark_for = |key: &str, name: &Option<String>, kind: &'static str| -> Option<Mark> {
        let md = by_key.get(key)?;
        let (offset, size) = match md.stored_in {
            None => (md.offset, md.size),
            Some(s) => top_level_span(manifest, s).unwrap_or((s, 0)),
        };
        Some(Mark {
            offset,
            size,
            label: name.clone().unwrap_or_else(|| md.file_type.clone()),
            kind,
        })
    };
    let mut push = |kind: String,
                    severity,
                    summary: String,
                    at: String,
                    expected: Option<String>,
                    observed: Option<String>,
                    mark: Option<Mark>| {
        let mut f = finding(host, img, &kind, severity, summary, reference.clone());
        f.location.at = at;
        f.expected = expected;
        f.observed = observed;
        if let Some(mark) = mark {
            f.pictures.push(map_picture(img, &[mark]));
        }
        out.push(f);
    };
    // A person reads a handful of module findings; past that one finding says how many.
    let modules = d.added.len() + d.removed.len() + d.changed.len();
    if modules > MAX_MODULE_FINDINGS {
        push(
            format!("firmware.many_modules_differ{suffix}"),
            Severity::High,
            format!("{label}: {} modules added, {} missing and {} changed compared with {against}; run `tamperscan firmware diff` on the two images for the list", d.added.len(), d.removed.len(), d.changed.len()),
            String::new(),
            None,
            Some(format!("{modules} modules differ")),
            None,
        );
    }
    let cap = if modules > MAX_MODULE_FINDINGS {
        0
    } else {
        usize::MAX
    };
    for a in d.added.iter().take(cap) {
        push(
            format!("firmware.module_added{suffix}"),
            Severity::High,
            format!(
                "{label}: {} is not in {against}",
                module_label(&a.guid, &a.name, &a.file_type)
            ),
            format!("{} at {}", a.key, where_(a.offset, a.stored_in)),
            None,
            Some(a.sha256.clone()),
            mark_for(&a.key, &a.name, "added"),
        );
    }
    for r in d.removed.iter().take(cap) {
        push(
            format!("firmware.module_missing{suffix}"),
            Severity::Medium,
            format!(
                "{label}: {} of {against} is missing",
                module_label(&r.guid, &r.name, &r.file_type)
            ),
            r.key.clone(),
            Some(r.sha256.clone()),
            None,
            None,
        );
    }
    for c in d.changed.iter().take(cap) {
        // Same bytes in another container: worth knowing, not an alarm.
        let moved = c.differs == ["path"];
        push(
            if moved {
                format!("firmware.module_moved{suffix}")
            } else {
                format!("firmware.module_changed{suffix}")
            },
            if moved { Severity::Low } else { Severity::High },
            format!(
                "{label}: {} differs from {against} ({})",
                module_label(&c.guid, &c.name, &c.file_type),
                c.differs.join(", ")
            ),
            format!("{} at {}", c.key, where_(c.offset, c.stored_in)),
            Some(c.golden_sha256.clone()),
            Some(c.sha256.clone()),
            mark_for(&c.key, &c.name, "changed"),
        );
    }
    let vars = d
        .variables
        .added
        .iter()
        .map(|v| ("added", v))
        .chain(d.variables.removed.iter().map(|v| ("missing", v)))
        .chain(d.variables.changed.iter().map(|v| ("changed", v)));
    for (how, v) in vars {
        push(
            format!("firmware.variable_differs{suffix}"),
            if v.name == "PK" || v.name == "KEK" || v.name == "db" || v.name == "dbx" {
                Severity::High
            } else {
                Severity::Medium
            },
            format!(
                "{label}: NVRAM variable {} ({}) is {how} compared with {against}",
                v.name, v.guid
            ),
            format!("variable {} {}", v.name, v.guid),
            None,
            Some(v.sha256.clone()),
            None,
        );
    }
    for path in &d.volume_headers {
        push(
            format!("firmware.volume_header_changed{suffix}"),
            Severity::High,
            format!("{label}: the header of volume {path} differs from {against} (attributes, name or extended header)"),
            path.clone(),
            None,
            None,
            None,
        );
    }
    if d.unexplained {
        push(
            format!("firmware.image_differs{suffix}"),
            Severity::Medium,
            format!("{label}: the image's bytes differ from {against} outside every module tamperscan reads (padding or metadata); compare the two images byte by byte"),
            String::new(),
            Some(d.golden_sha256.clone()),
            Some(d.suspect_sha256.clone()),
            None,
        );
    }
    out.extend(free_space_findings(host, img, &d.free_space));
    out
}

/// Module findings per image diff before one summary finding replaces them.
const MAX_MODULE_FINDINGS: usize = 50;

/// Diffs each distinct host image against a reference analysis once.
fn diff_cached(
    cache: &mut BTreeMap<(String, String), Arc<Diff>>,
    reference_sha: &str,
    reference: &FirmwareAnalysis,
    img: &FirmwareImage,
) -> Arc<Diff> {
    cache
        .entry((reference_sha.to_string(), img.sha256.clone()))
        .or_insert_with(|| Arc::new(diff(&reference.manifest, &img.analysis.manifest)))
        .clone()
}

/// Findings against golden images and sibling consensus.
fn relative(fleet: &Fleet) -> Vec<Finding> {
    // (model, slot) -> hosts' images.
    let mut slots: BTreeMap<(&str, &str), Vec<(&HostId, &FirmwareImage)>> = BTreeMap::new();
    for h in &fleet.hosts {
        let Some((model, _)) = h.config.model.as_ref() else {
            continue;
        };
        for img in &h.firmware {
            slots
                .entry((model.as_str(), img.name.as_str()))
                .or_default()
                .push((&h.id, img));
        }
    }
    let groups: Vec<_> = slots.into_iter().collect();
    groups
        .par_iter()
        .flat_map_iter(|((model, slot), images)| {
            let mut out = Vec::new();
            let mut cache = BTreeMap::new();
            let golden = fleet
                .models
                .get(*model)
                .and_then(|m| m.firmware.iter().find(|g| g.name == *slot));
            if let Some(golden) = golden {
                let reference = Reference::Golden {
                    path: golden.path.clone(),
                };
                let against = format!("the golden image {}", golden.path);
                for (host, img) in images {
                    if img.sha256 == golden.sha256 {
                        continue;
                    }
                    let d = diff_cached(&mut cache, &golden.sha256, &golden.analysis, img);
                    out.extend(diff_findings(host, img, &d, &reference, &against, ""));
                }
                return out;
            }
            let consensus = Consensus::of(images.iter().map(|(h, img)| (*h, img.sha256.clone())));
            let Some((majority_sha, agree)) = consensus.majority() else {
                // No reference: every span of data in free space is reported as it is.
                for (host, img) in images {
                    out.extend(free_space_findings(
                        host,
                        img,
                        &img.analysis.manifest.free_space,
                    ));
                }
                return out;
            };
            let Some((_, exemplar)) = images.iter().find(|(_, img)| img.sha256 == *majority_sha)
            else {
                return out;
            };
            let total = consensus.total();
            let reference = Reference::Consensus {
                model: model.to_string(),
                agree,
                total,
            };
            let against = format!("the image {agree} of {} {model} siblings carry", total - 1);
            for (host, img) in images {
                if img.sha256 == *majority_sha {
                    continue;
                }
                let d = diff_cached(&mut cache, majority_sha, &exemplar.analysis, img);
                out.extend(diff_findings(
                    host,
                    img,
                    &d,
                    &reference,
                    &against,
                    "_vs_siblings",
                ));
            }
            out
        })
        .collect()
}
