//! The command-line tools: `hoard explain` (what the cache planner does per RUN, as text or
//! JSON) and `hoard eject` (the same Dockerfile with the mounts written out, for the stock
//! frontend). Both run the real converter offline ([`offline`]).

pub mod cachecopy;
pub mod eject;
pub mod explain;
pub mod offline;
pub mod recipes;
