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
    let sum = v[..hdr_len].chunks_exact(2).fold(0u16, |s, w| {
        s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    let ck = 0u16.wrapping_sub(sum).to_le_bytes();
    v[0x32] = ck[0];
    v[0x33] = ck[1];
    v.extend_from_slice(&name.0);
    v.extend_from_slice(&20u32.to_le_bytes());
    for f in files {
        while !v.len().is_multiple_of(8) {
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
pub fn inject(
    image: &mut [u8],
    free_start: usize,
    volume_end: usize,
    file: &[u8],
) -> Option<usize> {
    let at = free_start.div_ceil(8) * 8;
    if at.checked_add(file.len())? > volume_end {
        return None;
    }
    image.get_mut(at..at + file.len())?.copy_from_slice(file);
    Some(at)
}

/// A device tree node for [`fdt`].
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Node name (`images`, `kernel`, `hash-1`); empty for the root.
    pub name: String,
    /// Properties in order.
    pub props: Vec<(String, Vec<u8>)>,
    /// Child nodes in order.
    pub children: Vec<Node>,
}

impl Node {
    /// A node with a name.
    pub fn new(name: &str) -> Node {
        Node {
            name: name.to_string(),
            ..Node::default()
        }
    }

    /// Adds a NUL-terminated string property.
    pub fn text(mut self, name: &str, value: &str) -> Node {
        let mut v = value.as_bytes().to_vec();
        v.push(0);
        self.props.push((name.to_string(), v));
        self
    }

    /// Adds a big-endian u32 property.
    pub fn u32(mut self, name: &str, value: u32) -> Node {
        self.props
            .push((name.to_string(), value.to_be_bytes().to_vec()));
        self
    }

    /// Adds a raw bytes property.
    pub fn bytes(mut self, name: &str, value: &[u8]) -> Node {
        self.props.push((name.to_string(), value.to_vec()));
        self
    }

    /// Adds a child.
    pub fn child(mut self, node: Node) -> Node {
        self.children.push(node);
        self
    }
}

/// Serialises a flattened device tree (Devicetree Specification v0.4, version 17).
pub fn fdt(root: &Node) -> Vec<u8> {
    fn pad(v: &mut Vec<u8>) {
        while !v.len().is_multiple_of(4) {
            v.push(0);
        }
    }
    fn walk(
        n: &Node,
        st: &mut Vec<u8>,
        strings: &mut Vec<u8>,
        offsets: &mut std::collections::HashMap<String, u32>,
    ) {
        st.extend_from_slice(&1u32.to_be_bytes());
        st.extend_from_slice(n.name.as_bytes());
        st.push(0);
        pad(st);
        for (name, value) in &n.props {
            let off = *offsets.entry(name.clone()).or_insert_with(|| {
                let o = strings.len() as u32;
                strings.extend_from_slice(name.as_bytes());
                strings.push(0);
                o
            });
            st.extend_from_slice(&3u32.to_be_bytes());
            st.extend_from_slice(&(value.len() as u32).to_be_bytes());
            st.extend_from_slice(&off.to_be_bytes());
            st.extend_from_slice(value);
            pad(st);
        }
        for c in &n.children {
            walk(c, st, strings, offsets);
        }
        st.extend_from_slice(&2u32.to_be_bytes());
    }
    let mut st = Vec::new();
    let mut strings = Vec::new();
    walk(root, &mut st, &mut strings, &mut Default::default());
    st.extend_from_slice(&9u32.to_be_bytes());
    let rsv = 40u32;
    let off_struct = rsv + 16;
    let off_strings = off_struct + st.len() as u32;
    let total = off_strings + strings.len() as u32;
    let mut out = Vec::with_capacity(total as usize);
    for v in [
        0xD00D_FEEDu32,
        total,
        off_struct,
        off_strings,
        rsv,
        17,
        16,
        0,
        strings.len() as u32,
        st.len() as u32,
    ] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&st);
    out.extend_from_slice(&strings);
    out
}

/// One sub-image of a FIT written by [`fit`].
#[derive(Debug, Clone)]
pub struct FitPart {
    /// Node name under `/images`.
    pub name: String,
    /// `type` property (`kernel`, `flat_dt`, `ramdisk`, `firmware`).
    pub kind: String,
    /// The data, embedded.
    pub data: Vec<u8>,
}

/// A U-Boot FIT image with embedded data, a sha256 hash node per sub-image and one
/// configuration that loads every part.
pub fn fit(description: &str, parts: &[FitPart]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut images = Node::new("images");
    let mut conf = Node::new("conf-1").text("description", description);
    let mut loadables = Vec::new();
    for p in parts {
        let hash = Sha256::digest(&p.data);
        images = images.child(
            Node::new(&p.name)
                .text("description", &format!("{} ({})", p.name, p.kind))
                .bytes("data", &p.data)
                .text("type", &p.kind)
                .text("arch", "arm")
                .text("os", "linux")
                .text("compression", "none")
                .child(
                    Node::new("hash-1")
                        .text("algo", "sha256")
                        .bytes("value", &hash),
                ),
        );
        match p.kind.as_str() {
            "kernel" => conf = conf.text("kernel", &p.name),
            "flat_dt" => conf = conf.text("fdt", &p.name),
            "ramdisk" => conf = conf.text("ramdisk", &p.name),
            _ => loadables.push(p.name.clone()),
        }
    }
    if !loadables.is_empty() {
        let mut v = Vec::new();
        for l in &loadables {
            v.extend_from_slice(l.as_bytes());
            v.push(0);
        }
        conf = conf.bytes("loadables", &v);
    }
    let root = Node::new("")
        .text("description", description)
        .u32("#address-cells", 1)
        .child(images)
        .child(
            Node::new("configurations")
                .text("default", "conf-1")
                .child(conf),
        );
    fdt(&root)
}

/// Bits written least-significant first, as Brotli (RFC 7932) reads them.
struct BitWriter {
    out: Vec<u8>,
    bit: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, bits: u32) {
        for i in 0..bits {
            if self.bit == 0 {
                self.out.push(0);
            }
            if (value >> i) & 1 == 1 {
                if let Some(last) = self.out.last_mut() {
                    *last |= 1 << self.bit;
                }
            }
            self.bit = (self.bit + 1) % 8;
        }
    }

    fn align(&mut self) {
        self.bit = 0;
    }
}

/// A valid Brotli stream (RFC 7932) that stores `data` in uncompressed meta-blocks: what the
/// project's tests use to build Brotli GUID-defined sections without a Brotli encoder.
pub fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter {
        out: Vec::new(),
        bit: 0,
    };
    w.put(0, 1); // WBITS = 16
    for chunk in data.chunks(1 << 16) {
        w.put(0, 1); // ISLAST = 0
        w.put(0, 2); // MNIBBLES = 4
        w.put(chunk.len() as u32 - 1, 16); // MLEN - 1
        w.put(1, 1); // ISUNCOMPRESSED
        w.align();
        w.out.extend_from_slice(chunk);
    }
    w.put(1, 1); // ISLAST
    w.put(1, 1); // ISLASTEMPTY
    w.out
}

/// An EDK2 Brotli GUID-defined section holding `inner` (sections), stored uncompressed.
pub fn brotli_section(inner: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend_from_slice(&(inner.len() as u64).to_le_bytes());
    payload.extend_from_slice(&0u64.to_le_bytes()); // scratch size, unused by decoders here
    payload.extend_from_slice(&brotli_stored(inner));
    guided_section(crate::uefi::BROTLI, 0x01, &payload)
}

/// A GUID-defined section: GUID, data offset, attributes, then `payload`.
pub fn guided_section(guid: Guid, attributes: u16, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(payload.len() + 20);
    body.extend_from_slice(&guid.0);
    body.extend_from_slice(&24u16.to_le_bytes()); // data offset from the section start
    body.extend_from_slice(&attributes.to_le_bytes());
    body.extend_from_slice(payload);
    section(0x02, &body)
}

/// A POSIX ustar archive of regular files (as OpenBMC update tarballs are).
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; 512];
        let n = name.as_bytes();
        h[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}
