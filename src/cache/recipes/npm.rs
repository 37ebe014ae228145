//! npm (and npx): the content-addressed cache `~/.npm/_cacache` (notes §4.16). Never
//! `node_modules`, which is the product.

use crate::cache::recipe::{Aging, CacheDir, Defeater, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

/// npm subcommands (and their aliases) that download packages.
const INSTALLS: &[&str] = &[
    "ci",
    "clean-install",
    "install-clean",
    "isntall-clean",
    "install",
    "i",
    "in",
    "ins",
    "inst",
    "insta",
    "instal",
    "isnt",
    "isnta",
    "isntal",
    "isntall",
    "add",
    "update",
    "up",
    "upgrade",
    "udpate",
    "rebuild",
    "rb",
    "exec",
    "x",
    "install-test",
    "it",
    "install-ci-test",
    "cit",
    "dedupe",
    "ddp",
    "pack",
    "audit",
];
/// npm options that take a separate value before the subcommand (`npm --prefix /app ci`).
const NPM_OPTS: &[&str] = &[
    "--prefix",
    "-C",
    "--workspace",
    "-w",
    "--loglevel",
    "--registry",
    "--userconfig",
    "--cache",
    "--location",
];

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "npm",
    about: "npm cache (npm_config_cache); node_modules stays in the image",
    triggers: &[
        // `node .../npm/bin/npm-cli.js install` (an interpreter running npm's script) as well.
        Trigger {
            programs: &["npm", "npm-cli.js"],
            subcommands: INSTALLS,
            options_with_value: NPM_OPTS,
            ..Trigger::NONE
        },
        // npx downloads into the cache's `_npx/` and runs from there.
        Trigger {
            programs: &["npx"],
            ..Trigger::NONE
        },
        Trigger {
            programs: &["corepack"],
            prefix: &["npm@*"],
            subcommands: INSTALLS,
            options_with_value: NPM_OPTS,
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "cache",
        // npm reads npm_config_* case-insensitively; a user's upper-case NPM_CONFIG_CACHE is not
        // seen by the planner's Redirect (open question in the report).
        location: Location::Redirect {
            var: "npm_config_cache",
            path: "/var/cache/hoard/npm",
        },
        // cacache is content-addressed, verified on read and write, and "self-healing".
        sharing: Sharing::Shared,
        // Tarballs: arch-neutral.
        scope: Scope::USER,
        aging: Aging::Files,
        ..CacheDir::NONE
    }],
    defeaters: &[Defeater::Command {
        program: "npm",
        args: &["cache", "clean"],
    }],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::{plan_shell, plan_shell_with};

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert!(!c.scope.platform && c.sharing == Sharing::Shared);
    }

    #[test]
    fn spellings() {
        for cmd in [
            "npm ci",
            "npm install",
            "npm i --omit=dev",
            "npm --prefix /app ci",
            "npx -y create-react-app x",
            "corepack npm install",
            "corepack npm@10 ci",
            "npm install -g serve",
        ] {
            assert!(detected(&plan_shell(cmd), "npm"), "{cmd}");
        }
        for cmd in [
            "npm run build",
            "npm start",
            "npm --version",
            "node index.js",
        ] {
            assert!(!detected(&plan_shell(cmd), "npm"), "{cmd}");
        }
    }

    #[test]
    fn plans_the_cache_not_node_modules() {
        let p = plan_shell("npm ci && npm run build");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/npm"),
            ("hoard/npm/cache".into(), Sharing::Shared)
        );
        assert_eq!(
            set(&p, "npm_config_cache").as_deref(),
            Some("/var/cache/hoard/npm")
        );
        assert!(p.mounts.iter().all(|m| !m.target.contains("node_modules")));
        let p = plan_shell_with("npm ci", &[], 1000, "/home/node");
        assert_eq!(mounts(&p, "npm")[0].1, "hoard/npm/cache/u1000");
        let p = plan_shell("npm ci && npm cache clean --force");
        assert!(
            p.notes.iter().any(|n| n.contains("npm cache clean")),
            "{:?}",
            p.notes
        );
    }
}
