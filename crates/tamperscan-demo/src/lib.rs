//! The synthetic demo fleet: a small fleet of two fictional server models, written to a
//! directory in the fleet layout, with implants planted at known places and the list of what was
//! planted, so `tamperscan demo` can audit it and check itself.
//!
//! Everything here is synthetic and labelled so (`synthetic = true` in `fleet.toml`). The
//! generator is deterministic: the same options write the same bytes. Each evidence layer adds
//! its own evidence and planted implant here when it lands; until then the demo has no evidence
//! for it.
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod board;
mod network;

/// The file that marks a directory as written by the demo; it also lists what was planted.
pub const MARKER: &str = ".tamperscan-demo.toml";

/// The largest number of hosts per model the demo writes.
pub const MAX_HOSTS_PER_MODEL: usize = 65_535;

/// What the demo should contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// Hosts of each of the two models (at least 6, so every planted host has siblings; at most
    /// [`MAX_HOSTS_PER_MODEL`], so every host gets its own address).
    pub hosts_per_model: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { hosts_per_model: 6 }
    }
}

/// One planted implant: the host, and the finding kind an audit must raise for it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Planted {
    /// The host that must get the finding.
    pub host: String,
    /// The layer.
    pub layer: String,
    /// The finding kind.
    pub kind: String,
    /// What was done, in words.
    pub description: String,
}

#[derive(Serialize, Deserialize)]
struct MarkerFile {
    note: String,
    planted: Vec<Planted>,
}

/// Why the demo could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The target exists, is not empty and was not written by the demo.
    #[error(
        "{0} exists and was not written by `tamperscan demo`; choose another --out or remove it"
    )]
    NotADemoDirectory(PathBuf),
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The reason.
        source: io::Error,
    },
}

/// The two fictional models: (name, vendor, product, board revision).
const MODELS: [(&str, &str, &str, &str); 2] = [
    (
        "es-1u-r1",
        "Example Systems (fictional)",
        "ES-1U rack server",
        "1.02",
    ),
    (
        "es-2u-r3",
        "Example Systems (fictional)",
        "ES-2U storage server",
        "3.10",
    ),
];

