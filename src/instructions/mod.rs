//! Stage 2: parser nodes to typed instructions grouped into stages, with every flag checked,
//! like the stock `instructions` package.
//!
//! * [`parse`] types a whole [`Dockerfile`](crate::parser::Dockerfile) into a [`ParsedFile`]:
//!   global `ARG`s before the first `FROM` ([`ParsedFile::meta_args`]) and [`Stage`]s holding
//!   [`Command`]s.
//! * [`parse_command`] types a single node (ONBUILD triggers), [`parse_instruction`] also FROM.
//! * Values stay **unexpanded**. The converter expands them with the stage environment when it
//!   dispatches each command, as the stock frontend does: [`Command::expand`] (then
//!   [`Command::expand_raw`] for COPY/ADD heredoc bodies) take a word expander, normally
//!   [`crate::expand::Lexer::process_word`] with the current env.
//! * `RUN --mount` values are only syntax-checked while parsing (CSV, no variables in `from`);
//!   they are typed and validated by [`RunCommand::expand`] into [`Mount`]s, or on their own with
//!   [`parse_mount`].
//! * Error messages are the stock ones; [`parse`] prefixes them with
//!   `dockerfile parse error on line N: ` like the stock `instructions.Parse`.

mod bflag;
mod commands;
mod goparse;
pub mod heredoc;
mod mount;
mod parse;
pub(crate) mod suggest;

pub use commands::*;
pub use goparse::{format_duration, parse_duration};
pub use heredoc::{chomp_heredoc_content, parse_heredoc_marker, HeredocMarker};
pub use mount::{
    mount_from_unexpanded, parse_device, parse_mount, Device, Mount, MountType, Sharing,
};
pub use parse::{parse, parse_command, parse_instruction, Instruction, ParsedFile};

#[cfg(test)]
mod tests;
