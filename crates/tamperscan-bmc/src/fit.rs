//! U-Boot Flattened Image Tree (FIT, `.itb`): a device tree whose `/images` node holds the
//! sub-images and whose `/configurations` node says which of them boot together (U-Boot
//! `doc/usage/fit/source_file_format.rst`).
//!
//! Sub-image data is either embedded (`data`) or external: `data-position` counts from the
//! start of the FIT, `data-offset` from the end of the FIT's device tree rounded up to 4 bytes,
//! and `data-size` gives the length. When an image has both, the external data wins, as in
//! U-Boot's loader, and an issue is reported.
//!
//! **Errors and issues.** Only a FIT whose device tree does not parse, or that has no `/images`
//! node, is an [`Error`]. Everything else that is wrong is kept as a [`FitIssue`] beside the
//! parsed result, so a damaged or tampered image still shows everything that could be read:
//! data outside the input, overlapping external data, hash mismatches and algorithms that
//! cannot be checked, configurations naming images that do not exist, a missing default
//! configuration, malformed properties, and every signature (signatures are reported but never
//! verified).

mod hash;

pub use hash::SUPPORTED_ALGOS;

use std::collections::HashSet;
use std::ops::Range;

use tamperscan_bytes::Error;

use crate::fdt::{self, Node};

/// A parsed FIT image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    /// Absolute offset of the FIT in the input.
    pub offset: u64,
    /// Size of the FIT's device tree (`totalsize`), without external data.
    pub fdt_size: u64,
    /// The root `description`.
    pub description: Option<String>,
    /// The root `timestamp` (seconds since 1970).
    pub timestamp: Option<u32>,
    /// The children of `/images`, in blob order.
    pub images: Vec<FitImage>,
    /// The children of `/configurations`, in blob order.
    pub configurations: Vec<FitConfig>,
    /// `/configurations/default`.
    pub default_config: Option<String>,
    /// What is wrong or unverified, in the order found.
    pub issues: Vec<FitIssue>,
}

/// Where a sub-image's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLocation {
    /// In the image node's `data` property.
    Embedded,
    /// `data-offset`: after the device tree (rounded up to 4 bytes).
    External {
        /// The `data-offset` value.
        data_offset: u64,
    },
    /// `data-position`: from the start of the FIT.
    Position {
        /// The `data-position` value.
        data_position: u64,
    },
    /// No usable data property.
    Missing,
}

/// One sub-image (a child of `/images`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitImage {
    /// The node name, which configurations refer to.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `type` (`kernel`, `flat_dt`, `firmware`, `standalone`, ...).
    pub kind: Option<String>,
    /// `arch`.
    pub arch: Option<String>,
    /// `os`.
    pub os: Option<String>,
    /// `compression` (hashes cover the data as stored, compressed or not).
    pub compression: Option<String>,
    /// `load` address (one or two cells).
    pub load: Option<u64>,
    /// `entry` address (one or two cells).
    pub entry: Option<u64>,
    /// Where the data is stored.
    pub location: DataLocation,
    /// The data length: the `data` property's length or `data-size`.
    pub size: Option<u64>,
    /// Absolute range of the data in the input; `None` when missing or outside the input.
    pub data_range: Option<Range<u64>>,
    /// SHA-256 of the data; `None` when there is no data or the hashing budget ran out.
    pub sha256: Option<[u8; 32]>,
    /// Every `hash*` subnode with its check.
    pub hashes: Vec<FitHash>,
    /// Every `signature*` subnode (never verified).
    pub signatures: Vec<FitSignature>,
}

/// A `hash*` subnode and the result of checking it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitHash {
    /// The node name (`hash`, `hash-1`, ...).
    pub node: String,
    /// `algo` as written (empty when absent or not a string).
    pub algo: String,
    /// `value` as stored.
    pub expected: Vec<u8>,
    /// The digest computed over the data; `None` when the algorithm is not supported, the data
    /// is unavailable or the hashing budget ran out.
    pub actual: Option<Vec<u8>>,
    /// True only when `actual` was computed and equals `expected`.
    pub ok: bool,
}

