//! The build checks that need the converter's knowledge (stage names, ARG/ENV scoping, base
//! images), triggered from the converter's own walk at the points where the stock frontend
//! triggers them (`dockerfile2llb/convert.go`). The rules themselves (names, descriptions,
//! URLs) are defined in [`crate::lint::rules`]; each function here returns the warnings it
//! finds, and the caller appends them to the build's list in walk order.

use std::collections::BTreeSet;

use crate::error::{Span, Warning};
use crate::expand::{Env, Lexer};
use crate::image::Platform;
use crate::instructions::{Command, Stage};
use crate::lint::rules;

/// Args never put in a stage's environment (stock `nonEnvArgs`).
const NON_ENV_ARGS: [&str; 2] = ["BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"];

/// The instruction keyword as written (`CMD`, `cmd`, ...): the stock `Command.Name()`.
pub(super) fn keyword(cmd: &Command) -> &str {
    let original = cmd.original().trim_start();
    original
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or(original)
}

/// `ReservedStageName` and `DuplicateStageName` (stock `validateStageNames`).
pub(super) fn stage_names(stages: &[Stage]) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for s in stages {
        let Some(name) = s.name.as_deref() else {
            continue;
        };
        if name == "context" || name == "scratch" {
            out.push(rules::RESERVED_STAGE_NAME.warn(
                s.span,
                format!("Stage name should not use the same name as reserved stage {name:?}"),
            ));
        }
        if !seen.insert(name) {
            out.push(rules::DUPLICATE_STAGE_NAME.warn(
                s.span,
                format!("Duplicate stage name {name:?}, stage names should be unique"),
            ));
        }
    }
    out
}

/// `ConsistentInstructionCasing` (stock `validateCommandCasing`): every keyword in one case,
/// the case of the majority (upper case on a tie).
pub(super) fn command_casing(stages: &[Stage]) -> Vec<Warning> {
    let consistent = |s: &str| s == s.to_lowercase() || s == s.to_uppercase();
    let mut all: Vec<(&str, Span)> = Vec::new();
    for s in stages {
        all.push((s.keyword.as_str(), s.span));
        for c in &s.commands {
            all.push((keyword(c), c.span()));
        }
    }
    let (mut lower, mut upper) = (0, 0);
    for (k, _) in &all {
        if consistent(k) {
            if *k == k.to_lowercase() {
                lower += 1;
            } else {
                upper += 1;
            }
        }
    }
    let majority_lower = lower > upper;
    all.iter()
        .filter_map(|(k, span)| {
            let casing = if majority_lower && k.to_lowercase() != *k {
                "lowercase"
            } else if !majority_lower && k.to_uppercase() != *k {
                "uppercase"
            } else {
                return None;
            };
            Some(rules::CONSISTENT_INSTRUCTION_CASING.warn(
                *span,
                format!("Command '{k}' should match the case of the command majority ({casing})"),
            ))
        })
        .collect()
}

/// `InvalidDefaultArgInFrom` (stock `validateBaseImagesWithDefaultArgs`): with the global
/// ARGs' defaults only (no `--build-arg`), every base name must still be a valid reference.
/// `defaults` is the global scope built that way, `None` when building it failed (the build
/// fails later with that error).
pub(super) fn default_arg_bases(
    stages: &[Stage],
    lexer: &Lexer,
    defaults: Option<&dyn Env>,
) -> Vec<Warning> {
    let Some(env) = defaults else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in stages {
        let Ok(name) = lexer.process_word(&s.base, env) else {
            return out;
        };
        if crate::image::normalize_reference(&name).is_err() {
            out.push(rules::INVALID_DEFAULT_ARG_IN_FROM.warn(
                s.span,
                format!(
                    "Default value for ARG {} results in empty or invalid base image name",
                    s.base
                ),
            ));
        }
    }
    out
}

