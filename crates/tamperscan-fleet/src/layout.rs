//! Where each kind of evidence sits in a host (or model) directory.

use tamperscan_model::EvidenceKind;

/// A path inside a host directory, relative, with `/` separators (`firmware/bmc.bin`).
pub type Slot = str;

/// The evidence kind of a file at `slot` inside a host or model directory, or `None` for a file
/// tamperscan does not read (reported as a note).
///
/// The layout is the one in the README: `board/<side>.<png|jpg|jpeg|tif|tiff>`,
/// `firmware/<name>.<bin|rom|img|fd|flash>`, `boot/eventlog.bin` (or `*.log`, `*.cel`,
/// `binary_bios_measurements`), `boot/quote.*`, `boot/ak.*`, `inventory/dmidecode.txt`,
/// `inventory/smbios.bin` (or `DMI`), `inventory/lspci.txt`, `inventory/redfish/**.json`,
/// `inventory/platform-cert*`.
pub fn classify(slot: &Slot) -> Option<EvidenceKind> {
    // Slices of the slot and of one lower-cased copy of the file name: every host's files are
    // classified, so no per-part allocation.
    let (top, rest) = slot.split_once('/')?;
    let file = rest.rsplit('/').next()?;
    let lower = file.to_ascii_lowercase();
    let (stem, ext) = match lower.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, ext),
        _ => (lower.as_str(), ""),
    };
    let flat = !rest.contains('/');
    match top {
        "board" if flat && matches!(ext, "png" | "jpg" | "jpeg" | "tif" | "tiff") => {
            Some(EvidenceKind::BoardImage {
                side: stem.to_string(),
            })
        }
        "firmware" if flat && matches!(ext, "bin" | "rom" | "img" | "fd" | "flash") => {
            Some(EvidenceKind::FirmwareImage {
                name: stem.to_string(),
            })
        }
        "boot" if flat => match (stem, ext) {
            ("quote", _) => Some(EvidenceKind::TpmQuote),
            ("ak", "pem" | "der" | "pub" | "tpm2b") => Some(EvidenceKind::AkPublic),
            ("eventlog", _) | ("binary_bios_measurements", "") => Some(EvidenceKind::EventLog),
            (_, "log" | "cel") => Some(EvidenceKind::EventLog),
            _ => None,
        },
        "inventory" => {
            if !flat && rest.split('/').next() == Some("redfish") {
                return (ext == "json").then_some(EvidenceKind::RedfishResource);
            }
            if !flat {
                return None;
            }
            match (stem, ext) {
                ("dmidecode", "txt") => Some(EvidenceKind::DmidecodeText),
                ("smbios", "bin") | ("dmi", "") => Some(EvidenceKind::SmbiosBinary),
                ("lspci", "txt") => Some(EvidenceKind::LspciText),
                (s, "pem" | "der" | "crt" | "cer" | "bin") if s.starts_with("platform-cert") => {
                    Some(EvidenceKind::PlatformCertificate)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_layout_is_recognised() {
        let cases = [
            (
                "board/top.png",
                Some(EvidenceKind::BoardImage { side: "top".into() }),
            ),
            (
                "board/Xray-Bottom.TIFF",
                Some(EvidenceKind::BoardImage {
                    side: "xray-bottom".into(),
                }),
            ),
            (
                "firmware/bmc.bin",
                Some(EvidenceKind::FirmwareImage { name: "bmc".into() }),
            ),
            (
                "firmware/bios.rom",
                Some(EvidenceKind::FirmwareImage {
                    name: "bios".into(),
                }),
            ),
            ("boot/eventlog.bin", Some(EvidenceKind::EventLog)),
            (
                "boot/binary_bios_measurements",
                Some(EvidenceKind::EventLog),
            ),
            ("boot/quote.bin", Some(EvidenceKind::TpmQuote)),
            ("boot/ak.pem", Some(EvidenceKind::AkPublic)),
            ("inventory/dmidecode.txt", Some(EvidenceKind::DmidecodeText)),
            ("inventory/smbios.bin", Some(EvidenceKind::SmbiosBinary)),
            ("inventory/lspci.txt", Some(EvidenceKind::LspciText)),
            (
                "inventory/redfish/Systems/1/index.json",
                Some(EvidenceKind::RedfishResource),
            ),
            (
                "inventory/platform-cert.der",
                Some(EvidenceKind::PlatformCertificate),
            ),
        ];
        for (slot, kind) in cases {
            assert_eq!(classify(slot), kind, "{slot}");
        }
    }

    #[test]
    fn other_files_are_not_evidence() {
        for slot in [
            "notes.txt",
            "board/top.txt",
            "board/old/top.png",
            "firmware/.bin",
            "x/y/z",
            "",
        ] {
            assert_eq!(classify(slot), None, "{slot}");
        }
    }
}
