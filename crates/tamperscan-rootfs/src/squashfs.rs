//! squashfs 4.0, little-endian (magic `hsqs`), as the kernel's `Documentation/filesystems/
//! squashfs.rst` and squashfs-tools' `squashfs_fs.h` lay it out: superblock, metadata blocks
//! (inode, directory, fragment and id tables), data blocks and fragments.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};
use tamperscan_bytes::Reader;

use crate::budget::Budget;
use crate::codec::{decompress, Codec};
use crate::names;
use crate::tree::{self, Collector};
use crate::{Entry, EntryKind, Error, FsKind, Limits, Listing};

/// Uncompressed bytes in a metadata block.
pub(crate) const METADATA_SIZE: usize = 8192;
/// Fragment-table entries in one metadata block (16 bytes each).
const FRAGMENTS_PER_BLOCK: u32 = 512;
/// Ids in one metadata block (4 bytes each).
const IDS_PER_BLOCK: u32 = 2048;
/// "No fragment" in a file inode.
pub(crate) const NO_FRAGMENT: u32 = 0xFFFF_FFFF;
/// Data block size word: set when the block is stored uncompressed.
pub(crate) const DATA_UNCOMPRESSED: u32 = 1 << 24;
/// Longest symbolic link target read.
pub(crate) const MAX_TARGET: usize = 65_535;
/// Directory entries under one directory header (the format stores count - 1 in 8 bits' worth).
const MAX_DIR_RUN: u32 = 256;

/// Formats the start of an issue text.
pub(crate) fn at(offset: u64) -> String {
    format!("at offset {offset} (0x{offset:x})")
}

/// A position in a metadata stream: the absolute offset of a metadata block and a byte offset
/// into its uncompressed content (which may run on into the following blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct MetaPos {
    pub(crate) block: u64,
    pub(crate) off: usize,
}

/// Reads metadata blocks (2-byte header: low 15 bits the stored size, bit 15 set when stored
/// uncompressed), caching each block so that it is decompressed and charged only once.
#[derive(Debug)]
pub(crate) struct Meta<'a> {
    img: &'a [u8],
    codec: Codec,
    big_endian: bool,
    /// squashfs 1.x-3.x with the "check" flag put a marker byte after each header.
    check_byte: bool,
    cache: HashMap<u64, (Vec<u8>, u64)>,
}

impl<'a> Meta<'a> {
    pub(crate) fn new(img: &'a [u8], codec: Codec, big_endian: bool, check_byte: bool) -> Self {
        Meta {
            img,
            codec,
            big_endian,
            check_byte,
            cache: HashMap::new(),
        }
    }

    /// The uncompressed content of the block at `pos` and the offset of the next block.
    fn block(&mut self, pos: u64, budget: &mut Budget) -> Result<(&[u8], u64), Error> {
        if !self.cache.contains_key(&pos) {
            let start = usize::try_from(pos).unwrap_or(usize::MAX);
            let mut r = Reader::with_base(self.img.get(start..).unwrap_or_default(), pos);
            let header = if self.big_endian {
                r.u16_be("metadata block header")?
            } else {
                r.u16_le("metadata block header")?
            };
            if self.check_byte {
                r.skip(1, "metadata check byte")?;
            }
            let stored = usize::from(header & 0x7FFF);
            let data_at = r.offset();
            if stored == 0 || stored > METADATA_SIZE + METADATA_SIZE / 2 {
                return Err(tamperscan_bytes::Error::invalid(
                    pos,
                    "metadata block header",
                    format!("stored size {stored} is not in 1..={METADATA_SIZE}"),
                )
                .into());
            }
            let raw = r.take(stored, "metadata block")?;
            let data = if header & 0x8000 != 0 {
                if stored > METADATA_SIZE {
                    return Err(tamperscan_bytes::Error::invalid(
                        pos,
                        "metadata block header",
                        format!("uncompressed size {stored} is more than {METADATA_SIZE}"),
                    )
                    .into());
                }
                budget.take(stored, data_at, "metadata block")?;
                raw.to_vec()
            } else {
                decompress(
                    self.codec,
                    raw,
                    METADATA_SIZE,
                    budget,
                    data_at,
                    "metadata block",
                )?
            };
            self.cache.insert(pos, (data, r.offset()));
        }
        match self.cache.get(&pos) {
            Some((data, next)) => Ok((data.as_slice(), *next)),
            None => {
                Err(tamperscan_bytes::Error::invalid(pos, "metadata block", "not cached").into())
            }
        }
    }

