//! Our own images (tests/data/make_fixtures.sh) against what sha256sum and unsquashfs say.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tamperscan_rootfs::{detect, list, EntryKind, FsKind};

const LIMIT: usize = 64 << 20;

fn tree_sums() -> std::collections::BTreeMap<String, String> {
    sha256sums(&fixture("tree.sha256"))
}

#[test]
fn squashfs4_gzip_xz_lzma_match_unsquashfs_and_sha256sum() {
    for comp in ["gzip", "xz", "lzma"] {
        let img = fixture(&format!("sq4-{comp}.img"));
        assert_eq!(
            detect(&img),
            Some(FsKind::Squashfs {
                major: 4,
                minor: 0,
                big_endian: false
            })
        );
        let listing = list(&img, LIMIT).unwrap();
        assert!(listing.issues.is_empty(), "{comp}: {:?}", listing.issues);
        assert_eq!(listing.entries.len(), 21, "{comp}");
        assert_matches_lln(&listing, &lln(&fixture(&format!("sq4-{comp}.lln"))));
        assert_hashes(&listing, &tree_sums());
        let e = by_path(&listing);
        assert_eq!(e["/fifo"].kind, EntryKind::Fifo);
        assert_eq!(e["/console"].kind, EntryKind::Device);
        assert_eq!(e["/hello.txt"].mode, 0o104755);
        // big.bin: 3 blocks, the middle one sparse; data starts right after the superblock.
        assert_eq!(e["/big.bin"].size, 327_687);
        assert_eq!(e["/big.bin"].offset, Some(96));
        assert!(listing.entries.windows(2).all(|w| w[0].path < w[1].path));
    }
}

#[test]
fn squashfs4_budget_is_respected_and_reported() {
    let img = fixture("sq4-xz.img");
    // Enough for the metadata but not for the 320 KiB file.
    let listing = list(&img, 64 << 10).unwrap();
    let e = by_path(&listing);
    assert_eq!(e["/big.bin"].sha256, None);
    assert!(e["/hello.txt"].sha256.is_some());
    assert!(listing
        .issues
        .iter()
        .any(|i| i.contains("/big.bin") && i.contains("budget")));
    // Too little even for the inode table: an error naming the budget.
    let err = list(&img, 100).unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
}

#[test]
fn cramfs_both_byte_orders_match_sha256sum() {
    let sums = tree_sums();
    for (name, big_endian) in [("cramfs-le.img", false), ("cramfs-be.img", true)] {
        let img = fixture(name);
        assert_eq!(detect(&img), Some(FsKind::Cramfs { big_endian }));
        let listing = list(&img, LIMIT).unwrap();
        assert!(listing.issues.is_empty(), "{name}: {:?}", listing.issues);
        assert_hashes(&listing, &sums);
        // Same tree as the squashfs images: same paths, modes and (cramfs-truncated) owners.
        let want = lln(&fixture("sq4-gzip.lln"));
        let got = by_path(&listing);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (path, w) in &want {
            assert_eq!(got[path].mode, w.mode, "{name} {path}");
            assert_eq!(got[path].uid, w.uid & 0xFFFF, "{name} {path}");
            assert_eq!(got[path].gid, w.gid & 0xFF, "{name} {path}");
            if let Some(t) = &w.target {
                assert_eq!(got[path].kind, EntryKind::Symlink { target: t.clone() });
            }
        }
        assert_eq!(got["/etc/passwd"].uid, 1000);
        assert_eq!(got["/etc/passwd"].gid, 232);
    }
}

#[test]
fn jffs2_images_match_sha256sum() {
    let sums = tree_sums();
    let want = lln(&fixture("sq4-gzip.lln"));
    for (name, big_endian) in [
        ("jffs2-le.img", false),
        ("jffs2-be.img", true),
        ("jffs2-none.img", false),
    ] {
        let img = fixture(name);
        assert_eq!(detect(&img), Some(FsKind::Jffs2 { big_endian }));
        let listing = list(&img, LIMIT).unwrap();
        assert!(listing.issues.is_empty(), "{name}: {:?}", listing.issues);
        let mut sums = sums.clone();
        let mut want = want.clone();
        if name == "jffs2-none.img" {
            sums.remove("/big.bin");
            want.remove("/big.bin");
        }
        assert_hashes(&listing, &sums);
        let got = by_path(&listing);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (path, w) in want.iter().filter(|(p, _)| p.as_str() != "/") {
            assert_eq!(got[path].mode, w.mode, "{name} {path}");
            assert_eq!(
                (got[path].uid, got[path].gid),
                (w.uid, w.gid),
                "{name} {path}"
            );
            if let Some(t) = &w.target {
                assert_eq!(got[path].kind, EntryKind::Symlink { target: t.clone() });
            }
        }
    }
}
