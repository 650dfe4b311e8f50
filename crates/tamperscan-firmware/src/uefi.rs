//! UEFI Platform Initialization firmware volumes (PI spec vol. 3): volume headers, FFS v2/v3
//! files, sections of every type, nested volumes and GUID-defined sections (LZMA, LZMA x86,
//! Tiano, Brotli, CRC32, signed), free space and pad files.
//!
//! The parser never fails as a whole once a volume header is valid: everything that does not
//! parse becomes an [`Issue`] with its offset, and the bytes stay covered by the hash of the
//! module around them. Files of one volume are processed in parallel; the result is in image
//! order whatever the thread count.

use crate::manifest::{FreeSpace, Issue, Module, ModuleKind, Volume};
use crate::{hex_sha256, Ctx, Out};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tamperscan_bytes::{Error, Guid, Reader};

const fn g(d1: u32, d2: u16, d3: u16, d4: [u8; 8]) -> Guid {
    Guid::from_fields(d1, d2, d3, d4)
}

/// `EFI_FIRMWARE_FILE_SYSTEM2_GUID`.
pub const FFS2: Guid = g(
    0x8C8C_E578,
    0x8A3D,
    0x4F1C,
    [0x99, 0x35, 0x89, 0x61, 0x85, 0xC3, 0x2D, 0xD3],
);
/// `EFI_FIRMWARE_FILE_SYSTEM3_GUID`.
pub const FFS3: Guid = g(
    0x5473_C07A,
    0x3DCB,
    0x4DCA,
    [0xBD, 0x6F, 0x1E, 0x96, 0x89, 0xE7, 0x34, 0x9A],
);
/// `EFI_FIRMWARE_FILE_SYSTEM_GUID` (FFS v1, PI 1.0 era).
pub const FFS1: Guid = g(
    0x7A93_54D9,
    0x0468,
    0x444A,
    [0x81, 0xCE, 0x0B, 0xF6, 0x17, 0xD8, 0x90, 0xDF],
);
/// `EFI_SYSTEM_NV_DATA_FV_GUID`: a volume holding NVRAM variable stores.
pub const NVRAM: Guid = g(
    0xFFF1_2B8D,
    0x7696,
    0x4C8B,
    [0xA9, 0x85, 0x27, 0x47, 0x07, 0x5B, 0x4F, 0x50],
);
/// EDK2 `LZMA_CUSTOM_DECOMPRESS_GUID`.
pub const LZMA: Guid = g(
    0xEE4E_5898,
    0x3914,
    0x4259,
    [0x9D, 0x6E, 0xDC, 0x7B, 0xD7, 0x94, 0x03, 0xCF],
);
/// EDK2 `LZMAF86_CUSTOM_DECOMPRESS_GUID` (LZMA then the x86 branch converter).
pub const LZMA_X86: Guid = g(
    0xD42A_E6BD,
    0x1352,
    0x4BFB,
    [0x90, 0x9A, 0xCA, 0x72, 0xA6, 0xEA, 0xE8, 0x89],
);
/// EDK2 `TIANO_CUSTOM_DECOMPRESS_GUID`.
pub const TIANO: Guid = g(
    0xA312_80AD,
    0x481E,
    0x41B6,
    [0x95, 0xE8, 0x12, 0x7F, 0x4C, 0x98, 0x47, 0x79],
);
/// EDK2 `BROTLI_CUSTOM_DECOMPRESS_GUID`.
pub const BROTLI: Guid = g(
    0x3D53_2050,
    0x5CDA,
    0x4FD0,
    [0x87, 0x9E, 0x0F, 0x7F, 0x63, 0x0D, 0x5A, 0xFB],
);
/// `EFI_CRC32_GUIDED_SECTION_EXTRACTION_GUID`.
pub const CRC32: Guid = g(
    0xFC1B_CDB0,
    0x7D31,
    0x49AA,
    [0x93, 0x6A, 0xA4, 0x60, 0x0D, 0x9D, 0xD0, 0x83],
);
/// `EFI_FIRMWARE_CONTENTS_SIGNED_GUID`.
pub const SIGNED: Guid = g(
    0x0F9D_89E8,
    0x9259,
    0x4F76,
    [0xA5, 0xAF, 0x0C, 0x89, 0xE3, 0x40, 0x23, 0xDF],
);

const FV_SIGNATURE_AT: usize = 0x28;
const FFS_PAD: u8 = 0xF0;
/// Files read from one volume (real volumes hold a few hundred).
const MAX_FILES_PER_VOLUME: usize = 20_000;
/// Section types listed per module (the hash covers every section whatever this says).
const MAX_SECTIONS_LISTED: usize = 64;
const FFS_RAW: u8 = 0x01;

