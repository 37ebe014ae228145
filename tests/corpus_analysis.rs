//! Engine-free checks over the 65 real-world Dockerfiles in `../shared/corpus/real-world/`
//! (read where they live, never copied): every file types without error with all its mounts
//! valid when read literally, and the shell analysis finds what a reader finds in their RUNs.
//! They lived in the unit tests, which must pass in a clone with nothing beside it.

#[path = "common/corpus.rs"]
mod corpus;

use hoard::cache::shell::{analyze_detailed, analyze_exec_detailed, Analysed};
use hoard::instructions::{chomp_heredoc_content, parse_heredoc_marker, Command, ShellOrExec};

#[path = "../src/cache/shell/dequote.rs"]
mod dequote;
use dequote::dequote;

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Every real-world Dockerfile in the shared corpus types without error, and all its mounts are
/// valid when read literally.
#[test]
fn real_world_corpus_types() {
    let mut files = 0;
    let mut mounts = 0;
    for (name, text) in corpus::real_world() {
        let path = format!("{name}/Dockerfile");
        files += 1;
        let df = hoard::parser::parse(&text).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        let f = hoard::instructions::parse(&df).unwrap_or_else(|e| panic!("{path}: {e:?}"));
        assert!(!f.stages.is_empty(), "{}", path);
        for stage in f.stages {
            for mut c in stage.commands {
                if let Command::Run(r) = &mut c {
                    r.expand(&mut |s: &str| Ok(s.to_string()))
                        .unwrap_or_else(|e| panic!("{}: {}", path, e.message));
                    mounts += r.mounts.len();
                }
            }
        }
    }
    assert!(
        files >= 50 && mounts >= 50,
        "corpus too small: {files} files, {mounts} mounts"
    );
}

