//! Board images against their model's golden images.
//!
//! The resolution (pixels per mm) and, for two-level images, the material of each side come from
//! `[models.<name>.board]` in `fleet.toml` (see [`BoardConfig`]).
//!
//! Each host's `board/<side>.<png|jpg|tif>` is compared with `models/<model>/board/<side>.*`
//! (same side, same model) by `tamperscan-board`: registration, then change detection. Golden
//! images are decoded once per model and side; hosts are compared in parallel. A host image with
//! no golden image of its side, or one that cannot be registered, is reported, never skipped
//! silently.

use crate::config::{BoardConfig, BoardMaterial};
use crate::load::{Host, Model, Note};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tamperscan_board::{
    diff, load_image, overlay_png, BoardImage, DiffReport, ImageLimits, Options, Polarity,
};
use tamperscan_model::{EvidenceKind, EvidenceStatus};

/// One host image compared with its golden image.
#[derive(Debug, Clone)]
pub struct BoardComparison {
    /// The side (file stem: `top`, `bottom`, `xray-top`).
    pub side: String,
    /// The host's image, relative to the fleet root.
    pub path: String,
    /// The golden image, relative to the fleet root.
    pub golden: String,
    /// The changes found, or why the images could not be compared.
    pub outcome: Result<BoardDiff, String>,
}

/// A completed comparison.
#[derive(Debug, Clone)]
pub struct BoardDiff {
    /// Registration and changes.
    pub report: DiffReport,
    /// Side-by-side PNG with the changes boxed, when there are changes.
    pub overlay: Option<Vec<u8>>,
}

fn decode(root: &Path, rel: &str) -> Result<BoardImage, String> {
    let bytes = std::fs::read(root.join(rel)).map_err(|e| format!("cannot read {rel}: {e}"))?;
    load_image(&bytes, &ImageLimits::default()).map_err(|e| format!("{rel}: {e}"))
}

fn board_images(items: &[tamperscan_model::EvidenceItem]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|item| match (&item.kind, &item.status) {
            (EvidenceKind::BoardImage { side }, EvidenceStatus::Read) => {
                Some((side.clone(), item.path.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Compares every host's board images with its model's golden images; hosts without a golden
/// image of a side get a note.
pub fn compare_fleet(root: &Path, models: &BTreeMap<String, Model>, hosts: &mut [Host]) {
    // (model, side) -> golden path.
    let mut golden_paths: BTreeMap<(String, String), String> = BTreeMap::new();
    for (name, model) in models {
        for (side, path) in board_images(&model.references) {
            golden_paths.entry((name.clone(), side)).or_insert(path);
        }
    }
    // Decode only the golden images some host needs.
    let needed: Vec<(&(String, String), &String)> = golden_paths
        .iter()
        .filter(|((model, side), _)| {
            hosts.iter().any(|h| {
                h.config.model.as_ref().is_some_and(|(m, _)| m == model)
                    && board_images(&h.evidence).iter().any(|(s, _)| s == side)
            })
        })
        .collect();
    let goldens: BTreeMap<(String, String), Result<Arc<BoardImage>, String>> = needed
        .par_iter()
        .map(|(key, path)| ((*key).clone(), decode(root, path).map(Arc::new)))
        .collect();
    hosts.par_iter_mut().for_each(|host| {
        let model = host.config.model.as_ref().map(|(m, _)| m.clone());
        for (side, path) in board_images(&host.evidence) {
            let Some(model) = &model else {
                host.notes.push(Note {
                    path: path.clone(),
                    message: "board image not compared: the host declares no model".into(),
                });
                continue;
            };
            let key = (model.clone(), side.clone());
            let Some(golden_path) = golden_paths.get(&key) else {
                host.notes.push(Note {
                    path: path.clone(),
                    message: format!(
                        "board image not compared: no golden image models/{model}/board/{side}.png (or .jpg/.tif)"
                    ),
                });
                continue;
            };
            let opts = models
                .get(model)
                .map(|m| options_for(&m.config.board, &side))
                .unwrap_or_default();
            let outcome = match goldens.get(&key) {
                Some(Ok(golden)) => compare(root, golden, &path, &opts),
                Some(Err(e)) => Err(format!("the golden image cannot be used: {e}")),
                None => Err("the golden image was not decoded".into()),
            };
            host.boards.push(BoardComparison {
                side,
                path,
                golden: golden_path.clone(),
                outcome,
            });
        }
        host.boards.sort_by(|a, b| a.path.cmp(&b.path));
    });
}

/// Detector options for one side of a model: its resolution (sizes in mm², the placement
/// tolerance of the photo path) and material from `[models.<name>.board]`.
fn options_for(board: &BoardConfig, side: &str) -> Options {
    let (px_per_mm, material) = board.for_side(side);
    Options {
        px_per_mm,
        material: match material {
            Some(BoardMaterial::Bright) => Polarity::Bright,
            Some(BoardMaterial::Dark) | None => Polarity::Dark,
        },
        ..Options::default()
    }
}

fn compare(
    root: &Path,
    golden: &BoardImage,
    path: &str,
    opts: &Options,
) -> Result<BoardDiff, String> {
    let suspect = decode(root, path)?;
    let report = diff(golden, &suspect, opts).map_err(|e| e.to_string())?;
    let overlay = if report.changes.is_empty() {
        None
    } else {
        overlay_png(golden, &suspect, &report).ok()
    };
    Ok(BoardDiff { report, overlay })
}
