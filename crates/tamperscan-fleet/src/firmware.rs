//! Firmware images of hosts and golden images of models, analysed once per distinct image.
//!
//! A fleet of one model mostly carries the same few images; each distinct image (by sha256) is
//! analysed once and the analysis shared by every host that has it, so a 10,000-host fleet
//! with three BIOS versions costs three analyses.

use crate::error::FleetError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tamperscan_firmware::rules::{RuleHit, RuleSet};
use tamperscan_firmware::{analyze, Limits, Manifest};

/// Where a fleet keeps its own firmware rules (added to the built-in ones).
pub const FIRMWARE_RULES: &str = "rules/firmware.toml";

/// The analysis of one distinct image.
#[derive(Debug)]
pub struct FirmwareAnalysis {
    /// The manifest (module contents not kept).
    pub manifest: Manifest,
    /// Rules that fired.
    pub hits: Vec<RuleHit>,
}

/// One firmware image of a host or model.
#[derive(Debug, Clone)]
pub struct FirmwareImage {
    /// The slot's name (`firmware/<name>.bin`): `bios`, `bmc`, ...
    pub name: String,
    /// Evidence path relative to the fleet root.
    pub path: String,
    /// sha256 of the image.
    pub sha256: String,
    /// Shared analysis.
    pub analysis: Arc<FirmwareAnalysis>,
}

/// Analyses images, each distinct one once: bytes are gathered while hosts are read (no
/// analysis under a lock, so no thread ever waits on work it might itself be asked to do), then
/// every distinct image is analysed in parallel and the results handed to the hosts.
pub(crate) struct FirmwareAnalyser {
    rules: RuleSet,
    pending: Mutex<HashMap<String, Vec<u8>>>,
}

impl FirmwareAnalysis {
    /// Stands in until [`FirmwareAnalyser::finish`] hands out the real analysis.
    pub(crate) fn pending() -> Arc<FirmwareAnalysis> {
        Arc::new(FirmwareAnalysis {
            manifest: Manifest::default(),
            hits: Vec::new(),
        })
    }
}

impl FirmwareAnalyser {
    /// The built-in rules plus the fleet's `rules/firmware.toml` when present.
    pub(crate) fn new(root: &Path) -> Result<FirmwareAnalyser, FleetError> {
        let mut rules = RuleSet::default_rules();
        let path = root.join(FIRMWARE_RULES);
        if let Some(bytes) = crate::load::read_config(&path)? {
            let text = String::from_utf8(bytes)
                .map_err(|_| FleetError::new(&path, "is not UTF-8 text"))?;
            let extra = RuleSet::parse(&text).map_err(|e| {
                FleetError::new(
                    &path,
                    format!("{e} (rule format: see the README, firmware rules)"),
                )
            })?;
            if let Some(clash) = extra
                .rules
                .iter()
                .find(|r| rules.rules.iter().any(|b| b.id == r.id))
            {
                return Err(FleetError::new(
                    &path,
                    format!(
                        "rule id {:?} is already a built-in rule; give the fleet's rule another id",
                        clash.id
                    ),
                ));
            }
            rules.rules.extend(extra.rules);
        }
        Ok(FirmwareAnalyser {
            rules,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Keeps the bytes of an image (whose sha256 is `sha256`) until [`Self::finish`].
    pub(crate) fn add(&self, sha256: &str, bytes: Vec<u8>) {
        let mut pending = match self.pending.lock() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        pending.entry(sha256.to_string()).or_insert(bytes);
    }

    /// Analyses every distinct image gathered, in parallel.
    pub(crate) fn finish(self) -> HashMap<String, Arc<FirmwareAnalysis>> {
        use rayon::prelude::*;
        let pending = match self.pending.into_inner() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        let rules = &self.rules;
        let limits = Limits {
            keep_content: rules.needs_content(),
            ..Limits::default()
        };
        pending
            .into_par_iter()
            .map(|(sha, bytes)| {
                let mut manifest = analyze(&bytes, limits);
                let hits = rules.check(&manifest);
                for m in &mut manifest.modules {
                    m.content = Vec::new();
                }
                (sha, Arc::new(FirmwareAnalysis { manifest, hits }))
            })
            .collect()
    }
}
