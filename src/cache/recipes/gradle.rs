//! Gradle (and the Gradle wrapper): `$GRADLE_USER_HOME/caches` (dependency jars, transforms,
//! build cache) and `wrapper/dists` (downloaded distributions), notes §4.22. Not all of
//! `GRADLE_USER_HOME`: `gradle.properties` and `init.d/` belong to the image, and `jdks/`
//! (auto-provisioned toolchains) is an installation.
//!
//! The official gradle image makes `/root/.gradle` a symlink to `/home/gradle/.gradle`; the
//! mount target is resolved inside the rootfs, so it lands on the real directory.

use crate::cache::recipe::{CacheDir, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "gradle",
    about: "Gradle caches/ and wrapper/dists under GRADLE_USER_HOME",
    triggers: &[Trigger {
        // `./gradlew` has the basename `gradlew`.
        programs: &["gradle", "gradlew"],
        python_module: None,
        prefix: &[],
        subcommands: &[],
        options_with_value: &[],
    }],
    caches: &[
        CacheDir {
            kind: "caches",
            location: Location::UnderEnv { var: "GRADLE_USER_HOME", default: "~/.gradle", sub: "caches" },
            // Gradle's cross-process lock hand-off pings the holder over loopback UDP, which
            // does not reach another container (gradle/gradle#8375).
            sharing: Sharing::Locked,
            // Mostly jars; the notes recommend the platform only for `native/` and `jdks/`,
            // which are not mounted.
            scope: Scope::USER,
            only_for: &[],
        },
        CacheDir {
            kind: "wrapper",
            location: Location::UnderEnv { var: "GRADLE_USER_HOME", default: "~/.gradle", sub: "wrapper/dists" },
            sharing: Sharing::Locked,
            scope: Scope::USER,
            only_for: &[],
        },
    ],
    tmpfs: &[],
    // The daemon dies with the step's container; `--no-daemon` would not change the image.
    env: &[],
    files: &[],
    shims: &[],
    flag_edits: &[],
    defeaters: &[],
    root_only: false,
}];

#[cfg(test)]
mod tests {
    use super::super::cargo::testkit::{cache, check};
    use super::*;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        for kind in ["caches", "wrapper"] {
            let c = cache(&RECIPES[0], kind);
            assert!(!c.scope.platform && c.sharing == Sharing::Locked);
            assert!(matches!(c.location, Location::UnderEnv { var: "GRADLE_USER_HOME", default: "~/.gradle", .. }));
        }
    }
}
