//! Whole-flash layouts and BMC images: the Intel flash descriptor's regions (BIOS region read
//! as UEFI volumes, ME region as its partition table), and BMC flash contents (legacy u-boot
//! images, FIT images with every stored hash checked, device trees with their partition maps).

use crate::manifest::{FitHash, Issue, Module, ModuleKind, Region};
use crate::uefi::{join, raw_module, Place};
use crate::{hex_sha256, Ctx, Out};
use tamperscan_bmc::scan::{Found, FoundKind};
use tamperscan_bmc::{fdt, fit, uboot};
use tamperscan_bytes::hex;
use tamperscan_flash::{fpt, ifd};

fn at(off: u64) -> Place {
    Place {
        base: off,
        stored_in: None,
    }
}

fn slice(bytes: &[u8], from: u64, len: u64) -> Option<&[u8]> {
    let from = usize::try_from(from).ok()?;
    let to = from.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(from..to)
}

/// A whole SPI flash image with an Intel flash descriptor at its start.
pub(crate) fn intel_flash(
    ctx: &Ctx,
    bytes: &[u8],
    desc: &ifd::Descriptor,
    base: u64,
    prefix: &str,
    out: &mut Out,
) {
    for i in &desc.issues {
        out.issues.push(Issue {
            kind: "flash_descriptor",
            offset: base.saturating_add(i.offset),
            stored_in: None,
            path: join(prefix, "flash"),
            message: i.message.clone(),
        });
    }
    let mut used: Vec<&ifd::Region> = desc.regions.iter().filter(|r| r.used).collect();
    used.sort_by_key(|r| r.base);
    // Bytes no used region covers are still the flash: kept as raw modules when not erased.
    let mut covered = 0u64;
    for r in &used {
        if r.base > covered {
            outside(bytes, covered, r.base, base, prefix, out);
        }
        covered = covered.max(r.base.saturating_add(r.size()));
    }
    if covered < bytes.len() as u64 {
        outside(bytes, covered, bytes.len() as u64, base, prefix, out);
    }
    for r in used {
        let size = r.size();
        let data = slice(bytes, r.base, size);
        out.regions.push(Region {
            name: r.name.to_string(),
            source: "intel-flash-descriptor".into(),
            offset: base.saturating_add(r.base),
            size,
            sha256: data.map(hex_sha256),
        });
        let Some(data) = data else {
            out.issues.push(Issue {
                kind: "region_outside_image",
                offset: base.saturating_add(r.base),
                stored_in: None,
                path: join(prefix, r.name),
                message: format!("region {} ({:#x}..{:#x}) lies beyond the {}-byte image; is the dump cut short?", r.name, r.base, r.limit, bytes.len()),
            });
            continue;
        };
        let path = join(prefix, r.name);
        match r.index {
            1 => {
                let vols = crate::uefi::find_volumes(data);
                crate::volumes_in(
                    ctx,
                    data,
                    &vols,
                    at(base.saturating_add(r.base)),
                    &path,
                    out,
                );
            }
            2 => me_region(data, base.saturating_add(r.base), &path, out),
            _ => {
                if !data.iter().all(|&b| b == 0xFF) {
                    let mut m =
                        raw_module(data, at(base.saturating_add(r.base)), &path, "Flash region");
                    m.name = Some(r.name.to_string());
                    out.modules.push(m);
                }
            }
        }
    }
}

/// An ME/CSME/SPS region: one module per partition of its `$FPT` table (contents hashed, never
/// interpreted: Intel's licence), plus the table area; the whole region when there is no table.
fn outside(bytes: &[u8], from: u64, to: u64, base: u64, prefix: &str, out: &mut Out) {
    let Some(span) = slice(bytes, from, to.saturating_sub(from)) else {
        return;
    };
    if span.iter().all(|&b| b == 0xFF) {
        return;
    }
    let mut m = raw_module(
        span,
        at(base.saturating_add(from)),
        prefix,
        "Outside flash regions",
    );
    m.name = Some(format!("outside regions @{from:#x}"));
    out.modules.push(m);
}