/// The FFS file type in words (the names UEFITool uses, so reports read alike).
pub fn file_type_name(t: u8) -> &'static str {
    match t {
        0x00 => "All",
        0x01 => "Raw",
        0x02 => "Freeform",
        0x03 => "SEC core",
        0x04 => "PEI core",
        0x05 => "DXE core",
        0x06 => "PEI module",
        0x07 => "DXE driver",
        0x08 => "Combined PEI/DXE",
        0x09 => "Application",
        0x0A => "SMM module",
        0x0B => "Volume image",
        0x0C => "Combined SMM/DXE",
        0x0D => "SMM core",
        0x0E => "MM standalone module",
        0x0F => "MM standalone core",
        0xC0..=0xDF => "OEM",
        0xE0..=0xEF => "Debug",
        0xF0 => "Pad",
        _ => "FFS",
    }
}

/// The section type in words.
pub fn section_type_name(t: u8) -> &'static str {
    match t {
        0x01 => "Compressed",
        0x02 => "GUID defined",
        0x03 => "Disposable",
        0x10 => "PE32 image",
        0x11 => "PIC image",
        0x12 => "TE image",
        0x13 => "DXE dependency",
        0x14 => "Version",
        0x15 => "UI",
        0x16 => "16-bit image",
        0x17 => "Volume image",
        0x18 => "Freeform subtype GUID",
        0x19 => "Raw",
        0x1B => "PEI dependency",
        0x1C => "MM dependency",
        _ => "Unknown",
    }
}

/// Whether `data[at..]` starts with something shaped like a volume header (signature and sane
/// lengths); the full check is [`volume`]'s.
pub fn looks_like_volume(data: &[u8], at: usize) -> bool {
    let Some(h) = data.get(at..at.saturating_add(0x48)) else {
        return false;
    };
    if &h[FV_SIGNATURE_AT..FV_SIGNATURE_AT + 4] != b"_FVH" {
        return false;
    }
    let len = u64::from_le_bytes(h[0x20..0x28].try_into().unwrap_or([0; 8]));
    let hdr = u16::from_le_bytes([h[0x30], h[0x31]]);
    // Real headers (block map included) are well under 4 KiB.
    if !(0x48..=0x1000).contains(&hdr) || u64::from(hdr) > len || !matches!(h[0x37], 1 | 2) {
        return false;
    }
    // A "_FVH" inside compressed or random data is common enough: take it for a volume when the
    // file system is one the PI spec defines or the header checksum holds.
    let mut fs = [0u8; 16];
    fs.copy_from_slice(&h[0x10..0x20]);
    let fs = Guid(fs);
    if [FFS1, FFS2, FFS3, NVRAM].contains(&fs) {
        return true;
    }
    data.get(at..at + usize::from(hdr)).is_some_and(|hb| {
        hb.chunks_exact(2).fold(0u16, |s, w| {
            s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
        }) == 0
    })
}

/// Parses `data` as FFS files laid end to end without a volume around them (an `.ffs` file as
/// build tools write it); `None` unless the first file's header checksum holds.
pub(crate) fn bare_files(ctx: &Ctx, data: &[u8], place: Place, path: &str) -> Option<Out> {
    let h = data.get(..24)?;
    let sum = h.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    let size = u32::from_le_bytes([h[20], h[21], h[22], 0]) as usize;
    // An 8-bit checksum matches by chance one time in 256: also require a file type the PI
    // spec defines and the "data valid" state as build tools write it.
    if sum.wrapping_sub(h[23]).wrapping_sub(h[17]) != 0
        || size < 24
        || size > data.len()
        || h.iter().all(|&b| b == h[0])
        || !matches!(h[18], 0x01..=0x0F)
        || !matches!(h[23], 0xF8 | 0x07)
    {
        return None;
    }
    let mut out = Out::default();
    let (slots, free_from) = scan_files(data, 0, false, 0xFF, place, path, &mut out);
    if let Some(fs) = not_erased(
        data.get(free_from..).unwrap_or(&[]),
        0xFF,
        place.at(free_from),
        "after the last file",
    ) {
        out.free_space.push(fs);
    }
    let parts: Vec<Out> = slots
        .par_iter()
        .map(|s| file(ctx, data, s, place, path, 0xFF, 0))
        .collect();
    for p in parts {
        out.append(p);
    }
    Some(out)
}