/// A `signature*` subnode, reported as found; the RSA/ECDSA signature is not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitSignature {
    /// Path of the signature node.
    pub path: String,
    /// `algo` (`sha256,rsa2048`, ...).
    pub algo: Option<String>,
    /// `key-name-hint`.
    pub key_name_hint: Option<String>,
    /// `sign-images` (configuration signatures), as written.
    pub signed: Vec<String>,
    /// `padding` (`pkcs-1.5`, `pss`).
    pub padding: Option<String>,
    /// Length of the `value` property (0 when absent: an unsigned placeholder).
    pub value_len: usize,
}

/// A child of `/configurations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitConfig {
    /// The node name.
    pub name: String,
    /// `description`.
    pub description: Option<String>,
    /// `kernel`.
    pub kernel: Option<String>,
    /// `fdt` (one or more device trees).
    pub fdt: Vec<String>,
    /// `firmware`.
    pub firmware: Vec<String>,
    /// `loadables`.
    pub loadables: Vec<String>,
    /// `ramdisk`.
    pub ramdisk: Option<String>,
    /// `fpga`.
    pub fpga: Option<String>,
    /// Every `signature*` subnode (never verified).
    pub signatures: Vec<FitSignature>,
}

impl FitConfig {
    /// Every image reference as `(role, image name)`, in the order kernel, fdt, firmware,
    /// loadables, ramdisk, fpga.
    pub fn references(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        out.extend(self.kernel.iter().map(|n| ("kernel", n.as_str())));
        out.extend(self.fdt.iter().map(|n| ("fdt", n.as_str())));
        out.extend(self.firmware.iter().map(|n| ("firmware", n.as_str())));
        out.extend(self.loadables.iter().map(|n| ("loadables", n.as_str())));
        out.extend(self.ramdisk.iter().map(|n| ("ramdisk", n.as_str())));
        out.extend(self.fpga.iter().map(|n| ("fpga", n.as_str())));
        out
    }
}

/// Something wrong, suspicious or unverified in a FIT.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FitIssue {
    /// An image has neither `data` nor external data with a `data-size`.
    NoData {
        /// The image.
        image: String,
    },
    /// An image has both `data` and external data properties; the external data is used.
    AmbiguousData {
        /// The image.
        image: String,
    },
    /// A property is present but not of the form the format requires.
    BadProperty {
        /// Path of the node.
        path: String,
        /// The property.
        property: &'static str,
    },
    /// External data lies (partly) outside the input.
    DataOutsideInput {
        /// The image.
        image: String,
        /// Absolute start the properties give.
        start: u64,
        /// Absolute end the properties give (saturating).
        end: u64,
        /// Length of the input.
        input_len: u64,
    },
    /// External data of two images overlap.
    DataOverlap {
        /// The image.
        image: String,
        /// The earlier image it overlaps.
        other: String,
    },
    /// External data overlaps the FIT's own device tree.
    DataOverlapsFdt {
        /// The image.
        image: String,
    },
    /// A hash value does not match the data.
    HashMismatch {
        /// The image.
        image: String,
        /// The hash node.
        node: String,
        /// Its algorithm.
        algo: String,
    },
    /// A hash could not be checked (unknown algorithm, no data, or hashing budget spent).
    HashNotChecked {
        /// The image.
        image: String,
        /// The hash node.
        node: String,
        /// Its algorithm.
        algo: String,
        /// Why, in words.
        reason: &'static str,
    },
    /// A configuration refers to an image that `/images` does not have.
    MissingImage {
        /// The configuration.
        config: String,
        /// The property naming it (`kernel`, `fdt`, ...).
        role: &'static str,
        /// The missing image name.
        image: String,
    },
    /// `/configurations/default` names a configuration that does not exist.
    MissingDefaultConfig {
        /// The name given.
        name: String,
    },
    /// A signature node is present; this crate does not verify signatures.
    SignatureNotVerified {
        /// Path of the signature node.
        path: String,
    },
    /// More than [`MAX_ISSUES`] issues were found; the rest were dropped.
    TooManyIssues {
        /// How many were dropped.
        dropped: usize,
    },
}