/// Writes the demo fleet to `dir` and returns what was planted. Refuses a non-empty directory
/// that the demo did not write; rewrites one it did (keeping its `tamperscan.db`, so a second
/// run shows what changed since the first).
pub fn write_demo(dir: &Path, options: DemoOptions) -> Result<Vec<Planted>, DemoError> {
    prepare(dir)?;
    let per_model = options.hosts_per_model.clamp(6, MAX_HOSTS_PER_MODEL);
    let mut planted = Vec::new();

    let mut fleet = String::from(
        "# SYNTHETIC demo fleet written by `tamperscan demo`: fictional hardware, planted implants.\n\
         [fleet]\nname = \"demo\"\n\
         description = \"Synthetic fleet of two fictional server models with implants planted at known places.\"\n\
         synthetic = true\n",
    );
    for (m, (name, vendor, product, revision)) in MODELS.iter().enumerate() {
        let _ = write!(
            fleet,
            "\n[models.{name}]\nvendor = \"{vendor}\"\nproduct = \"{product}\"\nboard_revision = \"{revision}\"\n"
        );
        if m == 0 {
            // The first model has board photos (see `board::write_boards`), taken at a known
            // resolution: sizes come out in mm² and the placement tolerance in pixels.
            let _ = write!(
                fleet,
                "\n[models.{name}.board]\npx_per_mm = {:.1}\n",
                board::PX_PER_MM
            );
        }
    }
    fleet.push_str(network::POLICY);
    write(dir, "fleet.toml", fleet.as_bytes())?;

    let ca = platform_ca();
    for (m, (model, ..)) in MODELS.iter().enumerate() {
        let letter = if m == 0 { 'a' } else { 'b' };
        for i in 1..=per_model {
            let host = format!("srv-{letter}-{i:02}");
            let mut h = HostSpec::new(&host, model, m, i);
            // Integrators often leave the system serial as a placeholder: never an identity, so
            // hosts sharing it must not be flagged.
            if i.is_multiple_of(3) {
                h.system_serial = "To be filled by O.E.M.".into();
            }
            if m == 0 && i == 6 {
                h.model = format!("{model}-rev9");
                planted.push(Planted {
                    host: host.clone(),
                    layer: "host".into(),
                    kind: "host.model_undeclared".into(),
                    description: "claims a board revision the fleet never bought".into(),
                });
            }
            if m == 1 && i == 5 {
                h.board_serial = HostSpec::new("srv-b-02", model, m, 2).board_serial;
                for victim in [host.as_str(), "srv-b-02"] {
                    planted.push(Planted {
                        host: victim.into(),
                        layer: "host".into(),
                        kind: "host.duplicate_identifier".into(),
                        description: "srv-b-05 reports the baseboard serial of srv-b-02: a board moved between servers or a cloned identity".into(),
                    });
                    planted.push(Planted {
                        host: victim.into(),
                        layer: "inventory".into(),
                        kind: "inventory.serial_seen_twice".into(),
                        description: "the SMBIOS tables of srv-b-05 and srv-b-02 carry the same baseboard serial".into(),
                    });
                }
            }
            write(dir, &format!("hosts/{host}/host.toml"), h.toml().as_bytes())?;

            // Measured boot: every host's firmware logs the same measurements, except where
            // an implant is planted.
            let mut boot = BootPlant::Genuine;
            if m == 0 && i == 3 {
                boot = BootPlant::ModifiedBmcFirmware;
                planted.push(Planted {
                    host: host.clone(),
                    layer: "boot".into(),
                    kind: "boot.event_differs_from_siblings".into(),
                    description: "the BMC firmware measured into PCR0 differs from every sibling's: firmware altered as it loads".into(),
                });
            }
            if m == 1 && i == 3 {
                boot = BootPlant::EditedLog;
                planted.push(Planted {
                    host: host.clone(),
                    layer: "boot".into(),
                    kind: "boot.event_digest_mismatch".into(),
                    description: "the SecureBoot variable in the event log was changed after the fact (digest left as it was)".into(),
                });
            }
            let log = boot_log(model, boot);
            write(dir, &format!("hosts/{host}/boot/eventlog.bin"), &log)?;

            // A TPM quote over PCRs 0-7 of that boot, signed by the host's attestation key.
            let mut quoted_log = log.clone();
            if m == 1 && i == 4 {
                // The quote comes from another boot than the log claims: one whose BMC
                // firmware measurement differs.
                quoted_log = boot_log(model, BootPlant::ModifiedBmcFirmware);
                planted.push(Planted {
                    host: host.clone(),
                    layer: "boot".into(),
                    kind: "boot.quote_invalid".into(),
                    description: "the TPM quote's PCR digest is not that of the event log: the log hides what the TPM measured".into(),
                });
            }
            // Firmware: every host of a model carries the same BIOS and BMC images, except
            // where an implant is planted.
            let mut fw = FirmwarePlant::Genuine;
            if m == 0 && i == 4 {
                fw = FirmwarePlant::InjectedBmcModule;
                planted.push(Planted {
                    host: host.clone(),
                    layer: "firmware".into(),
                    kind: "firmware.module_added".into(),
                    description: "the BMC image carries an extra FIT sub-image that the golden image does not have".into(),
                });
                planted.push(Planted {
                    host: host.clone(),
                    layer: "firmware".into(),
                    kind: "firmware.module_changed".into(),
                    description: "the BMC image's FIT tree lists the injected sub-image and loads it in its configuration".into(),
                });
            }
            if m == 0 && i == 4 {
                for (kind, what) in [
                    ("inventory.component_not_in_siblings", "a NIC of another vendor sits where every sibling has the ordered Intel X710"),
                    ("inventory.component_missing_vs_siblings", "the ordered Intel X710 NIC is gone from this server"),
                ] {
                    planted.push(Planted {
                        host: host.clone(),
                        layer: "inventory".into(),
                        kind: kind.into(),
                        description: what.into(),
                    });
                }
            }
            if m == 0 && i == 5 {
                fw = FirmwarePlant::KnownImplantModule;
                for kind in ["firmware.rule_match", "firmware.module_added_vs_siblings"] {
                    planted.push(Planted {
                        host: host.clone(),
                        layer: "firmware".into(),
                        kind: kind.into(),
                        description: "the BIOS image holds a module with the GUID and name of a published UEFI implant (LoJax SecDxe); its body is synthetic".into(),
                    });
                }
            }
            if m == 1 && i == 6 {
                fw = FirmwarePlant::PatchedBmcKernel;
                planted.push(Planted {
                    host: host.clone(),
                    layer: "firmware".into(),
                    kind: "firmware.module_changed_vs_siblings".into(),
                    description: "the BMC kernel sub-image was patched and its FIT hash recomputed, so only a comparison with the siblings shows it".into(),
                });
            }
            write(
                dir,
                &format!("hosts/{host}/firmware/bios.fd"),
                &bios_image(model, fw),
            )?;
            write(
                dir,
                &format!("hosts/{host}/firmware/bmc.bin"),
                &bmc_image(model, fw),
            )?;

            // Inventory as the host's own tools report it: dmidecode and lspci text.
            let swapped_nic = m == 0 && i == 4;
            write(
                dir,
                &format!("hosts/{host}/inventory/dmidecode.txt"),
                dmidecode_text(model, &h).as_bytes(),
            )?;
            write(
                dir,
                &format!("hosts/{host}/inventory/lspci.txt"),
                lspci_text(swapped_nic).as_bytes(),
            )?;
            // The factory's platform certificate: what this server was built with.
            write(
                dir,
                &format!("hosts/{host}/inventory/platform-cert.der"),
                &platform_certificate(&ca, model, &h, i as u64),
            )?;

            if let Some((attest, sig, ak)) = quote_for(&host, &quoted_log, &h.quote_nonce) {
                write(dir, &format!("hosts/{host}/boot/quote.msg"), &attest)?;
                write(dir, &format!("hosts/{host}/boot/quote.sig"), &sig)?;
                write(dir, &format!("hosts/{host}/boot/ak.pub"), &ak)?;
            }
        }
    }
    let bmcs: Vec<(String, String)> = MODELS
        .iter()
        .enumerate()
        .flat_map(|(m, (model, ..))| {
            let letter = if m == 0 { 'a' } else { 'b' };
            (1..=per_model).map(move |i| {
                let host = format!("srv-{letter}-{i:02}");
                let ip = HostSpec::new(&host, model, m, i).bmc_address;
                (host, ip)
            })
        })
        .collect();
    network::write_network(dir, &bmcs, &mut planted)?;
    // Board photos for the first model's hosts, against its golden image; srv-a-04 (whose BMC
    // firmware is altered and beacons) carries an extra part next to its BMC.
    let (first_model, ..) = MODELS[0];
    let first_hosts: Vec<String> = (1..=per_model).map(|i| format!("srv-a-{i:02}")).collect();
    board::write_boards(dir, first_model, &first_hosts, "srv-a-04", &mut planted)?;
    write_boot_references(dir, &mut planted)?;
    // The first model keeps a golden BMC image (as delivered by the vendor and checked by
    // hand); the second relies on sibling consensus.
    let (first_model, ..) = MODELS[0];
    write(
        dir,
        &format!("models/{first_model}/firmware/bmc.bin"),
        &bmc_image(first_model, FirmwarePlant::Genuine),
    )?;
    // What was ordered for every server of both models, and who signs their certificates.
    for (model, ..) in MODELS {
        write(
            dir,
            &format!("models/{model}/platform-ca.der"),
            &ca.ca_certificate_der(),
        )?;
        write(
            dir,
            &format!("models/{model}/bom.toml"),
            b"# SYNTHETIC bill of materials of the demo fleet.\n\
              [[component]]\nclass = \"cpu\"\nmanufacturer = \"Intel\"\nmodel = \"Gold 6338\"\ncount = 2\n\n\
              [[component]]\nclass = \"memory\"\nmanufacturer = \"Samsung\"\ncount = 8\n\n\
              [[component]]\nclass = \"nic\"\nmodel = \"Intel Corporation Ethernet Controller X710\"\ncount = 2\n",
        )?;
    }
    for (kind, what) in [
        (
            "inventory.platform_cert_component_missing",
            "the platform certificate lists two Intel X710 NICs the server no longer has",
        ),
        (
            "inventory.platform_cert_component_extra",
            "the server has a NIC its platform certificate does not list",
        ),
    ] {
        planted.push(Planted {
            host: "srv-a-04".into(),
            layer: "inventory".into(),
            kind: kind.into(),
            description: what.into(),
        });
    }
    planted.push(Planted {
        host: "srv-a-04".into(),
        layer: "inventory".into(),
        kind: "inventory.bom_count_mismatch".into(),
        description: "the order lists two Intel X710 NICs; none arrived".into(),
    });
    planted.push(Planted {
        host: "srv-a-04".into(),
        layer: "inventory".into(),
        kind: "inventory.bom_unexpected_component".into(),
        description: "a NIC the order does not list".into(),
    });
    planted.sort();
    let marker = MarkerFile {
        note: "Written by `tamperscan demo`. Everything in this directory is synthetic.".into(),
        planted: planted.clone(),
    };
    let text = toml::to_string(&marker).unwrap_or_default();
    write(dir, MARKER, text.as_bytes())?;
    Ok(planted)
}

