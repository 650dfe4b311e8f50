//! A picture a person reads at a glance: golden (left) and registered suspect (right) side by
//! side, each change boxed on both, coloured by kind (red added, blue missing, orange altered)
//! and labelled with kind, class and score.

use std::io::Cursor;

use crate::diff::{warp_u8, ChangeKind, DiffReport};
use crate::font::{draw_text, put};
use crate::register::usize_of;
use crate::{BoardImage, Error};

/// Colour of a change kind.
fn kind_color(k: ChangeKind) -> [u8; 3] {
    match k {
        ChangeKind::Added => [230, 20, 20],
        ChangeKind::Missing => [30, 90, 255],
        _ => [255, 150, 0],
    }
}

/// Renders the side-by-side PNG for `report`.
///
/// # Errors
/// [`Error::Encode`] when PNG encoding fails; [`Error::BadDimensions`] when `golden` is not the
/// image the report was made from.
pub fn overlay_png(
    golden: &BoardImage,
    suspect: &BoardImage,
    report: &DiffReport,
) -> Result<Vec<u8>, Error> {
    if golden.width() != report.width || golden.height() != report.height {
        return Err(Error::BadDimensions {
            width: golden.width(),
            height: golden.height(),
        });
    }
    let (w, h) = (usize_of(golden.width()), usize_of(golden.height()));
    let sreg = warp_u8(suspect, &report.registration.transform, golden.gray(), w, h);
    let gap = 8usize;
    let ow = 2 * w + gap;
    let mut rgb = vec![255u8; ow * h * 3];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let gv = golden.gray().get(i).copied().unwrap_or(0);
            let gc = golden
                .rgb()
                .and_then(|c| c.get(3 * i..3 * i + 3))
                .and_then(|p| <[u8; 3]>::try_from(p).ok())
                .unwrap_or([gv; 3]);
            put(&mut rgb, ow, x, y, gc);
            let sv = sreg.get(i).copied().unwrap_or(0);
            put(&mut rgb, ow, x + w + gap, y, [sv; 3]);
        }
    }
    let thick = (w.max(h) / 400).max(1);
    let scale = (w.max(h) / 500).max(1);
    for c in &report.changes {
        let col = kind_color(c.kind);
        let [x0, y0, x1, y1] = c.bbox.map(usize_of);
        for off in [0, w + gap] {
            for t in 0..thick {
                for x in x0.saturating_sub(t)..(x1 + t).min(w) {
                    for y in [y0.saturating_sub(t + 1), (y1 + t).min(h - 1)] {
                        put(&mut rgb, ow, x + off, y, col);
                    }
                }
                for y in y0.saturating_sub(t)..(y1 + t).min(h) {
                    for x in [x0.saturating_sub(t + 1), (x1 + t).min(w - 1)] {
                        put(&mut rgb, ow, x + off, y, col);
                    }
                }
            }
        }
        let kind = match c.kind {
            ChangeKind::Added => "ADDED",
            ChangeKind::Missing => "MISSING",
            _ => "ALTERED",
        };
        let class = c.class.map(|k| k.name()).unwrap_or("");
        let label = format!("{kind} {class} {:.0}%", c.score * 100.0);
        let ly = y0.saturating_sub(8 * scale);
        draw_text(&mut rgb, ow, h, x0 + w + gap, ly, scale, &label, col);
    }
    draw_text(&mut rgb, ow, h, 2, 2, scale, "GOLDEN", [255, 255, 255]);
    let q = format!("SUSPECT REG NCC {:.2}", report.registration.correlation);
    draw_text(&mut rgb, ow, h, w + gap + 2, 2, scale, &q, [255, 255, 255]);
    let img = image::RgbImage::from_raw(
        u32::try_from(ow).map_err(|e| Error::Encode(e.to_string()))?,
        golden.height(),
        rgb,
    )
    .ok_or_else(|| Error::Encode("buffer size".into()))?;
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .map_err(|e| Error::Encode(e.to_string()))?;
    Ok(out)
}
