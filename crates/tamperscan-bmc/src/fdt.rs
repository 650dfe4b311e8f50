//! Flattened device trees (DTB), Devicetree Specification v0.4 chapter 5 "Flattened Devicetree
//! (DTB) Format": the big-endian header (5.2), the memory reservation block (5.3), the structure
//! block (5.4) and the strings block (5.5).
//!
//! The tree borrows names and property values from the input, so parsing allocates only the node
//! and property lists, each bounded by [`MAX_NODES`] and [`MAX_PROPERTIES`]; nesting is bounded
//! by [`MAX_DEPTH`].

mod partitions;

pub use partitions::{partitions, Partition};

use tamperscan_bytes::{Error, ErrorKind, Reader};

/// The FDT magic number, `0xd00dfeed`, stored big-endian at the start of every blob.
pub const FDT_MAGIC: u32 = 0xd00d_feed;
/// Deepest node nesting accepted (the root is depth 1).
pub const MAX_DEPTH: usize = 64;
/// Most nodes accepted in one tree.
pub const MAX_NODES: usize = 100_000;
/// Most properties accepted in one tree.
pub const MAX_PROPERTIES: usize = 500_000;
/// Most memory reservation entries accepted.
pub const MAX_RESERVATIONS: usize = 1024;
/// Longest node or property name accepted, in bytes (the specification allows 31 characters
/// for a property name and for a node name before its unit address).
pub const MAX_NAME_LEN: usize = 256;

/// Header size of version 17 blobs (ten 32-bit fields).
const HEADER_SIZE_V17: u32 = 40;
/// Header size of version 16 blobs (no `size_dt_struct`).
const HEADER_SIZE_V16: u32 = 36;

/// Structure block tokens (section 5.4.1).
const FDT_BEGIN_NODE: u32 = 0x1;
const FDT_END_NODE: u32 = 0x2;
const FDT_PROP: u32 = 0x3;
const FDT_NOP: u32 = 0x4;
const FDT_END: u32 = 0x9;

/// `struct fdt_header` (section 5.2), all fields big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Size of the whole blob in bytes.
    pub total_size: u32,
    /// Offset of the structure block from the start of the blob.
    pub off_dt_struct: u32,
    /// Offset of the strings block from the start of the blob.
    pub off_dt_strings: u32,
    /// Offset of the memory reservation block from the start of the blob.
    pub off_mem_rsvmap: u32,
    /// Version of the blob's format.
    pub version: u32,
    /// Lowest version this blob is backwards compatible with.
    pub last_comp_version: u32,
    /// Physical id of the boot CPU.
    pub boot_cpuid_phys: u32,
    /// Length of the strings block.
    pub size_dt_strings: u32,
    /// Length of the structure block (version 17 and later only).
    pub size_dt_struct: Option<u32>,
}

/// One `struct fdt_reserve_entry` (section 5.3): a physical memory range the OS must not use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// Start of the reserved range.
    pub address: u64,
    /// Length of the reserved range.
    pub size: u64,
}

/// A parsed device tree blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fdt<'a> {
    /// Absolute offset of the blob in the input it was parsed from.
    pub offset: u64,
    /// The header.
    pub header: Header,
    /// The memory reservation block, without its terminating zero entry.
    pub reservations: Vec<Reservation>,
    /// The root node (whose name is normally empty).
    pub root: Node<'a>,
}

/// A device tree node (section 2.2.1): its name with any unit address, properties and children
/// in the order they appear in the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node<'a> {
    /// `node-name@unit-address`, as stored.
    pub name: &'a str,
    /// Absolute offset of the node's `FDT_BEGIN_NODE` token.
    pub offset: u64,
    /// Properties in blob order.
    pub properties: Vec<Property<'a>>,
    /// Child nodes in blob order.
    pub children: Vec<Node<'a>>,
}

/// A property (section 2.2.4): a name from the strings block and a value borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property<'a> {
    /// The property name.
    pub name: &'a str,
    /// The raw value bytes.
    pub value: &'a [u8],
    /// Absolute offset of the first value byte in the input.
    pub offset: u64,
}

/// Parses the device tree blob at the start of `bytes`; bytes after `totalsize` are ignored.
pub fn parse(bytes: &[u8]) -> Result<Fdt<'_>, Error> {
    parse_at(bytes, 0)
}