/// Reads the planted list back from a demo directory.
pub fn read_planted(dir: &Path) -> Option<Vec<Planted>> {
    let text = fs::read_to_string(dir.join(MARKER)).ok()?;
    toml::from_str::<MarkerFile>(&text).ok().map(|m| m.planted)
}

/// Learns each model's boot reference from its known-good hosts, as `tamperscan boot learn`
/// does, adds the digest of the implanted BMC firmware (as a security advisory would publish it)
/// to its forbidden list, and writes `models/<model>/boot/reference.toml`.
fn write_boot_references(dir: &Path, planted: &mut Vec<Planted>) -> Result<(), DemoError> {
    let io = |e: String| DemoError::Io {
        path: dir.to_path_buf(),
        source: io::Error::other(e),
    };
    let fleet = tamperscan_fleet::load(dir, &|_, _| {}).map_err(|e| io(e.to_string()))?;
    for (name, ..) in MODELS {
        let good: Vec<&tamperscan_fleet::Host> = fleet
            .hosts
            .iter()
            .filter(|h| {
                h.config.known_good && h.config.model.as_ref().is_some_and(|(m, _)| m == name)
            })
            .collect();
        let mut reference = tamperscan_detect::boot::learn(&good);
        let implanted = format!("SYNTHETIC {name} BMC firmware 5.10.2 with an implant");
        if let Some(d) = tamperscan_tcg::AlgId::SHA256.hash(&[implanted.as_bytes()]) {
            reference
                .forbidden
                .push(format!("sha256:{}", tamperscan_bytes::hex(&d)));
        }
        let text = format!(
            "# SYNTHETIC boot reference of the demo: learned from the known-good hosts, plus the\n\
             # digest of an implanted BMC firmware published by a (fictional) advisory.\n{}",
            toml::to_string(&reference).unwrap_or_default()
        );
        write(
            dir,
            &format!("models/{name}/{}", tamperscan_fleet::BOOT_REFERENCE),
            text.as_bytes(),
        )?;
    }
    // What the references catch besides the sibling consensus.
    for (host, kind, description) in [
        (
            "srv-a-03",
            "boot.event_differs_from_reference",
            "the BMC firmware measurement is not one the known-good hosts showed",
        ),
        (
            "srv-a-03",
            "boot.forbidden_measurement",
            "the BMC firmware measurement is the one the advisory lists",
        ),
        (
            "srv-b-03",
            "boot.secure_boot_disabled",
            "the edited log claims Secure Boot was disabled",
        ),
    ] {
        planted.push(Planted {
            host: host.into(),
            layer: "boot".into(),
            kind: kind.into(),
            description: description.into(),
        });
    }
    Ok(())
}