/// Most issues kept for one FIT; the count of the rest is reported as
/// [`FitIssue::TooManyIssues`].
pub const MAX_ISSUES: usize = 4096;
/// Most names kept from one string-list property (`loadables`, `sign-images`, ...); a longer
/// list is cut and reported as [`FitIssue::BadProperty`].
pub const MAX_LIST_ENTRIES: usize = 256;

/// The issue list under construction, bounded by [`MAX_ISSUES`].
#[derive(Default)]
struct Issues {
    list: Vec<FitIssue>,
    dropped: usize,
}

impl Issues {
    fn push(&mut self, issue: FitIssue) {
        if self.list.len() < MAX_ISSUES {
            self.list.push(issue);
        } else {
            self.dropped += 1;
        }
    }

    fn finish(mut self) -> Vec<FitIssue> {
        if self.dropped > 0 {
            self.list.push(FitIssue::TooManyIssues {
                dropped: self.dropped,
            });
        }
        self.list
    }
}

/// Total bytes hashed per parse: four passes over the input plus 16 MiB.
fn hashing_budget(input_len: usize) -> u64 {
    (input_len as u64)
        .saturating_mul(4)
        .saturating_add(16 << 20)
}

/// Parses and verifies the FIT at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Fit, Error> {
    parse_at(bytes, 0)
}

/// Parses the FIT at `offset` of `image` and checks every hash; external data is looked up in
/// `image` and all ranges are absolute in `image`.
pub fn parse_at(image: &[u8], offset: usize) -> Result<Fit, Error> {
    parse_inner(image, offset, true)
}

/// True when the device tree has an `/images` node (what makes it a FIT).
pub fn is_fit(fdt: &fdt::Fdt<'_>) -> bool {
    fdt.root.child("images").is_some()
}

impl Fit {
    /// The image called `name`.
    pub fn image(&self, name: &str) -> Option<&FitImage> {
        self.images.iter().find(|i| i.name == name)
    }

    /// The default configuration, when `default` names one that exists.
    pub fn default_configuration(&self) -> Option<&FitConfig> {
        let name = self.default_config.as_deref()?;
        self.configurations.iter().find(|c| c.name == name)
    }

    /// True when every hash node was checked and matched (vacuously true with no hash nodes).
    pub fn all_hashes_ok(&self) -> bool {
        self.images.iter().flat_map(|i| &i.hashes).all(|h| h.ok)
    }

    /// One past the last byte of the FIT: the device tree or the furthest in-bounds data.
    pub fn end(&self) -> u64 {
        let fdt_end = self.offset.saturating_add(self.fdt_size);
        self.images
            .iter()
            .filter_map(|i| i.data_range.as_ref().map(|r| r.end))
            .fold(fdt_end, u64::max)
    }
}

fn parse_inner(image: &[u8], offset: usize, verify: bool) -> Result<Fit, Error> {
    let tree = fdt::parse_at(image, offset)?;
    from_tree(image, &tree, verify)
}

/// The FIT described by an already parsed `tree` from `image`; hashes are checked when
/// `verify` is set (scanning only needs the layout).
pub(crate) fn from_tree(image: &[u8], tree: &fdt::Fdt<'_>, verify: bool) -> Result<Fit, Error> {
    let Some(images_node) = tree.root.child("images") else {
        return Err(Error::invalid(
            tree.offset,
            "FIT",
            "the device tree has no /images node",
        ));
    };
    let mut issues = Issues::default();
    let mut budget = if verify {
        hashing_budget(image.len())
    } else {
        0
    };
    let layout = Layout {
        input: image,
        fit_offset: tree.offset,
        fdt_size: tree.total_size(),
    };
    let images: Vec<FitImage> = images_node
        .children
        .iter()
        .map(|node| layout.image(node, &mut budget, &mut issues))
        .collect();
    check_overlaps(&images, &layout, &mut issues);
    let names: HashSet<&str> = images.iter().map(|i| i.name.as_str()).collect();

    let mut configurations = Vec::new();
    let mut default_config = None;
    if let Some(configs) = tree.root.child("configurations") {
        default_config = string_prop(configs, "/configurations", "default", &mut issues);
        for node in &configs.children {
            let config = parse_config(node, &mut issues);
            for (role, name) in config.references() {
                if !names.contains(name) {
                    issues.push(FitIssue::MissingImage {
                        config: config.name.clone(),
                        role,
                        image: name.to_string(),
                    });
                }
            }
            configurations.push(config);
        }
        if let Some(name) = &default_config {
            if !configurations.iter().any(|c: &FitConfig| &c.name == name) {
                issues.push(FitIssue::MissingDefaultConfig { name: name.clone() });
            }
        }
    }
    let description = string_prop(&tree.root, "/", "description", &mut issues);
    Ok(Fit {
        offset: tree.offset,
        fdt_size: tree.total_size(),
        description,
        timestamp: tree.root.prop_u32("timestamp"),
        images,
        configurations,
        default_config,
        issues: issues.finish(),
    })
}

