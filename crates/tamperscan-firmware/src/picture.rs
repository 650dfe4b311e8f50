//! A flash map: the image as one bar, its regions and volumes as bands, and the places a
//! finding is about marked on it, as a small SVG a person reads at a glance.

use crate::manifest::Manifest;
use std::fmt::Write;

/// Something to mark on the map.
#[derive(Debug, Clone)]
pub struct Mark {
    /// Image offset (for data inside a compressed section: that section's image offset).
    pub offset: u64,
    /// Length in the image (0 draws a thin tick).
    pub size: u64,
    /// Short label.
    pub label: String,
    /// `added`, `changed`, `missing` or `data`: picks the colour.
    pub kind: &'static str,
}

fn colour(kind: &str) -> &'static str {
    match kind {
        "added" => "#d9480f",
        "changed" => "#c92a2a",
        "missing" => "#5f3dc4",
        _ => "#e67700",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The image offset range of the top-level module that holds `offset` (for data unpacked from
/// a compressed section, the module that stores the section).
pub fn top_level_span(m: &Manifest, offset: u64) -> Option<(u64, u64)> {
    m.modules
        .iter()
        .filter(|x| {
            x.stored_in.is_none() && x.offset <= offset && offset < x.offset + x.size.max(1)
        })
        .min_by_key(|x| x.size)
        .map(|x| (x.offset, x.size))
}

/// Draws the map of `m` with `marks`.
pub fn flash_map_svg(m: &Manifest, title: &str, marks: &[Mark]) -> String {
    let width = 760.0f64;
    let left = 10.0;
    let total = m.image.size.max(1) as f64;
    let x = |off: u64| left + (off as f64 / total).min(1.0) * width;
    let mut s = String::new();
    let height = 110 + 16 * marks.len().min(8);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="780" height="{height}" font-family="sans-serif" font-size="11"><text x="10" y="14" font-weight="bold">{}</text>"#,
        esc(title)
    );
    // The image.
    let _ = write!(
        s,
        r##"<rect x="{left}" y="24" width="{width}" height="34" fill="#f1f3f5" stroke="#868e96"/>"##
    );
    // Regions (flash descriptor, device-tree partitions) and top-level volumes as bands.
    let mut bands: Vec<(u64, u64, String)> = m
        .regions
        .iter()
        .map(|r| (r.offset, r.size, r.name.clone()))
        .collect();
    bands.extend(
        m.volumes
            .iter()
            .filter(|v| v.stored_in.is_none() && !v.path.contains('/'))
            .map(|v| {
                (
                    v.offset,
                    v.size,
                    format!("FV {}", v.path.get(..8).unwrap_or(&v.path)),
                )
            }),
    );
    bands.extend(
        m.modules
            .iter()
            .filter(|x| {
                x.stored_in.is_none()
                    && matches!(
                        x.kind,
                        crate::ModuleKind::FitImage
                            | crate::ModuleKind::UbootImage
                            | crate::ModuleKind::DeviceTree
                    )
            })
            .map(|x| (x.offset, x.size, x.name.clone().unwrap_or_default())),
    );
    for (i, (off, size, name)) in bands.iter().enumerate() {
        let (x0, x1) = (x(*off), x(off.saturating_add(*size)));
        let fill = if i % 2 == 0 { "#dbe4ff" } else { "#d3f9d8" };
        let _ = write!(
            s,
            r##"<rect x="{x0:.1}" y="26" width="{:.1}" height="30" fill="{fill}" stroke="#adb5bd"/>"##,
            (x1 - x0).max(0.5)
        );
        if x1 - x0 > 50.0 {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="45" fill="#343a40">{}</text>"##,
                x0 + 3.0,
                esc(name)
            );
        }
    }
    for (i, mk) in marks.iter().take(8).enumerate() {
        let (x0, x1) = (x(mk.offset), x(mk.offset.saturating_add(mk.size)));
        let c = colour(mk.kind);
        let w = (x1 - x0).max(2.0);
        let _ = write!(
            s,
            r#"<rect x="{x0:.1}" y="22" width="{w:.1}" height="38" fill="{c}" fill-opacity="0.75"/>"#
        );
        let y = 80 + 16 * i;
        let _ = write!(
            s,
            r#"<line x1="{:.1}" y1="60" x2="{:.1}" y2="{}" stroke="{c}"/><text x="{:.1}" y="{}" fill="{c}">{} {} @ {:#x}</text>"#,
            x0 + w / 2.0,
            x0 + w / 2.0,
            y - 4,
            (x0 + w / 2.0 + 4.0).min(width - 200.0),
            y,
            mk.kind,
            esc(&mk.label),
            mk.offset
        );
    }
    let _ = write!(
        s,
        r##"<text x="{left}" y="{}" fill="#495057">0x0</text><text x="{}" y="{}" text-anchor="end" fill="#495057">{:#x} ({} bytes)</text></svg>"##,
        height - 4,
        left + width,
        height - 4,
        m.image.size,
        m.image.size
    );
    s
}
