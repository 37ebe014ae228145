//! Capability sets from `Ping`: the gateway (frontend API) caps and the LLB caps.
//!
//! A cap is usable iff Ping lists it with `Enabled = true` (BuildKit `apicaps.CapSet.Supports`).
//! Old daemons may send no list at all; then the frozen defaults of BuildKit's Go client apply.
//! Only caps from these sets may be declared in `OpMetadata.caps`: the daemon rejects unknown
//! ones, and only at export time.

use std::collections::BTreeSet;

/// Gateway (frontend API) cap IDs this frontend looks at.
pub mod gw {
    pub const SOLVE_BASE: &str = "solve.base";
    pub const SOLVE_INLINE_RETURN: &str = "solve.inlinereturn";
    pub const RESOLVE_IMAGE: &str = "resolveimage";
    pub const RESOLVE_IMAGE_RESOLVE_MODE: &str = "resolveimage.resolvemode";
    pub const READ_FILE: &str = "readfile";
    pub const READ_DIR: &str = "readdir";
    pub const STAT_FILE: &str = "statfile";
    pub const RETURN_RESULT: &str = "return";
    pub const RETURN_MAP: &str = "returnmap";
    pub const PROTO_REF_ARRAY: &str = "proto.refarray";
    pub const FRONTEND_CAPS: &str = "frontend.caps";
    pub const FRONTEND_INPUTS: &str = "frontend.inputs";
    pub const GATEWAY_EVALUATE: &str = "gateway.evaluate";
    pub const GATEWAY_SOLVE_EVALUATE: &str = "gateway.solve.evaluate";
    pub const GATEWAY_WARNINGS: &str = "gateway.warnings";
    pub const SOURCE_META_RESOLVER: &str = "source.metaresolver";
    pub const REFERENCE_ATTESTATIONS: &str = "reference.attestations";
}

/// LLB cap IDs used by the gateway itself (the converter checks its own).
pub mod llb {
    pub const FILE_BASE: &str = "file.base";
    pub const SOURCE_LOCAL: &str = "source.local";
    pub const SOURCE_LOCAL_UNIQUE: &str = "source.local.unique";
    pub const SOURCE_LOCAL_SESSION_ID: &str = "source.local.sessionid";
    pub const SOURCE_LOCAL_INCLUDE_PATTERNS: &str = "source.local.includepatterns";
    pub const SOURCE_LOCAL_FOLLOW_PATHS: &str = "source.local.followpaths";
    pub const SOURCE_LOCAL_SHARED_KEY_HINT: &str = "source.local.sharedkeyhint";
    pub const SOURCE_LOCAL_DIFFER: &str = "source.local.differ";
    pub const CONSTRAINTS: &str = "constraints";
    pub const PLATFORM: &str = "platform";
    pub const META_DESCRIPTION: &str = "meta.description";
}

/// The gateway caps an old daemon that sends no list is assumed to have (frozen in BuildKit's
/// `grpcclient.defaultCaps`).
pub const DEFAULT_GATEWAY_CAPS: &[&str] = &[
    gw::SOLVE_BASE,
    gw::SOLVE_INLINE_RETURN,
    gw::RESOLVE_IMAGE,
    gw::READ_FILE,
];

/// The LLB caps assumed when the daemon sends no list (frozen in `grpcclient.defaultLLBCaps`).
pub const DEFAULT_LLB_CAPS: &[&str] = &[
    "source.image",
    "source.local",
    "source.local.unique",
    "source.local.sessionid",
    "source.local.includepatterns",
    "source.local.followpaths",
    "source.local.excludepatterns",
    "source.local.sharedkeyhint",
    "source.git",
    "source.git.keepgitdir",
    "source.git.fullurl",
    "source.http",
    "source.http.checksum",
    "source.http.perm",
    // sic: BuildKit's real cap ID has this typo
    "soruce.http.uidgid",
    "source.buildop.llbfilename",
    "exec.meta.base",
    "exec.meta.proxyenv",
    "exec.mount.bind",
    "exec.mount.cache",
    "exec.mount.cache.sharing",
    "exec.mount.selector",
    "exec.mount.tmpfs",
    "exec.mount.secret",
    "constraints",
    "platform",
    "meta.ignorecache",
    "meta.description",
    "meta.exportcache",
];

/// Gateway caps without which this frontend cannot work at all.
pub const REQUIRED_GATEWAY_CAPS: &[&str] = &[
    gw::SOLVE_BASE,
    gw::RESOLVE_IMAGE,
    gw::READ_FILE,
    gw::RETURN_RESULT,
];

/// LLB caps without which this frontend cannot work at all.
pub const REQUIRED_LLB_CAPS: &[&str] = &[llb::FILE_BASE, llb::SOURCE_LOCAL];

