//! `RUN --mount=...` values, parsed like the stock `commands_runmount.go`.
//!
//! As in the stock frontend, a mount is parsed twice: once when the Dockerfile is parsed, without
//! variable expansion, where only the CSV syntax and the `from` option are checked
//! ([`mount_from_unexpanded`]), and once at dispatch time with every value expanded, where all
//! options are typed and validated ([`parse_mount`]).

use super::goparse::{parse_bool, parse_u32, ram_in_bytes};
use super::suggest;
use crate::error::{Error, Result};

/// `type=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MountType {
    #[default]
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

impl std::fmt::Display for MountType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `sharing=` of a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sharing {
    #[default]
    Shared,
    Private,
    Locked,
}

impl Sharing {
    pub fn as_str(self) -> &'static str {
        match self {
            Sharing::Shared => "shared",
            Sharing::Private => "private",
            Sharing::Locked => "locked",
        }
    }
}

/// One typed `--mount`. String fields use `""` for "not given", exactly as the stock frontend
/// does (it never tells `source=` from no `source`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mount {
    pub kind: MountType,
    /// `from=`: stage name or image; `None` (or an empty value) means the build context (bind)
    /// or an empty dir (cache).
    pub from: Option<String>,
    /// `source=`/`src=`.
    pub source: String,
    /// `target=`/`dst=`/`destination=`. Relative targets are relative to the working dir.
    pub target: String,
    /// Effective read-only flag: `ro`/`readonly`/`rw`/`readwrite` when given, else true for
    /// bind/secret/ssh and false for cache/tmpfs.
    pub read_only: bool,
    /// `size=` of a tmpfs mount in bytes (0 = unlimited).
    pub size_limit: i64,
    /// `id=`: cache id, secret id or ssh id. For caches the default is the cleaned target
    /// (`path.Clean(target)`), for ssh `"default"`; the converter applies those.
    pub id: String,
    /// `sharing=` as written; `None` means the default, [`Sharing::Shared`].
    pub sharing: Option<Sharing>,
    /// `required` (secret and ssh only).
    pub required: bool,
    /// `env=` of a secret mount: expose the secret as this env variable. `Some("")` is possible.
    pub env: Option<String>,
    /// `mode=` (octal), `uid=`, `gid=` (cache, secret, ssh only).
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

impl Mount {
    /// The cache sharing mode to use (`Shared` unless given).
    pub fn sharing(&self) -> Sharing {
        self.sharing.unwrap_or_default()
    }
}

