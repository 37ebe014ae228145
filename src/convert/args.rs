//! The global ARG scope: automatic platform args, `--build-arg` values and the ARGs declared
//! before the first `FROM`, evaluated in order like the stock `buildMetaArgs`.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result, Span};
use crate::expand::Lexer;
use crate::image::Platform;
use crate::instructions::ArgCommand;

/// An ordered variable list where setting an existing name replaces it in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvList(pub Vec<(String, String)>);

impl EnvList {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }
}

impl crate::expand::Env for EnvList {
    fn get(&self, name: &str) -> Option<String> {
        EnvList::get(self, name).map(str::to_string)
    }
    fn keys(&self) -> Vec<String> {
        self.0.iter().map(|(k, _)| k.clone()).collect()
    }
}

/// `BUILDPLATFORM`, `TARGETPLATFORM` and friends, overridable by build args.
pub fn default_args(
    build: &Platform,
    target: &Platform,
    target_stage: &str,
    overrides: &BTreeMap<String, String>,
) -> EnvList {
    let stage = if target_stage.is_empty() {
        "default"
    } else {
        target_stage
    };
    let pairs = [
        ("BUILDPLATFORM", build.id()),
        ("BUILDOS", build.os.clone()),
        ("BUILDOSVERSION", build.os_version.clone()),
        ("BUILDARCH", build.architecture.clone()),
        ("BUILDVARIANT", build.variant.clone()),
        ("TARGETPLATFORM", target.id()),
        ("TARGETOS", target.os.clone()),
        ("TARGETOSVERSION", target.os_version.clone()),
        ("TARGETARCH", target.architecture.clone()),
        ("TARGETVARIANT", target.variant.clone()),
        ("TARGETSTAGE", stage.to_string()),
    ];
    let mut env = EnvList::default();
    for (k, v) in pairs {
        let v = overrides.get(k).cloned().unwrap_or(v);
        env.set(k, &v);
    }
    env
}

/// One global ARG as [`meta_args`] evaluated it (for the outline).
pub struct MetaArg {
    pub key: String,
    /// `None` for an ARG without default or build arg.
    pub value: Option<String>,
    /// The variables its default used (empty when a build arg gave the value).
    pub matched: BTreeSet<String>,
    pub span: Span,
}

/// Apply the meta ARGs (before the first FROM) to the global scope; also returns each one as
/// evaluated, for the outline.
pub fn meta_args(
    mut env: EnvList,
    lexer: &Lexer,
    commands: &[ArgCommand],
    build_args: &BTreeMap<String, String>,
) -> Result<(EnvList, Vec<MetaArg>)> {
    let mut evaluated = Vec::new();
    for cmd in commands {
        for (key, default) in &cmd.args {
            let mut matched = BTreeSet::new();
            let value = match build_args.get(key) {
                Some(v) => Some(v.clone()),
                None => match default {
                    Some(d) => {
                        let r = lexer
                            .process(d, &env)
                            .map_err(|e| Error::at(cmd.span, e.message))?;
                        matched = r.matched;
                        Some(r.result)
                    }
                    None => None,
                },
            };
            if let Some(v) = &value {
                env.set(key, v);
            }
            evaluated.push(MetaArg {
                key: key.clone(),
                value,
                matched,
                span: cmd.span,
            });
        }
    }
    Ok((env, evaluated))
}
