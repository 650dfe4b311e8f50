//! Runs the evaluation over a directory and prints metrics as JSON (single-threaded).
//!
//! `cargo run --release -p tamperscan-board --example board_eval -- deeppcb DIR [--list FILE]
//!  [--perturb SEED [--tilt DEG]] [--groups g1,g2] [--exclude g1,g2] [--limit N] [--per-pair]`
//! `cargo run --release -p tamperscan-board --example board_eval -- assembled DIR`
#![forbid(unsafe_code)]

use std::path::PathBuf;

use std::process::ExitCode;

use tamperscan_board::eval::{eval_assembled_dir, eval_deeppcb_dir, EvalConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(layout), Some(dir)) = (args.first(), args.get(1)) else {
        eprintln!("usage: board_eval deeppcb|assembled DIR [options]");
        return ExitCode::from(2);
    };
    let mut cfg = EvalConfig::default();
    let mut per_pair = false;
    let mut i = 2;
    while i < args.len() {
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match args.get(i).map(String::as_str) {
            Some("--list") => cfg.pair_list = Some(PathBuf::from(&v)),
            Some("--perturb") => cfg.perturb_seed = v.parse().ok(),
            Some("--tilt") => cfg.perturb_tilt_deg = v.parse().ok(),
            Some("--groups") => cfg.groups = v.split(',').map(str::to_string).collect(),
            Some("--exclude") => cfg.exclude_groups = v.split(',').map(str::to_string).collect(),
            Some("--limit") => cfg.limit = v.parse().unwrap_or(0),
            Some("--tolerance") => cfg.options.tolerance_px = v.parse().unwrap_or(2),
            Some("--margin") => cfg.box_margin_px = v.parse().ok(),
            Some("--per-pair") => {
                per_pair = true;
                i += 1;
                continue;
            }
            _ => {}
        }
        i += 2;
    }
    let out = match layout.as_str() {
        "cv" => tamperscan_board::eval::cross_validate_groups(&PathBuf::from(dir), &cfg)
            .map(|f| serde_json::to_string_pretty(&f)),
        "deeppcb" => eval_deeppcb_dir(&PathBuf::from(dir), &cfg).map(|mut m| {
            if !per_pair {
                m.per_pair.clear();
            }
            serde_json::to_string_pretty(&m)
        }),
        _ => {
            eval_assembled_dir(&PathBuf::from(dir), &cfg).map(|m| serde_json::to_string_pretty(&m))
        }
    };
    match out {
        Ok(Ok(s)) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