/// Offsets (8-aligned) where a firmware volume header starts, in order, not overlapping.
pub fn find_volumes(data: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0usize;
    while let Some(p) = find(&data[from.min(data.len())..], b"_FVH") {
        let sig = from + p;
        from = sig + 4;
        let Some(at) = sig.checked_sub(FV_SIGNATURE_AT) else {
            continue;
        };
        if at % 8 != 0 || !looks_like_volume(data, at) {
            continue;
        }
        out.push(at);
        let len = read_u64(data, at + 0x20).unwrap_or(0);
        let end = at.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        from = from.max(end.min(data.len()));
    }
    out
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

fn align(v: usize, a: usize) -> usize {
    v.div_ceil(a).saturating_mul(a)
}

/// Where a buffer sits: its offset base and the compressed section it came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    /// Offset of `data[0]` in its buffer.
    pub base: u64,
    /// Image offset of the outermost compressed section, if this is decompressed data.
    pub stored_in: Option<u64>,
}

impl Place {
    fn at(self, off: usize) -> Place {
        Place {
            base: self.base + off as u64,
            stored_in: self.stored_in,
        }
    }
}

pub(crate) fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_string()
    } else {
        format!("{path}/{part}")
    }
}

fn issue(out: &mut Out, kind: &'static str, place: Place, path: &str, message: String) {
    out.issues.push(Issue {
        kind,
        offset: place.base,
        stored_in: place.stored_in,
        path: path.to_string(),
        message,
    });
}

struct FileSlot {
    off: usize,
    size: usize,
    header: usize,
    guid: Guid,
    kind: u8,
    attributes: u8,
    header_ok: bool,
    data_ok: bool,
    state: &'static str,
}