/// Every RUN's scripts, as the converter would run them: (file, script or exec argv).
fn corpus_runs() -> Vec<(String, Result<String, Vec<String>>)> {
    let mut runs = Vec::new();
    let mut files = 0;
    for (name, text) in corpus::real_world() {
        files += 1;
        let df = hoard::parser::parse(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let f = hoard::instructions::parse(&df).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for stage in f.stages {
            for c in stage.commands {
                let Command::Run(r) = c else { continue };
                match &r.cmd {
                    ShellOrExec::Exec(argv) => runs.push((name.clone(), Err(argv.clone()))),
                    ShellOrExec::Shell(s)
                        if !r.files.is_empty() && parse_heredoc_marker(s).is_some() =>
                    {
                        let file = &r.files[0];
                        let data = if file.chomp {
                            chomp_heredoc_content(&file.data)
                        } else {
                            file.data.clone()
                        };
                        runs.push((name.clone(), Ok(data)));
                    }
                    ShellOrExec::Shell(s) => {
                        let mut script = s.clone();
                        for f in &r.files {
                            script.push('\n');
                            script.push_str(&f.data);
                            script.push_str(&f.name);
                        }
                        runs.push((name.clone(), Ok(script)));
                    }
                }
            }
        }
    }
    assert!(
        files >= 60,
        "expected the 65 corpus Dockerfiles in {}, found {files}",
        corpus::real_world_dir().display()
    );
    runs
}

#[test]
fn real_world_corpus() {
    let runs = corpus_runs();
    assert!(runs.len() > 300, "only {} RUNs", runs.len());
    let mut total = 0;
    let mut by_file: std::collections::BTreeMap<String, Vec<Analysed>> = Default::default();
    for (file, run) in &runs {
        let found = match run {
            Ok(script) => {
                let found = analyze_detailed(script);
                for a in &found {
                    for w in &a.inv.argv {
                        if let Some((s, e)) = w.span {
                            assert!(
                                script.is_char_boundary(s) && script.is_char_boundary(e),
                                "{file}: {w:?}"
                            );
                            if !script[s..e].contains(['(', '`', '{']) {
                                assert_eq!(dequote(&script[s..e]), w.text, "{file}: {script}");
                            }
                        }
                    }
                }
                found
            }
            Err(argv) => analyze_exec_detailed(argv),
        };
        total += found.len();
        by_file.entry(file.clone()).or_default().extend(found);
    }
    assert!(total > 1000, "only {total} invocations in the corpus");
    let file = |prefix: &str| -> &Vec<Analysed> {
        by_file
            .iter()
            .find(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no {prefix}"))
    };
    let sub = |a: &Analysed| a.inv.argv.get(1).map_or(String::new(), |w| w.text.clone());

    // python:3.13-slim: `apt-get update; apt-get install -y --no-install-recommends ...`.
    let py = file("12-");
    let apt: Vec<String> = py
        .iter()
        .filter(|a| a.inv.program() == "apt-get")
        .map(sub)
        .collect();
    assert_eq!(apt[..2], ["update", "install"]);
    assert!(py
        .iter()
        .any(|a| a.inv.program() == "make" && a.inv.cwd.as_deref() == Some("/usr/src/python")));
    assert!(py
        .iter()
        .any(|a| a.inv.program() == "dpkg-architecture" && a.inv.nested));

    // netbox: `export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && ...`.
    let nb = file("09-");
    let first: Vec<&Analysed> = nb
        .iter()
        .filter(|a| a.inv.program() == "apt-get")
        .take(3)
        .collect();
    assert_eq!(
        first.iter().map(|a| sub(a)).collect::<Vec<_>>(),
        ["update", "upgrade", "install"]
    );
    assert!(first
        .iter()
        .all(|a| a.env_var("DEBIAN_FRONTEND") == Some("noninteractive")));

    // TGI: `cd server && uv sync ...`.
    let tgi = file("03-");
    assert!(tgi.iter().any(|a| a.inv.program() == "uv"
        && sub(a) == "sync"
        && a.inv.cwd.as_deref() == Some("server")));

    // redash: heredoc RUN with `if`, prefix assignment.
    let rd = file("07-");
    let install = rd
        .iter()
        .find(|a| a.inv.program() == "apt-get" && a.inv.args().any(|w| w == "msodbcsql18"))
        .expect("apt-get install msodbcsql18");
    assert_eq!(install.inv.assignments, pairs(&[("ACCEPT_EULA", "Y")]));

    // httpbin: `/bin/bash -c "pip3 install --no-cache-dir -r <(pipenv lock -r)"`.
    let hb = file("10-");
    let pip: Vec<&Analysed> = hb.iter().filter(|a| a.inv.program() == "pip3").collect();
    assert_eq!(
        pip.iter().map(|a| a.inv.nested).collect::<Vec<_>>(),
        [false, true, false]
    );
    assert_eq!(pip[1].wrappers, ["bash"]);
    assert!(pip[1].inv.argv.iter().all(|w| w.span.is_none()));
    assert!(pip[0]
        .inv
        .argv
        .iter()
        .any(|w| w.text == "--no-cache-dir" && w.span.is_some()));
    assert!(hb
        .iter()
        .any(|a| a.inv.program() == "pipenv" && a.inv.nested));

    // hoppscotch: `mkdir -p /tmp/pnpm-install && cd /tmp/pnpm-install && ... npm install -g ...`.
    // qdrant: `${JEMALLOC...:+env ...} xx-cargo build ...`; paperless: `s6-setuidgid paperless python3 ...`.
    assert!(file("24-")
        .iter()
        .any(|a| a.inv.program() == "xx-cargo" && sub(a) == "build"));
    assert!(file("08-")
        .iter()
        .any(|a| a.inv.program() == "python3" && a.user.as_deref() == Some("paperless")));

    let hs = file("28-");
    assert!(hs.iter().any(|a| a.inv.program() == "npm"
        && sub(a) == "install"
        && a.inv.cwd.as_deref() == Some("/tmp/pnpm-install")));
}

#[test]
#[ignore]
fn dump_corpus_programs() {
    let mut names: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, run) in corpus_runs() {
        let found = match &run {
            Ok(s) => analyze_detailed(s),
            Err(a) => analyze_exec_detailed(a),
        };
        for a in found {
            *names
                .entry(format!(
                    "{}{}",
                    a.inv.program(),
                    if a.inv.nested { " (n)" } else { "" }
                ))
                .or_default() += 1;
        }
    }
    for (k, v) in names {
        println!("{v:5} {k}");
    }
}
