//! Hostile input: truncations, byte flips, garbage, decompression bombs, huge size fields,
//! directory loops, and the entry and depth bounds.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};
use tamperscan_rootfs::{list, list_with, EntryKind, Error, Limits};

const LIMIT: usize = 16 << 20;

/// Lists `img` and checks the result is bounded, whatever it is. The budget is small so that
/// the 320 KiB file of the fixtures is skipped (the damaged-data paths are reached through the
/// small files), which keeps thousands of runs quick.
fn survive(img: &[u8]) {
    if let Ok(listing) = list(img, 128 << 10) {
        assert!(listing.entries.len() <= tamperscan_rootfs::DEFAULT_MAX_ENTRIES);
        assert!(listing.entries.windows(2).all(|w| w[0].path <= w[1].path));
    }
}

fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    [
        "sq4-xz.img",
        "sq4-lzma.img",
        "sq4-gzip.img",
        "sq4-plain.img",
        "cramfs-le.img",
        "cramfs-be.img",
        "jffs2-none.img",
        "jffs2-le.img",
        "jffs2-be.img",
    ]
    .into_iter()
    .map(|n| (n, fixture(n)))
    .collect()
}

#[test]
fn truncation_at_every_offset_never_panics() {
    for (name, img) in fixtures() {
        let step = if img.len() <= 8192 { 1 } else { 31 };
        for len in (0..img.len()).step_by(step) {
            survive(&img[..len]);
        }
        // A cut image still lists what it can, or says where it stopped (the plain squashfs
        // uses only its first 496 bytes; the rest is padding).
        let cut = if name == "sq4-plain.img" {
            400
        } else {
            img.len() / 2
        };
        match list(&img[..cut], LIMIT) {
            Ok(l) => assert!(!l.issues.is_empty() || name.starts_with("jffs2"), "{name}"),
            Err(e) => assert!(e.offset() <= img.len() as u64, "{name}: {e}"),
        }
    }
}

#[test]
fn byte_flips_never_panic() {
    for (_, img) in fixtures() {
        let step = if img.len() <= 8192 { 1 } else { 17 };
        let mut copy = img.clone();
        for i in (0..img.len()).step_by(step) {
            for x in [0xFF, 0x80] {
                copy[i] ^= x;
                survive(&copy);
                copy[i] ^= x;
            }
        }
    }
}

#[test]
fn garbage_behind_every_magic_never_panics() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let jffs2_head = jffs2_node(0xE002, &[]);
    let magics: [&[u8]; 5] = [
        b"hsqs",
        b"sqsh",
        &[0x45, 0x3D, 0xCD, 0x28],
        &[0x28, 0xCD, 0x3D, 0x45],
        &jffs2_head[..12],
    ];
    for round in 0..400 {
        let len = (next() % 16384) as usize + 16;
        let mut img: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let magic = magics[round % magics.len()];
        img[..magic.len()].copy_from_slice(magic);
        if round % 2 == 0 && len > 32 {
            // Plausible versions and block sizes reach deeper code.
            img[28..30].copy_from_slice(&[4, 0]);
            img[12..16].copy_from_slice(&(128u32 << 10).to_le_bytes());
            img[22..24].copy_from_slice(&17u16.to_le_bytes());
            img[20..22].copy_from_slice(&1u16.to_le_bytes());
        }
        survive(&img);
    }
}

/// The uncompressed squashfs fixture: superblock fields and inode positions are plain bytes.
fn plain() -> Vec<u8> {
    fixture("sq4-plain.img")
}

#[test]
fn plain_squashfs_lists_and_hashes() {
    let listing = list(&plain(), LIMIT).unwrap();
    assert!(listing.issues.is_empty(), "{:?}", listing.issues);
    assert_hashes(&listing, &sha256sums(&fixture("plain.sha256")));
    let paths: Vec<&str> = listing.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/dir",
            "/dir/sub",
            "/hard.bin",
            "/hello.txt",
            "/sparse.bin"
        ]
    );
}

