//! Helpers shared by the integration tests: reading the reference files that peer tools wrote.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use tamperscan_rootfs::{Entry, EntryKind, Listing};

/// Our own fixtures (made by `tests/data/make_fixtures.sh`).
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// Path bytes as the listers write them: `\xNN` for bytes that are not UTF-8.
pub fn escaped(raw: &[u8]) -> String {
    let mut out = String::new();
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// `sha256sum` output (`HASH  ./path`) as path -> hash.
pub fn sha256sums(text: &[u8]) -> BTreeMap<String, String> {
    text.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (hash, path) = line.split_at(64);
            let path = path.strip_prefix(b"  ").unwrap();
            let path = path.strip_prefix(b".").unwrap_or(path);
            (escaped(path), String::from_utf8(hash.to_vec()).unwrap())
        })
        .collect()
}

/// One line of `unsquashfs -lln`.
#[derive(Debug, Clone)]
pub struct LlnLine {
    pub path: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// None for device nodes (major, minor shown instead).
    pub size: Option<u64>,
    pub target: Option<String>,
}

/// Parses `ls -l` permission text (`drwxr-xr-x`, `-rwsr-xr-x`) into `st_mode`.
pub fn parse_mode(text: &str) -> u32 {
    let b = text.as_bytes();
    let kind = match b[0] {
        b'-' => 0o100000,
        b'd' => 0o040000,
        b'l' => 0o120000,
        b'c' => 0o020000,
        b'b' => 0o060000,
        b'p' => 0o010000,
        b's' => 0o140000,
        other => panic!("type {other}"),
    };
    let mut mode = kind;
    for (i, &c) in b[1..10].iter().enumerate() {
        let bit = 1 << (8 - i);
        match c {
            b'-' => {}
            b's' | b't' => {
                mode |= bit;
                mode |= [0o4000, 0o2000, 0o1000][i / 3];
            }
            b'S' | b'T' => mode |= [0o4000, 0o2000, 0o1000][i / 3],
            _ => mode |= bit,
        }
    }
    mode
}

/// `unsquashfs -lln` output, by path.
pub fn lln(text: &[u8]) -> BTreeMap<String, LlnLine> {
    let mut out = BTreeMap::new();
    for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let at = line
            .windows(13)
            .position(|w| w == b"squashfs-root")
            .unwrap();
        let (head, tail) = line.split_at(at);
        let head = String::from_utf8_lossy(head);
        let fields: Vec<&str> = head.split_whitespace().collect();
        let mode = parse_mode(fields[0]);
        let (uid, gid) = fields[1].split_once('/').unwrap();
        let size = if fields[2].contains(',') {
            None
        } else {
            Some(fields[2].parse().unwrap())
        };
        let tail = &tail[13..];
        let (path, target) = match tail.windows(4).position(|w| w == b" -> ") {
            Some(i) => (&tail[..i], Some(escaped(&tail[i + 4..]))),
            None => (tail, None),
        };
        let path = if path.is_empty() {
            "/".to_string()
        } else {
            escaped(path)
        };
        out.insert(
            path.clone(),
            LlnLine {
                path,
                mode,
                uid: uid.parse().unwrap(),
                gid: gid.parse().unwrap(),
                size,
                target,
            },
        );
    }
    out
}

pub fn by_path(listing: &Listing) -> BTreeMap<String, &Entry> {
    listing
        .entries
        .iter()
        .map(|e| (e.path.clone(), e))
        .collect()
}

pub fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks every regular file in `sums` against the listing, and that no other file exists.
pub fn assert_hashes(listing: &Listing, sums: &BTreeMap<String, String>) {
    let entries = by_path(listing);
    for (path, hash) in sums {
        let e = entries
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing"));
        assert_eq!(e.kind, EntryKind::File, "{path}");
        assert_eq!(
            e.sha256.as_ref().map(hex).as_deref(),
            Some(hash.as_str()),
            "{path}"
        );
    }
    let files = listing
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .count();
    assert_eq!(files, sums.len());
}

/// Checks names, modes, owners, sizes and link targets against `unsquashfs -lln`.
pub fn assert_matches_lln(listing: &Listing, expected: &BTreeMap<String, LlnLine>) {
    let entries = by_path(listing);
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "paths differ"
    );
    assert_eq!(listing.entries.len(), expected.len());
    for (path, want) in expected {
        let got = entries[path];
        assert_eq!(got.mode, want.mode, "{path} mode");
        assert_eq!((got.uid, got.gid), (want.uid, want.gid), "{path} owner");
        if let Some(size) = want.size {
            assert_eq!(got.size, size, "{path} size");
        }
        match (&got.kind, &want.target) {
            (EntryKind::Symlink { target }, Some(t)) => assert_eq!(target, t, "{path}"),
            (EntryKind::Symlink { .. }, None) | (_, Some(_)) => panic!("{path} link mismatch"),
            _ => {}
        }
    }
}
