//! wordstat: count the words of the given text files and print a JSON report, or serve it over
//! HTTP. Usage: wordstat [--min-len N] [--samples N] [--pattern RE] [--serve ADDR] FILE...
mod report;

use anyhow::{Context, Result};
use clap::Parser;
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};
use rand::seq::SliceRandom;
use regex::Regex;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "wordstat", version, about = "Word statistics of text files")]
struct Args {
    /// Only count words of at least this many characters
    #[arg(long, default_value_t = 1)]
    min_len: usize,
    /// Include this many randomly chosen words in the report
    #[arg(long, default_value_t = 0)]
    samples: usize,
    /// What a word is (a regular expression)
    #[arg(long, default_value = r"[\p{Alphabetic}\p{Nd}]+")]
    pattern: String,
    /// Print the build marker and exit
    #[arg(long)]
    marker: bool,
    /// Serve the report as JSON on this address instead of printing it
    #[arg(long, env = "WORDSTAT_SERVE")]
    serve: Option<SocketAddr>,
    /// The text files
    files: Vec<String>,
}

fn count(args: &Args) -> Result<report::Report> {
    let re = Regex::new(&args.pattern).with_context(|| format!("bad --pattern {}", args.pattern))?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for f in &args.files {
        let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
        for m in re.find_iter(&text) {
            let w = m.as_str().to_lowercase();
            if w.chars().count() >= args.min_len {
                *counts.entry(w).or_default() += 1;
            }
        }
        tracing::debug!(file = %f, distinct = counts.len(), "counted");
    }
    let words: Vec<&String> = counts.keys().collect();
    let samples: Vec<String> = words
        .choose_multiple(&mut rand::thread_rng(), args.samples)
        .map(|s| s.to_string())
        .collect();
    Ok(report::Report::new(counts, samples))
}

async fn serve(addr: SocketAddr, body: Arc<String>) -> Result<()> {
    let make = make_service_fn(move |_conn| {
        let body = body.clone();
        async move {
            Ok::<_, Infallible>(service_fn(move |req: Request<Body>| {
                let body = body.clone();
                async move {
                    tracing::info!(method = %req.method(), path = %req.uri().path(), "request");
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/json")
                            .body(Body::from(body.as_str().to_owned()))
                            .unwrap(),
                    )
                }
            }))
        }
    });
    tracing::info!(%addr, "serving");
    Server::bind(&addr)
        .serve(make)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.marker {
        println!("{}", report::MARKER);
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let r = count(&args)?;
    let json = serde_json::to_string_pretty(&r)?;
    match args.serve {
        None => println!("{json}"),
        Some(addr) => tokio::runtime::Runtime::new()?.block_on(serve(addr, Arc::new(json)))?,
    }
    Ok(())
}
