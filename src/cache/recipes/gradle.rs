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
        ..Trigger::NONE
    }],
    caches: &[
        CacheDir {
            kind: "caches",
            location: Location::UnderEnv {
                var: "GRADLE_USER_HOME",
                default: "~/.gradle",
                sub: "caches",
            },
            // Gradle's cross-process lock hand-off pings the holder over loopback UDP, which
            // does not reach another container (gradle/gradle#8375).
            sharing: Sharing::Locked,
            // Mostly jars; the notes recommend the platform only for `native/` and `jdks/`,
            // which are not mounted.
            scope: Scope::USER,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "wrapper",
            location: Location::UnderEnv {
                var: "GRADLE_USER_HOME",
                default: "~/.gradle",
                sub: "wrapper/dists",
            },
            sharing: Sharing::Locked,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
    ],
    // The daemon dies with the step's container; `--no-daemon` would not change the image.
    env: &[],
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
        for kind in ["caches", "wrapper"] {
            let c = cache(&RECIPES[0], kind);
            assert!(!c.scope.platform && c.sharing == Sharing::Locked);
            assert!(matches!(
                c.location,
                Location::UnderEnv {
                    var: "GRADLE_USER_HOME",
                    default: "~/.gradle",
                    ..
                }
            ));
        }
    }

    #[test]
    fn spellings() {
        for cmd in [
            "./gradlew build --no-daemon",
            "gradle bootJar",
            "./gradlew -q dependencies",
            "chmod +x gradlew && ./gradlew build",
        ] {
            assert!(detected(&plan_shell(cmd), "gradle"), "{cmd}");
        }
        assert!(!detected(
            &plan_shell("java -jar build/libs/app.jar"),
            "gradle"
        ));
    }

    #[test]
    fn plans_caches_and_wrapper() {
        let p = plan_shell("./gradlew build --no-daemon");
        assert_eq!(
            mount_at(&p, "/root/.gradle/caches"),
            ("hoard/gradle/caches".into(), Sharing::Locked)
        );
        assert_eq!(
            mount_at(&p, "/root/.gradle/wrapper/dists").0,
            "hoard/gradle/wrapper"
        );
        let p = plan_shell_with(
            "gradle build",
            &[("GRADLE_USER_HOME", "/home/gradle/.gradle")],
            1000,
            "/home/gradle",
        );
        assert_eq!(
            mount_at(&p, "/home/gradle/.gradle/caches").0,
            "hoard/gradle/caches/u1000"
        );
    }
}
