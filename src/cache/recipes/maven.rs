//! Maven (and the Maven wrapper): the local repository `~/.m2/repository` (notes §4.21). Not
//! all of `~/.m2`: `settings.xml` and credentials live there and belong to the image.
//!
//! There is no environment variable for the repository (only `-Dmaven.repo.local` via
//! MAVEN_OPTS/MAVEN_ARGS, which users set themselves), so the mount follows the user's home.
//! Store-is-runtime: every `mvn` RUN gets the same mount (`go-offline` then `package -o`); a
//! single-stage image that runs `mvn` at container start no longer carries the repository.

use crate::cache::recipe::{CacheDir, Defeater, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "maven",
    about: "Maven local repository (~/.m2/repository) and wrapper distributions",
    triggers: &[Trigger {
        // `./mvnw` has the basename `mvnw`.
        programs: &["mvn", "mvnw", "mvnd"],
        ..Trigger::NONE
    }],
    caches: &[
        CacheDir {
            kind: "repository",
            location: Location::Home(".m2/repository"),
            // Maven 3.9's default named lock is JVM-local (rwlock-local); cross-container use
            // needs `locked` unless the user opted into the file-lock factory.
            sharing: Sharing::Locked,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
        CacheDir {
            kind: "wrapper",
            // Where `./mvnw` unpacks the Maven distribution it downloads.
            location: Location::Home(".m2/wrapper"),
            sharing: Sharing::Locked,
            scope: Scope::USER,
            ..CacheDir::NONE
        },
    ],
    defeaters: &[Defeater::Command {
        program: "mvn",
        args: &["dependency:purge-local-repository"],
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
        for kind in ["repository", "wrapper"] {
            let c = cache(&RECIPES[0], kind);
            assert!(!c.scope.platform && c.sharing == Sharing::Locked);
        }
        // Never ~/.m2 itself.
        assert!(RECIPES[0]
            .caches
            .iter()
            .all(|c| !matches!(c.location, Location::Home(".m2"))));
    }

    #[test]
    fn spellings() {
        for cmd in [
            "mvn -B package -DskipTests",
            "./mvnw dependency:go-offline",
            "mvn -f pom.xml clean install",
            "/usr/share/maven/bin/mvn verify",
        ] {
            assert!(detected(&plan_shell(cmd), "maven"), "{cmd}");
        }
        assert!(!detected(&plan_shell("java -jar app.jar"), "maven"));
    }

    #[test]
    fn plans_repository_and_wrapper() {
        let p = plan_shell("./mvnw -B package");
        assert_eq!(
            mount_at(&p, "/root/.m2/repository"),
            ("hoard/maven/repository".into(), Sharing::Locked)
        );
        assert_eq!(mount_at(&p, "/root/.m2/wrapper").0, "hoard/maven/wrapper");
        assert!(p.mounts.iter().all(|m| m.target != "/root/.m2"));
        let p = plan_shell_with("mvn package", &[], 1001, "/home/app");
        assert_eq!(
            mount_at(&p, "/home/app/.m2/repository").0,
            "hoard/maven/repository/u1001"
        );
    }
}
