//! Golden-versus-suspect comparison of two manifests.
//!
//! Modules are matched by their stable key (container path, GUID or name, occurrence index).
//! What is left unmatched is paired a second time by GUID/name alone, so a module that moved to
//! another volume shows as changed (with its old path), not as one removal and one addition.
//! Pad files are not modules here: what they hold is reported as data in free space.

use crate::manifest::{opt_guid_text, FreeSpace, Manifest, Module, ModuleKind, Variable};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use tamperscan_bytes::Guid;

/// Schema name written in every diff's JSON.
pub const DIFF_SCHEMA: &str = "tamperscan.firmware.diff/1";

/// A module present in one image only.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleRef {
    /// Stable key.
    pub key: String,
    /// FFS GUID, upper-case canonical text.
    #[serde(serialize_with = "opt_guid_text")]
    pub guid: Option<Guid>,
    /// UI name or sub-image/file name.
    pub name: Option<String>,
    /// Type in words.
    #[serde(rename = "type")]
    pub file_type: String,
    /// Container path.
    pub path: String,
    /// Offset in its buffer.
    pub offset: u64,
    /// Image offset of the compressed section it was unpacked from.
    pub stored_in: Option<u64>,
    /// sha256 as stored.
    pub sha256: String,
}

/// A module present in both images whose bytes differ.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleChange {
    /// Stable key in the suspect image.
    pub key: String,
    /// FFS GUID.
    #[serde(serialize_with = "opt_guid_text")]
    pub guid: Option<Guid>,
    /// Name.
    pub name: Option<String>,
    /// Type in words.
    #[serde(rename = "type")]
    pub file_type: String,
    /// Container path in the suspect image.
    pub path: String,
    /// Container path in the golden image, when the module moved.
    pub golden_path: Option<String>,
    /// What differs: `stored bytes`, `content`, `code` (PE32/TE bodies), `size`, `path`,
    /// `version`, `checksum`.
    pub differs: Vec<&'static str>,
    /// Golden sha256 as stored.
    pub golden_sha256: String,
    /// Suspect sha256 as stored.
    pub sha256: String,
    /// Golden and suspect sizes.
    pub golden_size: u64,
    /// Suspect size.
    pub size: u64,
    /// Offset in the suspect image (or its decompressed buffer).
    pub offset: u64,
    /// Image offset of the compressed section in the suspect image.
    pub stored_in: Option<u64>,
}

/// Variable differences.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VariableDiff {
    /// Only in the suspect.
    pub added: Vec<Variable>,
    /// Only in the golden image.
    pub removed: Vec<Variable>,
    /// In both, with other data or attributes (the suspect's version).
    pub changed: Vec<Variable>,
}

/// The comparison of a golden and a suspect manifest.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// [`DIFF_SCHEMA`].
    pub schema: &'static str,
    /// sha256 of the golden image.
    pub golden_sha256: String,
    /// sha256 of the suspect image.
    pub suspect_sha256: String,
    /// Whether the two images are byte-identical.
    pub identical: bool,
    /// Modules only in the suspect.
    pub added: Vec<ModuleRef>,
    /// Modules only in the golden image.
    pub removed: Vec<ModuleRef>,
    /// Modules in both whose bytes differ.
    pub changed: Vec<ModuleChange>,
    /// Modules in both with the same bytes.
    pub unchanged: usize,
    /// NVRAM variable differences.
    pub variables: VariableDiff,
    /// Non-erased free space in the suspect that the golden image does not have.
    pub free_space: Vec<FreeSpace>,
    /// FIT hashes that fail in the suspect.
    pub fit_hash_mismatches: Vec<crate::manifest::FitHash>,
    /// Issues the suspect's parse raised that the golden one's did not.
    pub new_issues: Vec<crate::manifest::Issue>,
    /// Volumes (by path) whose header or extended header bytes differ (attributes, name, block
    /// map): what lies outside the files.
    pub volume_headers: Vec<String>,
    /// True when the images differ but nothing tamperscan parsed does: the difference is in
    /// bytes no module covers (alignment padding, metadata), so a person must look.
    pub unexplained: bool,
}

