#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Manifests of the real images in ../shared/data/firmware against the peer's manifests
//! (UEFIExtract) in reference/manifests, and tampered copies made here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tamperscan_firmware::diff::diff;
use tamperscan_firmware::{analyze, writer, Limits, Manifest};

fn firmware_dir() -> Option<PathBuf> {
    tamperscan_testdata::data_dir().map(|d| d.join("firmware"))
}

/// `uefi_ovmf-x64-debian12-2022.11_OVMF_CODE.fd.manifest.json` -> `uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd`.
fn image_of(reference: &Path) -> PathBuf {
    let name = reference.file_name().unwrap().to_str().unwrap();
    let stem = name.strip_suffix(".manifest.json").unwrap();
    let mut parts = stem.splitn(3, '_');
    let (top, dir, file) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    Path::new(top).join(dir).join(file)
}

fn load(fw: &Path, rel: &Path) -> (Vec<u8>, Manifest) {
    let bytes = std::fs::read(fw.join(rel)).unwrap();
    let m = analyze(&bytes, Limits::default());
    (bytes, m)
}

#[test]
fn every_uefi_image_holds_every_module_the_peer_lists() {
    let Some(fw) = firmware_dir() else { return };
    let mut checked = 0;
    for entry in std::fs::read_dir(fw.join("reference/manifests")).unwrap() {
        let path = entry.unwrap().path();
        let rel = image_of(&path);
        if !rel.starts_with("uefi") {
            continue;
        }
        let reference: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let (_, m) = load(&fw, &rel);
        // GUID -> multiset of stored sha256, both sides.
        let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for f in reference["files"].as_array().unwrap() {
            want.entry(f["guid"].as_str().unwrap().to_string())
                .or_default()
                .push(f["sha256"].as_str().unwrap().to_string());
        }
        let mut have: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for md in m.modules_nonpad().filter(|x| x.guid.is_some()) {
            have.entry(md.guid.unwrap().to_string())
                .or_default()
                .push(md.sha256.clone());
        }
        for (guid, hashes) in &want {
            let mut w = hashes.clone();
            w.sort();
            let mut h = have.get(guid).cloned().unwrap_or_default();
            h.sort();
            assert_eq!(h, w, "{}: module {guid}", rel.display());
        }
        // Names and PE32 bodies agree too.
        for f in reference["files"].as_array().unwrap() {
            let guid = f["guid"].as_str().unwrap();
            let sha = f["sha256"].as_str().unwrap();
            let md = m
                .modules
                .iter()
                .find(|x| x.sha256 == sha && x.guid.map(|g| g.to_string()).as_deref() == Some(guid))
                .unwrap();
            if let Some(ui) = f["ui"].as_str() {
                assert_eq!(md.name.as_deref(), Some(ui), "{}: {guid}", rel.display());
            }
            let pe: Vec<String> = f["pe32_sha256"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(md.pe32_sha256, pe, "{}: {guid} PE32", rel.display());
            let te: Vec<String> = f["te_sha256"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(md.te_sha256, te, "{}: {guid} TE", rel.display());
        }
        // No stray failures on genuine images.
        let serious: Vec<_> = m
            .issues
            .iter()
            .filter(|i| i.kind.contains("checksum") || i.kind.starts_with("decompress"))
            .collect();
        assert!(serious.is_empty(), "{}: {serious:?}", rel.display());
        checked += 1;
    }
    assert!(
        checked >= 8,
        "only {checked} UEFI reference manifests were found"
    );
}

#[test]
fn lzma_test_volume_decodes_to_its_documented_sections() {
    let Some(fw) = firmware_dir() else { return };
    let (_, m) = load(&fw, Path::new("uefi/patina-testfv/LZMATEST.Fv"));
    let logo = m
        .modules
        .iter()
        .find(|x| x.name.as_deref() == Some("Logo"))
        .unwrap();
    assert_eq!(
        logo.guid.unwrap().to_string(),
        "7BB28B99-61BB-11D5-9A5D-0090273FC14D"
    );
    assert_eq!(logo.sections, ["GUID defined (LZMA)", "Raw", "UI"]);
    assert!(m.issues.is_empty(), "{:?}", m.issues);
}

#[test]
fn debian_ovmf_update_and_variant_diffs_agree_with_the_peer() {
    let Some(fw) = firmware_dir() else { return };
    for (golden, suspect, reference) in [
        (
            "uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd",
            "uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.secboot.fd",
            "debian12_OVMF_CODE__to__secboot.diff.json",
        ),
        (
            "uefi/ovmf-x64-debian11-2020.11/OVMF_CODE.fd",
            "uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd",
            "debian11__to__debian12_OVMF_CODE.diff.json",
        ),
    ] {
        let (_, g) = load(&fw, Path::new(golden));
        let (_, s) = load(&fw, Path::new(suspect));
        let d = diff(&g, &s);
        let r: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fw.join("reference/diffs").join(reference)).unwrap(),
        )
        .unwrap();
        let guids = |v: &serde_json::Value| {
            let mut x: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["guid"].as_str().unwrap().to_string())
                .collect();
            x.sort();
            x
        };
        let mut added: Vec<String> = d
            .added
            .iter()
            .map(|a| a.guid.unwrap().to_string())
            .collect();
        added.sort();
        let mut removed: Vec<String> = d
            .removed
            .iter()
            .map(|a| a.guid.unwrap().to_string())
            .collect();
        removed.sort();
        assert_eq!(added, guids(&r["added"]), "{reference}: added");
        assert_eq!(removed, guids(&r["removed"]), "{reference}: removed");
        assert_eq!(
            d.changed.len() as u64,
            r["summary"]["changed"].as_u64().unwrap(),
            "{reference}: changed"
        );
        assert_eq!(
            d.unchanged as u64,
            r["summary"]["unchanged"].as_u64().unwrap(),
            "{reference}: unchanged"
        );
    }
}

