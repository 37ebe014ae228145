//! Target platforms (`linux/amd64`, `linux/arm/v7`), parsed and normalised like containerd's
//! `platforms` package, which BuildKit uses for `--platform` and `FROM --platform`.

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
];

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: &str) -> Self {
        Platform {
            os: os.into(),
            architecture: architecture.into(),
            variant: variant.into(),
            ..Default::default()
        }
    }

    /// The platform this frontend binary runs on, used when buildkitd names none.
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            other => other,
        };
        Platform::new("linux", arch, "").normalized()
    }

    /// Parse `os[/arch[/variant]]` or a lone architecture, then normalise.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let spec = spec.trim();
        let bad = || {
            Error::new(format!(
                "\"{spec}\": unknown operating system or architecture: invalid argument"
            ))
        };
        if spec.is_empty() {
            return Err(bad());
        }
        // `os(version)/arch` form.
        let (head, rest) = match spec.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (spec, None),
        };
        let (os_part, os_version) = match head.split_once('(') {
            Some((o, v)) => match v.strip_suffix(')') {
                Some(v) => (o, v.to_string()),
                None => return Err(bad()),
            },
            None => (head, String::new()),
        };
        let parts: Vec<&str> = rest.map(|r| r.split('/').collect()).unwrap_or_default();
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        if !valid(os_part) || parts.iter().any(|p| !valid(p)) || parts.len() > 2 {
            return Err(bad());
        }
        let lower = os_part.to_ascii_lowercase();
        let mut p = match parts.as_slice() {
            [] => {
                if KNOWN_OS.contains(&normalize_os(&lower).as_str()) {
                    let host = Platform::host();
                    Platform::new(&lower, &host.architecture, &host.variant)
                } else {
                    let (arch, variant) = normalize_arch(&lower, "");
                    if !known_arch(&arch) {
                        return Err(bad());
                    }
                    Platform::new("linux", &arch, &variant)
                }
            }
            [arch] => Platform::new(&lower, arch, ""),
            [arch, variant] => Platform::new(&lower, arch, variant),
            _ => unreachable!(),
        };
        p.os_version = os_version;
        if !KNOWN_OS.contains(&normalize_os(&p.os).as_str()) {
            return Err(bad());
        }
        Ok(p.normalized())
    }

    /// containerd's `platforms.Normalize`.
    pub fn normalized(mut self) -> Self {
        self.os = normalize_os(&self.os);
        let (arch, variant) = normalize_arch(&self.architecture, &self.variant);
        self.architecture = arch;
        self.variant = variant;
        self
    }

    /// `os/arch[/variant]`, the key used for `refs` and `containerimage.config/<id>`.
    pub fn id(&self) -> String {
        let mut s = format!("{}/{}", self.os, self.architecture);
        if !self.variant.is_empty() {
            s.push('/');
            s.push_str(&self.variant);
        }
        s
    }

    /// Values of the automatic platform ARGs (`TARGETOS`, ...) for this platform, with `prefix`
    /// `TARGET` or `BUILD`.
    pub fn args(&self, prefix: &str) -> Vec<(String, String)> {
        vec![
            (format!("{prefix}PLATFORM"), self.id()),
            (format!("{prefix}OS"), self.os.clone()),
            (format!("{prefix}ARCH"), self.architecture.clone()),
            (format!("{prefix}VARIANT"), self.variant.clone()),
        ]
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

fn normalize_os(os: &str) -> String {
    let os = os.to_ascii_lowercase();
    match os.as_str() {
        "macos" => "darwin".into(),
        _ => os,
    }
}

fn known_arch(arch: &str) -> bool {
    matches!(
        arch,
        "386"
            | "amd64"
            | "amd64p32"
            | "arm"
            | "armbe"
            | "arm64"
            | "arm64be"
            | "ppc64"
            | "ppc64le"
            | "loong64"
            | "mips"
            | "mipsle"
            | "mips64"
            | "mips64le"
            | "mips64p32"
            | "mips64p32le"
            | "ppc"
            | "riscv"
            | "riscv64"
            | "s390"
            | "s390x"
            | "sparc"
            | "sparc64"
            | "wasm"
    )
}

fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.to_ascii_lowercase();
    match arch.as_str() {
        "i386" => ("386".into(), String::new()),
        "x86_64" | "x86-64" | "amd64" => {
            let v = if variant == "v1" {
                String::new()
            } else {
                variant
            };
            ("amd64".into(), v)
        }
        "aarch64" | "arm64" => {
            let v = match variant.as_str() {
                "8" | "v8" | "v8.0" => String::new(),
                "9" => "v9".into(),
                _ => variant,
            };
            ("arm64".into(), v)
        }
        "armhf" => ("arm".into(), "v7".into()),
        "armel" => ("arm".into(), "v6".into()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".into(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".into(), v)
        }
        _ => (arch, variant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(Platform::parse("linux/amd64").unwrap().id(), "linux/amd64");
        assert_eq!(Platform::parse("linux/x86_64").unwrap().id(), "linux/amd64");
        assert_eq!(
            Platform::parse("linux/arm64/v8").unwrap().id(),
            "linux/arm64"
        );
        assert_eq!(Platform::parse("linux/arm").unwrap().id(), "linux/arm/v7");
        assert_eq!(Platform::parse("linux/armhf").unwrap().id(), "linux/arm/v7");
        assert_eq!(Platform::parse("arm64").unwrap().id(), "linux/arm64");
        assert_eq!(Platform::parse("Linux/AMD64").unwrap().id(), "linux/amd64");
        assert_eq!(Platform::parse("linux").unwrap().os, "linux");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "linux/",
            "foo/bar",
            "linux/amd64/v1/x",
            "nonsense",
            "linux/a b",
        ] {
            assert!(Platform::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn args_have_all_four() {
        let p = Platform::parse("linux/arm/v7").unwrap();
        let a = p.args("TARGET");
        assert_eq!(a[0], ("TARGETPLATFORM".into(), "linux/arm/v7".into()));
        assert_eq!(a[3], ("TARGETVARIANT".into(), "v7".into()));
    }
}
