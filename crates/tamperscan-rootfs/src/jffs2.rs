//! JFFS2 (node magic 0x1985) in either byte order, as the kernel's `jffs2.h` lays it out: a
//! log of nodes at 4-byte alignment, each with a 12-byte header (magic, node type, total
//! length, header CRC). Directory entry nodes name children; inode nodes carry metadata and a
//! compressed piece of the content. The newest version wins; a dirent pointing at inode 0
//! deletes the name.

use std::collections::{BTreeMap, HashMap, HashSet};

use sha2::{Digest, Sha256};
use tamperscan_bytes::{Error as BytesError, Reader};

use crate::budget::Budget;
use crate::codec::{decompress, Codec};
use crate::crc::jffs2_crc;
use crate::names;
use crate::squashfs::at;
use crate::tree::{self, Collector};
use crate::{Entry, EntryKind, Error, FsKind, Limits, Listing};

const MAGIC: u16 = 0x1985;
/// Node type bit that is cleared when a node is obsoleted.
const NODE_ACCURATE: u16 = 0x2000;
const NODETYPE_DIRENT: u16 = 0xE001;
const NODETYPE_INODE: u16 = 0xE002;
const NODETYPE_CLEANMARKER: u16 = 0x2003;
const NODETYPE_PADDING: u16 = 0x2004;
const NODETYPE_SUMMARY: u16 = 0x2006;
const NODETYPE_XATTR: u16 = 0xE008;
const NODETYPE_XREF: u16 = 0xE009;
/// Compatibility class bits: nodes of an unknown "incompat" type make the image unreadable
/// to the kernel; we list what we can and report them.
const FEATURE_MASK: u16 = 0xC000;
const FEATURE_INCOMPAT: u16 = 0xC000;

const HEADER_LEN: usize = 12;
const DIRENT_LEN: usize = 40;
const INODE_LEN: usize = 68;
/// The root directory's inode number.
const ROOT_INO: u32 = 1;
/// Largest piece of content one inode node may expand to (the kernel writes at most a page).
const MAX_NODE_DATA: u32 = 1 << 20;
/// Longest symbolic link target read.
const MAX_TARGET: u64 = 4096;

const COMPR_NONE: u8 = 0;
const COMPR_ZERO: u8 = 1;
const COMPR_RTIME: u8 = 2;
const COMPR_ZLIB: u8 = 6;

/// True for a big-endian image, when `bytes` starts with a JFFS2 node header whose CRC holds.
pub(crate) fn detect(bytes: &[u8]) -> Option<bool> {
    let head = bytes.get(..HEADER_LEN)?;
    let big_endian = match head.get(..2)? {
        [0x85, 0x19] => false,
        [0x19, 0x85] => true,
        _ => return None,
    };
    let stored = head.get(8..12)?;
    let stored = if big_endian {
        u32::from_be_bytes([
            *stored.first()?,
            *stored.get(1)?,
            *stored.get(2)?,
            *stored.get(3)?,
        ])
    } else {
        u32::from_le_bytes([
            *stored.first()?,
            *stored.get(1)?,
            *stored.get(2)?,
            *stored.get(3)?,
        ])
    };
    (jffs2_crc(head.get(..8)?) == stored).then_some(big_endian)
}

struct Endian(bool);

impl Endian {
    fn u16(&self, r: &mut Reader<'_>, what: &'static str) -> Result<u16, BytesError> {
        if self.0 {
            r.u16_be(what)
        } else {
            r.u16_le(what)
        }
    }
    fn u32(&self, r: &mut Reader<'_>, what: &'static str) -> Result<u32, BytesError> {
        if self.0 {
            r.u32_be(what)
        } else {
            r.u32_le(what)
        }
    }
}

/// A directory entry node.
#[derive(Debug, Clone)]
struct Dirent {
    version: u32,
    ino: u32,
    at: u64,
}

/// An inode node (metadata and one piece of content).
#[derive(Debug, Clone)]
struct InodeNode {
    version: u32,
    mode: u32,
    uid: u16,
    gid: u16,
    isize: u32,
    offset: u32,
    dsize: u32,
    compr: u8,
    /// Absolute position of the node.
    at: u64,
    /// Absolute position and length of the stored (compressed) data.
    data_at: u64,
    csize: u32,
}

/// What the node scan found.
#[derive(Debug, Default)]
struct Scan {
    /// (parent inode, name) -> newest dirent.
    dirents: HashMap<(u32, Vec<u8>), Dirent>,
    inodes: HashMap<u32, Vec<InodeNode>>,
}