#[test]
fn identical_images_diff_to_nothing() {
    let Some(fw) = firmware_dir() else { return };
    let (_, a) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian11-2020.11/OVMF_VARS.fd"),
    );
    let (_, b) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.fd"),
    );
    let d = diff(&a, &b);
    assert!(d.identical && !d.has_differences(), "{d:?}");
}

/// The first top-level (not compressed) module with a PE32 section.
fn uncompressed_pe_module(m: &Manifest) -> &tamperscan_firmware::Module {
    m.modules
        .iter()
        .find(|x| x.stored_in.is_none() && !x.pe32_sha256.is_empty() && x.size > 4096)
        .unwrap()
}

#[test]
fn a_patched_byte_is_found_exactly() {
    let Some(fw) = firmware_dir() else { return };
    let (bytes, golden) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd"),
    );
    let target = uncompressed_pe_module(&golden);
    let mut bad = bytes.clone();
    let at = (target.offset + target.size / 2) as usize;
    bad[at] ^= 0x01;
    let suspect = analyze(&bad, Limits::default());
    let d = diff(&golden, &suspect);
    assert!(d.added.is_empty() && d.removed.is_empty(), "{d:?}");
    assert_eq!(d.changed.len(), 1, "{:?}", d.changed);
    assert_eq!(d.changed[0].key, target.key);
    assert!(d.changed[0].differs.contains(&"code"));
    assert!(d.free_space.is_empty() && d.variables.added.is_empty());
}

