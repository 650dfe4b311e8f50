//! The fleet reader and the audit over evidence from real machines and public data sets.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::fs;
use std::path::Path;
use tamperscan_bytes::sniff::{sniff, Format};
use tamperscan_fleet::load;
use tamperscan_model::EvidenceStatus;
use tamperscan_testdata::{data_dir, files_under};

fn head(path: &Path) -> Vec<u8> {
    let bytes = fs::read(path).unwrap();
    bytes[..bytes.len().min(64)].to_vec()
}

#[test]
fn real_board_images_are_recognised() {
    let Some(data) = data_dir() else { return };
    let images: Vec<_> = files_under(&data.join("boards"))
        .into_iter()
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg")))
        .collect();
    assert!(
        images.len() >= 300,
        "expected the DeepPCB and assembled pairs, found {}",
        images.len()
    );
    for path in images {
        let format = sniff(&head(&path));
        assert!(
            format.is_image(),
            "{}: sniffed as {}",
            path.display(),
            format.name()
        );
    }
}

#[test]
fn real_uefi_volumes_and_logs_are_recognised() {
    let Some(data) = data_dir() else { return };
    let mut volumes = 0;
    for path in files_under(&data.join("firmware/uefi")) {
        let name = path.file_name().unwrap().to_string_lossy().to_lowercase();
        // OVMF_CODE/QEMU_EFI images and .fv files start with a firmware volume header.
        if (name.ends_with(".fv") || name.contains("code")) && !name.contains("vars") {
            assert_eq!(
                sniff(&head(&path)),
                Format::UefiFirmwareVolume,
                "{}",
                path.display()
            );
            volumes += 1;
        }
    }
    assert!(volumes >= 5, "found only {volumes} firmware volumes");
    let mut agile = 0;
    for path in files_under(&data.join("eventlogs/go-eventlog")) {
        if path.extension().and_then(|e| e.to_str()) == Some("bin")
            && sniff(&head(&path)) == Format::TcgCryptoAgileLog
        {
            agile += 1;
        }
    }
    assert!(
        agile >= 3,
        "found only {agile} crypto-agile logs among the go-eventlog captures"
    );
}

/// A fleet assembled from real evidence: every file is read, hashed and accepted for its slot.
#[test]
fn a_fleet_of_real_evidence_reads_cleanly() {
    let Some(data) = data_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let copy = |from: &Path, to: &str| {
        let dest = root.join(to);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(from, dest).unwrap();
    };
    let dmi: Vec<_> = files_under(&data.join("inventory/dmidecode"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .take(6)
        .collect();
    let logs: Vec<_> = files_under(&data.join("eventlogs/go-eventlog"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    let boards: Vec<_> = files_under(&data.join("boards/assembled"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .take(6)
        .collect();
    let golden = files_under(&data.join("boards/assembled"))
        .into_iter()
        .find(|p| p.ends_with("golden.png"))
        .unwrap();
    copy(&golden, "models/m/board/top.png");
    fs::write(root.join("fleet.toml"), "[models.m]\n").unwrap();
    for i in 0..6 {
        let host = format!("hosts/h{i}");
        fs::create_dir_all(root.join(&host)).unwrap();
        fs::write(root.join(&host).join("host.toml"), "model = \"m\"\n").unwrap();
        // Identical siblings report identical tables (real dumps, serials anonymised).
        copy(&dmi[0], &format!("{host}/inventory/dmidecode.txt"));
        // Identical siblings boot identically: one real log for all of them.
        copy(&logs[0], &format!("{host}/boot/eventlog.bin"));
        // Photos of the board as delivered; the golden photo stands for an unchanged board
        // (changed boards are the board layer's tests).
        let _ = &boards;
        copy(&golden, &format!("{host}/board/top.png"));
    }
    let fleet = load(root, &|_, _| {}).unwrap();
    assert_eq!(fleet.hosts.len(), 6);
    for host in &fleet.hosts {
        assert_eq!(host.evidence.len(), 3, "{}", host.id);
        for item in &host.evidence {
            assert_eq!(item.status, EvidenceStatus::Read, "{}", item.path);
            assert!(item.sha256.is_some());
        }
    }
    assert_eq!(fleet.models["m"].references[0].format, "png");
    for host in &fleet.hosts {
        assert!(
            host.boot_logs[0].parsed.is_ok(),
            "{:?}",
            host.boot_logs[0].parsed
        );
    }
    let audit = tamperscan_detect::audit(&fleet);
    assert!(audit.findings.is_empty(), "{:#?}", audit.findings);
}

/// Five identical servers booting the same real firmware; on one, the digest of a PCR 0 event
/// differs (its firmware was altered as it loaded). Only that host, only that event.
#[test]
fn a_real_log_with_one_altered_firmware_measurement_stands_out() {
    let Some(data) = data_dir() else { return };
    let path = data.join("eventlogs/python3-uefi-eventlog/201123-eventlog.bin");
    let genuine = fs::read(&path).unwrap();
    let log = tamperscan_tcg::parse(&genuine).unwrap();
    let target = log
        .events
        .iter()
        .find(|e| e.pcr == 0 && e.event_type == tamperscan_tcg::EventType::EV_POST_CODE)
        .unwrap();
    // The sha256 digest sits just before the event size field and the data.
    let digest_at = target.data_offset as usize - 4 - 32;
    let mut altered = genuine.clone();
    altered[digest_at] ^= 0x5a;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fleet.toml"), "[models.x11]\n").unwrap();
    for i in 0..5 {
        let host = dir.path().join(format!("hosts/h{i}"));
        fs::create_dir_all(host.join("boot")).unwrap();
        fs::write(host.join("host.toml"), "model = \"x11\"\n").unwrap();
        fs::write(
            host.join("boot/eventlog.bin"),
            if i == 2 { &altered } else { &genuine },
        )
        .unwrap();
    }
    let fleet = load(dir.path(), &|_, _| {}).unwrap();
    let audit = tamperscan_detect::audit(&fleet);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
    let f = &audit.findings[0];
    assert_eq!(f.host.0, "h2");
    assert_eq!(f.kind, "boot.event_differs_from_siblings");
    assert!(f.summary.starts_with("PCR0 EV_POST_CODE"), "{}", f.summary);
    assert!(
        f.summary.ends_with("differs from 4 of 4 siblings"),
        "{}",
        f.summary
    );
}