/// `dmidecode` output as the project writes it for a demo host (SMBIOS 3.3 layout; fictional
/// vendor, part numbers in the style of real ones).
fn dmidecode_text(model: &str, h: &HostSpec) -> String {
    let mut t = String::from(
        "# dmidecode 3.4\nGetting SMBIOS data from sysfs.\nSMBIOS 3.3.0 present.\n# SYNTHETIC: written by tamperscan demo\n\n",
    );
    let (product, board) = if model.starts_with("es-1u") {
        ("ES-1U", "ESB-1U")
    } else {
        ("ES-2U", "ESB-2U")
    };
    let chassis_serial = format!(
        "ESC{:08X}",
        fnv(&format!("{} chassis", h.smbios_uuid)) & 0xffff_ffff
    );
    let _ = write!(
        t,
        "Handle 0x0000, DMI type 0, 26 bytes\nBIOS Information\n\tVendor: Example Systems\n\tVersion: 2.1.7\n\tRelease Date: 03/14/2026\n\n\
         Handle 0x0001, DMI type 1, 27 bytes\nSystem Information\n\tManufacturer: Example Systems\n\tProduct Name: {product}\n\tVersion: {model}\n\tSerial Number: {}\n\tUUID: {}\n\tSKU Number: {product}-STD\n\tFamily: Example Rack\n\n\
         Handle 0x0002, DMI type 2, 15 bytes\nBase Board Information\n\tManufacturer: Example Systems\n\tProduct Name: {board}\n\tVersion: 1.02\n\tSerial Number: {}\n\tAsset Tag: Not Specified\n\n\
         Handle 0x0003, DMI type 3, 22 bytes\nChassis Information\n\tManufacturer: Example Systems\n\tType: Rack Mount Chassis\n\tVersion: 1\n\tSerial Number: {}\n\n",
        h.system_serial,
        h.smbios_uuid,
        h.board_serial,
        chassis_serial,
    );
    for (n, socket) in ["CPU1", "CPU2"].iter().enumerate() {
        let _ = write!(
            t,
            "Handle 0x{:04X}, DMI type 4, 48 bytes\nProcessor Information\n\tSocket Designation: {socket}\n\tType: Central Processor\n\tManufacturer: Intel(R) Corporation\n\tVersion: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\n\tSerial Number: Not Specified\n\tPart Number: Not Specified\n\n",
            0x10 + n
        );
    }
    for n in 0..8 {
        let _ = write!(
            t,
            "Handle 0x{:04X}, DMI type 17, 92 bytes\nMemory Device\n\tSize: 32 GB\n\tLocator: DIMM_{}{}\n\tBank Locator: NODE {}\n\tType: DDR4\n\tManufacturer: Samsung\n\tSerial Number: {:08X}\n\tPart Number: M393A4K40DB3-CWE\n\n",
            0x20 + n,
            ['A', 'B', 'C', 'D'][n % 4],
            1 + n / 4,
            n / 4,
            fnv(&format!("{} dimm {n}", h.smbios_uuid)) & 0xffff_ffff
        );
    }
    t.push_str("Handle 0x0040, DMI type 127, 4 bytes\nEnd Of Table\n\n");
    t
}