/// Parses the volume whose header starts at `data[0]` (`data` may run past the volume's end).
/// Fails only when the header itself is unusable; everything inside becomes modules and issues.
pub(crate) fn volume(
    ctx: &Ctx,
    data: &[u8],
    place: Place,
    parent: &str,
    depth: u32,
) -> Result<Out, Error> {
    let mut r = Reader::with_base(data, place.base);
    r.skip(16, "volume zero vector")?;
    let fs_guid = r.guid("volume file system GUID")?;
    let fv_len = r.u64_le("volume length")?;
    r.expect(b"_FVH", "volume signature")?;
    let attributes = r.u32_le("volume attributes")?;
    let hdr_len = usize::from(r.u16_le("volume header length")?);
    r.skip(2, "volume checksum")?;
    let ext_off = usize::from(r.u16_le("volume extended header offset")?);
    r.skip(1, "volume reserved byte")?;
    let _revision = r.u8("volume revision")?;
    if hdr_len < 0x48 || hdr_len % 2 != 0 {
        return Err(Error::invalid(
            place.base + 0x30,
            "volume header length",
            format!("{hdr_len} is below the 72-byte minimum or odd"),
        ));
    }
    if (fv_len as u128) < hdr_len as u128 {
        return Err(Error::invalid(
            place.base + 0x20,
            "volume length",
            format!("{fv_len} is shorter than the {hdr_len}-byte header"),
        ));
    }
    let mut out = Out::default();
    let header = data.get(..hdr_len).unwrap_or(&[]);
    let len = usize::try_from(fv_len)
        .unwrap_or(usize::MAX)
        .min(data.len());
    if (len as u64) < fv_len {
        issue(
            &mut out,
            "volume_truncated",
            place,
            parent,
            format!(
                "volume declares {fv_len} bytes but only {} remain",
                data.len()
            ),
        );
    }
    let checksum_ok = header.len() == hdr_len
        && header.chunks_exact(2).fold(0u16, |s, w| {
            s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
        }) == 0;
    let data = &data[..len];
    let erase = if attributes & 0x800 != 0 { 0xFF } else { 0x00 };
    let mut files_start = hdr_len;
    let mut name_guid = None;
    if ext_off != 0 {
        match (
            data.get(ext_off..ext_off + 16),
            data.get(ext_off + 16..ext_off + 20),
        ) {
            (Some(n), Some(sz)) if ext_off >= hdr_len => {
                let mut gb = [0u8; 16];
                gb.copy_from_slice(n);
                name_guid = Some(Guid(gb));
                let ext_size = u32::from_le_bytes([sz[0], sz[1], sz[2], sz[3]]) as usize;
                files_start = align(ext_off.saturating_add(ext_size.max(20)), 8);
                if files_start > len {
                    issue(
                        &mut out,
                        "volume_header",
                        place.at(ext_off + 16),
                        parent,
                        format!("extended header size {ext_size} runs past the {len}-byte volume: no file can follow it"),
                    );
                }
            }
            _ => issue(
                &mut out,
                "volume_header",
                place.at(0x34),
                parent,
                format!("extended header offset {ext_off:#x} is inside the {hdr_len}-byte header or past the {len}-byte volume"),
            ),
        }
    }
    let path = join(parent, &name_guid.unwrap_or(fs_guid).to_string());
    if !checksum_ok {
        issue(
            &mut out,
            "volume_checksum",
            place,
            &path,
            "volume header checksum does not sum to zero".into(),
        );
    }
    let fs = if fs_guid == FFS2 || fs_guid == FFS1 {
        "FFSv2"
    } else if fs_guid == FFS3 {
        "FFSv3"
    } else if fs_guid == NVRAM {
        "NVRAM"
    } else {
        "unknown"
    };
    let vol_index = out.volumes.len();
    out.volumes.push(Volume {
        path: path.clone(),
        offset: place.base,
        stored_in: place.stored_in,
        size: fv_len,
        fs_guid,
        fs,
        name_guid,
        header_checksum_ok: checksum_ok,
        files: 0,
        free_bytes: 0,
        header_sha256: hex_sha256(data.get(..files_start.min(len)).unwrap_or(&[])),
    });
    if depth > ctx.limits.max_depth {
        issue(
            &mut out,
            "nesting_too_deep",
            place,
            &path,
            format!("volumes nested deeper than {}", ctx.limits.max_depth),
        );
        return Ok(out);
    }
    let body = data.get(files_start..).unwrap_or(&[]);
    let body_place = place.at(files_start);
    match fs {
        "FFSv2" | "FFSv3" => {}
        "NVRAM" => {
            crate::nvram::volume_body(ctx, body, body_place, &path, &mut out);
            return Ok(out);
        }
        _ => {
            out.modules.push(raw_module(
                body,
                body_place,
                &path,
                "Volume data (unknown file system)",
            ));
            return Ok(out);
        }
    }
    let (slots, free_from) = scan_files(
        data,
        files_start,
        fs == "FFSv3",
        erase,
        place,
        &path,
        &mut out,
    );
    let free_len = data.len().saturating_sub(free_from);
    if let Some(v) = out.volumes.get_mut(vol_index) {
        v.files = slots.len();
        v.free_bytes = free_len as u64;
    }
    if let Some(fs) = not_erased(
        data.get(free_from..).unwrap_or(&[]),
        erase,
        place.at(free_from),
        &format!("free space of volume {path}"),
    ) {
        out.free_space.push(fs);
    }
    if !ctx.take_modules(slots.len()) {
        issue(
            &mut out,
            "too_many_modules",
            place,
            &path,
            format!(
                "this image holds more than {} modules; this volume is hashed whole",
                crate::MAX_MODULES
            ),
        );
        out.modules.push(raw_module(
            data,
            place,
            &path,
            "Volume (not parsed: module cap)",
        ));
        return Ok(out);
    }
    let parts: Vec<Out> = slots
        .par_iter()
        .map(|s| file(ctx, data, s, place, &path, erase, depth))
        .collect();
    for p in parts {
        out.append(p);
    }
    Ok(out)
}

