//! Golden-versus-suspect board image comparison: finds every region where a delivered board
//! differs from the golden image of its design (an implant chip, a removed or replaced part, a
//! copper change) and draws it.
//!
//! Pipeline: [`load_image`] (PNG/JPEG/TIFF under a memory bound) → [`register`] (block-matching
//! affine fit for nearly aligned pairs, else Fourier–Mellin + pyramid Lucas–Kanade homography,
//! with a quality gate) → [`diff`] (neighbourhood-tolerant difference, connected regions, edge
//! slivers and regions at the edge of the compared area dropped, topology classes)
//! → [`overlay_png`]. [`eval`] scores the detector on labelled directories and [`perturb`]
//! makes camera-like perturbations for robustness tests.
#![forbid(unsafe_code)]

mod block_match;
mod diff;
pub mod eval;
mod fft;
mod font;
mod image_io;
mod overlay;
pub mod perturb;
mod photo;
mod plane;
mod register;
mod transform;

pub use diff::{diff, diff_registered, Change, ChangeKind, DefectClass, DiffReport, ImageMode};
pub use image_io::{load_image, BoardImage, ImageLimits};
pub use overlay::overlay_png;
pub use register::{register, Registration, RegistrationMethod};
pub use transform::Homography;

/// Which phase of a two-level image is the material (copper, metal) whose gain is "added".
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// Material is darker than the background (DeepPCB scans, photos of copper on laminate).
    Dark,
    /// Material is brighter (X-ray shown as attenuation, bright pads).
    Bright,
}

/// Knobs for [`register`] and [`diff`]. The defaults are derived from first principles (see each
/// field); none is fitted to a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Refuse a pair whose normalised correlation after alignment is below this (default 0.5:
    /// unrelated images correlate near 0, the same design under lighting changes and a few
    /// defects well above 0.8; 0.5 is the midpoint).
    pub min_correlation: f64,
    /// Refuse a pair whose registered suspect covers less than this fraction of the golden image
    /// (default 0.5).
    pub min_overlap: f64,
    /// Edge tolerance in pixels: a feature counts as present when it appears within this radius
    /// in the other image (default 2: one pixel of JPEG/edge jitter plus one of registration).
    pub tolerance_px: u32,
    /// Pixels per millimetre when known, for sizes in mm².
    pub px_per_mm: Option<f64>,
    /// Which phase is material, for the added/missing decision on two-level images.
    pub material: Polarity,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            min_correlation: 0.5,
            min_overlap: 0.5,
            tolerance_px: 2,
            px_per_mm: None,
            material: Polarity::Dark,
        }
    }
}

/// What went wrong, and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not PNG, JPEG or TIFF.
    #[error("unrecognised image format; supply PNG, JPEG or TIFF")]
    UnknownFormat,
    /// The header claims more pixels than allowed.
    #[error("image is {width} x {height} pixels, over the limit of {max_pixels}; downscale it or raise ImageLimits::max_pixels")]
    TooLarge {
        /// Claimed width.
        width: u32,
        /// Claimed height.
        height: u32,
        /// The limit in force.
        max_pixels: u64,
    },
    /// The decoder failed (truncated or corrupt file).
    #[error("image could not be decoded: {0}; check the file is complete")]
    Decode(String),
    /// Pixel buffer and dimensions disagree.
    #[error("pixel buffer does not match {width} x {height}")]
    BadDimensions {
        /// Width given.
        width: u32,
        /// Height given.
        height: u32,
    },
    /// An image has no contrast to align on.
    #[error("image is blank (no contrast); check exposure")]
    FeaturelessImage,
    /// Registration quality below the gate.
    #[error("suspect image is not the same board: registration correlation {correlation:.2} < {min_correlation:.2} (overlap {overlap:.2}); check the design and side")]
    NotSameBoard {
        /// Correlation reached.
        correlation: f64,
        /// Gate.
        min_correlation: f64,
        /// Overlap fraction reached.
        overlap: f64,
    },
    /// Reading an evaluation directory failed.
    #[error("cannot read {path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error text.
        message: String,
    },
    /// An annotation or index file is malformed.
    #[error("bad annotation {path}: {message}")]
    Annotation {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Encoding the overlay failed.
    #[error("overlay encoding failed: {0}")]
    Encode(String),
}
