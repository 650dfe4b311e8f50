//! The demo's board photos: a rendered assembled board around the BMC (solder mask, traces,
//! vias, the BMC, its SPI flash, a QFP, passives, a header, silkscreen), the golden image under
//! `models/es-1u-r1/board/top.png`, and one photo per host of that model as taken on an
//! inspection jig: a slightly different position (within 4 px), exposure, white balance, noise
//! and focus each time, saved as JPEG. srv-a-04's board carries one extra part the design does
//! not have: a six-pin SOT-23 package between the BMC and its SPI flash, where an implant that
//! rewrites the BMC firmware as it loads would sit.

use crate::{write, DemoError, Planted};
use std::path::Path;
use tamperscan_net::synth::Rng;

/// Resolution of the rendered board and its photos (the jig's camera sees it 1:1).
pub(crate) const PX_PER_MM: f64 = 8.0;

/// Image size: about 100 x 65 mm at 8 px/mm.
const W: usize = 800;
const H: usize = 520;

type Rgb = [f32; 3];

struct Canvas {
    px: Vec<Rgb>,
}

impl Canvas {
    fn new(fill: Rgb) -> Canvas {
        Canvas {
            px: vec![fill; W * H],
        }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) {
            if x < W && y < H {
                if let Some(p) = self.px.get_mut(y * W + x) {
                    *p = c;
                }
            }
        }
    }

    fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, c);
            }
        }
    }

    fn outline(&mut self, x: i64, y: i64, w: i64, h: i64, t: i64, c: Rgb) {
        self.rect(x, y, w, t, c);
        self.rect(x, y + h - t, w, t, c);
        self.rect(x, y, t, h, c);
        self.rect(x + w - t, y, t, h, c);
    }

    fn disc(&mut self, cx: i64, cy: i64, r: i64, c: Rgb) {
        for y in cy - r..=cy + r {
            for x in cx - r..=cx + r {
                if (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r {
                    self.set(x, y, c);
                }
            }
        }
    }
}

const MASK: Rgb = [24.0, 92.0, 52.0];
const TRACE: Rgb = [40.0, 122.0, 70.0];
const SILK: Rgb = [226.0, 226.0, 214.0];
const BODY: Rgb = [34.0, 34.0, 38.0];
const PIN: Rgb = [196.0, 196.0, 200.0];
const GOLD: Rgb = [206.0, 172.0, 80.0];

/// A small outline package with `n` pins per long side (SOIC, SOT-23).
fn gull_wing(
    c: &mut Canvas,
    (x, y, w, h): (i64, i64, i64, i64),
    n: i64,
    pin_w: i64,
    vertical: bool,
) {
    c.rect(x, y, w, h, BODY);
    let pitch = if vertical { w / n } else { h / n };
    for k in 0..n {
        let off = pitch * k + (pitch - pin_w) / 2;
        if vertical {
            c.rect(x + off, y - 6, pin_w, 6, PIN);
            c.rect(x + off, y + h, pin_w, 6, PIN);
        } else {
            c.rect(x - 8, y + off, 8, pin_w, PIN);
            c.rect(x + w, y + off, 8, pin_w, PIN);
        }
    }
    c.disc(x + 5, y + 5, 2, [70.0, 70.0, 74.0]);
}