/// Lists a JFFS2 image.
pub(crate) fn list(bytes: &[u8], limits: &Limits, big_endian: bool) -> Result<Listing, Error> {
    let mut col = Collector::new(limits);
    let scan = scan(bytes, Endian(big_endian), &mut col);
    let mut lister = Lister {
        img: bytes,
        budget: Budget::new(limits.decompressed),
        col,
    };
    lister.walk(&scan);
    Ok(lister.col.finish(FsKind::Jffs2 { big_endian }))
}

/// Walks the whole image node by node.
fn scan(img: &[u8], e: Endian, col: &mut Collector) -> Scan {
    let mut out = Scan::default();
    let mut pos = 0usize;
    let mut junk_from: Option<usize> = None;
    let mut obsolete = 0usize;
    let mut first_obsolete = 0usize;
    let flush_junk = |col: &mut Collector, from: &mut Option<usize>, to: usize| {
        if let Some(start) = from.take() {
            col.issue(format!(
                "{}: {} bytes that are neither nodes nor erased flash",
                at(start as u64),
                to - start
            ));
        }
    };
    while pos.saturating_add(HEADER_LEN) <= img.len() {
        let rest = img.get(pos..).unwrap_or_default();
        if rest.get(..4) == Some(&[0xFF; 4]) {
            flush_junk(col, &mut junk_from, pos);
            pos += 4;
            continue;
        }
        let head = match node_header(rest, pos as u64, &e) {
            Ok(Some(head)) => head,
            Ok(None) => {
                // Not a node start (padding zeros or garbage): move on one word.
                if rest.get(..4) != Some(&[0; 4]) && junk_from.is_none() {
                    junk_from = Some(pos);
                }
                pos += 4;
                continue;
            }
            Err(why) => {
                flush_junk(col, &mut junk_from, pos);
                col.issue(why);
                pos += 4;
                continue;
            }
        };
        flush_junk(col, &mut junk_from, pos);
        let (nodetype, totlen) = head;
        let node = rest.get(..totlen).unwrap_or_default();
        if nodetype & NODE_ACCURATE == 0 {
            if obsolete == 0 {
                first_obsolete = pos;
            }
            obsolete += 1;
        } else {
            let result = match nodetype {
                NODETYPE_DIRENT => dirent(node, pos as u64, &e, &mut out),
                NODETYPE_INODE => inode(node, pos as u64, &e, &mut out),
                NODETYPE_CLEANMARKER | NODETYPE_PADDING | NODETYPE_SUMMARY | NODETYPE_XATTR
                | NODETYPE_XREF => Ok(()),
                other if other & FEATURE_MASK == FEATURE_INCOMPAT => Err(format!(
                    "{}: node type 0x{other:04x} is unknown and incompatible; skipped",
                    at(pos as u64)
                )),
                _ => Ok(()),
            };
            if let Err(why) = result {
                col.issue(why);
            }
        }
        pos = pos.saturating_add(totlen.div_ceil(4) * 4);
    }
    flush_junk(col, &mut junk_from, pos.min(img.len()));
    if obsolete > 0 {
        col.issue(format!(
            "{}: {obsolete} obsolete nodes (the first here) were skipped",
            at(first_obsolete as u64)
        ));
    }
    out
}

/// The node type and total length of a node header at the start of `rest`; `None` when there
/// is no magic there, an issue text when the header is damaged.
fn node_header(rest: &[u8], pos: u64, e: &Endian) -> Result<Option<(u16, usize)>, String> {
    let mut r = Reader::with_base(rest, pos);
    let fail = |err: BytesError| format!("{err}");
    let magic = e.u16(&mut r, "node magic").map_err(fail)?;
    if magic != MAGIC {
        return Ok(None);
    }
    let nodetype = e.u16(&mut r, "node type").map_err(fail)?;
    let totlen = e.u32(&mut r, "node length").map_err(fail)?;
    let hdr_crc = e.u32(&mut r, "header CRC").map_err(fail)?;
    let computed = jffs2_crc(rest.get(..8).unwrap_or_default());
    if computed != hdr_crc {
        return Err(format!(
            "{}: node header CRC 0x{hdr_crc:08x} does not match 0x{computed:08x}; skipped",
            at(pos)
        ));
    }
    let totlen = usize::try_from(totlen).unwrap_or(usize::MAX);
    if totlen < HEADER_LEN || totlen > rest.len() {
        return Err(format!(
            "{}: node length {totlen} does not fit in the {} bytes left; skipped",
            at(pos),
            rest.len()
        ));
    }
    Ok(Some((nodetype, totlen)))
}