/// What locating external data needs.
struct Layout<'a> {
    input: &'a [u8],
    fit_offset: u64,
    fdt_size: u64,
}

impl Layout<'_> {
    fn image(&self, node: &Node<'_>, budget: &mut u64, issues: &mut Issues) -> FitImage {
        let name = node.name.to_string();
        let path = format!("/images/{name}");
        let uint = |property: &'static str, issues: &mut Issues| {
            let p = node.property(property)?;
            let value = p.as_uint();
            if value.is_none() {
                issues.push(FitIssue::BadProperty {
                    path: path.clone(),
                    property,
                });
            }
            value
        };
        let load = uint("load", issues);
        let entry = uint("entry", issues);
        let position = uint("data-position", issues);
        let data_offset = uint("data-offset", issues);
        let data_size = uint("data-size", issues);
        let embedded = node.property("data");

        let (location, size, data_range) = match (position, data_offset) {
            (Some(data_position), _) | (None, Some(data_position)) => {
                let location = if position.is_some() {
                    DataLocation::Position { data_position }
                } else {
                    DataLocation::External {
                        data_offset: data_position,
                    }
                };
                if embedded.is_some() {
                    issues.push(FitIssue::AmbiguousData {
                        image: name.clone(),
                    });
                }
                let start = match location {
                    DataLocation::External { data_offset } => self
                        .fit_offset
                        .saturating_add(self.fdt_size.saturating_add(3) & !3)
                        .saturating_add(data_offset),
                    _ => self.fit_offset.saturating_add(data_position),
                };
                match data_size {
                    None => {
                        issues.push(FitIssue::NoData {
                            image: name.clone(),
                        });
                        (location, None, None)
                    }
                    Some(size) => {
                        let end = start.saturating_add(size);
                        let range = (end <= self.input.len() as u64).then_some(start..end);
                        if range.is_none() {
                            issues.push(FitIssue::DataOutsideInput {
                                image: name.clone(),
                                start,
                                end,
                                input_len: self.input.len() as u64,
                            });
                        }
                        (location, Some(size), range)
                    }
                }
            }
            (None, None) => match embedded {
                Some(p) => {
                    let len = p.value.len() as u64;
                    (
                        DataLocation::Embedded,
                        Some(len),
                        Some(p.offset..p.offset + len),
                    )
                }
                None => {
                    issues.push(FitIssue::NoData {
                        image: name.clone(),
                    });
                    (DataLocation::Missing, None, None)
                }
            },
        };
        let data = data_range.as_ref().and_then(|r| {
            let start = usize::try_from(r.start).ok()?;
            let end = usize::try_from(r.end).ok()?;
            self.input.get(start..end)
        });

        let sha256 = data.filter(|d| spend(budget, d.len())).map(hash::sha256);
        let mut hashes = Vec::new();
        let mut signatures = Vec::new();
        for child in &node.children {
            if child.name.starts_with("hash") {
                hashes.push(check_hash(&name, child, data, sha256, budget, issues));
            } else if child.name.starts_with("signature") {
                signatures.push(signature(&format!("{path}/{}", child.name), child, issues));
            }
        }
        FitImage {
            description: string_prop(node, &path, "description", issues),
            kind: string_prop(node, &path, "type", issues),
            arch: string_prop(node, &path, "arch", issues),
            os: string_prop(node, &path, "os", issues),
            compression: string_prop(node, &path, "compression", issues),
            name,
            load,
            entry,
            location,
            size,
            data_range,
            sha256,
            hashes,
            signatures,
        }
    }
}

