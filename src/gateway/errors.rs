//! Errors as buildx sees them: `google.rpc.Status` values for `Return.error`.
//!
//! * Frontend errors (parse/convert) become code 2 (Unknown) with an
//!   `errdefs.Source+json` detail, so buildx prints the `Dockerfile:N >>>` snippet.
//! * Errors from the daemon (Solve, ReadFile, ...) carry a serialized `google.rpc.Status` in
//!   `grpc-status-details-bin` (tonic's `Status::details()`): it is forwarded unchanged, so the
//!   vertex log, exit code and the daemon's own source snippet survive.
//! * Unknown subrequests get an `errdefs.Subrequest+json` detail, which buildx recognises.
//!
//! The detail values are Go `encoding/json` of the errdefs structs (typeurl `+json`
//! registrations), not protobuf.

use base64::Engine as _;
use prost::Message as _;
use serde_json::{json, Map, Value};

use crate::error::{Error, Span};
use crate::proto::google::protobuf::Any;
use crate::proto::google::rpc::Status;

pub const TYPE_URL_SOURCE: &str = "github.com/moby/buildkit/errdefs.Source+json";
pub const TYPE_URL_SUBREQUEST: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// gRPC status codes used here.
pub mod code {
    pub const UNKNOWN: i32 = 2;
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const UNIMPLEMENTED: i32 = 12;
    pub const INTERNAL: i32 = 13;
}

/// The Dockerfile as errors and warnings refer to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceFile {
    pub filename: String,
    pub data: Vec<u8>,
    /// `Dockerfile` for Dockerfiles.
    pub language: String,
}

impl SourceFile {
    pub fn dockerfile(filename: &str, data: &[u8]) -> SourceFile {
        SourceFile {
            filename: filename.to_string(),
            data: data.to_vec(),
            language: "Dockerfile".into(),
        }
    }

    /// `pb.SourceInfo` JSON (Go field order: filename, data, definition, language; omitempty).
    pub fn info_json(&self) -> Value {
        let mut m = Map::new();
        if !self.filename.is_empty() {
            m.insert("filename".into(), self.filename.clone().into());
        }
        if !self.data.is_empty() {
            m.insert(
                "data".into(),
                base64::engine::general_purpose::STANDARD
                    .encode(&self.data)
                    .into(),
            );
        }
        if !self.language.is_empty() {
            m.insert("language".into(), self.language.clone().into());
        }
        Value::Object(m)
    }
}

/// `pb.Range` JSON for a 1-based inclusive line span (`character` is 0 and omitted).
pub fn range_json(span: Span) -> Value {
    json!({"start": {"line": span.start}, "end": {"line": span.end.max(span.start)}})
}

/// The `errdefs.Source` JSON value:
/// `{"info":{"filename":…,"data":"<base64>","language":"Dockerfile"},"ranges":[{"start":{"line":N},"end":{"line":M}}]}`.
pub fn source_detail_json(src: &SourceFile, spans: &[Span]) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("info".into(), src.info_json());
    if !spans.is_empty() {
        m.insert(
            "ranges".into(),
            Value::Array(spans.iter().copied().map(range_json).collect()),
        );
    }
    serde_json::to_vec(&Value::Object(m)).expect("json")
}

/// The `Any` detail for a Source error.
pub fn source_detail(src: &SourceFile, spans: &[Span]) -> Any {
    Any {
        type_url: TYPE_URL_SOURCE.into(),
        value: source_detail_json(src, spans),
    }
}

/// A plain status without details.
pub fn plain_status(code: i32, message: impl Into<String>) -> Status {
    Status {
        code,
        message: message.into(),
        details: Vec::new(),
    }
}

/// Status for a frontend (parse/convert) error: code 2 and, when the error has a span and the
/// Dockerfile is known, a Source detail so buildx shows the `>>>` snippet.
pub fn frontend_error_status(err: &Error, src: Option<&SourceFile>) -> Status {
    let mut st = plain_status(code::UNKNOWN, err.message.clone());
    if let (Some(span), Some(src)) = (err.span, src) {
        st.details.push(source_detail(src, &[span]));
    }
    st
}

