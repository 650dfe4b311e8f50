//! The fleet reader against hostile and broken fleet directories.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::fs;
use tamperscan_fleet::load;
use tamperscan_model::{EvidenceKind, EvidenceStatus};
use tamperscan_testdata::write;

fn no_progress(_: usize, _: usize) {}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&13u32.to_be_bytes());
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 2, 0, 0, 0]);
    v
}

#[test]
fn reads_a_small_fleet_with_every_part_optional() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "fleet.toml",
        b"[fleet]\nname = \"t\"\n[models.m1]\nvendor = \"V\"\n",
    );
    write(root, "models/m1/board/top.png", &png(4, 4));
    write(
        root,
        "hosts/a/host.toml",
        b"model = \"m1\"\nboard_serial = \"S1\"\n",
    );
    write(root, "hosts/a/board/top.png", &png(4, 4));
    write(
        root,
        "hosts/a/inventory/dmidecode.txt",
        b"# dmidecode 3.4\n",
    );
    write(root, "hosts/a/notes.md", b"hello");
    fs::create_dir_all(root.join("hosts/empty")).unwrap();
    write(root, "stray.txt", b"x");

    let fleet = load(root, &no_progress).unwrap();
    assert_eq!(fleet.name, "t");
    assert_eq!(fleet.hosts.len(), 2);
    let a = &fleet.hosts[0];
    assert_eq!(a.id.0, "a");
    assert_eq!(a.evidence.len(), 2);
    assert_eq!(a.evidence[0].path, "hosts/a/board/top.png");
    assert_eq!(a.evidence[0].format, "png");
    assert_eq!(a.evidence[0].status, EvidenceStatus::Read);
    assert_eq!(a.evidence[0].sha256.as_ref().unwrap().len(), 64);
    assert_eq!(a.notes.len(), 1);
    assert_eq!(a.notes[0].path, "hosts/a/notes.md");
    let empty = &fleet.hosts[1];
    assert!(!empty.has_host_toml && empty.evidence.is_empty());
    assert_eq!(fleet.models["m1"].references.len(), 1);
    assert!(fleet.notes.iter().any(|n| n.path == "stray.txt"));
}

#[test]
fn every_configuration_error_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "hosts/a/host.toml", b"model = \"m1\"\nlot = \n");
    write(root, "hosts/b/host.toml", b"\x7fELF\x02\x01\x01\0\0\0");
    write(
        root,
        "hosts/c/host.toml",
        b"[evidence]\n\"firmware/bmc.bin\" = \"missing.bin\"\n",
    );
    let err = load(root, &no_progress).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.0.len(), 3, "{text}");
    assert!(text.contains("hosts/a/host.toml:2:"), "{text}");
    assert!(
        text.contains("hosts/b/host.toml: not a TOML text file"),
        "{text}"
    );
    assert!(
        text.contains("hosts/c/host.toml:2:22: evidence file"),
        "{text}"
    );
    assert!(text.contains("missing.bin"), "{text}");
}

#[test]
fn huge_sparse_files_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "hosts/a/host.toml", b"model = \"m\"\n");
    fs::create_dir_all(root.join("hosts/a/firmware")).unwrap();
    let f = fs::File::create(root.join("hosts/a/firmware/bmc.bin")).unwrap();
    f.set_len(2 * 1024 * 1024 * 1024).unwrap();
    let fleet = load(root, &no_progress).unwrap();
    let item = &fleet.hosts[0].evidence[0];
    assert_eq!(
        item.kind,
        EvidenceKind::FirmwareImage { name: "bmc".into() }
    );
    assert_eq!(item.size, 2 * 1024 * 1024 * 1024);
    assert!(matches!(item.status, EvidenceStatus::TooLarge { .. }));
    assert!(item.sha256.is_none());

    let g = fs::File::create(root.join("hosts/a/host.toml")).unwrap();
    g.set_len(2 * 1024 * 1024 * 1024).unwrap();
    let err = load(root, &no_progress).unwrap_err();
    assert!(
        err.to_string().contains("configuration files are at most"),
        "{err}"
    );
}

#[test]
fn evidence_that_is_not_what_its_slot_promises_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "hosts/a/board/top.png", b"GIF89a....");
    write(
        root,
        "hosts/a/inventory/lspci.txt",
        b"00:00.0 Host bridge\0\xff\xfe",
    );
    write(root, "hosts/a/boot/eventlog.bin", b"");
    let fleet = load(root, &no_progress).unwrap();
    let statuses: Vec<_> = fleet.hosts[0]
        .evidence
        .iter()
        .map(|e| (e.path.as_str(), &e.status))
        .collect();
    for (path, status) in statuses {
        assert!(
            matches!(status, EvidenceStatus::WrongFormat { .. }),
            "{path}: {status:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn links_and_fifos_are_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "hosts/a/host.toml", b"");
    fs::create_dir_all(root.join("hosts/a/firmware")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("hosts/a/firmware/bios.bin")).unwrap();
    let fifo = root.join("hosts/a/firmware/bmc.bin");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    let fleet = load(root, &no_progress).unwrap();
    let host = &fleet.hosts[0];
    assert!(host.evidence.is_empty());
    assert!(host
        .notes
        .iter()
        .any(|n| n.message.contains("symbolic link")));
    if status.is_ok_and(|s| s.success()) {
        assert!(host
            .notes
            .iter()
            .any(|n| n.message.contains("not a regular file")));
    }
}

#[test]
fn duplicate_host_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "hosts/a/host.toml", b"id = \"x\"\n");
    write(root, "hosts/b/host.toml", b"id = \"x\"\n");
    let err = load(root, &no_progress).unwrap_err();
    assert!(err.to_string().contains("already used by hosts/a"), "{err}");
}

#[test]
fn a_file_instead_of_a_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f", b"x");
    let err = load(&dir.path().join("f"), &no_progress).unwrap_err();
    assert!(err.to_string().contains("is not a directory"), "{err}");
    let err = load(&dir.path().join("nope"), &no_progress).unwrap_err();
    assert!(
        err.to_string().contains("cannot open fleet directory"),
        "{err}"
    );
}

/// Regression: the hosts/ listing was cut at the per-directory entry bound (10,000), so larger
/// fleets were silently audited in part.
#[test]
fn more_than_ten_thousand_hosts_are_all_read() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10_050 {
        fs::create_dir_all(dir.path().join(format!("hosts/h{i:05}"))).unwrap();
    }
    let fleet = load(dir.path(), &no_progress).unwrap();
    assert_eq!(fleet.hosts.len(), 10_050);
}
