//! Filesystem listing (squashfs, cramfs, JFFS2) of arbitrary bytes: never panics, stays within
//! its bounds, and a listing is sorted with absolute paths.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tamperscan_rootfs::{detect, list_with, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        decompressed: 1 << 20,
        entries: 4096,
        depth: 16,
    };
    let kind = detect(data);
    match list_with(data, &limits) {
        Ok(listing) => {
            assert_eq!(Some(listing.fs), kind);
            assert!(listing.entries.len() <= limits.entries);
            assert!(listing.entries.windows(2).all(|w| w[0].path <= w[1].path));
            assert!(listing.entries.iter().all(|e| e.path.starts_with('/')));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