/// `UndefinedArgInFrom` (stock `reportUnusedFromArgs`): a variable in `FROM` that is neither a
/// global ARG (declared, with or without a value) nor an automatic one.
pub(super) fn undefined_from_args(
    unmatched: &BTreeSet<String>,
    declared: &[String],
    span: Span,
) -> Vec<Warning> {
    let options: Vec<&str> = declared.iter().map(String::as_str).collect();
    unmatched
        .iter()
        .filter(|a| !declared.contains(a))
        .map(|a| {
            let mut msg = format!("FROM argument '{a}' is not declared");
            if let Some(s) = crate::instructions::suggest::search(a, &options, true) {
                msg += &format!(" (did you mean {s}?)");
            }
            rules::UNDEFINED_ARG_IN_FROM.warn(span, msg)
        })
        .collect()
}

/// `RedundantTargetPlatform` and `FromPlatformFlagConstDisallowed` for a `FROM --platform`.
pub(super) fn platform_flag(
    flag: &str,
    result: &str,
    matched: &BTreeSet<String>,
    unmatched: &BTreeSet<String>,
    globals: &dyn Env,
    stage_name: Option<&str>,
    span: Span,
) -> Vec<Warning> {
    let mut out = Vec::new();
    if matched.len() == 1
        && unmatched.is_empty()
        && matched.contains("TARGETPLATFORM")
        && globals.get("TARGETPLATFORM").as_deref() == Some(result)
    {
        out.push(rules::REDUNDANT_TARGET_PLATFORM.warn(
            span,
            format!("Setting platform to predefined {flag} in FROM is redundant as this is the default behavior"),
        ));
    }
    if matched.is_empty() && unmatched.is_empty() {
        if let Ok(p) = Platform::parse(result) {
            let name = stage_name.unwrap_or("");
            if !name.contains(&p.os) && !name.contains(&p.architecture) {
                out.push(rules::FROM_PLATFORM_FLAG_CONST_DISALLOWED.warn(
                    span,
                    format!("FROM --platform flag should not use constant value {result:?}"),
                ));
            }
        }
    }
    out
}

/// `UndefinedVar` (stock `reportUnmatchedVariables`): variables an instruction expanded that
/// are neither set nor declared by an `ARG` of the stage.
pub(super) fn undefined_vars(
    unmatched: &BTreeSet<String>,
    stage_args: &[(String, Option<String>)],
    env: &dyn Env,
    span: Span,
) -> Vec<Warning> {
    let keys = env.keys();
    let options: Vec<&str> = keys.iter().map(String::as_str).collect();
    unmatched
        .iter()
        .filter(|v| !stage_args.iter().any(|(k, _)| k == *v) && !NON_ENV_ARGS.contains(&v.as_str()))
        .map(|v| {
            let mut msg = format!("Usage of undefined variable '${v}'");
            if let Some(s) = crate::instructions::suggest::search(v, &options, true) {
                msg += &format!(" (did you mean ${s}?)");
            }
            rules::UNDEFINED_VAR.warn(span, msg)
        })
        .collect()
}

/// `SecretsUsedInArgOrEnv` for one ARG or ENV key.
pub(super) fn secret_key(instruction: &str, key: &str, span: Span) -> Option<Warning> {
    crate::lint::is_secret_name(key).then(|| {
        rules::SECRETS_USED_IN_ARG_OR_ENV.warn(
            span,
            format!(
                "Do not use ARG or ENV instructions for sensitive data ({instruction} {key:?})"
            ),
        )
    })
}

/// `LegacyKeyValueFormat` for an ENV or LABEL written `KEY value`.
pub(super) fn legacy_key_value(cmd: &Command) -> Option<Warning> {
    let legacy = match cmd {
        Command::Env(e) => e.legacy_format,
        Command::Label(l) => l.legacy_format,
        _ => false,
    };
    let name = keyword(cmd);
    legacy.then(|| {
        rules::LEGACY_KEY_VALUE_FORMAT.warn(
            cmd.span(),
            format!(
                "\"{name} key=value\" should be used instead of legacy \"{name} key value\" format"
            ),
        )
    })
}