/// Parses the device tree blob starting at `offset` of `image`; every offset in the result and
/// in errors is absolute in `image`.
pub fn parse_at(image: &[u8], offset: usize) -> Result<Fdt<'_>, Error> {
    let base = offset as u64;
    let Some(bytes) = image.get(offset..) else {
        return Err(Error::new(
            base,
            ErrorKind::Truncated {
                what: "fdt header",
                needed: u64::from(HEADER_SIZE_V16),
                available: 0,
            },
        ));
    };
    let mut r = Reader::with_base(bytes, base);
    let header = parse_header(&mut r)?;
    let field = |index: u64| base + 4 * index;

    let total_size = header.total_size as usize;
    let header_size = if header.version >= 17 {
        HEADER_SIZE_V17
    } else {
        HEADER_SIZE_V16
    };
    if header.total_size < header_size {
        return Err(Error::invalid(
            field(1),
            "fdt totalsize",
            format!(
                "{} is smaller than the {header_size}-byte header",
                header.total_size
            ),
        ));
    }
    let Some(blob) = bytes.get(..total_size) else {
        return Err(Error::new(
            base,
            ErrorKind::Truncated {
                what: "fdt blob (totalsize)",
                needed: u64::from(header.total_size),
                available: bytes.len() as u64,
            },
        ));
    };

    let rsv = header.off_mem_rsvmap;
    if !rsv.is_multiple_of(8) || rsv < header_size || rsv >= header.total_size {
        return Err(Error::invalid(
            field(4),
            "fdt off_mem_rsvmap",
            format!("0x{rsv:x} is not an 8-byte aligned offset inside the blob after the header"),
        ));
    }
    let struct_start = header.off_dt_struct;
    let struct_end = match header.size_dt_struct {
        Some(size) => struct_start.checked_add(size),
        None => Some(header.total_size),
    };
    let struct_range = struct_end
        .filter(|&end| {
            struct_start.is_multiple_of(4)
                && struct_start >= header_size
                && end <= header.total_size
        })
        .map(|end| (struct_start as usize, end as usize));
    let Some((struct_start, struct_end)) = struct_range else {
        return Err(Error::invalid(
            field(2),
            "fdt structure block",
            format!(
                "offset 0x{struct_start:x} size {:?} is not a 4-byte aligned range inside the blob",
                header.size_dt_struct
            ),
        ));
    };
    let strings_start = header.off_dt_strings;
    let strings_range = strings_start
        .checked_add(header.size_dt_strings)
        .filter(|&end| strings_start >= header_size && end <= header.total_size)
        .map(|end| (strings_start as usize, end as usize));
    let Some((strings_start, strings_end)) = strings_range else {
        return Err(Error::invalid(
            field(3),
            "fdt strings block",
            format!(
                "offset 0x{strings_start:x} size {} is not inside the blob",
                header.size_dt_strings
            ),
        ));
    };

    let reservations = parse_reservations(blob, base, rsv as usize)?;
    let strings = Strings {
        bytes: blob.get(strings_start..strings_end).unwrap_or_default(),
        base: base + strings_start as u64,
    };
    let struct_bytes = blob.get(struct_start..struct_end).unwrap_or_default();
    let mut r = Reader::with_base(struct_bytes, base + struct_start as u64);
    let root = parse_structure(&mut r, &strings)?;
    Ok(Fdt {
        offset: base,
        header,
        reservations,
        root,
    })
}

