//! squashfs 2.x and 3.x (magic `sqsh` big-endian, `hsqs` little-endian), as squashfs-tools'
//! `squashfs_compat.h` lays them out. Their structures are C bit fields, filled from the most
//! significant bit on big-endian images and from the least significant bit on little-endian
//! ones, so they are read with [`Bits`]. Data and metadata blocks are zlib, or LZMA with a
//! 5-byte header in vendor builds (told apart per block).

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use tamperscan_bytes::Reader;

use crate::budget::Budget;
use crate::codec::Codec;
use crate::names;
use crate::squashfs::{at, hash_block, read_block, Meta, MetaPos, MAX_TARGET, NO_FRAGMENT};
use crate::tree::{self, Collector};
use crate::{Entry, EntryKind, Error, FsKind, Limits, Listing};

/// Superblock flags.
const FLAG_CHECK: u32 = 0x04;
const FLAG_NO_FRAGMENTS: u32 = 0x10;
/// A guid index meaning "the same as the uid".
const GUID_SAME_AS_UID: u32 = 255;

/// Reads bit fields in the image's order: most significant bit first for big-endian images,
/// least significant bit first for little-endian ones.
struct Bits<'a> {
    bytes: &'a [u8],
    bit: usize,
    big_endian: bool,
    base: u64,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8], big_endian: bool, base: u64) -> Self {
        Bits {
            bytes,
            bit: 0,
            big_endian,
            base,
        }
    }

    /// The next `n` (at most 64) bits as a number.
    fn take(&mut self, n: usize, what: &'static str) -> Result<u64, Error> {
        let end = self.bit + n;
        if n > 64 || end > self.bytes.len() * 8 {
            return Err(tamperscan_bytes::Error::new(
                self.base + (self.bit / 8) as u64,
                tamperscan_bytes::ErrorKind::Truncated {
                    what,
                    needed: n.div_ceil(8) as u64,
                    available: (self.bytes.len() * 8).saturating_sub(self.bit) as u64 / 8,
                },
            )
            .into());
        }
        let mut value = 0u64;
        for i in 0..n {
            let b = self.bit + i;
            let byte = self.bytes.get(b / 8).copied().unwrap_or(0);
            let bit = if self.big_endian {
                (byte >> (7 - b % 8)) & 1
            } else {
                (byte >> (b % 8)) & 1
            };
            if self.big_endian {
                value = (value << 1) | u64::from(bit);
            } else {
                value |= u64::from(bit) << i;
            }
        }
        self.bit = end;
        Ok(value)
    }

    fn u32(&mut self, n: usize, what: &'static str) -> Result<u32, Error> {
        Ok(self.take(n, what)? as u32)
    }
}

/// The fields of a 2.x/3.x superblock this lister needs.
#[derive(Debug, Clone)]
struct Superblock {
    major: u16,
    flags: u32,
    no_uids: u32,
    no_guids: u32,
    root_inode: u64,
    block_size: u32,
    fragments: u32,
    bytes_used: u64,
    uid_start: u64,
    guid_start: u64,
    inode_table: u64,
    directory_table: u64,
    fragment_table: u64,
}

impl Superblock {
    fn parse(img: &[u8], big_endian: bool) -> Result<Self, Error> {
        let mut b = Bits::new(img, big_endian, 0);
        let _magic = b.take(32, "squashfs magic")?;
        let _inodes = b.take(32, "inode count")?;
        let bytes_used_2 = b.take(32, "bytes used")?;
        let uid_start_2 = b.take(32, "uid table start")?;
        let guid_start_2 = b.take(32, "guid table start")?;
        let inode_table_2 = b.take(32, "inode table start")?;
        let directory_table_2 = b.take(32, "directory table start")?;
        let major = b.take(16, "major version")? as u16;
        let _minor = b.take(16, "minor version")?;
        let _block_size_1 = b.take(16, "block size (1.x)")?;
        let block_log = b.take(16, "block log")?;
        let flags = b.u32(8, "flags")?;
        let no_uids = b.u32(8, "uid count")?;
        let no_guids = b.u32(8, "guid count")?;
        let _mkfs_time = b.take(32, "creation time")?;
        let root_inode = b.take(64, "root inode")?;
        let block_size = b.u32(32, "block size")?;
        let fragments = b.u32(32, "fragment count")?;
        let fragment_table_2 = b.take(32, "fragment table start")?;
        if !(4096..=1 << 20).contains(&block_size)
            || 1u64.checked_shl(block_log as u32) != Some(u64::from(block_size))
        {
            return Err(tamperscan_bytes::Error::invalid(
                0x33,
                "block size",
                format!("{block_size} with block log {block_log} (a power of two 4 KiB..1 MiB)"),
            )
            .into());
        }
        let mut sb = Superblock {
            major,
            flags,
            no_uids,
            no_guids,
            root_inode,
            block_size,
            fragments,
            bytes_used: bytes_used_2,
            uid_start: uid_start_2,
            guid_start: guid_start_2,
            inode_table: inode_table_2,
            directory_table: directory_table_2,
            fragment_table: fragment_table_2,
        };
        if major == 3 {
            sb.bytes_used = b.take(64, "bytes used")?;
            sb.uid_start = b.take(64, "uid table start")?;
            sb.guid_start = b.take(64, "guid table start")?;
            sb.inode_table = b.take(64, "inode table start")?;
            sb.directory_table = b.take(64, "directory table start")?;
            sb.fragment_table = b.take(64, "fragment table start")?;
        }
        Ok(sb)
    }
}