    /// Reads `n` bytes of the metadata stream at `at`, moving `at` past them.
    pub(crate) fn read(
        &mut self,
        at: &mut MetaPos,
        n: usize,
        budget: &mut Budget,
        what: &'static str,
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        while out.len() < n {
            let (data, next) = self.block(at.block, budget)?;
            if at.off >= data.len() {
                if at.off > data.len() {
                    return Err(tamperscan_bytes::Error::invalid(
                        at.block,
                        what,
                        format!("offset {} is past the block's {} bytes", at.off, data.len()),
                    )
                    .into());
                }
                // The stream goes on in the next block (always further on: no cycle).
                at.block = next;
                at.off = 0;
                continue;
            }
            let want = (n - out.len()).min(data.len() - at.off);
            let end = at.off + want;
            match data.get(at.off..end) {
                Some(piece) => out.extend_from_slice(piece),
                None => break,
            }
            at.off = end;
        }
        Ok(out)
    }
}

/// The squashfs 4.0 superblock (96 bytes).
#[derive(Debug, Clone)]
struct Superblock {
    block_size: u32,
    fragment_count: u32,
    flags: u16,
    id_count: u16,
    minor: u16,
    root_inode: u64,
    bytes_used: u64,
    id_table: u64,
    inode_table: u64,
    directory_table: u64,
    fragment_table: u64,
    codec: Codec,
}

const FLAG_NO_FRAGMENTS: u16 = 0x0010;

fn compressor(id: u16, offset: u64) -> Result<Codec, Error> {
    let name = match id {
        1 => return Ok(Codec::Zlib),
        2 => return Ok(Codec::Lzma),
        4 => return Ok(Codec::Xz),
        3 => "lzo (id 3)".to_string(),
        5 => "lz4 (id 5)".to_string(),
        6 => "zstd (id 6)".to_string(),
        other => format!("unknown (id {other})"),
    };
    Err(Error::UnsupportedCompressor { offset, name })
}

impl Superblock {
    fn parse(img: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(img);
        r.expect(b"hsqs", "squashfs superblock")?;
        let _inode_count = r.u32_le("inode count")?;
        let _mtime = r.u32_le("modification time")?;
        let block_size_at = r.offset();
        let block_size = r.u32_le("block size")?;
        let fragment_count = r.u32_le("fragment count")?;
        let comp_at = r.offset();
        let comp = r.u16_le("compression id")?;
        let block_log = r.u16_le("block log")?;
        let flags = r.u16_le("flags")?;
        let id_count = r.u16_le("id count")?;
        let major = r.u16_le("major version")?;
        let minor = r.u16_le("minor version")?;
        let root_inode = r.u64_le("root inode")?;
        let bytes_used = r.u64_le("bytes used")?;
        let id_table = r.u64_le("id table start")?;
        let _xattr_table = r.u64_le("xattr table start")?;
        let inode_table = r.u64_le("inode table start")?;
        let directory_table = r.u64_le("directory table start")?;
        let fragment_table = r.u64_le("fragment table start")?;
        let _export_table = r.u64_le("export table start")?;
        if major != 4 {
            return Err(Error::Unsupported {
                offset: 28,
                what: format!("squashfs {major}.{minor} in the 4.0 reader"),
            });
        }
        if !(4096..=1 << 20).contains(&block_size)
            || !block_size.is_power_of_two()
            || 1u64.checked_shl(u32::from(block_log)) != Some(u64::from(block_size))
        {
            return Err(tamperscan_bytes::Error::invalid(
                block_size_at,
                "block size",
                format!("{block_size} with block log {block_log} (a power of two 4 KiB..1 MiB)"),
            )
            .into());
        }
        let codec = compressor(comp, comp_at)?;
        Ok(Superblock {
            block_size,
            fragment_count,
            flags,
            id_count,
            minor,
            root_inode,
            bytes_used,
            id_table,
            inode_table,
            directory_table,
            fragment_table,
            codec,
        })
    }
}

