//! Firmware update archives: POSIX tar (ustar) as OpenBMC ships its update images
//! (`MANIFEST`, `image-bmc` or `image-u-boot`/`image-kernel`/`image-rofs`/`image-rwfs`,
//! `publickey`, `*.sig`), each member a module and each image member read like an image of its
//! own; and the OpenBMC `MANIFEST` itself.

use crate::manifest::{Issue, Module, ModuleKind};
use crate::uefi::{join, raw_module, Place};
use crate::{Ctx, Out};

const BLOCK: usize = 512;
/// Archives inside archives are read this deep, no deeper.
const MAX_DEPTH: u32 = 4;
/// Members read from one archive.
const MAX_MEMBERS: usize = 10_000;

/// One member of a tar archive that carries data.
pub(crate) struct Member {
    name: String,
    offset: usize,
    size: usize,
    /// Regular file (`0`, NUL, or `7` contiguous file, which extractors write as regular).
    regular: bool,
}

fn octal(field: &[u8]) -> Option<u64> {
    let text: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|&b| b != 0)
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(std::str::from_utf8(&text).ok()?, 8).ok()
}

fn header_ok(h: &[u8]) -> bool {
    let Some(stored) = h.get(148..156).and_then(octal) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    sum == stored
}

/// The regular files of a ustar archive, or `None` when `bytes` is not one (the first header
/// must carry the `ustar` magic and a valid checksum).
pub(crate) fn members(bytes: &[u8]) -> Option<Vec<Member>> {
    let first = bytes.get(..BLOCK)?;
    if first.get(257..262) != Some(b"ustar") || !header_ok(first) {
        return None;
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(h) = bytes.get(pos..pos + BLOCK) {
        if out.len() >= MAX_MEMBERS {
            break;
        }
        if h.iter().all(|&b| b == 0) || !header_ok(h) {
            break;
        }
        // A size that is not octal (GNU base-256) ends the walk; what came before stays.
        let Some(size) = h
            .get(124..136)
            .and_then(octal)
            .and_then(|n| usize::try_from(n).ok())
        else {
            break;
        };
        let name_field = h.get(..100)?;
        let prefix_field = h.get(345..500)?;
        let cut = |f: &[u8]| {
            String::from_utf8_lossy(f.split(|&b| b == 0).next().unwrap_or(&[])).into_owned()
        };
        let (name, prefix) = (cut(name_field), cut(prefix_field));
        let name = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let data = pos + BLOCK;
        let Some(end) = data.checked_add(size).filter(|&e| e <= bytes.len()) else {
            break;
        };
        let flag = h.get(156).copied().unwrap_or(0);
        // Links and directories carry no data; every other member's bytes are kept.
        if size > 0 || matches!(flag, b'0' | 0 | b'7') {
            out.push(Member {
                name: name.trim_start_matches("./").to_string(),
                offset: data,
                size,
                regular: matches!(flag, b'0' | 0 | b'7'),
            });
        }
        pos = end.div_ceil(BLOCK) * BLOCK;
    }
    // Bytes after the archive's end (past the last member) that are not zero padding are kept
    // as a member of their own.
    if let Some(rest) = bytes.get(pos..) {
        if let Some(first) = rest.iter().position(|&b| b != 0) {
            out.push(Member {
                name: format!("(data after the archive at {:#x})", pos + first),
                offset: pos + first,
                size: rest.len() - first,
                regular: false,
            });
        }
    }
    Some(out)
}

/// Reads every member as an image of its own (module paths `tar/<member>/...`); a member
/// tamperscan cannot read further (signatures, keys, unknown data) is one module hashed whole.
pub(crate) fn read(
    ctx: &Ctx,
    bytes: &[u8],
    members: &[Member],
    place: Place,
    path: &str,
    depth: u32,
    out: &mut Out,
) {
    let mut seen = std::collections::HashSet::new();
    for m in members {
        if m.regular && !seen.insert(m.name.as_str()) {
            out.issues.push(Issue {
                kind: "duplicate_member",
                offset: place.base + m.offset as u64,
                stored_in: place.stored_in,
                path: path.to_string(),
                message: format!(
                    "the archive holds {} twice; extracting it keeps the last copy",
                    m.name
                ),
            });
        }
        let Some(data) = bytes.get(m.offset..m.offset + m.size) else {
            continue;
        };
        let at = Place {
            base: place.base + m.offset as u64,
            stored_in: place.stored_in,
        };
        let mpath = join(path, &format!("tar/{}", m.name));
        let mut module = raw_module(data, at, path, "Archive member");
        module.kind = ModuleKind::FsFile;
        module.name = Some(m.name.clone());
        if !m.regular || m.name.ends_with(".sig") || m.name == "publickey" || data.is_empty() {
            out.modules.push(module);
            continue;
        }
        if depth + 1 > MAX_DEPTH {
            out.modules.push(module);
            out.issues.push(Issue {
                kind: "nesting_too_deep",
                offset: at.base,
                stored_in: at.stored_in,
                path: mpath,
                message: format!("archives nested deeper than {MAX_DEPTH}"),
            });
            continue;
        }
        let mut inner = Out::default();
        let format = crate::dispatch(ctx, data, at, &mpath, depth + 1, &mut inner);
        if format == "unknown" {
            // A member tamperscan cannot read further is one module, hashed whole.
            out.modules.push(module);
        } else {
            // Otherwise its contents are the modules (gaps between structures included).
            out.append(inner);
        }
    }
}

/// An OpenBMC `MANIFEST` (text `key=value`): a module whose version is the image version, so
/// a diff says which release each image claims to be.
pub(crate) fn openbmc_manifest(
    bytes: &[u8],
    place: Place,
    path: &str,
    out: &mut Out,
) -> Option<Module> {
    if !(bytes.starts_with(b"purpose=") || bytes.starts_with(b"version=")) {
        return None;
    }
    match tamperscan_bmc::openbmc::parse(bytes) {
        Ok(m) => {
            let mut module = raw_module(bytes, place, path, "OpenBMC MANIFEST");
            module.kind = ModuleKind::FsFile;
            module.name = Some(format!(
                "MANIFEST {}",
                m.machine_name().unwrap_or("(no MachineName)")
            ));
            module.version = m.version().map(str::to_string);
            Some(module)
        }
        Err(e) => {
            out.issues.push(Issue {
                kind: "openbmc_manifest",
                offset: place.base + e.offset,
                stored_in: place.stored_in,
                path: path.to_string(),
                message: format!("line {}: {}", e.line, e.reason),
            });
            None
        }
    }
}
