//! Image-side data: the OCI/Docker image config the frontend returns, target platforms, and
//! image references normalised the way the daemon expects them.

mod config;
mod platform;
mod reference;

pub use config::{
    default_path_env, ContainerConfig, Healthcheck, History, ImageConfig, RootFs, HISTORY_COMMENT,
};
pub use platform::Platform;
pub use reference::{normalize_reference, Reference};
