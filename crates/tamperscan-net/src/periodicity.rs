//! Is a series of check-in times periodic, and how sure are we? A test against a null model.
//!
//! A beacon calls home every `P` seconds with some jitter, and sometimes misses a beat (the host
//! slept, the network dropped, the implant skipped). Benign traffic that is not scheduled arrives
//! irregularly. We test the observed gaps against the null hypothesis that check-ins are a
//! Poisson process with the same mean rate (exponential gaps):
//!
//! 1. Check-ins closer than [`MERGE_GAP`] seconds are one check-in (an implant that opens two
//!    connections per call is one call).
//! 2. A period `P` is estimated from the gaps, unfolding missed beats: a gap `d` is `k = round(d/P)`
//!    beats long, and `P` is refined to the median of `d/k` (candidates start at the median, lower
//!    quartile and 10th percentile gap, so that many missed beats cannot hide the period).
//! 3. A gap is *on the beat* when `|d - kP| <= δ·P·√k` (jitter adds up over missed beats as in a
//!    random walk), capped at half a period, for `k <= 64`.
//! 4. Under the null, a gap is on the beat with probability `p0`, the exponential mass of those
//!    windows. The chance of at least the observed number of on-beat gaps is bounded by the
//!    Chernoff bound `exp(-m·KL(h/m ‖ p0))` (conservative: it never understates the p-value).
//! 5. Every tolerance δ in [`TOLERANCES`] and every starting candidate is tried; the smallest
//!    p-value is multiplied by the number of tries (Bonferroni), so trying more never manufactures
//!    significance.
//!
//! The result is a p-value, not a weighted sum of heuristics: a regular series of 12 check-ins
//! and one of 10,000 both get a meaningful number, and jitter or missed beats reduce it only as
//! much as they make the series look like chance.

/// Check-ins closer than this many seconds are merged into one.
pub const MERGE_GAP: f64 = 1.0;
/// Relative tolerances tried for "on the beat" (2% to 30% of the period).
pub const TOLERANCES: [f64; 5] = [0.02, 0.05, 0.1, 0.2, 0.3];
/// Longest run of missed beats still counted as one gap of `k` beats.
pub const MAX_BEATS: u32 = 64;
/// Fewest check-ins for which a period is estimated at all.
pub const MIN_CHECKINS: usize = 4;

/// What the test found for one series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Periodicity {
    /// Estimated period in seconds.
    pub period: f64,
    /// Check-ins after merging near-simultaneous ones.
    pub checkins: usize,
    /// Gaps between check-ins.
    pub gaps: usize,
    /// Gaps that fall on the beat (at the chosen tolerance).
    pub on_beat: usize,
    /// Beats missed inside on-beat gaps.
    pub missed_beats: u64,
    /// The tolerance that gave the strongest evidence.
    pub tolerance: f64,
    /// Median relative deviation of on-beat gaps from `k·P` (0 = metronome).
    pub jitter: f64,
    /// Median gap in seconds.
    pub gap_median: f64,
    /// Median absolute deviation of the gaps in seconds.
    pub gap_mad: f64,
    /// log10 of the p-value under the Poisson null, after the Bonferroni correction (<= 0).
    pub log10_p: f64,
}

impl Periodicity {
    /// Confidence that the series is periodic, in [0, 1]: `1 - p^(1/10)`... expressed on the
    /// log scale as `1 - 10^(log10_p / 10)`, so p = 1e-10 gives 0.9, p = 1e-20 gives 0.99 and a
    /// p-value of 1 gives 0.
    pub fn confidence(&self) -> f64 {
        (1.0 - 10f64.powf(self.log10_p / 10.0)).clamp(0.0, 1.0)
    }
}

