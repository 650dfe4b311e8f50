//! `fleet.toml` and `host.toml`: the operator's description of the fleet.

use crate::error::FleetError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use tamperscan_bytes::text::{as_text, line_col};
use tamperscan_model::{Identifier, IdentifierKind};
use toml::Spanned;

/// `fleet.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// `[fleet]`: the fleet's name and description.
    #[serde(default)]
    pub fleet: FleetSection,
    /// `[models.<name>]`: the hardware models of the fleet.
    #[serde(default)]
    pub models: BTreeMap<String, ModelConfig>,
    /// `[policy]`: management-plane policy, read by the network layer.
    #[serde(default)]
    pub policy: toml::Table,
}

/// `[fleet]` of `fleet.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FleetSection {
    /// The fleet's name (defaults to the directory name).
    pub name: Option<String>,
    /// Free text shown in reports.
    pub description: Option<String>,
    /// True for fleets made by `tamperscan demo`; reports label them synthetic.
    #[serde(default)]
    pub synthetic: bool,
}

/// `[models.<name>]` of `fleet.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Product or board name.
    pub product: Option<String>,
    /// Board revision this model covers.
    pub board_revision: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `[models.<name>.board]`: how the golden board images were taken.
    #[serde(default)]
    pub board: BoardConfig,
}

/// `[models.<name>.board]`: the resolution and material of a model's board images, for every
/// side, with per-side overrides under `[models.<name>.board.sides.<side>]`.
///
/// ```toml
/// [models.x11dpi.board]
/// px_per_mm = 19.7            # or dpi = 500
/// [models.x11dpi.board.sides.xray-top]
/// px_per_mm = 40.0
/// material = "bright"         # two-level images: which phase is material (default dark)
/// ```
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(try_from = "RawBoardConfig")]
pub struct BoardConfig {
    /// Pixels per millimetre of the golden images (from `px_per_mm` or `dpi`).
    pub px_per_mm: Option<f64>,
    /// Which phase is material on two-level images (X-ray, bare-board scan).
    pub material: Option<BoardMaterial>,
    /// Overrides by side (the image's file stem, lower-cased: `top`, `bottom`, `xray-top`).
    pub sides: BTreeMap<String, BoardSideConfig>,
}

/// The settings of one side.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(try_from = "RawBoardSide")]
pub struct BoardSideConfig {
    /// Pixels per millimetre of the golden image (from `px_per_mm` or `dpi`).
    pub px_per_mm: Option<f64>,
    /// Which phase is material on a two-level image (X-ray, bare-board scan).
    pub material: Option<BoardMaterial>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoardConfig {
    px_per_mm: Option<PxPerMm>,
    dpi: Option<Dpi>,
    material: Option<BoardMaterial>,
    #[serde(default)]
    sides: BTreeMap<String, BoardSideConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBoardSide {
    px_per_mm: Option<PxPerMm>,
    dpi: Option<Dpi>,
    material: Option<BoardMaterial>,
}

/// One resolution from `px_per_mm` or `dpi`, never both: two figures that disagree would leave
/// the operator guessing which one sized the findings.
fn one_resolution(px: Option<PxPerMm>, dpi: Option<Dpi>) -> Result<Option<f64>, String> {
    match (px, dpi) {
        (Some(_), Some(_)) => Err("give the resolution as px_per_mm or as dpi, not both".into()),
        (Some(p), None) => Ok(Some(p.0)),
        (None, Some(d)) => Ok(Some(d.0 / 25.4)),
        (None, None) => Ok(None),
    }
}

impl TryFrom<RawBoardConfig> for BoardConfig {
    type Error = String;
    fn try_from(r: RawBoardConfig) -> Result<Self, String> {
        Ok(Self {
            px_per_mm: one_resolution(r.px_per_mm, r.dpi)?,
            material: r.material,
            // Sides are matched against lower-cased file stems.
            sides: r
                .sides
                .into_iter()
                .map(|(k, v)| (k.to_lowercase(), v))
                .collect(),
        })
    }
}

impl TryFrom<RawBoardSide> for BoardSideConfig {
    type Error = String;
    fn try_from(r: RawBoardSide) -> Result<Self, String> {
        Ok(Self {
            px_per_mm: one_resolution(r.px_per_mm, r.dpi)?,
            material: r.material,
        })
    }
}

/// Pixels per millimetre, within what board photos and X-rays have: from a whole-board phone
/// photo (about 2 px/mm) to a magnified X-ray of a package (4 µm per pixel). A figure outside is
/// taken for a mistake: the usual one, a scanner's dpi (300, 600, 1200) written as px_per_mm,
/// would make every region hundreds of times smaller than it is and drop them all as specks.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
struct PxPerMm(f64);

/// Accepted range of [`PxPerMm`].
const PX_PER_MM_RANGE: (f64, f64) = (0.5, 250.0);

impl TryFrom<f64> for PxPerMm {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        check_px_per_mm(v)
            .map(Self)
            .map_err(|e| format!("px_per_mm {e} (for dots per inch write dpi)"))
    }
}

/// `v` if it is a plausible board image resolution in pixels per millimetre (the range
/// `fleet.toml` and `board diff --px-per-mm` accept), else what is wrong with it.
///
/// # Errors
/// Outside 0.5..=250 or not finite.
pub fn check_px_per_mm(v: f64) -> Result<f64, String> {
    let (lo, hi) = PX_PER_MM_RANGE;
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "must be between {lo} and {hi} pixels per millimetre, not {v}"
        ))
    }
}