/// Walks the FFS file headers of a volume; returns the files and where free space begins.
fn scan_files(
    data: &[u8],
    start: usize,
    ffs3: bool,
    erase: u8,
    place: Place,
    path: &str,
    out: &mut Out,
) -> (Vec<FileSlot>, usize) {
    let mut slots = Vec::new();
    let mut pos = align(start, 8);
    while pos < data.len() {
        let Some(h) = data.get(pos..pos + 24) else {
            break;
        };
        if h.iter().all(|&b| b == erase) {
            return (slots, pos);
        }
        let mut gb = [0u8; 16];
        gb.copy_from_slice(&h[..16]);
        let guid = Guid(gb);
        let kind = h[18];
        let attributes = h[19];
        let mut size = u32::from_le_bytes([h[20], h[21], h[22], 0]) as usize;
        let mut header = 24;
        if ffs3 && attributes & 0x01 != 0 {
            match read_u64(data, pos + 24) {
                Some(ext) => {
                    size = usize::try_from(ext).unwrap_or(usize::MAX);
                    header = 32;
                }
                None => {
                    issue(
                        out,
                        "file_truncated",
                        place.at(pos),
                        path,
                        "large-file header is cut short".into(),
                    );
                    return (slots, data.len());
                }
            }
        }
        let end = pos.saturating_add(size);
        if size < header || end > data.len() {
            issue(
                out,
                "file_size",
                place.at(pos),
                path,
                if size < header {
                    format!("FFS file {guid} declares {size} bytes, less than its own {header}-byte header (the rest of the volume is kept as one raw span)")
                } else {
                    format!(
                        "FFS file {guid} declares {size} bytes; {} remain in the volume (the rest of the volume is kept as one raw span)",
                        data.len() - pos
                    )
                },
            );
            out.modules.push(raw_module(
                &data[pos..],
                place.at(pos),
                path,
                "Unparsed volume data",
            ));
            return (slots, data.len());
        }
        let hbytes = &data[pos..pos + header];
        let state_raw = h[23];
        let file_ck = h[17];
        let sum = hbytes.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        let header_ok = sum.wrapping_sub(state_raw).wrapping_sub(file_ck) == 0;
        let data_ok = if attributes & 0x40 != 0 {
            data[pos + header..end]
                .iter()
                .fold(file_ck, |s, b| s.wrapping_add(*b))
                == 0
        } else {
            // PI spec: 0xAA; FFS v1 (Framework) images use 0x5A.
            file_ck == 0xAA || file_ck == 0x5A
        };
        let state = if erase == 0xFF { !state_raw } else { state_raw };
        let state = match 7 - state.leading_zeros().min(7) {
            _ if state == 0 => "none",
            5 => "header invalid",
            4 => "deleted",
            3 => "marked for update",
            2 => "valid",
            1 => "header only",
            0 => "under construction",
            _ => "unknown",
        };
        if slots.len() >= MAX_FILES_PER_VOLUME {
            issue(out, "too_many_files", place.at(pos), path, format!("more than {MAX_FILES_PER_VOLUME} files in one volume; the rest is kept as one raw span"));
            out.modules.push(raw_module(
                &data[pos..],
                place.at(pos),
                path,
                "Unparsed volume data",
            ));
            return (slots, data.len());
        }
        slots.push(FileSlot {
            off: pos,
            size,
            header,
            guid,
            kind,
            attributes,
            header_ok,
            data_ok,
            state,
        });
        pos = align(end, 8);
    }
    (slots, pos.min(data.len()))
}

/// The non-erased span of `bytes`, if any.
pub(crate) fn not_erased(bytes: &[u8], erase: u8, place: Place, within: &str) -> Option<FreeSpace> {
    // Word at a time: free space is megabytes of erased bytes in real images.
    let word = u64::from_ne_bytes([erase; 8]);
    let chunks = bytes.chunks_exact(8);
    let tail_at = bytes.len() - chunks.remainder().len();
    let first_chunk = chunks
        .clone()
        .position(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) != word);
    let from = first_chunk.map_or(tail_at, |c| c * 8);
    let first = from + bytes[from..].iter().position(|&b| b != erase)?;
    let last = bytes.iter().rposition(|&b| b != erase)?;
    let span = &bytes[first..=last];
    Some(FreeSpace {
        within: within.to_string(),
        offset: place.base + first as u64,
        stored_in: place.stored_in,
        size: span.len() as u64,
        sha256: hex_sha256(span),
        preview: tamperscan_bytes::hex(&span[..span.len().min(16)]),
    })
}

/// A module for bytes with no structure tamperscan reads.
pub(crate) fn raw_module(bytes: &[u8], place: Place, path: &str, what: &str) -> Module {
    let h = hex_sha256(bytes);
    Module {
        key: String::new(),
        kind: ModuleKind::Raw,
        guid: None,
        name: Some(format!("{what} @{:#x}", place.base)),
        version: None,
        file_type: what.to_string(),
        type_raw: None,
        path: path.to_string(),
        occurrence: 0,
        offset: place.base,
        stored_in: place.stored_in,
        size: bytes.len() as u64,
        sha256: h.clone(),
        content_sha256: h,
        pe32_sha256: Vec::new(),
        te_sha256: Vec::new(),
        sections: Vec::new(),
        checksum_ok: true,
        content: Vec::new(),
    }
}

/// What one file's sections add up to.
struct FileAcc {
    content: Sha256,
    keep: Option<Vec<u8>>,
    pe32: Vec<String>,
    te: Vec<String>,
    sections: Vec<String>,
    name: Option<String>,
    version: Option<String>,
    checksum_ok: bool,
}

impl FileAcc {
    fn feed(&mut self, bytes: &[u8]) {
        self.content.update(bytes);
        if let Some(k) = &mut self.keep {
            k.extend_from_slice(bytes);
        }
    }
}