#[derive(Debug, Clone)]
enum InodeKind {
    Dir {
        start_block: u32,
        offset: u32,
        size: u32,
    },
    File(FileData),
    Symlink(Vec<u8>),
    BlockDev,
    CharDev,
    Fifo,
    Socket,
}

#[derive(Debug, Clone)]
struct FileData {
    blocks_start: u64,
    size: u64,
    fragment: u32,
    fragment_offset: u32,
    list: MetaPos,
}

#[derive(Debug, Clone)]
struct Inode {
    kind: InodeKind,
    mode: u32,
    uid_index: u32,
    guid_index: u32,
}

/// Lists a squashfs 2.x or 3.x image.
pub(crate) fn list(
    bytes: &[u8],
    limits: &Limits,
    major: u16,
    minor: u16,
    big_endian: bool,
) -> Result<Listing, Error> {
    let sb = Superblock::parse(bytes, big_endian)?;
    let mut col = Collector::new(limits);
    let img = match usize::try_from(sb.bytes_used) {
        Ok(used) if used <= bytes.len() => bytes.get(..used).unwrap_or(bytes),
        _ => {
            col.issue(format!(
                "{}: the superblock says the image has {} bytes but only {} are present",
                at(8),
                sb.bytes_used,
                bytes.len()
            ));
            bytes
        }
    };
    let check_byte = sb.flags & FLAG_CHECK != 0;
    let mut lister = Lister {
        img,
        big_endian,
        meta: Meta::new(img, Codec::Auto, big_endian, check_byte),
        sb,
        budget: Budget::new(limits.decompressed),
        col,
        fragments: HashMap::new(),
    };
    lister.walk()?;
    Ok(lister.col.finish(FsKind::Squashfs {
        major,
        minor,
        big_endian,
    }))
}

struct Lister<'a> {
    img: &'a [u8],
    big_endian: bool,
    sb: Superblock,
    meta: Meta<'a>,
    budget: Budget,
    col: Collector,
    fragments: HashMap<u32, (u64, Vec<u8>)>,
}