fn check_crc(bytes: &[u8], stored: u32, pos: u64, what: &str) -> Result<(), String> {
    let computed = jffs2_crc(bytes);
    if computed != stored {
        return Err(format!(
            "{}: {what} CRC 0x{stored:08x} does not match 0x{computed:08x}; node skipped",
            at(pos)
        ));
    }
    Ok(())
}

fn dirent(node: &[u8], pos: u64, e: &Endian, out: &mut Scan) -> Result<(), String> {
    let fail = |err: BytesError| format!("{err}; dirent node skipped");
    let mut r = Reader::with_base(node, pos);
    r.skip(HEADER_LEN, "node header").map_err(fail)?;
    let pino = e.u32(&mut r, "dirent parent inode").map_err(fail)?;
    let version = e.u32(&mut r, "dirent version").map_err(fail)?;
    let ino = e.u32(&mut r, "dirent inode").map_err(fail)?;
    let _mctime = e.u32(&mut r, "dirent time").map_err(fail)?;
    let nsize = r.u8("dirent name size").map_err(fail)?;
    let _dtype = r.u8("dirent type").map_err(fail)?;
    r.skip(2, "dirent padding").map_err(fail)?;
    let node_crc = e.u32(&mut r, "dirent node CRC").map_err(fail)?;
    let name_crc = e.u32(&mut r, "dirent name CRC").map_err(fail)?;
    let name = r.take(usize::from(nsize), "dirent name").map_err(fail)?;
    check_crc(
        node.get(..DIRENT_LEN - 8).unwrap_or_default(),
        node_crc,
        pos,
        "dirent node",
    )?;
    check_crc(name, name_crc, pos, "dirent name")?;
    let key = (pino, name.to_vec());
    let newer = out
        .dirents
        .get(&key)
        .is_none_or(|old| version >= old.version);
    if newer {
        out.dirents.insert(
            key,
            Dirent {
                version,
                ino,
                at: pos,
            },
        );
    }
    Ok(())
}

fn inode(node: &[u8], pos: u64, e: &Endian, out: &mut Scan) -> Result<(), String> {
    let fail = |err: BytesError| format!("{err}; inode node skipped");
    let mut r = Reader::with_base(node, pos);
    r.skip(HEADER_LEN, "node header").map_err(fail)?;
    let ino = e.u32(&mut r, "inode number").map_err(fail)?;
    let version = e.u32(&mut r, "inode version").map_err(fail)?;
    let mode = e.u32(&mut r, "inode mode").map_err(fail)?;
    let uid = e.u16(&mut r, "inode uid").map_err(fail)?;
    let gid = e.u16(&mut r, "inode gid").map_err(fail)?;
    let isize = e.u32(&mut r, "inode size").map_err(fail)?;
    r.skip(12, "inode times").map_err(fail)?;
    let offset = e.u32(&mut r, "inode data offset").map_err(fail)?;
    let csize = e.u32(&mut r, "inode compressed size").map_err(fail)?;
    let dsize = e.u32(&mut r, "inode data size").map_err(fail)?;
    let compr = r.u8("inode compression").map_err(fail)?;
    let _usercompr = r.u8("inode user compression").map_err(fail)?;
    let _flags = e.u16(&mut r, "inode flags").map_err(fail)?;
    let data_crc = e.u32(&mut r, "inode data CRC").map_err(fail)?;
    let node_crc = e.u32(&mut r, "inode node CRC").map_err(fail)?;
    let data_at = r.offset();
    let data = r.take(csize as usize, "inode data").map_err(fail)?;
    check_crc(
        node.get(..INODE_LEN - 8).unwrap_or_default(),
        node_crc,
        pos,
        "inode node",
    )?;
    check_crc(data, data_crc, pos, "inode data")?;
    if dsize > MAX_NODE_DATA {
        return Err(format!(
            "{}: inode node claims {dsize} bytes of data, more than {MAX_NODE_DATA}; skipped",
            at(pos)
        ));
    }
    out.inodes.entry(ino).or_default().push(InodeNode {
        version,
        mode,
        uid,
        gid,
        isize,
        offset,
        dsize,
        compr,
        at: pos,
        data_at,
        csize,
    });
    Ok(())
}