pub(crate) fn me_region(data: &[u8], base: u64, path: &str, out: &mut Out) {
    let whole = |out: &mut Out| {
        let mut m = raw_module(data, at(base), path, "ME region");
        m.name = Some("ME region".into());
        out.modules.push(m);
    };
    let Some(start) = fpt::find(data) else {
        whole(out);
        return;
    };
    match fpt::parse_with_base(&data[start..], base.saturating_add(start as u64)) {
        Ok(table) => {
            let mut parts: Vec<&fpt::Partition> = table
                .partitions
                .iter()
                .filter(|p| p.valid && p.length > 0 && p.inside_region)
                .collect();
            parts.sort_by_key(|p| p.offset);
            let first = parts
                .first()
                .map_or(data.len(), |p| p.offset as usize)
                .min(data.len());
            let mut table_module = raw_module(&data[..first], at(base), path, "ME partition table");
            table_module.name = Some("$FPT".into());
            out.modules.push(table_module);
            // Bytes between and after partitions (not erased) are a module too.
            let mut covered = first;
            for p in &parts {
                let from = p.offset as usize;
                if from > covered {
                    slack(data, covered, from, base, path, out);
                }
                covered = covered.max(from.saturating_add(p.length as usize));
                let Some(bytes) = data.get(from..from.saturating_add(p.length as usize)) else {
                    continue;
                };
                let mut m = raw_module(
                    bytes,
                    at(base.saturating_add(from as u64)),
                    path,
                    "ME partition",
                );
                m.name = Some(p.name.clone());
                out.modules.push(m);
                out.regions.push(Region {
                    name: p.name.clone(),
                    source: "me-fpt".into(),
                    offset: base.saturating_add(u64::from(p.offset)),
                    size: u64::from(p.length),
                    sha256: p.sha256.map(|h| hex(&h)),
                });
            }
            if covered < data.len() {
                slack(data, covered, data.len(), base, path, out);
            }
            for i in &table.issues {
                out.issues.push(Issue {
                    kind: "me_partition_table",
                    offset: i.offset,
                    stored_in: None,
                    path: path.to_string(),
                    message: i.message.clone(),
                });
            }
        }
        Err(e) => {
            whole(out);
            out.issues.push(Issue {
                kind: "me_partition_table",
                offset: e.offset,
                stored_in: None,
                path: path.to_string(),
                message: e.to_string(),
            });
        }
    }
}

fn slack(data: &[u8], from: usize, to: usize, base: u64, path: &str, out: &mut Out) {
    let Some(span) = data.get(from..to) else {
        return;
    };
    if span.iter().all(|&b| b == 0xFF) {
        return;
    }
    let mut m = raw_module(
        span,
        at(base.saturating_add(from as u64)),
        path,
        "ME data outside partitions",
    );
    m.name = Some(format!("ME slack @{from:#x}"));
    out.modules.push(m);
}

fn module(
    kind: ModuleKind,
    name: String,
    file_type: String,
    path: &str,
    off: u64,
    bytes: &[u8],
    ok: bool,
) -> Module {
    let mut m = raw_module(bytes, at(off), path, &file_type);
    m.kind = kind;
    m.name = Some(name);
    m.checksum_ok = ok;
    m
}

