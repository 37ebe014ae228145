//! Instruction flags (`--name[=value]`), checked the way the stock `BFlags` does.

use super::suggest;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    String,
    Strings,
}

#[derive(Debug, Clone)]
struct Flag {
    name: &'static str,
    kind: Kind,
    value: String,
    values: Vec<String>,
    used: bool,
}

/// The flags one instruction accepts, and after [`BFlags::parse`] their values.
#[derive(Debug, Clone)]
pub(crate) struct BFlags {
    args: Vec<String>,
    flags: Vec<Flag>,
    used_order: Vec<String>,
}

impl BFlags {
    pub(crate) fn new(args: &[String]) -> Self {
        BFlags {
            args: args.to_vec(),
            flags: Vec::new(),
            used_order: Vec::new(),
        }
    }

    fn add(&mut self, name: &'static str, kind: Kind, value: &str) {
        debug_assert!(
            self.flags.iter().all(|f| f.name != name),
            "duplicate flag {name}"
        );
        self.flags.push(Flag {
            name,
            kind,
            value: value.to_string(),
            values: Vec::new(),
            used: false,
        });
    }

    pub(crate) fn add_bool(&mut self, name: &'static str, default: bool) {
        self.add(name, Kind::Bool, if default { "true" } else { "false" });
    }

    pub(crate) fn add_string(&mut self, name: &'static str, default: &str) {
        self.add(name, Kind::String, default);
    }

    /// A flag that may be repeated (`--mount`, `--exclude`).
    pub(crate) fn add_strings(&mut self, name: &'static str) {
        self.add(name, Kind::Strings, "");
    }

    fn get(&self, name: &str) -> &Flag {
        self.flags
            .iter()
            .find(|f| f.name == name)
            .expect("flag not registered")
    }

    pub(crate) fn bool(&self, name: &str) -> bool {
        self.get(name).value == "true"
    }

    pub(crate) fn string(&self, name: &str) -> String {
        self.get(name).value.clone()
    }

    pub(crate) fn strings(&self, name: &str) -> Vec<String> {
        self.get(name).values.clone()
    }

    pub(crate) fn is_used(&self, name: &str) -> bool {
        self.get(name).used
    }

    /// Names of the flags given, in the order first given.
    pub(crate) fn used(&self) -> Vec<String> {
        self.used_order.clone()
    }

    /// Check the flags given against the ones registered, with the stock error messages.
    pub(crate) fn parse(&mut self) -> Result<(), String> {
        let args = std::mem::take(&mut self.args);
        let r = self.parse_args(&args);
        self.args = args;
        r
    }

    fn parse_args(&mut self, args: &[String]) -> Result<(), String> {
        for a in args {
            if a == "--" {
                // End of options.
                return Ok(());
            }
            if !a.starts_with("--") {
                return Err(format!("arg should start with -- : {a}"));
            }
            let (flag_name, value, has_value) = match a.split_once('=') {
                Some((n, v)) => (n, v, true),
                None => (a.as_str(), "", false),
            };
            let arg = &flag_name[2..];
            let Some(idx) = self.flags.iter().position(|f| f.name == arg) else {
                let names: Vec<&str> = self.flags.iter().map(|f| f.name).collect();
                let msg = format!("unknown flag: {flag_name}");
                return Err(suggest::wrap(msg, arg, &names, true));
            };
            let flag = &mut self.flags[idx];
            if flag.used && flag.kind != Kind::Strings {
                return Err(format!("duplicate flag specified: {flag_name}"));
            }
            if !flag.used {
                self.used_order.push(arg.to_string());
            }
            flag.used = true;
            match flag.kind {
                Kind::Bool => {
                    if has_value && value.is_empty() {
                        return Err(format!("missing a value on flag: {flag_name}"));
                    }
                    match value.to_lowercase().as_str() {
                        "true" | "" => flag.value = "true".to_string(),
                        "false" => flag.value = "false".to_string(),
                        _ => {
                            return Err(format!(
                                "expecting boolean value for flag {flag_name}, not: {value}"
                            ))
                        }
                    }
                }
                Kind::String => {
                    if !has_value {
                        return Err(format!("missing a value on flag: {flag_name}"));
                    }
                    flag.value = value.to_string();
                }
                Kind::Strings => {
                    if !has_value {
                        return Err(format!("missing a value on flag: {flag_name}"));
                    }
                    flag.values.push(value.to_string());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> BFlags {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut f = BFlags::new(&args);
        f.add_bool("link", false);
        f.add_bool("on", true);
        f.add_string("chown", "");
        f.add_string("network", "default");
        f.add_strings("exclude");
        f
    }

    #[test]
    fn values() {
        let mut f = flags(&[
            "--link",
            "--on=FALSE",
            "--chown=1:2",
            "--exclude=a",
            "--exclude=b",
        ]);
        f.parse().unwrap();
        assert!(f.bool("link"));
        assert!(!f.bool("on"));
        assert_eq!(f.string("chown"), "1:2");
        assert_eq!(f.string("network"), "default");
        assert_eq!(f.strings("exclude"), vec!["a", "b"]);
        assert_eq!(f.used(), vec!["link", "on", "chown", "exclude"]);
        assert!(!f.is_used("network"));
        let mut f = flags(&["--link=true", "--", "--bogus"]);
        f.parse().unwrap();
        assert!(f.bool("link"));
        let mut f = flags(&["--chown="]);
        f.parse().unwrap();
        assert_eq!(f.string("chown"), "");
    }

    #[test]
    fn errors() {
        let err = |args: &[&str]| flags(args).parse().unwrap_err();
        assert_eq!(err(&["--xyzzy"]), "unknown flag: --xyzzy");
        assert_eq!(err(&["--xyzzy=bar"]), "unknown flag: --xyzzy");
        assert_eq!(err(&["--foo"]), "unknown flag: --foo (did you mean on?)");
        assert_eq!(
            err(&["--chwn=1"]),
            "unknown flag: --chwn (did you mean chown?)"
        );
        assert_eq!(
            err(&["--link", "--link"]),
            "duplicate flag specified: --link"
        );
        assert_eq!(
            err(&["--chown=a", "--chown=b"]),
            "duplicate flag specified: --chown"
        );
        assert_eq!(err(&["--link="]), "missing a value on flag: --link");
        assert_eq!(
            err(&["--link=yes"]),
            "expecting boolean value for flag --link, not: yes"
        );
        assert_eq!(err(&["--chown"]), "missing a value on flag: --chown");
        assert_eq!(err(&["--exclude"]), "missing a value on flag: --exclude");
        assert_eq!(err(&["-x"]), "arg should start with -- : -x");
    }
}
