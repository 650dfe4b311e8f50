//! `models/<model>/boot/reference.toml`: the boot measurements a model's servers may show,
//! written by hand or by `tamperscan boot learn` from hosts marked known-good.

use crate::error::FleetError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Reference values for one model's measured boot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootReference {
    /// Free text: where the values come from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The Secure Boot state every host must show (`None`: not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_boot: Option<bool>,
    /// Measurements that must never appear, in any PCR (`bank:hex`, e.g. a revoked boot
    /// loader's Authenticode hash or a known-bad firmware blob).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<String>,
    /// The expected events of the compared PCRs (0, 2, 7), in log order.
    #[serde(default, rename = "event", skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ReferenceEvent>,
}

/// One expected event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceEvent {
    /// PCR index.
    pub pcr: u32,
    /// Event type name (`EV_EFI_PLATFORM_FIRMWARE_BLOB2`) or number.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Which event of this PCR and type, counting from 0.
    #[serde(default)]
    pub ordinal: usize,
    /// What the event is (informational).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The digests allowed (`bank:hex`); several when more than one firmware version is
    /// accepted.
    pub digests: Vec<String>,
}

/// Parses `reference.toml`. `path` is only used in errors.
pub fn parse_boot_reference(bytes: &[u8], path: &Path) -> Result<BootReference, FleetError> {
    let (reference, _) = crate::config::parse_toml::<BootReference>(bytes, path)?;
    for (i, event) in reference.events.iter().enumerate() {
        for digest in &event.digests {
            check_digest(digest).map_err(|m| {
                FleetError::new(
                    path,
                    format!(
                        "event {} (PCR{} {}): {m}",
                        i + 1,
                        event.pcr,
                        event.event_type
                    ),
                )
            })?;
        }
    }
    for digest in &reference.forbidden {
        check_digest(digest).map_err(|m| FleetError::new(path, format!("forbidden: {m}")))?;
    }
    Ok(reference)
}

fn check_digest(text: &str) -> Result<(), String> {
    let (bank, hex) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not bank:hex (e.g. \"sha256:ab12…\")"))?;
    let size = tamperscan_tcg::AlgId::from_name(bank)
        .and_then(|a| a.digest_size())
        .ok_or_else(|| format!("{bank:?} is not a bank (sha1, sha256, sha384, sha512, sm3_256)"))?;
    match tamperscan_bytes::unhex(hex) {
        Some(bytes) if bytes.len() == size => Ok(()),
        _ => Err(format!(
            "{text:?} is not a {size}-byte {bank} digest in hex"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_located_errors() {
        let r = BootReference {
            source: "learned".into(),
            secure_boot: Some(true),
            forbidden: vec![format!("sha256:{}", "00".repeat(32))],
            events: vec![ReferenceEvent {
                pcr: 0,
                event_type: "EV_S_CRTM_VERSION".into(),
                ordinal: 0,
                description: "v1".into(),
                digests: vec![format!("sha256:{}", "ab".repeat(32))],
            }],
        };
        let text = toml::to_string(&r).unwrap();
        assert_eq!(
            parse_boot_reference(text.as_bytes(), Path::new("r.toml")).unwrap(),
            r
        );
        let err =
            parse_boot_reference(b"secure_boot = \"yes\"\n", Path::new("r.toml")).unwrap_err();
        assert_eq!(err.line_col.map(|l| l.0), Some(1), "{err}");
        let bad = b"[[event]]\npcr = 0\ntype = \"EV_SEPARATOR\"\ndigests = [\"sha256:abcd\"]\n";
        let err = parse_boot_reference(bad, Path::new("r.toml")).unwrap_err();
        assert!(
            err.to_string().contains("is not a 32-byte sha256 digest"),
            "{err}"
        );
    }
}
