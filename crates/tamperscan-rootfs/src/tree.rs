//! Collecting entries under the listing's bounds, shared by every filesystem.

use crate::{Entry, FsKind, Limits, Listing};

/// Issues kept at most; later ones are counted in one last issue.
const MAX_ISSUES: usize = 1000;

/// `S_IFMT` type bits.
pub(crate) const S_IFMT: u32 = 0o170_000;
pub(crate) const S_IFSOCK: u32 = 0o140_000;
pub(crate) const S_IFLNK: u32 = 0o120_000;
pub(crate) const S_IFREG: u32 = 0o100_000;
pub(crate) const S_IFBLK: u32 = 0o060_000;
pub(crate) const S_IFDIR: u32 = 0o040_000;
pub(crate) const S_IFCHR: u32 = 0o020_000;
pub(crate) const S_IFIFO: u32 = 0o010_000;

/// Entries and issues gathered so far.
#[derive(Debug)]
pub(crate) struct Collector {
    entries: Vec<Entry>,
    issues: Vec<String>,
    dropped_issues: usize,
    max_entries: usize,
    max_depth: usize,
    full: bool,
}

impl Collector {
    pub(crate) fn new(limits: &Limits) -> Self {
        Collector {
            entries: Vec::new(),
            issues: Vec::new(),
            dropped_issues: 0,
            max_entries: limits.entries,
            max_depth: limits.depth,
            full: false,
        }
    }

    /// Records damage or a limit that was met.
    pub(crate) fn issue(&mut self, text: String) {
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(text);
        } else {
            self.dropped_issues += 1;
        }
    }

    /// True once the entry bound was reached: walking should stop.
    pub(crate) fn is_full(&self) -> bool {
        self.full
    }

    /// Adds an entry; false (with one issue) when the entry bound is reached.
    pub(crate) fn add(&mut self, entry: Entry) -> bool {
        if self.entries.len() >= self.max_entries {
            if !self.full {
                self.full = true;
                let text = format!(
                    "more than {} entries: the listing stops before {}",
                    self.max_entries, entry.path
                );
                self.issue(text);
            }
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// True when a directory at `depth` (the root is 0) may have its children listed;
    /// records an issue otherwise.
    pub(crate) fn may_descend(&mut self, depth: usize, path: &str) -> bool {
        if depth >= self.max_depth {
            self.issue(format!(
                "directory {path} is deeper than {} levels: its contents are not listed",
                self.max_depth
            ));
            return false;
        }
        true
    }

    /// The finished listing, sorted by path.
    pub(crate) fn finish(mut self, fs: FsKind) -> Listing {
        if self.dropped_issues > 0 {
            self.issues.push(format!(
                "{} further issues not recorded",
                self.dropped_issues
            ));
        }
        // A stable sort keeps the walk order for duplicate paths, so output stays deterministic.
        self.entries.sort_by(|a, b| a.path.cmp(&b.path));
        let mut dups = 0usize;
        for pair in self.entries.windows(2) {
            if let [a, b] = pair {
                if a.path == b.path {
                    dups += 1;
                }
            }
        }
        if dups > 0 {
            self.issues
                .push(format!("{dups} paths appear more than once in the listing"));
        }
        Listing {
            fs,
            entries: self.entries,
            issues: self.issues,
        }
    }
}