fn parse_header(r: &mut Reader<'_>) -> Result<Header, Error> {
    let start = r.offset();
    r.expect(&FDT_MAGIC.to_be_bytes(), "fdt header")?;
    let total_size = r.u32_be("fdt totalsize")?;
    let off_dt_struct = r.u32_be("fdt off_dt_struct")?;
    let off_dt_strings = r.u32_be("fdt off_dt_strings")?;
    let off_mem_rsvmap = r.u32_be("fdt off_mem_rsvmap")?;
    let version = r.u32_be("fdt version")?;
    let last_comp_version = r.u32_be("fdt last_comp_version")?;
    if version < 16 {
        return Err(Error::invalid(
            start + 20,
            "fdt version",
            format!("version {version} is older than 16, the oldest supported"),
        ));
    }
    if last_comp_version > 17 {
        return Err(Error::invalid(
            start + 24,
            "fdt last_comp_version",
            format!("the blob needs a reader for version {last_comp_version}; 17 is supported"),
        ));
    }
    let boot_cpuid_phys = r.u32_be("fdt boot_cpuid_phys")?;
    let size_dt_strings = r.u32_be("fdt size_dt_strings")?;
    let size_dt_struct = if version >= 17 {
        Some(r.u32_be("fdt size_dt_struct")?)
    } else {
        None
    };
    Ok(Header {
        total_size,
        off_dt_struct,
        off_dt_strings,
        off_mem_rsvmap,
        version,
        last_comp_version,
        boot_cpuid_phys,
        size_dt_strings,
        size_dt_struct,
    })
}

fn parse_reservations(blob: &[u8], base: u64, offset: usize) -> Result<Vec<Reservation>, Error> {
    let mut r = Reader::with_base(blob.get(offset..).unwrap_or_default(), base + offset as u64);
    let mut out = Vec::new();
    loop {
        let at = r.offset();
        let address = r.u64_be("fdt memory reservation address")?;
        let size = r.u64_be("fdt memory reservation size")?;
        if address == 0 && size == 0 {
            return Ok(out);
        }
        if out.len() >= MAX_RESERVATIONS {
            return Err(Error::new(
                at,
                ErrorKind::TooLarge {
                    what: "fdt memory reservation count",
                    value: out.len() as u64 + 1,
                    limit: MAX_RESERVATIONS as u64,
                },
            ));
        }
        out.push(Reservation { address, size });
    }
}

/// The strings block and its absolute offset.
struct Strings<'a> {
    bytes: &'a [u8],
    base: u64,
}

impl<'a> Strings<'a> {
    /// The NUL-terminated string at `nameoff`; `at` is where the offset was read, for errors.
    fn get(&self, nameoff: u32, at: u64) -> Result<&'a str, Error> {
        // Only the first MAX_NAME_LEN + 1 bytes are searched, so many properties pointing at a
        // long string without a NUL cannot make parsing quadratic.
        let text = self.bytes.get(nameoff as usize..).and_then(|rest| {
            let window = rest.get(..=MAX_NAME_LEN).unwrap_or(rest);
            window
                .iter()
                .position(|&b| b == 0)
                .and_then(|n| rest.get(..n))
        });
        let Some(text) = text else {
            return Err(Error::invalid(
                at,
                "fdt property name offset",
                format!(
                    "0x{nameoff:x} does not point at a NUL-terminated string of at most {MAX_NAME_LEN} bytes in the {}-byte strings block",
                    self.bytes.len()
                ),
            ));
        };
        std::str::from_utf8(text).map_err(|_| {
            Error::invalid(
                self.base + u64::from(nameoff),
                "fdt property name",
                "not UTF-8 text",
            )
        })
    }
}

