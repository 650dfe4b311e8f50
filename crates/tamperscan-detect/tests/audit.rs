//! Detectors over small fleets written to a temporary directory.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::fs;
use tamperscan_detect::audit;
use tamperscan_fleet::load;
use tamperscan_model::{Severity, Verdict};
use tamperscan_testdata::write;

fn kinds_of(audit: &tamperscan_detect::Audit, host: &str) -> Vec<String> {
    audit
        .findings
        .iter()
        .filter(|f| f.host.0 == host)
        .map(|f| f.kind.clone())
        .collect()
}

#[test]
fn identity_and_model_findings() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "fleet.toml", b"[models.m1]\n[models.m2]\n");
    write(r, "hosts/a/host.toml", b"model = \"m1\"\nboard_serial = \"B1\"\nsystem_serial = \"To be filled by O.E.M.\"\nbmc_address = \"10.0.0.1\"\n");
    write(r, "hosts/b/host.toml", b"model = \"m1\"\nboard_serial = \"B1\"\nsystem_serial = \"To be filled by O.E.M.\"\nbmc_address = \"10.0.0.2\"\n");
    write(r, "hosts/c/host.toml", b"model = \"m1\"\nboard_serial = \"B3\"\nchassis_serial = \"CH123\"\nbmc_address = \"10.0.0.2\"\n");
    write(
        r,
        "hosts/d/host.toml",
        b"model = \"m3\"\nchassis_serial = \"CH123\"\n",
    );
    write(r, "hosts/e/host.toml", b"lot = \"x\"\n");
    fs::create_dir_all(r.join("hosts/f")).unwrap();
    let fleet = load(r, &|_, _| {}).unwrap();
    let audit = audit(&fleet);

    assert_eq!(kinds_of(&audit, "a"), ["host.duplicate_identifier"]);
    let dup = audit.findings.iter().find(|f| f.host.0 == "a").unwrap();
    assert_eq!(dup.severity, Severity::High);
    assert!(
        dup.summary.contains("board_serial B1 is also claimed by b"),
        "{}",
        dup.summary
    );
    assert_eq!(
        kinds_of(&audit, "b"),
        ["host.duplicate_identifier", "host.duplicate_bmc_address"]
    );
    // A shared chassis serial is low-trust: medium, not high.
    let c: Vec<_> = audit.findings.iter().filter(|f| f.host.0 == "c").collect();
    assert!(c
        .iter()
        .any(|f| f.kind == "host.duplicate_identifier" && f.severity == Severity::Medium));
    assert!(kinds_of(&audit, "d").contains(&"host.model_undeclared".to_string()));
    let undeclared = audit
        .findings
        .iter()
        .find(|f| f.kind == "host.model_undeclared")
        .unwrap();
    assert_eq!(undeclared.location.at, "model (line 1, column 9)");
    assert_eq!(kinds_of(&audit, "e"), ["host.model_missing"]);
    assert_eq!(kinds_of(&audit, "f"), ["host.empty"]);

    let verdicts: Vec<(&str, Verdict)> = audit
        .hosts
        .iter()
        .map(|h| (h.id.0.as_str(), h.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("a", Verdict::Fail),
            ("b", Verdict::Fail),
            ("c", Verdict::Suspect),
            ("d", Verdict::Suspect),
            ("e", Verdict::Suspect),
            ("f", Verdict::Suspect)
        ]
    );
}

#[test]
fn evidence_missing_against_sibling_consensus() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for h in ["a", "b", "c", "d"] {
        write(r, &format!("hosts/{h}/host.toml"), b"model = \"m\"\n");
        if h != "c" {
            write(
                r,
                &format!("hosts/{h}/inventory/lspci.txt"),
                b"00:00.0 Host bridge\n",
            );
        }
    }
    write(r, "hosts/d/firmware/bmc.bin", b"\x27\x05\x19\x56rest");
    let fleet = load(r, &|_, _| {}).unwrap();
    let audit = audit(&fleet);
    assert_eq!(audit.findings.len(), 1, "{:#?}", audit.findings);
    let f = &audit.findings[0];
    assert_eq!(f.kind, "host.evidence_missing");
    assert_eq!(f.host.0, "c");
    assert_eq!(
        f.summary,
        "inventory/lspci.txt is missing, while 3 of 3 m siblings have it"
    );
}

