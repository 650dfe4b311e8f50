//! cramfs (magic 0x28CD3D45) in either byte order, as the kernel's `cramfs_fs.h` lays it out:
//! a 76-byte superblock ending with the root inode, 12-byte inodes with bit fields, and files
//! stored as a table of block end pointers followed by zlib blocks of 4 KiB each.

use std::collections::HashSet;

use sha2::{Digest, Sha256};
use tamperscan_bytes::Reader;

use crate::budget::Budget;
use crate::codec::{decompress, Codec};
use crate::names;
use crate::squashfs::at;
use crate::tree::{self, Collector};
use crate::{Entry, EntryKind, Error, FsKind, Limits, Listing};

/// Uncompressed bytes per block (the page size cramfs was made for).
const BLOCK: u64 = 4096;
/// The root inode's position in the superblock.
const ROOT_INODE_AT: usize = 64;
/// Flag: block pointers carry the "uncompressed" and "direct" bits.
const FLAG_EXT_BLOCK_POINTERS: u32 = 0x800;
const BLK_FLAG_UNCOMPRESSED: u32 = 1 << 31;
const BLK_FLAG_DIRECT: u32 = 1 << 30;
/// Longest symbolic link target read.
const MAX_TARGET: u64 = 4096;

/// One decoded 12-byte inode and its name.
#[derive(Debug, Clone)]
struct Inode {
    mode: u32,
    uid: u32,
    gid: u32,
    size: u32,
    /// Byte offset of the data (directory entries or block pointer table).
    offset: u64,
    name: Vec<u8>,
    /// Where the inode itself sits.
    at: u64,
}

fn read_u32(r: &mut Reader<'_>, big_endian: bool, what: &'static str) -> Result<u32, Error> {
    Ok(if big_endian {
        r.u32_be(what)?
    } else {
        r.u32_le(what)?
    })
}

/// Reads an inode at the reader's position: `mode:16 uid:16 / size:24 gid:8 / namelen:6
/// offset:26`, the fields filled from the low bits on little-endian images and from the high
/// bits on big-endian ones.
fn read_inode(r: &mut Reader<'_>, big_endian: bool) -> Result<Inode, Error> {
    let at = r.offset();
    let w0 = read_u32(r, big_endian, "inode mode and uid")?;
    let w1 = read_u32(r, big_endian, "inode size and gid")?;
    let w2 = read_u32(r, big_endian, "inode name length and offset")?;
    let (mode, uid, size, gid, namelen, offset) = if big_endian {
        (
            w0 >> 16,
            w0 & 0xFFFF,
            w1 >> 8,
            w1 & 0xFF,
            w2 >> 26,
            w2 & 0x03FF_FFFF,
        )
    } else {
        (
            w0 & 0xFFFF,
            w0 >> 16,
            w1 & 0x00FF_FFFF,
            w1 >> 24,
            w2 & 0x3F,
            w2 >> 6,
        )
    };
    let name = r.take(namelen as usize * 4, "inode name")?;
    let name = match name.iter().position(|&b| b == 0) {
        Some(end) => name.get(..end).unwrap_or(name),
        None => name,
    };
    Ok(Inode {
        mode,
        uid,
        gid,
        size,
        offset: u64::from(offset) * 4,
        name: name.to_vec(),
        at,
    })
}

