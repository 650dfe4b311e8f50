//! 2-D FFT helpers for phase correlation and the Fourier–Mellin transform.

use rustfft::num_complex::Complex32;
use rustfft::FftPlanner;

use crate::plane::Plane;

/// Log-polar resampled magnitude spectrum: `h` angle rows over [0, pi), `w` log-radius columns.
pub(crate) struct LogPolar {
    pub data: Vec<f32>,
    pub w: usize,
    pub h: usize,
    /// Natural-log radius step per column.
    pub log_step: f64,
}

/// Zero-mean copy multiplied by a separable Hann window (reduces the wrap-around edge).
pub(crate) fn hann_windowed(p: &Plane) -> Vec<f32> {
    let (m, _) = p.mean_std();
    let wx = hann(p.w);
    let wy = hann(p.h);
    let mut out = Vec::with_capacity(p.data.len());
    for (y, row) in p.data.chunks_exact(p.w.max(1)).enumerate() {
        let fy = wy.get(y).copied().unwrap_or(0.0);
        for (x, &v) in row.iter().enumerate() {
            let v = if v.is_finite() { v - m as f32 } else { 0.0 };
            out.push(v * fy * wx.get(x).copied().unwrap_or(0.0));
        }
    }
    out
}

fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = std::f64::consts::PI * 2.0 * i as f64 / (n.max(2) - 1) as f64;
            (0.5 - 0.5 * t.cos()) as f32
        })
        .collect()
}

/// In-place 2-D FFT of a `w x h` row-major complex buffer.
fn fft2(buf: &mut [Complex32], w: usize, h: usize, inverse: bool) {
    let mut planner = FftPlanner::<f32>::new();
    let fr = if inverse {
        planner.plan_fft_inverse(w)
    } else {
        planner.plan_fft_forward(w)
    };
    let fc = if inverse {
        planner.plan_fft_inverse(h)
    } else {
        planner.plan_fft_forward(h)
    };
    if buf.len() != w * h || w == 0 || h == 0 {
        return;
    }
    fr.process(buf);
    let mut col = vec![Complex32::new(0.0, 0.0); h];
    for x in 0..w {
        for (y, c) in col.iter_mut().enumerate() {
            *c = buf.get(y * w + x).copied().unwrap_or_default();
        }
        fc.process(&mut col);
        for (y, c) in col.iter().enumerate() {
            if let Some(d) = buf.get_mut(y * w + x) {
                *d = *c;
            }
        }
    }
}

/// Phase correlation of two real `w x h` signals: returns `(dy, dx, peak)` with
/// `b(x) ~ a(x - d)`, sub-pixel by parabolic fit, shifts wrapped to `(-n/2, n/2]`.
#[cfg(test)]
pub(crate) fn phase_correlate(a: &[f32], b: &[f32], w: usize, h: usize) -> (f64, f64, f64) {
    phase_correlate_peaks(a, b, w, h, 1)
        .first()
        .copied()
        .unwrap_or((0.0, 0.0, 0.0))
}