fn parse_structure<'a>(r: &mut Reader<'a>, strings: &Strings<'a>) -> Result<Node<'a>, Error> {
    let struct_base = r.offset();
    let mut stack: Vec<Node<'a>> = Vec::new();
    let mut root: Option<Node<'a>> = None;
    let mut nodes = 0usize;
    let mut properties = 0usize;
    loop {
        let at = r.offset();
        match r.u32_be("fdt structure token")? {
            FDT_BEGIN_NODE => {
                if root.is_some() {
                    return Err(Error::invalid(
                        at,
                        "fdt structure token",
                        "a second root node",
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(too_large(at, "fdt node depth", stack.len() + 1, MAX_DEPTH));
                }
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err(too_large(at, "fdt node count", nodes, MAX_NODES));
                }
                let name = read_name(r)?;
                align4(r, struct_base)?;
                stack.push(Node {
                    name,
                    offset: at,
                    properties: Vec::new(),
                    children: Vec::new(),
                });
            }
            FDT_END_NODE => {
                let Some(node) = stack.pop() else {
                    return Err(Error::invalid(
                        at,
                        "fdt structure token",
                        "FDT_END_NODE without an open node",
                    ));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            FDT_PROP => {
                let len = r.u32_be("fdt property length")?;
                let nameoff_at = r.offset();
                let nameoff = r.u32_be("fdt property name offset")?;
                let offset = r.offset();
                let value = r.take(len as usize, "fdt property value")?;
                align4(r, struct_base)?;
                let name = strings.get(nameoff, nameoff_at)?;
                properties += 1;
                if properties > MAX_PROPERTIES {
                    return Err(too_large(
                        at,
                        "fdt property count",
                        properties,
                        MAX_PROPERTIES,
                    ));
                }
                let Some(node) = stack.last_mut() else {
                    return Err(Error::invalid(
                        at,
                        "fdt structure token",
                        "FDT_PROP outside any node",
                    ));
                };
                node.properties.push(Property {
                    name,
                    value,
                    offset,
                });
            }
            FDT_NOP => {}
            FDT_END => {
                if !stack.is_empty() {
                    return Err(Error::invalid(
                        at,
                        "fdt structure token",
                        format!("FDT_END with {} nodes still open", stack.len()),
                    ));
                }
                return root.ok_or_else(|| {
                    Error::invalid(at, "fdt structure token", "FDT_END before any node")
                });
            }
            other => {
                return Err(Error::invalid(
                    at,
                    "fdt structure token",
                    format!("unknown token 0x{other:x}"),
                ))
            }
        }
    }
}

fn too_large(at: u64, what: &'static str, value: usize, limit: usize) -> Error {
    Error::new(
        at,
        ErrorKind::TooLarge {
            what,
            value: value as u64,
            limit: limit as u64,
        },
    )
}

/// Reads a NUL-terminated node name (the NUL is consumed).
fn read_name<'a>(r: &mut Reader<'a>) -> Result<&'a str, Error> {
    let at = r.offset();
    let rest = r.rest();
    let window = rest.get(..=MAX_NAME_LEN).unwrap_or(rest);
    let Some(len) = window.iter().position(|&b| b == 0) else {
        if window.len() > MAX_NAME_LEN {
            return Err(Error::new(
                at,
                ErrorKind::TooLarge {
                    what: "fdt node name length",
                    value: window.len() as u64,
                    limit: MAX_NAME_LEN as u64,
                },
            ));
        }
        return Err(Error::new(
            at,
            ErrorKind::Truncated {
                what: "fdt node name (no terminating NUL)",
                needed: r.remaining() as u64 + 1,
                available: r.remaining() as u64,
            },
        ));
    };
    let bytes = r.take(len, "fdt node name")?;
    r.skip(1, "fdt node name NUL")?;
    std::str::from_utf8(bytes).map_err(|_| Error::invalid(at, "fdt node name", "not UTF-8 text"))
}

/// Skips the zero padding that aligns the next token to 4 bytes from the block start.
fn align4(r: &mut Reader<'_>, block_start: u64) -> Result<(), Error> {
    let misalign = r.offset().saturating_sub(block_start) % 4;
    if misalign != 0 {
        r.skip((4 - misalign) as usize, "fdt alignment padding")?;
    }
    Ok(())
}

impl<'a> Fdt<'a> {
    /// Size of the blob (`totalsize`).
    pub fn total_size(&self) -> u64 {
        u64::from(self.header.total_size)
    }

    /// The node at `path` (`/`, `/images/kernel`, ...). A path component without a unit
    /// address also matches a child named `component@address` when no child has the exact name
    /// (section 2.2.3).
    pub fn find(&self, path: &str) -> Option<&Node<'a>> {
        let mut node = &self.root;
        for component in path.split('/').filter(|c| !c.is_empty()) {
            node = node.child(component)?;
        }
        Some(node)
    }

    /// Every node with its full path, depth first in blob order, the root first as `/`.
    pub fn nodes(&self) -> Vec<(String, &Node<'a>)> {
        self.walk().collect()
    }

    /// Like [`Fdt::nodes`], one node at a time: only the current path is kept (at most
    /// [`MAX_DEPTH`] names of [`MAX_NAME_LEN`] bytes).
    pub fn walk(&self) -> Walk<'_, 'a> {
        Walk {
            root: Some(&self.root),
            stack: Vec::new(),
            path: String::new(),
        }
    }

    /// How many nodes the tree has, the root included.
    pub fn node_count(&self) -> usize {
        self.fold(|_| 1)
    }

    /// How many properties the tree has in all.
    pub fn property_count(&self) -> usize {
        self.fold(|node| node.properties.len())
    }

    /// Sums `f` over every node without building paths.
    fn fold(&self, f: impl Fn(&Node<'a>) -> usize) -> usize {
        let mut total = 0;
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            total += f(node);
            stack.extend(node.children.iter());
        }
        total
    }
}

