//! Walking a fleet directory and reading its evidence, bounded and in parallel.

use crate::config::{parse_fleet_toml, parse_host_toml, FleetConfig, HostConfig, ModelConfig};
use crate::error::{FleetError, LoadError};
use crate::layout::classify;
use crate::observe::BootLog;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use tamperscan_bytes::hex;
use tamperscan_bytes::sniff::{png_header, sniff, Format, SNIFF_LEN};
use tamperscan_bytes::text::as_text;
use tamperscan_model::{EvidenceItem, EvidenceKind, EvidenceStatus, HostId};

/// Where a model's boot reference values live, relative to its directory.
pub const BOOT_REFERENCE: &str = "boot/reference.toml";

/// The largest `fleet.toml` or `host.toml` accepted.
pub const CONFIG_SIZE_LIMIT: u64 = 1024 * 1024;
/// How deep a walk goes below a host or model directory.
const MAX_DEPTH: usize = 8;
/// How many directory entries one host or model directory may hold before the rest is skipped.
const MAX_ENTRIES: usize = 10_000;
/// How many hosts (or models) one fleet directory may hold. Beyond it the audit refuses rather
/// than silently judging part of the fleet.
pub const MAX_HOSTS: usize = 2_000_000;

/// A fleet directory, read.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The directory.
    pub root: PathBuf,
    /// The fleet's name (`[fleet] name`, else the directory name).
    pub name: String,
    /// `fleet.toml` (defaults when absent).
    pub config: FleetConfig,
    /// The models, declared in `fleet.toml` or present under `models/`.
    pub models: BTreeMap<String, Model>,
    /// The hosts, sorted by id.
    pub hosts: Vec<Host>,
    /// Things at fleet level that were not read, and why.
    pub notes: Vec<Note>,
    /// `network/` read with the fleet's context and scored, when the directory exists.
    pub network: Option<crate::network::NetworkScan>,
}

/// One hardware model and its references.
#[derive(Debug, Clone)]
pub struct Model {
    /// The model's name.
    pub name: String,
    /// True when `[models.<name>]` declares it in `fleet.toml`.
    pub declared: bool,
    /// Its `fleet.toml` entry.
    pub config: ModelConfig,
    /// Reference files under `models/<name>/` (golden images and the like).
    pub references: Vec<EvidenceItem>,
    /// Files under `models/<name>/` that were not read.
    pub notes: Vec<Note>,
    /// `models/<name>/boot/reference.toml`, with its path relative to the fleet root.
    pub boot_reference: Option<(String, crate::boot_reference::BootReference)>,
    /// Golden firmware images (`models/<name>/firmware/<slot>.bin`), analysed.
    pub firmware: Vec<crate::firmware::FirmwareImage>,
    /// The bill of materials (`models/<name>/bom.toml` or `bom.csv`), with its path.
    pub bom: Option<(String, tamperscan_inventory::bom::Bom)>,
    /// The CA that signs its platform certificates (`models/<name>/platform-ca.pem`).
    pub platform_ca: Option<(String, tamperscan_platcert::Certificate)>,
}

/// One host and its evidence.
#[derive(Debug, Clone)]
pub struct Host {
    /// Its id.
    pub id: HostId,
    /// Its directory relative to the fleet root (`hosts/<dir>`).
    pub dir: String,
    /// `host.toml`, or defaults when there is none.
    pub config: HostConfig,
    /// True when the host has a `host.toml`.
    pub has_host_toml: bool,
    /// Its evidence files, sorted by path.
    pub evidence: Vec<EvidenceItem>,
    /// Files that were not read, and why.
    pub notes: Vec<Note>,
    /// Its TCG event logs, parsed and replayed.
    pub boot_logs: Vec<BootLog>,
    /// Its TPM quote, verified against its first event log.
    pub quote: Option<crate::observe::QuoteObservation>,
    /// Its firmware images, analysed (sorted by path).
    pub firmware: Vec<crate::firmware::FirmwareImage>,
    /// What its inventory evidence (SMBIOS, dmidecode, Redfish, lspci) says it is made of.
    pub inventory: Option<crate::inventory::Inventory>,
    /// Its board images compared with its model's golden images (sorted by path).
    pub boards: Vec<crate::board::BoardComparison>,
}

/// Something in the fleet directory that tamperscan did not read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    /// Path relative to the fleet root.
    pub path: String,
    /// Why it was not read.
    pub message: String,
}

struct PendingFile {
    abs: PathBuf,
    rel: String,
    kind: EvidenceKind,
}

