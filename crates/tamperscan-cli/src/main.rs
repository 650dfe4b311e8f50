//! The `tamperscan` command line.
//!
//! **Invariant:** only this crate prints, and only this crate knows the terminal: data goes to
//! stdout, progress and diagnostics to stderr, colour only when stdout is a terminal and
//! `NO_COLOR` is unset.
#![forbid(unsafe_code)]

mod audit_cmd;
mod board_cmd;
mod boot_cmd;
mod demo_cmd;
mod firmware_cmd;
mod fleet_cmd;
mod html;
mod inventory_cmd;
mod net_cmd;
mod term;
mod text;
mod wire;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Nothing found: every host passes.
pub const EXIT_PASS: u8 = 0;
/// At least one finding.
pub const EXIT_FINDINGS: u8 = 1;
/// Trouble: bad input, unreadable files, a store that cannot be written.
pub const EXIT_TROUBLE: u8 = 2;

/// Are our servers exactly what they should be?
///
/// tamperscan checks every layer where a hardware supply-chain attack shows (board, firmware,
/// measured boot, inventory, management network) against golden references, reference values and
/// each server's identical siblings, and points at exactly what differs.
///
/// Commands that judge exit like diff: 0 nothing found, 1 findings, 2 trouble.
#[derive(Debug, Parser)]
#[command(
    name = "tamperscan",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Worker threads (default: every core, and a fleet's files are read on 4 threads per
    /// core so that waiting on the disk leaves no core idle; with -j, N threads in all)
    #[arg(long, short = 'j', global = true, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Audit a fleet directory: every detector, every host, a verdict per host
    ///
    /// The fleet directory holds fleet.toml, models/<model>/ (references) and hosts/<host>/
    /// (host.toml and evidence); see the README for the layout. Each audit is recorded in a
    /// store (SQLite FLEET_DIR/tamperscan.db unless --db names another file or a postgres:// URL, or
    /// --no-store) so the next one can say
    /// what is new.
    Audit(AuditArgs),
    /// Board images: find what is on a board that is not in its golden image
    #[command(subcommand)]
    Board(BoardCommand),
    /// Measured boot: read, replay and check TCG event logs
    #[command(subcommand)]
    Boot(BootCommand),
    /// Write the synthetic demo fleet (implants planted at known places) and audit it
    ///
    /// Exits 0 when the audit finds exactly what was planted, 1 otherwise.
    Demo(DemoArgs),
    /// Firmware images: module manifests, golden diffs and rule checks
    ///
    /// Reads whole SPI flash dumps (Intel flash descriptor regions), BIOS regions, UEFI firmware
    /// volumes (FFS v2/v3, LZMA, LZMA x86, EFI/Tiano, Brotli, CRC32 sections, nested volumes),
    /// NVRAM variable stores, BMC images (legacy u-boot, FIT with hash checks, device trees,
    /// squashfs/cramfs/JFFS2 root filesystems) and stand-alone PE drivers.
    #[command(subcommand)]
    Firmware(FirmwareCommand),
    /// Inventory: what a server reports it is made of, against its order and its TCG platform
    /// certificate
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// The fleet's history in the store: which servers have, or had, a part
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Network: beacons, long connections, uploads, DNS tunnels and management-plane policy
    #[command(subcommand)]
    Net(NetCommand),
}

