//! Parse and convert of generated Dockerfiles of 1,000 / 2,500 / 5,000 lines: the converter's
//! whole work for one build (every stage dispatched, caches planned, LLB marshalled), with the
//! base image already resolved. Target (issue 8): 5,000 lines under 50 ms.
//!
//! `cargo bench --bench convert`. With `HOARD_BENCH_WRITE=<dir>` the generated Dockerfiles are
//! also written there (`Dockerfile.<lines>`), for the `--call outline` comparison in
//! `bench/frontend.py`; `HOARD_BENCH_WRITE_ONLY=1` writes them without benchmarking, and so
//! does `cargo test --bench convert` (which converts each once).

use std::hint::black_box;

use criterion::{criterion_group, Criterion};
use hoard::convert::{convert, ConvertOpts, Outcome, Resolved, ResolvedImage};
use hoard::image::{ImageConfig, Platform};

const BASE: &str = "hoard-test/busybox";

/// A deterministic Dockerfile of about `lines` lines: stages of ~30 instructions mixing what
/// real files hold (RUN with package managers, ENV, WORKDIR, COPY from the context and from
/// earlier stages, LABEL, ARG, USER), and a final stage copying from a sample of the stages.
pub fn generate(lines: usize) -> String {
    // No `# syntax=` line: the stock frontend would fetch that frontend from a registry.
    let mut out = vec![format!("ARG BASE={BASE}"), "ARG VERSION=1.0".to_string()];
    let mut seed: u64 = 1;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut stages = 0;
    while out.len() < lines {
        if stages == 0 || next(100) < 3 {
            out.push(format!("FROM ${{BASE}} AS s{stages}"));
            out.push("ARG VERSION".into());
            stages += 1;
            continue;
        }
        let n = out.len();
        let line = match next(100) {
            0..=29 => format!("RUN echo step {n} $VERSION && apt-get update && apt-get install -y curl-{n} && rm -rf /var/lib/apt/lists/*"),
            30..=39 => format!("RUN pip install --no-cache-dir pkg{n}==1.0 && npm ci"),
            40..=44 => format!("RUN cargo build --release --bin b{n}"),
            45..=59 => format!("ENV VAR_{n}=value{n} PATH=/opt/bin:$PATH"),
            60..=67 => format!("WORKDIR /app/d{}", n % 7),
            68..=79 => format!("COPY file{}.txt /app/", n % 13),
            80..=84 if stages > 1 => format!("COPY --from=s{} /etc/passwd /x{n}", next(stages - 1)),
            85..=89 => format!("LABEL l{n}=\"v {n}\""),
            90..=92 => "USER 1000:1000".into(),
            93..=94 => "USER root".into(),
            _ => format!("ARG A{n}=x"),
        };
        out.push(line);
    }
    out.push("FROM ${BASE}".into());
    let step = (stages / 20).max(1);
    for s in (0..stages).step_by(step as usize) {
        out.push(format!("COPY --from=s{s} /etc/passwd /h{s}"));
    }
    out.join("\n") + "\n"
}

fn opts() -> ConvertOpts {
    ConvertOpts {
        build_platform: Platform::parse("linux/amd64").unwrap(),
        ..Default::default()
    }
}

fn resolved() -> Resolved {
    let platform = Platform::parse("linux/amd64").unwrap();
    let mut r = Resolved::default();
    let reference = format!("docker.io/{BASE}:latest");
    let mut config = ImageConfig::empty(&platform);
    config.config.env.push("HOME=/root".into());
    r.images.insert(
        (reference.clone(), platform.id()),
        ResolvedImage {
            reference,
            digest: None,
            config: config.to_json(),
        },
    );
    r
}

fn bench(c: &mut Criterion) {
    let write = std::env::var("HOARD_BENCH_WRITE").ok();
    let resolved = resolved();
    // `HOARD_BENCH_ITERS=N`: convert the 5,000-line file N times and stop, for `perf stat`
    // (CPU time and instructions do not depend on what else the machine runs).
    if let Some(n) = std::env::var("HOARD_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let text = generate(5000);
        for _ in 0..n {
            black_box(convert(black_box(&text), &opts(), &resolved).unwrap());
        }
        return;
    }
    for lines in [1000, 2500, 5000] {
        let text = generate(lines);
        if let Some(dir) = &write {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(format!("{dir}/Dockerfile.{lines}"), &text).unwrap();
            if std::env::var_os("HOARD_BENCH_WRITE_ONLY").is_some() {
                continue;
            }
        }
        // The same work a build does: one conversion that ends in `Done`.
        match convert(&text, &opts(), &resolved).unwrap() {
            Outcome::Done { .. } => {}
            other => panic!("the generated Dockerfile did not convert in one round: {other:?}"),
        }
        c.bench_function(&format!("parse+convert {lines} lines"), |b| {
            b.iter(|| convert(black_box(&text), &opts(), &resolved).unwrap())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}

fn main() {
    // `cargo test --all-targets` runs this without `--bench` and with the test harness's own
    // arguments (`--test-threads`), which criterion refuses: then convert each file once.
    if !std::env::args().any(|a| a == "--bench") {
        let resolved = resolved();
        for lines in [1000, 2500, 5000] {
            let text = generate(lines);
            if let Ok(dir) = std::env::var("HOARD_BENCH_WRITE") {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(format!("{dir}/Dockerfile.{lines}"), &text).unwrap();
            }
            match convert(&text, &opts(), &resolved).unwrap() {
                Outcome::Done { .. } => {}
                other => panic!("the generated Dockerfile did not convert in one round: {other:?}"),
            }
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
