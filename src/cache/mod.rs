//! Stage 3: the cache planner. For each `RUN`, find the package managers and compilers it
//! invokes ([`shell`]) and work out the cache mounts, tmpfs mounts, environment and
//! configuration an expert would add ([`planner`]), from per-tool data ([`recipes`], one
//! ecosystem per file, shaped by [`recipe`]). The result is a plain [`Plan`] value that the
//! converter, `hoard explain` and `hoard eject` all read.

pub mod dialect;
pub mod planner;
pub mod recipe;
pub mod recipes;
pub mod shell;

pub use planner::{
    plan, plan_shell, plan_shell_with, Detected, EnvChange, MountKind, Plan, PlannedMount,
    Selection, Step, ToolCache, UserInfo, Written,
};