/// `v` if it is a plausible board image resolution in dots per inch: the range of
/// [`check_px_per_mm`].
///
/// # Errors
/// Outside 12.7..=6350 or not finite.
pub fn check_dpi(v: f64) -> Result<f64, String> {
    let (lo, hi) = (PX_PER_MM_RANGE.0 * 25.4, PX_PER_MM_RANGE.1 * 25.4);
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "must be between {lo} and {hi} dots per inch, not {v}"
        ))
    }
}

/// Dots per inch, the same range as [`PxPerMm`].
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
struct Dpi(f64);

impl TryFrom<f64> for Dpi {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        check_dpi(v)
            .map(Self)
            .map_err(|e| format!("dpi {e} (for pixels per millimetre write px_per_mm)"))
    }
}

/// Which phase of a two-level board image is material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardMaterial {
    /// Material is dark (bare-board scans; the default).
    Dark,
    /// Material is bright (X-rays shown with metal white).
    Bright,
}

impl BoardConfig {
    /// Pixels per millimetre and material for `side`: the side's own settings, else those for
    /// every side.
    pub fn for_side(&self, side: &str) -> (Option<f64>, Option<BoardMaterial>) {
        let own = self.sides.get(side).copied().unwrap_or_default();
        (
            own.px_per_mm.or(self.px_per_mm),
            own.material.or(self.material),
        )
    }
}

/// `hosts/<host>/host.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    /// Overrides the directory name as host id.
    pub id: Option<String>,
    /// The hardware model (a key of `[models]` or a `models/` directory), with its line.
    pub model: Option<(String, (usize, usize))>,
    /// Site or data centre.
    pub site: Option<String>,
    /// Rack position.
    pub rack: Option<String>,
    /// Factory lot or shipment.
    pub lot: Option<String>,
    /// The BMC's management address.
    pub bmc_address: Option<IpAddr>,
    /// The operator vouches for this host (used to learn references).
    pub known_good: bool,
    /// Free labels.
    pub tags: Vec<String>,
    /// Identifiers, normalised; placeholders are dropped.
    pub identifiers: Vec<Identifier>,
    /// Identifier values that were placeholders (kept to report them).
    pub placeholders: Vec<(IdentifierKind, String)>,
    /// Explicit evidence files: slot path (`firmware/bmc.bin`) to file path, with its line.
    pub evidence: Vec<(String, String, (usize, usize))>,
    /// The nonce the collector sent with the TPM quote (`quote_nonce`, hex), decoded.
    pub quote_nonce: Option<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostToml {
    id: Option<String>,
    model: Option<Spanned<String>>,
    site: Option<String>,
    rack: Option<String>,
    lot: Option<String>,
    bmc_address: Option<Spanned<String>>,
    #[serde(default)]
    known_good: bool,
    #[serde(default)]
    tags: Vec<String>,
    system_serial: Option<String>,
    board_serial: Option<String>,
    chassis_serial: Option<String>,
    smbios_uuid: Option<String>,
    bmc_mac: Option<Spanned<String>>,
    tpm_ek_sha256: Option<String>,
    quote_nonce: Option<Spanned<String>>,
    #[serde(default)]
    evidence: BTreeMap<String, Spanned<String>>,
}

/// Parses `fleet.toml` text. `path` is only used in errors.
pub fn parse_fleet_toml(bytes: &[u8], path: &Path) -> Result<FleetConfig, FleetError> {
    let (config, _text) = parse_toml::<FleetConfig>(bytes, path)?;
    Ok(config)
}