/// Status for a subrequest this frontend does not implement (`errdefs.UnsupportedSubrequestError`).
pub fn unsupported_subrequest_status(name: &str) -> Status {
    Status {
        code: code::UNIMPLEMENTED,
        message: format!("unsupported request {name}"),
        details: vec![Any {
            type_url: TYPE_URL_SUBREQUEST.into(),
            value: serde_json::to_vec(&json!({ "name": name })).expect("json"),
        }],
    }
}

/// The `google.rpc.Status` a daemon error carries, unchanged (code, message, details). If the
/// error has no (decodable) details, it is rebuilt from the gRPC code and message.
pub fn forwarded_status(st: &tonic::Status) -> Status {
    let details = st.details();
    if !details.is_empty() {
        if let Ok(decoded) = Status::decode(details) {
            if decoded.code != 0 {
                return decoded;
            }
        }
    }
    let code = match st.code() {
        tonic::Code::Ok => code::UNKNOWN,
        c => c as i32,
    };
    plain_status(code, st.message())
}

/// Every error the frontend flow can end with.
#[derive(Debug)]
pub enum GatewayError {
    /// A located (or unlocated) problem in the Dockerfile or the build options.
    Frontend(Error),
    /// An RPC to the daemon failed; `status` is kept whole so its details can be forwarded.
    /// `span` locates the instruction that caused it (e.g. the `FROM` of a failed resolve).
    Rpc {
        context: String,
        status: tonic::Status,
        span: Option<Span>,
    },
    /// A result that is already a `google.rpc.Status` (e.g. an unsupported subrequest).
    Status(Status),
    /// The connection itself failed (nothing can be returned to the daemon).
    Transport(String),
}

impl GatewayError {
    pub fn rpc(context: impl Into<String>, status: tonic::Status) -> GatewayError {
        GatewayError::Rpc {
            context: context.into(),
            status,
            span: None,
        }
    }

    /// An RPC error caused by the instruction at `span`.
    pub fn rpc_at(
        span: Option<Span>,
        context: impl Into<String>,
        status: tonic::Status,
    ) -> GatewayError {
        GatewayError::Rpc {
            context: context.into(),
            status,
            span,
        }
    }

