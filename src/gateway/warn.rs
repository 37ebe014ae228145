//! Build-check warnings to the client through the `Warn` RPC, with the Dockerfile as source.

use crate::error::Warning;
use crate::proto::pb;

use super::caps;
use super::client::{pb_range, Gateway, WarnMessage};
use super::dockerfile::LoadedDockerfile;

/// `"<Rule>: <msg> (line N)"` (BuildKit `linter.LintFormatShort`).
pub fn warn_short(w: &Warning) -> String {
    match w.span {
        Some(s) if s.start > 0 => format!("{}: {} (line {})", w.rule, w.message, s.start),
        _ => format!("{}: {}", w.rule, w.message),
    }
}

/// Send the converter's warnings through the `Warn` RPC (failures are only logged).
pub async fn send_warnings(gw: &Gateway, df: &LoadedDockerfile, warnings: &[Warning]) {
    if !gw.caps().gateway.supports(caps::gw::GATEWAY_WARNINGS) {
        return;
    }
    let info = pb::SourceInfo {
        filename: df.source.filename.clone(),
        data: df.source.data.clone(),
        definition: Some(df.definition.clone()),
        language: df.source.language.clone(),
    };
    for w in warnings {
        let (description, url) = crate::lint::describe(w);
        let msg = WarnMessage {
            vertex_digest: df.vertex_digest.clone(),
            level: 1,
            short: warn_short(w),
            detail: if description.is_empty() {
                Vec::new()
            } else {
                vec![description.as_bytes().to_vec()]
            },
            url: url.to_string(),
            source_info: Some(info.clone()),
            // One range per line of the instruction, as the stock `Node.Location()`.
            ranges: w
                .span
                .map(|s| {
                    (s.start..=s.end.max(s.start))
                        .map(|l| pb_range(crate::error::Span::line(l)))
                        .collect()
                })
                .unwrap_or_default(),
        };
        if let Err(e) = gw.warn(msg).await {
            eprintln!("hoard: sending warning failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Span;

    #[test]
    fn warn_short_format() {
        let w = Warning {
            rule: "StageNameCasing".into(),
            message: "Stage name 'Build' should be lowercase".into(),
            span: Some(Span::line(3)),
        };
        assert_eq!(
            warn_short(&w),
            "StageNameCasing: Stage name 'Build' should be lowercase (line 3)"
        );
        let w = Warning {
            rule: "R".into(),
            message: "m".into(),
            span: None,
        };
        assert_eq!(warn_short(&w), "R: m");
    }
}
