//! Firmware images to module manifests, golden diffs and rules.
//!
//! [`analyze`] reads an image (a whole SPI flash dump, a BIOS region, a bare firmware volume, an
//! FFS file, a PE driver, a BMC flash or one of its parts) into a [`Manifest`]: every module with
//! a stable identity and hashes, volumes, NVRAM variables, non-erased free space, FIT hash checks
//! and issues. [`diff()`] compares two manifests; [`rules`] matches modules against rule files.
//! No I/O: callers hand in bytes.

mod archive;
pub mod diff;
mod layout;
pub mod manifest;
mod nvram;
pub mod picture;
pub mod rules;
pub mod uefi;
pub mod writer;

pub use manifest::{
    FitHash, FreeSpace, ImageInfo, Issue, Manifest, Module, ModuleKind, Region, Variable, Volume,
    MANIFEST_SCHEMA,
};

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use uefi::Place;

/// Modules, sections and archive members one image may produce; past it the rest of the
/// image is hashed as raw spans with a `too_many_modules` issue.
pub const MAX_MODULES: usize = 500_000;

/// Bounds on the work one image may cause.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Total bytes all decompressions of one image may produce.
    pub decompress_budget: usize,
    /// Deepest nesting of volumes and encapsulation sections.
    pub max_depth: u32,
    /// Keep each module's decompressed content in [`Module::content`] (for byte-pattern rules).
    pub keep_content: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            decompress_budget: 512 << 20,
            max_depth: 16,
            keep_content: false,
        }
    }
}

/// Shared state of one analysis.
pub(crate) struct Ctx {
    pub(crate) limits: Limits,
    budget: AtomicUsize,
    modules: AtomicUsize,
}

impl Ctx {
    fn new(limits: Limits) -> Ctx {
        Ctx {
            limits,
            budget: AtomicUsize::new(limits.decompress_budget),
            modules: AtomicUsize::new(MAX_MODULES),
        }
    }

    /// Takes all that is left of the budget (for work that cannot say its size first).
    pub(crate) fn reserve_all(&self) -> usize {
        self.budget.swap(0, Ordering::Relaxed)
    }

    /// Gives back what a reservation did not use.
    pub(crate) fn refund(&self, n: usize) {
        let _ = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_add(n))
            });
    }

    /// Counts `n` more modules against the per-image cap; false (once, with no more work
    /// wanted) when the cap is reached.
    pub(crate) fn take_modules(&self, n: usize) -> bool {
        self.modules
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    /// Runs a decompressor within the budget. The output size the header declares is reserved
    /// first (all that is left when nothing is declared) and what was not used is given back,
    /// so parallel decompressions never hold more than the budget between them. Failures become
    /// issues.
    pub(crate) fn decompress(
        &self,
        place: Place,
        path: &str,
        out: &mut Out,
        declared: Option<u64>,
        run: impl FnOnce(usize) -> Result<Vec<u8>, tamperscan_decompress::Error>,
    ) -> Option<Vec<u8>> {
        let push = |out: &mut Out, kind, message| {
            out.issues.push(Issue {
                kind,
                offset: place.base,
                stored_in: place.stored_in,
                path: path.to_string(),
                message,
            })
        };
        let want = declared.map(|d| usize::try_from(d).unwrap_or(usize::MAX));
        let reserved = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| match want {
                Some(w) if w <= left => Some(left - w),
                Some(_) => None,
                None if left > 0 => Some(0),
                None => None,
            })
            .ok()
            .map(|left| want.unwrap_or(left));
        let Some(limit) = reserved else {
            push(out, "decompress_budget", format!("the decompression budget of {} bytes for this image is spent (this section declares {}); contents not inspected", self.limits.decompress_budget, declared.map_or("no size".to_string(), |d| format!("{d} bytes"))));
            return None;
        };
        let result = run(limit);
        let used = result.as_ref().map_or(0, Vec::len);
        let _ = self
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                Some(b.saturating_add(limit.saturating_sub(used)))
            });
        match result {
            Ok(buf) => Some(buf),
            Err(e) => {
                push(
                    out,
                    "decompress_failed",
                    format!("decompression failed: {e}"),
                );
                None
            }
        }
    }
}

/// Pieces of a manifest gathered by one part of the parse, appended in image order.
#[derive(Default)]
pub(crate) struct Out {
    pub(crate) volumes: Vec<Volume>,
    pub(crate) modules: Vec<Module>,
    pub(crate) variables: Vec<Variable>,
    pub(crate) free_space: Vec<FreeSpace>,
    pub(crate) issues: Vec<Issue>,
    pub(crate) regions: Vec<Region>,
    pub(crate) fit_hashes: Vec<FitHash>,
}

impl Out {
    pub(crate) fn append(&mut self, mut o: Out) {
        self.volumes.append(&mut o.volumes);
        self.modules.append(&mut o.modules);
        self.variables.append(&mut o.variables);
        self.free_space.append(&mut o.free_space);
        self.issues.append(&mut o.issues);
        self.regions.append(&mut o.regions);
        self.fit_hashes.append(&mut o.fit_hashes);
    }
}

/// sha256 as lowercase hex.
pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    tamperscan_bytes::hex(&Sha256::digest(bytes))
}