/// The demo fleet's (fictional) platform certificate CA.
fn platform_ca() -> tamperscan_platcert::writer::DemoCa {
    let mut seed = [0u8; 32];
    for (slot, b) in seed
        .iter_mut()
        .zip("SYNTHETIC tamperscan demo platform CA".bytes())
    {
        *slot = b;
    }
    tamperscan_platcert::writer::DemoCa::new(seed, "SYNTHETIC Example Systems Platform CA")
}

/// The TCG component class (registry 2.23.133.18.3.1) the certificate uses for a class.
fn tcg_class(c: &tamperscan_inventory::ComponentClass) -> Option<u32> {
    use tamperscan_inventory::ComponentClass as C;
    Some(match c {
        C::Baseboard => 0x0003_0003,
        C::Chassis => 0x0002_0001,
        C::Bios => 0x0013_0003,
        C::Cpu => 0x0001_0002,
        C::Memory => 0x0006_0004,
        C::Nic => 0x0009_0002,
        C::PowerSupply => 0x000A_0002,
        _ => return None,
    })
}

/// A base platform certificate for a demo host, listing what the factory built: the genuine
/// tables of its model (read back with the project's own parsers), signed by the demo CA.
fn platform_certificate(
    ca: &tamperscan_platcert::writer::DemoCa,
    model: &str,
    h: &HostSpec,
    serial: u64,
) -> Vec<u8> {
    use tamperscan_platcert::writer::{ComponentSpec, PlatformSpec};
    let mut built = Vec::new();
    let dmi = dmidecode_text(model, h);
    if let Ok(d) = tamperscan_smbios::parse_dmidecode_text(&dmi) {
        built.extend(tamperscan_smbios::to_components(&d));
    }
    if let Ok(devices) = tamperscan_redfish::parse_lspci(&lspci_text(false)) {
        built.extend(tamperscan_redfish::to_components(&devices));
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let system = built
        .iter()
        .find(|c| c.class == Some(tamperscan_inventory::ComponentClass::System));
    let platform = PlatformSpec {
        manufacturer: system.map(|s| text(&s.manufacturer)).unwrap_or_default(),
        model: system.map(|s| text(&s.model)).unwrap_or_default(),
        version: model.to_string(),
        serial: system
            .and_then(|s| s.serial.clone())
            .unwrap_or_else(|| "Not Specified".into()),
    };
    let components: Vec<ComponentSpec> = built
        .iter()
        .filter_map(|c| {
            let class_value = tcg_class(c.class.as_ref()?)?;
            Some(ComponentSpec {
                class_value,
                manufacturer: text(&c.manufacturer),
                model: text(&c.model),
                serial: c.serial.clone(),
                revision: c.revision.clone().or_else(|| c.firmware_version.clone()),
            })
        })
        .collect();
    ca.platform_certificate_der(&platform, &components, 0x1000 + serial)
}

/// `lspci -nn` output for a demo host: the board's network adapters.
fn lspci_text(swapped_nic: bool) -> String {
    let mut t = String::new();
    for f in 0..2 {
        if swapped_nic {
            // Not what was ordered: another vendor's adapter in the same slot.
            let _ = writeln!(t, "3b:00.{f} Ethernet controller [0200]: Broadcom Inc. and subsidiaries BCM57416 NetXtreme-E Dual-Media 10G RDMA Ethernet Controller [14e4:16d8] (rev 01)");
        } else {
            let _ = writeln!(t, "3b:00.{f} Ethernet controller [0200]: Intel Corporation Ethernet Controller X710 for 10GbE SFP+ [8086:1572] (rev 02)");
        }
    }
    t
}

/// What is planted in a host's firmware images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirmwarePlant {
    Genuine,
    InjectedBmcModule,
    PatchedBmcKernel,
    KnownImplantModule,
}