#[derive(Debug, Subcommand)]
enum BoardCommand {
    /// Compare a board image with the golden image of its design: every region that differs,
    /// with its kind (added, missing, altered), class, score and box
    ///
    /// Reads PNG, JPEG and TIFF, 8- or 16-bit, grey (X-ray, scans) or colour (photos). The
    /// suspect is registered onto the golden image (shift, rotation, scale, perspective) and
    /// refused when it is not the same design or side. Boxes are [x1, y1, x2, y2] in golden
    /// pixels. Exits 0 when nothing differs, 1 when something does, 2 on bad input.
    Diff {
        /// The golden image (a known-good board of the same design and side)
        golden: PathBuf,
        /// The board to judge
        suspect: PathBuf,
        /// Write a PNG with golden and registered suspect side by side, changes boxed and
        /// labelled (red added, blue missing, orange altered)
        #[arg(long, value_name = "FILE")]
        overlay: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Resolution of the golden image, for sizes in mm²
        #[arg(long, value_name = "DPI", conflicts_with = "px_per_mm", value_parser = dpi_arg)]
        dpi: Option<f64>,
        /// Resolution of the golden image in pixels per millimetre
        #[arg(long, value_name = "X", value_parser = px_per_mm_arg)]
        px_per_mm: Option<f64>,
        /// On two-level images (scans, X-rays), which phase is material: its gain is "added"
        #[arg(long, value_enum, default_value_t = Material::Dark)]
        material: Material,
    },
    /// Measure detection on labelled pairs: precision, recall, F1, mAP, false alarms, speed
    ///
    /// DIR in DeepPCB's layout (<id>_temp.jpg golden, <id>_test.jpg suspect, <id>.txt boxes
    /// "x1,y1,x2,y2,class") or holding an index.json of assembled pairs. Reports F1 at IoU >= 0.5
    /// (any class and per class), the DeepPCB protocol (IoU > 0.33, same class), mAP, false alarms
    /// per image and ms per pair on one thread.
    Eval {
        /// The directory of labelled pairs
        dir: PathBuf,
        /// A pair list in DeepPCB's trainval.txt format (its entries relative to DIR)
        #[arg(long, value_name = "FILE")]
        list: Option<PathBuf>,
        /// Perturb each suspect (shift, rotation up to 10°, scale 0.9-1.1, brightness, blur)
        /// with this seed, to measure robustness
        #[arg(long, value_name = "SEED")]
        perturb: Option<u64>,
        /// With --perturb, also tilt the camera by up to DEG degrees (a perspective change)
        #[arg(long, value_name = "DEG", requires = "perturb")]
        tilt: Option<f64>,
        /// At most N pairs
        #[arg(long, value_name = "N", default_value_t = 0)]
        limit: usize,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// With --format json, every pair's outcome too
        #[arg(long)]
        per_pair: bool,
    },
}

/// Which phase of a two-level image is material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Material {
    /// Material is darker than the background (copper on a bright scan)
    Dark,
    /// Material is brighter (X-ray shown as attenuation)
    Bright,
}

