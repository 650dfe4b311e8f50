//! Plane projective transforms (3x3 homographies, row-major) and small dense linear algebra.

use serde::Serialize;

/// A homography mapping golden-image pixel coordinates to suspect-image pixel coordinates:
/// `[x_s, y_s, w] = M * [x_g, y_g, 1]`, row-major.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The identity.
    pub const IDENTITY: Self = Self([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);

    /// A pure translation by `(dx, dy)`.
    pub fn translation(dx: f64, dy: f64) -> Self {
        Self([1.0, 0.0, dx, 0.0, 1.0, dy, 0.0, 0.0, 1.0])
    }

    /// Rotation by `deg` (counter-clockwise on screen, y down) and uniform scale `s` about
    /// `(cx, cy)`, then a shift by `(dx, dy)`.
    pub fn similarity(deg: f64, s: f64, cx: f64, cy: f64, dx: f64, dy: f64) -> Self {
        let (sn, cs) = deg.to_radians().sin_cos();
        let a = s * cs;
        let b = s * sn;
        // x' = a (x-cx) + b (y-cy) + cx + dx ; y' = -b (x-cx) + a (y-cy) + cy + dy
        Self([
            a,
            b,
            cx + dx - a * cx - b * cy,
            -b,
            a,
            cy + dy + b * cx - a * cy,
            0.0,
            0.0,
            1.0,
        ])
    }

    /// Maps a point; `None` at the line at infinity.
    pub fn apply(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let m = &self.0;
        let w = m[6] * x + m[7] * y + m[8];
        if w.abs() < 1e-12 {
            return None;
        }
        Some((
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        ))
    }

    /// `self * other` (apply `other` first).
    pub fn compose(&self, other: &Self) -> Self {
        let a = &self.0;
        let b = &other.0;
        let mut c = [0.0; 9];
        for (i, row) in c.chunks_exact_mut(3).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
            }
        }
        Self(c)
    }

    /// The inverse, or `None` when singular.
    pub fn inverse(&self) -> Option<Self> {
        let m = &self.0;
        let c00 = m[4] * m[8] - m[5] * m[7];
        let c01 = m[5] * m[6] - m[3] * m[8];
        let c02 = m[3] * m[7] - m[4] * m[6];
        let det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if det.abs() < 1e-15 || !det.is_finite() {
            return None;
        }
        let inv = [
            c00,
            m[2] * m[7] - m[1] * m[8],
            m[1] * m[5] - m[2] * m[4],
            c01,
            m[0] * m[8] - m[2] * m[6],
            m[2] * m[3] - m[0] * m[5],
            c02,
            m[1] * m[6] - m[0] * m[7],
            m[0] * m[4] - m[1] * m[3],
        ];
        Some(Self(inv.map(|v| v / det)))
    }

    /// Rescales to `m[8] == 1` when possible.
    pub fn normalized(&self) -> Self {
        let s = self.0[8];
        if s.abs() > 1e-12 {
            Self(self.0.map(|v| v / s))
        } else {
            *self
        }
    }

    /// The same transform expressed on pyramid level `k` (pixel centres `x_k = (x+0.5)/2^k - 0.5`).
    pub fn to_level(&self, k: u32) -> Self {
        let s = f64::from(1u32 << k.min(20));
        let a = Self([s, 0.0, 0.5 * s - 0.5, 0.0, s, 0.5 * s - 0.5, 0.0, 0.0, 1.0]);
        let ai = Self([
            1.0 / s,
            0.0,
            (0.5 - 0.5 * s) / s,
            0.0,
            1.0 / s,
            (0.5 - 0.5 * s) / s,
            0.0,
            0.0,
            1.0,
        ]);
        ai.compose(self).compose(&a).normalized()
    }

    /// The inverse of [`Homography::to_level`].
    pub fn from_level(&self, k: u32) -> Self {
        let s = f64::from(1u32 << k.min(20));
        let a = Self([s, 0.0, 0.5 * s - 0.5, 0.0, s, 0.5 * s - 0.5, 0.0, 0.0, 1.0]);
        let ai = Self([
            1.0 / s,
            0.0,
            (0.5 - 0.5 * s) / s,
            0.0,
            1.0 / s,
            (0.5 - 0.5 * s) / s,
            0.0,
            0.0,
            1.0,
        ]);
        a.compose(self).compose(&ai).normalized()
    }
}

/// Solves `a x = b` (n x n, row-major) by Gaussian elimination with partial pivoting.
pub(crate) fn solve(n: usize, a: &mut [f64], b: &mut [f64]) -> Option<Vec<f64>> {
    if a.len() < n * n || b.len() < n {
        return None;
    }
    for col in 0..n {
        let mut piv = col;
        let mut best = 0.0;
        for r in col..n {
            let v = a.get(r * n + col).copied().unwrap_or(0.0).abs();
            if v > best {
                best = v;
                piv = r;
            }
        }
        if best < 1e-12 {
            return None;
        }
        if piv != col {
            for c in 0..n {
                a.swap(piv * n + c, col * n + c);
            }
            b.swap(piv, col);
        }
        let d = a.get(col * n + col).copied().unwrap_or(1.0);
        for r in col + 1..n {
            let f = a.get(r * n + col).copied().unwrap_or(0.0) / d;
            if f == 0.0 {
                continue;
            }
            for c in col..n {
                let v = a.get(col * n + c).copied().unwrap_or(0.0);
                if let Some(x) = a.get_mut(r * n + c) {
                    *x -= f * v;
                }
            }
            let bv = b.get(col).copied().unwrap_or(0.0);
            if let Some(x) = b.get_mut(r) {
                *x -= f * bv;
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let mut s = b.get(r).copied().unwrap_or(0.0);
        for c in r + 1..n {
            s -= a.get(r * n + c).copied().unwrap_or(0.0) * x.get(c).copied().unwrap_or(0.0);
        }
        let d = a.get(r * n + r).copied().unwrap_or(1.0);
        if let Some(v) = x.get_mut(r) {
            *v = s / d;
        }
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_round_trip() {
        let h = Homography::similarity(3.0, 1.05, 320.0, 320.0, 4.0, -2.0);
        let back = h.to_level(2).from_level(2);
        for (a, b) in h.0.iter().zip(back.0.iter()) {
            assert!((a - b).abs() < 1e-9);
        }
        let inv = h.inverse().unwrap();
        let id = h.compose(&inv);
        assert!((id.0[0] - 1.0).abs() < 1e-12 && id.0[1].abs() < 1e-12);
    }

    #[test]
    fn solve_small_system() {
        let mut a = vec![2.0, 1.0, 1.0, 3.0];
        let mut b = vec![3.0, 5.0];
        let x = solve(2, &mut a, &mut b).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }
}
