//! Camera-like perturbations of a suspect image (shift, rotation, scale, camera tilt, brightness,
//! blur), for robustness tests and the perturbed evaluation.

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
    /// Camera tilt in degrees (0 = looking straight down at the board): a perspective change.
    pub tilt_deg: f64,
    /// Direction of the tilt axis in the image plane, degrees from the x axis.
    pub tilt_axis_deg: f64,
}

/// Uniform draws in [0, 1) from an xorshift64* stream started at `state`.
fn uniform(mut state: u64) -> impl FnMut() -> f64 {
    move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let v = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Perturbation {
    /// A deterministic perturbation drawn from `seed` within the ranges of the spec: shift up
    /// to 20 px, rotation up to 10 degrees, scale 0.9–1.1, gain 0.7–1.3, offset ±20, blur 0–2
    /// passes.
    pub fn from_seed(seed: u64) -> Self {
        let mut next = uniform(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1));
        let u = |v: f64, lo: f64, hi: f64| lo + (hi - lo) * v;
        Self {
            shift: (u(next(), -20.0, 20.0), u(next(), -20.0, 20.0)),
            rotation_deg: u(next(), -10.0, 10.0),
            scale: u(next(), 0.9, 1.1),
            gain: u(next(), 0.7, 1.3),
            offset: u(next(), -20.0, 20.0),
            blur_passes: (next() * 3.0) as u32,
            tilt_deg: 0.0,
            tilt_axis_deg: 0.0,
        }
    }

    /// The same perturbation with a camera tilt of up to `max_deg` degrees about an axis in a
    /// random direction, both drawn from `seed` (a stream of its own: the other parameters stay
    /// those of [`Perturbation::from_seed`]).
    #[must_use]
    pub fn with_tilt(mut self, max_deg: f64, seed: u64) -> Self {
        let mut next = uniform(seed.wrapping_mul(0xD1B5_4A32_D192_ED03).wrapping_add(7));
        self.tilt_deg = max_deg * next();
        self.tilt_axis_deg = 360.0 * next();
        self
    }

    /// The golden-to-suspect transform this perturbation applies to an image of size `w x h`.
    pub fn transform(&self, w: u32, h: u32) -> Homography {
        let (cx, cy) = ((f64::from(w) - 1.0) / 2.0, (f64::from(h) - 1.0) / 2.0);
        let sim = Homography::similarity(
            self.rotation_deg,
            self.scale,
            cx,
            cy,
            self.shift.0,
            self.shift.1,
        );
        if self.tilt_deg == 0.0 {
            return sim;
        }
        sim.compose(&tilt(self.tilt_deg, self.tilt_axis_deg, w, h))
    }
}

/// The homography a pinhole camera's rotation by `deg` about an axis at `axis_deg` in the image
/// plane induces, `K R K^-1`, with the focal length equal to the image diagonal (a normal lens,
/// about 53 degrees across the diagonal) and the image centre held in place (the camera is
/// re-aimed at the board's centre).
fn tilt(deg: f64, axis_deg: f64, w: u32, h: u32) -> Homography {
    let (cx, cy) = ((f64::from(w) - 1.0) / 2.0, (f64::from(h) - 1.0) / 2.0);
    let f = f64::from(w).hypot(f64::from(h)).max(1.0);
    let (st, ct) = deg.to_radians().sin_cos();
    let (sa, ca) = axis_deg.to_radians().sin_cos();
    // Rodrigues' rotation about the unit axis (ca, sa, 0).
    let r = [
        ct + ca * ca * (1.0 - ct),
        ca * sa * (1.0 - ct),
        sa * st,
        ca * sa * (1.0 - ct),
        ct + sa * sa * (1.0 - ct),
        -ca * st,
        -sa * st,
        ca * st,
        ct,
    ];
    let k = Homography([f, 0.0, cx, 0.0, f, cy, 0.0, 0.0, 1.0]);
    let k_inv = Homography([1.0 / f, 0.0, -cx / f, 0.0, 1.0 / f, -cy / f, 0.0, 0.0, 1.0]);
    let hm = k.compose(&Homography(r)).compose(&k_inv).normalized();
    // Move the image of the centre back to the centre.
    let (u, v) = hm.apply(cx, cy).unwrap_or((cx, cy));
    Homography::translation(cx - u, cy - v).compose(&hm)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilt_is_a_perspective_change_about_the_centre() {
        let p = Perturbation::from_seed(5);
        assert_eq!(p.tilt_deg, 0.0);
        let flat = p.transform(640, 480);
        assert_eq!(flat.0[6], 0.0);
        let t = p.with_tilt(10.0, 5);
        assert!(t.tilt_deg > 0.0 && t.tilt_deg <= 10.0, "{t:?}");
        // Only the tilt differs.
        assert_eq!(
            (t.rotation_deg, t.scale, t.shift),
            (p.rotation_deg, p.scale, p.shift)
        );
        let h = t.transform(640, 480);
        assert!(h.0[6].abs() + h.0[7].abs() > 1e-6, "{h:?}");
        // The centre goes where the similarity alone sends it.
        let (a, b) = (
            flat.apply(319.5, 239.5).unwrap(),
            h.apply(319.5, 239.5).unwrap(),
        );
        assert!((a.0 - b.0).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6);
        // A 20-degree tilt about the x axis: the rows nearer the camera grow, the far ones shrink.
        let mut q = p;
        q.shift = (0.0, 0.0);
        q.rotation_deg = 0.0;
        q.scale = 1.0;
        q.tilt_deg = 20.0;
        q.tilt_axis_deg = 0.0;
        let h = q.transform(640, 480);
        let width_at = |y: f64| h.apply(639.0, y).unwrap().0 - h.apply(0.0, y).unwrap().0;
        let (top, bottom) = (width_at(0.0), width_at(479.0));
        assert!((top - bottom).abs() > 20.0, "{top} {bottom}");
    }
}