impl Diff {
    /// Whether anything differs that a person should look at.
    pub fn has_differences(&self) -> bool {
        !(self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.variables.added.is_empty()
            && self.variables.removed.is_empty()
            && self.variables.changed.is_empty()
            && self.free_space.is_empty()
            && self.fit_hash_mismatches.is_empty()
            && self.new_issues.is_empty()
            && self.volume_headers.is_empty()
            && !self.unexplained)
    }
}

fn reference(m: &Module) -> ModuleRef {
    ModuleRef {
        key: m.key.clone(),
        guid: m.guid,
        name: m.name.clone(),
        file_type: m.file_type.clone(),
        path: m.path.clone(),
        offset: m.offset,
        stored_in: m.stored_in,
        sha256: m.sha256.clone(),
    }
}

/// Modules the diff compares: not pad files (their bytes are checked as free space), not the
/// raw NVRAM area (its variables are compared one by one, so routine writes such as BootOrder
/// do not show as a changed module).
fn counted(m: &Module) -> bool {
    m.type_raw != Some(0xF0) && m.file_type != "NVRAM data"
}

fn ident(m: &Module) -> String {
    match (&m.guid, &m.name) {
        (Some(g), _) => format!("{:?} {g}", m.kind),
        (None, Some(n)) if m.kind != ModuleKind::Raw => format!("{:?} {n}", m.kind),
        _ => format!("{:?}", m.kind),
    }
}

fn compare(g: &Module, s: &Module) -> Vec<&'static str> {
    let mut d = Vec::new();
    if g.sha256.is_empty() || s.sha256.is_empty() {
        d.push("not hashed");
    }
    if g.sha256 != s.sha256 {
        d.push("stored bytes");
    }
    if g.content_sha256 != s.content_sha256 {
        d.push("content");
    }
    if g.pe32_sha256 != s.pe32_sha256 || g.te_sha256 != s.te_sha256 {
        d.push("code");
    }
    if g.size != s.size {
        d.push("size");
    }
    if g.path != s.path {
        d.push("path");
    }
    if g.version != s.version {
        d.push("version");
    }
    if g.checksum_ok != s.checksum_ok {
        d.push("checksum");
    }
    d
}

fn change(g: &Module, s: &Module, differs: Vec<&'static str>) -> ModuleChange {
    ModuleChange {
        key: s.key.clone(),
        guid: s.guid,
        name: s.name.clone().or_else(|| g.name.clone()),
        file_type: s.file_type.clone(),
        path: s.path.clone(),
        golden_path: (g.path != s.path).then(|| g.path.clone()),
        differs,
        golden_sha256: g.sha256.clone(),
        sha256: s.sha256.clone(),
        golden_size: g.size,
        size: s.size,
        offset: s.offset,
        stored_in: s.stored_in,
    }
}

