//! A beacon as a picture: its check-ins on a timeline and the histogram of the gaps between
//! them (a beacon is one tall bar at its period, with smaller ones at its multiples where beats
//! were missed; browsing is a smear). SVG, self-contained, for the HTML reports.

use std::fmt::Write;

const W: f64 = 720.0;
const H: f64 = 190.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The timeline and gap histogram of sorted check-in times; `period` (seconds) marks the
/// estimated beat. `None` with fewer than two times.
pub fn beacon_svg(times: &[f64], period: Option<f64>, title: &str) -> Option<String> {
    let first = *times.first()?;
    let last = *times.last()?;
    if times.len() < 2 || last <= first {
        return None;
    }
    let span = last - first;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11"><rect width="{W}" height="{H}" fill="#fff"/><text x="8" y="14" font-weight="bold">{}</text>"##,
        esc(title)
    );
    // Timeline.
    let (x0, x1, ty) = (40.0, W - 10.0, 40.0);
    let _ = write!(
        s,
        r##"<line x1="{x0}" y1="{ty}" x2="{x1}" y2="{ty}" stroke="#888"/>"##
    );
    for &t in times {
        let x = x0 + (t - first) / span * (x1 - x0);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#c0392b" stroke-width="1"/>"##,
            ty - 9.0,
            ty + 9.0
        );
    }
    let _ = write!(
        s,
        r##"<text x="8" y="{:.0}">time</text><text x="{x0}" y="{:.0}" fill="#555">0</text><text x="{:.0}" y="{:.0}" text-anchor="end" fill="#555">{}</text>"##,
        ty + 4.0,
        ty + 22.0,
        x1,
        ty + 22.0,
        esc(&crate::scan::human_period(span))
    );
    // Gap histogram up to 4 periods (or the 95th percentile gap).
    let mut gaps: Vec<f64> = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let p95 = crate::periodicity::quantile(&gaps, 0.95);
    let top = period
        .map_or(p95, |p| (4.0 * p).max(p95.min(8.0 * p)))
        .max(1.0);
    const BINS: usize = 60;
    let mut hist = [0u32; BINS];
    for g in &gaps {
        let i = ((g / top) * BINS as f64) as usize;
        if let Some(h) = hist.get_mut(i.min(BINS - 1)) {
            *h += 1;
        }
    }
    let max = f64::from(hist.iter().copied().max().unwrap_or(1).max(1));
    let (hy0, hy1) = (75.0, H - 25.0);
    let bw = (x1 - x0) / BINS as f64;
    for (i, &c) in hist.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let h = f64::from(c) / max * (hy1 - hy0);
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#2c7fb8"/>"##,
            x0 + i as f64 * bw,
            hy1 - h,
            (bw - 1.0).max(1.0)
        );
    }
    if let Some(p) = period {
        let mut k = 1.0;
        while k * p < top {
            let x = x0 + k * p / top * (x1 - x0);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{hy0}" x2="{x:.1}" y2="{hy1}" stroke="#e67e22" stroke-dasharray="3,3"/>"##
            );
            k += 1.0;
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{x0}" y1="{hy1}" x2="{x1}" y2="{hy1}" stroke="#888"/><text x="8" y="{:.0}">gaps</text><text x="{x0}" y="{:.0}" fill="#555">0</text><text x="{x1}" y="{:.0}" text-anchor="end" fill="#555">{}</text>{}</svg>"##,
        hy0 + 10.0,
        hy1 + 14.0,
        hy1 + 14.0,
        esc(&crate::scan::human_period(top)),
        period.map_or(String::new(), |p| format!(
            r##"<text x="{:.0}" y="{:.0}" fill="#e67e22">period {}</text>"##,
            x1 - 4.0,
            hy0 - 4.0,
            esc(&crate::scan::human_period(p))
        )
        .replace("<text ", r##"<text text-anchor="end" "##))
    );
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_ticks_and_bars() {
        let times: Vec<f64> = (0..50).map(|i| f64::from(i) * 60.0).collect();
        let svg = beacon_svg(&times, Some(60.0), "10.20.0.5 -> 203.0.113.9:443 <beacon>").unwrap();
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("stroke=\"#c0392b\"").count(), 50);
        assert!(svg.contains("&lt;beacon&gt;"));
        assert!(svg.contains("period 60.0 s"));
        assert!(beacon_svg(&[1.0], None, "x").is_none());
        assert!(beacon_svg(&[1.0, 1.0], None, "x").is_none());
    }
}