#[test]
fn squashfs_file_of_2_pow_40_bytes_stays_within_the_budget() {
    let mut img = plain();
    // sparse.bin (hard-linked as hard.bin) is an extended inode: blocks start 96, then its
    // u64 file size.
    let mut pattern = 96u64.to_le_bytes().to_vec();
    pattern.extend_from_slice(&131_077u64.to_le_bytes());
    let at = img.windows(16).position(|w| w == pattern).unwrap() + 8;
    img[at..at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let started = Instant::now();
    let listing = list(&img, LIMIT).unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let e = by_path(&listing);
    assert_eq!(e["/sparse.bin"].size, 1 << 40);
    assert_eq!(e["/sparse.bin"].sha256, None);
    assert!(e["/hello.txt"].sha256.is_some());
    assert!(
        listing
            .issues
            .iter()
            .any(|i| i.contains("/sparse.bin") && i.contains("budget")),
        "{:?}",
        listing.issues
    );
}

#[test]
fn squashfs_directory_loop_is_detected() {
    let mut img = plain();
    let root_ref = u64::from_le_bytes(img[32..40].try_into().unwrap());
    // Point the entry "sub" in /dir at the root inode (same inode block, offset field).
    let name = img.windows(3).position(|w| w == b"sub").unwrap();
    img[name - 8..name - 6].copy_from_slice(&(root_ref as u16).to_le_bytes());
    let listing = list(&img, LIMIT).unwrap();
    assert!(
        listing
            .issues
            .iter()
            .any(|i| i.contains("directory loop") && i.contains("/dir/sub")),
        "{:?}",
        listing.issues
    );
    let paths: Vec<&str> = listing.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/dir",
            "/dir/sub",
            "/hard.bin",
            "/hello.txt",
            "/sparse.bin"
        ]
    );
}

#[test]
fn entry_and_depth_bounds() {
    let img = fixture("sq4-gzip.img");
    let limits = Limits {
        decompressed: LIMIT,
        entries: 3,
        depth: 64,
    };
    let listing = list_with(&img, &limits).unwrap();
    assert_eq!(listing.entries.len(), 3);
    assert!(listing
        .issues
        .iter()
        .any(|i| i.contains("more than 3 entries")));
    let limits = Limits {
        decompressed: LIMIT,
        entries: 1000,
        depth: 1,
    };
    let listing = list_with(&img, &limits).unwrap();
    let e = by_path(&listing);
    assert!(e.contains_key("/dir") && !e.contains_key("/dir/sub"));
    assert!(listing
        .issues
        .iter()
        .any(|i| i.contains("/dir") && i.contains("deeper")));
}

#[test]
fn unsupported_squashfs_compressor_is_named() {
    let mut img = fixture("sq4-xz.img");
    img[20..22].copy_from_slice(&6u16.to_le_bytes());
    let err = list(&img, LIMIT).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedCompressor { offset: 20, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("zstd"), "{err}");
    img[20..22].copy_from_slice(&3u16.to_le_bytes());
    assert!(list(&img, LIMIT).unwrap_err().to_string().contains("lzo"));
}

/// A little-endian cramfs inode.
fn cramfs_inode(mode: u32, size: u32, name: &[u8], offset: u32) -> Vec<u8> {
    let padded = name.len().div_ceil(4) * 4;
    let mut out = Vec::new();
    out.extend_from_slice(&mode.to_le_bytes()); // uid 0
    out.extend_from_slice(&size.to_le_bytes()); // gid 0
    out.extend_from_slice(&((padded as u32 / 4) | (offset / 4) << 6).to_le_bytes());
    out.extend_from_slice(name);
    out.resize(12 + padded, 0);
    out
}

/// A cramfs with `/bomb` (one 4 KiB block holding `block`) and `/loop`, a directory whose
/// entries are the root's.
fn cramfs_image(block: &[u8]) -> Vec<u8> {
    let entries_at = 76u32;
    let mut entries = cramfs_inode(0o100644, 4096, b"bomb", 0);
    entries.extend(cramfs_inode(0o040755, 32, b"loop", entries_at));
    let table_at = entries_at + entries.len() as u32;
    entries = cramfs_inode(0o100644, 4096, b"bomb", table_at);
    entries.extend(cramfs_inode(0o040755, 32, b"loop", entries_at));
    let mut img = Vec::new();
    img.extend_from_slice(&0x28CD_3D45u32.to_le_bytes());
    img.extend_from_slice(&0u32.to_le_bytes()); // size, patched below
    img.extend_from_slice(&[0; 8]);
    img.extend_from_slice(b"Compressed ROMFS");
    img.extend_from_slice(&[0; 16]);
    img.extend_from_slice(b"hostile\0\0\0\0\0\0\0\0\0");
    img.extend(cramfs_inode(
        0o040755,
        entries.len() as u32,
        b"",
        entries_at,
    ));
    assert_eq!(img.len(), 76);
    img.extend(entries);
    let end = img.len() as u32 + 4 + block.len() as u32;
    img.extend_from_slice(&end.to_le_bytes());
    img.extend_from_slice(block);
    let size = img.len() as u32;
    img[4..8].copy_from_slice(&size.to_le_bytes());
    img
}