impl Lister<'_> {
    fn inode_pos(&self, inode_ref: u64) -> MetaPos {
        MetaPos {
            block: self.sb.inode_table.saturating_add(inode_ref >> 16),
            off: usize::from(inode_ref as u16),
        }
    }

    fn walk(&mut self) -> Result<(), Error> {
        let root_ref = self.sb.root_inode;
        let root = self.inode(root_ref)?;
        if !matches!(root.kind, InodeKind::Dir { .. }) {
            return Err(tamperscan_bytes::Error::invalid(
                self.inode_pos(root_ref).block,
                "root inode",
                "is not a directory",
            )
            .into());
        }
        let mut seen = HashSet::new();
        seen.insert(root_ref);
        let entry = self.entry("/".to_string(), root_ref, &root);
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
            for (raw, child_ref) in children {
                if let Some(why) = names::refuse(&raw) {
                    self.col.issue(format!(
                        "directory {path} holds {why} (inode reference 0x{child_ref:x}): left out"
                    ));
                    continue;
                }
                let child_path = names::join(&path, &names::escape(&raw, true));
                let inode = match self.inode(child_ref) {
                    Ok(i) => i,
                    Err(e) => {
                        self.col
                            .issue(format!("{child_path}: inode unreadable: {e}"));
                        continue;
                    }
                };
                let entry = self.entry(child_path.clone(), child_ref, &inode);
                if !self.col.add(entry) {
                    break;
                }
                if matches!(inode.kind, InodeKind::Dir { .. }) {
                    if seen.insert(child_ref) {
                        stack.push((inode, child_path, depth + 1));
                    } else {
                        let o = self.inode_pos(child_ref).block;
                        self.col.issue(format!(
                            "{}: directory loop: {child_path} is a directory already reached \
                             (inode reference 0x{child_ref:x}); not walked again",
                            at(o)
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads `n` bytes of the inode table and returns a bit reader over them.
    fn piece(&mut self, pos: &mut MetaPos, n: usize, what: &'static str) -> Result<Vec<u8>, Error> {
        self.meta.read(pos, n, &mut self.budget, what)
    }

    fn inode(&mut self, inode_ref: u64) -> Result<Inode, Error> {
        let mut pos = self.inode_pos(inode_ref);
        let base = pos.block;
        let v3 = self.sb.major == 3;
        let be = self.big_endian;
        let head_len = if v3 { 12 } else { 4 };
        let head = self.piece(&mut pos, head_len, "inode header")?;
        let mut b = Bits::new(&head, be, base);
        let inode_type = b.u32(4, "inode type")?;
        let mode = b.u32(12, "inode mode")?;
        let uid_index = b.u32(8, "uid index")?;
        let guid_index = b.u32(8, "guid index")?;
        // Bytes after the common header, per type.
        let rest_len = match (v3, inode_type) {
            (false, 1) => 11,
            (false, 2) => 20,
            (false, 3) | (false, 4) | (false, 5) => 2,
            (false, 6) | (false, 7) => 0,
            (false, 8) => 14,
            (true, 1) => 16,
            (true, 2) => 20,
            (true, 3) | (true, 4) | (true, 5) => 6,
            (true, 6) | (true, 7) => 4,
            (true, 8) => 19,
            (true, 9) => 28,
            (_, other) => {
                return Err(tamperscan_bytes::Error::invalid(
                    base,
                    "inode type",
                    format!("{other} is not a squashfs {}.x inode type", self.sb.major),
                )
                .into())
            }
        };
        let body = self.piece(&mut pos, rest_len, "inode")?;
        let mut b = Bits::new(&body, be, base);
        if v3 && inode_type != 2 {
            let _nlink = b.take(32, "link count")?;
        }
        let kind = match inode_type {
            1 | 8 => {
                let long = inode_type == 8;
                let size = b.u32(if long { 27 } else { 19 }, "directory size")?;
                let offset = b.u32(13, "directory offset")?;
                let start_block = if v3 {
                    b.u32(32, "directory block")?
                } else {
                    let _mtime = b.take(32, "modification time")?;
                    b.u32(24, "directory block")?
                };
                InodeKind::Dir {
                    start_block,
                    offset,
                    size,
                }
            }
            2 | 9 => {
                if !v3 {
                    let _mtime = b.take(32, "modification time")?;
                }
                let blocks_start = b.take(if v3 { 64 } else { 32 }, "blocks start")?;
                let fragment = b.u32(32, "fragment index")?;
                let fragment_offset = b.u32(32, "fragment offset")?;
                let size = b.take(if inode_type == 9 { 64 } else { 32 }, "file size")?;
                InodeKind::File(FileData {
                    blocks_start,
                    size,
                    fragment,
                    fragment_offset,
                    list: pos,
                })
            }
            3 => {
                let len = b.take(16, "target size")? as usize;
                InodeKind::Symlink(self.piece(&mut pos, len.min(MAX_TARGET), "symlink target")?)
            }
            4 => InodeKind::BlockDev,
            5 => InodeKind::CharDev,
            6 => InodeKind::Fifo,
            _ => InodeKind::Socket,
        };
        Ok(Inode {
            kind,
            mode,
            uid_index,
            guid_index,
        })
    }

    fn read_dir(&mut self, dir: &Inode) -> Result<Vec<(Vec<u8>, u64)>, Error> {
        let InodeKind::Dir {
            start_block,
            offset,
            size,
        } = dir.kind
        else {
            return Ok(Vec::new());
        };
        let mut pos = MetaPos {
            block: self
                .sb
                .directory_table
                .saturating_add(u64::from(start_block)),
            off: offset as usize,
        };
        let base = pos.block;
        let v3 = self.sb.major == 3;
        // 3.x counts 3 bytes for "." and ".."; 2.x stores the exact length.
        let len = if v3 {
            (size as usize).saturating_sub(3)
        } else {
            size as usize
        };
        // Charged even when its blocks are cached: many directory inodes may share a listing.
        self.budget.take(len, base, "directory listing")?;
        let bytes = self
            .meta
            .read(&mut pos, len, &mut self.budget, "directory")?;
        let mut b = Bits::new(&bytes, self.big_endian, base);
        let header_bits = if v3 { 64 } else { 32 };
        let mut out = Vec::new();
        while b.bit + header_bits <= bytes.len() * 8 {
            let count = b.u32(8, "directory header count")? + 1;
            let start = b.take(24, "directory header inode block")?;
            if v3 {
                let _inode_number = b.take(32, "directory header inode number")?;
            }
            for _ in 0..count {
                let offset = b.take(13, "directory entry offset")?;
                let _kind = b.take(3, "directory entry type")?;
                let name_len = b.take(8, "directory entry name size")? as usize + 1;
                if v3 {
                    let _delta = b.take(16, "directory entry inode delta")?;
                }
                let from = b.bit / 8;
                let name = bytes.get(from..from + name_len).ok_or_else(|| {
                    tamperscan_bytes::Error::invalid(base, "directory entry name", "truncated")
                })?;
                b.bit += name_len * 8;
                out.push((name.to_vec(), (start << 16) | offset));
            }
        }
        Ok(out)
    }

    /// A uid or gid from the plain (uncompressed) 32-bit id tables.
    fn id(&self, table: u64, count: u32, index: u32) -> Result<u32, Error> {
        if index >= count {
            return Err(tamperscan_bytes::Error::invalid(
                table,
                "id index",
                format!("{index} is not below the id count {count}"),
            )
            .into());
        }
        let at = table.saturating_add(u64::from(index) * 4);
        let from = usize::try_from(at).unwrap_or(usize::MAX);
        let bytes =
            Reader::with_base(self.img.get(from..).unwrap_or_default(), at).take(4, "id")?;
        Bits::new(bytes, self.big_endian, at).u32(32, "id")
    }

    fn fragment(&mut self, index: u32) -> Result<(u64, &[u8]), Error> {
        if !self.fragments.contains_key(&index) {
            if index >= self.sb.fragments || self.sb.flags & FLAG_NO_FRAGMENTS != 0 {
                return Err(tamperscan_bytes::Error::invalid(
                    self.sb.fragment_table,
                    "fragment index",
                    format!(
                        "{index} is not below the fragment count {}",
                        self.sb.fragments
                    ),
                )
                .into());
            }
            let v3 = self.sb.major == 3;
            let (entry_len, ptr_len) = if v3 { (16u32, 8u64) } else { (8, 4) };
            let per_block = 8192 / entry_len;
            let ptr_at = self
                .sb
                .fragment_table
                .saturating_add(u64::from(index / per_block) * ptr_len);
            let from = usize::try_from(ptr_at).unwrap_or(usize::MAX);
            let ptr = Reader::with_base(self.img.get(from..).unwrap_or_default(), ptr_at)
                .take(ptr_len as usize, "fragment table")?;
            let block = Bits::new(ptr, self.big_endian, ptr_at)
                .take(ptr_len as usize * 8, "fragment table")?;
            let mut pos = MetaPos {
                block,
                off: ((index % per_block) * entry_len) as usize,
            };
            let entry = self.piece(&mut pos, entry_len as usize, "fragment entry")?;
            let mut b = Bits::new(&entry, self.big_endian, block);
            let start = b.take(if v3 { 64 } else { 32 }, "fragment start")?;
            let word = b.u32(32, "fragment size")?;
            let data = read_block(
                self.img,
                Codec::Auto,
                start,
                word,
                self.sb.block_size as usize,
                None,
                &mut self.budget,
                "fragment block",
            )?;
            self.fragments.insert(index, (start, data));
        }
        match self.fragments.get(&index) {
            Some((start, data)) => Ok((*start, data.as_slice())),
            None => Err(tamperscan_bytes::Error::invalid(0, "fragment", "not cached").into()),
        }
    }

    fn entry(&mut self, path: String, inode_ref: u64, inode: &Inode) -> Entry {
        let inode_at = self.inode_pos(inode_ref).block;
        let uid = match self.id(self.sb.uid_start, self.sb.no_uids, inode.uid_index) {
            Ok(id) => id,
            Err(e) => {
                self.col.issue(format!("{path}: owner unreadable: {e}"));
                u32::MAX
            }
        };
        let gid = if inode.guid_index == GUID_SAME_AS_UID {
            uid
        } else {
            match self.id(self.sb.guid_start, self.sb.no_guids, inode.guid_index) {
                Ok(id) => id,
                Err(e) => {
                    self.col.issue(format!("{path}: group unreadable: {e}"));
                    u32::MAX
                }
            }
        };
        let perms = inode.mode & 0o7777;
        let (kind, type_bits, size, sha256, offset) = match &inode.kind {
            InodeKind::Dir {
                start_block, size, ..
            } => (
                EntryKind::Dir,
                tree::S_IFDIR,
                u64::from(*size),
                None,
                Some(
                    self.sb
                        .directory_table
                        .saturating_add(u64::from(*start_block)),
                ),
            ),
            InodeKind::File(file) => {
                let sha = match self.hash_file(file) {
                    Ok(sha) => Some(sha),
                    Err(e) => {
                        self.col.issue(format!("{path}: content not hashed: {e}"));
                        None
                    }
                };
                (
                    EntryKind::File,
                    tree::S_IFREG,
                    file.size,
                    sha,
                    Some(file.blocks_start),
                )
            }
            InodeKind::Symlink(target) => (
                EntryKind::Symlink {
                    target: names::escape(target, false),
                },
                tree::S_IFLNK,
                target.len() as u64,
                None,
                Some(inode_at),
            ),
            InodeKind::BlockDev => (EntryKind::Device, tree::S_IFBLK, 0, None, Some(inode_at)),
            InodeKind::CharDev => (EntryKind::Device, tree::S_IFCHR, 0, None, Some(inode_at)),
            InodeKind::Fifo => (EntryKind::Fifo, tree::S_IFIFO, 0, None, Some(inode_at)),
            InodeKind::Socket => (EntryKind::Socket, tree::S_IFSOCK, 0, None, Some(inode_at)),
        };
        Entry {
            path,
            kind,
            mode: type_bits | perms,
            uid,
            gid,
            size,
            sha256,
            offset,
        }
    }

    fn hash_file(&mut self, file: &FileData) -> Result<[u8; 32], Error> {
        let bs = u64::from(self.sb.block_size);
        self.budget
            .check(file.size, file.blocks_start, "file content")?;
        let has_fragment = file.fragment != NO_FRAGMENT;
        let blocks = if has_fragment {
            file.size / bs
        } else {
            file.size.div_ceil(bs)
        };
        let blocks = usize::try_from(blocks).unwrap_or(usize::MAX);
        let mut list_pos = file.list;
        let list = self.meta.read(
            &mut list_pos,
            blocks.saturating_mul(4),
            &mut self.budget,
            "block size list",
        )?;
        let mut hasher = Sha256::new();
        let mut left = file.size;
        let mut pos = file.blocks_start;
        for word in list.chunks_exact(4) {
            let word = Bits::new(word, self.big_endian, 0).u32(32, "block size")?;
            let want = left.min(bs) as usize;
            hash_block(
                self.img,
                Codec::Auto,
                &mut pos,
                word,
                want,
                &mut self.budget,
                &mut hasher,
            )?;
            left -= want as u64;
        }
        if left > 0 {
            let tail_offset = file.fragment_offset as usize;
            let (start, data) = self.fragment(file.fragment)?;
            let tail = usize::try_from(left)
                .ok()
                .and_then(|n| data.get(tail_offset..tail_offset.checked_add(n)?))
                .ok_or_else(|| {
                    tamperscan_bytes::Error::invalid(
                        start,
                        "fragment",
                        format!(
                            "{left} bytes at {tail_offset} do not fit in its {} bytes",
                            data.len()
                        ),
                    )
                })?;
            hasher.update(tail);
        }
        Ok(hasher.finalize().into())
    }
}