/// Deterministic filler bytes standing in for code (xorshift64 from a label).
fn filler(label: &str, len: usize) -> Vec<u8> {
    let mut x = fnv(label) | 1;
    let mut out = Vec::with_capacity(len + 8);
    let head = format!("SYNTHETIC tamperscan demo: {label}\0");
    out.extend_from_slice(head.as_bytes());
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The host BIOS: one firmware volume of DXE drivers written by the project's image writer.
fn bios_image(model: &str, plant: FirmwarePlant) -> Vec<u8> {
    use tamperscan_firmware::writer;
    let mut drivers: Vec<(String, &str)> = [
        ("6A7B8C9D-0001-4E5F-8A9B-0C1D2E3F4A01", "PlatformInitDxe"),
        ("6A7B8C9D-0002-4E5F-8A9B-0C1D2E3F4A02", "BmcLinkDxe"),
        ("6A7B8C9D-0003-4E5F-8A9B-0C1D2E3F4A03", "NetworkStackDxe"),
        (
            "6A7B8C9D-0004-4E5F-8A9B-0C1D2E3F4A04",
            "SecureBootPolicyDxe",
        ),
    ]
    .iter()
    .map(|(g, n)| (g.to_string(), *n))
    .collect();
    if plant == FirmwarePlant::KnownImplantModule {
        // GUID and name as ESET published them for LoJax; the body is filler, not code.
        drivers.push(("682894B5-6B70-4EBA-9E90-A607E5676297".into(), "SecDxe"));
    }
    let files: Vec<Vec<u8>> = drivers
        .iter()
        .filter_map(|(g, name)| {
            let guid: tamperscan_bytes::Guid = g.parse().ok()?;
            let mut pe = b"MZ".to_vec();
            pe.extend_from_slice(&filler(&format!("{model} {name}"), 6000));
            let body = writer::sections(&[writer::section(0x10, &pe), writer::ui_section(name)]);
            Some(writer::ffs_file(guid, 0x07, &body))
        })
        .collect();
    let name: tamperscan_bytes::Guid = "6A7B8C9D-0000-4E5F-8A9B-0C1D2E3F4A00"
        .parse()
        .unwrap_or(tamperscan_bytes::Guid([0; 16]));
    writer::volume(name, &files, 0x10000).unwrap_or_default()
}

/// The BMC image: a FIT (kernel, device tree, root filesystem) with sha256 hashes.
fn bmc_image(model: &str, plant: FirmwarePlant) -> Vec<u8> {
    use tamperscan_firmware::writer::{fdt, fit, FitPart, Node};
    let mut kernel = filler(&format!("{model} BMC kernel 5.10.2"), 48 * 1024);
    if plant == FirmwarePlant::PatchedBmcKernel {
        // A few bytes changed in place, as an implant that hooks a function would.
        for (k, b) in kernel.iter_mut().skip(20_000).take(16).enumerate() {
            *b ^= 0x90 ^ (k as u8);
        }
    }
    let dtb = fdt(&Node::new("")
        .text("model", &format!("SYNTHETIC {model} BMC"))
        .text("compatible", "example,demo-bmc")
        .child(
            Node::new("flash")
                .text("compatible", "fixed-partitions")
                .u32("#address-cells", 1)
                .u32("#size-cells", 1),
        ));
    let mut parts = vec![
        FitPart {
            name: "kernel".into(),
            kind: "kernel".into(),
            data: kernel,
        },
        FitPart {
            name: "fdt".into(),
            kind: "flat_dt".into(),
            data: dtb,
        },
        FitPart {
            name: "ramdisk".into(),
            kind: "ramdisk".into(),
            data: filler(&format!("{model} BMC rootfs"), 24 * 1024),
        },
    ];
    if plant == FirmwarePlant::InjectedBmcModule {
        parts.push(FitPart {
            name: "telemetry".into(),
            kind: "firmware".into(),
            data: filler("injected BMC module", 8 * 1024),
        });
    }
    fit(&format!("SYNTHETIC {model} BMC firmware 5.10.2"), &parts)
}

/// What is planted in a host's event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BootPlant {
    Genuine,
    /// The BMC firmware blob measured into PCR 0 is not the fleet's.
    ModifiedBmcFirmware,
    /// The SecureBoot variable's data says "disabled" while its digest is of "enabled".
    EditedLog,
}