    /// The status to put in `Return.error`. `src` is the Dockerfile, when it was read.
    /// RPC errors keep code and details; `context` is prepended to the message, as Go's
    /// `errors.Wrap` + `grpcerrors.ToGRPC` do. A located RPC error gains a Source detail unless
    /// the daemon already attached one.
    pub fn to_status(&self, src: Option<&SourceFile>) -> Status {
        match self {
            GatewayError::Frontend(e) => frontend_error_status(e, src),
            GatewayError::Rpc {
                context,
                status,
                span,
            } => {
                let mut st = forwarded_status(status);
                if !context.is_empty() {
                    st.message = format!("{context}: {}", st.message);
                }
                if let (Some(span), Some(src)) = (span, src) {
                    if !st.details.iter().any(|d| d.type_url == TYPE_URL_SOURCE) {
                        st.details.push(source_detail(src, &[*span]));
                    }
                }
                st
            }
            GatewayError::Status(st) => st.clone(),
            GatewayError::Transport(m) => plain_status(code::UNKNOWN, m.clone()),
        }
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayError::Frontend(e) => write!(f, "{}", e.message),
            GatewayError::Rpc {
                context, status, ..
            } => {
                write!(f, "{context}: {:?}: {}", status.code(), status.message())
            }
            GatewayError::Status(st) => write!(f, "{} (code {})", st.message, st.code),
            GatewayError::Transport(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for GatewayError {}

impl From<Error> for GatewayError {
    fn from(e: Error) -> Self {
        GatewayError::Frontend(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_json_exact_shape() {
        let src = SourceFile::dockerfile("Dockerfile", b"FROM a\nRUN x\n");
        let v = source_detail_json(&src, &[Span::line(2)]);
        assert_eq!(
            String::from_utf8(v).unwrap(),
            r#"{"info":{"filename":"Dockerfile","data":"RlJPTSBhClJVTiB4Cg==","language":"Dockerfile"},"ranges":[{"start":{"line":2},"end":{"line":2}}]}"#
        );
        let v = source_detail_json(&src, &[Span::new(1, 3)]);
        assert!(String::from_utf8(v)
            .unwrap()
            .ends_with(r#""ranges":[{"start":{"line":1},"end":{"line":3}}]}"#));
    }

    #[test]
    fn frontend_error_has_code_2_and_source_detail() {
        let src = SourceFile::dockerfile("sub/Dockerfile", b"FROM a\nBOGUS\n");
        let st = frontend_error_status(
            &Error::at(Span::line(2), "unknown instruction: BOGUS"),
            Some(&src),
        );
        assert_eq!(st.code, 2);
        assert_eq!(st.message, "unknown instruction: BOGUS");
        assert_eq!(st.details.len(), 1);
        assert_eq!(
            st.details[0].type_url,
            "github.com/moby/buildkit/errdefs.Source+json"
        );
        let v: Value = serde_json::from_slice(&st.details[0].value).unwrap();
        assert_eq!(v["info"]["filename"], "sub/Dockerfile");
        assert_eq!(v["ranges"][0]["start"]["line"], 2);

        // No span, or no file: no detail.
        assert!(frontend_error_status(&Error::new("x"), Some(&src))
            .details
            .is_empty());
        assert!(frontend_error_status(&Error::at(Span::line(1), "x"), None)
            .details
            .is_empty());
    }

    #[test]
    fn subrequest_error_shape() {
        let st = unsupported_subrequest_status("frontend.bogus");
        assert_eq!(st.code, 12);
        assert_eq!(st.message, "unsupported request frontend.bogus");
        assert_eq!(
            st.details[0].type_url,
            "github.com/moby/buildkit/errdefs.Subrequest+json"
        );
        assert_eq!(st.details[0].value, br#"{"name":"frontend.bogus"}"#);
    }

    #[test]
    fn daemon_status_is_forwarded_unchanged() {
        let inner = Status {
            code: 2,
            message: "process \"/bin/sh -c false\" did not complete successfully: exit code: 1"
                .into(),
            details: vec![
                Any {
                    type_url: "github.com/moby/buildkit/stack.Stack+json".into(),
                    value: b"{}".to_vec(),
                },
                Any {
                    type_url: "github.com/moby/buildkit/errdefs.Vertex+json".into(),
                    value: br#"{"digest":"sha256:ab"}"#.to_vec(),
                },
            ],
        };
        let ts = tonic::Status::with_details(
            tonic::Code::Unknown,
            inner.message.clone(),
            inner.encode_to_vec().into(),
        );
        assert_eq!(forwarded_status(&ts), inner);
        // Through GatewayError without context: unchanged too.
        let e = GatewayError::rpc("", ts.clone());
        assert_eq!(e.to_status(None), inner);
        // With context: code and details kept, message prefixed.
        let e = GatewayError::rpc("failed to solve", ts);
        let st = e.to_status(None);
        assert_eq!(st.code, 2);
        assert_eq!(st.details, inner.details);
        assert!(st.message.starts_with("failed to solve: process"));
    }

    #[test]
    fn located_rpc_error_gains_a_source_detail_once() {
        let src = SourceFile::dockerfile("Dockerfile", b"FROM nope\n");
        let ts = tonic::Status::new(tonic::Code::Unknown, "failed to resolve source metadata");
        let st = GatewayError::rpc_at(Some(Span::line(1)), "", ts).to_status(Some(&src));
        assert_eq!(st.details.len(), 1);
        assert_eq!(st.details[0].type_url, TYPE_URL_SOURCE);

        let inner = Status {
            code: 2,
            message: "m".into(),
            details: vec![source_detail(&src, &[Span::line(1)])],
        };
        let ts =
            tonic::Status::with_details(tonic::Code::Unknown, "m", inner.encode_to_vec().into());
        let st = GatewayError::rpc_at(Some(Span::line(1)), "", ts).to_status(Some(&src));
        assert_eq!(st, inner);
    }

    #[test]
    fn daemon_status_without_details_is_rebuilt() {
        let ts = tonic::Status::new(tonic::Code::NotFound, "open Dockerfile: no such file");
        assert_eq!(
            forwarded_status(&ts),
            plain_status(5, "open Dockerfile: no such file")
        );
        let ts =
            tonic::Status::with_details(tonic::Code::Internal, "m", b"\xff\xff".to_vec().into());
        assert_eq!(forwarded_status(&ts), plain_status(13, "m"));
    }
}