#[test]
fn broken_evidence_is_a_finding_in_its_layer() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "hosts/a/host.toml", b"");
    write(r, "hosts/a/board/top.jpg", b"not an image at all");
    let fleet = load(r, &|_, _| {}).unwrap();
    let audit = audit(&fleet);
    let kinds: Vec<_> = audit
        .findings
        .iter()
        .map(|f| (f.layer.name(), f.kind.as_str()))
        .collect();
    assert!(
        kinds.contains(&("board", "evidence.wrong_format")),
        "{kinds:?}"
    );
}

#[test]
fn audit_is_deterministic_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    for i in 0..40 {
        let serial = if i % 13 == 0 {
            "DUP".to_string()
        } else {
            format!("S{i}")
        };
        write(
            r,
            &format!("hosts/h{i:02}/host.toml"),
            format!("model = \"m\"\nboard_serial = \"{serial}\"\n").as_bytes(),
        );
    }
    let fleet = load(r, &|_, _| {}).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| audit(&fleet));
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(4)
        .build()
        .unwrap()
        .install(|| audit(&fleet));
    assert_eq!(one.findings, many.findings);
    assert_eq!(one.findings.len(), 4);
}

/// A BIOS volume of DXE drivers named `names`, written by the project's image writer.
fn bios(names: &[&str]) -> Vec<u8> {
    use tamperscan_firmware::writer;
    let files: Vec<Vec<u8>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let guid = format!("{:08X}-0000-4000-8000-00000000AAAA", i + 1)
                .parse()
                .unwrap();
            let body = writer::sections(&[
                writer::section(0x10, format!("MZ code of {n}").as_bytes()),
                writer::ui_section(n),
            ]);
            writer::ffs_file(guid, 0x07, &body)
        })
        .collect();
    writer::volume(
        "AAAAAAAA-0000-4000-8000-000000000000".parse().unwrap(),
        &files,
        0x4000,
    )
    .unwrap()
}

#[test]
fn firmware_modules_against_siblings_and_golden_images() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let genuine = bios(&["PlatformDxe", "NetworkDxe"]);
    for h in ["a", "b", "c", "d", "e"] {
        write(r, &format!("hosts/{h}/host.toml"), b"model = \"m\"\n");
        let image = match h {
            "b" => bios(&["PlatformDxe", "NetworkDxe", "ExtraDxe"]),
            "c" => {
                let mut x = genuine.clone();
                let n = x.len();
                x[n - 100..n - 90].copy_from_slice(b"hidden!!!!");
                x
            }
            _ => genuine.clone(),
        };
        write(r, &format!("hosts/{h}/firmware/bios.fd"), &image);
    }
    let fleet = load(r, &|_, _| {}).unwrap();
    let kinds: Vec<(String, String)> = audit(&fleet)
        .findings
        .iter()
        .filter(|f| f.layer.name() == "firmware")
        .map(|f| (f.host.0.clone(), f.kind.clone()))
        .collect();
    let has = |h: &str, k: &str| kinds.iter().any(|(a, b)| a == h && b == k);
    assert!(has("b", "firmware.module_added_vs_siblings"), "{kinds:?}");
    assert!(has("c", "firmware.free_space_data"), "{kinds:?}");
    assert!(
        !kinds.iter().any(|(h, _)| h == "a" || h == "d" || h == "e"),
        "{kinds:?}"
    );

    // With a golden image the golden image is the reference, and it names the module.
    write(r, "models/m/firmware/bios.fd", &bios(&["PlatformDxe"]));
    let fleet = load(r, &|_, _| {}).unwrap();
    let findings = audit(&fleet).findings;
    let added: Vec<&str> = findings
        .iter()
        .filter(|f| f.kind == "firmware.module_added" && f.host.0 == "a")
        .map(|f| f.summary.as_str())
        .collect();
    assert_eq!(added.len(), 1, "{findings:#?}");
    assert!(added[0].contains("'NetworkDxe'"), "{}", added[0]);
    assert!(!findings.iter().any(|f| f.kind.ends_with("_vs_siblings")));
}