/// Tests sorted check-in times (seconds). `None` when there are fewer than [`MIN_CHECKINS`]
/// check-ins after merging or no positive gap.
pub fn periodicity(sorted_times: &[f64]) -> Option<Periodicity> {
    let mut checkins: Vec<f64> = Vec::with_capacity(sorted_times.len().min(1 << 20));
    let mut previous: Option<f64> = None;
    for &t in sorted_times {
        if !t.is_finite() {
            continue;
        }
        // A burst (each time within MERGE_GAP of the one before) is one check-in.
        if previous.is_none_or(|p| t - p >= MERGE_GAP) {
            checkins.push(t);
        }
        previous = Some(t);
    }
    if checkins.len() < MIN_CHECKINS {
        return None;
    }
    let gaps: Vec<f64> = checkins.windows(2).map(|w| w[1] - w[0]).collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let m = gaps.len();
    let mean = sorted.iter().sum::<f64>() / m as f64;
    if mean <= 0.0 {
        return None;
    }
    let gap_median = quantile(&sorted, 0.5);
    let gap_mad = {
        let mut dev: Vec<f64> = sorted.iter().map(|g| (g - gap_median).abs()).collect();
        dev.sort_by(f64::total_cmp);
        quantile(&dev, 0.5)
    };
    let mut starts = vec![gap_median, quantile(&sorted, 0.25), quantile(&sorted, 0.1)];
    starts.retain(|p| *p >= MERGE_GAP);
    starts.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    if starts.is_empty() {
        return None;
    }
    let tries = (starts.len() * TOLERANCES.len()) as f64;
    let mut best: Option<(f64, f64, f64, usize)> = None;
    for start in starts {
        let period = refine(&gaps, start);
        if !(period.is_finite() && period >= MERGE_GAP) {
            continue;
        }
        for &tol in &TOLERANCES {
            let (hits, phase_p0) = count_on_beat(&gaps, period, tol);
            // Both nulls must be rejected: Poisson arrivals at the same rate, and gaps whose
            // phase against the period is uniform (a smooth gap density, e.g. bursts). When the
            // phase null alone is not rejected, the other cannot change that.
            let ln_p = if hits as f64 <= phase_p0 * m as f64 {
                0.0
            } else {
                chernoff_ln_tail(m, hits, null_probability(period, tol, mean).max(phase_p0))
            };
            let log10_p = (ln_p / std::f64::consts::LN_10 + tries.log10()).min(0.0);
            if best.is_none_or(|(b, ..)| log10_p < b) {
                best = Some((log10_p, period, tol, hits));
            }
        }
    }
    let (log10_p, period, tolerance, on_beat_gaps) = best?;
    let (missed_beats, jitter) = beat_details(&gaps, period, tolerance);
    Some(Periodicity {
        period,
        checkins: checkins.len(),
        gaps: m,
        on_beat: on_beat_gaps,
        missed_beats,
        tolerance,
        jitter,
        gap_median,
        gap_mad,
        log10_p,
    })
}

/// (on-beat gaps, mean chance of a gap landing on the beat with uniform phase): the hot loop
/// of [`periodicity`], without allocation.
fn count_on_beat(gaps: &[f64], period: f64, tol: f64) -> (usize, f64) {
    let mut hits = 0usize;
    let mut phase_mass = 0.0;
    let max = f64::from(MAX_BEATS);
    for &d in gaps {
        let k = (d / period).round().max(1.0);
        if k > max {
            continue;
        }
        let w = window(period, tol, k);
        // A gap shorter than half a period cannot be on the beat under either hypothesis.
        if d >= 0.5 * period {
            phase_mass += (2.0 * w / period).min(1.0);
        }
        if (d - k * period).abs() <= w {
            hits += 1;
        }
    }
    (
        hits,
        (phase_mass / gaps.len().max(1) as f64).clamp(1e-12, 1.0),
    )
}

/// Refines a period by unfolding missed beats: twice, the median of `d/k` over gaps within 30%
/// of a whole number of beats.
fn refine(gaps: &[f64], start: f64) -> f64 {
    let mut period = start;
    for _ in 0..3 {
        let mut per_beat: Vec<f64> = gaps
            .iter()
            .filter_map(|&d| {
                let k = (d / period).round();
                if !(1.0..=f64::from(MAX_BEATS)).contains(&k) {
                    return None;
                }
                let unit = d / k;
                ((unit - period).abs() <= 0.3 * period).then_some(unit)
            })
            .collect();
        if per_beat.is_empty() {
            return period;
        }
        per_beat.sort_by(f64::total_cmp);
        period = quantile(&per_beat, 0.5);
    }
    period
}

/// Half-width of the on-beat window around `k` beats.
fn window(period: f64, tol: f64, k: f64) -> f64 {
    (tol * period * k.sqrt()).min(0.5 * period)
}

/// (beats missed inside on-beat gaps, median relative deviation of on-beat gaps): the details
/// reported for the chosen period and tolerance.
fn beat_details(gaps: &[f64], period: f64, tol: f64) -> (u64, f64) {
    let mut missed = 0u64;
    let mut devs = Vec::new();
    for &d in gaps {
        let k = (d / period).round().max(1.0);
        if k > f64::from(MAX_BEATS) {
            continue;
        }
        let dev = (d - k * period).abs();
        if dev <= window(period, tol, k) {
            // k is in 1..=64 here.
            missed += (k as u64).saturating_sub(1);
            devs.push(dev / (k * period));
        }
    }
    devs.sort_by(f64::total_cmp);
    (missed, quantile(&devs, 0.5))
}

/// Probability that an exponential gap with the observed mean lands on the beat.
fn null_probability(period: f64, tol: f64, mean: f64) -> f64 {
    let mut p = 0.0;
    let mut last_hi = 0.0f64;
    for k in 1..=MAX_BEATS {
        let k = f64::from(k);
        let w = window(period, tol, k);
        let lo = (k * period - w).max(last_hi);
        let hi = k * period + w;
        let mass_from_lo = (-lo / mean).exp();
        if hi > lo {
            p += mass_from_lo - (-hi / mean).exp();
        }
        last_hi = hi;
        // The rest of the tail cannot change the sum.
        if mass_from_lo < 1e-12 {
            break;
        }
    }
    p.clamp(1e-12, 1.0)
}