/// A synthetic crypto-agile event log of a fictional UEFI platform of `model`.
fn boot_log(model: &str, plant: BootPlant) -> Vec<u8> {
    use tamperscan_tcg::event_data::{EFI_GLOBAL_VARIABLE, EFI_IMAGE_SECURITY_DATABASE};
    use tamperscan_tcg::writer::{firmware_blob2, variable_data, LogWriter};
    use tamperscan_tcg::EventType as T;
    let bios = format!("SYNTHETIC {model} host firmware 2.4.1");
    let genuine_bmc = format!("SYNTHETIC {model} BMC firmware 5.10.2");
    let bmc = match plant {
        BootPlant::ModifiedBmcFirmware => format!("{genuine_bmc} with an implant"),
        _ => genuine_bmc,
    };
    let secure_boot = variable_data(EFI_GLOBAL_VARIABLE, "SecureBoot", &[1]);
    let mut log = LogWriter::agile()
        .event(
            0,
            T::EV_S_CRTM_VERSION,
            format!("{model} 2.4.1\0").as_bytes(),
        )
        .event_measuring(
            0,
            T::EV_EFI_PLATFORM_FIRMWARE_BLOB2,
            &firmware_blob2("BIOS", 0xff00_0000, 0x0100_0000),
            bios.as_bytes(),
        )
        .event_measuring(
            0,
            T::EV_EFI_PLATFORM_FIRMWARE_BLOB2,
            &firmware_blob2("BMC", 0xfe00_0000, 0x0200_0000),
            bmc.as_bytes(),
        )
        .event(7, T::EV_EFI_VARIABLE_DRIVER_CONFIG, &secure_boot)
        .event(
            7,
            T::EV_EFI_VARIABLE_DRIVER_CONFIG,
            &variable_data(EFI_GLOBAL_VARIABLE, "PK", &[]),
        )
        .event(
            7,
            T::EV_EFI_VARIABLE_DRIVER_CONFIG,
            &variable_data(EFI_GLOBAL_VARIABLE, "KEK", &[]),
        )
        .event(
            7,
            T::EV_EFI_VARIABLE_DRIVER_CONFIG,
            &variable_data(EFI_IMAGE_SECURITY_DATABASE, "db", &[]),
        )
        .event(
            7,
            T::EV_EFI_VARIABLE_DRIVER_CONFIG,
            &variable_data(EFI_IMAGE_SECURITY_DATABASE, "dbx", &[]),
        )
        .event(7, T::EV_SEPARATOR, &[0; 4]);
    for pcr in 0..7 {
        log = log.event(pcr, T::EV_SEPARATOR, &[0; 4]);
    }
    log = log
        .event(
            1,
            T::EV_EFI_VARIABLE_BOOT,
            &variable_data(EFI_GLOBAL_VARIABLE, "BootOrder", &[1, 0]),
        )
        .event_measuring(
            4,
            T::EV_EFI_BOOT_SERVICES_APPLICATION,
            &[0; 32],
            b"SYNTHETIC boot loader",
        )
        .event(5, T::EV_EFI_ACTION, b"Exit Boot Services Invocation");
    let mut bytes = log.bytes;
    if plant == BootPlant::EditedLog {
        // The SecureBoot value is the last byte of its event data: flip it to "disabled".
        if let Some(at) = find(&bytes, &secure_boot).map(|p| p + secure_boot.len() - 1) {
            if let Some(b) = bytes.get_mut(at) {
                *b = 0;
            }
        }
    }
    bytes
}

