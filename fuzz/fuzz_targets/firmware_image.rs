#![no_main]
//! Any bytes as a firmware image: the manifest, a diff with itself, and the rules never panic,
//! and the work stays bounded (small decompression budget).

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tamperscan_firmware::{analyze, diff::diff, rules::RuleSet, Limits};

static RULES: OnceLock<RuleSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        decompress_budget: 4 << 20,
        max_depth: 8,
        keep_content: true,
    };
    let m = analyze(data, limits);
    let d = diff(&m, &m);
    assert!(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty());
    let _ = RULES.get_or_init(RuleSet::default_rules).check(&m);
});
