//! Writes UEFI sections, FFS files and firmware volumes: the project's own image writer, used
//! by the demo fleet and by tests that make tampered copies of real images. Synthetic output
//! only; nothing here patches a live system.

use tamperscan_bytes::Guid;

/// A section: common header (24-bit size, type) and body, extended header when it is large.
pub fn section(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(body.len() + 8);
    let size = body.len() + 4;
    if size < 0xFF_FFFF {
        s.extend_from_slice(&(size as u32).to_le_bytes()[..3]);
        s.push(kind);
    } else {
        s.extend_from_slice(&[0xFF, 0xFF, 0xFF, kind]);
        s.extend_from_slice(&((body.len() + 8) as u32).to_le_bytes());
    }
    s.extend_from_slice(body);
    s
}

/// A UI (name) section.
pub fn ui_section(name: &str) -> Vec<u8> {
    let mut body: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    body.extend_from_slice(&[0, 0]);
    section(0x15, &body)
}

/// Sections laid end to end, each 4-byte aligned.
pub fn sections(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out.extend_from_slice(p);
    }
    out
}

/// An FFS v2 file with valid header checksum, fixed data checksum (0xAA) and state
/// "data valid" for an erase polarity of 1.
pub fn ffs_file(guid: Guid, kind: u8, data: &[u8]) -> Vec<u8> {
    let size = data.len() + 24;
    let mut h = Vec::with_capacity(size);
    h.extend_from_slice(&guid.0);
    h.extend_from_slice(&[0, 0]); // integrity check, filled below
    h.push(kind);
    h.push(0); // attributes
    h.extend_from_slice(&(size as u32).to_le_bytes()[..3]);
    h.push(0); // state, excluded from the header checksum
    let sum = h.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    h[16] = 0u8.wrapping_sub(sum);
    h[17] = 0xAA;
    h[23] = 0xF8; // ~(construction | header valid | data valid)
    h.extend_from_slice(data);
    h
}

/// A firmware volume (FFS v2, erase polarity 1) of exactly `size` bytes holding `files`, with
/// an extended header naming it `name`; the rest is free space (0xFF).
///
/// Returns `None` when the files do not fit.
pub fn volume(name: Guid, files: &[Vec<u8>], size: usize) -> Option<Vec<u8>> {
    let hdr_len = 0x48usize;
    let mut v = vec![0u8; hdr_len];
    v[0x10..0x20].copy_from_slice(&crate::uefi::FFS2.0);
    v[0x20..0x28].copy_from_slice(&(size as u64).to_le_bytes());
    v[0x28..0x2C].copy_from_slice(b"_FVH");
    v[0x2C..0x30].copy_from_slice(&0x0004_FEFFu32.to_le_bytes()); // read/write/lock caps, erase polarity 1, 8-byte alignment
    v[0x30..0x32].copy_from_slice(&(hdr_len as u16).to_le_bytes());
    v[0x34..0x36].copy_from_slice(&(hdr_len as u16).to_le_bytes()); // extended header right after
    v[0x37] = 2;
    let blocks = (size / 0x1000).max(1) as u32;
    v[0x38..0x3C].copy_from_slice(&blocks.to_le_bytes());
    v[0x3C..0x40].copy_from_slice(&0x1000u32.to_le_bytes());
    let sum = v[..hdr_len]
        .chunks_exact(2)
        .fold(0u16, |s, w| s.wrapping_add(u16::from_le_bytes([w[0], w[1]])));
    let ck = 0u16.wrapping_sub(sum).to_le_bytes();
    v[0x32] = ck[0];
    v[0x33] = ck[1];
    v.extend_from_slice(&name.0);
    v.extend_from_slice(&20u32.to_le_bytes());
    for f in files {
        while v.len() % 8 != 0 {
            v.push(0xFF);
        }
        v.extend_from_slice(f);
    }
    if v.len() > size {
        return None;
    }
    v.resize(size, 0xFF);
    Some(v)
}

/// Writes `file` at the start of a volume's free space (`free_start`, 8-aligned, as the
/// manifest's volume reports it) if it fits before `volume_end`; returns the offset written at.
/// Used to make injected-module test images.
pub fn inject(image: &mut [u8], free_start: usize, volume_end: usize, file: &[u8]) -> Option<usize> {
    let at = free_start.div_ceil(8) * 8;
    if at.checked_add(file.len())? > volume_end {
        return None;
    }
    image.get_mut(at..at + file.len())?.copy_from_slice(file);
    Some(at)
}