/// ln of the Chernoff bound on P(X >= hits) for X ~ Binomial(m, p0); 0 when hits <= m·p0.
fn chernoff_ln_tail(m: usize, hits: usize, p0: f64) -> f64 {
    if m == 0 {
        return 0.0;
    }
    let q = hits as f64 / m as f64;
    if q <= p0 {
        return 0.0;
    }
    let kl = if q >= 1.0 {
        -(p0.ln())
    } else {
        q * (q / p0).ln() + (1.0 - q) * ((1.0 - q) / (1.0 - p0)).ln()
    };
    -(m as f64) * kl
}

/// Linear-interpolated quantile of sorted values (0 for an empty slice).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let a = sorted.get(lo).copied().unwrap_or(0.0);
    let b = sorted.get(hi).copied().unwrap_or(a);
    a + (b - a) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random generator (xorshift) so tests need no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn exp(&mut self, mean: f64) -> f64 {
            -mean * (1.0 - self.next()).ln()
        }
    }

    fn beacon(n: usize, period: f64, jitter: f64, miss: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng(seed);
        let mut t = 1_700_000_000.0;
        let mut out = Vec::new();
        for _ in 0..n {
            t += period * (1.0 + jitter * (2.0 * rng.next() - 1.0));
            if rng.next() >= miss {
                out.push(t);
            }
        }
        out
    }

    fn poisson(n: usize, mean: f64, seed: u64) -> Vec<f64> {
        let mut rng = Rng(seed);
        let mut t = 1_700_000_000.0;
        (0..n)
            .map(|_| {
                t += rng.exp(mean);
                t
            })
            .collect()
    }

    #[test]
    fn a_metronome_is_certain() {
        let p = periodicity(&beacon(100, 60.0, 0.0, 0.0, 1)).unwrap();
        assert!((p.period - 60.0).abs() < 0.01, "{p:?}");
        assert_eq!(p.on_beat, 99);
        assert!(p.log10_p < -50.0, "{p:?}");
        assert!(p.confidence() > 0.99);
    }

    #[test]
    fn jitter_and_missed_beats_keep_the_period() {
        // A C2 implant: 300 s sleep, 20% jitter, a third of the calls missed.
        let p = periodicity(&beacon(300, 300.0, 0.2, 0.33, 7)).unwrap();
        assert!((p.period - 300.0).abs() < 15.0, "{p:?}");
        assert!(p.missed_beats > 30, "{p:?}");
        assert!(p.log10_p < -10.0, "{p:?}");
    }

    #[test]
    fn twelve_regular_checkins_are_significant() {
        let p = periodicity(&beacon(12, 420.0, 0.05, 0.0, 3)).unwrap();
        assert!(p.log10_p < -5.0, "{p:?}");
    }

    #[test]
    fn random_arrivals_are_not_periodic() {
        // Over many seeds the corrected p-value of chance arrivals stays unremarkable.
        let mut worst: f64 = 0.0;
        for seed in 1..60 {
            let p = periodicity(&poisson(200, 120.0, seed)).unwrap();
            worst = worst.min(p.log10_p);
        }
        assert!(
            worst > -3.0,
            "a Poisson series looked periodic: log10 p {worst}"
        );
    }

    #[test]
    fn bursts_are_not_periodic() {
        // Browsing: bursts of quick requests separated by long idle times.
        let mut rng = Rng(11);
        let mut t = 0.0;
        let mut times = Vec::new();
        for _ in 0..40 {
            t += rng.exp(900.0);
            for _ in 0..(1 + (rng.next() * 8.0) as usize) {
                t += 1.0 + rng.exp(5.0);
                times.push(t);
            }
        }
        let p = periodicity(&times).unwrap();
        assert!(p.log10_p > -3.0, "{p:?}");
    }

    #[test]
    fn too_few_or_degenerate_series() {
        assert!(periodicity(&[]).is_none());
        assert!(periodicity(&[1.0, 2.5, 4.0]).is_none());
        assert!(periodicity(&[5.0; 100]).is_none());
        assert!(periodicity(&[f64::NAN, f64::INFINITY, 1.0, 2.0]).is_none());
        let mut t: Vec<f64> = (0..50).map(|i| f64::from(i) * 0.1).collect();
        t.extend([100.0, 200.0]);
        assert!(periodicity(&t).is_none());
    }

    #[test]
    fn confidence_is_monotone_in_evidence() {
        let strong = periodicity(&beacon(200, 60.0, 0.02, 0.0, 5)).unwrap();
        let weak = periodicity(&beacon(8, 60.0, 0.25, 0.0, 5)).unwrap();
        assert!(strong.confidence() > weak.confidence());
    }
}
