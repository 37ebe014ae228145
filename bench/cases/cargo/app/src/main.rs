//! wordstat: count the words of the given text files and print a JSON report.
//! Usage: wordstat [--min-len N] [--samples N] FILE...
mod report;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

struct Args {
    min_len: usize,
    samples: usize,
    files: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut a = Args { min_len: 1, samples: 0, files: Vec::new() };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--min-len" => a.min_len = it.next().context("--min-len needs a value")?.parse()?,
            "--marker" => {
                println!("{}", report::MARKER);
                std::process::exit(0);
            }
            "--samples" => a.samples = it.next().context("--samples needs a value")?.parse()?,
            s if s.starts_with("--") => bail!("unknown option {s}"),
            _ => a.files.push(arg),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for f in &args.files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
        for w in text.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase) {
            if w.chars().count() >= args.min_len {
                *counts.entry(w).or_default() += 1;
            }
        }
    }
    let words: Vec<&String> = counts.keys().collect();
    let samples: Vec<String> = words
        .choose_multiple(&mut rand::thread_rng(), args.samples)
        .map(|s| s.to_string())
        .collect();
    let r = report::Report::new(counts, samples);
    println!("{}", serde_json::to_string_pretty(&r)?);
    Ok(())
}
