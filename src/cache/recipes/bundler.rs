//! Bundler: the global gem cache, which holds downloaded `.gem` files *and compiled native
//! extensions* (notes §4.24, option 1). Installed gems (`GEM_HOME`, `BUNDLE_PATH`, `vendor/bundle`)
//! are the product and stay in the image.
//!
//! `gem install` is not covered: RubyGems ignores the BUNDLE_* settings and downloads into
//! `$GEM_HOME/cache`, whose default location depends on the Ruby version; open question.

use crate::cache::recipe::{CacheDir, Defeater, EnvTweak, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "bundler",
    about: "Bundler global gem cache with compiled extensions (BUNDLE_USER_CACHE), per platform and base image",
    triggers: &[Trigger {
        programs: &["bundle", "bundler"],
        subcommands: &["install", "update", "package", "pack", "cache", "lock"],
        options_with_value: &["--gemfile"],
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "gems",
        location: Location::Redirect { var: "BUNDLE_USER_CACHE", path: "/var/cache/hoard/bundler" },
        sharing: Sharing::Locked,
        // Compiled extensions depend on the CPU, the libc and the Ruby ABI: platform plus base
        // image (which pins the Ruby version and distro).
        scope: Scope { platform: true, distro: true, user: true },
        ..CacheDir::NONE
    }],
    // Without this the global cache is not used and gems are cached only in the install path.
    env: &[EnvTweak::Set("BUNDLE_GLOBAL_GEM_CACHE", "true")],
    defeaters: &[Defeater::Command { program: "bundle", args: &["clean", "--force"] }],
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
        let c = cache(&RECIPES[0], "gems");
        assert!(c.scope.platform && c.scope.distro && c.sharing == Sharing::Locked);
    }

    #[test]
    fn spellings() {
        for cmd in [
            "bundle install",
            "bundle install --jobs 4 --retry 3",
            "bundle config set without development && bundle install",
            "bundle update",
        ] {
            assert!(detected(&plan_shell(cmd), "bundler"), "{cmd}");
        }
        for cmd in [
            "bundle exec rails assets:precompile",
            "bundle config set deployment true",
        ] {
            assert!(!detected(&plan_shell(cmd), "bundler"), "{cmd}");
        }
    }

    #[test]
    fn plans_a_platform_and_base_scoped_cache() {
        let p = plan_shell("bundle install");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/bundler"),
            (
                "hoard/bundler/gems/linux-amd64/debian-bookworm".into(),
                Sharing::Locked
            )
        );
        assert_eq!(
            set(&p, "BUNDLE_USER_CACHE").as_deref(),
            Some("/var/cache/hoard/bundler")
        );
        assert_eq!(set(&p, "BUNDLE_GLOBAL_GEM_CACHE").as_deref(), Some("true"));
    }
}