fn render(implant: bool) -> Canvas {
    let mut c = Canvas::new(MASK);
    let mut rng = Rng::new(1977);
    // Traces under the mask: Manhattan routes, 4 px wide.
    for _ in 0..46 {
        let mut x = i64::from(rng.below(W as u32));
        let mut y = i64::from(rng.below(H as u32));
        for leg in 0..3 {
            let len = 40 + i64::from(rng.below(220));
            let sign = if rng.below(2) == 0 { -1 } else { 1 };
            if leg % 2 == 0 {
                let x2 = (x + sign * len).clamp(10, W as i64 - 10);
                c.rect(x.min(x2), y - 2, (x2 - x).abs() + 4, 4, TRACE);
                x = x2;
            } else {
                let y2 = (y + sign * len).clamp(10, H as i64 - 10);
                c.rect(x - 2, y.min(y2), 4, (y2 - y).abs() + 4, TRACE);
                y = y2;
            }
        }
        c.disc(x, y, 5, GOLD);
        c.disc(x, y, 2, [20.0, 30.0, 24.0]);
    }
    // Mounting holes.
    for (x, y) in [(28, 28), (W as i64 - 28, 28), (28, H as i64 - 28)] {
        c.disc(x, y, 18, [200.0, 200.0, 196.0]);
        c.disc(x, y, 11, [12.0, 12.0, 12.0]);
    }
    // The BMC (a BGA: no visible pins), its silkscreen and pin-1 mark.
    c.outline(382, 162, 166, 166, 3, SILK);
    c.rect(390, 170, 150, 150, BODY);
    c.disc(402, 182, 4, [80.0, 80.0, 86.0]);
    c.rect(430, 236, 70, 8, [60.0, 60.0, 64.0]);
    // Its SPI flash (SOIC-8), right of it.
    c.outline(614, 214, 72, 64, 2, SILK);
    gull_wing(&mut c, (626, 222, 48, 48), 4, 6, false);
    // A QFP (the super I/O), upper left.
    c.outline(112, 92, 126, 126, 2, SILK);
    c.rect(120, 100, 110, 110, BODY);
    for k in 0..12 {
        let o = 8 + 8 * k;
        c.rect(120 + o, 90, 4, 10, PIN);
        c.rect(120 + o, 210, 4, 10, PIN);
        c.rect(110, 100 + o, 10, 4, PIN);
        c.rect(230, 100 + o, 10, 4, PIN);
    }
    c.disc(130, 110, 3, [70.0, 70.0, 74.0]);
    // A 2 x 10 header, lower left.
    c.outline(84, 410, 172, 44, 2, SILK);
    c.rect(90, 416, 160, 32, [18.0, 18.0, 20.0]);
    for k in 0..10 {
        for r in 0..2 {
            c.rect(96 + 16 * k, 420 + 14 * r, 8, 8, GOLD);
        }
    }
    // Passives: 0603 capacitors (tan) and resistors (black), in rows around the BMC and
    // elsewhere, each with its silkscreen tick.
    let rows: [(i64, i64, i64, bool); 6] = [
        (380, 360, 8, true),
        (380, 130, 8, true),
        (300, 180, 6, false),
        (580, 360, 6, true),
        (280, 430, 10, true),
        (700, 120, 5, false),
    ];
    for (x0, y0, n, horizontal) in rows {
        for k in 0..n {
            let (x, y) = if horizontal {
                (x0 + 22 * k, y0)
            } else {
                (x0, y0 + 22 * k)
            };
            let body = if k % 2 == 0 {
                [168.0, 138.0, 92.0]
            } else {
                [28.0, 28.0, 28.0]
            };
            let (w, h) = if horizontal { (8, 12) } else { (12, 8) };
            c.rect(x, y, w, h, body);
            if horizontal {
                c.rect(x, y - 3, w, 3, PIN);
                c.rect(x, y + h, w, 3, PIN);
                c.rect(x - 3, y + h + 6, 14, 2, SILK);
            } else {
                c.rect(x - 3, y, 3, h, PIN);
                c.rect(x + w, y, 3, h, PIN);
                c.rect(x + w + 6, y - 2, 2, 12, SILK);
            }
        }
    }
    // Silkscreen marks: board name and revision as blocks of "text".
    for k in 0..9 {
        c.rect(600 + 12 * k, 470, 8, 14, SILK);
    }
    c.outline(590, 462, 120, 30, 2, SILK);
    if implant {
        // Six-pin SOT-23 between the BMC and its flash: 3 x 1.6 mm at 8 px/mm, pins up and
        // down, on bare mask where the design has nothing.
        gull_wing(&mut c, (566, 300, 24, 13), 3, 4, true);
    }
    c
}