#[test]
fn an_injected_module_is_found_exactly() {
    let Some(fw) = firmware_dir() else { return };
    let (bytes, golden) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd"),
    );
    let guid: tamperscan_bytes::Guid = "3A4B5C6D-1111-4222-8333-944455566677".parse().unwrap();
    let body = writer::sections(&[
        writer::section(0x10, &[0x4D, 0x5A, 0x90, 0x00, 1, 2, 3, 4]),
        writer::ui_section("Injected"),
    ]);
    let file = writer::ffs_file(guid, 0x07, &body);
    let mut bad = bytes.clone();
    let vol = golden
        .volumes
        .iter()
        .find(|v| v.stored_in.is_none() && v.free_bytes as usize > file.len() + 8)
        .expect("a volume with free space");
    let end = (vol.offset + vol.size) as usize;
    writer::inject(&mut bad, end - vol.free_bytes as usize, end, &file).unwrap();
    let suspect = analyze(&bad, Limits::default());
    let d = diff(&golden, &suspect);
    assert_eq!(d.added.len(), 1, "{d:?}");
    assert_eq!(d.added[0].guid, Some(guid));
    assert_eq!(d.added[0].name.as_deref(), Some("Injected"));
    assert!(
        d.removed.is_empty() && d.changed.is_empty() && d.free_space.is_empty(),
        "{d:?}"
    );
    assert!(d.new_issues.is_empty(), "{:?}", d.new_issues);
}

#[test]
fn bytes_in_free_space_are_found_exactly() {
    let Some(fw) = firmware_dir() else { return };
    let (bytes, golden) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian12-2022.11/OVMF_CODE.fd"),
    );
    let vol = golden
        .volumes
        .iter()
        .find(|v| v.stored_in.is_none() && v.free_bytes > 256)
        .expect("a volume with free space");
    let end = (vol.offset + vol.size) as usize;
    let at = end - vol.free_bytes as usize / 2;
    let mut bad = bytes.clone();
    bad[at..at + 32].copy_from_slice(&[0x5Au8; 32]);
    let suspect = analyze(&bad, Limits::default());
    let d = diff(&golden, &suspect);
    assert_eq!(d.free_space.len(), 1, "{d:?}");
    assert_eq!(d.free_space[0].offset as usize, at);
    assert_eq!(d.free_space[0].size, 32);
    assert!(
        d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty(),
        "{d:?}"
    );
}

#[test]
fn fit_hashes_check_and_a_patched_sub_image_is_found_exactly() {
    let Some(fw) = firmware_dir() else { return };
    let rel = Path::new("bmc/rockchip-rockpro64-uboot-2025.01/u-boot-rockchip-spi.bin");
    let (bytes, golden) = load(&fw, rel);
    let reference: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fw.join("reference/bmc/rockpro64-spi.fit.json")).unwrap(),
    )
    .unwrap();
    let images = reference["images"].as_array().unwrap();
    for img in images {
        let name = img["name"].as_str().unwrap();
        let md = golden
            .modules
            .iter()
            .find(|m| m.name.as_deref() == Some(name))
            .unwrap();
        assert_eq!(md.sha256, img["sha256_actual"].as_str().unwrap(), "{name}");
    }
    assert!(!golden.fit_hashes.is_empty() && golden.fit_hashes.iter().all(|h| h.ok));
    let target = golden
        .modules
        .iter()
        .find(|m| m.name.as_deref() == Some("atf-2"))
        .unwrap();
    let mut bad = bytes.clone();
    bad[(target.offset + target.size / 2) as usize] ^= 0x20;
    let d = diff(&golden, &analyze(&bad, Limits::default()));
    assert_eq!(d.changed.len(), 1, "{d:?}");
    assert_eq!(d.changed[0].name.as_deref(), Some("atf-2"));
    assert_eq!(d.fit_hash_mismatches.len(), 1);
    assert_eq!(d.fit_hash_mismatches[0].image, "atf-2");
    assert!(d.added.is_empty() && d.removed.is_empty() && d.free_space.is_empty());
}

