//! Developer diagnostic: per pair, every predicted change and every truth box as JSON lines
//! (`pred`/`truth` records with the best IoU against the other side), for error analysis.
//!
//! `cargo run --release -p tamperscan-board --example board_diag -- DIR LIST [--perturb SEED [--tilt DEG]] [--only ID]`
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use tamperscan_board::perturb::{perturb, Perturbation};
use tamperscan_board::{diff, load_image, ImageLimits, Options};

fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let i = ix * iy;
    let u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i;
    if u > 0.0 {
        i / u
    } else {
        0.0
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(list)) = (args.first(), args.get(1)) else {
        eprintln!("usage: board_diag DIR LIST [--perturb SEED]");
        return ExitCode::from(2);
    };
    let seed: Option<u64> = args
        .iter()
        .position(|a| a == "--perturb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    let tilt: Option<f64> = args
        .iter()
        .position(|a| a == "--tilt")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    let only: Option<&String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let dir = PathBuf::from(dir);
    let Ok(text) = std::fs::read_to_string(list) else {
        eprintln!("cannot read {list}");
        return ExitCode::FAILURE;
    };
    let limits = ImageLimits::default();
    for (k, line) in text.lines().enumerate() {
        let mut it = line.split_whitespace();
        let (Some(img), Some(ann)) = (it.next(), it.next()) else {
            continue;
        };
        let stem = img.trim_end_matches(".jpg");
        if only.is_some_and(|o| !stem.ends_with(o.as_str())) {
            continue;
        }
        let rd = |p: String| std::fs::read(dir.join(p)).ok();
        let (Some(a), Some(b), Some(t)) = (
            rd(format!("{stem}_temp.jpg")),
            rd(format!("{stem}_test.jpg")),
            std::fs::read_to_string(dir.join(ann)).ok(),
        ) else {
            continue;
        };
        let (Ok(g), Ok(mut s)) = (load_image(&a, &limits), load_image(&b, &limits)) else {
            continue;
        };
        let mut truth_h = None;
        if let Some(sd) = seed {
            let mut p = Perturbation::from_seed(sd.wrapping_add(k as u64));
            if let Some(t) = tilt {
                p = p.with_tilt(t, sd.wrapping_add(k as u64));
            }
            let h0 = tamperscan_board::register(&g, &s, &Options::default())
                .map(|r| r.transform)
                .unwrap_or(tamperscan_board::Homography::IDENTITY);
            truth_h = Some(p.transform(s.width(), s.height()).compose(&h0));
            if let Ok(sp) = perturb(&s, &p) {
                s = sp;
            }
        }
        if let Some(th) = truth_h {
            let t0 = std::time::Instant::now();
            let r = tamperscan_board::register(&g, &s, &Options::default());
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            let err = r.as_ref().ok().map_or(-1.0, |r| {
                [
                    (0.0, 0.0),
                    (639.0, 0.0),
                    (0.0, 639.0),
                    (639.0, 639.0),
                    (320.0, 320.0),
                ]
                .iter()
                .map(|&(x, y)| {
                    let a = th.apply(x, y).unwrap_or((0.0, 0.0));
                    let b = r.transform.apply(x, y).unwrap_or((1e9, 1e9));
                    (a.0 - b.0).hypot(a.1 - b.1)
                })
                .fold(0.0f64, f64::max)
            });
            let (rot, sc, corr) = r.as_ref().map_or((0.0, 0.0, 0.0), |r| {
                (r.rotation_deg, r.scale, r.correlation)
            });
            let pt = Perturbation::from_seed(seed.unwrap_or(0).wrapping_add(k as u64));
            eprintln!(
                "REG {stem} err {err:.2} truth rot {:.2} scale {:.4} shift {:.1},{:.1} |",
                pt.rotation_deg, pt.scale, pt.shift.0, pt.shift.1
            );
            eprintln!(
                "REG {stem} err {err:.2} ms {ms:.1} rot {rot:.2} scale {sc:.4} corr {corr:.3} {:?}",
                r.as_ref().map(|r| r.method).map_err(|e| e.to_string())
            );
        }
        let truths: Vec<([f64; 4], u8)> = t
            .lines()
            .filter_map(|l| {
                let v: Vec<f64> = l
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|x| !x.is_empty())
                    .filter_map(|x| x.parse().ok())
                    .collect();
                match v.as_slice() {
                    [x1, y1, x2, y2, c] => Some(([*x1, *y1, *x2, *y2], *c as u8)),
                    _ => None,
                }
            })
            .collect();
        let Ok(rep) = diff(&g, &s, &Options::default()) else {
            println!("{{\"id\":\"{stem}\",\"error\":true}}");
            continue;
        };
        let m = 8.0;
        let preds: Vec<[f64; 4]> = rep
            .changes
            .iter()
            .map(|c| {
                let b = c.bbox.map(f64::from);
                [b[0] - m, b[1] - m, b[2] + m, b[3] + m]
            })
            .collect();
        for (c, pb) in rep.changes.iter().zip(&preds) {
            let best = truths
                .iter()
                .map(|(tb, tc)| (iou(*pb, *tb), *tc))
                .max_by(|x, y| x.0.total_cmp(&y.0))
                .unwrap_or((0.0, 0));
            println!(
                "{{\"id\":\"{stem}\",\"rec\":\"pred\",\"bbox\":{:?},\"kind\":\"{:?}\",\"class\":{},\"score\":{:.3},\"area\":{},\"iou\":{:.3},\"tclass\":{},\"rot\":{:.2},\"scale\":{:.4},\"method\":\"{:?}\"}}",
                c.bbox,
                c.kind,
                c.class.and_then(|x| x.deeppcb_id()).unwrap_or(0),
                c.score,
                c.area_px,
                best.0,
                best.1,
                rep.registration.rotation_deg,
                rep.registration.scale,
                rep.registration.method
            );
        }
        for (tb, tc) in &truths {
            let best = rep
                .changes
                .iter()
                .zip(&preds)
                .map(|(c, pb)| {
                    (
                        iou(*pb, *tb),
                        c.class.and_then(|x| x.deeppcb_id()).unwrap_or(0),
                    )
                })
                .max_by(|x, y| x.0.total_cmp(&y.0))
                .unwrap_or((0.0, 0));
            println!(
                "{{\"id\":\"{stem}\",\"rec\":\"truth\",\"bbox\":{tb:?},\"class\":{tc},\"iou\":{:.3},\"pclass\":{}}}",
                best.0, best.1
            );
        }
    }
    ExitCode::SUCCESS
}