/// Compares a golden manifest with a suspect one.
pub fn diff(golden: &Manifest, suspect: &Manifest) -> Diff {
    let gold: BTreeMap<&str, &Module> = golden
        .modules
        .iter()
        .filter(|m| counted(m))
        .map(|m| (m.key.as_str(), m))
        .collect();
    let mut matched: HashSet<&str> = HashSet::new();
    let mut changed = Vec::new();
    let mut unchanged = 0usize;
    let mut left = Vec::new();
    for s in suspect.modules.iter().filter(|m| counted(m)) {
        match gold.get(s.key.as_str()) {
            Some(g) => {
                matched.insert(g.key.as_str());
                let d = compare(g, s);
                if d.is_empty() {
                    unchanged += 1;
                } else {
                    changed.push(change(g, s, d));
                }
            }
            None => left.push(s),
        }
    }
    // Second pass: pair what is left by identity alone (a module that moved).
    let mut spare: BTreeMap<String, Vec<&Module>> = BTreeMap::new();
    for g in gold.values().filter(|g| !matched.contains(g.key.as_str())) {
        spare.entry(ident(g)).or_default().push(g);
    }
    let mut added = Vec::new();
    for s in left {
        let candidates = spare.get_mut(&ident(s));
        match candidates {
            Some(c) if s.kind != ModuleKind::Raw && !c.is_empty() => {
                // The same bytes first (a module that only moved), else the first in key order.
                let at = c.iter().position(|g| g.sha256 == s.sha256).unwrap_or(0);
                let g = c.remove(at);
                matched.insert(g.key.as_str());
                let d = compare(g, s);
                changed.push(change(g, s, d));
            }
            _ => added.push(reference(s)),
        }
    }
    let removed: Vec<ModuleRef> = golden
        .modules
        .iter()
        .filter(|m| counted(m) && !matched.contains(m.key.as_str()))
        .map(reference)
        .collect();

    // Every live copy of a variable counts (a second, malicious copy must not hide behind a
    // genuine one), and a copy caught in delete transition is still what firmware reads when
    // no added copy exists.
    let live = |v: &&Variable| v.state == "valid" || v.state == "in_transition";
    let group = |vars: &[Variable]| {
        let mut m: BTreeMap<(Guid, String), Vec<Variable>> = BTreeMap::new();
        for v in vars.iter().filter(live) {
            m.entry((v.guid, v.name.clone()))
                .or_default()
                .push(v.clone());
        }
        for copies in m.values_mut() {
            copies.sort_by(|a, b| (&a.sha256, &a.attributes).cmp(&(&b.sha256, &b.attributes)));
        }
        m
    };
    let (gvars, svars) = (group(&golden.variables), group(&suspect.variables));
    let mut variables = VariableDiff::default();
    let same = |a: &[Variable], b: &[Variable]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.sha256 == y.sha256 && x.attributes == y.attributes)
    };
    for (k, s) in &svars {
        match gvars.get(k) {
            None => variables.added.extend(s.iter().cloned()),
            Some(g) if !same(g, s) => variables.changed.extend(s.iter().cloned()),
            Some(_) => {}
        }
    }
    for (k, g) in &gvars {
        if !svars.contains_key(k) {
            variables.removed.extend(g.iter().cloned());
        }
    }
    let known_free: HashSet<&str> = golden
        .free_space
        .iter()
        .map(|f| f.sha256.as_str())
        .collect();
    let free_space = suspect
        .free_space
        .iter()
        .filter(|f| !known_free.contains(f.sha256.as_str()))
        .cloned()
        .collect();
    let golden_fit_fail: HashSet<(&str, &str)> = golden
        .fit_hashes
        .iter()
        .filter(|h| !h.ok)
        .map(|h| (h.image.as_str(), h.algo.as_str()))
        .collect();
    let fit_hash_mismatches = suspect
        .fit_hashes
        .iter()
        .filter(|h| !h.ok && !golden_fit_fail.contains(&(h.image.as_str(), h.algo.as_str())))
        .cloned()
        .collect();
    // Issues compare by kind, path and message with numbers taken out (offsets move between
    // builds).
    let shape = |i: &crate::manifest::Issue| {
        let words: String = i.message.chars().filter(|c| !c.is_ascii_digit()).collect();
        (i.kind, i.path.clone(), words)
    };
    let golden_issues: HashSet<_> = golden.issues.iter().map(shape).collect();
    let new_issues = suspect
        .issues
        .iter()
        .filter(|i| !golden_issues.contains(&shape(i)))
        .cloned()
        .collect();
    let header_key = |v: &crate::manifest::Volume| (v.path.clone(), v.header_sha256.clone());
    let golden_headers: HashSet<_> = golden.volumes.iter().map(header_key).collect();
    let golden_paths: HashSet<&str> = golden.volumes.iter().map(|v| v.path.as_str()).collect();
    let volume_headers: Vec<String> = suspect
        .volumes
        .iter()
        .filter(|v| {
            golden_paths.contains(v.path.as_str()) && !golden_headers.contains(&header_key(v))
        })
        .map(|v| v.path.clone())
        .collect();
    let mut d = Diff {
        schema: DIFF_SCHEMA,
        golden_sha256: golden.image.sha256.clone(),
        suspect_sha256: suspect.image.sha256.clone(),
        identical: golden.image.sha256 == suspect.image.sha256,
        added,
        removed,
        changed,
        unchanged,
        variables,
        free_space,
        fit_hash_mismatches,
        new_issues,
        volume_headers,
        unexplained: false,
    };
    // Different bytes with no difference found in what was parsed: say so rather than pass.
    d.unexplained = !d.identical && !d.has_differences();
    d
}