fn file(
    ctx: &Ctx,
    data: &[u8],
    s: &FileSlot,
    place: Place,
    vol_path: &str,
    erase: u8,
    depth: u32,
) -> Out {
    let mut out = Out::default();
    let bytes = &data[s.off..s.off + s.size];
    let body = &bytes[s.header..];
    let fplace = place.at(s.off);
    let path = join(vol_path, &s.guid.to_string());
    let mut acc = FileAcc {
        content: Sha256::new(),
        keep: ctx.limits.keep_content.then(Vec::new),
        pe32: Vec::new(),
        te: Vec::new(),
        sections: Vec::new(),
        name: None,
        version: None,
        checksum_ok: s.header_ok && s.data_ok,
    };
    if !s.header_ok {
        issue(
            &mut out,
            "file_header_checksum",
            fplace,
            &path,
            format!("FFS file {} header checksum is wrong", s.guid),
        );
    }
    if !s.data_ok {
        issue(
            &mut out,
            "file_data_checksum",
            fplace,
            &path,
            format!(
                "FFS file {} data checksum is wrong (attributes {:#04x})",
                s.guid, s.attributes
            ),
        );
    }
    if s.state != "valid" && s.state != "marked for update" {
        issue(
            &mut out,
            "file_state",
            fplace,
            &path,
            format!("FFS file {} is in state '{}'", s.guid, s.state),
        );
    }
    let mut nested = Out::default();
    if s.kind == FFS_PAD {
        if let Some(fs) = not_erased(
            body,
            erase,
            fplace.at(s.header),
            &format!("pad file in {vol_path}"),
        ) {
            out.free_space.push(fs);
        }
        acc.feed(body);
    } else if s.kind == FFS_RAW {
        acc.feed(body);
        if looks_like_volume(body, 0) {
            nested_volume(ctx, body, fplace.at(s.header), &path, depth, &mut nested);
        }
    } else {
        sections(
            ctx,
            body,
            fplace.at(s.header),
            &path,
            depth,
            &mut acc,
            &mut nested,
        );
    }
    let mut file_type = file_type_name(s.kind).to_string();
    if s.state == "deleted" || s.state == "header invalid" {
        file_type.push_str(" (deleted)");
    }
    out.modules.push(Module {
        key: String::new(),
        kind: ModuleKind::FfsFile,
        guid: Some(s.guid),
        name: acc.name,
        version: acc.version,
        file_type,
        type_raw: Some(s.kind),
        path: vol_path.to_string(),
        occurrence: 0,
        offset: fplace.base,
        stored_in: fplace.stored_in,
        size: s.size as u64,
        sha256: hex_sha256(bytes),
        content_sha256: tamperscan_bytes::hex(&acc.content.finalize()),
        pe32_sha256: acc.pe32,
        te_sha256: acc.te,
        sections: acc.sections,
        checksum_ok: acc.checksum_ok,
        content: acc.keep.unwrap_or_default(),
    });
    out.append(nested);
    out
}

fn nested_volume(ctx: &Ctx, data: &[u8], place: Place, path: &str, depth: u32, out: &mut Out) {
    match volume(ctx, data, place, path, depth + 1) {
        Ok(v) => out.append(v),
        Err(e) => issue(
            out,
            "volume_unparseable",
            place,
            path,
            format!("nested volume: {e}"),
        ),
    }
}