const MOUNT_TYPES: [&str; 5] = ["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING_MODES: [&str; 3] = ["shared", "private", "locked"];
const ALL_KEYS: [&str; 19] = [
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

/// Split one CSV record like `go-csvvalue` (standard CSV quoting, `,` separator).
pub(crate) fn csv_fields(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut line = line;
    if let Some(l) = line.strip_suffix('\n') {
        line = l.strip_suffix('\r').unwrap_or(l);
    }
    if line.is_empty() {
        return Err("EOF".to_string());
    }
    let err = |pos: usize, what: &str| format!("parse error on line 1, column {}: {what}", pos + 1);
    const BARE: &str = "bare \" in non-quoted-field";
    const QUOTE: &str = "extraneous or missing \" in quoted-field";
    let mut out: Vec<String> = Vec::new();
    let mut pos = 0usize;
    let mut rest = line;
    'field: loop {
        if !rest.starts_with('"') {
            let (field, more) = match rest.find(',') {
                Some(i) => (&rest[..i], Some(i)),
                None => (rest, None),
            };
            if let Some(j) = field.find('"') {
                return Err(err(pos + j, BARE));
            }
            out.push(field.to_string());
            match more {
                Some(i) => {
                    rest = &rest[i + 1..];
                    pos += i + 1;
                    continue;
                }
                None => break,
            }
        }
        // Quoted field.
        rest = &rest[1..];
        pos += 1;
        let mut half_open = false;
        loop {
            let Some(i) = rest.find('"') else {
                return Err(err(pos, QUOTE));
            };
            if half_open {
                out.last_mut().expect("field").push_str(&rest[..i]);
            } else {
                out.push(rest[..i].to_string());
            }
            rest = &rest[i + 1..];
            pos += i + 1;
            match rest.chars().next() {
                Some('"') => {
                    out.last_mut().expect("field").push('"');
                    rest = &rest[1..];
                    pos += 1;
                    half_open = true;
                }
                Some(',') => {
                    rest = &rest[1..];
                    pos += 1;
                    continue 'field;
                }
                None => break 'field,
                Some(_) => return Err(err(pos - 1, QUOTE)),
            }
        }
    }
    Ok(out)
}

/// The parse-time check of a `--mount` value (no expansion): the CSV must be valid and `from`
/// may not use variables. Returns the raw `from=` value (`None` when absent or empty), which the stock
/// frontend uses to find the stages a RUN depends on before anything is expanded.
pub fn mount_from_unexpanded(val: &str) -> std::result::Result<Option<String>, String> {
    let fields = csv_fields(val).map_err(|e| format!("failed to parse csv mounts: {e}"))?;
    let mut from = String::new();
    for field in fields {
        let Some((key, value)) = field.split_once('=') else {
            continue;
        };
        if key.to_lowercase() == "from" {
            if let Some(idx) = value.find('$') {
                if idx != value.len() - 1 {
                    return Err(
                        "'from' doesn't support variable expansion, define alias stage instead"
                            .into(),
                    );
                }
            }
            from = value.to_string();
        }
    }
    Ok((!from.is_empty()).then_some(from))
}

fn bad_value(key: &str, value: &str) -> String {
    format!("invalid value for {key}: {value}")
}

/// Parse and validate one `--mount` value, expanding every `key=value` value with `expand`
/// (pass `&mut |s| Ok(s.to_string())` to read it literally). Errors are the stock messages.
pub fn parse_mount(val: &str, expand: &mut dyn FnMut(&str) -> Result<String>) -> Result<Mount> {
    let fields =
        csv_fields(val).map_err(|e| Error::new(format!("failed to parse csv mounts: {e}")))?;
    let mut m = Mount::default();
    // `ro`/`rw` as written (the last one wins); `None`: the type's default.
    let mut read_only = None;
    for field in &fields {
        match field.split_once('=') {
            None => bare_key(&mut m, &mut read_only, &field.to_lowercase(), field)?,
            Some((key, value)) => {
                let key = key.to_lowercase();
                let value = expand(value)?;
                valued_key(&mut m, &mut read_only, &key, value, field)?;
            }
        }
    }
    validate(&m)?;
    m.read_only = read_only.unwrap_or(!matches!(m.kind, MountType::Cache | MountType::Tmpfs));
    Ok(m)
}

fn unexpected_for_type(key: &str, kind: MountType) -> Error {
    Error::new(format!("unexpected key '{key}' for mount type '{kind}'"))
}

/// A key without a value: `ro`/`readonly`, `rw`/`readwrite`, `required` (secret and ssh).
fn bare_key(m: &mut Mount, read_only: &mut Option<bool>, key: &str, field: &str) -> Result<()> {
    match key {
        "readonly" | "ro" => *read_only = Some(true),
        "readwrite" | "rw" => *read_only = Some(false),
        "required" => {
            if !matches!(m.kind, MountType::Secret | MountType::Ssh) {
                return Err(unexpected_for_type(key, m.kind));
            }
            m.required = true;
        }
        _ => {
            return Err(Error::new(format!(
                "invalid field '{field}' must be a key=value pair"
            )))
        }
    }
    Ok(())
}

/// A `key=value` option every mount type takes; the others go to [`typed_key`].
fn valued_key(
    m: &mut Mount,
    read_only: &mut Option<bool>,
    key: &str,
    value: String,
    field: &str,
) -> Result<()> {
    let boolean = |value: &str| parse_bool(value).ok_or_else(|| Error::new(bad_value(key, value)));
    match key {
        "type" => m.kind = mount_type(&value)?,
        "from" => m.from = (!value.is_empty()).then_some(value),
        "source" | "src" => m.source = value,
        "target" | "dst" | "destination" => m.target = value,
        "readonly" | "ro" => *read_only = Some(boolean(&value)?),
        "readwrite" | "rw" => *read_only = Some(!boolean(&value)?),
        "id" => m.id = value,
        _ => typed_key(m, key, value, field)?,
    }
    Ok(())
}

/// A `key=value` option for some mount types only: `required` (secret, ssh) and `size`
/// (tmpfs) are refused here for the others, `sharing` (cache) and `mode`/`uid`/`gid` (cache,
/// secret, ssh) in [`validate`], whatever the order of the keys; `env` (secret) is kept.
fn typed_key(m: &mut Mount, key: &str, value: String, field: &str) -> Result<()> {
    let number = |base: u32| {
        parse_u32(&value, base)
            .ok_or_else(|| Error::new(format!("invalid value {value} for {key}")))
    };
    match key {
        "required" => {
            if !matches!(m.kind, MountType::Secret | MountType::Ssh) {
                return Err(unexpected_for_type(key, m.kind));
            }
            m.required = parse_bool(&value).ok_or_else(|| Error::new(bad_value(key, &value)))?;
        }
        "size" => {
            if m.kind != MountType::Tmpfs {
                return Err(unexpected_for_type(key, m.kind));
            }
            m.size_limit = ram_in_bytes(&value).map_err(|_| Error::new(bad_value(key, &value)))?;
        }
        "sharing" => m.sharing = Some(sharing(&value)?),
        "mode" => m.mode = Some(number(8)?),
        "uid" => m.uid = Some(number(10)?),
        "gid" => m.gid = Some(number(10)?),
        "env" => m.env = Some(value),
        _ => {
            let msg = format!("unexpected key '{key}' in '{field}'");
            return Err(Error::new(suggest::wrap(msg, key, &ALL_KEYS, true)));
        }
    }
    Ok(())
}

/// `type=`.
fn mount_type(value: &str) -> Result<MountType> {
    Ok(match value.to_lowercase().as_str() {
        "bind" => MountType::Bind,
        "cache" => MountType::Cache,
        "tmpfs" => MountType::Tmpfs,
        "secret" => MountType::Secret,
        "ssh" => MountType::Ssh,
        _ => {
            let msg = format!("unsupported mount type {value:?}");
            return Err(Error::new(suggest::wrap(msg, value, &MOUNT_TYPES, true)));
        }
    })
}

/// `sharing=`.
fn sharing(value: &str) -> Result<Sharing> {
    Ok(match value.to_lowercase().as_str() {
        "shared" => Sharing::Shared,
        "private" => Sharing::Private,
        "locked" => Sharing::Locked,
        _ => {
            let msg = format!("unsupported sharing value {value:?}");
            return Err(Error::new(suggest::wrap(msg, value, &SHARING_MODES, true)));
        }
    })
}

/// The checks on the whole mount, once every key is read (in the stock frontend's order).
fn validate(m: &Mount) -> Result<()> {
    if !matches!(
        m.kind,
        MountType::Secret | MountType::Ssh | MountType::Cache
    ) {
        for (set, what) in [
            (m.mode.is_some(), "mode"),
            (m.uid.is_some(), "uid"),
            (m.gid.is_some(), "gid"),
        ] {
            if set {
                return Err(Error::new(format!(
                    "{what} not allowed for \"{}\" type mounts",
                    m.kind
                )));
            }
        }
    }
    if m.kind == MountType::Secret {
        validate_secret(m)?;
    }
    if m.sharing.is_some() && m.kind != MountType::Cache {
        return Err(Error::new(format!(
            "invalid cache sharing set for {} mount",
            m.kind
        )));
    }
    Ok(())
}

/// A secret mount names its secret (by source, target or id, not both source and id) and has
/// no `from` nor `sharing`.
fn validate_secret(m: &Mount) -> Result<()> {
    if m.from.is_some() {
        return Err(Error::new("secret mount should not have a from"));
    }
    if m.sharing.is_some() {
        return Err(Error::new("secret mount should not define sharing"));
    }
    if m.source.is_empty() && m.target.is_empty() && m.id.is_empty() {
        return Err(Error::new(
            "invalid secret mount. one of source, target required",
        ));
    }
    if !m.source.is_empty() && !m.id.is_empty() {
        return Err(Error::new("both source and id can't be set"));
    }
    Ok(())
}

/// `RUN --device=` (labs only in the stock frontend; the stable frontend rejects it when
/// dispatching with "device feature is only supported in Dockerfile frontend 1.14.0-labs or later").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Device {
    pub name: String,
    pub required: bool,
}

