//! Which rules a build reports, and whether they fail it: the stock `linter.ParseLintOptions`
//! and `Linter.Run` / `Linter.Error` semantics.

use crate::error::{Error, Result, Warning};

use super::Rule;

/// `# check=skip=<rules>|all;experimental=<rules>|all;error=<bool>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckConfig {
    pub skip_all: bool,
    pub skip: Vec<String>,
    pub experimental_all: bool,
    pub experimental: Vec<String>,
    pub error: bool,
}

/// Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn rule_list(v: &str) -> Vec<String> {
    v.split(',').map(|r| r.trim().to_string()).collect()
}

impl CheckConfig {
    /// Parse a check option string (the directive's value or the build arg's).
    pub fn parse(s: &str) -> std::result::Result<CheckConfig, String> {
        let s = s.trim();
        let mut c = CheckConfig::default();
        if s.is_empty() {
            return Ok(c);
        }
        for part in s.splitn(3, ';') {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!("invalid check option {part:?}"));
            };
            match k.trim() {
                "skip" => match v.trim() {
                    "all" => c.skip_all = true,
                    v => c.skip = rule_list(v),
                },
                "experimental" => match v.trim() {
                    "all" => c.experimental_all = true,
                    v => c.experimental = rule_list(v),
                },
                "error" => {
                    let v = v.trim();
                    c.error = parse_bool(v).ok_or_else(|| {
                        format!("failed to parse check option {part:?}: strconv.ParseBool: parsing {v:?}: invalid syntax")
                    })?;
                }
                k => return Err(format!("invalid check option {k:?}")),
            }
        }
        Ok(c)
    }

    /// The configuration of a build: the `BUILDKIT_DOCKERFILE_CHECK` build arg when given
    /// (it replaces the directive entirely, as in the stock frontend), else the Dockerfile's
    /// `# check=` directive.
    pub fn for_build(directive: Option<&str>, build_arg: Option<&str>) -> Result<CheckConfig> {
        match build_arg {
            Some(v) => CheckConfig::parse(v).map_err(|e| {
                Error::new(format!(
                    "failed to parse build-arg:BUILDKIT_DOCKERFILE_CHECK: {e}"
                ))
            }),
            None => CheckConfig::parse(directive.unwrap_or(""))
                .map_err(|e| Error::new(format!("failed to parse check options: {e}"))),
        }
    }

    /// Whether a warning of `rule` is reported (stock `Linter.Run`): an experimental rule only
    /// when enabled (skip lists do not apply to it), any other unless skipped.
    pub fn reports(&self, rule: &Rule) -> bool {
        if rule.experimental {
            self.experimental_all || self.experimental.iter().any(|r| r == rule.name)
        } else {
            !(self.skip_all || self.skip.iter().any(|r| r == rule.name))
        }
    }

    /// Whether a reported warning of `rule` fails the build under `error=true`: every stock rule;
    /// a hoard rule only when named in `experimental=` (switching to hoard must not break a
    /// build the stock frontend passes).
    fn fails(&self, rule: &Rule) -> bool {
        !rule.hoard || self.experimental.iter().any(|r| r == rule.name)
    }

    /// Keep the warnings this configuration reports; with `error=true` and any of them left, also
    /// the build's error (stock `Linter.Error`, rules in the order first reported).
    pub fn apply(&self, warnings: Vec<Warning>) -> (Vec<Warning>, Option<Error>) {
        let mut kept = Vec::new();
        let mut failing: Vec<String> = Vec::new();
        for w in warnings {
            // A warning of no known rule is treated as a stock, non-experimental one.
            let (reported, fails) = match super::find(&w.rule) {
                Some(rule) => (self.reports(rule), self.fails(rule)),
                None => (!(self.skip_all || self.skip.contains(&w.rule)), true),
            };
            if !reported {
                continue;
            }
            if fails && !failing.contains(&w.rule) {
                failing.push(w.rule.clone());
            }
            kept.push(w);
        }
        let err = (self.error && !failing.is_empty()).then(|| {
            Error::new(format!(
                "lint violation found for rules: {}",
                failing.join(", ")
            ))
        });
        (kept, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Span;
    use crate::lint::rules;

    fn w(rule: &Rule) -> Warning {
        rule.warn(Span::line(1), "m")
    }

    #[test]
    fn parses_like_the_stock_frontend() {
        let c =
            CheckConfig::parse(" skip=JSONArgsRecommended, StageNameCasing ;error=true").unwrap();
        assert_eq!(c.skip, ["JSONArgsRecommended", "StageNameCasing"]);
        assert!(c.error && !c.skip_all);
        assert!(CheckConfig::parse("skip=all").unwrap().skip_all);
        assert!(
            CheckConfig::parse("experimental=all")
                .unwrap()
                .experimental_all
        );
        assert_eq!(CheckConfig::parse("").unwrap(), CheckConfig::default());
        assert_eq!(
            CheckConfig::parse("skip").unwrap_err(),
            "invalid check option \"skip\""
        );
        assert_eq!(
            CheckConfig::parse("foo=bar").unwrap_err(),
            "invalid check option \"foo\""
        );
        assert_eq!(
            CheckConfig::parse("error=yes").unwrap_err(),
            "failed to parse check option \"error=yes\": strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
        let e = CheckConfig::for_build(Some("x"), None).unwrap_err();
        assert_eq!(
            e.message,
            "failed to parse check options: invalid check option \"x\""
        );
        // The build arg replaces the directive.
        let c = CheckConfig::for_build(Some("error=true"), Some("skip=all")).unwrap();
        assert!(c.skip_all && !c.error);
    }

    #[test]
    fn skips_experimental_and_errors() {
        let all = vec![
            w(&rules::STAGE_NAME_CASING),
            w(&rules::COPY_IGNORED_FILE),
            w(&rules::HOARD_UNKNOWN_TOOL),
        ];
        let (kept, err) = CheckConfig::default().apply(all.clone());
        assert_eq!(kept.len(), 2);
        assert!(err.is_none());

        let c = CheckConfig::parse("error=true;experimental=CopyIgnoredFile").unwrap();
        let (kept, err) = c.apply(all.clone());
        assert_eq!(kept.len(), 3);
        assert_eq!(
            err.unwrap().message,
            "lint violation found for rules: StageNameCasing, CopyIgnoredFile"
        );

        // A hoard rule alone never fails the build, unless named.
        let (kept, err) = CheckConfig::parse("error=true")
            .unwrap()
            .apply(vec![w(&rules::HOARD_UNKNOWN_TOOL)]);
        assert_eq!(kept.len(), 1);
        assert!(err.is_none());
        let c = CheckConfig::parse("error=true;experimental=HoardUnknownTool").unwrap();
        assert!(c.apply(vec![w(&rules::HOARD_UNKNOWN_TOOL)]).1.is_some());

        // skip=all silences everything but enabled experimental rules.
        let c = CheckConfig::parse("skip=all;experimental=all;error=true").unwrap();
        let (kept, err) = c.apply(all);
        assert_eq!(
            kept.iter().map(|w| w.rule.as_str()).collect::<Vec<_>>(),
            ["CopyIgnoredFile"]
        );
        assert!(err.is_some());
    }
}
