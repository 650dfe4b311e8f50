//! The real filesystem images of the shared data set (rootfs/binwalk-tests, see SOURCES.md),
//! against unsquashfs / fsck.cramfs output.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use tamperscan_rootfs::{detect, list, EntryKind, FsKind};

const LIMIT: usize = 256 << 20;
/// sha256sum of `lsb-release` as `unsquashfs` and `fsck.cramfs --extract` write it from both
/// binwalk test images.
const LSB_RELEASE: &str = "6dc8ba4242e0e699e3360b84e38ccecfc4dcedaa4701c8ebee3836decd815654";

fn read(name: &str) -> Option<Vec<u8>> {
    let dir = tamperscan_testdata::data_dir()?;
    Some(std::fs::read(dir.join("firmware/rootfs/binwalk-tests").join(name)).unwrap())
}

#[test]
fn binwalk_squashfs4_zlib() {
    let Some(img) = read("squashfs.bin") else {
        return;
    };
    assert_eq!(
        detect(&img),
        Some(FsKind::Squashfs {
            major: 4,
            minor: 0,
            big_endian: false
        })
    );
    let listing = list(&img, LIMIT).unwrap();
    assert!(listing.issues.is_empty(), "{:?}", listing.issues);
    // unsquashfs -lln: drwxrwxr-x 1000/1000 34 squashfs-root; -rw-r--r-- 1000/1000 104 lsb-release
    let paths: Vec<&str> = listing.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/", "/lsb-release"]);
    let root = &listing.entries[0];
    assert_eq!(
        (root.mode, root.uid, root.gid, root.size),
        (0o040775, 1000, 1000, 34)
    );
    let f = &listing.entries[1];
    assert_eq!((f.mode, f.uid, f.gid, f.size), (0o100644, 1000, 1000, 104));
    assert_eq!(hex(&f.sha256.unwrap()), LSB_RELEASE);
}

#[test]
fn binwalk_cramfs_little_endian() {
    let Some(img) = read("cramfs.bin") else {
        return;
    };
    assert_eq!(detect(&img), Some(FsKind::Cramfs { big_endian: false }));
    let listing = list(&img, LIMIT).unwrap();
    assert!(listing.issues.is_empty(), "{:?}", listing.issues);
    let paths: Vec<&str> = listing.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/", "/lsb-release"]);
    // fsck.cramfs --extract: -rw-r--r-- 1000:232 104 bytes (cramfs keeps 8 bits of gid).
    let f = &listing.entries[1];
    assert_eq!((f.mode, f.uid, f.gid, f.size), (0o100644, 1000, 232, 104));
    assert_eq!(hex(&f.sha256.unwrap()), LSB_RELEASE);
    assert_eq!(listing.entries[0].kind, EntryKind::Dir);
}

#[test]
fn binwalk_squashfs2_big_endian_vendor_lzma() {
    let Some(img) = read("squashfs_v2.bin") else {
        return;
    };
    assert_eq!(
        detect(&img),
        Some(FsKind::Squashfs {
            major: 2,
            minor: 0,
            big_endian: true
        })
    );
    let listing = list(&img, LIMIT).unwrap();
    assert!(listing.issues.is_empty(), "{:?}", listing.issues);
    // 431 inodes: unsquashfs -lln (it lists the tree but cannot extract the LZMA data).
    assert_eq!(listing.entries.len(), 431);
    assert_matches_lln(&listing, &lln(&fixture("squashfs_v2.lln")));
    let files: Vec<_> = listing
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .collect();
    assert_eq!(files.len(), 263);
    assert!(files.iter().all(|f| f.sha256.is_some()));
    assert_hashes(&listing, &sha256sums(&fixture("squashfs_v2.sha256")));
    // Hashes of blocks decompressed by Python's liblzma (FORMAT_ALONE with the size put back).
    let e = by_path(&listing);
    for (path, hash) in [
        (
            "/bin/busybox",
            "a891b4b65721232d12b384488e695f3f432d7ac24773c15d03bec75656c46b51",
        ),
        (
            "/bin/cfm",
            "74d0d6ab0aeab046e2cdac933b8e5a76141c31f64909b27453c0f96c5cd8bd84",
        ),
        (
            "/lib/libc.so.0",
            "bbecba705c8ca1a33844e2462767fe6d33676064e69669031ff291978a5f0e1b",
        ),
        (
            "/webs/main.html",
            "0ac6f4cc2df85c91832f6981e53bbe0baf97789eab1b25353e54345a5354c7ea",
        ),
        (
            "/bin/UrlFilter",
            "e219819e8080bbd87909f44f8e1182295c50afa1f429ab411b10914bac577920",
        ),
    ] {
        assert_eq!(hex(&e[path].sha256.unwrap()), hash, "{path}");
    }
    assert_eq!(
        e["/bin/adsl"].kind,
        EntryKind::Symlink {
            target: "adslctl".into()
        }
    );
}

#[test]
fn non_filesystems_are_not_detected() {
    let Some(img) = read("yaffs2.bin") else {
        return;
    };
    assert_eq!(detect(&img), None);
    assert!(list(&img, LIMIT).is_err());
    let romfs = read("romfs.bin").unwrap();
    assert_eq!(detect(&romfs), None);
}