fn utf16z(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

fn sections(
    ctx: &Ctx,
    data: &[u8],
    place: Place,
    path: &str,
    depth: u32,
    acc: &mut FileAcc,
    out: &mut Out,
) {
    if depth > ctx.limits.max_depth {
        issue(
            out,
            "nesting_too_deep",
            place,
            path,
            format!(
                "sections nested deeper than {}; the rest is hashed, not parsed",
                ctx.limits.max_depth
            ),
        );
        acc.feed(data);
        return;
    }
    if !ctx.take_modules(1) {
        return;
    }
    let mut pos = 0usize;
    loop {
        if acc.sections.len() > MAX_SECTIONS_LISTED {
            acc.sections.truncate(MAX_SECTIONS_LISTED);
            acc.sections.push("…".into());
        }
        pos = align(pos, 4);
        if pos >= data.len() {
            break;
        }
        let rest = &data[pos..];
        let splace = place.at(pos);
        if rest.len() < 4 {
            if rest.iter().any(|&b| b != 0 && b != 0xFF) {
                issue(
                    out,
                    "section_trailing",
                    splace,
                    path,
                    format!("{} stray bytes after the last section", rest.len()),
                );
            }
            break;
        }
        let mut size = u32::from_le_bytes([rest[0], rest[1], rest[2], 0]) as usize;
        let kind = rest[3];
        let mut hdr = 4;
        if size == 0xFF_FFFF {
            match rest.get(4..8) {
                Some(b) => {
                    size = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                    hdr = 8;
                }
                None => {
                    issue(
                        out,
                        "section_truncated",
                        splace,
                        path,
                        "extended section header cut short".into(),
                    );
                    break;
                }
            }
        }
        if size < hdr || size > rest.len() {
            if rest.iter().all(|&b| b == 0xFF) {
                break;
            }
            issue(
                out,
                "section_size",
                splace,
                path,
                format!(
                    "section of type {kind:#04x} declares {size} bytes; {} remain",
                    rest.len()
                ),
            );
            acc.feed(rest);
            break;
        }
        let sec = &rest[..size];
        let body = &sec[hdr..];
        let bplace = splace.at(hdr);
        let name = section_type_name(kind);
        match kind {
            0x01 => compressed(ctx, sec, hdr, splace, path, depth, acc, out),
            0x02 => guided(ctx, sec, hdr, splace, path, depth, acc, out),
            0x17 => {
                acc.sections.push(name.to_string());
                nested_volume(ctx, body, bplace, path, depth, out);
            }
            _ => {
                acc.sections.push(name.to_string());
                acc.feed(body);
                match kind {
                    0x10 => acc.pe32.push(hex_sha256(body)),
                    0x12 => acc.te.push(hex_sha256(body)),
                    0x15 if acc.name.is_none() => {
                        acc.name = Some(utf16z(body));
                    }
                    0x14 if acc.version.is_none() && body.len() >= 2 => {
                        acc.version = Some(utf16z(&body[2..]));
                    }
                    0x19 if looks_like_volume(body, 0) => {
                        nested_volume(ctx, body, bplace, path, depth, out);
                    }
                    _ => {}
                }
            }
        }
        pos += size;
    }
}

#[allow(clippy::too_many_arguments)]
fn compressed(
    ctx: &Ctx,
    sec: &[u8],
    hdr: usize,
    place: Place,
    path: &str,
    depth: u32,
    acc: &mut FileAcc,
    out: &mut Out,
) {
    let Some(h) = sec.get(hdr..hdr + 5) else {
        issue(
            out,
            "section_truncated",
            place,
            path,
            "compression section header cut short".into(),
        );
        return;
    };
    let declared = u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let ctype = h[4];
    let payload = &sec[hdr + 5..];
    let pplace = place.at(hdr + 5);
    match ctype {
        0 => {
            acc.sections.push("Compressed (none)".into());
            if payload.len() != declared {
                issue(
                    out,
                    "section_size",
                    place,
                    path,
                    format!(
                        "uncompressed section holds {} bytes but declares {declared}",
                        payload.len()
                    ),
                );
            }
            sections(ctx, payload, pplace, path, depth + 1, acc, out);
        }
        1 => {
            acc.sections.push("Compressed (EFI)".into());
            // Type 1 is EFI compression; some vendors store Tiano under it: try both, and
            // report a failure only when neither reads it.
            let size = Some(declared as u64);
            let mut scratch = Out::default();
            let result = ctx
                .decompress(place, path, &mut scratch, size, |limit| {
                    tamperscan_decompress::efi(payload, limit)
                })
                .or_else(|| {
                    ctx.decompress(place, path, &mut scratch, size, |limit| {
                        tamperscan_decompress::tiano(payload, limit)
                    })
                });
            if result.is_none() {
                out.append(scratch);
            }
            unpacked(ctx, result, declared, place, path, depth, acc, out);
        }
        2 => {
            acc.sections.push("Compressed (LZMA)".into());
            let result = ctx.decompress(place, path, out, Some(declared as u64), |limit| {
                tamperscan_decompress::lzma(payload, limit)
            });
            unpacked(ctx, result, declared, place, path, depth, acc, out);
        }
        other => {
            acc.sections
                .push(format!("Compressed (unknown type {other})"));
            acc.feed(payload);
            issue(out, "unknown_compression", place, path, format!("compression type {other} is not defined by the PI specification; contents not inspected"));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn unpacked(
    ctx: &Ctx,
    result: Option<Vec<u8>>,
    declared: usize,
    place: Place,
    path: &str,
    depth: u32,
    acc: &mut FileAcc,
    out: &mut Out,
) {
    let Some(buf) = result else { return };
    if declared != 0 && buf.len() != declared {
        issue(
            out,
            "section_size",
            place,
            path,
            format!(
                "decompressed to {} bytes but the section declares {declared}",
                buf.len()
            ),
        );
    }
    let inner = Place {
        base: 0,
        stored_in: Some(place.stored_in.unwrap_or(place.base)),
    };
    if depth + 1 > ctx.limits.max_depth {
        issue(
            out,
            "nesting_too_deep",
            place,
            path,
            format!("sections nested deeper than {}", ctx.limits.max_depth),
        );
        acc.feed(&buf);
        return;
    }
    sections(ctx, &buf, inner, path, depth + 1, acc, out);
}

/// A decompressor of `tamperscan-decompress`: input and output limit.
type Decoder = fn(&[u8], usize) -> Result<Vec<u8>, tamperscan_decompress::Error>;

#[allow(clippy::too_many_arguments)]
fn guided(
    ctx: &Ctx,
    sec: &[u8],
    hdr: usize,
    place: Place,
    path: &str,
    depth: u32,
    acc: &mut FileAcc,
    out: &mut Out,
) {
    let mut r = Reader::with_base(sec, place.base);
    let parsed = (|| -> Result<(Guid, usize, u16), Error> {
        r.skip(hdr, "section header")?;
        let guid = r.guid("GUID-defined section GUID")?;
        let data_offset = usize::from(r.u16_le("GUID-defined section data offset")?);
        let attributes = r.u16_le("GUID-defined section attributes")?;
        if data_offset < hdr + 20 || data_offset > sec.len() {
            return Err(Error::invalid(
                place.base + hdr as u64 + 16,
                "GUID-defined section data offset",
                format!("{data_offset} lies outside the {}-byte section", sec.len()),
            ));
        }
        Ok((guid, data_offset, attributes))
    })();
    let (guid, data_offset, attributes) = match parsed {
        Ok(v) => v,
        Err(e) => {
            acc.sections.push("GUID defined (unreadable)".into());
            acc.feed(sec);
            issue(out, "section_header", place, path, e.to_string());
            return;
        }
    };
    let payload = &sec[data_offset..];
    let pplace = place.at(data_offset);
    let decoder: Option<(&str, Decoder)> = if guid == LZMA {
        Some(("LZMA", tamperscan_decompress::lzma))
    } else if guid == LZMA_X86 {
        Some(("LZMA x86", tamperscan_decompress::lzma_x86))
    } else if guid == TIANO {
        Some(("Tiano", tamperscan_decompress::tiano))
    } else if guid == BROTLI {
        Some(("Brotli", tamperscan_decompress::brotli_edk2))
    } else {
        None
    };
    if let Some((algo, decode)) = decoder {
        acc.sections.push(format!("GUID defined ({algo})"));
        let result = ctx.decompress(place, path, out, declared_size(guid, payload), |limit| {
            decode(payload, limit)
        });
        unpacked(ctx, result, 0, place, path, depth, acc, out);
    } else if guid == CRC32 {
        acc.sections.push("GUID defined (CRC32)".into());
        let stored = sec
            .get(hdr + 20..hdr + 24)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let actual = crc32fast::hash(payload);
        if stored != Some(actual) {
            acc.checksum_ok = false;
            issue(
                out,
                "crc32_mismatch",
                place,
                path,
                format!(
                    "CRC32 section stores {} but its data hashes to {actual:08x}",
                    stored
                        .map(|s| format!("{s:08x}"))
                        .unwrap_or_else(|| "nothing".into())
                ),
            );
        }
        sections(ctx, payload, pplace, path, depth + 1, acc, out);
    } else if guid == SIGNED {
        acc.sections
            .push("GUID defined (signed, signature not verified)".into());
        sections(ctx, payload, pplace, path, depth + 1, acc, out);
    } else if attributes & 0x01 == 0 {
        acc.sections.push(format!("GUID defined ({guid})"));
        sections(ctx, payload, pplace, path, depth + 1, acc, out);
    } else {
        acc.sections
            .push(format!("GUID defined ({guid}, not understood)"));
        acc.feed(payload);
        issue(out, "unknown_guided_section", place, path, format!("GUID-defined section {guid} needs processing tamperscan does not know; its contents are hashed but not inspected"));
    }
}

/// The output size a GUID-defined section's header declares, to reserve the decompression
/// budget before decoding: LZMA's u64 at offset 5, EDK2 Brotli's leading u64, Tiano's u32 at 4.
fn declared_size(guid: Guid, payload: &[u8]) -> Option<u64> {
    let u64_at = |at: usize| {
        payload
            .get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_le_bytes)
    };
    if guid == LZMA || guid == LZMA_X86 {
        u64_at(5).filter(|&n| n != u64::MAX)
    } else if guid == BROTLI {
        u64_at(0)
    } else if guid == TIANO {
        payload
            .get(4..8)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u64::from(u32::from_le_bytes(b)))
    } else {
        None
    }
}