struct Lister<'a> {
    img: &'a [u8],
    budget: Budget,
    col: Collector,
}

impl Lister<'_> {
    fn walk(&mut self, scan: &Scan) {
        // parent -> sorted (name -> dirent) of live entries.
        let mut children: HashMap<u32, BTreeMap<&[u8], &Dirent>> = HashMap::new();
        for ((pino, name), d) in &scan.dirents {
            if d.ino != 0 {
                children.entry(*pino).or_default().insert(name, d);
            }
        }
        let mut seen = HashSet::new();
        seen.insert(ROOT_INO);
        let root = self.entry("/".to_string(), ROOT_INO, scan, Some(tree::S_IFDIR));
        self.col.add(root);
        let mut stack = vec![(ROOT_INO, "/".to_string(), 0usize)];
        while let Some((ino, path, depth)) = stack.pop() {
            if self.col.is_full() {
                break;
            }
            let Some(kids) = children.get(&ino) else {
                continue;
            };
            if !self.col.may_descend(depth, &path) {
                continue;
            }
            for (name, d) in kids {
                if let Some(why) = names::refuse(name) {
                    self.col.issue(format!(
                        "{}: directory {path} holds {why}: left out",
                        at(d.at)
                    ));
                    continue;
                }
                let child_path = names::join(&path, &names::escape(name, true));
                let entry = self.entry(child_path.clone(), d.ino, scan, None);
                let is_dir = entry.kind == EntryKind::Dir;
                if !self.col.add(entry) {
                    break;
                }
                if is_dir {
                    if seen.insert(d.ino) {
                        stack.push((d.ino, child_path, depth + 1));
                    } else {
                        self.col.issue(format!(
                            "{}: directory loop: {child_path} is inode {} already reached; \
                             not walked again",
                            at(d.at),
                            d.ino
                        ));
                    }
                }
            }
        }
    }

    /// The entry for inode `ino` from its newest node (`default_type` when it has none).
    fn entry(&mut self, path: String, ino: u32, scan: &Scan, default_type: Option<u32>) -> Entry {
        let nodes = scan.inodes.get(&ino).map(Vec::as_slice).unwrap_or_default();
        let Some(newest) = nodes.iter().max_by_key(|n| n.version) else {
            if default_type.is_none() {
                self.col.issue(format!(
                    "{path}: inode {ino} has no inode node; listed as a file"
                ));
            }
            let mode = default_type.unwrap_or(tree::S_IFREG);
            let kind = if mode == tree::S_IFDIR {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            return Entry {
                path,
                kind,
                mode,
                uid: 0,
                gid: 0,
                size: 0,
                sha256: None,
                offset: None,
            };
        };
        let mut size = u64::from(newest.isize);
        let mut sha256 = None;
        let kind = match newest.mode & tree::S_IFMT {
            tree::S_IFDIR => {
                size = 0;
                EntryKind::Dir
            }
            tree::S_IFREG => {
                match self.content(nodes, size, 0) {
                    Ok((sha, _)) => sha256 = Some(sha),
                    Err(e) => self.col.issue(format!("{path}: content not hashed: {e}")),
                }
                EntryKind::File
            }
            tree::S_IFLNK => {
                let target = match self.content(nodes, size.min(MAX_TARGET), MAX_TARGET) {
                    Ok((_, data)) => data,
                    Err(e) => {
                        self.col
                            .issue(format!("{path}: link target unreadable: {e}"));
                        Vec::new()
                    }
                };
                EntryKind::Symlink {
                    target: names::escape(&target, false),
                }
            }
            tree::S_IFBLK | tree::S_IFCHR => {
                size = 0;
                EntryKind::Device
            }
            tree::S_IFIFO => {
                size = 0;
                EntryKind::Fifo
            }
            tree::S_IFSOCK => {
                size = 0;
                EntryKind::Socket
            }
            other => {
                self.col.issue(format!(
                    "{}: {path} has unknown file type 0o{other:o}; listed as a file",
                    at(newest.at)
                ));
                EntryKind::File
            }
        };
        Entry {
            path,
            kind,
            mode: newest.mode,
            uid: u32::from(newest.uid),
            gid: u32::from(newest.gid),
            size,
            sha256,
            offset: Some(newest.at),
        }
    }

    /// Rebuilds `size` bytes of content from the inode nodes, oldest version first, truncating
    /// where a node says the file got shorter. Returns the SHA-256 and, when `size <= keep`,
    /// the bytes.
    fn content(
        &mut self,
        nodes: &[InodeNode],
        size: u64,
        keep: u64,
    ) -> Result<([u8; 32], Vec<u8>), Error> {
        let first_at = nodes.first().map_or(0, |n| n.at);
        self.budget.check(size, first_at, "file content")?;
        let len = usize::try_from(size).unwrap_or(usize::MAX);
        let mut buf = vec![0u8; len];
        let mut order: Vec<&InodeNode> = nodes.iter().collect();
        order.sort_by_key(|n| (n.version, n.at));
        let mut produced = 0usize;
        let mut high = 0usize;
        for n in order {
            if n.dsize > 0 {
                let data = self.node_data(n)?;
                produced = produced.saturating_add(data.len());
                let from = n.offset as usize;
                if from < len {
                    let to = from.saturating_add(data.len()).min(len);
                    if let (Some(dst), Some(src)) = (buf.get_mut(from..to), data.get(..to - from)) {
                        dst.copy_from_slice(src);
                    }
                    high = high.max(to);
                }
            }
            // A node whose size is below what was written truncates the file there.
            let cut = (n.isize as usize).min(len);
            if cut < high {
                if let Some(tail) = buf.get_mut(cut..high) {
                    tail.fill(0);
                }
                high = cut;
            }
        }
        // Holes are produced too: charge what the nodes did not.
        if produced < len {
            self.budget.take(len - produced, first_at, "file holes")?;
        }
        let sha: [u8; 32] = Sha256::digest(&buf).into();
        let kept = if size <= keep { buf } else { Vec::new() };
        Ok((sha, kept))
    }

    /// The uncompressed data of one inode node.
    fn node_data(&mut self, n: &InodeNode) -> Result<Vec<u8>, Error> {
        let from = usize::try_from(n.data_at).unwrap_or(usize::MAX);
        let raw = Reader::with_base(self.img.get(from..).unwrap_or_default(), n.data_at)
            .take(n.csize as usize, "inode data")?;
        let want = n.dsize as usize;
        let data = match n.compr {
            COMPR_NONE => {
                self.budget.take(raw.len(), n.data_at, "inode data")?;
                raw.to_vec()
            }
            COMPR_ZERO => {
                self.budget.take(want, n.data_at, "inode data")?;
                vec![0; want]
            }
            COMPR_RTIME => {
                self.budget.take(want, n.data_at, "inode data")?;
                rtime(raw, want, n.data_at)?
            }
            COMPR_ZLIB => decompress(
                Codec::Zlib,
                raw,
                want,
                &mut self.budget,
                n.data_at,
                "inode data",
            )?,
            other => {
                let name = match other {
                    3 => "rubinmips",
                    4 => "copy",
                    5 => "dynrubin",
                    7 => "lzo",
                    8 => "lzma",
                    _ => "unknown",
                };
                return Err(Error::UnsupportedCompressor {
                    offset: n.at.saturating_add(60),
                    name: format!("JFFS2 {name} (id {other})"),
                });
            }
        };
        if data.len() != want {
            return Err(tamperscan_bytes::Error::invalid(
                n.data_at,
                "inode data",
                format!("holds {} bytes, the node says {want}", data.len()),
            )
            .into());
        }
        Ok(data)
    }
}

/// JFFS2's "rtime" decompressor: pairs of (byte, repeat count), where the repeat copies
/// `repeat` bytes from just after the previous occurrence of that byte.
fn rtime(input: &[u8], out_len: usize, offset: u64) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(out_len);
    let mut last = [0usize; 256];
    let mut pairs = input.chunks_exact(2);
    while out.len() < out_len {
        let Some(&[value, repeat]) = pairs.next() else {
            return Err(tamperscan_bytes::Error::invalid(
                offset,
                "rtime data",
                format!("ended after {} of {out_len} bytes", out.len()),
            )
            .into());
        };
        out.push(value);
        let slot = last.get_mut(usize::from(value));
        let back = slot.as_deref().copied().unwrap_or(0);
        if let Some(slot) = slot {
            *slot = out.len();
        }
        // The copy may overlap what it writes, so it goes byte by byte.
        for from in back..back + usize::from(repeat) {
            if out.len() >= out_len {
                break;
            }
            let b = out.get(from).copied().unwrap_or(0);
            out.push(b);
        }
    }
    Ok(out)
}
