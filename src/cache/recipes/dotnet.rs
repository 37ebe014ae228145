//! .NET / NuGet: the global packages folder (notes §4.26). Store-is-runtime: `dotnet publish
//! --no-restore` in a later RUN reads the packages a `dotnet restore` RUN put there (the assets
//! file records the folder's path), so every dotnet RUN gets the same mount at the same path.
//! The HTTP cache (30-minute expiry) is not worth a mount.

use crate::cache::recipe::{CacheDir, Defeater, Location, Recipe, Scope, Trigger};
use crate::instructions::Sharing;

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "dotnet",
    about: "NuGet global packages folder (NUGET_PACKAGES)",
    triggers: &[
        Trigger {
            programs: &["dotnet"],
            subcommands: &[
                "restore", "build", "publish", "test", "pack", "run", "tool", "add", "msbuild",
                "workload", "new",
            ],
            ..Trigger::NONE
        },
        Trigger {
            programs: &["nuget", "nuget.exe"],
            subcommands: &["restore", "install"],
            ..Trigger::NONE
        },
        // `msbuild /t:restore`, `msbuild -restore`: any invocation.
        Trigger {
            programs: &["msbuild"],
            ..Trigger::NONE
        },
    ],
    caches: &[CacheDir {
        kind: "packages",
        // "The environment variable takes precedence over the configuration setting."
        location: Location::Redirect {
            var: "NUGET_PACKAGES",
            path: "/var/cache/hoard/nuget/packages",
        },
        // NuGet's cross-process locks live outside the folder (a temp `locks` dir), so two
        // containers do not see each other's locks.
        sharing: Sharing::Locked,
        // RID-specific runtime packs are separate packages: arch-neutral.
        scope: Scope::USER,
        ..CacheDir::NONE
    }],
    defeaters: &[
        Defeater::Command {
            program: "dotnet",
            args: &["nuget", "locals", "--clear"],
        },
        Defeater::Command {
            program: "dotnet",
            args: &["nuget", "locals", "-c"],
        },
    ],
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
        let c = cache(&RECIPES[0], "packages");
        assert!(!c.scope.platform && c.sharing == Sharing::Locked);
    }

    #[test]
    fn spellings() {
        for cmd in [
            "dotnet restore",
            "dotnet publish -c Release -o /app",
            "dotnet build --no-restore",
            "dotnet test",
            "dotnet tool install -g dotnet-ef",
            "nuget restore App.sln",
            "msbuild /t:restore",
        ] {
            assert!(detected(&plan_shell(cmd), "dotnet"), "{cmd}");
        }
        for cmd in ["dotnet --info", "dotnet App.dll"] {
            assert!(!detected(&plan_shell(cmd), "dotnet"), "{cmd}");
        }
    }

    #[test]
    fn plans_the_packages_folder() {
        let p = plan_shell("dotnet restore && dotnet publish -c Release -o /app --no-restore");
        assert_eq!(
            mount_at(&p, "/var/cache/hoard/nuget/packages"),
            ("hoard/dotnet/packages".into(), Sharing::Locked)
        );
        assert_eq!(
            set(&p, "NUGET_PACKAGES").as_deref(),
            Some("/var/cache/hoard/nuget/packages")
        );
        // .NET images' app user.
        let p = plan_shell_with("dotnet restore", &[], 1654, "/home/app");
        assert_eq!(mounts(&p, "dotnet")[0].1, "hoard/dotnet/packages/u1654");
    }
}