/// Parses `host.toml` text. `path` is only used in errors.
pub fn parse_host_toml(bytes: &[u8], path: &Path) -> Result<HostConfig, FleetError> {
    let (raw, text) = parse_toml::<HostToml>(bytes, path)?;
    let at = |span: std::ops::Range<usize>| line_col(text, span.start);
    let mut config = HostConfig {
        id: raw.id,
        model: raw.model.map(|m| {
            let pos = at(m.span());
            (m.into_inner(), pos)
        }),
        site: raw.site,
        rack: raw.rack,
        lot: raw.lot,
        known_good: raw.known_good,
        tags: raw.tags,
        ..HostConfig::default()
    };
    if let Some(address) = raw.bmc_address {
        let parsed = address.get_ref().trim().parse::<IpAddr>().map_err(|_| {
            FleetError::at(
                path,
                at(address.span()),
                format!(
                    "bmc_address {:?} is not an IPv4 or IPv6 address",
                    address.get_ref()
                ),
            )
        })?;
        config.bmc_address = Some(parsed);
    }
    if let Some(mac) = &raw.bmc_mac {
        if !is_mac(mac.get_ref()) {
            return Err(FleetError::at(
                path,
                at(mac.span()),
                format!(
                    "bmc_mac {:?} is not a MAC address like 0c:c4:7a:11:22:33",
                    mac.get_ref()
                ),
            ));
        }
    }
    let values = [
        (IdentifierKind::SystemSerial, raw.system_serial),
        (IdentifierKind::BoardSerial, raw.board_serial),
        (IdentifierKind::ChassisSerial, raw.chassis_serial),
        (IdentifierKind::SmbiosUuid, raw.smbios_uuid),
        (IdentifierKind::BmcMac, raw.bmc_mac.map(Spanned::into_inner)),
        (IdentifierKind::TpmEkSha256, raw.tpm_ek_sha256),
    ];
    for (kind, value) in values {
        let Some(value) = value else { continue };
        match Identifier::new(kind, &value) {
            Some(id) => config.identifiers.push(id),
            None => config.placeholders.push((kind, value)),
        }
    }
    if let Some(nonce) = &raw.quote_nonce {
        let text = nonce.get_ref().trim();
        let decoded = tamperscan_bytes::unhex(text);
        match decoded {
            Some(bytes) => config.quote_nonce = Some(bytes),
            None => {
                return Err(FleetError::at(
                    path,
                    at(nonce.span()),
                    format!("quote_nonce {:?} is not hex", nonce.get_ref()),
                ))
            }
        }
    }
    for (slot, file) in raw.evidence {
        let pos = at(file.span());
        config.evidence.push((slot, file.into_inner(), pos));
    }
    Ok(config)
}

