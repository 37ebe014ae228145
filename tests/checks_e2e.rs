//! Build checks through hoard against the stock frontend, with real `docker buildx build` runs.
//!
//! Every directory `testdata/checks/<name>/` (see its README) is checked for each variant of
//! extra buildx flags, with both frontends:
//!
//! * `--call check,format=json`: the warnings (rule, first and last line, message,
//!   description, URL, in order) and the build error's message must be the same;
//! * a normal build (`--progress=plain`, nothing exported): the `WARN:` lines buildx prints,
//!   the exit status and the `ERROR:` line (a `# check=error=true` failure) must be the same.
//!
//! The stock side must report every rule listed in the case's `expect` file (in `--call check` or in a
//! normal build's warnings), so a case cannot
//! silently stop testing what it is named for.
//!
//! Environment as for `tests/e2e.rs`: `HOARD_IMAGE` (default `hoard:dev`),
//! `HOARD_E2E_SELFTEST=1` (the "hoard" side is the stock frontend too), `HOARD_SKIP_E2E=1`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

tests_calling! { run_case in case:
    // StageNameCasing, FromAsCasing, ConsistentInstructionCasing, MaintainerDeprecated.
    casing,
    // ReservedStageName, DuplicateStageName.
    stages,
    // UndefinedArgInFrom (with a suggestion), RedundantTargetPlatform,
    // FromPlatformFlagConstDisallowed (not when the stage name names the platform).
    from_args,
    // InvalidDefaultArgInFrom: fine with the build arg, invalid with the default alone.
    default_arg,
    // LegacyKeyValueFormat, SecretsUsedInArgOrEnv, WorkdirRelativePath (first one only, also
    // in a child stage), UndefinedVar (with suggestions), EXPOSE rules,
    // MultipleInstructionsDisallowed, JSONArgsRecommended (not with a SHELL).
    dispatch,
    // NoEmptyContinuation (not for a comment inside a continuation).
    continuation,
    // InvalidDefinitionDescription, enabled with `experimental=`.
    experimental,
    // `# check=skip=...`, and BUILDKIT_DOCKERFILE_CHECK replacing it (skip, error, invalid).
    directives,
    // `# check=error=true` fails the build after reporting the warnings.
    error_true,
    // Nothing to report, under error=true: both build.
    clean,
    // A child stage sees its parent's ARG and ENV; ARG declared after use; WORKDIR to nothing.
    env_scoping,
    // A parse error: the warnings found before it are reported with it.
    parse_error,
    // A base name blank with the defaults: InvalidDefaultArgInFrom, then the error.
    blank_base,
    // Several platforms: only the first platform's conversion warns (InvalidBaseImagePlatform
    // for linux/386 first, nothing for linux/amd64 first); `--call check` ignores --platform.
    multi_platform,
    // CopyIgnoredFile (experimental): sources the context's .dockerignore excludes (wildcards
    // that match nothing, so the build itself succeeds), only once enabled.
    copy_ignored,
}

fn checks_dir() -> PathBuf {
    root().join("testdata/checks")
}

/// What `--call check,format=json` reported, reduced to what a user sees.
#[derive(Debug, PartialEq, Eq)]
struct CheckReport {
    /// `rule line-line: detail | description | url`, in the order reported.
    warnings: Vec<String>,
    error: Option<String>,
}

