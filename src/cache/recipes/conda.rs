//! conda, mamba, micromamba. Notes §4.6.
//!
//! Design:
//! - `CONDA_PKGS_DIRS` redirected to `/var/cache/hoard/conda/pkgs` (tarballs, extracted
//!   packages, repodata cache); conda and micromamba both read it (libmamba `pkgs_dirs`
//!   `set_env_var_names({"CONDA_PKGS_DIRS"})`). Mounted with the step user's uid/gid, which
//!   covers the micromamba image's `mambauser` (uid/gid 57439) without special-casing. Linking
//!   into envs falls back to copying across the mount (EXDEV), as conda does on Docker anyway.
//! - `conda clean -a` in the same step (very common) would empty the cache and, unlike without
//!   hoard, leave the image's `<prefix>/pkgs` untouched. PATH shims run `clean` with
//!   `CONDA_PKGS_DIRS` unset when it is hoard's value, so it cleans the image's package cache
//!   exactly as without hoard and the mount survives. micromamba is usually a shell function
//!   calling `$MAMBA_EXE` (the image's `_dockerfile_shell.sh`), which bypasses the shim: its
//!   `clean` stays a reported defeater.
//! - Sharing `locked`: conda's locking is not reliable across processes (conda/conda#5997,
//!   #13037, #13055; mamba-org/mamba#1104).
//! - Scope: platform and uid, not the base image: packages come prebuilt from channels and are
//!   self-contained, but extracted dirs are named `name-version-build` with no subdir, so
//!   linux-64 and linux-aarch64 must not share.
//! - Known difference from stock: `conda-meta/*.json` records name the package cache path
//!   (`extracted_package_dir`, `package_tarball_full_path`), so they mention the hoard path.

use crate::cache::recipe::{CacheDir, Defeater, Location, Recipe, Scope, Shim, Trigger};
use crate::instructions::Sharing;

pub(super) const PKGS: &str = "/var/cache/hoard/conda/pkgs";

macro_rules! conda_shim {
    ($name:literal) => {
        Shim {
            name: $name,
            script: concat!(
                "case \" $* \" in\n",
                "  *\" clean \"*)\n",
                "    if [ \"${CONDA_PKGS_DIRS:-}\" = /var/cache/hoard/conda/pkgs ]; then\n",
                "      (unset CONDA_PKGS_DIRS; hoard_real ",
                $name,
                " \"$@\")\n",
                "    else\n",
                "      hoard_real ",
                $name,
                " \"$@\"\n",
                "    fi ;;\n",
                "  *) hoard_real ",
                $name,
                " \"$@\" ;;\n",
                "esac\n",
                "exit $?\n"
            ),
        }
    };
}

pub static RECIPES: &[Recipe] = &[Recipe {
    name: "conda",
    about: "conda/mamba/micromamba package cache (CONDA_PKGS_DIRS), per platform, never the envs",
    triggers: &[Trigger {
        programs: &["conda", "mamba", "micromamba"],
        python_module: Some("conda"),
        // `env` covers `env create|update`.
        subcommands: &[
            "install",
            "create",
            "update",
            "upgrade",
            "env",
            "remove",
            "uninstall",
        ],
        options_with_value: &["-r", "--root-prefix", "--rc-file", "--log-level"],
        ..Trigger::NONE
    }],
    caches: &[CacheDir {
        kind: "pkgs",
        location: Location::Redirect {
            var: "CONDA_PKGS_DIRS",
            path: PKGS,
        },
        sharing: Sharing::Locked,
        scope: Scope::PLATFORM_USER,
        ..CacheDir::NONE
    }],
    shims: &[
        conda_shim!("conda"),
        conda_shim!("mamba"),
        conda_shim!("micromamba"),
    ],
    defeaters: &[Defeater::Command {
        program: "micromamba",
        args: &["clean"],
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
        assert_sharing(RECIPES, Sharing::Locked);
        assert!(RECIPES[0].caches[0].scope.platform);
        for s in RECIPES[0].shims {
            assert!(s.script.contains(PKGS));
        }
    }

    #[test]
    fn shim_cleans_the_image_cache() {
        // The fake tool prints the variable it sees.
        let s = &RECIPES[0].shims[0];
        let run = |pkgs: &str, args: &[&str]| {
            let fake = "echo \"${CONDA_PKGS_DIRS:-unset} $*\"\n";
            let (status, out) =
                run_shim_with(s.script, s.name, fake, args, &[("CONDA_PKGS_DIRS", pkgs)]);
            assert_eq!(status, Some(0));
            out
        };
        assert_eq!(run(PKGS, &["clean", "-afy"]), "unset clean -afy");
        assert_eq!(
            run(PKGS, &["install", "-y", "numpy"]),
            format!("{PKGS} install -y numpy")
        );
        assert_eq!(run("/mine", &["clean", "-a"]), "/mine clean -a");
    }

    #[test]
    fn plans_platform_scoped_locked_cache() {
        let p = plan_shell_with(
            "micromamba install -y -n base -f /tmp/env.yaml",
            &[],
            57439,
            "/home/mambauser",
        );
        assert_eq!(
            mounts(&p, "conda"),
            vec![(
                PKGS.to_string(),
                "hoard/conda/pkgs/linux-amd64/u57439".to_string(),
                Sharing::Locked,
                57439
            )]
        );
        assert_eq!(set(&p, "CONDA_PKGS_DIRS").as_deref(), Some(PKGS));
        for cmd in [
            "conda install -y numpy",
            "mamba env create -f environment.yml",
            "conda create -n app python=3.12",
        ] {
            assert!(detected(&plan_shell(cmd), "conda"), "{cmd}");
        }
        assert!(!detected(&plan_shell("conda clean -afy"), "conda"));
    }
}