/// A quote (TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC) over sha256 PCRs 0-7 of `log`'s replay,
/// signed with a P-256 key derived from the host's name.
fn quote_for(host: &str, log: &[u8], nonce: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    use tamperscan_tcg::AlgId;
    let (pcrs, _) = tamperscan_tcg::replay(&tamperscan_tcg::parse(log).ok()?);
    let selections = vec![(AlgId::SHA256, (0..8).collect::<Vec<u32>>())];
    let digest = tamperscan_tcg::quote::expected_pcr_digest(&selections, &pcrs, AlgId::SHA256)?;
    let attest = tamperscan_tcg::writer::quote_attest(nonce, &selections, &digest);
    let secret: [u8; 32] = AlgId::SHA256
        .hash(&[b"SYNTHETIC demo attestation key/", host.as_bytes()])?
        .try_into()
        .ok()?;
    let (sig, public) = tamperscan_tcg::writer::sign_quote_p256(&secret, &attest)?;
    Some((attest, sig, public))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

struct HostSpec {
    model: String,
    site: String,
    rack: String,
    lot: String,
    bmc_address: String,
    bmc_mac: String,
    board_serial: String,
    system_serial: String,
    smbios_uuid: String,
    quote_nonce: Vec<u8>,
    known_good: bool,
}

impl HostSpec {
    fn new(host: &str, model: &str, m: usize, i: usize) -> HostSpec {
        let h = fnv(host);
        let b = h.to_be_bytes();
        HostSpec {
            model: model.to_string(),
            site: if i.is_multiple_of(2) {
                "fra1".into()
            } else {
                "ams2".into()
            },
            rack: format!("r{:02}-u{:02}", 10 + m, 2 * i),
            lot: format!("LOT-2026-{:02}", 7 + m),
            // Addresses in the benchmarking range 198.18.0.0/15 (RFC 2544): nothing real is
            // named, and each model's 65,536 addresses suffice for the largest demo fleet.
            bmc_address: format!("198.{}.{}.{}", 18 + m, i >> 8, i & 0xff),
            // Locally administered MACs (second-lowest bit of the first octet set).
            bmc_mac: format!("02:00:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3]),
            board_serial: format!("ESB{:08X}", h >> 32),
            system_serial: format!("ESS{:08X}", h & 0xffff_ffff),
            smbios_uuid: format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                h >> 32,
                (h >> 16) & 0xffff,
                h & 0xffff,
                (m * 0x100 + i) & 0xffff,
                fnv(&format!("{host}/uuid")) & 0xffff_ffff_ffff
            ),
            quote_nonce: fnv(&format!("{host}/nonce")).to_be_bytes().to_vec(),
            // The operator vouches for two hosts of each model (checked by hand on delivery).
            known_good: i == 1 || i == 2,
        }
    }

    fn toml(&self) -> String {
        format!(
            "# SYNTHETIC host of the tamperscan demo fleet.\n\
             model = \"{}\"\nsite = \"{}\"\nrack = \"{}\"\nlot = \"{}\"\n\
             bmc_address = \"{}\"\nbmc_mac = \"{}\"\n\
             board_serial = \"{}\"\nsystem_serial = \"{}\"\nsmbios_uuid = \"{}\"\n\
             quote_nonce = \"{}\"\nknown_good = {}\n",
            self.model,
            self.site,
            self.rack,
            self.lot,
            self.bmc_address,
            self.bmc_mac,
            self.board_serial,
            self.system_serial,
            self.smbios_uuid,
            tamperscan_bytes::hex(&self.quote_nonce),
            self.known_good
        )
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn prepare(dir: &Path) -> Result<(), DemoError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(io_err(dir))?;
        let empty = entries.next().is_none();
        if !empty && !dir.join(MARKER).is_file() {
            return Err(DemoError::NotADemoDirectory(dir.to_path_buf()));
        }
        for sub in ["hosts", "models", "network"] {
            let path = dir.join(sub);
            if path.exists() {
                fs::remove_dir_all(&path).map_err(io_err(&path))?;
            }
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> Result<(), DemoError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|source| DemoError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    fs::write(&path, bytes).map_err(|source| DemoError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_self_describing() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let pa = write_demo(a.path(), DemoOptions::default()).unwrap();
        let pb = write_demo(b.path(), DemoOptions::default()).unwrap();
        assert_eq!(pa, pb);
        assert_eq!(read_planted(a.path()).unwrap(), pa);
        let ta = fs::read(a.path().join("hosts/srv-b-05/host.toml")).unwrap();
        let tb = fs::read(b.path().join("hosts/srv-b-05/host.toml")).unwrap();
        assert_eq!(ta, tb);
        let hosts = fs::read_dir(a.path().join("hosts")).unwrap().count();
        assert_eq!(hosts, 12);
    }

    #[test]
    fn large_demo_fleets_keep_identities_unique() {
        let dir = tempfile::tempdir().unwrap();
        write_demo(
            dir.path(),
            DemoOptions {
                hosts_per_model: 300,
            },
        )
        .unwrap();
        let mut addresses = std::collections::BTreeSet::new();
        for entry in fs::read_dir(dir.path().join("hosts")).unwrap() {
            let text = fs::read_to_string(entry.unwrap().path().join("host.toml")).unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("bmc_address"))
                .unwrap()
                .to_string();
            let address: std::net::IpAddr = line.split('"').nth(1).unwrap().parse().unwrap();
            assert!(addresses.insert(address), "{address} used twice");
        }
        assert_eq!(addresses.len(), 600);
    }

    #[test]
    fn refuses_a_foreign_directory_and_rewrites_its_own() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("precious.txt"), b"x").unwrap();
        let err = write_demo(dir.path(), DemoOptions::default()).unwrap_err();
        assert!(matches!(err, DemoError::NotADemoDirectory(_)));
        let own = dir.path().join("demo");
        write_demo(&own, DemoOptions::default()).unwrap();
        fs::write(own.join("hosts/srv-a-01/junk.bin"), b"x").unwrap();
        write_demo(&own, DemoOptions { hosts_per_model: 8 }).unwrap();
        assert!(!own.join("hosts/srv-a-01/junk.bin").exists());
        assert_eq!(fs::read_dir(own.join("hosts")).unwrap().count(), 16);
    }
}
