//! The image config JSON (`application/vnd.oci.image.config.v1+json` with Docker's extensions),
//! with the field names and omission rules of Go's `dockerspec.DockerOCIImage`, so that what we
//! return matches what the stock frontend returns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Platform;

fn is_false(b: &bool) -> bool {
    !*b
}

/// The whole image config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
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
    #[serde(default)]
    pub config: ContainerConfig,
    #[serde(default)]
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// `config` inside the image config: what a container started from the image gets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerConfig {
    #[serde(rename = "User", default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(
        rename = "ExposedPorts",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "Env", default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(
        rename = "Entrypoint",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub entrypoint: Vec<String>,
    #[serde(
        rename = "Cmd",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub cmd: Vec<String>,
    #[serde(
        rename = "Volumes",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_map"
    )]
    pub volumes: BTreeMap<String, serde_json::Value>,
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub working_dir: String,
    #[serde(
        rename = "Labels",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_map"
    )]
    pub labels: BTreeMap<String, String>,
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    #[serde(rename = "ArgsEscaped", default, skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    #[serde(
        rename = "Healthcheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub healthcheck: Option<Healthcheck>,
    #[serde(
        rename = "OnBuild",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub on_build: Vec<String>,
    #[serde(
        rename = "Shell",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub shell: Vec<String>,
}

fn null_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn null_map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    V: Deserialize<'de>,
{
    Ok(Option::<BTreeMap<String, V>>::deserialize(d)?.unwrap_or_default())
}

/// `HEALTHCHECK` settings; durations in nanoseconds like Go's `time.Duration`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Healthcheck {
    #[serde(
        rename = "Test",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_vec"
    )]
    pub test: Vec<String>,
    #[serde(rename = "Interval", default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(rename = "Timeout", default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(rename = "StartPeriod", default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(rename = "StartInterval", default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(rename = "Retries", default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        }
    }
}

/// One `history` entry. The exporter fills in `created` for entries we leave without one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty_layer: bool,
}

/// The comment the stock frontend writes on every history entry it adds.
pub const HISTORY_COMMENT: &str = "buildkit.dockerfile.v0";

impl ImageConfig {
    /// The image's `SHELL` (or `/bin/sh -c`, `cmd /S /C` on Windows) followed by the command
    /// joined into one string: how a shell-form RUN, CMD or ENTRYPOINT runs.
    pub fn with_shell(&self, args: &[String]) -> Vec<String> {
        let mut shell = if self.config.shell.is_empty() {
            if self.os == "windows" {
                vec!["cmd".to_string(), "/S".into(), "/C".into()]
            } else {
                vec!["/bin/sh".to_string(), "-c".into()]
            }
        } else {
            self.config.shell.clone()
        };
        shell.push(args.join(" "));
        shell
    }

    /// The config of `FROM scratch` (and the starting point for any stage): the platform, a
    /// default `PATH` and `WorkingDir` `/`, as the stock frontend's `emptyImage`.
    pub fn empty(platform: &Platform) -> Self {
        let mut img = ImageConfig {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            os_version: platform.os_version.clone(),
            os_features: platform.os_features.clone(),
            variant: platform.variant.clone(),
            ..Default::default()
        };
        img.config.working_dir = "/".into();
        if platform.os != "windows" {
            img.config.env = vec![format!("PATH={}", default_path_env(&platform.os))];
        }
        img
    }

    pub fn from_json(data: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(data)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("image config serialises")
    }

    /// The platform this config describes.
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone(),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
        }
    }

    /// Append a history entry the way the stock frontend's `commitToHistory` does.
    pub fn commit_history(&mut self, created_by: String, with_layer: bool) {
        self.history.push(History {
            created_by,
            comment: HISTORY_COMMENT.into(),
            empty_layer: !with_layer,
            ..Default::default()
        });
    }

    /// Look up an environment variable in `config.Env`.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.config.env.iter().rev().find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
            (k == key).then_some(v)
        })
    }

    /// Set or replace an environment variable, keeping its position when it already exists.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let entry = format!("{key}={value}");
        if let Some(slot) = self
            .config
            .env
            .iter_mut()
            .find(|kv| kv.split_once('=').map(|(k, _)| k).unwrap_or(kv) == key)
        {
            *slot = entry;
        } else {
            self.config.env.push(entry);
        }
    }
}

/// The `PATH` BuildKit gives a Linux container that sets none (`system.DefaultPathEnv`).
pub fn default_path_env(os: &str) -> &'static str {
    if os == "windows" {
        ""
    } else {
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_image_has_path_and_workdir() {
        let img = ImageConfig::empty(&Platform::parse("linux/amd64").unwrap());
        let v: serde_json::Value = serde_json::from_slice(&img.to_json()).unwrap();
        assert_eq!(v["architecture"], "amd64");
        assert_eq!(v["os"], "linux");
        assert_eq!(v["config"]["WorkingDir"], "/");
        assert_eq!(
            v["config"]["Env"][0],
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        );
        assert_eq!(v["rootfs"]["type"], "layers");
        assert!(v.get("history").is_none());
        assert!(v["config"].get("Cmd").is_none());
    }

    #[test]
    fn parses_docker_style_config_with_nulls_and_unknown_fields() {
        let data = br#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":null,"Labels":null,"Volumes":{"/data":{}},"Healthcheck":{"Test":["CMD","true"],"Interval":5000000000}},"container_config":{"Hostname":"x"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created":"2020-01-01T00:00:00Z","created_by":"x","empty_layer":true}]}"#;
        let img = ImageConfig::from_json(data).unwrap();
        assert_eq!(img.env("PATH"), Some("/bin"));
        assert!(img.config.cmd.is_empty());
        assert_eq!(
            img.config.healthcheck.as_ref().unwrap().interval,
            5_000_000_000
        );
        let out: serde_json::Value = serde_json::from_slice(&img.to_json()).unwrap();
        assert!(
            out.get("container_config").is_none(),
            "unknown fields are dropped like Go does"
        );
        assert_eq!(out["history"][0]["empty_layer"], true);
    }

    #[test]
    fn set_env_replaces_in_place() {
        let mut img = ImageConfig::default();
        img.set_env("A", "1");
        img.set_env("B", "2");
        img.set_env("A", "3");
        assert_eq!(img.config.env, vec!["A=3", "B=2"]);
    }
}