/// BMC-side structures found by `tamperscan_bmc::scan`, top-level ones only (what sits inside
/// a FIT is read through the FIT). Bytes between them become raw modules.
pub(crate) fn bmc(
    ctx: &Ctx,
    bytes: &[u8],
    found: &[Found],
    base: u64,
    prefix: &str,
    out: &mut Out,
) {
    let mut covered = 0u64;
    let mut fits = 0usize;
    for f in found.iter().filter(|f| f.within.is_none()) {
        if f.offset > covered {
            gap(ctx, bytes, covered, f.offset, base, prefix, out);
        }
        covered = covered.max(f.offset.saturating_add(f.len));
        let off = usize::try_from(f.offset).unwrap_or(usize::MAX);
        match f.kind {
            FoundKind::Fit => {
                let path = if fits == 0 {
                    join(prefix, "FIT")
                } else {
                    join(prefix, &format!("FIT{}", fits + 1))
                };
                fits += 1;
                match fit::parse_at(bytes, off) {
                    Ok(image) => {
                        fit_tree(bytes, off, &path, base, out);
                        fit_modules(bytes, &image, &path, base, out)
                    }
                    Err(e) => push_issue(
                        out,
                        "fit_unparseable",
                        base.saturating_add(e.offset),
                        &path,
                        e.to_string(),
                    ),
                }
            }
            FoundKind::UbootLegacy => match uboot::parse_at(bytes, off) {
                Ok(img) => {
                    let data = slice(bytes, f.offset, f.len).unwrap_or(&[]);
                    let ok = img.header_crc_ok && img.data_crc_ok != Some(false);
                    let mut m = module(
                        ModuleKind::UbootImage,
                        img.name.clone(),
                        format!("u-boot legacy image ({:?})", img.image_type),
                        prefix,
                        base.saturating_add(f.offset),
                        data,
                        ok,
                    );
                    m.version = Some(img.name.clone());
                    out.modules.push(m);
                    if !ok {
                        push_issue(
                            out,
                            "uboot_crc",
                            base.saturating_add(f.offset),
                            prefix,
                            format!(
                                "legacy u-boot image '{}': header CRC {}, data CRC {}",
                                img.name,
                                if img.header_crc_ok { "ok" } else { "FAILS" },
                                match img.data_crc_ok {
                                    Some(true) => "ok",
                                    Some(false) => "FAILS",
                                    None => "not checked (data cut short)",
                                }
                            ),
                        );
                    }
                }
                Err(e) => push_issue(
                    out,
                    "uboot_unparseable",
                    base.saturating_add(e.offset),
                    prefix,
                    e.to_string(),
                ),
            },
            FoundKind::Fdt => {
                let data = slice(bytes, f.offset, f.len).unwrap_or(&[]);
                match fdt::parse_at(bytes, off) {
                    Ok(tree) => {
                        let model = tree
                            .root
                            .prop_str("model")
                            .unwrap_or("device tree")
                            .to_string();
                        out.modules.push(module(
                            ModuleKind::DeviceTree,
                            model,
                            "Device tree".into(),
                            prefix,
                            base.saturating_add(f.offset),
                            data,
                            true,
                        ));
                        for p in fdt::partitions(&tree) {
                            out.regions.push(Region {
                                name: p.label.clone(),
                                source: "device-tree".into(),
                                offset: base.saturating_add(p.offset),
                                size: p.size,
                                sha256: None,
                            });
                        }
                    }
                    Err(e) => push_issue(
                        out,
                        "fdt_unparseable",
                        base.saturating_add(e.offset),
                        prefix,
                        e.to_string(),
                    ),
                }
            }
        }
    }
    if (covered as usize) < bytes.len() {
        gap(ctx, bytes, covered, bytes.len() as u64, base, prefix, out);
    }
}

/// The FIT's own tree (descriptions, configurations, hash and signature nodes, load
/// addresses): every property except the sub-images' data, hashed as one module, so a changed
/// default configuration or a removed signature requirement shows.
fn fit_tree(bytes: &[u8], off: usize, path: &str, base: u64, out: &mut Out) {
    use sha2::{Digest, Sha256};
    let Ok(tree) = fdt::parse_at(bytes, off) else {
        return;
    };
    let mut h = Sha256::new();
    let mut size = 0u64;
    for (node_path, node) in tree.nodes() {
        for p in &node.properties {
            if p.name == "data" {
                continue;
            }
            for part in [node_path.as_bytes(), p.name.as_bytes(), p.value] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
                size += part.len() as u64;
            }
        }
    }
    let digest = hex(&h.finalize());
    let mut m = raw_module(
        &[],
        at(base.saturating_add(off as u64)),
        path,
        "FIT metadata",
    );
    m.kind = ModuleKind::DeviceTree;
    m.name = Some("FIT tree".into());
    m.size = size;
    m.sha256 = digest.clone();
    m.content_sha256 = digest;
    out.modules.push(m);
}

fn fit_modules(bytes: &[u8], image: &fit::Fit, path: &str, base: u64, out: &mut Out) {
    for img in &image.images {
        let data = img
            .data_range
            .as_ref()
            .and_then(|r| slice(bytes, r.start, r.end.saturating_sub(r.start)))
            .unwrap_or(&[]);
        let kind = img.kind.clone().unwrap_or_else(|| "unknown".into());
        let ok = img.hashes.iter().all(|h| h.ok);
        let off = img
            .data_range
            .as_ref()
            .map(|r| r.start)
            .unwrap_or(image.offset);
        let mut m = module(
            ModuleKind::FitImage,
            img.name.clone(),
            format!("FIT {kind}"),
            path,
            base.saturating_add(off),
            data,
            ok,
        );
        m.version = img.description.clone();
        out.modules.push(m);
        for h in &img.hashes {
            out.fit_hashes.push(FitHash {
                image: img.name.clone(),
                algo: h.algo.clone(),
                expected: hex(&h.expected),
                actual: h.actual.as_deref().map(hex).unwrap_or_default(),
                ok: h.ok,
            });
        }
    }
    for i in &image.issues {
        if matches!(i, fit::FitIssue::HashMismatch { .. }) {
            continue; // reported through fit_hashes
        }
        push_issue(
            out,
            "fit",
            base.saturating_add(image.offset),
            path,
            format!("{i:?}"),
        );
    }
}