/// Lists a cramfs image.
pub(crate) fn list(bytes: &[u8], limits: &Limits, big_endian: bool) -> Result<Listing, Error> {
    let mut r = Reader::new(bytes);
    r.skip(4, "cramfs magic")?;
    let size = read_u32(&mut r, big_endian, "cramfs size")?;
    let flags = read_u32(&mut r, big_endian, "cramfs flags")?;
    let _future = read_u32(&mut r, big_endian, "cramfs future")?;
    r.expect(b"Compressed ROMFS", "cramfs signature")?;
    r.skip(ROOT_INODE_AT - r.offset() as usize, "cramfs fsid and name")?;
    let root = read_inode(&mut r, big_endian)?;
    let mut col = Collector::new(limits);
    let img = match usize::try_from(size) {
        Ok(n) if n <= bytes.len() && n >= 76 => bytes.get(..n).unwrap_or(bytes),
        _ => {
            col.issue(format!(
                "{}: the superblock says the image has {size} bytes but {} are present",
                at(4),
                bytes.len()
            ));
            bytes
        }
    };
    if root.mode & tree::S_IFMT != tree::S_IFDIR {
        return Err(tamperscan_bytes::Error::invalid(
            ROOT_INODE_AT as u64,
            "root inode",
            format!("mode 0o{:o} is not a directory", root.mode),
        )
        .into());
    }
    let mut lister = Lister {
        img,
        big_endian,
        flags,
        budget: Budget::new(limits.decompressed),
        col,
    };
    lister.walk(root);
    Ok(lister.col.finish(FsKind::Cramfs { big_endian }))
}

struct Lister<'a> {
    img: &'a [u8],
    big_endian: bool,
    flags: u32,
    budget: Budget,
    col: Collector,
}

