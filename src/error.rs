//! Errors and warnings that point at Dockerfile lines.
//!
//! Every stage of the pipeline reports problems as an [`Error`] carrying the [`Span`] of the
//! instruction it is about, so the gateway can hand buildx an `errdefs.Source` and the user sees
//! the `>>>` snippet at the right line.

use std::fmt;

/// An inclusive range of 1-based line numbers in the Dockerfile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn line(line: usize) -> Self {
        Span {
            start: line,
            end: line,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "line {}", self.start)
        } else {
            write!(f, "lines {}-{}", self.start, self.end)
        }
    }
}

/// A user-facing error, optionally located in the Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub message: String,
    pub span: Option<Span>,
    /// Build-check warnings found before the error: `--call check` reports them beside it and
    /// a build sends them before failing, as the stock frontend does.
    pub warnings: Vec<Warning>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            span: None,
            warnings: Vec::new(),
        }
    }
    pub fn at(span: Span, message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            span: Some(span),
            warnings: Vec::new(),
        }
    }
    /// Attach a span if the error has none yet.
    pub fn or_at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
    /// Record the warnings found before this error (unless it already carries some).
    pub fn with_warnings(mut self, warnings: Vec<Warning>) -> Self {
        if self.warnings.is_empty() {
            self.warnings = warnings;
        }
        self
    }
    /// `Dockerfile:3: message` form for the command line.
    pub fn render(&self, filename: &str) -> String {
        match self.span {
            Some(s) => format!("{filename}:{}: {}", s.start, self.message),
            None => format!("{filename}: {}", self.message),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A non-fatal diagnostic, sent to buildx with the gateway's `Warn` RPC.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Warning {
    /// Short rule name, e.g. `UnknownFlag`, `HoardIgnored`.
    pub rule: String,
    pub message: String,
    pub span: Option<Span>,
}
