//! Where tests find the real-world data set (`../shared/data` beside the project, or
//! `TAMPERSCAN_DATA`).
//!
//! Tests that need it call [`data_dir`]: without the data they skip with a printed reason, but
//! when `CI` is set a missing data set fails the test, so CI can never pass by skipping.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// The data directory, or `None` (after printing why) when it is absent outside CI.
///
/// # Panics
/// When `CI` is set and the data directory is missing: a CI run must test against real data.
pub fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TAMPERSCAN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    #[allow(clippy::panic)]
    if ci {
        panic!(
            "CI is set but the real test data is missing at {}; set TAMPERSCAN_DATA or place shared/data beside the project",
            dir.display()
        );
    }
    eprintln!(
        "skipped: real test data not found at {} (set TAMPERSCAN_DATA)",
        dir.display()
    );
    None
}

/// Every regular file under `dir`, sorted, skipping `SOURCES.md`-style documentation.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Writes `bytes` to `root/rel`, creating parent directories: the one way tests build fleet
/// directories.
///
/// # Panics
/// When the file cannot be written (a test setup failure).
#[allow(clippy::unwrap_used)]
pub fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}