impl Lister<'_> {
    fn walk(&mut self, root: Inode) {
        let mut seen = HashSet::new();
        seen.insert(root.offset);
        let entry = self.entry("/".to_string(), &root);
        self.col.add(entry);
        let mut stack = vec![(root, "/".to_string(), 0usize)];
        while let Some((dir, path, depth)) = stack.pop() {
            if self.col.is_full() {
                break;
            }
            if !self.col.may_descend(depth, &path) {
                continue;
            }
            let children = match self.read_dir(&dir) {
                Ok(c) => c,
                Err(e) => {
                    self.col
                        .issue(format!("directory {path} could not be read: {e}"));
                    continue;
                }
            };
            for child in children {
                if let Some(why) = names::refuse(&child.name) {
                    self.col.issue(format!(
                        "{}: directory {path} holds {why}: left out",
                        at(child.at)
                    ));
                    continue;
                }
                let child_path = names::join(&path, &names::escape(&child.name, true));
                let entry = self.entry(child_path.clone(), &child);
                if !self.col.add(entry) {
                    break;
                }
                if child.mode & tree::S_IFMT == tree::S_IFDIR && child.size > 0 {
                    if seen.insert(child.offset) {
                        stack.push((child, child_path, depth + 1));
                    } else {
                        self.col.issue(format!(
                            "{}: directory loop: {child_path} lists entries at {} already \
                             reached; not walked again",
                            at(child.at),
                            child.offset
                        ));
                    }
                }
            }
        }
    }

    /// The inodes a directory's entry area holds.
    fn read_dir(&mut self, dir: &Inode) -> Result<Vec<Inode>, Error> {
        // Charged like decompressed data: many directory inodes may share an entry area.
        self.budget
            .take(dir.size as usize, dir.offset, "directory entries")?;
        let start = usize::try_from(dir.offset).unwrap_or(usize::MAX);
        let mut outer = Reader::with_base(self.img.get(start..).unwrap_or_default(), dir.offset);
        let mut r = outer.sub(dir.size as usize, "directory entries")?;
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(read_inode(&mut r, self.big_endian)?);
        }
        Ok(out)
    }

    fn entry(&mut self, path: String, inode: &Inode) -> Entry {
        let (kind, size, sha256, offset) = match inode.mode & tree::S_IFMT {
            tree::S_IFDIR => (
                EntryKind::Dir,
                u64::from(inode.size),
                None,
                Some(inode.offset),
            ),
            tree::S_IFREG => {
                let sha = match self.content(inode, u64::from(inode.size)) {
                    Ok(data) => Some(data),
                    Err(e) => {
                        self.col.issue(format!("{path}: content not hashed: {e}"));
                        None
                    }
                };
                (
                    EntryKind::File,
                    u64::from(inode.size),
                    sha.map(|h| h.0),
                    Some(inode.offset),
                )
            }
            tree::S_IFLNK => {
                let target = match self.content(inode, MAX_TARGET) {
                    Ok((_, data)) => data,
                    Err(e) => {
                        self.col
                            .issue(format!("{path}: link target unreadable: {e}"));
                        Vec::new()
                    }
                };
                let kind = EntryKind::Symlink {
                    target: names::escape(&target, false),
                };
                (kind, u64::from(inode.size), None, Some(inode.offset))
            }
            tree::S_IFBLK | tree::S_IFCHR => (EntryKind::Device, 0, None, Some(inode.at)),
            tree::S_IFIFO => (EntryKind::Fifo, 0, None, Some(inode.at)),
            tree::S_IFSOCK => (EntryKind::Socket, 0, None, Some(inode.at)),
            other => {
                self.col.issue(format!(
                    "{}: {path} has unknown file type 0o{other:o}; listed as a file",
                    at(inode.at)
                ));
                (EntryKind::File, u64::from(inode.size), None, Some(inode.at))
            }
        };
        Entry {
            path,
            kind,
            mode: inode.mode,
            uid: inode.uid,
            gid: inode.gid,
            size,
            sha256,
            offset,
        }
    }

    /// Reads a file's blocks: returns the SHA-256 of the content, and the content itself when
    /// it is at most `keep` bytes (for link targets).
    fn content(&mut self, inode: &Inode, keep: u64) -> Result<([u8; 32], Vec<u8>), Error> {
        let size = u64::from(inode.size);
        self.budget.check(size, inode.offset, "file content")?;
        let blocks = size.div_ceil(BLOCK);
        let table_at = inode.offset;
        let start = usize::try_from(table_at).unwrap_or(usize::MAX);
        let mut r = Reader::with_base(self.img.get(start..).unwrap_or_default(), table_at);
        let mut table = r.sub(blocks as usize * 4, "block pointer table")?;
        let mut block_start = r.offset();
        let ext = self.flags & FLAG_EXT_BLOCK_POINTERS != 0;
        let mut hasher = Sha256::new();
        let mut kept = Vec::new();
        let mut left = size;
        while left > 0 {
            let ptr_at = table.offset();
            let mut ptr = read_u32(&mut table, self.big_endian, "block pointer")?;
            let mut uncompressed = false;
            if ext {
                if ptr & BLK_FLAG_DIRECT != 0 {
                    return Err(Error::Unsupported {
                        offset: ptr_at,
                        what: "cramfs direct block pointer".into(),
                    });
                }
                uncompressed = ptr & BLK_FLAG_UNCOMPRESSED != 0;
                ptr &= !(BLK_FLAG_UNCOMPRESSED | BLK_FLAG_DIRECT);
            }
            let end = u64::from(ptr);
            let want = left.min(BLOCK) as usize;
            if end < block_start {
                return Err(tamperscan_bytes::Error::invalid(
                    ptr_at,
                    "block pointer",
                    format!("block end {end} is before its start {block_start}"),
                )
                .into());
            }
            let data = if end == block_start {
                // A hole: no stored bytes, the block reads as zeros.
                self.budget.take(want, block_start, "hole")?;
                vec![0; want]
            } else {
                let from = usize::try_from(block_start).unwrap_or(usize::MAX);
                let raw = Reader::with_base(self.img.get(from..).unwrap_or_default(), block_start)
                    .take((end - block_start) as usize, "data block")?;
                let data = if uncompressed {
                    self.budget.take(raw.len(), block_start, "data block")?;
                    raw.to_vec()
                } else {
                    decompress(
                        Codec::Zlib,
                        raw,
                        want,
                        &mut self.budget,
                        block_start,
                        "data block",
                    )?
                };
                if data.len() != want {
                    return Err(tamperscan_bytes::Error::invalid(
                        block_start,
                        "data block",
                        format!("holds {} bytes, the file needs {want} here", data.len()),
                    )
                    .into());
                }
                data
            };
            hasher.update(&data);
            if size <= keep {
                kept.extend_from_slice(&data);
            }
            left -= want as u64;
            block_start = end;
        }
        Ok((hasher.finalize().into(), kept))
    }
}