/// A set of enabled cap IDs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapSet {
    enabled: BTreeSet<String>,
}

impl CapSet {
    /// Build from Ping's `(id, enabled)` list. An empty list (the wire cannot tell it from an
    /// absent one; Go sees `nil`) means the daemon predates caps: use `defaults`.
    pub fn from_ping<I, S>(list: I, defaults: &[&str]) -> CapSet
    where
        I: IntoIterator<Item = (S, bool)>,
        S: Into<String>,
    {
        let mut any = false;
        let enabled = list
            .into_iter()
            .inspect(|_| any = true)
            .filter(|(_, en)| *en)
            .map(|(id, _)| id.into())
            .collect();
        if any {
            CapSet { enabled }
        } else {
            CapSet::from_ids(defaults.iter().copied())
        }
    }

    pub fn from_ids<I, S>(ids: I) -> CapSet
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        CapSet {
            enabled: ids.into_iter().map(Into::into).collect(),
        }
    }

    pub fn supports(&self, id: &str) -> bool {
        self.enabled.contains(id)
    }

    pub fn ids(&self) -> &BTreeSet<String> {
        &self.enabled
    }

    pub fn into_ids(self) -> BTreeSet<String> {
        self.enabled
    }

    pub fn len(&self) -> usize {
        self.enabled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.enabled.is_empty()
    }

    /// The first of `required` that is not supported.
    pub fn first_missing<'a>(&self, required: &[&'a str]) -> Option<&'a str> {
        required.iter().copied().find(|c| !self.supports(c))
    }
}

/// Both cap sets from Ping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    pub gateway: CapSet,
    pub llb: CapSet,
}

impl Caps {
    /// Refuse to run on a daemon that lacks a cap we cannot do without; the message names it.
    pub fn check_required(&self) -> Result<(), crate::error::Error> {
        if let Some(c) = self.gateway.first_missing(REQUIRED_GATEWAY_CAPS) {
            return Err(crate::error::Error::new(format!(
                "hoard needs the BuildKit gateway capability {c:?}, which this daemon does not \
                 support; upgrade BuildKit (Docker Engine)"
            )));
        }
        if let Some(c) = self.llb.first_missing(REQUIRED_LLB_CAPS) {
            return Err(crate::error::Error::new(format!(
                "hoard needs the BuildKit LLB capability {c:?}, which this daemon does not \
                 support; needs BuildKit 0.5 or later"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enabled_caps_count() {
        let s = CapSet::from_ping(
            vec![
                ("mergeop", false),
                ("exec.meta.cdi", true),
                ("diffop", false),
            ],
            DEFAULT_LLB_CAPS,
        );
        assert!(s.supports("exec.meta.cdi"));
        assert!(!s.supports("mergeop"));
        assert!(!s.supports("diffop"));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn missing_list_means_frozen_defaults() {
        let g = CapSet::from_ping(Vec::<(String, bool)>::new(), DEFAULT_GATEWAY_CAPS);
        assert_eq!(
            g.ids().iter().map(String::as_str).collect::<Vec<_>>(),
            [
                "readfile",
                "resolveimage",
                "solve.base",
                "solve.inlinereturn"
            ]
        );
        let l = CapSet::from_ping(Vec::<(String, bool)>::new(), DEFAULT_LLB_CAPS);
        assert_eq!(l.len(), DEFAULT_LLB_CAPS.len());
        assert!(l.supports("source.local"));
        assert!(l.supports("soruce.http.uidgid"));
        assert!(!l.supports("file.base"));
        assert!(!l.supports("mergeop"));
    }

    #[test]
    fn all_disabled_list_is_not_defaults() {
        let g = CapSet::from_ping(vec![("solve.base", false)], DEFAULT_GATEWAY_CAPS);
        assert!(g.is_empty());
    }

    #[test]
    fn required_caps_are_named_when_missing() {
        let full = Caps {
            gateway: CapSet::from_ids(REQUIRED_GATEWAY_CAPS.iter().copied()),
            llb: CapSet::from_ids(REQUIRED_LLB_CAPS.iter().copied()),
        };
        assert!(full.check_required().is_ok());

        // An old daemon with the frozen defaults lacks `return` and `file.base`.
        let old = Caps {
            gateway: CapSet::from_ids(DEFAULT_GATEWAY_CAPS.iter().copied()),
            llb: CapSet::from_ids(DEFAULT_LLB_CAPS.iter().copied()),
        };
        let e = old.check_required().unwrap_err();
        assert!(e.message.contains("\"return\""), "{}", e.message);

        let no_file = Caps {
            gateway: full.gateway.clone(),
            llb: CapSet::from_ids(["source.local"]),
        };
        let e = no_file.check_required().unwrap_err();
        assert!(e.message.contains("\"file.base\""), "{}", e.message);
    }
}