fn is_mac(value: &str) -> bool {
    let parts: Vec<&str> = value.trim().split([':', '-']).collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Decodes TOML from bytes that must be UTF-8 text, with errors at file:line:col, and refuses
/// unknown keys (a misspelt key would otherwise silently drop what the operator meant).
pub(crate) fn parse_toml<'t, T: DeserializeOwned>(
    bytes: &'t [u8],
    path: &Path,
) -> Result<(T, &'t str), FleetError> {
    let text =
        as_text(bytes).map_err(|e| FleetError::new(path, format!("not a TOML text file: {e}")))?;
    toml::from_str::<T>(text).map(|v| (v, text)).map_err(|e| {
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => FleetError::at(path, line_col(text, span.start), message),
            None => FleetError::new(path, message),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_toml_fields_and_identifiers() {
        let text = br#"
model = "x11dpi"
lot = "L7"
bmc_address = "10.0.0.11"
bmc_mac = "0C:C4:7A:11:22:33"
board_serial = "ZM19BS0001"
system_serial = "To be filled by O.E.M."

[evidence]
"firmware/bmc.bin" = "/archive/bmc.bin"
"#;
        let h = parse_host_toml(text, Path::new("hosts/a/host.toml")).unwrap();
        assert_eq!(h.model.as_ref().unwrap().0, "x11dpi");
        assert_eq!(h.model.as_ref().unwrap().1, (2, 9));
        assert_eq!(h.bmc_address.unwrap().to_string(), "10.0.0.11");
        assert_eq!(h.identifiers.len(), 2);
        assert_eq!(
            h.placeholders,
            vec![(
                IdentifierKind::SystemSerial,
                "To be filled by O.E.M.".into()
            )]
        );
        assert_eq!(
            h.evidence,
            vec![(
                "firmware/bmc.bin".into(),
                "/archive/bmc.bin".into(),
                (10, 22)
            )]
        );
    }

    #[test]
    fn broken_toml_names_file_and_line() {
        let err = parse_host_toml(b"model = \"a\"\nlot = [\n", Path::new("hosts/a/host.toml"))
            .unwrap_err();
        assert_eq!(err.line_col.map(|(l, _)| l), Some(3), "{err}");
        assert!(err.to_string().starts_with("hosts/a/host.toml:3:"), "{err}");
    }

    #[test]
    fn unknown_and_mistyped_keys_are_errors_with_lines() {
        let err =
            parse_host_toml(b"model = \"a\"\nmodle = \"b\"\n", Path::new("h.toml")).unwrap_err();
        assert_eq!(err.line_col.map(|(l, _)| l), Some(2));
        assert!(err.message.contains("modle"), "{err}");
        let err = parse_host_toml(b"known_good = \"yes\"\n", Path::new("h.toml")).unwrap_err();
        assert_eq!(err.line_col.map(|(l, _)| l), Some(1));
        let err =
            parse_host_toml(b"bmc_address = \"10.0.0.300\"\n", Path::new("h.toml")).unwrap_err();
        assert!(
            err.to_string().starts_with("h.toml:1:15: bmc_address"),
            "{err}"
        );
    }

    #[test]
    fn binary_is_refused_with_offset() {
        let err = parse_fleet_toml(b"\x89PNG\r\n\x1a\n\0\0", Path::new("fleet.toml")).unwrap_err();
        assert!(err.to_string().contains("not a TOML text file"), "{err}");
        assert!(err.to_string().contains("offset 0"), "{err}");
    }

    #[test]
    fn fleet_toml_models_and_policy() {
        let text = b"[fleet]\nname = \"prod\"\n[models.x11]\nvendor = \"Supermicro\"\n[policy]\nmanagement_networks = [\"10.0.0.0/24\"]\n";
        let f = parse_fleet_toml(text, Path::new("fleet.toml")).unwrap();
        assert_eq!(f.fleet.name.as_deref(), Some("prod"));
        assert_eq!(f.models["x11"].vendor.as_deref(), Some("Supermicro"));
        assert!(f.policy.contains_key("management_networks"));
        assert_eq!(f.models["x11"].board, BoardConfig::default());
    }

    #[test]
    fn board_resolution_and_material_by_side() {
        let text = b"[models.x11.board]\ndpi = 508\n[models.x11.board.sides.xray-top]\npx_per_mm = 40\nmaterial = \"bright\"\n";
        let f = parse_fleet_toml(text, Path::new("fleet.toml")).unwrap();
        let b = &f.models["x11"].board;
        let (px, material) = b.for_side("top");
        assert!((px.unwrap() - 20.0).abs() < 1e-9, "{px:?}");
        assert_eq!(material, None);
        assert_eq!(
            b.for_side("xray-top"),
            (Some(40.0), Some(BoardMaterial::Bright))
        );
        // Nonsense is refused at its line, with what was expected.
        for (bad, expect) in [
            ("[models.x.board]\npx_per_mm = -3\n", "between 0.5 and 250"),
            // A dpi figure written as px_per_mm.
            (
                "[models.x.board]\npx_per_mm = 500\n",
                "for dots per inch write dpi",
            ),
            ("[models.x.board]\ndpi = 1e300\n", "dots per inch"),
            ("[models.x.board]\nmaterial = \"shiny\"\n", "dark"),
            ("[models.x.board]\npx_per_inch = 3\n", "unknown field"),
            ("[models.x.board.sides.top]\nzoom = 3\n", "unknown field"),
        ] {
            let err = parse_fleet_toml(bad.as_bytes(), Path::new("fleet.toml")).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expect), "{bad}: {text}");
            assert!(text.starts_with("fleet.toml:2:"), "{bad}: {text}");
        }
        // Both resolutions at one level: refused, naming the table.
        for bad in [
            "[models.x.board]\npx_per_mm = 20\ndpi = 508\n",
            "[models.x.board.sides.top]\npx_per_mm = 20\ndpi = 508\n",
        ] {
            let err = parse_fleet_toml(bad.as_bytes(), Path::new("fleet.toml")).unwrap_err();
            let text = err.to_string();
            assert!(text.contains("not both"), "{bad}: {text}");
            assert!(text.starts_with("fleet.toml:1:"), "{bad}: {text}");
        }
        // Side names are matched as lower-cased file stems.
        let f = parse_fleet_toml(
            b"[models.x.board.sides.Top]\npx_per_mm = 12\n",
            Path::new("fleet.toml"),
        )
        .unwrap();
        assert_eq!(f.models["x"].board.for_side("top").0, Some(12.0));
    }
}
