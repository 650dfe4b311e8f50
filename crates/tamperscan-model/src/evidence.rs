use crate::layer::Layer;
use serde::Serialize;

/// What an evidence file is, decided by where it sits in the host directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A photo or X-ray of one side of the board (`board/<side>.png|jpg|tif`).
    BoardImage {
        /// The side or view, from the file stem (`top`, `bottom`, `xray-top`).
        side: String,
    },
    /// A flash image (`firmware/<name>.bin|rom|img|fd`), e.g. `bios` or `bmc`.
    FirmwareImage {
        /// The flash part, from the file stem.
        name: String,
    },
    /// A TPM event log (`boot/eventlog.bin`, `boot/*.log`, `boot/*.cel`).
    EventLog,
    /// A TPM quote (`boot/quote.*`).
    TpmQuote,
    /// The attestation key's public part (`boot/ak.pem|der|pub`).
    AkPublic,
    /// `dmidecode` text output.
    DmidecodeText,
    /// Binary SMBIOS tables (`dmidecode --dump-bin` or `/sys/firmware/dmi/tables`).
    SmbiosBinary,
    /// A Redfish resource captured from the BMC (`inventory/redfish/**.json`).
    RedfishResource,
    /// `lspci` text output.
    LspciText,
    /// A TCG platform certificate (`inventory/platform-cert*`).
    PlatformCertificate,
}

impl EvidenceKind {
    /// The layer that reads this evidence.
    pub fn layer(&self) -> Layer {
        match self {
            EvidenceKind::BoardImage { .. } => Layer::Board,
            EvidenceKind::FirmwareImage { .. } => Layer::Firmware,
            EvidenceKind::EventLog | EvidenceKind::TpmQuote | EvidenceKind::AkPublic => Layer::Boot,
            EvidenceKind::DmidecodeText
            | EvidenceKind::SmbiosBinary
            | EvidenceKind::RedfishResource
            | EvidenceKind::LspciText
            | EvidenceKind::PlatformCertificate => Layer::Inventory,
        }
    }

    /// The largest file accepted for this kind, in bytes. Larger files are recorded with
    /// [`EvidenceStatus::TooLarge`] and never read, so a hostile or mistaken multi-gigabyte file
    /// cannot exhaust memory or time.
    pub fn size_limit(&self) -> u64 {
        const MIB: u64 = 1024 * 1024;
        match self {
            // Board photos from high-resolution cameras and 16-bit X-ray panels.
            EvidenceKind::BoardImage { .. } => 512 * MIB,
            // The largest SPI NOR parts in servers are 64 MiB; BMC eMMC images are bigger.
            EvidenceKind::FirmwareImage { .. } => 256 * MIB,
            EvidenceKind::EventLog => 16 * MIB,
            EvidenceKind::TpmQuote | EvidenceKind::AkPublic => MIB,
            EvidenceKind::DmidecodeText
            | EvidenceKind::SmbiosBinary
            | EvidenceKind::LspciText
            | EvidenceKind::RedfishResource => 16 * MIB,
            EvidenceKind::PlatformCertificate => MIB,
        }
    }

    /// True when the evidence is text and binary content is an error.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            EvidenceKind::DmidecodeText | EvidenceKind::LspciText | EvidenceKind::RedfishResource
        )
    }
}

/// What happened when the evidence file was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// Read and hashed.
    Read,
    /// Larger than [`EvidenceKind::size_limit`]; not read.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// Read, but its content is not what its slot requires.
    WrongFormat {
        /// What the slot requires.
        expected: String,
        /// What was found, with offset where it matters.
        found: String,
    },
    /// Could not be read (permissions, I/O error, not a regular file).
    Unreadable {
        /// The operating system's reason.
        reason: String,
    },
}

/// One piece of evidence of one host: a file, where it came from and the hash of its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceItem {
    /// What it is.
    pub kind: EvidenceKind,
    /// Path relative to the fleet directory, with `/` separators.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the raw bytes, when they were read.
    pub sha256: Option<String>,
    /// The format recognised from the first bytes (`png`, `uefi-firmware-volume`, ...).
    pub format: String,
    /// What happened when reading it.
    #[serde(flatten)]
    pub status: EvidenceStatus,
}
