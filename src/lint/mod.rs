//! Build checks (`docker buildx build --check`, warnings during a build): what each rule is,
//! and which of them a build reports.
//!
//! * [`rules`] defines every rule once: the stock linter's (same name, description, URL and
//!   experimental flag as BuildKit's `linter/ruleset.go`) and hoard's own (`Hoard...`).
//! * The rules are triggered where the knowledge is, as in the stock frontend: the parser
//!   (`NoEmptyContinuation`), the instruction typer (`MaintainerDeprecated`, `StageNameCasing`,
//!   `FromAsCasing`, `InvalidDefinitionDescription`) and the converter's walk (everything that
//!   needs stages, ARG/ENV scoping or base images: `crate::convert::checks` and the dispatch
//!   of each instruction). They produce plain [`Warning`]s carrying the rule's name.
//! * [`CheckConfig`] (the `# check=` directive or the `BUILDKIT_DOCKERFILE_CHECK` build arg)
//!   decides which of them are reported and whether they fail the build ([`CheckConfig::apply`]),
//!   once, where the frontend hands results to buildx.
//!
//! This module depends on nothing but [`crate::error`], so every stage of the pipeline may use it.

mod config;
pub mod rules;

pub use config::CheckConfig;

use crate::error::{Span, Warning};

/// One build-check rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    /// The rule's one-line description (sent as the warning's detail).
    pub description: &'static str,
    /// Where the rule is documented (empty for a stock rule without a page).
    pub url: &'static str,
    /// Reported only when enabled with `# check=experimental=<name>|all`.
    pub experimental: bool,
    /// One of hoard's own rules: it never fails a build under `error=true` unless named in the
    /// directive's `experimental=` list (see the README's "Build checks").
    pub hoard: bool,
}

impl Rule {
    /// A warning of this rule at `span`.
    pub fn warn(&self, span: Span, message: impl Into<String>) -> Warning {
        Warning {
            rule: self.name.to_string(),
            message: message.into(),
            span: Some(span),
        }
    }
}

/// The rule with this name.
pub fn find(name: &str) -> Option<&'static Rule> {
    rules::ALL.iter().find(|r| r.name == name)
}

/// `(description, url)` of a warning's rule (empty for a name no rule has).
pub fn describe(w: &Warning) -> (&'static str, &'static str) {
    find(&w.rule)
        .map(|r| (r.description, r.url))
        .unwrap_or(("", ""))
}

/// `SecretsUsedInArgOrEnv`'s test: an `_`-separated word of the name is one of the stock
/// frontend's secret words, and none is `public` (both case-insensitive).
pub fn is_secret_name(key: &str) -> bool {
    const DENY: [&str; 10] = [
        "apikey",
        "auth",
        "credential",
        "credentials",
        "key",
        "password",
        "pword",
        "passwd",
        "secret",
        "token",
    ];
    let words = || key.split('_');
    words().any(|w| DENY.iter().any(|d| d.eq_ignore_ascii_case(w)))
        && !words().any(|w| w.eq_ignore_ascii_case("public"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for k in [
            "api_key",
            "DATABASE_PASSWORD",
            "GITHUB_TOKEN",
            "secret_MESSAGE",
            "AUTH",
            "MY_KEY_NAME",
        ] {
            assert!(is_secret_name(k), "{k}");
        }
        for k in ["PUBLIC_KEY", "KEYS", "monkey", "TOKENIZER", "path"] {
            assert!(!is_secret_name(k), "{k}");
        }
    }

    #[test]
    fn every_rule_has_a_unique_name_and_hoard_rules_are_prefixed() {
        let mut names: Vec<&str> = rules::ALL.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), rules::ALL.len());
        for r in rules::ALL {
            assert_eq!(r.hoard, r.name.starts_with("Hoard"), "{}", r.name);
            assert!(!r.description.is_empty());
        }
        assert_eq!(
            find("UndefinedVar").unwrap().url,
            "https://docs.docker.com/go/dockerfile/rule/undefined-var/"
        );
    }
}