/// Every range of a warning's location, `start-end` each (the stock frontend gives one per line
/// of the instruction).
fn range_lines(w: &Value) -> String {
    let ranges = w["location"]["ranges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let lines: Vec<String> = ranges
        .iter()
        .map(|r| {
            format!(
                "{}-{}",
                r["start"]["line"].as_i64().unwrap_or(-1),
                r["end"]["line"].as_i64().unwrap_or(-1)
            )
        })
        .collect();
    lines.join(",")
}

fn check_report(v: &Value) -> CheckReport {
    let warnings = v["warnings"]
        .as_array()
        .map(|ws| {
            ws.iter()
                .map(|w| {
                    let f = |k: &str| w[k].as_str().unwrap_or("").to_string();
                    format!(
                        "{} {}: {} | {} | {}",
                        f("ruleName"),
                        range_lines(w),
                        f("detail"),
                        f("description"),
                        f("url")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let error = v["buildError"]["message"].as_str().map(sorted_rules);
    CheckReport { warnings, error }
}

/// An error message with the rule list of "lint violation found for rules: ..." sorted: the
/// stock frontend lists them in Go's random map order.
fn sorted_rules(msg: &str) -> String {
    // buildx words the same failed request either way, also for the stock frontend alone
    // (seen on one engine: "failed to run Build function: X" in one run, "failed to solve: X"
    // in the next).
    let msg = &msg.replace("failed to run Build function: ", "failed to solve: ");
    const MARK: &str = "lint violation found for rules: ";
    match msg.find(MARK) {
        Some(i) => {
            let mut rules: Vec<&str> = msg[i + MARK.len()..].split(", ").collect();
            rules.sort();
            format!("{}{}", &msg[..i + MARK.len()], rules.join(", "))
        }
        None => msg.to_string(),
    }
}

fn run_check(dir: &Path, hoard: bool, flags: &[String]) -> Result<CheckReport, String> {
    let mut args = vec!["--call".to_string(), "check,format=json".to_string()];
    args.extend(frontend(hoard));
    args.extend(flags.iter().cloned());
    args.push(".".into());
    let o = buildx(dir, &args);
    let out = String::from_utf8_lossy(&o.stdout);
    match serde_json::from_str::<Value>(&out) {
        Ok(v) => Ok(check_report(&v)),
        // A check that cannot start (an invalid BUILDKIT_DOCKERFILE_CHECK) fails the request.
        Err(e) => match output_text(&o)
            .lines()
            .rev()
            .find(|l| l.starts_with("ERROR: "))
        {
            Some(err) => Ok(CheckReport {
                warnings: Vec::new(),
                error: Some(sorted_rules(err)),
            }),
            None => Err(format!(
                "{} printed no JSON ({e}):\n{}",
                who(hoard),
                tail(&output_text(&o), 30)
            )),
        },
    }
}

/// What a normal build printed about checks: buildx's closing "N warnings found" list, the
/// final `ERROR:` line and whether it succeeded. (The `#1 WARN:` progress lines are not used:
/// buildx may print the summary without them when the vertex already finished.)
#[derive(Debug, PartialEq, Eq)]
struct BuildReport {
    warnings: Vec<String>,
    error: Option<String>,
    success: bool,
}

fn build_report(o: &Output) -> BuildReport {
    let text = output_text(o);
    let warnings = text
        .lines()
        .skip_while(|l| !(l.contains(" warning found (") || l.contains(" warnings found (")))
        .skip(1)
        .take_while(|l| l.starts_with(" - ") || l.starts_with("\u{1b}[0m - "))
        .map(|l| l.trim_start_matches("\u{1b}[0m").to_string())
        .collect::<Vec<_>>();
    // buildx lists them in no fixed order.
    let mut warnings = warnings;
    warnings.sort();
    let error = text
        .lines()
        .rev()
        .find(|l| l.starts_with("ERROR: "))
        .map(sorted_rules);
    BuildReport {
        warnings,
        error,
        success: o.status.success(),
    }
}

fn run_build(dir: &Path, hoard: bool, flags: &[String]) -> BuildReport {
    let mut args = frontend(hoard);
    args.extend(flags.iter().cloned());
    args.push(".".into());
    build_report(&buildx(dir, &args))
}

fn run_case(name: &str) {
    if !e2e_enabled(name) {
        return;
    }
    let dir = checks_dir().join(name);
    assert!(
        dir.join("Dockerfile").exists(),
        "{}/Dockerfile is missing",
        dir.display()
    );
    let expect = read_lines(&dir.join("expect"));
    let mut problems = Vec::new();
    let mut stock_rules = BTreeSet::new();
    for flags in variants(&dir) {
        let label = format!("{name} {}", flags.join(" "));
        match (
            run_check(&dir, false, &flags),
            run_check(&dir, true, &flags),
        ) {
            (Ok(stock), Ok(hoard)) => {
                for w in &stock.warnings {
                    stock_rules.insert(w.split(' ').next().unwrap_or("").to_string());
                }
                if stock != hoard {
                    problems.push(format!(
                        "{label}: --call check differs\n--- stock ---\n{}\nerror: {:?}\n--- hoard ---\n{}\nerror: {:?}",
                        stock.warnings.join("\n"),
                        stock.error,
                        hoard.warnings.join("\n"),
                        hoard.error
                    ));
                }
            }
            (a, b) => problems.extend(
                [a.err(), b.err()]
                    .into_iter()
                    .flatten()
                    .map(|e| format!("{label}: {e}")),
            ),
        }
        let (stock, hoard) = (
            run_build(&dir, false, &flags),
            run_build(&dir, true, &flags),
        );
        for w in &stock.warnings {
            // ` - InvalidBaseImagePlatform: Base image ...`
            let rule = w.trim_start_matches(" - ").split(':').next().unwrap_or("");
            stock_rules.insert(rule.to_string());
        }
        if stock != hoard {
            problems.push(format!("{label}: the build's warnings differ\n--- stock ---\n{stock:#?}\n--- hoard ---\n{hoard:#?}"));
        }
    }
    for rule in &expect {
        if !stock_rules.contains(rule) {
            problems.push(format!(
                "{name}: the stock frontend no longer reports {rule}: fix the case"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// hoard's own rules (`testdata/hoard_checks`): reported by hoard with their README URLs, never
/// by the stock frontend; skippable by name; under `# check=error=true` they fail the check only
/// when named in `experimental=`.
#[test]
fn hoard_rules() {
    if !e2e_enabled("hoard_rules") || selftest() {
        return;
    }
    let dir = root().join("testdata/hoard_checks");
    let stock = run_check(&dir, false, &[]).unwrap();
    assert_eq!(
        stock,
        CheckReport {
            warnings: Vec::new(),
            error: None
        },
        "the stock frontend reports something"
    );

    let hoard = run_check(&dir, true, &[]).unwrap();
    let rules: Vec<&str> = hoard
        .warnings
        .iter()
        .map(|w| w.split(':').next().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["HoardUnknownTool 3-3", "HoardCacheDefeated 4-4"],
        "{:#?}",
        hoard.warnings
    );
    assert!(
        hoard.warnings[0].contains("Unknown tool \"pipp\""),
        "{}",
        hoard.warnings[0]
    );
    assert!(
        hoard.warnings[0].ends_with("README.md#hoardunknowntool"),
        "{}",
        hoard.warnings[0]
    );
    assert!(
        hoard.warnings[1].contains("PIP_NO_CACHE_DIR is set and disables the cache"),
        "{}",
        hoard.warnings[1]
    );
    assert_eq!(
        hoard.error, None,
        "a hoard rule failed the check under error=true"
    );

    let skip = |arg: &str| {
        vec![
            "--build-arg".to_string(),
            format!("BUILDKIT_DOCKERFILE_CHECK={arg}"),
        ]
    };
    let skipped = run_check(&dir, true, &skip("skip=HoardUnknownTool")).unwrap();
    assert_eq!(skipped.warnings.len(), 1, "{:#?}", skipped.warnings);
    assert!(skipped.warnings[0].starts_with("HoardCacheDefeated"));

    let named = run_check(
        &dir,
        true,
        &skip("error=true;experimental=HoardCacheDefeated"),
    )
    .unwrap();
    assert_eq!(
        named.error.as_deref(),
        Some("lint violation found for rules: HoardCacheDefeated")
    );
}
