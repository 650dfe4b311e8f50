//! The module manifest: what an image is made of, with a stable identity and hashes for every
//! module, in the order the modules sit in the image.

use serde::{Serialize, Serializer};
use tamperscan_bytes::Guid;

/// Schema name written in every manifest's JSON.
pub const MANIFEST_SCHEMA: &str = "tamperscan.firmware.manifest/1";

/// Everything tamperscan read out of one firmware image.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Manifest {
    /// [`MANIFEST_SCHEMA`].
    pub schema: &'static str,
    /// The image as a whole.
    pub image: ImageInfo,
    /// Flash regions and partitions (Intel flash descriptor regions, ME partitions, BMC flash
    /// partitions from a device tree), in offset order.
    pub regions: Vec<Region>,
    /// Every firmware volume found, nested ones included, in the order they were found.
    pub volumes: Vec<Volume>,
    /// Every module (FFS file, FIT sub-image, legacy u-boot image, file in a root filesystem,
    /// unstructured region), containers before what they contain.
    pub modules: Vec<Module>,
    /// UEFI variables from NVRAM stores.
    pub variables: Vec<Variable>,
    /// Bytes that should be erased (free space of a volume, pad files, gaps) but are not.
    pub free_space: Vec<FreeSpace>,
    /// Every hash stored in a FIT image, checked.
    pub fit_hashes: Vec<FitHash>,
    /// Anything that did not parse cleanly, with where it was.
    pub issues: Vec<Issue>,
}

/// The image as a whole.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageInfo {
    /// Size in bytes.
    pub size: u64,
    /// sha256 of every byte, lowercase hex.
    pub sha256: String,
    /// What the image was recognised as (`uefi-volumes`, `intel-flash`, `fit`, ...).
    pub format: String,
}

/// A region of a flash image.
#[derive(Debug, Clone, Serialize)]
pub struct Region {
    /// Region or partition name (`BIOS`, `ME`, `u-boot`, `FTPR`, ...).
    pub name: String,
    /// Where the name came from (`intel-flash-descriptor`, `me-fpt`, `device-tree`).
    pub source: String,
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub size: u64,
    /// sha256 of the region's bytes when it lies inside the image.
    pub sha256: Option<String>,
}

/// A UEFI firmware volume.
#[derive(Debug, Clone, Serialize)]
pub struct Volume {
    /// Container path of the volume itself (see [`Module::path`]).
    pub path: String,
    /// Offset of the volume header in its buffer.
    pub offset: u64,
    /// Image offset of the compressed section this volume was unpacked from, if any.
    pub stored_in: Option<u64>,
    /// `FvLength`.
    pub size: u64,
    /// File system GUID.
    #[serde(serialize_with = "guid_text")]
    pub fs_guid: Guid,
    /// File system in words (`FFSv2`, `FFSv3`, `NVRAM`, `unknown`).
    pub fs: &'static str,
    /// The volume's own name GUID from its extended header, if any.
    #[serde(serialize_with = "opt_guid_text")]
    pub name_guid: Option<Guid>,
    /// Whether the header checksum holds.
    pub header_checksum_ok: bool,
    /// Number of FFS files (pad files included).
    pub files: usize,
    /// Free space at the end of the volume, in bytes.
    pub free_bytes: u64,
    /// sha256 of the header and extended header (everything before the first file).
    pub header_sha256: String,
}

/// What kind of thing a module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleKind {
    /// A UEFI FFS file.
    FfsFile,
    /// A stand-alone PE/COFF executable (an option ROM driver, a GOP driver).
    PeImage,
    /// A sub-image of a U-Boot FIT.
    FitImage,
    /// A legacy U-Boot image.
    UbootImage,
    /// A flattened device tree.
    DeviceTree,
    /// A file in a root filesystem (squashfs, cramfs, JFFS2).
    FsFile,
    /// A span of bytes with no structure tamperscan can read (hashed whole).
    Raw,
}