#[test]
fn cramfs_bomb_block_and_loop() {
    // 1 MiB of zeros in 1 KiB of zlib, for a block that may hold 4 KiB.
    let bomb = fixture("bomb.zlib");
    let listing = list(&cramfs_image(&bomb), LIMIT).unwrap();
    let e = by_path(&listing);
    assert_eq!(e.keys().collect::<Vec<_>>(), ["/", "/bomb", "/loop"]);
    assert_eq!(e["/bomb"].sha256, None);
    assert!(listing
        .issues
        .iter()
        .any(|i| i.contains("/bomb") && i.contains("decompressing")));
    assert!(listing
        .issues
        .iter()
        .any(|i| i.contains("directory loop") && i.contains("/loop")));
    // The same image with a stored (uncompressed, flag-less) block of the right size: an
    // error too, since plain cramfs blocks are always zlib.
    let mut good = vec![0x78, 0x01];
    good.extend_from_slice(&[0x01, 0x00, 0x10, 0xFF, 0xEF]); // stored deflate block, 4096 bytes
    good.extend_from_slice(&[0x61; 4096]);
    let adler = {
        let (mut a, mut b) = (1u32, 0u32);
        for _ in 0..4096 {
            a = (a + 0x61) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    };
    good.extend_from_slice(&adler.to_be_bytes());
    let listing = list(&cramfs_image(&good), LIMIT).unwrap();
    let e = by_path(&listing);
    let want: [u8; 32] = Sha256::digest([0x61u8; 4096]).into();
    assert_eq!(e["/bomb"].sha256, Some(want), "{:?}", listing.issues);
}

fn jffs2_crc(bytes: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A JFFS2 node: header (magic, type, total length, header CRC) then `body`, padded to 4.
fn jffs2_node(nodetype: u16, body: &[u8]) -> Vec<u8> {
    let mut n = Vec::new();
    n.extend_from_slice(&0x1985u16.to_le_bytes());
    n.extend_from_slice(&nodetype.to_le_bytes());
    n.extend_from_slice(&(12 + body.len() as u32).to_le_bytes());
    let crc = jffs2_crc(&n);
    n.extend_from_slice(&crc.to_le_bytes());
    n.extend_from_slice(body);
    while !n.len().is_multiple_of(4) {
        n.push(0xFF);
    }
    n
}

fn dirent(pino: u32, version: u32, ino: u32, name: &[u8]) -> Vec<u8> {
    let mut node = vec![0u8; 12];
    for v in [pino, version, ino, 0] {
        node.extend_from_slice(&v.to_le_bytes());
    }
    node.extend_from_slice(&[name.len() as u8, 0, 0, 0]);
    let head = jffs2_node(0xE001, &[0; 28]);
    node[..12].copy_from_slice(&head[..12]);
    // The header's length must count the name too: rebuild it.
    let total = 40 + name.len() as u32;
    node[4..8].copy_from_slice(&total.to_le_bytes());
    let hcrc = jffs2_crc(&node[..8]);
    node[8..12].copy_from_slice(&hcrc.to_le_bytes());
    let ncrc = jffs2_crc(&node[..32]);
    node.extend_from_slice(&ncrc.to_le_bytes());
    node.extend_from_slice(&jffs2_crc(name).to_le_bytes());
    node.extend_from_slice(name);
    while !node.len().is_multiple_of(4) {
        node.push(0xFF);
    }
    node
}

#[allow(clippy::too_many_arguments)]
fn inode(
    ino: u32,
    version: u32,
    mode: u32,
    isize: u32,
    offset: u32,
    data: &[u8],
    compr: u8,
    dsize: u32,
) -> Vec<u8> {
    let mut node = vec![0u8; 12];
    for v in [ino, version, mode] {
        node.extend_from_slice(&v.to_le_bytes());
    }
    node.extend_from_slice(&[0; 4]); // uid, gid
    for v in [isize, 0, 0, 0, offset, data.len() as u32, dsize] {
        node.extend_from_slice(&v.to_le_bytes());
    }
    node.extend_from_slice(&[compr, 0, 0, 0]);
    node.extend_from_slice(&jffs2_crc(data).to_le_bytes());
    let total = 68 + data.len() as u32;
    node[..2].copy_from_slice(&0x1985u16.to_le_bytes());
    node[2..4].copy_from_slice(&0xE002u16.to_le_bytes());
    node[4..8].copy_from_slice(&total.to_le_bytes());
    let hcrc = jffs2_crc(&node[..8]);
    node[8..12].copy_from_slice(&hcrc.to_le_bytes());
    let ncrc = jffs2_crc(&node[..60]);
    node.extend_from_slice(&ncrc.to_le_bytes());
    node.extend_from_slice(data);
    while !node.len().is_multiple_of(4) {
        node.push(0xFF);
    }
    node
}

#[test]
fn jffs2_versions_deletions_loops_and_damage() {
    let mut img = jffs2_node(0x2003, &[]); // cleanmarker
    img.extend(dirent(1, 1, 2, b"a"));
    img.extend(inode(2, 1, 0o040755, 0, 0, b"", 0, 0));
    img.extend(dirent(2, 2, 3, b"f"));
    img.extend(inode(3, 1, 0o100644, 5, 0, b"hello", 0, 5));
    img.extend(inode(3, 2, 0o100600, 5, 0, b"HE", 0, 2));
    img.extend(dirent(1, 3, 4, b"gone"));
    img.extend(inode(4, 1, 0o100644, 1, 0, b"x", 0, 1));
    img.extend(dirent(1, 4, 0, b"gone"));
    img.extend(dirent(2, 5, 2, b"loop"));
    img.extend(dirent(1, 6, 5, b"huge"));
    img.extend(inode(5, 1, 0o100644, u32::MAX, 0, b"x", 0, 1));
    img.extend(dirent(1, 7, 6, b"zeros"));
    img.extend(inode(6, 1, 0o100644, 10, 0, b"", 1, 10));
    // An obsolete dirent (accurate bit cleared) and a node with a broken header CRC.
    let mut obsolete = dirent(1, 8, 6, b"old");
    obsolete[2..4].copy_from_slice(&0xC001u16.to_le_bytes());
    let hcrc = jffs2_crc(&obsolete[..8]);
    obsolete[8..12].copy_from_slice(&hcrc.to_le_bytes());
    img.extend(obsolete);
    let mut broken = dirent(1, 9, 6, b"broken");
    broken[8] ^= 1;
    img.extend(broken);
    img.extend([0xFF; 64]);

    let listing = list(&img, 1 << 20).unwrap();
    let e = by_path(&listing);
    assert_eq!(
        e.keys().collect::<Vec<_>>(),
        ["/", "/a", "/a/f", "/a/loop", "/huge", "/zeros"]
    );
    let want: [u8; 32] = Sha256::digest(b"HEllo").into();
    assert_eq!(e["/a/f"].sha256, Some(want));
    assert_eq!(e["/a/f"].mode, 0o100600);
    let zeros: [u8; 32] = Sha256::digest([0u8; 10]).into();
    assert_eq!(e["/zeros"].sha256, Some(zeros));
    assert_eq!(e["/huge"].size, u64::from(u32::MAX));
    assert_eq!(e["/huge"].sha256, None);
    assert_eq!(e["/a/loop"].kind, EntryKind::Dir);
    let issues = listing.issues.join("\n");
    assert!(
        issues.contains("/huge") && issues.contains("budget"),
        "{issues}"
    );
    assert!(issues.contains("directory loop"), "{issues}");
    assert!(issues.contains("1 obsolete nodes"), "{issues}");
    assert!(issues.contains("header CRC"), "{issues}");
}

#[test]
fn nothing_recognised() {
    assert!(matches!(list(b"", LIMIT), Err(Error::Unrecognised)));
    assert!(matches!(
        list(&[0u8; 4096], LIMIT),
        Err(Error::Unrecognised)
    ));
    assert_eq!(tamperscan_rootfs::detect(b"hsq"), None);
}