/// Takes `len` bytes from the hashing budget; false (and nothing taken) when it is too small.
fn spend(budget: &mut u64, len: usize) -> bool {
    match budget.checked_sub(len as u64) {
        Some(left) => {
            *budget = left;
            true
        }
        None => false,
    }
}

fn check_hash(
    image: &str,
    node: &Node<'_>,
    data: Option<&[u8]>,
    sha256: Option<[u8; 32]>,
    budget: &mut u64,
    issues: &mut Issues,
) -> FitHash {
    let algo = node.prop_str("algo").unwrap_or_default().to_string();
    let expected = node
        .property("value")
        .map(|p| p.value.to_vec())
        .unwrap_or_default();
    let not_checked = |reason: &'static str, issues: &mut Issues| {
        issues.push(FitIssue::HashNotChecked {
            image: image.to_string(),
            node: node.name.to_string(),
            algo: algo.clone(),
            reason,
        });
        None
    };
    let actual = if !SUPPORTED_ALGOS.contains(&algo.as_str()) {
        not_checked("unsupported algorithm", issues)
    } else if let (Some(digest), "sha256") = (sha256, algo.as_str()) {
        Some(digest.to_vec())
    } else {
        match data {
            None => not_checked("the image data is unavailable", issues),
            Some(d) if !spend(budget, d.len()) => not_checked("hashing budget spent", issues),
            Some(d) => hash::digest(&algo, d),
        }
    };
    let ok = actual.as_deref() == Some(expected.as_slice());
    if actual.is_some() && !ok {
        issues.push(FitIssue::HashMismatch {
            image: image.to_string(),
            node: node.name.to_string(),
            algo: algo.clone(),
        });
    }
    FitHash {
        node: node.name.to_string(),
        algo,
        expected,
        actual,
        ok,
    }
}

fn signature(path: &str, node: &Node<'_>, issues: &mut Issues) -> FitSignature {
    issues.push(FitIssue::SignatureNotVerified {
        path: path.to_string(),
    });
    FitSignature {
        path: path.to_string(),
        algo: string_prop(node, path, "algo", issues),
        key_name_hint: string_prop(node, path, "key-name-hint", issues),
        signed: string_list(node, path, "sign-images", issues),
        padding: string_prop(node, path, "padding", issues),
        value_len: node.property("value").map_or(0, |p| p.value.len()),
    }
}

fn parse_config(node: &Node<'_>, issues: &mut Issues) -> FitConfig {
    let path = format!("/configurations/{}", node.name);
    let signatures = node
        .children
        .iter()
        .filter(|c| c.name.starts_with("signature"))
        .map(|c| signature(&format!("{path}/{}", c.name), c, issues))
        .collect();
    FitConfig {
        name: node.name.to_string(),
        description: string_prop(node, &path, "description", issues),
        kernel: string_prop(node, &path, "kernel", issues),
        fdt: string_list(node, &path, "fdt", issues),
        firmware: string_list(node, &path, "firmware", issues),
        loadables: string_list(node, &path, "loadables", issues),
        ramdisk: string_prop(node, &path, "ramdisk", issues),
        fpga: string_prop(node, &path, "fpga", issues),
        signatures,
    }
}

/// A string property; a present but malformed one is an issue.
fn string_prop(
    node: &Node<'_>,
    path: &str,
    property: &'static str,
    issues: &mut Issues,
) -> Option<String> {
    let p = node.property(property)?;
    match p.as_str() {
        Some(s) => Some(s.to_string()),
        None => {
            issues.push(FitIssue::BadProperty {
                path: path.to_string(),
                property,
            });
            None
        }
    }
}

/// A string-list property (empty when absent); a malformed one is an issue.
fn string_list(
    node: &Node<'_>,
    path: &str,
    property: &'static str,
    issues: &mut Issues,
) -> Vec<String> {
    let Some(p) = node.property(property) else {
        return Vec::new();
    };
    match p.as_str_list() {
        Some(list) => {
            if list.len() > MAX_LIST_ENTRIES {
                issues.push(FitIssue::BadProperty {
                    path: path.to_string(),
                    property,
                });
            }
            list.into_iter()
                .take(MAX_LIST_ENTRIES)
                .map(str::to_string)
                .collect()
        }
        None => {
            issues.push(FitIssue::BadProperty {
                path: path.to_string(),
                property,
            });
            Vec::new()
        }
    }
}