/// One module of an image.
#[derive(Debug, Clone, Serialize)]
pub struct Module {
    /// Stable identity: container path, GUID or name, and occurrence index (`#0`, `#1`, ...),
    /// identical for the same module in two builds of the same firmware.
    pub key: String,
    /// What it is.
    pub kind: ModuleKind,
    /// FFS file GUID (upper-case canonical text in JSON).
    #[serde(serialize_with = "opt_guid_text")]
    pub guid: Option<Guid>,
    /// Name: the UI section of an FFS file, a FIT image's node name, a file's path.
    pub name: Option<String>,
    /// Version string (FFS version section, u-boot image name).
    pub version: Option<String>,
    /// Type in words (`DXE driver`, `PEI module`, `kernel`, `regular file`, ...).
    pub file_type: String,
    /// Raw FFS type byte, when the module is an FFS file.
    pub type_raw: Option<u8>,
    /// Containers from the outside in, joined by `/`: volume name GUIDs and file GUIDs for UEFI,
    /// FIT or filesystem names for BMC images. Compression is transparent.
    pub path: String,
    /// Index among modules with the same path and GUID (or name): 0 for the first.
    pub occurrence: u32,
    /// Offset of the module in the buffer it sits in.
    pub offset: u64,
    /// Image offset of the compressed section the module was unpacked from, if any.
    pub stored_in: Option<u64>,
    /// Size in bytes as stored (headers included).
    pub size: u64,
    /// sha256 of the bytes as stored, lowercase hex.
    pub sha256: String,
    /// sha256 of the content with every compression undone (the leaf sections' bodies in
    /// order, nested volumes excluded), lowercase hex; differs from `sha256` only in meaning
    /// for compressed modules, and catches a module re-compressed with other settings.
    pub content_sha256: String,
    /// sha256 of each PE32 section body.
    pub pe32_sha256: Vec<String>,
    /// sha256 of each TE section body.
    pub te_sha256: Vec<String>,
    /// Section types in order, with the GUIDed section's algorithm (`GUID defined (LZMA)`).
    pub sections: Vec<String>,
    /// Whether the module's own checksums hold (FFS header/data checksums, CRCs).
    pub checksum_ok: bool,
    /// The decompressed content itself, kept only when [`crate::Limits::keep_content`] is set
    /// (byte-pattern rules need it).
    #[serde(skip)]
    pub content: Vec<u8>,
}

/// A UEFI variable from an NVRAM store.
#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    /// Name (UTF-16 decoded).
    pub name: String,
    /// Vendor GUID.
    #[serde(serialize_with = "guid_text")]
    pub guid: Guid,
    /// Attributes in words (`NV+BS+RT+TA`).
    pub attributes: String,
    /// `valid`, `deleted`, `in_transition` or `header_only`.
    pub state: String,
    /// Offset of the variable header in its buffer.
    pub offset: u64,
    /// Data length.
    pub size: u64,
    /// sha256 of the data.
    pub sha256: String,
    /// For signature databases (PK, KEK, db, dbx): one line per entry (`X509 <sha256>`,
    /// `SHA256 <hash>`).
    pub signatures: Vec<String>,
}

/// Bytes that should be erased but hold data.
#[derive(Debug, Clone, Serialize)]
pub struct FreeSpace {
    /// Where: the volume path, `pad file <GUID>` or `gap`.
    pub within: String,
    /// First non-erased byte.
    pub offset: u64,
    /// Image offset of the compressed section this sits in, if any.
    pub stored_in: Option<u64>,
    /// From the first to the last non-erased byte.
    pub size: u64,
    /// sha256 of those bytes.
    pub sha256: String,
    /// The first bytes, hex, to show a person.
    pub preview: String,
}

/// One hash stored in a FIT image, checked against the sub-image.
#[derive(Debug, Clone, Serialize)]
pub struct FitHash {
    /// FIT sub-image node name.
    pub image: String,
    /// Algorithm (`sha256`, `crc32`, ...).
    pub algo: String,
    /// Stored value, hex.
    pub expected: String,
    /// Computed value, hex (empty when the algorithm is not supported).
    pub actual: String,
    /// Whether they match.
    pub ok: bool,
}

/// Something that did not parse cleanly.
#[derive(Debug, Clone, Serialize)]
pub struct Issue {
    /// Stable kind (`volume_checksum`, `file_checksum`, `decompress_failed`, ...).
    pub kind: &'static str,
    /// Where, in the buffer named by `stored_in`.
    pub offset: u64,
    /// Image offset of the compressed section, if the problem is inside one.
    pub stored_in: Option<u64>,
    /// Container path.
    pub path: String,
    /// In words.
    pub message: String,
}

pub(crate) fn guid_text<S: Serializer>(g: &Guid, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(g)
}

pub(crate) fn opt_guid_text<S: Serializer>(g: &Option<Guid>, s: S) -> Result<S::Ok, S::Error> {
    match g {
        Some(g) => s.collect_str(g),
        None => s.serialize_none(),
    }
}

impl Manifest {
    /// Modules that are not pad files.
    pub fn modules_nonpad(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().filter(|m| m.type_raw != Some(0xF0))
    }

    /// Gives every module its occurrence index and key, in image order.
    pub(crate) fn assign_keys(&mut self) {
        let mut seen: std::collections::HashMap<(String, String), u32> = Default::default();
        for m in &mut self.modules {
            // `/` separates containers in keys, so names (paths of files, archive members)
            // have theirs escaped: two different modules never share a key.
            let ident = match (&m.guid, &m.name) {
                (Some(g), _) => g.to_string(),
                (None, Some(n)) => n.replace('%', "%25").replace('/', "%2F"),
                (None, None) => format!("{:?}@{:#x}", m.kind, m.offset),
            };
            let n = seen.entry((m.path.clone(), ident.clone())).or_insert(0);
            m.occurrence = *n;
            *n += 1;
            m.key = if m.path.is_empty() {
                format!("{ident}#{}", m.occurrence)
            } else {
                format!("{}/{ident}#{}", m.path, m.occurrence)
            };
        }
    }
}
