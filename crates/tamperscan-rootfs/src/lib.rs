//! Read-only listers for the root filesystems found in BMC images: squashfs (4.0 little-endian
//! and the older 2.x/3.x layouts), cramfs (both byte orders) and JFFS2 (both byte orders).
//!
//! Each lister takes the image bytes and returns a [`Listing`]: every file, directory, symbolic
//! link and special file with its owner, mode, size and, for regular files, the SHA-256 of the
//! full decompressed content. Nothing is written anywhere and nothing is followed outside the
//! image.
//!
//! **Invariant:** no I/O and no panics on any input. The bytes produced by decompression (and
//! copied into file hashes) are bounded by the caller's `limit` for the whole listing, entries and
//! directory depth have bounds ([`Limits`]), and a directory reachable twice is reported as a loop
//! instead of being walked again. Damage found after the superblock is recorded in
//! [`Listing::issues`] and the rest of the tree is still listed; only a filesystem that cannot
//! be read at all is an [`Error`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::panic)]
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

mod budget;
mod codec;
mod cramfs;
mod crc;
mod error;
mod jffs2;
mod names;
mod squashfs;
mod squashfs_legacy;
mod tree;

pub use error::Error;

/// Entries listed at most by [`list`] (a BMC root filesystem has a few thousand).
pub const DEFAULT_MAX_ENTRIES: usize = 200_000;
/// Directory levels below the root walked at most by [`list`].
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// Which filesystem an image holds, as told by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FsKind {
    /// squashfs (magic `hsqs` little-endian, `sqsh` big-endian) with its superblock version.
    Squashfs {
        /// `s_major` (4 for current images, 2 or 3 for old vendor images).
        major: u16,
        /// `s_minor`.
        minor: u16,
        /// True for the big-endian layout (`sqsh`).
        big_endian: bool,
    },
    /// cramfs (magic 0x28CD3D45).
    Cramfs {
        /// True when the superblock is big-endian.
        big_endian: bool,
    },
    /// JFFS2 (node magic 0x1985).
    Jffs2 {
        /// True when the nodes are big-endian.
        big_endian: bool,
    },
}

/// What a directory entry is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link and the path it points to (escaped like names, see [`Entry::path`]).
    Symlink {
        /// The link target as stored.
        target: String,
    },
    /// A block or character device node.
    Device,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
}

/// One file, directory or special file of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Absolute path, `/`-separated, `/` for the root. Name bytes that are not UTF-8, control
    /// characters, `\` and `/` inside a name are written as `\xNN`, so the text is unambiguous
    /// and the same image always gives the same paths.
    pub path: String,
    /// The entry's type.
    pub kind: EntryKind,
    /// `st_mode`: the file type bits (`S_IFREG`, `S_IFDIR`, ...) and the permission bits.
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Size in bytes: content length for files, target length for links, the stored directory
    /// size for directories (format-specific), 0 for special files.
    pub size: u64,
    /// SHA-256 of the full content of a regular file; `None` for other kinds and for files whose
    /// content could not be read within the budget or was damaged (see [`Listing::issues`]).
    pub sha256: Option<[u8; 32]>,
    /// Where the entry sits in the image. squashfs: a file's first data block (or its fragment
    /// block when it has only a tail), a directory's listing metadata block, otherwise the
    /// metadata block holding the inode. cramfs: a file's or link's block pointer table, a
    /// directory's entries, otherwise the inode. JFFS2: the newest inode node (`None` for a root
    /// without one, listed as mode `S_IFDIR`, owner 0).
    pub offset: Option<u64>,
}

/// The result of listing one filesystem image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The filesystem that was read.
    pub fs: FsKind,
    /// Every entry reached from the root, sorted by path.
    pub entries: Vec<Entry>,
    /// Damage and limits met while listing, in the order found; each names its offset.
    pub issues: Vec<String>,
}

/// Bounds for one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes that decompression (and copying of stored file data) may produce in total.
    pub decompressed: usize,
    /// Entries listed at most; further entries are left out with an issue.
    pub entries: usize,
    /// Directory levels below the root walked at most; deeper ones are left out with an issue.
    pub depth: usize,
}

impl Limits {
    /// `decompressed` bytes with the default entry and depth bounds.
    pub fn new(decompressed: usize) -> Self {
        Limits {
            decompressed,
            entries: DEFAULT_MAX_ENTRIES,
            depth: DEFAULT_MAX_DEPTH,
        }
    }
}

const CRAMFS_MAGIC: u32 = 0x28CD_3D45;

/// Tells which filesystem `bytes` starts with, from its signature (and, for JFFS2, a first node
/// whose header CRC is right).
pub fn detect(bytes: &[u8]) -> Option<FsKind> {
    let magic = bytes.get(..4)?;
    let version = |big_endian: bool| {
        let field = bytes.get(28..32)?;
        let (major, minor) = if big_endian {
            (
                u16::from_be_bytes([*field.first()?, *field.get(1)?]),
                u16::from_be_bytes([*field.get(2)?, *field.get(3)?]),
            )
        } else {
            (
                u16::from_le_bytes([*field.first()?, *field.get(1)?]),
                u16::from_le_bytes([*field.get(2)?, *field.get(3)?]),
            )
        };
        Some(FsKind::Squashfs {
            major,
            minor,
            big_endian,
        })
    };
    match magic {
        b"hsqs" => version(false),
        b"sqsh" => version(true),
        _ if magic == CRAMFS_MAGIC.to_le_bytes() => Some(FsKind::Cramfs { big_endian: false }),
        _ if magic == CRAMFS_MAGIC.to_be_bytes() => Some(FsKind::Cramfs { big_endian: true }),
        _ => jffs2::detect(bytes).map(|big_endian| FsKind::Jffs2 { big_endian }),
    }
}

/// Lists the filesystem at the start of `bytes`, producing at most `limit` bytes of
/// decompressed data in total, with the default entry and depth bounds.
pub fn list(bytes: &[u8], limit: usize) -> Result<Listing, Error> {
    list_with(bytes, &Limits::new(limit))
}

/// Lists the filesystem at the start of `bytes` within `limits`.
pub fn list_with(bytes: &[u8], limits: &Limits) -> Result<Listing, Error> {
    match detect(bytes) {
        Some(FsKind::Squashfs {
            major: 4,
            big_endian: false,
            ..
        }) => squashfs::list(bytes, limits),
        Some(FsKind::Squashfs {
            major: major @ (2 | 3),
            minor,
            big_endian,
        }) => squashfs_legacy::list(bytes, limits, major, minor, big_endian),
        Some(FsKind::Squashfs {
            major,
            minor,
            big_endian,
        }) => Err(Error::Unsupported {
            offset: 28,
            what: format!(
                "squashfs {major}.{minor} {}",
                if big_endian {
                    "big-endian"
                } else {
                    "little-endian"
                }
            ),
        }),
        Some(FsKind::Cramfs { big_endian }) => cramfs::list(bytes, limits, big_endian),
        Some(FsKind::Jffs2 { big_endian }) => jffs2::list(bytes, limits, big_endian),
        None => Err(Error::Unrecognised),
    }
}
