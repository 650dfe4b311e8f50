//! Real BMC images from the shared data set: the FITs against every value in
//! `firmware/reference/bmc/*.fit.json`, the AST2600 device trees against counts from `fdtdump`
//! and `fdtget`, and whole-image scans.
#![allow(clippy::unwrap_used)] // Test helpers: a failed setup should stop the test loudly.

use std::fs;
use std::path::{Path, PathBuf};

use tamperscan_bmc::fit::DataLocation;
use tamperscan_bmc::{fdt, fit, partitions, scan, FitIssue, Found, FoundKind, Partition};
use tamperscan_bytes::hex;
use tamperscan_testdata::data_dir;

fn bmc_dir() -> Option<PathBuf> {
    Some(data_dir()?.join("firmware/bmc"))
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    fs::read(dir.join(rel)).unwrap()
}

/// Checks a parsed FIT against every field of its reference JSON.
fn check_against_reference(image: &[u8], reference: &Path) {
    let expected: serde_json::Value =
        serde_json::from_slice(&fs::read(reference).unwrap()).unwrap();
    let offset = usize::from_str_radix(
        expected["fit_offset"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let fit = fit::parse_at(image, offset).unwrap();
    assert_eq!(fit.offset, offset as u64);
    assert_eq!(fit.fdt_size, expected["fit_header_size"].as_u64().unwrap());
    assert_eq!(fit.description.as_deref(), expected["description"].as_str());
    let images = expected["images"].as_array().unwrap();
    assert_eq!(fit.images.len(), images.len());
    for (got, want) in fit.images.iter().zip(images) {
        let name = want["name"].as_str().unwrap();
        assert_eq!(got.name, name);
        assert_eq!(
            got.description.as_deref(),
            want["description"].as_str(),
            "{name}"
        );
        assert_eq!(got.kind.as_deref(), want["type"].as_str(), "{name}");
        assert_eq!(
            got.arch.as_deref().unwrap_or(""),
            want["arch"].as_str().unwrap(),
            "{name}"
        );
        let size = want["size"].as_u64().unwrap();
        assert_eq!(got.size, Some(size), "{name}");
        let range = got.data_range.clone().unwrap();
        assert_eq!(range.end - range.start, size, "{name}");
        match want["location"].as_str().unwrap() {
            "embedded" => assert_eq!(got.location, DataLocation::Embedded, "{name}"),
            location => {
                let at = location.strip_prefix("external@0x").unwrap();
                assert_eq!(range.start, u64::from_str_radix(at, 16).unwrap(), "{name}");
                assert!(
                    matches!(got.location, DataLocation::External { .. }),
                    "{name}"
                );
            }
        }
        assert_eq!(
            hex(&got.sha256.unwrap()),
            want["sha256_actual"].as_str().unwrap(),
            "{name}"
        );
        let hashes = want["hashes"].as_array().unwrap();
        assert_eq!(got.hashes.len(), hashes.len(), "{name}");
        for (h, w) in got.hashes.iter().zip(hashes) {
            assert_eq!(h.algo, w["algo"].as_str().unwrap());
            assert_eq!(hex(&h.expected), w["expected"].as_str().unwrap());
            assert_eq!(
                hex(h.actual.as_ref().unwrap()),
                w["actual"].as_str().unwrap()
            );
            assert_eq!(h.ok, w["match"].as_bool().unwrap());
        }
    }
    assert_eq!(
        fit.all_hashes_ok(),
        expected["all_hashes_match"].as_bool().unwrap()
    );
}

#[test]
fn rockpro64_spi_fit_matches_reference() {
    let Some(dir) = bmc_dir() else { return };
    let image = read(
        &dir,
        "rockchip-rockpro64-uboot-2025.01/u-boot-rockchip-spi.bin",
    );
    check_against_reference(&image, &dir.join("../reference/bmc/rockpro64-spi.fit.json"));
    let fit = fit::parse_at(&image, 0xe0000).unwrap();
    assert_eq!(fit.issues, vec![]);
    assert_eq!(fit.default_config.as_deref(), Some("config-1"));
    let config = fit.default_configuration().unwrap();
    assert_eq!(config.firmware, vec!["atf-1"]);
    assert_eq!(config.fdt, vec!["fdt-1"]);
    assert_eq!(
        config.loadables,
        vec!["u-boot", "atf-2", "atf-3", "atf-4", "atf-5"]
    );
    let uboot = fit.image("u-boot").unwrap();
    assert_eq!(uboot.location, DataLocation::External { data_offset: 0 });
    assert_eq!(
        (uboot.load, uboot.entry),
        (Some(0x20_0000), Some(0x20_0000))
    );
    assert_eq!(uboot.os.as_deref(), Some("U-Boot"));
    assert_eq!(uboot.compression.as_deref(), Some("none"));
}

#[test]
fn rockpro64_flipped_byte_is_a_mismatch_naming_image_and_algo() {
    let Some(dir) = bmc_dir() else { return };
    let mut image = read(
        &dir,
        "rockchip-rockpro64-uboot-2025.01/u-boot-rockchip-spi.bin",
    );
    let atf2 = fit::parse_at(&image, 0xe0000)
        .unwrap()
        .image("atf-2")
        .unwrap()
        .data_range
        .clone()
        .unwrap();
    image[(atf2.start + 100) as usize] ^= 0x40;
    let fit = fit::parse_at(&image, 0xe0000).unwrap();
    assert!(!fit.all_hashes_ok());
    assert_eq!(
        fit.issues,
        vec![FitIssue::HashMismatch {
            image: "atf-2".into(),
            node: "hash".into(),
            algo: "sha256".into()
        }]
    );
    assert!(fit
        .images
        .iter()
        .filter(|i| i.name != "atf-2")
        .all(|i| i.hashes[0].ok));
}

#[test]
fn pine64_fit_matches_reference() {
    let Some(dir) = bmc_dir() else { return };
    let image = read(
        &dir,
        "sunxi-pine64plus-uboot-2025.01/u-boot-sunxi-with-spl.fit.itb",
    );
    check_against_reference(&image, &dir.join("../reference/bmc/pine64plus.fit.json"));
    let fit = fit::parse(&image).unwrap();
    assert_eq!(fit.issues, vec![]);
    assert_eq!(fit.default_config.as_deref(), Some("config-2"));
    assert_eq!(fit.configurations.len(), 2);
    assert_eq!(fit.configurations[0].fdt, vec!["fdt-1"]);
    assert_eq!(fit.configurations[1].loadables, vec!["scp", "uboot"]);
    assert_eq!(fit.image("atf").unwrap().entry, Some(0x44000));
    // The device trees embedded in the FIT parse too (fdtdump: 10 nodes, 46 properties in the
    // FIT itself).
    let tree = fdt::parse(&image).unwrap();
    assert_eq!((tree.node_count(), tree.property_count()), (10, 46));
    let fdt2 = fit.image("fdt-2").unwrap().data_range.clone().unwrap();
    let inner = fdt::parse_at(&image, fdt2.start as usize).unwrap();
    assert_eq!(inner.total_size(), 40448);
}

fn ast2600_partitions() -> Vec<Partition> {
    let base = "/ahb/spi@1e620000/flash@0/partitions/";
    [
        ("u-boot@0", "u-boot", 0, 0xe0000),
        ("u-boot-env@e0000", "u-boot-env", 0xe0000, 0x20000),
        ("kernel@100000", "kernel", 0x100000, 0x900000),
        ("rofs@a00000", "rofs", 0xa00000, 0x2000000),
        ("rwfs@2a00000", "rwfs", 0x2a00000, 0x1600000),
    ]
    .into_iter()
    .map(|(node, label, offset, size)| Partition {
        path: format!("{base}{node}"),
        label: label.into(),
        offset,
        size,
        read_only: false,
    })
    .collect()
}

#[test]
fn ast2600_device_trees_and_their_flash_layout() {
    let Some(dir) = bmc_dir() else { return };
    // Node and property counts from `fdtdump`; partitions from `fdtget`.
    for (rel, nodes, properties) in [
        (
            "aspeed-ast2600-evb-buildroot-2023.11/aspeed-ast2600-evb.dtb",
            370,
            1435,
        ),
        (
            "aspeed-ast2600-evb-buildroot-2024.11/aspeed-ast2600-evb.dtb",
            370,
            1425,
        ),
    ] {
        let bytes = read(&dir, rel);
        let tree = fdt::parse(&bytes).unwrap();
        assert_eq!(tree.total_size(), bytes.len() as u64);
        assert_eq!(
            (tree.node_count(), tree.property_count()),
            (nodes, properties),
            "{rel}"
        );
        assert_eq!(tree.header.version, 17);
        assert_eq!(tree.root.prop_str("model"), Some("AST2600 EVB"));
        assert_eq!(
            tree.root.compatible(),
            vec!["aspeed,ast2600-evb", "aspeed,ast2600"]
        );
        assert_eq!(partitions(&tree), ast2600_partitions(), "{rel}");
        let flash = tree.find("/ahb/spi@1e620000/flash@0").unwrap();
        assert_eq!(flash.prop_str("label"), Some("bmc"));
        assert_eq!(tree.find("/ahb/spi/flash").unwrap().name, "flash@0");
    }
}

#[test]
fn ast2600_uboot_has_one_appended_device_tree() {
    let Some(dir) = bmc_dir() else { return };
    for (rel, offset, len, nodes, properties, model) in [
        (
            "aspeed-ast2600-evb-buildroot-2023.11/u-boot.bin",
            0x7fa34u64,
            35937u64,
            317,
            1286,
            "AST2600A1 EVB",
        ),
        (
            "aspeed-ast2600-evb-buildroot-2024.11/u-boot.bin",
            0x94e10,
            34166,
            315,
            1206,
            "IBM P10 BMC",
        ),
    ] {
        let bytes = read(&dir, rel);
        assert_eq!(
            scan(&bytes),
            vec![Found {
                offset,
                kind: FoundKind::Fdt,
                len,
                within: None
            }],
            "{rel}"
        );
        assert_eq!(offset + len, bytes.len() as u64);
        let tree = fdt::parse_at(&bytes, offset as usize).unwrap();
        assert_eq!(
            (tree.node_count(), tree.property_count()),
            (nodes, properties),
            "{rel}"
        );
        assert_eq!(tree.root.prop_str("model"), Some(model), "{rel}");
    }
}

#[test]
fn rockpro64_scan_finds_the_fit_and_its_device_tree() {
    let Some(dir) = bmc_dir() else { return };
    let image = read(
        &dir,
        "rockchip-rockpro64-uboot-2025.01/u-boot-rockchip-spi.bin",
    );
    let found = scan(&image);
    // The FIT runs to the end of its last external image (fdt-1, 95432 bytes at 0x1ec600).
    assert_eq!(
        found,
        vec![
            Found {
                offset: 0xe0000,
                kind: FoundKind::Fit,
                len: 0x1ec600 + 95432 - 0xe0000,
                within: None
            },
            Found {
                offset: 0x1ec600,
                kind: FoundKind::Fdt,
                len: 95432,
                within: Some(0xe0000)
            },
        ]
    );
    // The SPL/TPL device trees are stored split by the rkspi layout (2 KiB used of every
    // 4 KiB), so in the raw image they are corrupt: `fdtdump` prints garbage names and
    // "Unknown tag" for them, and the parser refuses them with the offset of the damage.
    let err = fdt::parse_at(&image, 0x1d5b8).unwrap_err();
    assert!(err.to_string().contains("property name"), "{err}");
    let err = fdt::parse_at(&image, 0x581b0).unwrap_err();
    assert_eq!(err.offset, 0x59c3c, "{err}");
    assert!(err.to_string().contains("unknown token 0x0"), "{err}");
}

#[test]
fn pine64_scan_finds_the_fit_and_its_embedded_trees() {
    let Some(dir) = bmc_dir() else { return };
    let image = read(
        &dir,
        "sunxi-pine64plus-uboot-2025.01/u-boot-sunxi-with-spl.fit.itb",
    );
    let found = scan(&image);
    let fdt = |offset, len| Found {
        offset,
        kind: FoundKind::Fdt,
        len,
        within: Some(0),
    };
    assert_eq!(
        found,
        vec![
            Found {
                offset: 0,
                kind: FoundKind::Fit,
                len: 826017,
                within: None
            },
            fdt(0xb5cec, 40320),
            fdt(0xbfb04, 40448),
        ]
    );
}

#[test]
fn every_real_bmc_file_goes_through_every_entry_point() {
    let Some(dir) = bmc_dir() else { return };
    for path in tamperscan_testdata::files_under(&dir) {
        let bytes = fs::read(&path).unwrap();
        let _ = fdt::parse(&bytes);
        let _ = fit::parse(&bytes);
        let _ = tamperscan_bmc::uboot::parse(&bytes);
        let _ = tamperscan_bmc::openbmc::parse(&bytes);
        let _ = scan(&bytes);
    }
}
