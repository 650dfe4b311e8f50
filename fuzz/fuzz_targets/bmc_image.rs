//! BMC images: device trees, partition maps, FIT images (with hash checks), legacy u-boot
//! images, OpenBMC manifests and the flash scanner never panic, and every range they report
//! lies inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_bmc::{fdt, fit, openbmc, scan, uboot};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    if let Ok(tree) = fdt::parse(data) {
        assert!(tree.total_size() <= len);
        for (_, node) in tree.nodes() {
            for p in &node.properties {
                assert!(p.offset + p.value.len() as u64 <= len);
                let _ = (p.as_str(), p.as_str_list(), p.as_cells(), p.as_reg(2, 1));
            }
        }
        let _ = fdt::partitions(&tree);
        let _ = tree.find("/images/kernel");
    }
    if let Ok(parsed) = fit::parse(data) {
        for image in &parsed.images {
            if let Some(range) = &image.data_range {
                assert!(range.start <= range.end && range.end <= len);
            }
        }
        let _ = parsed.all_hashes_ok();
        let _ = parsed.end();
    }
    if let Ok(image) = uboot::parse(data) {
        for part in &image.parts {
            assert!(part.end <= len);
        }
    }
    if let Ok(manifest) = openbmc::parse(data) {
        let _ = (
            manifest.purpose(),
            manifest.version(),
            manifest.duplicate_keys(),
        );
    }
    let report = scan::scan_report(data);
    for found in &report.found {
        assert!(found.offset < len);
    }
});