/// Reads the fleet directory at `root`: configuration first (every error collected), then all
/// evidence files in parallel. `progress(done, total)` is called as hosts finish.
pub fn load(root: &Path, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Fleet, LoadError> {
    let meta =
        fs::metadata(root).map_err(|e| one(root, format!("cannot open fleet directory: {e}")))?;
    if !meta.is_dir() {
        return Err(one(root, "is not a directory; give the fleet directory (the one holding fleet.toml, models/ and hosts/)"));
    }
    let mut errors = Vec::new();
    let mut notes = Vec::new();

    let config = match read_config(&root.join("fleet.toml")) {
        Ok(Some(bytes)) => parse_fleet_toml(&bytes, &root.join("fleet.toml")).unwrap_or_else(|e| {
            errors.push(e);
            FleetConfig::default()
        }),
        Ok(None) => {
            notes.push(Note {
                path: "fleet.toml".into(),
                message: "absent; using defaults".into(),
            });
            FleetConfig::default()
        }
        Err(e) => {
            errors.push(e);
            FleetConfig::default()
        }
    };
    let name = config.fleet.name.clone().unwrap_or_else(|| {
        fs::canonicalize(root)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "fleet".into())
    });

    for entry in sorted_entries(root, "", MAX_ENTRIES, &mut notes).0 {
        let known = matches!(
            entry.as_str(),
            "fleet.toml" | "models" | "hosts" | "network" | "rules"
        ) || entry.starts_with("tamperscan.db")
            || entry.starts_with("report")
            || entry.starts_with('.');
        if !known {
            notes.push(Note {
                path: entry,
                message: "not part of the fleet layout; ignored".into(),
            });
        }
    }
    let mut models: BTreeMap<String, Model> = config
        .models
        .iter()
        .map(|(name, cfg)| {
            let model = Model {
                name: name.clone(),
                declared: true,
                config: cfg.clone(),
                references: Vec::new(),
                notes: Vec::new(),
                boot_reference: None,
                firmware: Vec::new(),
                bom: None,
                platform_ca: None,
            };
            (name.clone(), model)
        })
        .collect();
    let mut model_files: BTreeMap<String, Vec<PendingFile>> = BTreeMap::new();
    for dir in sorted_dirs(root, "models", &mut notes, &mut errors) {
        let rel = format!("models/{dir}");
        let model = models.entry(dir.clone()).or_insert_with(|| Model {
            name: dir.clone(),
            declared: false,
            config: ModelConfig::default(),
            references: Vec::new(),
            notes: Vec::new(),
            boot_reference: None,
            firmware: Vec::new(),
            bom: None,
            platform_ca: None,
        });
        let reference_path = root.join(&rel).join(BOOT_REFERENCE);
        match read_config(&reference_path) {
            Ok(Some(bytes)) => {
                match crate::boot_reference::parse_boot_reference(&bytes, &reference_path) {
                    Ok(reference) => {
                        model.boot_reference = Some((format!("{rel}/{BOOT_REFERENCE}"), reference))
                    }
                    Err(e) => errors.push(e),
                }
            }
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
        for name in [crate::inventory::BOM_TOML, crate::inventory::BOM_CSV] {
            let bom_path = root.join(&rel).join(name);
            match read_config(&bom_path) {
                Ok(Some(bytes)) => {
                    let text = String::from_utf8_lossy(&bytes);
                    match crate::inventory::parse_bom(name, &text) {
                        Ok(bom) => model.bom = Some((format!("{rel}/{name}"), bom)),
                        Err(e) => errors.push(FleetError::new(
                            &bom_path,
                            format!("{e} (format: see the README, bill of materials)"),
                        )),
                    }
                }
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        for name in crate::inventory::PLATFORM_CA {
            let ca_path = root.join(&rel).join(name);
            match read_config(&ca_path) {
                Ok(Some(bytes)) => match crate::inventory::parse_ca(&bytes) {
                    Ok(ca) => model.platform_ca = Some((format!("{rel}/{name}"), ca)),
                    Err(e) => errors.push(FleetError::new(
                        &ca_path,
                        format!("is not an X.509 CA certificate: {e}"),
                    )),
                },
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        let mut files = Vec::new();
        walk(&root.join(&rel), &rel, 0, &mut files, &mut model.notes);
        let pending = files
            .into_iter()
            .filter(|(_, slot)| {
                slot != BOOT_REFERENCE
                    && slot != crate::inventory::BOM_TOML
                    && slot != crate::inventory::BOM_CSV
                    && !crate::inventory::PLATFORM_CA.contains(&slot.as_str())
            })
            .filter_map(|(abs, slot)| {
                let path = format!("{rel}/{slot}");
                match classify(&slot) {
                    Some(kind) => Some(PendingFile {
                        abs,
                        rel: path,
                        kind,
                    }),
                    None => {
                        model.notes.push(Note {
                            path,
                            message: "not a reference this build reads".into(),
                        });
                        None
                    }
                }
            });
        model_files.insert(dir, pending.collect());
    }

    // Scanning host directories (host.toml and the file walk) is independent per host: in
    // parallel, then ids are checked for uniqueness in directory order.
    let host_dirs = sorted_dirs(root, "hosts", &mut notes, &mut errors);
    let io = io_pool();
    let scan = || -> Vec<ScannedHost> {
        host_dirs
            .par_iter()
            .map(|dir| scan_host(root, dir))
            .collect()
    };
    let scanned = on_reading_pool(io.as_ref(), scan);
    let mut hosts = Vec::with_capacity(scanned.len());
    let mut host_files = Vec::with_capacity(scanned.len());
    let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
    for result in scanned {
        match result {
            Ok((host, pending)) => {
                if let Some(other) = seen_ids.insert(host.id.0.clone(), host.dir.clone()) {
                    errors.push(FleetError::new(
                        root.join(&host.dir).join("host.toml"),
                        format!(
                            "host id {:?} is already used by {other}; host ids must be unique",
                            host.id.0
                        ),
                    ));
                    continue;
                }
                hosts.push(host);
                host_files.push(pending);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    let analyser = match crate::firmware::FirmwareAnalyser::new(root) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let Some(analyser) = analyser.filter(|_| errors.is_empty()) else {
        return Err(LoadError(errors));
    };

    let total = hosts.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let no_forbidden = BTreeSet::new();
    let forbidden: BTreeMap<&str, BTreeSet<String>> = models
        .iter()
        .filter_map(|(name, m)| {
            let (_, reference) = m.boot_reference.as_ref()?;
            Some((
                name.as_str(),
                reference
                    .forbidden
                    .iter()
                    .map(|d| d.to_ascii_lowercase())
                    .collect(),
            ))
        })
        .collect();
    let read_hosts = || {
        hosts
            .par_iter_mut()
            .zip(host_files.into_par_iter())
            .for_each(|(host, files)| {
                let mut quote = crate::observe::QuoteParts::default();
                let mut inventory = crate::inventory::InventoryParts::default();
                let model = host.config.model.as_ref().map(|(m, _)| m.as_str());
                let forbidden = model
                    .and_then(|m| forbidden.get(m))
                    .unwrap_or(&no_forbidden);
                for f in &files {
                    let item = with_read_buffer(|buf| {
                        let (item, len) = read_evidence_in(&f.abs, &f.rel, &f.kind, buf);
                        if let (Some(len), EvidenceStatus::Read) = (len, &item.status) {
                            observe(
                                host,
                                &mut quote,
                                &mut inventory,
                                &item,
                                (buf, len),
                                forbidden,
                                &analyser,
                            );
                        }
                        item
                    });
                    host.evidence.push(item);
                }
                host.inventory = inventory.finish();
                host.boot_logs.sort_by(|a, b| a.path.cmp(&b.path));
                host.quote = quote.verify(&host.boot_logs, host.config.quote_nonce.as_deref());
                host.evidence.sort_by(|a, b| a.path.cmp(&b.path));
                host.firmware.sort_by(|a, b| a.path.cmp(&b.path));
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
            })
    };
    on_reading_pool(io.as_ref(), read_hosts);
    for (name, files) in model_files {
        if let Some(model) = models.get_mut(&name) {
            let read: Vec<(EvidenceItem, Option<crate::firmware::FirmwareImage>)> = files
                .par_iter()
                .map(|f| {
                    let (item, bytes) = with_read_buffer(|buf| {
                        let (item, len) = read_evidence_in(&f.abs, &f.rel, &f.kind, buf);
                        let bytes = len.map(|len| take_bytes(buf, len));
                        (item, bytes)
                    });
                    let golden = match (&item.kind, bytes, &item.status, &item.sha256) {
                        (
                            EvidenceKind::FirmwareImage { name },
                            Some(bytes),
                            EvidenceStatus::Read,
                            Some(sha),
                        ) => {
                            analyser.add(sha, bytes);
                            Some(crate::firmware::FirmwareImage {
                                name: name.clone(),
                                path: item.path.clone(),
                                sha256: sha.clone(),
                                analysis: crate::firmware::FirmwareAnalysis::pending(),
                            })
                        }
                        _ => None,
                    };
                    (item, golden)
                })
                .collect();
            for (item, golden) in read {
                model.references.push(item);
                model.firmware.extend(golden);
            }
        }
    }
    // Every distinct firmware image, analysed once, handed to the hosts and models holding it.
    let analyses = analyser.finish();
    let images = hosts
        .iter_mut()
        .flat_map(|h| h.firmware.iter_mut())
        .chain(models.values_mut().flat_map(|m| m.firmware.iter_mut()));
    for img in images {
        if let Some(a) = analyses.get(&img.sha256) {
            img.analysis = a.clone();
        }
    }
    hosts.sort_by(|a, b| a.id.cmp(&b.id));
    crate::board::compare_fleet(root, &models, &mut hosts);
    let network = crate::network::network_dir(root).map(|dir| {
        let ctx =
            crate::network::context(&config, hosts.iter().map(|h| (h.id.0.as_str(), &h.config)));
        match ctx {
            Ok(ctx) => crate::network::scan_fleet_network(&dir, ctx).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    });
    if let Some(Err(message)) = &network {
        notes.push(Note {
            path: "network".into(),
            message: format!("not scanned: {message}"),
        });
    }
    if let Some(Ok(scan)) = &network {
        for (file, why) in &scan.stats.files_skipped {
            notes.push(Note {
                path: file
                    .strip_prefix(root)
                    .unwrap_or(file)
                    .to_string_lossy()
                    .into_owned(),
                message: why.clone(),
            });
        }
    }
    Ok(Fleet {
        root: root.to_path_buf(),
        name,
        config,
        models,
        hosts,
        notes,
        network: network.and_then(Result::ok),
    })
}

/// How many reading threads per worker thread the host stages use.
const IO_THREADS_PER_WORKER: usize = 4;

/// Set when the user fixed the number of threads (`-j`): reading then stays on the workers.
static WORKERS_ONLY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keeps every stage of [`load`] on the worker threads (rayon's global pool), for a user who
/// limited them: no extra reading threads are started.
pub fn use_worker_threads_only() {
    WORKERS_ONLY.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Reading hosts waits on the file system (directory lookups, files not in the page cache):
/// the host stages run on a pool with more threads than the workers (`-j`) so that a thread
/// waiting for the disk does not leave a core idle. `None` when no pool can be started (the
/// stages then run on the workers).
fn io_pool() -> Option<rayon::ThreadPool> {
    if WORKERS_ONLY.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let threads = rayon::current_num_threads().saturating_mul(IO_THREADS_PER_WORKER);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("tamperscan-read-{i}"))
        .build()
        .ok()
}

/// Runs `f` on the reading pool when there is one, else on the workers.
fn on_reading_pool<R: Send>(pool: Option<&rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// A host with its evidence files still to read, or the configuration errors of its directory.
type ScannedHost = Result<(Host, Vec<PendingFile>), Vec<FleetError>>;

/// Reads one host directory's `host.toml` and lists its evidence files (not yet read).
fn scan_host(root: &Path, dir: &str) -> ScannedHost {
    let rel = format!("hosts/{dir}");
    let host_dir = root.join(&rel);
    let toml_path = host_dir.join("host.toml");
    let (config, has_host_toml) = match read_config(&toml_path) {
        Ok(Some(bytes)) => (
            parse_host_toml(&bytes, &toml_path).map_err(|e| vec![e])?,
            true,
        ),
        Ok(None) => (HostConfig::default(), false),
        Err(e) => return Err(vec![e]),
    };
    let id = config.id.clone().unwrap_or_else(|| dir.to_string());
    let mut errors = Vec::new();
    let mut host_notes = Vec::new();
    let mut files = Vec::new();
    walk(&host_dir, &rel, 0, &mut files, &mut host_notes);
    let mut pending = Vec::new();
    let mut taken = BTreeSet::new();
    for (slot, file, line_col) in &config.evidence {
        let Some(kind) = classify(slot) else {
            errors.push(FleetError::at(&toml_path, *line_col, format!("[evidence] slot {slot:?} is not an evidence slot (e.g. \"firmware/bmc.bin\", \"boot/eventlog.bin\")")));
            continue;
        };
        let abs = host_dir.join(file);
        match fs::metadata(&abs) {
            Ok(m) if m.is_file() => {
                taken.insert(slot.clone());
                pending.push(PendingFile {
                    abs,
                    rel: format!("{rel}/{slot}"),
                    kind,
                });
            }
            Ok(_) => errors.push(FleetError::at(
                &toml_path,
                *line_col,
                format!("evidence file {} is not a regular file", abs.display()),
            )),
            Err(e) => errors.push(FleetError::at(
                &toml_path,
                *line_col,
                format!("evidence file {} cannot be read: {e}", abs.display()),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (abs, slot) in files {
        if slot == "host.toml" || taken.contains(&slot) {
            continue;
        }
        let path = format!("{rel}/{slot}");
        match classify(&slot) {
            Some(kind) => pending.push(PendingFile {
                abs,
                rel: path,
                kind,
            }),
            None => host_notes.push(Note {
                path,
                message: "not an evidence file this build reads".into(),
            }),
        }
    }
    let host = Host {
        id: HostId(id),
        dir: rel,
        config,
        has_host_toml,
        evidence: Vec::new(),
        notes: host_notes,
        boot_logs: Vec::new(),
        boards: Vec::new(),
        quote: None,
        firmware: Vec::new(),
        inventory: None,
    };
    Ok((host, pending))
}

/// Turns the bytes of a parsed kind (the first `len` bytes of the reading buffer) into the
/// host's typed observation; an event log is parsed in place, other kinds keep a copy.
fn observe(
    host: &mut Host,
    quote: &mut crate::observe::QuoteParts,
    inventory: &mut crate::inventory::InventoryParts,
    item: &EvidenceItem,
    (buf, len): (&mut Vec<u8>, usize),
    forbidden: &BTreeSet<String>,
    analyser: &crate::firmware::FirmwareAnalyser,
) {
    match &item.kind {
        EvidenceKind::FirmwareImage { name } => {
            if let Some(sha) = &item.sha256 {
                analyser.add(sha, take_bytes(buf, len));
                host.firmware.push(crate::firmware::FirmwareImage {
                    name: name.clone(),
                    path: item.path.clone(),
                    sha256: sha.clone(),
                    analysis: crate::firmware::FirmwareAnalysis::pending(),
                });
            }
        }
        EvidenceKind::SmbiosBinary
        | EvidenceKind::DmidecodeText
        | EvidenceKind::LspciText
        | EvidenceKind::RedfishResource
        | EvidenceKind::PlatformCertificate => {
            inventory.add(&item.kind, &item.path, take_bytes(buf, len))
        }
        EvidenceKind::EventLog => host.boot_logs.push(crate::observe::boot_log(
            &item.path,
            buf.get(..len).unwrap_or_default(),
            forbidden,
        )),
        EvidenceKind::TpmQuote | EvidenceKind::AkPublic => {
            quote.add(&item.kind, &item.path, take_bytes(buf, len))
        }
        _ => {}
    }
}

fn one(path: &Path, message: impl Into<String>) -> LoadError {
    LoadError(vec![FleetError::new(path, message)])
}

/// Reads a configuration file bounded by [`CONFIG_SIZE_LIMIT`]; `Ok(None)` when absent.
pub(crate) fn read_config(path: &Path) -> Result<Option<Vec<u8>>, FleetError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(FleetError::new(path, format!("cannot read: {e}"))),
    };
    if !meta.is_file() {
        return Err(FleetError::new(
            path,
            "is not a regular file (directories, links and devices are not read)",
        ));
    }
    if meta.len() > CONFIG_SIZE_LIMIT {
        return Err(FleetError::new(
            path,
            format!(
                "is {} bytes; configuration files are at most {CONFIG_SIZE_LIMIT} bytes",
                meta.len()
            ),
        ));
    }
    let size = usize::try_from(meta.len()).unwrap_or(0);
    let max = usize::try_from(CONFIG_SIZE_LIMIT).map_or(usize::MAX, |l| l.saturating_add(1));
    let mut bytes = Vec::new();
    let len = File::open(path)
        .and_then(|mut f| read_known_size(&mut f, &mut bytes, size, max))
        .map_err(|e| FleetError::new(path, format!("cannot read: {e}")))?;
    bytes.truncate(len);
    if bytes.len() as u64 > CONFIG_SIZE_LIMIT {
        return Err(FleetError::new(
            path,
            "grew past the size limit while being read",
        ));
    }
    Ok(Some(bytes))
}

/// The names in `dir`, sorted, at most `limit` of them; the flag says whether more were left.
fn sorted_entries(
    dir: &Path,
    rel: &str,
    limit: usize,
    notes: &mut Vec<Note>,
) -> (Vec<String>, bool) {
    let (entries, truncated) = sorted_typed_entries(dir, rel, limit, notes);
    (
        entries.into_iter().map(|(name, _)| name).collect(),
        truncated,
    )
}

/// [`sorted_entries`] with each entry's type as the directory listing gives it (not following
/// links, like `symlink_metadata`, but without a `stat` per entry where the file system
/// records types in its directories).
fn sorted_typed_entries(
    dir: &Path,
    rel: &str,
    limit: usize,
    notes: &mut Vec<Note>,
) -> (Vec<(String, io::Result<fs::FileType>)>, bool) {
    let Ok(read) = fs::read_dir(dir) else {
        return (Vec::new(), false);
    };
    let mut names = Vec::new();
    let mut truncated = false;
    for entry in read.flatten() {
        if names.len() >= limit {
            truncated = true;
            break;
        }
        match entry.file_name().into_string() {
            Ok(name) => names.push((name, entry.file_type())),
            Err(raw) => notes.push(Note {
                path: join(rel, &raw.to_string_lossy()),
                message: "name is not UTF-8; not read".into(),
            }),
        }
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    (names, truncated)
}

/// The subdirectories of `root/sub`, sorted; anything else there is a note. More than
/// [`MAX_HOSTS`] entries is an error: auditing part of a fleet silently would be worse.
fn sorted_dirs(
    root: &Path,
    sub: &str,
    notes: &mut Vec<Note>,
    errors: &mut Vec<FleetError>,
) -> Vec<String> {
    let dir = root.join(sub);
    let mut out = Vec::new();
    let (names, truncated) = sorted_typed_entries(&dir, sub, MAX_HOSTS, notes);
    if truncated {
        errors.push(FleetError::new(&dir, format!("holds more than {MAX_HOSTS} entries; split the fleet into several fleet directories")));
    }
    for (name, file_type) in names {
        match file_type {
            Ok(t) if t.is_dir() => out.push(name),
            _ => notes.push(Note {
                path: format!("{sub}/{name}"),
                message: "expected a directory; ignored".into(),
            }),
        }
    }
    out
}

/// Collects regular files under `dir` as (absolute path, slot relative to `dir`). Links and
/// special files are notes: a FIFO would hang a reader and a link may point anywhere.
fn walk(
    dir: &Path,
    rel: &str,
    depth: usize,
    out: &mut Vec<(PathBuf, String)>,
    notes: &mut Vec<Note>,
) {
    walk_inner(dir, rel, "", depth, out, notes);
}

fn walk_inner(
    dir: &Path,
    rel: &str,
    slot: &str,
    depth: usize,
    out: &mut Vec<(PathBuf, String)>,
    notes: &mut Vec<Note>,
) {
    let here = join(rel, slot);
    let (names, truncated) = sorted_typed_entries(dir, &here, MAX_ENTRIES, notes);
    if truncated {
        notes.push(Note {
            path: here.clone(),
            message: format!("more than {MAX_ENTRIES} entries; the rest were not read"),
        });
    }
    for (name, file_type) in names {
        if out.len() >= MAX_ENTRIES {
            notes.push(Note {
                path: here.clone(),
                message: format!("more than {MAX_ENTRIES} files; the rest were not read"),
            });
            return;
        }
        let path = dir.join(&name);
        let child = join(slot, &name);
        match file_type {
            Ok(m) if m.is_file() => out.push((path, child)),
            Ok(m) if m.is_dir() => {
                if depth + 1 >= MAX_DEPTH {
                    notes.push(Note {
                        path: join(rel, &child),
                        message: format!("deeper than {MAX_DEPTH} levels; not read"),
                    });
                } else {
                    walk_inner(&path, rel, &child, depth + 1, out, notes);
                }
            }
            Ok(m) if m.is_symlink() => notes.push(Note {
                path: join(rel, &child),
                message: "symbolic link; not followed".into(),
            }),
            Ok(_) => notes.push(Note {
                path: join(rel, &child),
                message: "not a regular file; not read".into(),
            }),
            Err(e) => notes.push(Note {
                path: join(rel, &child),
                message: format!("cannot read: {e}"),
            }),
        }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// Reads one evidence file: size against the kind's limit, SHA-256 of the raw bytes streamed in
/// fixed-size chunks, the format from the first bytes, and whether it is what the slot requires.
pub fn read_evidence(abs: &Path, rel: &str, kind: &EvidenceKind) -> EvidenceItem {
    with_read_buffer(|buf| read_evidence_in(abs, rel, kind, buf).0)
}

/// The largest buffer a reading thread keeps between files. Smaller files (event logs, quotes,
/// keys, inventory text: nearly all of a fleet's) are read into it, so a fleet of 100,000 hosts
/// does not allocate, fault in and free a buffer per file; a larger file gets its own.
const KEPT_BUFFER: usize = 1024 * 1024;

thread_local! {
    /// This thread's reused reading buffer (see [`KEPT_BUFFER`]); its length is how much of it
    /// is initialised and only grows, so it is zeroed once, not per file.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's reading buffer (a fresh one if it is in use further up the
/// stack), and drops the buffer afterwards if a large file left it above [`KEPT_BUFFER`].
fn with_read_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    READ_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            let out = f(&mut buf);
            if buf.capacity() > KEPT_BUFFER {
                *buf = Vec::new();
            }
            out
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// The first `len` bytes of a reading buffer as an owned vector: copied when small, the buffer
/// itself (which the next file then replaces) when large.
fn take_bytes(buf: &mut Vec<u8>, len: usize) -> Vec<u8> {
    if len > KEPT_BUFFER / 4 {
        let mut bytes = std::mem::take(buf);
        bytes.truncate(len);
        bytes
    } else {
        buf.get(..len).unwrap_or_default().to_vec()
    }
}

/// True for kinds whose bytes a layer of this build parses (kept in memory, within the kind's
/// size limit, until the parser has made its typed observation).
fn parsed(kind: &EvidenceKind) -> bool {
    kind.is_text()
        || matches!(
            kind,
            EvidenceKind::EventLog
                | EvidenceKind::TpmQuote
                | EvidenceKind::AkPublic
                | EvidenceKind::FirmwareImage { .. }
                | EvidenceKind::SmbiosBinary
                | EvidenceKind::RedfishResource
                | EvidenceKind::PlatformCertificate
        )
}

/// [`read_evidence`], also keeping the bytes of kinds that a layer parses: when the second
/// value is `Some(len)`, they are the first `len` bytes of `buf` (a reused buffer whose length
/// is not that of the content).
fn read_evidence_in(
    abs: &Path,
    rel: &str,
    kind: &EvidenceKind,
    buf: &mut Vec<u8>,
) -> (EvidenceItem, Option<usize>) {
    let mut item = EvidenceItem {
        kind: kind.clone(),
        path: rel.to_string(),
        size: 0,
        sha256: None,
        format: Format::Unknown.name().to_string(),
        status: EvidenceStatus::Read,
    };
    let unreadable = |mut item: EvidenceItem, e: io::Error| {
        item.status = EvidenceStatus::Unreadable {
            reason: e.to_string(),
        };
        (item, None)
    };
    let file = match File::open(abs) {
        Ok(f) => f,
        Err(e) => return unreadable(item, e),
    };
    match file.metadata() {
        Ok(m) if !m.is_file() => {
            item.status = EvidenceStatus::Unreadable {
                reason: "not a regular file".into(),
            };
            return (item, None);
        }
        Ok(m) => item.size = m.len(),
        Err(e) => return unreadable(item, e),
    }
    let limit = kind.size_limit();
    if parsed(kind) && item.size <= limit {
        return read_whole(file, item, kind, limit, buf);
    }
    let mut reader = file.take(limit + 1);
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let mut kept = parsed(kind).then(Vec::new);
    let mut hasher = Sha256::new();
    let mut chunks = vec![0u8; 64 * 1024];
    let mut read_total: u64 = 0;
    loop {
        let n = match reader.read(&mut chunks) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return unreadable(item, e),
        };
        let chunk = chunks.get(..n).unwrap_or_default();
        if head.len() < SNIFF_LEN {
            let want = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(chunk.get(..want).unwrap_or_default());
        }
        read_total += n as u64;
        if item.size > limit || read_total > limit {
            // Too large: keep the head to name the format, but read and hash nothing more.
            break;
        }
        hasher.update(chunk);
        if let Some(kept) = kept.as_mut() {
            kept.extend_from_slice(chunk);
        }
    }
    let format = sniff(&head);
    item.format = format.name().to_string();
    if item.size > limit || read_total > limit {
        item.size = item.size.max(read_total);
        item.status = EvidenceStatus::TooLarge { limit };
        return (item, None);
    }
    item.size = read_total;
    item.sha256 = Some(hex(&hasher.finalize()));
    let text = kept.as_deref().filter(|_| kind.is_text());
    item.status = check_format(kind, &format, &head, text, read_total);
    match kept {
        Some(kept) => {
            let len = kept.len();
            *buf = kept;
            (item, Some(len))
        }
        None => (item, None),
    }
}

/// [`read_evidence_in`] for a kind a layer parses, whose size is within its limit: one read
/// into a buffer of the file's size (plus one byte, to see a file that grew), then the hash
/// and the format from that buffer; no chunk buffer and no second copy. A fleet of 100,000
/// hosts reads 400,000 such files: those up to [`KEPT_BUFFER`] go to the thread's reused
/// buffer in one `read` (see [`read_known_size`]), larger ones to a buffer of their own.
fn read_whole(
    mut file: File,
    mut item: EvidenceItem,
    kind: &EvidenceKind,
    limit: u64,
    buf: &mut Vec<u8>,
) -> (EvidenceItem, Option<usize>) {
    let read = match usize::try_from(item.size) {
        Ok(size) if size < KEPT_BUFFER => {
            let max = usize::try_from(limit).map_or(usize::MAX, |l| l.saturating_add(1));
            read_known_size(&mut file, buf, size, max)
        }
        _ => {
            let capacity = usize::try_from(item.size).map_or(0, |n| n.saturating_add(1));
            let mut bytes = Vec::with_capacity(capacity);
            let read = file.take(limit + 1).read_to_end(&mut bytes);
            *buf = bytes;
            read
        }
    };
    let read_len = match read {
        Ok(n) => n,
        Err(e) => {
            item.status = EvidenceStatus::Unreadable {
                reason: e.to_string(),
            };
            return (item, None);
        }
    };
    let bytes = buf.get(..read_len).unwrap_or_default();
    let read_total = read_len as u64;
    let head = bytes.get(..SNIFF_LEN.min(bytes.len())).unwrap_or_default();
    let format = sniff(head);
    item.format = format.name().to_string();
    if read_total > limit {
        item.size = item.size.max(read_total);
        item.status = EvidenceStatus::TooLarge { limit };
        return (item, None);
    }
    item.size = read_total;
    item.sha256 = Some(hex(&Sha256::digest(bytes)));
    let text = Some(bytes).filter(|_| kind.is_text());
    item.status = check_format(kind, &format, head, text, read_total);
    (item, Some(read_len))
}

/// Reads `file` from where it stands into the start of `buf`, at most `max` bytes, and returns
/// how many came. `buf` is a reused buffer: its length (what is initialised) only grows.
/// `size` is what the file's metadata said just before: a regular file of that size arrives in
/// one `read` asked for more, and is then taken as read, without the second `read` that would
/// only return 0 (a file that grows after that point is read as it was, as it would be had it
/// grown a moment later). Anything else (a file that grew, short reads, a size of 0 as
/// pseudo-files report) is read on until a `read` returns 0 or `max` bytes came.
fn read_known_size(
    file: &mut File,
    buf: &mut Vec<u8>,
    size: usize,
    max: usize,
) -> io::Result<usize> {
    let mut filled = 0usize;
    while filled < max {
        if filled == buf.len() {
            let want = if filled <= size {
                size.saturating_add(1).max(filled.saturating_add(1))
            } else {
                filled.saturating_mul(2)
            };
            buf.resize(want.clamp(filled.saturating_add(1), max), 0);
        }
        let end = buf.len().min(max);
        let Some(spare) = buf.get_mut(filled..end) else {
            break;
        };
        let asked = spare.len();
        match file.read(spare) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled == size && n < asked {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether the content is what its slot promises.
fn check_format(
    kind: &EvidenceKind,
    format: &Format,
    head: &[u8],
    text: Option<&[u8]>,
    size: u64,
) -> EvidenceStatus {
    let wrong = |expected: &str, found: String| EvidenceStatus::WrongFormat {
        expected: expected.into(),
        found,
    };
    if size == 0 {
        return wrong("a non-empty file", "an empty file".into());
    }
    if let Some(text) = text {
        return match as_text(text) {
            Ok(_) => EvidenceStatus::Read,
            Err(e) => wrong("text", format!("{} content ({e})", format.name())),
        };
    }
    match kind {
        EvidenceKind::BoardImage { .. } => {
            if head.starts_with(b"\x89PNG") {
                if let Err(e) = png_header(head) {
                    return wrong(
                        "a PNG, JPEG or TIFF image",
                        format!("a broken PNG header ({e})"),
                    );
                }
            }
            if format.is_image() {
                EvidenceStatus::Read
            } else {
                wrong(
                    "a PNG, JPEG or TIFF image",
                    format!("{} content", format.name()),
                )
            }
        }
        EvidenceKind::PlatformCertificate => match format {
            Format::Pem | Format::DerSequence => EvidenceStatus::Read,
            other => wrong(
                "a PEM or DER certificate",
                format!("{} content", other.name()),
            ),
        },
        EvidenceKind::SmbiosBinary if matches!(format, Format::Text | Format::Json) => wrong(
            "binary SMBIOS tables",
            "text (dmidecode text belongs in inventory/dmidecode.txt)".into(),
        ),
        _ => EvidenceStatus::Read,
    }
}