#[test]
fn nvram_variables_are_read_and_diffed() {
    let Some(fw) = firmware_dir() else { return };
    let (_, empty) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.fd"),
    );
    let (_, enrolled) = load(
        &fw,
        Path::new("uefi/ovmf-x64-debian12-2022.11/OVMF_VARS.ms.fd"),
    );
    let reference: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fw.join(
            "reference/manifests/uefi_ovmf-x64-debian12-2022.11_OVMF_VARS.ms.fd.manifest.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let want: Vec<(String, String)> = reference["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_string(),
                v["guid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!want.is_empty());
    for (name, guid) in &want {
        assert!(
            enrolled
                .variables
                .iter()
                .any(|v| &v.name == name && &v.guid.to_string() == guid && v.state == "valid"),
            "{name} {guid}"
        );
    }
    let pk = enrolled
        .variables
        .iter()
        .find(|v| v.name == "PK" && v.state == "valid")
        .unwrap();
    assert!(
        pk.signatures.iter().any(|s| s.starts_with("X509")),
        "{:?}",
        pk.signatures
    );
    let d = diff(&empty, &enrolled);
    for name in ["PK", "KEK", "db", "dbx"] {
        assert!(
            d.variables.added.iter().any(|v| v.name == name),
            "{name} not reported as added"
        );
    }
}

#[test]
fn a_flash_descriptor_gives_its_regions() {
    let Some(fw) = firmware_dir() else { return };
    let (_, m) = load(&fw, Path::new("flash/ocp-tiogapass-ifd/descriptor.bin"));
    assert_eq!(m.image.format, "intel-flash");
    let names: Vec<&str> = m.regions.iter().map(|r| r.name.as_str()).collect();
    for n in ["Flash Descriptor", "BIOS", "Intel ME", "GbE"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let bios = m.regions.iter().find(|r| r.name == "BIOS").unwrap();
    assert_eq!((bios.offset, bios.size), (0x100_0000, 0x100_0000));
}

#[test]
fn bmc_bootloader_update_names_what_changed() {
    let Some(fw) = firmware_dir() else { return };
    let (_, old) = load(
        &fw,
        Path::new("bmc/aspeed-ast2600-evb-buildroot-2023.11/u-boot.bin"),
    );
    let (_, new) = load(
        &fw,
        Path::new("bmc/aspeed-ast2600-evb-buildroot-2024.11/u-boot.bin"),
    );
    assert_eq!(old.image.format, "bmc");
    assert!(old
        .modules
        .iter()
        .any(|m| m.kind == tamperscan_firmware::ModuleKind::DeviceTree));
    let d = diff(&old, &new);
    assert!(d.has_differences());
    assert!(
        d.changed.iter().any(|c| c.file_type == "Device tree")
            || d.added.iter().any(|a| a.file_type == "Device tree"),
        "{d:?}"
    );
}

#[test]
fn non_uefi_images_are_recognised_not_misparsed() {
    let Some(fw) = firmware_dir() else { return };
    for (rel, format) in [
        ("legacy/seabios-debian12-1.16.2/bios.bin", "unknown"),
        ("uefi/hisilicon-d06/CustomData.Fv", "unknown"),
        ("uefi/aspeed-gop/ASpeedAst2600Gop-X64.efi", "pe-image"),
        ("uefi/fiano-testfv/testfile.ffs", "ffs-files"),
        ("rootfs/binwalk-tests/squashfs.bin", "rootfs"),
        ("rootfs/binwalk-tests/cramfs.bin", "rootfs"),
        ("flash/intel-purley-me-ignition/MeRegion.bin", "me-region"),
        (
            "bmc/sunxi-pine64plus-uboot-2025.01/u-boot-sunxi-with-spl.fit.itb",
            "bmc",
        ),
    ] {
        let (_, m) = load(&fw, Path::new(rel));
        assert_eq!(m.image.format, format, "{rel}");
        assert!(
            m.issues.iter().all(|i| !i.kind.contains("checksum")),
            "{rel}: {:?}",
            m.issues
        );
    }
}
