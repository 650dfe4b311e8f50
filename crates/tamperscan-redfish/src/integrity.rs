//! `ComponentIntegrity` resources (DSP8010 `ComponentIntegrity` schema): what the BMC learnt
//! about a component over SPDM (DSP0274 `GET_MEASUREMENTS`) or from a TPM.
//!
//! A measurement of type `MutableFirmware` hashed with SHA-256 is the firmware's digest and
//! becomes the target component's `firmware_sha256`; other firmware digests are kept as text
//! in its `source_ref`.

use serde_json::Value;
use tamperscan_bytes::hex;
use tamperscan_inventory::{Component, ComponentClass};

use crate::base64;
use crate::classify::class_by_name;
use crate::extract::{Extractor, MAX_MEMBERS};
use crate::json::{at, bool_at, link_at, links_at, objects_at, str_at};
use crate::odata::{normalize_id, type_name};

/// Longest measurement text kept (a base64 SHA-512 digest is 88 characters).
const MAX_DIGEST_TEXT: usize = 512;

/// One `ComponentIntegrity` resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityEntry {
    /// Its `@odata.id`.
    pub odata_id: String,
    /// `Id`.
    pub id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `ComponentIntegrityType` (`SPDM`, `TPM`, `OEM`).
    pub integrity_type: Option<String>,
    /// `ComponentIntegrityTypeVersion`.
    pub type_version: Option<String>,
    /// `ComponentIntegrityEnabled`.
    pub enabled: Option<bool>,
    /// `TargetComponentURI`, normalized.
    pub target_component_uri: Option<String>,
    /// `Links.ComponentsProtected`.
    pub components_protected: Vec<String>,
    /// `SPDM.IdentityAuthentication.ResponderAuthentication.VerificationStatus`.
    pub verification_status: Option<String>,
    /// The responder's certificate (`...ResponderAuthentication.ComponentCertificate`).
    pub component_certificate: Option<String>,
    /// `SPDM.MeasurementSet` summary, when present.
    pub summary: Option<MeasurementSummary>,
    /// Single measurements (`SPDM.MeasurementSet.Measurements`, `TPM.MeasurementSet.Measurements`).
    pub measurements: Vec<Measurement>,
    /// Index in [`crate::Capture::components`] of the component the measurements describe:
    /// the target component when it was read, else one made for this entry.
    pub component: usize,
}

/// `SPDM.MeasurementSet`'s summary hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeasurementSummary {
    /// `MeasurementSpecification` (`DMTF`).
    pub specification: Option<String>,
    /// `MeasurementSummaryType` (`TCB`, `All`).
    pub summary_type: Option<String>,
    /// `MeasurementSummaryHashAlgorithm` as written (`TPM_ALG_SHA_384`).
    pub algorithm: Option<String>,
    /// The summary digest, lowercase hex, when it decodes.
    pub digest_hex: Option<String>,
    /// `MeasurementSummary` as written (base64).
    pub raw: Option<String>,
}

/// One measurement block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Measurement {
    /// `MeasurementIndex` (SPDM).
    pub index: Option<u64>,
    /// `PCR` (TPM).
    pub pcr: Option<u64>,
    /// `MeasurementType` (`MutableFirmware`, `ImmutableROM`, `HardwareConfiguration`, ...).
    pub measurement_type: Option<String>,
    /// `MeasurementHashAlgorithm` as written.
    pub algorithm: Option<String>,
    /// The digest, lowercase hex, when `Measurement` decodes (base64, or hex).
    pub digest_hex: Option<String>,
    /// `Measurement` as written.
    pub raw: Option<String>,
    /// `PartofSummaryHash`.
    pub part_of_summary: Option<bool>,
    /// `LastUpdated`.
    pub last_updated: Option<String>,
    /// `SecurityVersionNumber`.
    pub security_version_number: Option<String>,
}