/// A decoded inode (squashfs 4.0 "basic" and "extended" forms alike).
#[derive(Debug, Clone)]
struct Inode {
    kind: InodeKind,
    permissions: u16,
    uid_index: u16,
    gid_index: u16,
}

#[derive(Debug, Clone)]
enum InodeKind {
    Dir {
        start_block: u32,
        offset: u16,
        size: u32,
    },
    File(FileData),
    Symlink(Vec<u8>),
    BlockDev,
    CharDev,
    Fifo,
    Socket,
}

/// Where a regular file's content is.
#[derive(Debug, Clone)]
pub(crate) struct FileData {
    pub(crate) blocks_start: u64,
    pub(crate) size: u64,
    pub(crate) fragment: u32,
    pub(crate) fragment_offset: u32,
    /// Where the block size list starts in the inode table.
    pub(crate) list: MetaPos,
}

struct Lister<'a> {
    img: &'a [u8],
    sb: Superblock,
    meta: Meta<'a>,
    budget: Budget,
    col: Collector,
    fragments: HashMap<u32, (u64, Vec<u8>)>,
}

/// Lists a squashfs 4.0 little-endian image.
pub(crate) fn list(bytes: &[u8], limits: &Limits) -> Result<Listing, Error> {
    let sb = Superblock::parse(bytes)?;
    let mut col = Collector::new(limits);
    let img = match usize::try_from(sb.bytes_used) {
        Ok(used) if used <= bytes.len() => bytes.get(..used).unwrap_or(bytes),
        _ => {
            col.issue(format!(
                "{}: the superblock says the image has {} bytes but only {} are present",
                at(40),
                sb.bytes_used,
                bytes.len()
            ));
            bytes
        }
    };
    let fs = FsKind::Squashfs {
        major: 4,
        minor: sb.minor,
        big_endian: false,
    };
    let mut lister = Lister {
        img,
        meta: Meta::new(img, sb.codec, false, false),
        sb,
        budget: Budget::new(limits.decompressed),
        col,
        fragments: HashMap::new(),
    };
    lister.walk()?;
    Ok(lister.col.finish(fs))
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
        let mut seen_dirs = HashSet::new();
        seen_dirs.insert(root_ref);
        let root_entry = self.entry("/".to_string(), root_ref, &root);
        self.col.add(root_entry);
        let mut stack = vec![(root, "/".to_string(), 0usize)];
        while let Some((dir, path, depth)) = stack.pop() {
            if self.col.is_full() {
                break;
            }
            if !self.col.may_descend(depth, &path) {
                continue;
            }
            let children = match self.read_dir(&dir) {
                Ok(children) => children,
                Err(e) => {
                    self.col
                        .issue(format!("directory {path} could not be read: {e}"));
                    continue;
                }
            };
            for (raw_name, child_ref) in children {
                if let Some(why) = names::refuse(&raw_name) {
                    self.col.issue(format!(
                        "directory {path} holds {why} (inode reference 0x{child_ref:x}): left out"
                    ));
                    continue;
                }
                let child_path = names::join(&path, &names::escape(&raw_name, true));
                let inode = match self.inode(child_ref) {
                    Ok(inode) => inode,
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
                    if seen_dirs.insert(child_ref) {
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

    /// Reads the inode that `inode_ref` points to.
    fn inode(&mut self, inode_ref: u64) -> Result<Inode, Error> {
        let mut pos = self.inode_pos(inode_ref);
        let base = pos.block;
        let b = &mut self.budget;
        let head = self.meta.read(&mut pos, 16, b, "inode header")?;
        let mut r = Reader::with_base(&head, base);
        let inode_type = r.u16_le("inode type")?;
        let permissions = r.u16_le("permissions")?;
        let uid_index = r.u16_le("uid index")?;
        let gid_index = r.u16_le("gid index")?;
        let fixed = match inode_type {
            1 => 16,
            2 => 16,
            3 => 8,
            4 | 5 => 8,
            6 | 7 => 4,
            8 => 24,
            9 => 40,
            10 => 8,
            11 | 12 => 12,
            13 | 14 => 8,
            other => {
                return Err(tamperscan_bytes::Error::invalid(
                    base,
                    "inode type",
                    format!("{other} is not 1..=14"),
                )
                .into())
            }
        };
        let body = self.meta.read(&mut pos, fixed, b, "inode")?;
        let mut r = Reader::with_base(&body, base);
        let kind = match inode_type {
            1 => {
                let start_block = r.u32_le("directory block")?;
                let _nlink = r.u32_le("link count")?;
                let size = u32::from(r.u16_le("directory size")?);
                let offset = r.u16_le("directory offset")?;
                InodeKind::Dir {
                    start_block,
                    offset,
                    size,
                }
            }
            8 => {
                let _nlink = r.u32_le("link count")?;
                let size = r.u32_le("directory size")?;
                let start_block = r.u32_le("directory block")?;
                let _parent = r.u32_le("parent inode")?;
                let _index_count = r.u16_le("index count")?;
                let offset = r.u16_le("directory offset")?;
                InodeKind::Dir {
                    start_block,
                    offset,
                    size,
                }
            }
            2 => {
                let blocks_start = u64::from(r.u32_le("blocks start")?);
                let fragment = r.u32_le("fragment index")?;
                let fragment_offset = r.u32_le("fragment offset")?;
                let size = u64::from(r.u32_le("file size")?);
                InodeKind::File(FileData {
                    blocks_start,
                    size,
                    fragment,
                    fragment_offset,
                    list: pos,
                })
            }
            9 => {
                let blocks_start = r.u64_le("blocks start")?;
                let size = r.u64_le("file size")?;
                let _sparse = r.u64_le("sparse bytes")?;
                let _nlink = r.u32_le("link count")?;
                let fragment = r.u32_le("fragment index")?;
                let fragment_offset = r.u32_le("fragment offset")?;
                let _xattr = r.u32_le("xattr index")?;
                InodeKind::File(FileData {
                    blocks_start,
                    size,
                    fragment,
                    fragment_offset,
                    list: pos,
                })
            }
            3 | 10 => {
                let _nlink = r.u32_le("link count")?;
                let len = r.u32_le("target size")?;
                let len = r.bounded(u64::from(len), MAX_TARGET as u64, "target size")?;
                InodeKind::Symlink(self.meta.read(&mut pos, len, b, "symlink target")?)
            }
            4 | 11 => InodeKind::BlockDev,
            5 | 12 => InodeKind::CharDev,
            6 | 13 => InodeKind::Fifo,
            _ => InodeKind::Socket,
        };
        Ok(Inode {
            kind,
            permissions,
            uid_index,
            gid_index,
        })
    }

    /// The (name, inode reference) pairs of a directory, in stored order.
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
            off: usize::from(offset),
        };
        let base = pos.block;
        // The stored size counts 3 bytes for the implicit "." and ".." entries.
        let len = (size as usize).saturating_sub(3);
        // Charged even when its blocks are cached: many directory inodes may share a listing.
        self.budget.take(len, base, "directory listing")?;
        let bytes = self
            .meta
            .read(&mut pos, len, &mut self.budget, "directory")?;
        parse_dir_v4(&bytes, base)
    }

    fn id(&mut self, index: u16) -> Result<u32, Error> {
        if index >= self.sb.id_count {
            return Err(tamperscan_bytes::Error::invalid(
                self.sb.id_table,
                "id index",
                format!("{index} is not below the id count {}", self.sb.id_count),
            )
            .into());
        }
        let index = u32::from(index);
        let entry = self.table_entry(self.sb.id_table, index / IDS_PER_BLOCK, "id table")?;
        let mut pos = MetaPos {
            block: entry,
            off: (index % IDS_PER_BLOCK) as usize * 4,
        };
        let bytes = self.meta.read(&mut pos, 4, &mut self.budget, "id")?;
        Ok(Reader::with_base(&bytes, entry).u32_le("id")?)
    }

    /// The `n`th 64-bit pointer of a table's index.
    fn table_entry(&self, table: u64, n: u32, what: &'static str) -> Result<u64, Error> {
        let at = table.saturating_add(u64::from(n) * 8);
        let start = usize::try_from(at).unwrap_or(usize::MAX);
        let mut r = Reader::with_base(self.img.get(start..).unwrap_or_default(), at);
        Ok(r.u64_le(what)?)
    }

    /// The fragment block `index` (start offset and uncompressed content).
    fn fragment(&mut self, index: u32) -> Result<(u64, &[u8]), Error> {
        if !self.fragments.contains_key(&index) {
            if index >= self.sb.fragment_count || self.sb.flags & FLAG_NO_FRAGMENTS != 0 {
                return Err(tamperscan_bytes::Error::invalid(
                    self.sb.fragment_table,
                    "fragment index",
                    format!(
                        "{index} is not below the fragment count {}",
                        self.sb.fragment_count
                    ),
                )
                .into());
            }
            let table = self.table_entry(
                self.sb.fragment_table,
                index / FRAGMENTS_PER_BLOCK,
                "fragment table",
            )?;
            let mut pos = MetaPos {
                block: table,
                off: (index % FRAGMENTS_PER_BLOCK) as usize * 16,
            };
            let bytes = self
                .meta
                .read(&mut pos, 16, &mut self.budget, "fragment entry")?;
            let mut r = Reader::with_base(&bytes, table);
            let start = r.u64_le("fragment start")?;
            let word = r.u32_le("fragment size")?;
            let data = read_block(
                self.img,
                self.sb.codec,
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

    /// Builds the entry for an inode, hashing a regular file's content.
    fn entry(&mut self, path: String, inode_ref: u64, inode: &Inode) -> Entry {
        let inode_at = self.inode_pos(inode_ref).block;
        let uid = self.owner(inode.uid_index, &path);
        let gid = self.owner(inode.gid_index, &path);
        let perms = u32::from(inode.permissions) & 0o7777;
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
                let (sha, offset) = self.hash_file(&path, file);
                (EntryKind::File, tree::S_IFREG, file.size, sha, offset)
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

    fn owner(&mut self, index: u16, path: &str) -> u32 {
        match self.id(index) {
            Ok(id) => id,
            Err(e) => {
                self.col.issue(format!("{path}: owner unreadable: {e}"));
                u32::MAX
            }
        }
    }

    /// The SHA-256 of a file's content and where the content starts, recording why not.
    fn hash_file(&mut self, path: &str, file: &FileData) -> (Option<[u8; 32]>, Option<u64>) {
        let has_fragment = file.fragment != NO_FRAGMENT;
        let offset = if file.size >= u64::from(self.sb.block_size) || !has_fragment {
            Some(file.blocks_start)
        } else {
            self.fragment(file.fragment).ok().map(|(start, _)| start)
        };
        match self.try_hash_file(file) {
            Ok(sha) => (Some(sha), offset),
            Err(e) => {
                self.col.issue(format!("{path}: content not hashed: {e}"));
                (None, offset)
            }
        }
    }

    fn try_hash_file(&mut self, file: &FileData) -> Result<[u8; 32], Error> {
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
            let word = u32::from_le_bytes([
                word.first().copied().unwrap_or(0),
                word.get(1).copied().unwrap_or(0),
                word.get(2).copied().unwrap_or(0),
                word.get(3).copied().unwrap_or(0),
            ]);
            let want = left.min(bs) as usize;
            hash_block(
                self.img,
                self.sb.codec,
                &mut pos,
                word,
                want,
                &mut self.budget,
                &mut hasher,
            )?;
            left -= want as u64;
        }
        if left > 0 {
            let tail_offset = u64::from(file.fragment_offset);
            let (start, data) = self.fragment(file.fragment)?;
            let tail = usize::try_from(tail_offset)
                .ok()
                .and_then(|from| Some(from..from.checked_add(usize::try_from(left).ok()?)?))
                .and_then(|range| data.get(range))
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

/// Reads one data or fragment block whose size word is `word` (bit 24: stored uncompressed;
/// 0: a sparse block). `want`, when known, is the exact size the block must have.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_block(
    img: &[u8],
    codec: Codec,
    start: u64,
    word: u32,
    max: usize,
    want: Option<usize>,
    budget: &mut Budget,
    what: &'static str,
) -> Result<Vec<u8>, Error> {
    if word & !(DATA_UNCOMPRESSED | 0x00FF_FFFF) != 0 {
        return Err(tamperscan_bytes::Error::invalid(
            start,
            what,
            format!("size word 0x{word:08x} has unknown bits set"),
        )
        .into());
    }
    let stored = (word & 0x00FF_FFFF) as usize;
    if stored == 0 {
        let n = want.unwrap_or(0);
        budget.take(n, start, "sparse block")?;
        return Ok(vec![0; n]);
    }
    let from = usize::try_from(start).unwrap_or(usize::MAX);
    let raw = Reader::with_base(img.get(from..).unwrap_or_default(), start).take(stored, what)?;
    let data = if word & DATA_UNCOMPRESSED != 0 {
        if stored > max {
            return Err(tamperscan_bytes::Error::invalid(
                start,
                what,
                format!("stored size {stored} is more than the block size {max}"),
            )
            .into());
        }
        budget.take(stored, start, what)?;
        raw.to_vec()
    } else {
        decompress(codec, raw, want.unwrap_or(max), budget, start, what)?
    };
    if let Some(want) = want {
        if data.len() != want {
            return Err(tamperscan_bytes::Error::invalid(
                start,
                what,
                format!("holds {} bytes, the file needs {want} here", data.len()),
            )
            .into());
        }
    }
    Ok(data)
}

/// Hashes one data block of a file at `*pos` and moves `*pos` past its stored bytes.
pub(crate) fn hash_block(
    img: &[u8],
    codec: Codec,
    pos: &mut u64,
    word: u32,
    want: usize,
    budget: &mut Budget,
    hasher: &mut Sha256,
) -> Result<(), Error> {
    let data = read_block(
        img,
        codec,
        *pos,
        word,
        want.max(1),
        Some(want),
        budget,
        "data block",
    )?;
    hasher.update(&data);
    *pos = pos.saturating_add(u64::from(word & 0x00FF_FFFF));
    Ok(())
}

/// Parses a squashfs 4.0 directory listing: runs of a 12-byte header (count - 1, inode block,
/// base inode number) followed by entries (offset, inode number delta, type, name size - 1,
/// name).
fn parse_dir_v4(bytes: &[u8], base: u64) -> Result<Vec<(Vec<u8>, u64)>, Error> {
    let mut r = Reader::with_base(bytes, base);
    let mut out = Vec::new();
    while !r.is_empty() {
        let count = r.u32_le("directory header count")?;
        if count >= MAX_DIR_RUN {
            return Err(r
                .invalid(
                    "directory header count",
                    format!("{} is more than 256", count + 1),
                )
                .into());
        }
        let start = r.u32_le("directory header inode block")?;
        let _inode_number = r.u32_le("directory header inode number")?;
        for _ in 0..=count {
            let offset = r.u16_le("directory entry offset")?;
            let _delta = r.u16_le("directory entry inode delta")?;
            let _kind = r.u16_le("directory entry type")?;
            let name_size = usize::from(r.u16_le("directory entry name size")?) + 1;
            if name_size > 256 {
                return Err(r
                    .invalid("directory entry name size", format!("{name_size} > 256"))
                    .into());
            }
            let name = r.take(name_size, "directory entry name")?;
            out.push((name.to_vec(), (u64::from(start) << 16) | u64::from(offset)));
        }
    }
    Ok(out)
}