fn dmidecode(board_serial: &str, dimms: usize, bios: &str) -> Vec<u8> {
    let mut t = format!(
        "# dmidecode 3.4\nSMBIOS 3.3.0 present.\n\nHandle 0x0000, DMI type 0, 26 bytes\nBIOS Information\n\tVendor: Example\n\tVersion: {bios}\n\nHandle 0x0002, DMI type 2, 15 bytes\nBase Board Information\n\tManufacturer: Example\n\tProduct Name: EB-1\n\tSerial Number: {board_serial}\n\n"
    );
    for n in 0..dimms {
        t.push_str(&format!("Handle 0x{:04X}, DMI type 17, 92 bytes\nMemory Device\n\tSize: 32 GB\n\tLocator: DIMM{n}\n\tManufacturer: Samsung\n\tSerial Number: {board_serial}-{n}\n\n", 0x20 + n));
    }
    t.into_bytes()
}

#[test]
fn inventory_against_host_toml_bom_fleet_and_siblings() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "models/m/bom.toml",
        b"[[component]]\nclass = \"memory\"\ncount = 4\n",
    );
    for (h, serial, dimms, bios, declared) in [
        ("a", "SN-A", 4, "1.2", "SN-A"),
        ("b", "SN-B", 4, "1.2", "SN-OTHER"),
        ("c", "SN-C", 3, "1.2", "SN-C"),
        ("d", "SN-A", 4, "1.1", "SN-D"),
        ("e", "SN-E", 4, "1.2", "SN-E"),
    ] {
        write(
            r,
            &format!("hosts/{h}/host.toml"),
            format!("model = \"m\"\nboard_serial = \"{declared}\"\n").as_bytes(),
        );
        write(
            r,
            &format!("hosts/{h}/inventory/dmidecode.txt"),
            &dmidecode(serial, dimms, bios),
        );
    }
    let fleet = load(r, &|_, _| {}).unwrap();
    let audit = audit(&fleet);
    let has = |h: &str, k: &str| kinds_of(&audit, h).iter().any(|x| x == k);
    assert!(
        has("b", "inventory.identifier_mismatch"),
        "{:?}",
        kinds_of(&audit, "b")
    );
    assert!(has("d", "inventory.identifier_mismatch"));
    assert!(has("a", "inventory.serial_seen_twice") && has("d", "inventory.serial_seen_twice"));
    assert!(has("c", "inventory.bom_count_mismatch"));
    assert!(has("c", "inventory.component_missing_vs_siblings"));
    assert!(has("d", "inventory.firmware_differs_from_siblings"));
    assert!(
        kinds_of(&audit, "e").is_empty(),
        "{:?}",
        kinds_of(&audit, "e")
    );
}

#[test]
fn platform_certificates_are_verified_and_compared() {
    let Some(data) = tamperscan_testdata::data_dir() else {
        return;
    };
    let laptop = data.join("inventory/tcg-platform-certs/hirs-ci-laptop/default");
    let cert = fs::read(laptop.join("platformcerts/laptop.default.1.base.cer")).unwrap();
    let ca = fs::read(laptop.join("trustcerts/ca.crt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "models/m/platform-ca.crt", &ca);
    write(r, "hosts/a/host.toml", b"model = \"m\"\n");
    write(r, "hosts/a/inventory/platform-cert.der", &cert);
    let mut bad = cert.clone();
    let n = bad.len();
    bad[n - 10] ^= 0x01; // inside the signature
    write(r, "hosts/b/host.toml", b"model = \"m\"\n");
    write(r, "hosts/b/inventory/platform-cert.der", &bad);
    let fleet = load(r, &|_, _| {}).unwrap();
    assert!(
        fleet.hosts[0]
            .inventory
            .as_ref()
            .unwrap()
            .platform_certs
            .len()
            == 1
    );
    let audit = audit(&fleet);
    let a = kinds_of(&audit, "a");
    let b = kinds_of(&audit, "b");
    assert!(
        !a.iter()
            .any(|k| k == "inventory.platform_cert_not_signed_by_ca"),
        "{a:?}"
    );
    assert!(
        b.iter()
            .any(|k| k == "inventory.platform_cert_not_signed_by_ca"),
        "{b:?}"
    );
    // The host reports nothing, so every certified component is missing, named.
    assert!(
        a.iter()
            .any(|k| k == "inventory.platform_cert_component_missing"),
        "{a:?}"
    );
}