/// One photo on the jig: the rendered board seen with a small rigid motion, exposure, white
/// balance, sensor noise and a slight defocus.
fn photograph(board: &Canvas, rng: &mut Rng) -> Vec<u8> {
    // The jig holds the board square to the camera: it lands within a few pixels, at the
    // same angle and distance.
    let angle = 0.0f64;
    let scale = 1.0;
    let (dx, dy) = (
        (rng.next_f64() * 2.0 - 1.0) * 4.0,
        (rng.next_f64() * 2.0 - 1.0) * 4.0,
    );
    let gain = 0.94 + rng.next_f64() * 0.12;
    let tint = [
        1.0 + (rng.next_f64() * 2.0 - 1.0) * 0.03,
        1.0,
        1.0 + (rng.next_f64() * 2.0 - 1.0) * 0.03,
    ];
    let (cx, cy) = (W as f64 / 2.0, H as f64 / 2.0);
    let (sin, cos) = angle.sin_cos();
    let sample = |x: f64, y: f64| -> Rgb {
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
        let get = |xi: f64, yi: f64| -> Rgb {
            let xi = (xi as i64).clamp(0, W as i64 - 1) as usize;
            let yi = (yi as i64).clamp(0, H as i64 - 1) as usize;
            board.px.get(yi * W + xi).copied().unwrap_or(MASK)
        };
        let (a, b, c, d) = (
            get(x0, y0),
            get(x0 + 1.0, y0),
            get(x0, y0 + 1.0),
            get(x0 + 1.0, y0 + 1.0),
        );
        let mut out = [0f32; 3];
        for (ch, o) in out.iter_mut().enumerate() {
            let top = a[ch] * (1.0 - fx) + b[ch] * fx;
            let bottom = c[ch] * (1.0 - fx) + d[ch] * fx;
            *o = top * (1.0 - fy) + bottom * fy;
        }
        out
    };
    let mut warped = vec![[0f32; 3]; W * H];
    for y in 0..H {
        for x in 0..W {
            // Photo pixel -> board coordinates (inverse of the motion).
            let (u, v) = (x as f64 - cx - dx, y as f64 - cy - dy);
            let bx = (cos * u + sin * v) / scale + cx;
            let by = (-sin * u + cos * v) / scale + cy;
            if let Some(p) = warped.get_mut(y * W + x) {
                *p = sample(bx, by);
            }
        }
    }
    // Defocus: a 3 x 3 box blur; then exposure, white balance and noise.
    let mut out = Vec::with_capacity(W * H * 3);
    for y in 0..H {
        for x in 0..W {
            let mut acc = [0f32; 3];
            for (ddx, ddy) in [
                (-1i64, -1i64),
                (0, -1),
                (1, -1),
                (-1, 0),
                (0, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                let xx = (x as i64 + ddx).clamp(0, W as i64 - 1) as usize;
                let yy = (y as i64 + ddy).clamp(0, H as i64 - 1) as usize;
                let p = warped.get(yy * W + xx).copied().unwrap_or(MASK);
                for ch in 0..3 {
                    if let (Some(a), Some(v)) = (acc.get_mut(ch), p.get(ch)) {
                        *a += v / 9.0;
                    }
                }
            }
            for (ch, v) in acc.iter().enumerate() {
                let noise = (rng.next_f64() + rng.next_f64() + rng.next_f64() - 1.5) * 4.0;
                let t = tint.get(ch).copied().unwrap_or(1.0);
                let value = f64::from(*v) * gain * t + noise;
                out.push(value.round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}

fn encode_png(rgb: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut bytes);
    let _ = image::ImageEncoder::write_image(
        encoder,
        rgb,
        W as u32,
        H as u32,
        image::ExtendedColorType::Rgb8,
    );
    bytes
}

fn encode_jpeg(rgb: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
    let _ = encoder.encode(rgb, W as u32, H as u32, image::ExtendedColorType::Rgb8);
    bytes
}

/// Writes the golden image of `model` and a photo for each of `hosts`; `implanted` gets the
/// extra part.
pub(crate) fn write_boards(
    dir: &Path,
    model: &str,
    hosts: &[String],
    implanted: &str,
    planted: &mut Vec<Planted>,
) -> Result<(), DemoError> {
    // The golden image is itself a photo, of the known-good board on the same jig.
    let golden = render(false);
    let mut rng = Rng::new(2018);
    let golden_rgb = photograph(&golden, &mut rng);
    write(
        dir,
        &format!("models/{model}/board/top.png"),
        &encode_png(&golden_rgb),
    )?;
    let with_implant = render(true);
    for host in hosts {
        let board = if host == implanted {
            &with_implant
        } else {
            &golden
        };
        let photo = photograph(board, &mut rng);
        write(
            dir,
            &format!("hosts/{host}/board/top.jpg"),
            &encode_jpeg(&photo),
        )?;
    }
    planted.push(Planted {
        host: implanted.to_string(),
        layer: "board".into(),
        kind: "board.added".into(),
        description: "a six-pin SOT-23 package between the BMC and its SPI flash that the golden board does not have".into(),
    });
    Ok(())
}