/// The `k` strongest peaks of the phase correlation of `a` and `b` (as [`phase_correlate`]),
/// strongest first, each a local maximum at least 3 samples from a stronger one. Periodic or
/// weakly structured boards correlate almost as well at a wrong shift, so callers verify
/// several candidates.
pub(crate) fn phase_correlate_peaks(
    a: &[f32],
    b: &[f32],
    w: usize,
    h: usize,
    k: usize,
) -> Vec<(f64, f64, f64)> {
    if a.len() != w * h || b.len() != w * h || w < 3 || h < 3 {
        return Vec::new();
    }
    let mut fa: Vec<Complex32> = a.iter().map(|&v| Complex32::new(v, 0.0)).collect();
    let mut fb: Vec<Complex32> = b.iter().map(|&v| Complex32::new(v, 0.0)).collect();
    fft2(&mut fa, w, h, false);
    fft2(&mut fb, w, h, false);
    for (x, y) in fa.iter_mut().zip(&fb) {
        // conj(A) * B peaks at +d when b(x) = a(x - d).
        let c = x.conj() * y;
        let m = c.norm();
        *x = if m > 1e-12 {
            c / m
        } else {
            Complex32::new(0.0, 0.0)
        };
    }
    fft2(&mut fa, w, h, true);
    let re: Vec<f32> = fa.iter().map(|c| c.re).collect();
    let at = |yy: usize, xx: usize| re.get(yy * w + xx).copied().unwrap_or(0.0);
    // Local maxima (3x3, wrapping), strongest first.
    let mut maxima: Vec<(usize, f32)> = Vec::new();
    for (i, &v) in re.iter().enumerate() {
        let (py, px) = (i / w, i % w);
        let mut is_max = true;
        for dy in [h - 1, 0, 1] {
            for dx in [w - 1, 0, 1] {
                if (dy, dx) != (0, 0) && at((py + dy) % h, (px + dx) % w) > v {
                    is_max = false;
                }
            }
        }
        if is_max {
            maxima.push((i, v));
        }
    }
    maxima.sort_by(|p, q| q.1.total_cmp(&p.1));
    let wrap = |p: usize, n: usize| {
        if p > n / 2 {
            p as f64 - n as f64
        } else {
            p as f64
        }
    };
    let sub = |l: f32, c: f32, r: f32| {
        let d = f64::from(l - 2.0 * c + r);
        if d.abs() > 1e-12 {
            (0.5 * f64::from(l - r) / d).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    };
    let n = (w * h) as f64;
    let mut out: Vec<(f64, f64, f64)> = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for (bi, bv) in maxima {
        if out.len() >= k {
            break;
        }
        let (py, px) = (bi / w, bi % w);
        let near = taken.iter().any(|&(ty, tx)| {
            let dy = py.abs_diff(ty).min(h - py.abs_diff(ty));
            let dx = px.abs_diff(tx).min(w - px.abs_diff(tx));
            dy.max(dx) < 3
        });
        if near {
            continue;
        }
        taken.push((py, px));
        let fx = sub(at(py, (px + w - 1) % w), bv, at(py, (px + 1) % w));
        let fy = sub(at((py + h - 1) % h, px), bv, at((py + 1) % h, px));
        out.push((wrap(py, h) + fy, wrap(px, w) + fx, f64::from(bv) / n));
    }
    out
}

/// High-passed log magnitude spectrum of `p` (zero-padded to `n x n`, Hann-windowed) resampled
/// to log-polar coordinates.
pub(crate) fn fft2_magnitude_logpolar(p: &Plane, n: usize) -> Option<LogPolar> {
    if n < 16 || p.w > n || p.h > n {
        return None;
    }
    let win = hann_windowed(p);
    let mut buf = vec![Complex32::new(0.0, 0.0); n * n];
    for (y, row) in win.chunks_exact(p.w.max(1)).enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if let Some(c) = buf.get_mut(y * n + x) {
                *c = Complex32::new(v, 0.0);
            }
        }
    }
    fft2(&mut buf, n, n, false);
    // Centred magnitude with the Reddy–Chatterji high-pass emphasis.
    let mut mag = Plane::filled(n, n, 0.0);
    let half = (n / 2) as isize;
    // Frequencies from the top half of the index range are negative; with an odd `n` the
    // split is at (n + 1) / 2, so the centred index `k + half` stays in 0..n.
    let split = n.div_ceil(2) as isize;
    for (i, c) in buf.iter().enumerate() {
        let (fy, fx) = ((i / n) as isize, (i % n) as isize);
        let ky = if fy >= split { fy - n as isize } else { fy };
        let kx = if fx >= split { fx - n as isize } else { fx };
        let (xi, eta) = (kx as f64 / n as f64, ky as f64 / n as f64);
        let xx = (std::f64::consts::PI * xi).cos() * (std::f64::consts::PI * eta).cos();
        let hp = (1.0 - xx) * (2.0 - xx);
        let cy = (ky + half) as usize;
        let cx = (kx + half) as usize;
        if let Some(d) = mag.data.get_mut(cy * n + cx) {
            *d = (f64::from(c.norm()).ln_1p() * hp) as f32;
        }
    }
    let n_theta = 360usize;
    let n_r = n / 2;
    let r_max = (n / 2) as f64 - 1.0;
    let log_step = r_max.ln() / n_r as f64;
    let mut data = Vec::with_capacity(n_theta * n_r);
    let c = half as f64;
    for t in 0..n_theta {
        let th = std::f64::consts::PI * t as f64 / n_theta as f64;
        let (sn, cs) = th.sin_cos();
        for j in 0..n_r {
            let r = (j as f64 * log_step).exp();
            let v = mag.bilinear(c + r * cs, c - r * sn);
            data.push(if v.is_finite() { v } else { 0.0 });
        }
    }
    Some(LogPolar {
        data,
        w: n_r,
        h: n_theta,
        log_step,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_polar_spectrum_of_an_odd_size_stays_in_bounds() {
        // An odd padded size once put the most negative frequency one row before the centred
        // image (an index overflow under debug assertions).
        for n in [33usize, 65, 64] {
            let p = Plane {
                w: n - 3,
                h: n / 2,
                data: (0..(n - 3) * (n / 2))
                    .map(|i| ((i * 37) % 11) as f32)
                    .collect(),
            };
            let lp = fft2_magnitude_logpolar(&p, n).expect("spectrum");
            assert_eq!(lp.data.len(), lp.w * lp.h);
            assert!(lp.data.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn phase_correlation_finds_a_shift() {
        let (w, h) = (64, 48);
        // Circular test signal: a few blobs.
        let f = |x: i64, y: i64| {
            let d = |cx: i64, cy: i64| ((x - cx).pow(2) + (y - cy).pow(2)) < 30;
            if d(20, 20) || d(40, 10) || d(10, 35) {
                100.0f32
            } else {
                0.0
            }
        };
        let a: Vec<f32> = (0..w * h)
            .map(|i| f((i % w) as i64, (i / w) as i64))
            .collect();
        let b: Vec<f32> = (0..w * h)
            .map(|i| {
                f(
                    ((i % w) as i64 - 5).rem_euclid(w as i64),
                    ((i / w) as i64 + 3).rem_euclid(h as i64),
                )
            })
            .collect();
        let (dy, dx, _) = phase_correlate(&a, &b, w, h);
        assert!(
            (dx - 5.0).abs() < 0.3 && (dy + 3.0).abs() < 0.3,
            "{dx} {dy}"
        );
    }
}