impl Measurement {
    /// True when the algorithm is SHA-256 under any of its spellings (`TPM_ALG_SHA_256`,
    /// `SHA-256`, `SHA256`) and the digest is 32 bytes.
    pub fn is_sha256(&self) -> bool {
        self.algorithm.as_deref().is_some_and(is_sha256_name)
            && self.digest_hex.as_ref().is_some_and(|d| d.len() == 64)
    }
}

fn is_sha256_name(alg: &str) -> bool {
    let n: String = alg
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    n.strip_prefix("TPMALG").unwrap_or(&n) == "SHA256"
}

/// Reads every `ComponentIntegrity`.
pub(crate) fn read_all(ex: &mut Extractor<'_>) {
    let crawl = ex.crawl;
    for r in &crawl.resources {
        if type_name(&r.value) != Some("ComponentIntegrity") {
            continue;
        }
        let (path, v) = (r.path.as_str(), &r.value);
        let mut ph = Vec::new();
        let id = ex.text(path, v, &["Id"], "id", &mut ph);
        let name = ex.text(path, v, &["Name"], "model", &mut ph);
        let integrity_type = ex.text(path, v, &["ComponentIntegrityType"], "type", &mut ph);
        let type_version = ex.text(
            path,
            v,
            &["ComponentIntegrityTypeVersion"],
            "type_version",
            &mut ph,
        );
        let target = str_at(v, &["TargetComponentURI"]).and_then(normalize_id);
        let auth = at(
            v,
            &["SPDM", "IdentityAuthentication", "ResponderAuthentication"],
        )
        .or_else(|| at(v, &["TPM", "IdentityAuthentication"]));
        let verification_status = auth
            .and_then(|a| str_at(a, &["VerificationStatus"]))
            .map(bounded);
        let component_certificate = auth.and_then(|a| link_at(a, &["ComponentCertificate"]));

        let set = at(v, &["SPDM", "MeasurementSet"]);
        let summary = set.and_then(|s| {
            let raw = str_at(s, &["MeasurementSummary"]).map(bounded);
            let summary = MeasurementSummary {
                specification: str_at(s, &["MeasurementSpecification"]).map(bounded),
                summary_type: str_at(s, &["MeasurementSummaryType"]).map(bounded),
                algorithm: str_at(s, &["MeasurementSummaryHashAlgorithm"]).map(bounded),
                digest_hex: raw.as_deref().and_then(decode_digest),
                raw,
            };
            (summary != MeasurementSummary::default()).then_some(summary)
        });
        let mut measurements = Vec::new();
        for m in set
            .map(|s| objects_at(s, &["Measurements"], MAX_MEMBERS))
            .unwrap_or_default()
            .into_iter()
            .chain(objects_at(
                v,
                &["TPM", "MeasurementSet", "Measurements"],
                MAX_MEMBERS,
            ))
        {
            measurements.push(measurement(m));
        }

        let target_component = target.as_deref().and_then(|t| ex.component_for(t));
        let component = match target_component {
            Some(idx) => idx,
            None => {
                // The target's own name (`.../Chassis/FPGA_0`) says what it is; the entry's
                // Id often names the root of trust instead.
                let target_name = target
                    .as_deref()
                    .and_then(|t| t.rsplit('/').next())
                    .unwrap_or_default();
                let class = class_by_name(target_name)
                    .or_else(|| class_by_name(id.as_deref().unwrap_or_default()))
                    .unwrap_or_else(|| ComponentClass::Other("ComponentIntegrity".to_string()));
                let c = Component {
                    class: Some(class),
                    location: target.clone(),
                    source: "redfish".to_string(),
                    source_ref: r.id.clone(),
                    placeholders: ph,
                    ..Component::default()
                };
                ex.push(c, &[])
            }
        };
        attach_firmware_digest(ex, component, &r.id, &measurements);
        ex.integrity.push(IntegrityEntry {
            odata_id: r.id.clone(),
            id,
            name,
            integrity_type,
            type_version,
            enabled: bool_at(v, &["ComponentIntegrityEnabled"]),
            target_component_uri: target,
            components_protected: links_at(v, &["Links", "ComponentsProtected"], MAX_MEMBERS),
            verification_status,
            component_certificate,
            summary,
            measurements,
            component,
        });
    }
}

