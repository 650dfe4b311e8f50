//! Firmware images of hosts and golden images of models, analysed once per distinct image.
//!
//! A fleet of one model mostly carries the same few images; each distinct image (by sha256) is
//! analysed once and the analysis shared by every host that has it, so a 10,000-host fleet
//! with three BIOS versions costs three analyses.

use crate::error::FleetError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
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

/// Analyses images, each distinct one once.
pub(crate) struct FirmwareAnalyser {
    rules: RuleSet,
    cache: Mutex<HashMap<String, Arc<OnceLock<Arc<FirmwareAnalysis>>>>>,
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
            rules.rules.extend(extra.rules);
        }
        Ok(FirmwareAnalyser {
            rules,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The analysis of `bytes` (whose sha256 is `sha256`), computed once per distinct image.
    pub(crate) fn analyse(&self, sha256: &str, bytes: &[u8]) -> Arc<FirmwareAnalysis> {
        let cell = {
            let mut cache = match self.cache.lock() {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
            cache.entry(sha256.to_string()).or_default().clone()
        };
        cell.get_or_init(|| {
            let limits = Limits {
                keep_content: self.rules.needs_content(),
                ..Limits::default()
            };
            let mut manifest = analyze(bytes, limits);
            let hits = self.rules.check(&manifest);
            for m in &mut manifest.modules {
                m.content = Vec::new();
            }
            Arc::new(FirmwareAnalysis { manifest, hits })
        })
        .clone()
    }
}