/// Parse one `--device` value like `ParseDevice`.
pub fn parse_device(val: &str) -> std::result::Result<Device, String> {
    let fields = csv_fields(val).map_err(|e| format!("failed to parse csv devices: {e}"))?;
    let mut d = Device::default();
    for field in &fields {
        let Some((key, value)) = field.split_once('=') else {
            if field.to_lowercase() == "required" {
                d.required = true;
            } else if d.name.is_empty() {
                d.name = field.clone();
            } else {
                return Err(format!("invalid field '{field}' must be a key=value pair"));
            }
            continue;
        };
        let key = key.to_lowercase();
        match key.as_str() {
            "name" => {
                if !d.name.is_empty() {
                    return Err(format!("device name already set to {}", d.name));
                }
                d.name = value.to_string();
            }
            "required" => d.required = parse_bool(value).ok_or_else(|| bad_value(&key, value))?,
            _ => {
                if d.name.is_empty() {
                    d.name = field.clone();
                    continue;
                }
                let msg = format!("unexpected key '{key}' in '{field}'");
                return Err(suggest::wrap(msg, &key, &["name", "required"], true));
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(v: &str) -> Result<Mount> {
        parse_mount(v, &mut |s| Ok(s.to_string()))
    }

    fn err(v: &str) -> String {
        lit(v).unwrap_err().message
    }

    #[test]
    fn csv() {
        assert_eq!(csv_fields("a,b=c,,d").unwrap(), vec!["a", "b=c", "", "d"]);
        assert_eq!(csv_fields("\"a,b\",c").unwrap(), vec!["a,b", "c"]);
        assert_eq!(csv_fields("\"a\"\"b\"").unwrap(), vec!["a\"b"]);
        assert_eq!(
            csv_fields("a,\"target=/x,y\"").unwrap(),
            vec!["a", "target=/x,y"]
        );
        assert_eq!(csv_fields("x\n").unwrap(), vec!["x"]);
        assert_eq!(csv_fields("a,").unwrap(), vec!["a", ""]);
        assert_eq!(csv_fields("").unwrap_err(), "EOF");
        assert_eq!(
            csv_fields("a\"b").unwrap_err(),
            "parse error on line 1, column 2: bare \" in non-quoted-field"
        );
        assert_eq!(
            csv_fields("\"ab\"c").unwrap_err(),
            "parse error on line 1, column 4: extraneous or missing \" in quoted-field"
        );
        assert!(csv_fields("\"abc").is_err());
    }

    #[test]
    fn defaults() {
        let m = lit("target=/src").unwrap();
        assert_eq!(
            (m.kind, m.read_only, m.target.as_str()),
            (MountType::Bind, true, "/src")
        );
        let m = lit("type=cache,target=/root/.cache").unwrap();
        assert_eq!(
            (m.kind, m.read_only, m.sharing()),
            (MountType::Cache, false, Sharing::Shared)
        );
        assert_eq!(m.sharing, None);
        let m = lit("type=tmpfs,dst=/t,size=64m").unwrap();
        assert_eq!((m.read_only, m.size_limit), (false, 64 << 20));
        let m = lit("type=secret,id=tok").unwrap();
        assert_eq!(
            (m.read_only, m.id.as_str(), m.env.clone()),
            (true, "tok", None)
        );
        let m = lit("type=ssh").unwrap();
        assert_eq!(
            (m.kind, m.read_only, m.id.as_str()),
            (MountType::Ssh, true, "")
        );
    }

    #[test]
    fn options() {
        let m = lit("type=cache,id=apt,target=/var/cache/apt,sharing=locked,mode=0755,uid=1000,gid=1000,from=base,source=/s").unwrap();
        assert_eq!(m.id, "apt");
        assert_eq!(m.sharing, Some(Sharing::Locked));
        assert_eq!(
            (m.mode, m.uid, m.gid),
            (Some(0o755), Some(1000), Some(1000))
        );
        assert_eq!((m.from.as_deref(), m.source.as_str()), (Some("base"), "/s"));
        assert!(lit("type=bind,rw").map(|m| !m.read_only).unwrap());
        assert!(lit("type=bind,readwrite=true")
            .map(|m| !m.read_only)
            .unwrap());
        assert!(lit("type=cache,ro").map(|m| m.read_only).unwrap());
        assert!(lit("type=cache,readonly=1").map(|m| m.read_only).unwrap());
        assert!(lit("type=cache,rw=false").map(|m| m.read_only).unwrap());
        assert!(lit("TYPE=SECRET,ID=x,Required")
            .map(|m| m.required)
            .unwrap());
        assert!(lit("type=ssh,required=true").map(|m| m.required).unwrap());
        assert_eq!(
            lit("type=secret,id=x,env=TOKEN").unwrap().env.as_deref(),
            Some("TOKEN")
        );
        assert_eq!(
            lit("type=secret,target=/t,destination=/u").unwrap().target,
            "/u"
        );
        assert_eq!(lit("type=bind,src=a,target=/b").unwrap().source, "a");
    }

    #[test]
    fn expansion() {
        let mut expand = |s: &str| Ok(s.replace("$ARCH", "amd64"));
        let m = parse_mount("type=cache,id=c-$ARCH,target=/c,ro", &mut expand).unwrap();
        assert_eq!(m.id, "c-amd64");
        let mut failing = |_: &str| -> Result<String> { Err(crate::error::Error::new("boom")) };
        assert_eq!(
            parse_mount("type=cache", &mut failing).unwrap_err().message,
            "boom"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(err("type=foo"), "unsupported mount type \"foo\"");
        assert_eq!(
            err("type=cach"),
            "unsupported mount type \"cach\" (did you mean cache?)"
        );
        assert_eq!(
            err("type=cache,sharing=lockd"),
            "unsupported sharing value \"lockd\" (did you mean locked?)"
        );
        assert_eq!(
            err("target=/x,foo=bar"),
            "unexpected key 'foo' in 'foo=bar' (did you mean from?)"
        );
        assert_eq!(
            err("target=/x,xyzzy=bar"),
            "unexpected key 'xyzzy' in 'xyzzy=bar'"
        );
        assert_eq!(
            err("target=/x,taget=/y"),
            "unexpected key 'taget' in 'taget=/y' (did you mean target?)"
        );
        assert_eq!(
            err("target=/x,bogus"),
            "invalid field 'bogus' must be a key=value pair"
        );
        assert_eq!(
            err("type=bind,required"),
            "unexpected key 'required' for mount type 'bind'"
        );
        assert_eq!(
            err("type=cache,required=true"),
            "unexpected key 'required' for mount type 'cache'"
        );
        assert_eq!(
            err("type=cache,size=1m"),
            "unexpected key 'size' for mount type 'cache'"
        );
        assert_eq!(err("type=tmpfs,size=lots"), "invalid value for size: lots");
        assert_eq!(err("ro=maybe"), "invalid value for ro: maybe");
        assert_eq!(err("type=cache,mode=999"), "invalid value 999 for mode");
        assert_eq!(err("type=cache,uid=-1"), "invalid value -1 for uid");
        assert_eq!(err("type=cache,gid=x"), "invalid value x for gid");
        assert_eq!(
            err("type=bind,mode=0700"),
            "mode not allowed for \"bind\" type mounts"
        );
        assert_eq!(
            err("type=tmpfs,uid=1"),
            "uid not allowed for \"tmpfs\" type mounts"
        );
        assert_eq!(
            err("type=secret,id=a,from=b"),
            "secret mount should not have a from"
        );
        assert_eq!(
            err("type=secret,id=a,sharing=shared"),
            "secret mount should not define sharing"
        );
        assert_eq!(
            err("type=secret"),
            "invalid secret mount. one of source, target required"
        );
        assert_eq!(
            err("type=secret,id=a,source=b"),
            "both source and id can't be set"
        );
        assert_eq!(
            err("type=bind,sharing=private"),
            "invalid cache sharing set for bind mount"
        );
        assert_eq!(err(""), "failed to parse csv mounts: EOF");
        // `required` before `type=secret` is checked against the type known so far.
        assert_eq!(
            err("required,type=secret,id=a"),
            "unexpected key 'required' for mount type 'bind'"
        );
    }

    #[test]
    fn unexpanded() {
        assert_eq!(
            mount_from_unexpanded("type=cache,from=base,target=/x")
                .unwrap()
                .as_deref(),
            Some("base")
        );
        assert_eq!(mount_from_unexpanded("type=bind,target=/x").unwrap(), None);
        assert_eq!(
            mount_from_unexpanded("from=ab$").unwrap().as_deref(),
            Some("ab$")
        );
        assert_eq!(
            mount_from_unexpanded("from=$STAGE").unwrap_err(),
            "'from' doesn't support variable expansion, define alias stage instead"
        );
        // Other options are not looked at yet.
        assert!(mount_from_unexpanded("type=nonsense,foo=$X,bar").is_ok());
    }

    #[test]
    fn devices() {
        assert_eq!(
            parse_device("nvidia.com/gpu=all").unwrap().name,
            "nvidia.com/gpu=all"
        );
        let d = parse_device("name=vendor.com/dev,required").unwrap();
        assert_eq!((d.name.as_str(), d.required), ("vendor.com/dev", true));
        assert_eq!(
            parse_device("a,b").unwrap_err(),
            "invalid field 'b' must be a key=value pair"
        );
        assert_eq!(
            parse_device("a,name=b").unwrap_err(),
            "device name already set to a"
        );
    }
}