/// Reports external data that overlaps the device tree or another image's external data.
/// Empty ranges overlap nothing.
fn check_overlaps(images: &[FitImage], layout: &Layout<'_>, issues: &mut Issues) {
    let fdt_range = layout.fit_offset..layout.fit_offset.saturating_add(layout.fdt_size);
    let mut external: Vec<(&Range<u64>, &str)> = images
        .iter()
        .filter(|i| i.location != DataLocation::Embedded)
        .filter_map(|i| i.data_range.as_ref().map(|r| (r, i.name.as_str())))
        .filter(|(r, _)| r.start < r.end)
        .collect();
    for (range, name) in &external {
        if range.start < fdt_range.end && fdt_range.start < range.end {
            issues.push(FitIssue::DataOverlapsFdt {
                image: name.to_string(),
            });
        }
    }
    external.sort_by_key(|(r, _)| (r.start, r.end));
    let mut furthest: Option<(u64, &str)> = None;
    for (range, name) in external {
        if let Some((end, other)) = furthest {
            if range.start < end {
                issues.push(FitIssue::DataOverlap {
                    image: name.to_string(),
                    other: other.to_string(),
                });
            }
        }
        if furthest.is_none_or(|(end, _)| range.end > end) {
            furthest = Some((range.end, name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::tests::Builder;

    /// A FIT with one embedded and two external images, then external data after the tree.
    fn sample(payload: &[u8]) -> Vec<u8> {
        let mut b = Builder::default();
        b.begin("")
            .prop_str("description", "test fit")
            .prop_u32("timestamp", 1234)
            .begin("images")
            .begin("kernel")
            .prop("data", b"KERNEL")
            .prop_str("type", "kernel")
            .prop_u32("load", 0x1000)
            .begin("hash-1")
            .prop_str("algo", "crc32")
            .prop("value", &crc32fast::hash(b"KERNEL").to_be_bytes())
            .end()
            .end()
            .begin("ext")
            .prop_u32("data-offset", 0)
            .prop_u32("data-size", payload.len() as u32)
            .begin("hash")
            .prop_str("algo", "sha256")
            .prop("value", &hash::sha256(payload))
            .end()
            .end()
            .begin("empty")
            .prop_u32("data-offset", payload.len() as u32)
            .prop_u32("data-size", 0)
            .end()
            .end()
            .begin("configurations")
            .prop_str("default", "conf-1")
            .begin("conf-1")
            .prop_str("kernel", "kernel")
            .prop("loadables", b"ext\0empty\0")
            .begin("signature-1")
            .prop_str("algo", "sha256,rsa2048")
            .prop_str("key-name-hint", "dev")
            .prop("sign-images", b"kernel\0")
            .end()
            .end()
            .end()
            .end();
        let mut out = b.finish();
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn parses_and_verifies_a_small_fit() {
        let bytes = sample(b"external payload");
        let fit = parse(&bytes).unwrap();
        assert_eq!(fit.description.as_deref(), Some("test fit"));
        assert_eq!(fit.timestamp, Some(1234));
        assert_eq!(fit.images.len(), 3);
        let ext = fit.image("ext").unwrap();
        assert_eq!(ext.location, DataLocation::External { data_offset: 0 });
        let range = ext.data_range.clone().unwrap();
        assert_eq!(
            &bytes[range.start as usize..range.end as usize],
            b"external payload"
        );
        assert!(fit.all_hashes_ok());
        assert_eq!(fit.image("kernel").unwrap().hashes[0].algo, "crc32");
        assert_eq!(fit.end(), bytes.len() as u64);
        let conf = fit.default_configuration().unwrap();
        assert_eq!(
            conf.references(),
            vec![
                ("kernel", "kernel"),
                ("loadables", "ext"),
                ("loadables", "empty")
            ]
        );
        assert_eq!(conf.signatures[0].key_name_hint.as_deref(), Some("dev"));
        assert_eq!(conf.signatures[0].signed, vec!["kernel"]);
        assert_eq!(
            fit.issues,
            vec![FitIssue::SignatureNotVerified {
                path: "/configurations/conf-1/signature-1".into()
            }]
        );
    }

    #[test]
    fn a_flipped_external_byte_is_a_named_mismatch() {
        let mut bytes = sample(b"external payload");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let fit = parse(&bytes).unwrap();
        assert!(!fit.all_hashes_ok());
        assert!(fit.issues.contains(&FitIssue::HashMismatch {
            image: "ext".into(),
            node: "hash".into(),
            algo: "sha256".into()
        }));
    }

    #[test]
    fn external_data_past_the_end_is_an_issue() {
        let bytes = sample(b"external payload");
        let fit = parse(&bytes[..bytes.len() - 1]).unwrap();
        let ext = fit.image("ext").unwrap();
        assert_eq!(ext.data_range, None);
        assert!(!ext.hashes[0].ok);
        assert!(fit
            .issues
            .iter()
            .any(|i| matches!(i, FitIssue::DataOutsideInput { image, .. } if image == "ext")));
    }

    #[test]
    fn overlaps_missing_images_and_defaults_are_issues() {
        let mut b = Builder::default();
        b.begin("")
            .begin("images")
            .begin("a")
            .prop_u32("data-position", 0x40)
            .prop_u32("data-size", 0x100)
            .end()
            .begin("b")
            .prop_u32("data-position", 0x80)
            .prop_u32("data-size", 0x10)
            .prop("data", b"x")
            .end()
            .begin("c")
            .prop_str("type", "kernel")
            .end()
            .end()
            .begin("configurations")
            .prop_str("default", "nope")
            .begin("conf")
            .prop_str("kernel", "ghost")
            .prop("fdt", b"\xff\0")
            .end()
            .end()
            .end();
        let mut bytes = b.finish();
        bytes.resize(0x400, 0);
        let fit = parse(&bytes).unwrap();
        for want in [
            FitIssue::DataOverlapsFdt { image: "a".into() },
            FitIssue::AmbiguousData { image: "b".into() },
            FitIssue::DataOverlap {
                image: "b".into(),
                other: "a".into(),
            },
            FitIssue::NoData { image: "c".into() },
            FitIssue::MissingImage {
                config: "conf".into(),
                role: "kernel",
                image: "ghost".into(),
            },
            FitIssue::BadProperty {
                path: "/configurations/conf".into(),
                property: "fdt",
            },
            FitIssue::MissingDefaultConfig {
                name: "nope".into(),
            },
        ] {
            assert!(fit.issues.contains(&want), "{want:?} in {:?}", fit.issues);
        }
    }

    #[test]
    fn not_a_fit_without_images() {
        let bytes = crate::fdt::tests::sample();
        let err = parse(&bytes).unwrap_err();
        assert!(err.to_string().contains("no /images"), "{err}");
    }

    #[test]
    fn every_truncation_is_handled() {
        let bytes = sample(b"external payload");
        for len in 0..bytes.len() {
            let _ = parse(&bytes[..len]);
        }
    }

    #[test]
    fn issues_and_lists_are_bounded() {
        let mut list = Vec::new();
        for i in 0..(MAX_LIST_ENTRIES + 10) {
            list.extend_from_slice(format!("ghost{i}").as_bytes());
            list.push(0);
        }
        let mut b = Builder::default();
        b.begin("").begin("images").end().begin("configurations");
        for c in 0..20 {
            b.begin(&format!("c{c}")).prop("loadables", &list).end();
        }
        b.end().end();
        let fit = parse(&b.finish()).unwrap();
        assert!(fit
            .configurations
            .iter()
            .all(|c| c.loadables.len() == MAX_LIST_ENTRIES));
        assert_eq!(fit.issues.len(), MAX_ISSUES + 1);
        let dropped = 20 * (MAX_LIST_ENTRIES + 1) - MAX_ISSUES;
        assert_eq!(
            fit.issues.last(),
            Some(&FitIssue::TooManyIssues { dropped })
        );
    }

    #[test]
    fn hashing_stops_at_the_budget() {
        let mut budget = 10;
        assert!(spend(&mut budget, 4));
        assert!(!spend(&mut budget, 7));
        assert_eq!(budget, 6);
    }
}
