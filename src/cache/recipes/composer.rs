//! Composer: the download cache (`files/`, `repo/`, `vcs/`), notes §4.25. `vendor/` is the
//! product and stays in the image.

use crate::cache::recipe::{CacheDir, Defeater, FlagEdit, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

const INSTALLS: &[&str] = &[
    "install",
    "i",
    "update",
    "u",
    "upgrade",
    "require",
    "r",
    "create-project",
    "reinstall",
    "global",
];
const COMPOSER_OPTS: &[&str] = &["--working-dir", "-d"];

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "composer",
    about: "Composer cache (COMPOSER_CACHE_DIR); vendor/ stays in the image",
    triggers: &[
        Trigger {
            programs: &["composer", "composer.phar"],
            subcommands: INSTALLS,
            options_with_value: COMPOSER_OPTS,
            ..Trigger::NONE
        },
        // `php composer.phar install`, `php8.2 composer.phar install`.
        Trigger {
            programs: &["php*"],
            prefix: &["composer.phar"],
            subcommands: INSTALLS,
            options_with_value: COMPOSER_OPTS,
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "cache",
        // The composer image sets COMPOSER_HOME=/tmp; php images with a copied composer fall back
        // to ~/.composer/cache or ~/.cache/composer. The variable beats all of them. A user's
        // `COMPOSER_CACHE_DIR=/dev/null` (a known way to disable the cache) is left alone: the
        // planner never mounts on /dev, /proc or /sys.
        location: Location::Redirect {
            var: "COMPOSER_CACHE_DIR",
            path: "/var/cache/hoard/composer",
        },
        // Writes are tmp+rename, but `vcs/` mirrors are updated in place (notes §7.6).
        sharing: Sharing::Locked,
        scope: Scope::USER,
        ..CacheDir::NONE
    }],
    // The user's intent (no cache in the image) is what the mount already gives.
    flag_edits: &[FlagEdit {
        flag: "--no-cache",
        replace: None,
    }],
    defeaters: &[
        Defeater::Command {
            program: "composer",
            args: &["clear-cache"],
        },
        Defeater::Command {
            program: "composer",
            args: &["clearcache"],
        },
        Defeater::Command {
            program: "composer",
            args: &["cc"],
        },
    ],
    ..Recipe::NONE
}];

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::cache::planner::plan_shell;

    #[test]
    fn data_invariants() {
        check(RECIPES);
        let c = cache(&RECIPES[0], "cache");
        assert!(!c.scope.platform && c.sharing == Sharing::Locked);
    }

    #[test]
    fn spellings() {
        for cmd in [
            "composer install --no-dev --optimize-autoloader",
            "composer.phar install",
            "php composer.phar install",
            "composer --working-dir=/app install",
            "composer require monolog/monolog",
            "composer global require laravel/installer",
        ] {
            assert!(detected(&plan_shell(cmd), "composer"), "{cmd}");
        }
        for cmd in [
            "composer dump-autoload",
            "php artisan migrate",
            "composer --version",
        ] {
            assert!(!detected(&plan_shell(cmd), "composer"), "{cmd}");
        }
    }

    #[test]
    fn plans_the_cache_and_drops_no_cache() {
        let p = plan_shell("composer install --no-dev --no-cache");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/composer"),
            ("hoard/composer/cache".into(), Sharing::Locked)
        );
        assert_eq!(
            set(&p, "COMPOSER_CACHE_DIR").as_deref(),
            Some("/var/cache/hoard/composer")
        );
        assert_eq!(p.script.as_deref(), Some("composer install --no-dev"));
    }
}