/// Depth-first iterator over a tree's nodes and their paths (see [`Fdt::walk`]).
#[derive(Debug, Clone)]
pub struct Walk<'t, 'a> {
    root: Option<&'t Node<'a>>,
    /// Open nodes, the index of the next child to visit, and the path length before the node.
    stack: Vec<(&'t Node<'a>, usize, usize)>,
    path: String,
}

impl<'t, 'a> Iterator for Walk<'t, 'a> {
    type Item = (String, &'t Node<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(root) = self.root.take() {
            self.path.push('/');
            self.stack.push((root, 0, 0));
            return Some((self.path.clone(), root));
        }
        loop {
            let (node, next, _) = self.stack.last_mut()?;
            match node.children.get(*next) {
                Some(child) => {
                    *next += 1;
                    let before = self.path.len();
                    if !self.path.ends_with('/') {
                        self.path.push('/');
                    }
                    self.path.push_str(child.name);
                    self.stack.push((child, 0, before));
                    return Some((self.path.clone(), child));
                }
                None => {
                    if let Some((_, _, before)) = self.stack.pop() {
                        self.path.truncate(before);
                    }
                }
            }
        }
    }
}

/// `parent` + `/` + `name`, without doubling the root's slash.
pub(crate) fn join_path(parent: &str, name: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{name}")
    } else {
        format!("{parent}/{name}")
    }
}

impl<'a> Node<'a> {
    /// The property called `name`, if present.
    pub fn property(&self, name: &str) -> Option<&Property<'a>> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// The property `name` as one string (see [`Property::as_str`]).
    pub fn prop_str(&self, name: &str) -> Option<&'a str> {
        self.property(name).and_then(|p| p.as_str())
    }

    /// The property `name` as a string list (see [`Property::as_str_list`]).
    pub fn prop_str_list(&self, name: &str) -> Option<Vec<&'a str>> {
        self.property(name).and_then(|p| p.as_str_list())
    }

    /// The property `name` as one 32-bit cell.
    pub fn prop_u32(&self, name: &str) -> Option<u32> {
        self.property(name).and_then(|p| p.as_u32())
    }

    /// The property `name` as a 32- or 64-bit integer (see [`Property::as_uint`]).
    pub fn prop_uint(&self, name: &str) -> Option<u64> {
        self.property(name).and_then(|p| p.as_uint())
    }

    /// The child with exactly this name, or else the first whose name before `@` is `name`.
    pub fn child(&self, name: &str) -> Option<&Node<'a>> {
        self.children.iter().find(|c| c.name == name).or_else(|| {
            if name.contains('@') {
                None
            } else {
                self.children.iter().find(|c| c.unit_name() == name)
            }
        })
    }

    /// The name without its unit address.
    pub fn unit_name(&self) -> &'a str {
        self.name.split('@').next().unwrap_or(self.name)
    }

    /// The unit address after `@`, if any.
    pub fn unit_address(&self) -> Option<&'a str> {
        self.name.split_once('@').map(|(_, address)| address)
    }

    /// The `compatible` strings (empty when absent or malformed).
    pub fn compatible(&self) -> Vec<&'a str> {
        self.prop_str_list("compatible").unwrap_or_default()
    }

    /// True when `compatible` lists `value`.
    pub fn is_compatible(&self, value: &str) -> bool {
        self.compatible().contains(&value)
    }

    /// `#address-cells` for this node's children (section 2.3.5); 2 when absent.
    pub fn address_cells(&self) -> u32 {
        self.prop_u32("#address-cells").unwrap_or(2)
    }

    /// `#size-cells` for this node's children (section 2.3.5); 1 when absent.
    pub fn size_cells(&self) -> u32 {
        self.prop_u32("#size-cells").unwrap_or(1)
    }
}