fn measurement(m: &Value) -> Measurement {
    let raw = str_at(m, &["Measurement"]).map(bounded);
    Measurement {
        index: at(m, &["MeasurementIndex"]).and_then(Value::as_u64),
        pcr: at(m, &["PCR"]).and_then(Value::as_u64),
        measurement_type: str_at(m, &["MeasurementType"]).map(bounded),
        algorithm: str_at(m, &["MeasurementHashAlgorithm"]).map(bounded),
        digest_hex: raw.as_deref().and_then(decode_digest),
        raw,
        part_of_summary: bool_at(m, &["PartofSummaryHash"]),
        last_updated: str_at(m, &["LastUpdated"]).map(bounded),
        security_version_number: str_at(m, &["SecurityVersionNumber"]).map(bounded),
    }
}

/// The firmware measurement(s) of one integrity entry onto its component: one SHA-256 digest
/// becomes `firmware_sha256`; anything else is written into `source_ref`.
fn attach_firmware_digest(ex: &mut Extractor<'_>, idx: usize, entry_id: &str, ms: &[Measurement]) {
    let firmware: Vec<&Measurement> = ms
        .iter()
        .filter(|m| m.measurement_type.as_deref() == Some("MutableFirmware"))
        .filter(|m| m.digest_hex.is_some())
        .collect();
    if firmware.is_empty() {
        return;
    }
    let mut sha256: Vec<&str> = firmware
        .iter()
        .filter(|m| m.is_sha256())
        .filter_map(|m| m.digest_hex.as_deref())
        .collect();
    sha256.sort_unstable();
    sha256.dedup();
    let Some(c) = ex.components.get_mut(idx) else {
        return;
    };
    let mut notes = Vec::new();
    if let [one] = sha256.as_slice() {
        if c.firmware_sha256.is_none() {
            c.firmware_sha256 = Some((*one).to_string());
        } else if c.firmware_sha256.as_deref() != Some(*one) {
            notes.push(format!("MutableFirmware SHA-256 {one}"));
        }
    }
    for m in &firmware {
        if m.is_sha256() && sha256.len() == 1 {
            continue;
        }
        notes.push(format!(
            "MutableFirmware[{}] {} {}",
            m.index
                .map(|i| i.to_string())
                .unwrap_or_else(|| "?".to_string()),
            m.algorithm.as_deref().unwrap_or("unknown-algorithm"),
            m.digest_hex.as_deref().unwrap_or_default()
        ));
    }
    for note in notes {
        c.source_ref.push_str(&format!("; {entry_id}: {note}"));
    }
}

/// A digest written as base64 (as the schema says) or as hex (as some BMCs do), in lowercase
/// hex.
fn decode_digest(text: &str) -> Option<String> {
    let t = text.trim();
    let is_hex =
        t.len().is_multiple_of(2) && t.len() >= 32 && t.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        return Some(t.to_ascii_lowercase());
    }
    base64::decode(t).filter(|b| !b.is_empty()).map(|b| hex(&b))
}

fn bounded(s: &str) -> String {
    crate::crawl::cut(s, MAX_DIGEST_TEXT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_spellings() {
        for a in ["TPM_ALG_SHA_256", "SHA-256", "SHA256", "sha_256"] {
            assert!(is_sha256_name(a), "{a}");
        }
        for a in ["TPM_ALG_SHA_384", "SHA3-256", "SHA512", ""] {
            assert!(!is_sha256_name(a), "{a}");
        }
    }

    #[test]
    fn digests_decode_from_base64_or_hex() {
        assert_eq!(decode_digest("3q2+7w==").as_deref(), Some("deadbeef"));
        let h = "AB".repeat(32);
        assert_eq!(decode_digest(&h), Some("ab".repeat(32)));
        assert_eq!(decode_digest("not a digest!"), None);
    }
}
