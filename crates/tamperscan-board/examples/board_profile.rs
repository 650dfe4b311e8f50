//! Developer diagnostic: per-stage timing (decode, register, diff) over a DeepPCB pair list,
//! one thread, with the registration method of each pair. Prints one summary line per stage
//! (median and mean ms) and the count of pairs per registration method.
//!
//! `cargo run --release -p tamperscan-board --example board_profile -- DIR LIST [--perturb SEED]`
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use tamperscan_board::perturb::{perturb, Perturbation};
use tamperscan_board::{diff_registered, load_image, register, ImageLimits, Options};

fn summary(name: &str, v: &mut [f64]) {
    v.sort_by(f64::total_cmp);
    let med = v.get(v.len() / 2).copied().unwrap_or(0.0);
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!("{name:>10}: median {med:7.3} ms, mean {mean:7.3} ms");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(list)) = (args.first(), args.get(1)) else {
        eprintln!("usage: board_profile DIR LIST [--perturb SEED]");
        return ExitCode::from(2);
    };
    let seed: Option<u64> = args
        .iter()
        .position(|a| a == "--perturb")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    let per_pair = args.iter().any(|a| a == "--per-pair");
    let dir = PathBuf::from(dir);
    let Ok(text) = std::fs::read_to_string(list) else {
        eprintln!("cannot read {list}");
        return ExitCode::FAILURE;
    };
    let limits = ImageLimits::default();
    let opts = Options::default();
    let (mut dec, mut reg, mut dif, mut tot) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut methods: BTreeMap<String, usize> = BTreeMap::new();
    for (k, line) in text.lines().enumerate() {
        let Some(img) = line.split_whitespace().next() else {
            continue;
        };
        let stem = img.trim_end_matches(".jpg");
        let rd = |p: String| std::fs::read(dir.join(p)).ok();
        let (Some(a), Some(b)) = (
            rd(format!("{stem}_temp.jpg")),
            rd(format!("{stem}_test.jpg")),
        ) else {
            continue;
        };
        let t0 = Instant::now();
        let (Ok(g), Ok(mut s)) = (load_image(&a, &limits), load_image(&b, &limits)) else {
            continue;
        };
        let t1 = Instant::now();
        if let Some(sd) = seed {
            let p = Perturbation::from_seed(sd.wrapping_add(k as u64));
            let Ok(ps) = perturb(&s, &p) else { continue };
            s = ps;
        }
        let t2 = Instant::now();
        let Ok(r) = register(&g, &s, &opts) else {
            *methods.entry("refused".into()).or_default() += 1;
            continue;
        };
        *methods.entry(format!("{:?}", r.method)).or_default() += 1;
        let t3 = Instant::now();
        if per_pair {
            let m = &r.transform.0;
            println!(
                "{stem} {:?} corr {:.3} shift ({:.2}, {:.2}) rot {:.2} scale {:.3} reg {:.1} ms",
                r.method,
                r.correlation,
                m[2],
                m[5],
                r.rotation_deg,
                r.scale,
                (t3 - t2).as_secs_f64() * 1e3
            );
        }
        let rep = diff_registered(&g, &s, r, &opts);
        let t4 = Instant::now();
        std::hint::black_box(rep);
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        dec.push(ms(t0, t1));
        reg.push(ms(t2, t3));
        dif.push(ms(t3, t4));
        tot.push(ms(t0, t1) + ms(t2, t4));
    }
    summary("decode", &mut dec);
    summary("register", &mut reg);
    summary("diff", &mut dif);
    summary("total", &mut tot);
    println!("methods: {methods:?}");
    ExitCode::SUCCESS
}