fn push_issue(out: &mut Out, kind: &'static str, offset: u64, path: &str, message: String) {
    out.issues.push(Issue {
        kind,
        offset,
        stored_in: None,
        path: path.to_string(),
        message,
    });
}

/// Bytes between BMC structures: a root filesystem when one starts there (at a 4 KiB
/// boundary, as flash partitions do), else a raw module when not erased.
fn gap(ctx: &Ctx, bytes: &[u8], from: u64, to: u64, base: u64, prefix: &str, out: &mut Out) {
    let Some(span) = slice(bytes, from, to.saturating_sub(from)) else {
        return;
    };
    let fs_at = (0..span.len())
        .step_by(4096)
        .find(|&k| span.get(k..).and_then(tamperscan_rootfs::detect).is_some());
    let raw_end = fs_at.unwrap_or(span.len());
    let raw = &span[..raw_end];
    if !(raw.iter().all(|&b| b == 0xFF) || raw.iter().all(|&b| b == 0)) {
        let mut m = raw_module(
            raw,
            at(base.saturating_add(from)),
            prefix,
            "Data outside known structures",
        );
        m.name = Some(format!("data @{from:#x}"));
        out.modules.push(m);
    }
    if let Some(k) = fs_at {
        rootfs(
            ctx,
            &span[k..],
            base.saturating_add(from).saturating_add(k as u64),
            prefix,
            out,
        );
    }
}

/// A root filesystem: one module per file and symbolic link (mode and owner in `version`, so
/// a file made setuid or given to another owner shows as changed).
pub(crate) fn rootfs(ctx: &Ctx, data: &[u8], base: u64, prefix: &str, out: &mut Out) {
    let Some(kind) = tamperscan_rootfs::detect(data) else {
        return;
    };
    let fs = match kind {
        tamperscan_rootfs::FsKind::Squashfs { .. } => "squashfs",
        tamperscan_rootfs::FsKind::Cramfs { .. } => "cramfs",
        tamperscan_rootfs::FsKind::Jffs2 { .. } => "jffs2",
        _ => "rootfs",
    };
    let path = join(prefix, fs);
    let path = path.as_str();
    let budget = ctx.reserve_all();
    match tamperscan_rootfs::list(data, budget) {
        Ok(listing) => {
            let mut used = 0u64;
            for e in &listing.entries {
                let (file_type, hash) = match &e.kind {
                    tamperscan_rootfs::EntryKind::File => {
                        ("regular file", e.sha256.map(|h| hex(&h)))
                    }
                    tamperscan_rootfs::EntryKind::Symlink { target } => {
                        ("symbolic link", Some(hex_sha256(target.as_bytes())))
                    }
                    tamperscan_rootfs::EntryKind::Dir => ("directory", Some(hex_sha256(b""))),
                    tamperscan_rootfs::EntryKind::Device => ("device node", Some(hex_sha256(b""))),
                    _ => ("special file", Some(hex_sha256(b""))),
                };
                used = used.saturating_add(e.size);
                if hash.is_none() {
                    push_issue(out, "rootfs_file_not_hashed", base, path, format!("{} could not be read (budget, damage or an unsupported codec): compared as unknown", e.path));
                }
                // An empty hash means "not hashed": the diff never takes two of them as equal.
                let h = hash.unwrap_or_default();
                out.modules.push(Module {
                    key: String::new(),
                    kind: ModuleKind::FsFile,
                    guid: None,
                    name: Some(e.path.clone()),
                    version: Some(format!("mode {:o} uid {} gid {}", e.mode, e.uid, e.gid)),
                    file_type: file_type.into(),
                    type_raw: None,
                    path: path.into(),
                    occurrence: 0,
                    offset: e.offset.map_or(base, |o| base.saturating_add(o)),
                    stored_in: None,
                    size: e.size,
                    sha256: h.clone(),
                    content_sha256: h,
                    pe32_sha256: Vec::new(),
                    te_sha256: Vec::new(),
                    sections: Vec::new(),
                    checksum_ok: true,
                    content: Vec::new(),
                });
            }
            ctx.refund(budget.saturating_sub(usize::try_from(used).unwrap_or(usize::MAX)));
            for i in &listing.issues {
                push_issue(out, "rootfs", base, path, i.clone());
            }
        }
        Err(e) => {
            ctx.refund(budget);
            push_issue(
                out,
                "rootfs_unparseable",
                base.saturating_add(e.offset()),
                path,
                e.to_string(),
            );
        }
    }
}