/// Reads an image into its manifest.
pub fn analyze(bytes: &[u8], limits: Limits) -> Manifest {
    let ctx = Ctx::new(limits);
    let mut out = Out::default();
    let mut m = Manifest {
        schema: MANIFEST_SCHEMA,
        image: ImageInfo {
            size: bytes.len() as u64,
            sha256: String::new(),
            format: String::new(),
        },
        ..Default::default()
    };
    let top = Place {
        base: 0,
        stored_in: None,
    };
    // The whole-image hash runs beside the parse.
    let (format, sha256) = rayon::join(
        || dispatch(&ctx, bytes, top, "", 0, &mut out),
        || hex_sha256(bytes),
    );
    m.image.format = format.into();
    m.image.sha256 = sha256;
    if limits.keep_content {
        // Pattern rules look inside modules that were not unpacked too (PE drivers, FIT
        // sub-images, raw spans, archive members): their bytes are where they sit.
        let in_place = |x: &Module| match x.kind {
            ModuleKind::FfsFile => false,
            ModuleKind::FsFile => x.file_type == "Archive member",
            _ => x.file_type != "FIT metadata",
        };
        for md in out
            .modules
            .iter_mut()
            .filter(|x| x.content.is_empty() && x.stored_in.is_none() && in_place(x))
        {
            let from = usize::try_from(md.offset).unwrap_or(usize::MAX);
            let to = from.saturating_add(usize::try_from(md.size).unwrap_or(0));
            if let Some(b) = bytes.get(from..to) {
                md.content = b.to_vec();
            }
        }
    }
    m.regions = out.regions;
    m.fit_hashes = out.fit_hashes;
    m.volumes = out.volumes;
    m.modules = out.modules;
    m.variables = out.variables;
    m.free_space = out.free_space;
    m.issues = out.issues;
    m.assign_keys();
    m
}

/// Recognises what `bytes` holds and reads it into `out`; returns the format's name. Modules'
/// paths start with `path` (empty for a whole image, `tar/<member>` inside an archive).
pub(crate) fn dispatch(
    ctx: &Ctx,
    bytes: &[u8],
    place: Place,
    path: &str,
    depth: u32,
    out: &mut Out,
) -> &'static str {
    let vols = uefi::find_volumes(bytes);
    let descriptor = tamperscan_flash::ifd::find(bytes)
        .filter(|&o| o == 0)
        .and_then(|_| tamperscan_flash::ifd::parse(bytes).ok());
    let bmc_found = if descriptor.is_none() && vols.is_empty() {
        tamperscan_bmc::scan::scan(bytes)
    } else {
        Vec::new()
    };
    if let Some(desc) = &descriptor {
        layout::intel_flash(ctx, bytes, desc, place.base, path, out);
        "intel-flash"
    } else if !vols.is_empty() {
        volumes_in(ctx, bytes, &vols, place, path, out);
        "uefi-volumes"
    } else if let Some(files) = uefi::bare_files(ctx, bytes, place, path) {
        out.append(files);
        "ffs-files"
    } else if tamperscan_flash::fpt::find(bytes).is_some_and(|o| o <= 16) {
        layout::me_region(bytes, place.base, &uefi::join(path, "ME"), out);
        "me-region"
    } else if let Some(members) = archive::members(bytes) {
        archive::read(ctx, bytes, &members, place, path, depth, out);
        "tar"
    } else if !bmc_found.is_empty() {
        layout::bmc(ctx, bytes, &bmc_found, place.base, path, out);
        "bmc"
    } else if tamperscan_rootfs::detect(bytes).is_some() {
        layout::rootfs(ctx, bytes, place.base, path, out);
        "rootfs"
    } else if let Some(manifest) = archive::openbmc_manifest(bytes, place, path, out) {
        out.modules.push(manifest);
        "openbmc-manifest"
    } else if bytes.starts_with(b"MZ") {
        let mut md = uefi::raw_module(bytes, place, path, "PE image");
        md.kind = ModuleKind::PeImage;
        md.name = None;
        md.pe32_sha256 = vec![md.sha256.clone()];
        out.modules.push(md);
        "pe-image"
    } else {
        if !bytes.is_empty() {
            out.modules
                .push(uefi::raw_module(bytes, place, path, "Unrecognised data"));
        }
        out.issues.push(Issue {
            kind: "unrecognised",
            offset: place.base,
            stored_in: place.stored_in,
            path: path.to_string(),
            message: "no firmware structure tamperscan knows was found; the data is hashed whole"
                .into(),
        });
        "unknown"
    }
}

/// Parses the volumes at `vols` in `bytes`; what lies between them is kept as raw modules.
pub(crate) fn volumes_in(
    ctx: &Ctx,
    bytes: &[u8],
    vols: &[usize],
    place: Place,
    path: &str,
    out: &mut Out,
) {
    let mut covered = 0usize;
    for &at in vols {
        if at > covered {
            gap(bytes, covered, at, place, path, out);
        }
        match uefi::volume(ctx, &bytes[at..], place_at(place, at), path, 0) {
            Ok(v) => {
                let len = v.volumes.first().map(|v| v.size).unwrap_or(0);
                out.append(v);
                covered = at
                    .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
                    .min(bytes.len());
            }
            Err(e) => {
                out.issues.push(Issue {
                    kind: "volume_unparseable",
                    offset: place.base + at as u64,
                    stored_in: place.stored_in,
                    path: path.to_string(),
                    message: e.to_string(),
                });
                covered = at;
            }
        }
    }
    if covered < bytes.len() {
        gap(bytes, covered, bytes.len(), place, path, out);
    }
}

fn place_at(p: Place, off: usize) -> Place {
    Place {
        base: p.base + off as u64,
        stored_in: p.stored_in,
    }
}

/// Bytes between structures: nothing when erased, a raw module otherwise.
fn gap(bytes: &[u8], from: usize, to: usize, place: Place, path: &str, out: &mut Out) {
    let span = &bytes[from..to];
    if span.iter().all(|&b| b == 0xFF) || span.iter().all(|&b| b == 0) {
        return;
    }
    out.modules.push(uefi::raw_module(
        span,
        place_at(place, from),
        path,
        "Data outside volumes",
    ));
}
