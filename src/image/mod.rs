//! Image-side data: the OCI/Docker image config the frontend returns, target platforms, and
//! image references normalised the way the daemon expects them.

mod config;
mod platform;
mod reference;

pub use config::{ContainerConfig, Healthcheck, History, ImageConfig, RootFs};
pub use platform::Platform;
pub use reference::{normalize_reference, Reference};
