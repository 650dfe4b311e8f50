//! Camera-like perturbations of a suspect image (shift, rotation, scale, brightness, blur), for
//! robustness tests and the perturbed evaluation.

use serde::Serialize;

use crate::plane::Plane;
use crate::register::usize_of;
use crate::transform::Homography;
use crate::{BoardImage, Error};

/// One perturbation.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Perturbation {
    /// Shift in pixels.
    pub shift: (f64, f64),
    /// Rotation in degrees about the image centre.
    pub rotation_deg: f64,
    /// Scale about the image centre.
    pub scale: f64,
    /// Brightness gain (1 = unchanged).
    pub gain: f64,
    /// Brightness offset in grey levels.
    pub offset: f64,
    /// Number of [1 2 1] blur passes (each adds variance 0.5 px²).
    pub blur_passes: u32,
}

impl Perturbation {
    /// A deterministic perturbation drawn from `seed` within the ranges of the spec: shift up
    /// to 20 px, rotation up to 10 degrees, scale 0.9–1.1, gain 0.7–1.3, offset ±20, blur 0–2
    /// passes.
    pub fn from_seed(seed: u64) -> Self {
        let mut st = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
        let mut next = || {
            // xorshift64*
            st ^= st >> 12;
            st ^= st << 25;
            st ^= st >> 27;
            let v = st.wrapping_mul(0x2545_F491_4F6C_DD1D);
            (v >> 11) as f64 / (1u64 << 53) as f64
        };
        let u = |v: f64, lo: f64, hi: f64| lo + (hi - lo) * v;
        Self {
            shift: (u(next(), -20.0, 20.0), u(next(), -20.0, 20.0)),
            rotation_deg: u(next(), -10.0, 10.0),
            scale: u(next(), 0.9, 1.1),
            gain: u(next(), 0.7, 1.3),
            offset: u(next(), -20.0, 20.0),
            blur_passes: (next() * 3.0) as u32,
        }
    }

    /// The golden-to-suspect transform this perturbation applies to an image of size `w x h`.
    pub fn transform(&self, w: u32, h: u32) -> Homography {
        let (cx, cy) = ((f64::from(w) - 1.0) / 2.0, (f64::from(h) - 1.0) / 2.0);
        Homography::similarity(
            self.rotation_deg,
            self.scale,
            cx,
            cy,
            self.shift.0,
            self.shift.1,
        )
    }
}

/// Applies `p` to `img`: the result shows the same scene as if the camera moved. Uncovered
/// pixels take the image's median grey (a plain background).
///
/// # Errors
/// [`Error::BadDimensions`] only if the image is degenerate.
pub fn perturb(img: &BoardImage, p: &Perturbation) -> Result<BoardImage, Error> {
    let (w, h) = (usize_of(img.width()), usize_of(img.height()));
    let src = Plane::from_u8(w, h, img.gray());
    let fwd = p.transform(img.width(), img.height());
    let inv = fwd.inverse().ok_or(Error::BadDimensions {
        width: img.width(),
        height: img.height(),
    })?;
    let mut hist = [0u64; 256];
    for &v in img.gray() {
        if let Some(c) = hist.get_mut(usize::from(v)) {
            *c += 1;
        }
    }
    let half = img.gray().len() as u64 / 2;
    let mut acc = 0;
    let mut median = 0u8;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc > half {
            median = u8::try_from(i).unwrap_or(0);
            break;
        }
    }
    let mut out = crate::register::warp(&src, &inv, w, h);
    for v in &mut out.data {
        if !v.is_finite() {
            *v = f32::from(median);
        }
    }
    for _ in 0..p.blur_passes {
        out = out.blur121();
    }
    let gray = out
        .data
        .iter()
        .map(|&v| (f64::from(v) * p.gain + p.offset).round().clamp(0.0, 255.0) as u8)
        .collect();
    BoardImage::from_gray(img.width(), img.height(), gray)
}