/// `JSONArgsRecommended` for a shell-form CMD or ENTRYPOINT without a `SHELL`.
pub(super) fn json_args(
    cmd: &Command,
    shell_form: bool,
    image_shell: &[String],
) -> Option<Warning> {
    (shell_form && image_shell.is_empty()).then(|| {
        let name = keyword(cmd);
        rules::JSON_ARGS_RECOMMENDED.warn(
            cmd.span(),
            format!("JSON arguments recommended for {name} to prevent unintended behavior related to OS signals"),
        )
    })
}

/// `MultipleInstructionsDisallowed`: a CMD, ENTRYPOINT or HEALTHCHECK repeated in a stage is
/// reported at the earlier one (the one that is ignored). `previous` is where the stage last
/// had one; it becomes this instruction's span.
pub(super) fn used_once(cmd: &Command, previous: &mut Option<Span>) -> Option<Warning> {
    let w = previous.map(|p| {
        rules::MULTIPLE_INSTRUCTIONS_DISALLOWED.warn(
            p,
            format!(
                "Multiple {} instructions should not be used in the same stage because only the last one will be used",
                keyword(cmd)
            ),
        )
    });
    *previous = Some(cmd.span());
    w
}

/// `ExposeProtoCasing` and `ExposeInvalidFormat` for one expanded port word (checked only
/// when it names a port, as the stock parser checks after splitting it).
pub(super) fn expose_port(raw: &str, span: Span) -> Vec<Warning> {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (ip, host, container) = match n {
        1 => ("".to_string(), "", parts[0]),
        2 => ("".to_string(), parts[0], parts[1]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let mut pp = container.split('/');
    let port = pp.next().unwrap_or("");
    let proto = pp.next().unwrap_or("");
    let mut out = Vec::new();
    if port.is_empty() {
        return out;
    }
    if proto != proto.to_lowercase() {
        out.push(rules::EXPOSE_PROTO_CASING.warn(
            span,
            format!("Defined protocol '{raw}' in EXPOSE instruction should be lowercase"),
        ));
    }
    if !ip.is_empty() || !host.is_empty() {
        out.push(rules::EXPOSE_INVALID_FORMAT.warn(
            span,
            format!("EXPOSE instruction should not define an IP address or host-port mapping, found '{raw}'"),
        ));
    }
    out
}

/// `InvalidBaseImagePlatform`: the base image's config names another OS or architecture than
/// the stage is built for.
pub(super) fn base_platform(
    name: &str,
    expected: &Platform,
    actual: &Platform,
    span: Span,
) -> Option<Warning> {
    (expected.os != actual.os || expected.architecture != actual.architecture).then(|| {
        rules::INVALID_BASE_IMAGE_PLATFORM.warn(
            span,
            format!(
                "Base image {name} was pulled with platform {:?}, expected {:?} for current build",
                actual.clone().normalized().id(),
                expected.clone().normalized().id()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expose_ports() {
        let rules = |raw: &str| {
            expose_port(raw, Span::line(1))
                .into_iter()
                .map(|w| w.rule)
                .collect::<Vec<_>>()
        };
        assert!(rules("80").is_empty());
        assert!(rules("80/udp").is_empty());
        assert_eq!(rules("80/TCP"), ["ExposeProtoCasing"]);
        assert_eq!(rules("127.0.0.1:80:80"), ["ExposeInvalidFormat"]);
        assert_eq!(
            rules("8080:80/UDP"),
            ["ExposeProtoCasing", "ExposeInvalidFormat"]
        );
        assert!(rules(":80").is_empty() || rules(":80") == ["ExposeInvalidFormat"]);
    }

    #[test]
    fn secrets() {
        assert!(secret_key("ARG", "GITHUB_TOKEN", Span::line(2)).is_some());
        assert!(secret_key("ENV", "PUBLIC_KEY", Span::line(2)).is_none());
    }
}

/// What a cache-planner note says about a step, for hoard's rules.
fn note_rule(note: &str) -> Option<&'static crate::lint::Rule> {
    // ("you mount X yourself" is no warning: the step has its cache, the user's own.)
    const UNCACHED: [&str; 5] = [
        "; nothing injected",
        "; no caches injected",
        "; hoard does not mount",
        "is not a directory hoard can cache",
        "; hoard does not hide",
    ];
    const DEFEATED: [&str; 3] = [
        "cannot be edited here",
        "empties the cache (the build still works)",
        "disables the cache",
    ];
    if UNCACHED.iter().any(|m| note.contains(m)) {
        Some(&rules::HOARD_UNCACHED_STEP)
    } else if DEFEATED.iter().any(|m| note.ends_with(m)) {
        Some(&rules::HOARD_CACHE_DEFEATED)
    } else {
        None
    }
}

/// `HoardUncachedStep` and `HoardCacheDefeated` for one planned RUN: each planner note saying
/// a cache could not be provided, or that something in the step defeats it and was left as is.
/// (Notes about what hoard neutralised, or a tool turned off on purpose, are no warning.)
pub(super) fn plan_warnings(p: &super::api::RunPlan) -> Vec<Warning> {
    p.plan
        .notes
        .iter()
        .filter_map(|n| note_rule(n).map(|r| r.warn(p.span, n.clone())))
        .collect()
}

/// `HoardUnknownTool` for each tool a `# hoard:` comment names that hoard does not know.
pub(super) fn unknown_tools(unknown: &[(usize, String)]) -> Vec<Warning> {
    let known: Vec<&str> = crate::cache::recipes::all().map(|r| r.name).collect();
    unknown
        .iter()
        .map(|(line, tool)| {
            rules::HOARD_UNKNOWN_TOOL.warn(
                Span::line(*line),
                format!(
                    "Unknown tool \"{tool}\" in a # hoard: comment is ignored; known tools: {}",
                    known.join(", ")
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod hoard_rule_tests {
    use super::*;

    #[test]
    fn planner_notes_map_to_rules() {
        let name = |n: &str| note_rule(n).map(|r| r.name);
        assert_eq!(name("apt: this step deletes /var/lib/apt/lists; hoard does not mount /var/lib/apt/lists there"), Some("HoardUncachedStep"));
        assert_eq!(
            name("pip: you mount /root/.cache yourself; hoard leaves /root/.cache/pip alone"),
            None
        );
        assert_eq!(
            name("user \"app\" is not in the image's /etc/passwd; no caches injected"),
            Some("HoardUncachedStep")
        );
        assert_eq!(
            name("pip: PIP_NO_CACHE_DIR is set and disables the cache"),
            Some("HoardCacheDefeated")
        );
        assert_eq!(
            name("npm: --prefer-online bypasses the cache and cannot be edited here"),
            Some("HoardCacheDefeated")
        );
        assert_eq!(
            name("pip: PIP_NO_CACHE_DIR would disable the cache; unset for this step"),
            None
        );
        assert_eq!(
            name("pip: --no-cache-dir would bypass the cache; edited for this step"),
            None
        );
        assert_eq!(name("apt: detected but turned off for this step"), None);
    }
}

/// `CopyIgnoredFile` (experimental; stock `validateCopySourcePath` as in the engine's
/// frontend): a COPY or ADD source of the build context that the context's `.dockerignore`
/// excludes (the source as written, or one of its parent directories).
pub(super) fn copy_ignored(
    ignore: Option<&crate::dockerignore::Matcher>,
    src: &str,
    is_add: bool,
    span: Span,
) -> Option<Warning> {
    let ignore = ignore.filter(|m| !m.is_empty())?;
    ignore.matches_or_parent_matches(src).then(|| {
        let cmd = if is_add { "Add" } else { "Copy" };
        rules::COPY_IGNORED_FILE.warn(
            span,
            format!("Attempting to {cmd} file {src:?} that is excluded by .dockerignore"),
        )
    })
}