#[derive(Debug, Subcommand)]
enum NetCommand {
    /// Score Zeek logs (conn/dns/ssl/http, TSV or JSON, plain or .gz), pcap/pcapng captures or
    /// directories of them, most suspicious first
    ///
    /// With --fleet, the fleet's [policy] (management networks, allowed destinations) and each
    /// host's bmc_address give context: a BMC calling outside its policy on a schedule ranks
    /// above a workstation's update check. Exits 0 when nothing reaches level low, 1 when
    /// something does, 2 on unreadable input.
    Scan {
        /// Logs, captures or directories
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// A fleet directory (fleet.toml and hosts/*/host.toml) for context
        #[arg(long, value_name = "DIR")]
        fleet: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// RITA v5-compatible beacon scores instead of tamperscan's (for comparison)
        #[arg(long)]
        rita: bool,
        /// List findings of every score, not only those scoring 0.2 or more
        #[arg(long)]
        all: bool,
        /// Also write an HTML page with each beacon's timeline and gap histogram
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Earlier traffic to judge against (logs, captures, directories, or a file written by
        /// --write-baseline); repeatable. Destinations no source reached in it are "first seen"
        #[arg(long, value_name = "PATH")]
        baseline: Vec<PathBuf>,
        /// Write the destinations of the baseline and of this scan to FILE (JSON), to pass as
        /// --baseline next time: a rolling history without keeping the logs
        #[arg(long, value_name = "FILE")]
        write_baseline: Option<PathBuf>,
        /// No progress
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Debug, Subcommand)]
enum FleetCommand {
    /// Which servers have (or, with `since`, had) components matching a query: a recall list
    ///
    /// EXPR: conditions CLASS.FIELD OP VALUE joined by and/or/not and parentheses, optionally
    /// ending in `since YYYY-MM-DD`, e.g.
    ///   board.model = "X11DPH-T" and bmc.firmware.version < 1.73 since 2026-01-01
    /// Classes: board, bmc, bios, nic, cpu, memory, storage, gpu, psu, tpm, cpld, system,
    /// chassis. Fields: manufacturer, model, serial, revision, firmware.version, location.
    /// Operators: = != ~ (contains) < <= > >= (version order). Exits 0 when no server matches,
    /// 1 when some do, 2 on a bad query or store.
    Query {
        /// The query
        expr: String,
        /// The store: a SQLite file (FLEET_DIR/tamperscan.db) or a postgres:// URL
        #[arg(long, value_name = "PATH|URL")]
        db: PathBuf,
        /// Only this fleet (by name) when the store holds several
        #[arg(long)]
        fleet: Option<String>,
        /// Output format
        #[arg(long, value_enum, default_value_t = fleet_cmd::QueryFormat::Text)]
        format: fleet_cmd::QueryFormat,
    },
}

#[derive(Debug, Subcommand)]
enum InventoryCommand {
    /// List the components one source reports
    ///
    /// PATH is an SMBIOS table (/sys/firmware/dmi/tables/DMI, dmidecode --dump-bin), dmidecode
    /// text, lspci -vvnn/-nn/-vmm text, a Redfish capture directory (DMTF Redfish-Mockup-Creator
    /// layout) or a TCG platform certificate (its certified components).
    Show {
        /// The source
        path: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check what a server reports against a bill of materials and/or its platform certificate
    ///
    /// Prints certified and observed values side by side. Exits 0 when everything matches, 1 on
    /// any difference, 2 on unreadable input.
    Check {
        /// The server's inventory sources (any of the kinds `inventory show` reads)
        #[arg(required = true, value_name = "SOURCE")]
        observed: Vec<PathBuf>,
        /// Bill of materials (TOML or CSV; format in the README)
        #[arg(long, value_name = "FILE")]
        bom: Option<PathBuf>,
        /// Platform certificate, base or delta (repeat for a chain, any order)
        #[arg(long = "cert", value_name = "FILE")]
        certs: Vec<PathBuf>,
        /// The CA certificate that signs the platform certificates
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum FirmwareCommand {
    /// List every module of an image with its stable identity and hashes
    Manifest {
        /// The image
        image: PathBuf,
        /// Also list pad files
        #[arg(long)]
        all: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Compare a suspect image with a golden one: modules added, removed and changed, NVRAM
    /// variables, data in free space, FIT hash mismatches
    ///
    /// Exits 0 when nothing differs, 1 when something does, 2 on unreadable input.
    Diff {
        /// The image you trust
        golden: PathBuf,
        /// The image to check
        suspect: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Check an image against rules (the built-in set of publicly documented UEFI implants,
    /// plus --rules FILE) and its own integrity (checksums, FIT hashes, data in free space)
    ///
    /// Exits 0 when nothing matched, 1 when something did, 2 on unreadable input or rules.
    Check {
        /// The image
        image: PathBuf,
        /// A rule file (TOML, format in the README) applied with the built-in rules
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Leave the built-in rules out
        #[arg(long)]
        no_default_rules: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
enum BootCommand {
    /// List every event of a TCG event log with its decoded data
    ///
    /// Reads legacy SHA1 logs (TCG_PCR_EVENT), crypto-agile logs (Spec ID Event03, any
    /// banks), e.g. /sys/kernel/security/tpm0/binary_bios_measurements, Canonical Event Logs
    /// (TLV or JSON) and TDX CC event logs (/sys/firmware/acpi/tables/data/CCEL; given the ACPI
    /// CCEL table itself, it says where the log lies). `--format cel-json` converts the log
    /// to the TCG Canonical Event Log's JSON form.
    Events {
        /// The event log
        log: PathBuf,
        /// Output format
        #[arg(long, value_enum, default_value_t = boot_cmd::EventsFormat::Text)]
        format: boot_cmd::EventsFormat,
    },
    /// Replay TCG event logs into PCR values (every bank) and check their digests
    ///
    /// StartupLocality sets PCR 0's start, EV_NO_ACTION is never extended; a TDX CC event log
    /// also gives its RTMRs. Several logs are replayed in parallel (JSON: an array). Exits 1 when an event's digest is not the hash
    /// of its data (the log was edited after the fact) or bytes that are not padding follow the
    /// last event; 2 when a file is no event log.
    Replay {
        /// The event logs
        #[arg(required = true, value_name = "LOG")]
        logs: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Learn a model's boot reference values from the hosts marked known_good = true
    ///
    /// Writes a reference.toml (for models/<model>/boot/reference.toml): every event of PCRs
    /// 0, 2 and 7 with every digest the known-good hosts showed, and the Secure Boot state when
    /// they agree. Per-machine PCRs are left out, so the reference survives a new disk or kernel.
    Learn {
        /// The fleet directory
        #[arg(value_name = "FLEET_DIR")]
        dir: PathBuf,
        /// The model to learn
        #[arg(long)]
        model: String,
        /// Write here instead of stdout (e.g. FLEET_DIR/models/MODEL/boot/reference.toml)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Verify a TPM 2.0 quote: signature, type, nonce, and PCR digest against a replayed log
    ///
    /// Takes the files tpm2_quote writes (-m TPMS_ATTEST, -s TPMT_SIGNATURE) and the
    /// attestation key as PEM, DER or TPM2B_PUBLIC (tpm2_createak -u). Signatures:
    /// RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA on P-256 and P-384. Exits 0 when every check passes,
    /// 1 when one fails, 2 on unreadable input.
    Verify {
        /// The quote (TPMS_ATTEST)
        #[arg(long, value_name = "FILE")]
        quote: PathBuf,
        /// Its signature (TPMT_SIGNATURE)
        #[arg(long, value_name = "FILE")]
        signature: PathBuf,
        /// The attestation key (PEM, DER or TPM2B_PUBLIC)
        #[arg(long, value_name = "FILE")]
        ak: PathBuf,
        /// The nonce the verifier sent, in hex (checked against extraData)
        #[arg(long, value_name = "HEX")]
        nonce: Option<String>,
        /// The event log the quote must cover (its replayed PCRs are checked against pcrDigest)
        #[arg(long, value_name = "LOG")]
        log: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Output format of data on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people
    Text,
    /// One JSON document for scripts (schema in the README)
    Json,
}

#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// The fleet directory
    #[arg(value_name = "FLEET_DIR")]
    dir: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, clap::Args)]
struct DemoArgs {
    /// Where to write the demo fleet
    #[arg(long, value_name = "DIR", default_value = "tamperscan-demo")]
    out: PathBuf,
    /// Hosts of each of the two models (6 to 65535)
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u16).range(6..))]
    hosts_per_model: u16,
    #[command(flatten)]
    output: OutputArgs,
}

/// Output options shared by the commands that audit.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format on stdout
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write a self-contained HTML report to this file
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// The store: a SQLite file or a postgres:// URL (default: FLEET_DIR/tamperscan.db)
    #[arg(long, value_name = "PATH|URL", conflicts_with = "no_store")]
    db: Option<PathBuf>,
    /// Do not record this audit, and do not compare with the previous one
    #[arg(long)]
    no_store: bool,
    /// No progress bar
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(jobs) = cli.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build_global()
        {
            eprintln!("tamperscan: cannot start {jobs} threads: {e}");
            return ExitCode::from(EXIT_TROUBLE);
        }
        tamperscan_fleet::use_worker_threads_only();
    }
    let result = match cli.command {
        Command::Audit(args) => audit_cmd::run(&args.dir, &args.output),
        Command::Boot(BootCommand::Events { log, format }) => boot_cmd::events(&log, format),
        Command::Boot(BootCommand::Replay { logs, format }) => boot_cmd::replay_cmd(&logs, format),
        Command::Boot(BootCommand::Learn { dir, model, out }) => {
            boot_cmd::learn(&dir, &model, out.as_deref())
        }
        Command::Boot(BootCommand::Verify {
            quote,
            signature,
            ak,
            nonce,
            log,
            format,
        }) => boot_cmd::verify(
            &boot_cmd::VerifyArgs {
                quote: &quote,
                signature: &signature,
                ak: &ak,
                nonce: nonce.as_deref(),
                log: log.as_deref(),
            },
            format,
        ),
        Command::Firmware(FirmwareCommand::Manifest { image, all, format }) => {
            firmware_cmd::manifest(&image, format, all)
        }
        Command::Firmware(FirmwareCommand::Diff {
            golden,
            suspect,
            format,
        }) => firmware_cmd::diff_cmd(&golden, &suspect, format),
        Command::Firmware(FirmwareCommand::Check {
            image,
            rules,
            no_default_rules,
            format,
        }) => firmware_cmd::check(&image, rules.as_deref(), no_default_rules, format),
        Command::Inventory(InventoryCommand::Show { path, format }) => {
            inventory_cmd::show(&path, format)
        }
        Command::Inventory(InventoryCommand::Check {
            observed,
            bom,
            certs,
            ca,
            format,
        }) => inventory_cmd::check(
            &inventory_cmd::CheckArgs {
                observed: &observed,
                bom: bom.as_deref(),
                certs: &certs,
                ca: ca.as_deref(),
            },
            format,
        ),
        Command::Fleet(FleetCommand::Query {
            expr,
            db,
            fleet,
            format,
        }) => fleet_cmd::run(&expr, &db, fleet.as_deref(), format),
        Command::Board(BoardCommand::Diff {
            golden,
            suspect,
            overlay,
            format,
            dpi,
            px_per_mm,
            material,
        }) => board_cmd::diff_cmd(&board_cmd::DiffArgs {
            golden: &golden,
            suspect: &suspect,
            overlay: overlay.as_deref(),
            format,
            px_per_mm: px_per_mm.or(dpi.map(|d| d / 25.4)),
            material: match material {
                Material::Dark => tamperscan_board::Polarity::Dark,
                Material::Bright => tamperscan_board::Polarity::Bright,
            },
        }),
        Command::Board(BoardCommand::Eval {
            dir,
            list,
            perturb,
            tilt,
            limit,
            format,
            per_pair,
        }) => board_cmd::eval_cmd(&board_cmd::EvalArgs {
            dir: &dir,
            list: list.as_deref(),
            perturb,
            tilt,
            limit,
            format,
            per_pair,
        }),
        Command::Net(NetCommand::Scan {
            paths,
            fleet,
            format,
            rita,
            all,
            html,
            baseline,
            write_baseline,
            quiet,
        }) => net_cmd::scan(&net_cmd::ScanArgs {
            paths: &paths,
            fleet: fleet.as_deref(),
            format,
            rita,
            all,
            html: html.as_deref(),
            baseline: &baseline,
            write_baseline: write_baseline.as_deref(),
            quiet,
        }),
        Command::Demo(args) => {
            demo_cmd::run(&args.out, usize::from(args.hosts_per_model), &args.output)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that stops early (`| head`) is not trouble.
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_PASS),
        Err(e) => {
            eprintln!("tamperscan: {e:#}");
            ExitCode::from(EXIT_TROUBLE)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// `--px-per-mm`: the range `fleet.toml` accepts (a scanner's dpi written as px/mm is the usual
/// mistake, and would shrink every region into a speck).
fn px_per_mm_arg(v: &str) -> Result<f64, String> {
    let x: f64 = v.parse().map_err(|e| format!("{e}"))?;
    tamperscan_fleet::check_px_per_mm(x).map_err(|e| format!("{e} (for dots per inch use --dpi)"))
}

/// `--dpi`: the range `fleet.toml` accepts.
fn dpi_arg(v: &str) -> Result<f64, String> {
    let x: f64 = v.parse().map_err(|e| format!("{e}"))?;
    tamperscan_fleet::check_dpi(x)
}