impl<'a> Property<'a> {
    /// The value as one NUL-terminated UTF-8 string with no other NUL; `None` otherwise.
    pub fn as_str(&self) -> Option<&'a str> {
        let (last, body) = self.value.split_last()?;
        if *last != 0 || body.contains(&0) {
            return None;
        }
        std::str::from_utf8(body).ok()
    }

    /// The value as a list of NUL-terminated UTF-8 strings (`<stringlist>`); an empty value is
    /// an empty list. `None` when the value does not end in NUL or a string is not UTF-8.
    pub fn as_str_list(&self) -> Option<Vec<&'a str>> {
        if self.value.is_empty() {
            return Some(Vec::new());
        }
        let body = self.value.strip_suffix(&[0])?;
        body.split(|&b| b == 0)
            .map(|s| std::str::from_utf8(s).ok())
            .collect()
    }

    /// The value as exactly one big-endian 32-bit cell.
    pub fn as_u32(&self) -> Option<u32> {
        <[u8; 4]>::try_from(self.value).ok().map(u32::from_be_bytes)
    }

    /// The value as exactly one big-endian 64-bit integer (two cells).
    pub fn as_u64(&self) -> Option<u64> {
        <[u8; 8]>::try_from(self.value).ok().map(u64::from_be_bytes)
    }

    /// The value as a 32-bit or a 64-bit big-endian integer, whichever its length says.
    pub fn as_uint(&self) -> Option<u64> {
        self.as_u32().map(u64::from).or_else(|| self.as_u64())
    }

    /// The value as big-endian 32-bit cells; `None` when its length is not a multiple of 4.
    pub fn as_cells(&self) -> Option<Vec<u32>> {
        if !self.value.len().is_multiple_of(4) {
            return None;
        }
        Some(
            self.value
                .chunks_exact(4)
                .map(|c| c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)))
                .collect(),
        )
    }

    /// The value as `reg`-style `(address, size)` pairs of `address_cells` and `size_cells`
    /// cells each (section 2.3.6); `None` when a count is above 2 or the length does not fit.
    pub fn as_reg(&self, address_cells: u32, size_cells: u32) -> Option<Vec<(u64, u64)>> {
        if address_cells > 2 || size_cells > 2 || address_cells + size_cells == 0 {
            return None;
        }
        let cells = self.as_cells()?;
        let entry = (address_cells + size_cells) as usize;
        if cells.len() % entry != 0 {
            return None;
        }
        let number = |cells: &[u32]| {
            cells
                .iter()
                .fold(0u64, |acc, &c| (acc << 32) | u64::from(c))
        };
        Some(
            cells
                .chunks_exact(entry)
                .map(|chunk| {
                    let (address, size) = chunk.split_at(address_cells as usize);
                    (number(address), number(size))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny device tree writer for tests: nodes and properties in order, then `finish`.
    #[derive(Default)]
    pub(crate) struct Builder {
        structure: Vec<u8>,
        strings: Vec<u8>,
        pub(crate) reservations: Vec<(u64, u64)>,
    }

    impl Builder {
        pub(crate) fn begin(&mut self, name: &str) -> &mut Self {
            self.structure
                .extend_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
            self.structure.extend_from_slice(name.as_bytes());
            self.structure.push(0);
            self.pad();
            self
        }

        pub(crate) fn end(&mut self) -> &mut Self {
            self.structure
                .extend_from_slice(&FDT_END_NODE.to_be_bytes());
            self
        }

        pub(crate) fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let needle: Vec<u8> = name.bytes().chain([0]).collect();
            let nameoff = match self
                .strings
                .windows(needle.len())
                .position(|w| w == needle.as_slice())
            {
                Some(at) => at,
                None => {
                    self.strings.extend_from_slice(&needle);
                    self.strings.len() - needle.len()
                }
            };
            self.structure.extend_from_slice(&FDT_PROP.to_be_bytes());
            self.structure
                .extend_from_slice(&(value.len() as u32).to_be_bytes());
            self.structure
                .extend_from_slice(&(nameoff as u32).to_be_bytes());
            self.structure.extend_from_slice(value);
            self.pad();
            self
        }

        pub(crate) fn prop_str(&mut self, name: &str, value: &str) -> &mut Self {
            let v: Vec<u8> = value.bytes().chain([0]).collect();
            self.prop(name, &v)
        }

        pub(crate) fn prop_u32(&mut self, name: &str, value: u32) -> &mut Self {
            self.prop(name, &value.to_be_bytes())
        }

        pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
            self.structure.extend_from_slice(bytes);
            self
        }

        fn pad(&mut self) {
            while !self.structure.len().is_multiple_of(4) {
                self.structure.push(0);
            }
        }

        pub(crate) fn finish(&self) -> Vec<u8> {
            let mut structure = self.structure.clone();
            structure.extend_from_slice(&FDT_END.to_be_bytes());
            let rsv_off = 40u32;
            let rsv_len = (self.reservations.len() as u32 + 1) * 16;
            let struct_off = rsv_off + rsv_len;
            let strings_off = struct_off + structure.len() as u32;
            let total = strings_off + self.strings.len() as u32;
            let mut out = Vec::new();
            for v in [
                FDT_MAGIC,
                total,
                struct_off,
                strings_off,
                rsv_off,
                17,
                16,
                0,
                self.strings.len() as u32,
                structure.len() as u32,
            ] {
                out.extend_from_slice(&v.to_be_bytes());
            }
            for &(a, s) in self.reservations.iter().chain([(0, 0)].iter()) {
                out.extend_from_slice(&a.to_be_bytes());
                out.extend_from_slice(&s.to_be_bytes());
            }
            out.extend_from_slice(&structure);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    pub(crate) fn sample() -> Vec<u8> {
        let mut b = Builder::default();
        b.reservations.push((0x8000_0000, 0x1000));
        b.begin("")
            .prop_str("model", "test board")
            .prop("compatible", b"vendor,board\0vendor,soc\0")
            .prop_u32("#address-cells", 1)
            .prop_u32("#size-cells", 1)
            .begin("memory@80000000")
            .prop("reg", &[0x80, 0, 0, 0, 0x10, 0, 0, 0])
            .end()
            .begin("cpus")
            .prop("wide", &0x1_0000_0002u64.to_be_bytes())
            .end()
            .end();
        b.finish()
    }

    #[test]
    fn parses_a_small_tree() {
        let bytes = sample();
        let fdt = parse(&bytes).unwrap();
        assert_eq!(fdt.header.version, 17);
        assert_eq!(
            fdt.reservations,
            vec![Reservation {
                address: 0x8000_0000,
                size: 0x1000
            }]
        );
        assert_eq!(fdt.node_count(), 3);
        assert_eq!(fdt.property_count(), 6);
        assert_eq!(fdt.root.prop_str("model"), Some("test board"));
        assert_eq!(fdt.root.compatible(), vec!["vendor,board", "vendor,soc"]);
        let memory = fdt.find("/memory").unwrap();
        assert_eq!(memory.name, "memory@80000000");
        assert_eq!(memory.unit_address(), Some("80000000"));
        assert_eq!(
            memory.property("reg").unwrap().as_reg(1, 1),
            Some(vec![(0x8000_0000, 0x1000_0000)])
        );
        assert_eq!(
            fdt.find("/cpus").unwrap().prop_uint("wide"),
            Some(0x1_0000_0002)
        );
        assert!(fdt.find("/nothing").is_none());
        let paths: Vec<String> = fdt.nodes().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, vec!["/", "/memory@80000000", "/cpus"]);
    }

    #[test]
    fn walk_gives_paths_depth_first() {
        let mut b = Builder::default();
        b.begin("")
            .begin("a")
            .begin("b")
            .end()
            .begin("c")
            .begin("d")
            .end()
            .end()
            .end()
            .begin("e")
            .end()
            .end();
        let bytes = b.finish();
        let fdt = parse(&bytes).unwrap();
        let paths: Vec<String> = fdt.walk().map(|(p, _)| p).collect();
        assert_eq!(paths, vec!["/", "/a", "/a/b", "/a/c", "/a/c/d", "/e"]);
        assert_eq!(fdt.node_count(), 6);
    }

    #[test]
    fn overlong_names_are_refused() {
        let long = "n".repeat(MAX_NAME_LEN + 1);
        let mut b = Builder::default();
        b.begin("").begin(&long).end().end();
        let err = parse(&b.finish()).unwrap_err();
        assert!(
            matches!(
                err.kind,
                ErrorKind::TooLarge {
                    what: "fdt node name length",
                    ..
                }
            ),
            "{err}"
        );
        let mut b = Builder::default();
        b.begin("").prop_u32(&long, 1).end();
        let err = parse(&b.finish()).unwrap_err();
        assert!(err.to_string().contains("at most 256 bytes"), "{err}");
        let ok = "n".repeat(MAX_NAME_LEN);
        let mut b = Builder::default();
        b.begin("").begin(&ok).prop_u32(&ok, 1).end().end();
        assert!(parse(&b.finish()).is_ok());
    }

    #[test]
    fn property_value_offsets_are_absolute() {
        let bytes = sample();
        let mut image = vec![0xffu8; 64];
        image.extend_from_slice(&bytes);
        let fdt = parse_at(&image, 64).unwrap();
        let model = fdt.root.property("model").unwrap();
        let at = model.offset as usize;
        assert_eq!(&image[at..at + model.value.len()], model.value);
        assert!(at > 64);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample();
        for len in 0..bytes.len() {
            assert!(parse(&bytes[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut b = Builder::default();
        for _ in 0..=MAX_DEPTH {
            b.begin("n");
        }
        for _ in 0..=MAX_DEPTH {
            b.end();
        }
        let err = parse(&b.finish()).unwrap_err();
        assert!(
            matches!(
                err.kind,
                ErrorKind::TooLarge {
                    what: "fdt node depth",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_tokens_and_names_are_errors_with_offsets() {
        let mut b = Builder::default();
        b.begin("").raw(&7u32.to_be_bytes()).end();
        let err = parse(&b.finish()).unwrap_err();
        assert!(err.to_string().contains("unknown token 0x7"), "{err}");
        assert_eq!(err.offset, 40 + 16 + 8);

        let mut b = Builder::default();
        b.begin("")
            .raw(&FDT_PROP.to_be_bytes())
            .raw(&0u32.to_be_bytes());
        b.raw(&0xffffu32.to_be_bytes()).end();
        let err = parse(&b.finish()).unwrap_err();
        assert!(err.to_string().contains("name offset"), "{err}");

        let mut b = Builder::default();
        b.begin("").raw(&FDT_PROP.to_be_bytes());
        b.raw(&0xffff_fff0u32.to_be_bytes())
            .raw(&0u32.to_be_bytes());
        let err = parse(&b.finish()).unwrap_err();
        assert!(
            matches!(
                err.kind,
                ErrorKind::Truncated {
                    what: "fdt property value",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn absurd_header_fields_are_errors() {
        let good = sample();
        for (field, value) in [
            (1usize, 0xffff_ffffu32),
            (1, 8),
            (2, 0xffff_fff0),
            (2, 41),
            (3, 0xffff_fff0),
            (4, 3),
            (5, 15),
            (6, 18),
            (8, 0xffff_ffff),
            (9, 0xffff_ffff),
        ] {
            let mut bytes = good.clone();
            bytes[field * 4..field * 4 + 4].copy_from_slice(&value.to_be_bytes());
            assert!(parse(&bytes).is_err(), "field {field} = {value:#x}");
        }
    }

    #[test]
    fn string_helpers_reject_malformed_values() {
        let p = |value: &'static [u8]| Property {
            name: "x",
            value,
            offset: 0,
        };
        assert_eq!(p(b"abc\0").as_str(), Some("abc"));
        assert_eq!(p(b"abc").as_str(), None);
        assert_eq!(p(b"a\0b\0").as_str(), None);
        assert_eq!(p(b"a\0b\0").as_str_list(), Some(vec!["a", "b"]));
        assert_eq!(p(b"\xff\0").as_str_list(), None);
        assert_eq!(p(b"").as_str_list(), Some(vec![]));
        assert_eq!(p(&[0, 0, 1, 0, 0, 0, 0, 2]).as_cells(), Some(vec![256, 2]));
        assert_eq!(p(&[0, 0, 1]).as_cells(), None);
        assert_eq!(p(&[0, 0, 1, 0, 0, 0, 0, 2]).as_reg(3, 1), None);
        assert_eq!(
            p(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]).as_reg(2, 1),
            Some(vec![(0x1_0000_0002, 3)])
        );
    }
}
