//! The frontend's build flow (`hoard frontend`, the image's entrypoint).
//!
//! 1. Connect over stdio, Ping, refuse clearly (naming the cap) on a daemon that lacks a
//!    required capability.
//! 2. Parse the frontend opts.
//! 3. Read the Dockerfile through a `local://<dockerfilekey>` solve + `ReadFile`.
//! 4. Dispatch on `requestid`: a subrequest (describe, lint, targets, outline; explain and eject
//!    after converting as the build would) returns metadata only;
//!    an unknown one returns the unsupported-subrequest error buildx recognises.
//! 5. Build: read `.dockerignore`, run the converter in rounds, resolving base images in between,
//!    send warnings, solve each platform's definition (lazily), and `Return` the shaped result.
//!
//! Errors end in `Return.error`: frontend errors with an `errdefs.Source` detail, daemon errors
//! forwarded unchanged. The caller must exit right after [`run`] returns: the build waits for
//! the process to exit.

use crate::error::Error;
use crate::proto::moby::buildkit::v1::frontend as gw;

use super::caps;
use super::client::Gateway;
use super::convert_api::{convert_opts, ConvertRequest};
use super::dockerfile::{context_dockerignore, dockerignore_patterns, load_dockerfile};
use super::errors::{unsupported_subrequest_status, GatewayError, SourceFile};
use super::explain::{self, REQUEST_EJECT, REQUEST_EXPLAIN};
use super::opts::BuildOpts;
use super::resolver::{convert_all, Files, GatewayResolver};
use super::result::{build_result, PlatformOutput};
use super::subrequests::{self, REQUEST_DESCRIBE, REQUEST_LINT, REQUEST_OUTLINE, REQUEST_TARGETS};
use super::trace::{self, trace};
use super::warn::send_warnings;
use crate::convert::rounds;

/// Frontend-image caps (`moby.buildkit.frontend.*`) this frontend can honour when a client
/// requests them through the `frontend.caps` opt.
pub const SUPPORTED_FRONTEND_CAPS: &[&str] = &[
    "moby.buildkit.frontend.inputs",
    "moby.buildkit.frontend.subrequests",
    "moby.buildkit.frontend.contexts",
];

/// Run the frontend against buildkitd on stdio. Returns the process exit code: 0 once a
/// `Return` (result or error) was delivered, 1 if the daemon could not be told anything.
pub async fn run() -> i32 {
    trace::mark_start();
    let gw = match Gateway::connect_stdio().await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("hoard: {e}");
            return 1;
        }
    };
    let mut src: Option<SourceFile> = None;
    let sent = match flow(&gw, &mut src).await {
        Ok(result) => gw.return_result(result).await,
        Err(e) => {
            eprintln!("hoard: {e}");
            gw.return_error(e.to_status(src.as_ref())).await
        }
    };
    match sent {
        Ok(()) => {
            trace(|| "returned; exiting".into());
            0
        }
        Err(e) => {
            eprintln!("hoard: {e}");
            1
        }
    }
}

/// Refuse `frontend.caps` requests this frontend cannot honour (`+forward` suffixes ignored).
pub fn check_frontend_caps(requested: &[String]) -> Result<(), Error> {
    for c in requested {
        let id = c.split('+').next().unwrap_or(c).trim();
        if id.is_empty() {
            continue;
        }
        if !SUPPORTED_FRONTEND_CAPS.contains(&id) {
            return Err(Error::new(format!("unsupported frontend capability {id}")));
        }
    }
    Ok(())
}

/// Which build checks this build reports and whether they fail it: the
/// `BUILDKIT_DOCKERFILE_CHECK` build arg, else the Dockerfile's `# check=` directive. A
/// directive that does not parse is an error at its line (the stock error has no line).
pub fn check_config(opts: &BuildOpts, text: &str) -> Result<crate::lint::CheckConfig, Error> {
    let directive = crate::parser::find_hash_directive("check", text);
    let arg = opts
        .build_args
        .get("BUILDKIT_DOCKERFILE_CHECK")
        .map(String::as_str);
    let config = crate::lint::CheckConfig::for_build(directive.as_ref().map(|d| &*d.cmdline), arg);
    match (config, directive) {
        (Err(e), Some(d)) if arg.is_none() => Err(e.or_at(d.span)),
        (config, _) => config,
    }
}

async fn convert_request(
    gw: &Gateway,
    opts: &BuildOpts,
    dockerignore: Vec<String>,
) -> Result<ConvertRequest, GatewayError> {
    // Frontend inputs are only asked for when a named context uses one.
    let inputs = if opts
        .named_contexts
        .values()
        .any(|v| v.starts_with("input:"))
    {
        gw.inputs().await?
    } else {
        Default::default()
    };
    Ok(ConvertRequest {
        opts: opts.clone(),
        llb_caps: gw.caps().llb.ids().clone(),
        dockerignore,
        inputs,
        ci: Default::default(),
        checks: false,
    })
}

/// Everything after connecting: returns the result to `Return`, or the error.
async fn flow(gw: &Gateway, src: &mut Option<SourceFile>) -> Result<gw::Result, GatewayError> {
    gw.caps().check_required()?;
    let opts = BuildOpts::from_process_env()?;
    trace::enable(&opts);
    trace(|| "connected (Ping answered), options read".into());
    check_frontend_caps(&opts.frontend_caps)?;

    // Requests that need no Dockerfile.
    match opts.requestid.as_deref() {
        None | Some(REQUEST_LINT) | Some(REQUEST_TARGETS) | Some(REQUEST_OUTLINE) => {}
        Some(REQUEST_EXPLAIN) | Some(REQUEST_EJECT) => {}
        Some(REQUEST_DESCRIBE) => return Ok(subrequests::describe_result()),
        Some(other) => return Err(GatewayError::Status(unsupported_subrequest_status(other))),
    }

    // A build (and a check, for `CopyIgnoredFile`) also reads the context's .dockerignore:
    // fetched while the Dockerfile loads (each is a round trip to the client), used unless
    // `<Dockerfile>.dockerignore` exists.
    let as_build = opts.requestid.is_none()
        || opts.requestid.as_deref() == Some(REQUEST_LINT)
        || explain::Kind::from_request(opts.requestid.as_deref()).is_some();
    let context_ignore = as_build.then(|| {
        let (gw, opts) = (gw.clone(), opts.clone());
        tokio::spawn(async move { context_dockerignore(&gw, &opts).await })
    });
    let df = load_dockerfile(gw, &opts).await?;
    trace(|| "Dockerfile read".into());
    *src = Some(df.source.clone());
    let text = String::from_utf8_lossy(&df.source.data).into_owned();

    match opts.requestid.as_deref() {
        Some(REQUEST_TARGETS) => {
            let targets = subrequests::list_targets(&text)?;
            return Ok(subrequests::targets_result(&df.source, &targets));
        }
        Some(REQUEST_OUTLINE) => {
            let req =
                convert_request(gw, &super::outline::outline_build_opts(&opts), Vec::new()).await?;
            return super::outline::outline_request(gw, &df, &text, &req).await;
        }
        Some(REQUEST_LINT) => {
            let checks = match check_config(&opts, &text) {
                Ok(c) => c,
                Err(e) => return Ok(subrequests::lint_result(&df.source, &[], Some(&e))),
            };
            // Checks never build: files of intermediate states stay unknown. As the stock
            // frontend, they are for the build platform whatever `--platform` says (a list
            // still names progress lines by platform).
            let mut opts = opts.clone();
            opts.platforms.clear();
            let dockerignore = dockerignore_patterns(&df, context_ignore).await?;
            let mut req = convert_request(gw, &opts, dockerignore).await?;
            req.checks = true;
            let mut resolver = GatewayResolver::new(gw, &opts, Files::Unknown);
            return match convert_all(&mut resolver, &text, &req).await {
                Ok(done) => {
                    let (warnings, err) = checks.apply(done.warnings);
                    Ok(subrequests::lint_result(
                        &df.source,
                        &warnings,
                        err.as_ref(),
                    ))
                }
                Err(GatewayError::Frontend(e)) => {
                    // The warnings found before the error are reported with it.
                    let (warnings, _) = checks.apply(e.warnings.clone());
                    Ok(subrequests::lint_result(&df.source, &warnings, Some(&e)))
                }
                Err(e) => Err(e),
            };
        }
        _ => {}
    }

    crate::parser::check_utf8(&df.source.data)?;
    let checks = check_config(&opts, &text)?;
    let dockerignore = dockerignore_patterns(&df, context_ignore).await?;
    let mut req = convert_request(gw, &opts, dockerignore).await?;
    if let Some(kind) = explain::Kind::from_request(opts.requestid.as_deref()) {
        return explain::request(gw, &text, &req, kind).await;
    }
    let (ci, ci_warnings) = super::ci::prepare(gw, &opts).await?;
    req.ci = ci;
    trace(|| ".dockerignore read".into());
    let mut resolver = GatewayResolver::new(gw, &opts, Files::Read);
    let converted = async {
        let mut done = convert_all(&mut resolver, &text, &req).await?;
        trace(|| format!("converted in {} rounds", done.rounds));
        // Seeding: caches already warm on this builder are not seeded again (nor the seed pulled).
        if let Some(warm) = super::ci::probe(gw, &opts, &done.results).await? {
            if !warm.is_empty() {
                req.ci.warm = Some(warm);
                let resolved = std::mem::take(&mut done.resolved);
                done =
                    rounds::drive_from(&text, &convert_opts(&req), &mut resolver, resolved).await?;
            }
        }
        Ok::<_, GatewayError>(done)
    }
    .await;
    let mut done = match converted {
        Ok(done) => done,
        Err(GatewayError::Frontend(e)) => {
            // The warnings found before the error reach the user first, as with the stock frontend.
            let mut found = ci_warnings;
            found.extend(e.warnings.iter().cloned());
            let (warnings, _) = checks.apply(found);
            send_warnings(gw, &df, &warnings).await;
            return Err(GatewayError::Frontend(e));
        }
        Err(e) => return Err(e),
    };
    done.warnings.splice(0..0, ci_warnings);
    let (warnings, lint_error) = checks.apply(std::mem::take(&mut done.warnings));
    send_warnings(gw, &df, &warnings).await;
    if let Some(e) = lint_error {
        return Err(GatewayError::Frontend(e));
    }
    if done.results.is_empty() {
        return Err(GatewayError::Frontend(Error::new(
            "internal error: the converter produced no result",
        )));
    }
    if super::ci::exporting(&done.results) {
        let (result, warnings) = super::ci::export_result(gw, &opts, &done.results).await?;
        send_warnings(gw, &df, &warnings).await;
        return Ok(result);
    }
    let mut definitions = Vec::with_capacity(done.results.len());
    let mut outputs = Vec::with_capacity(done.results.len());
    for r in done.results {
        definitions.push(r.definition);
        outputs.push(PlatformOutput {
            platform: r.platform,
            ref_id: String::new(),
            config: r.config.to_json(),
            base_config: None,
        });
    }
    let refs = resolver.solve_results(definitions).await?;
    trace(|| "solved; returning".into());
    for (o, r) in outputs.iter_mut().zip(refs) {
        o.ref_id = r;
    }
    Ok(build_result(
        &outputs,
        opts.multi_platform,
        gw.caps().gateway.supports(caps::gw::PROTO_REF_ARRAY),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Span;

    fn opts(list: &[&str]) -> BuildOpts {
        BuildOpts::from_env(
            list.iter()
                .enumerate()
                .map(|(i, o)| (format!("BUILDKIT_FRONTEND_OPT_{i}"), o.to_string())),
        )
        .unwrap()
    }

    #[test]
    fn a_bad_check_directive_is_an_error_at_its_line() {
        let text = "#!/usr/bin/env docker\n# check=error=maybe\nFROM busybox\n";
        let e = check_config(&opts(&[]), text).unwrap_err();
        assert_eq!(e.span, Some(Span::line(2)));
        assert!(e.message.starts_with("failed to parse check options"));
        // The build arg replaces the directive: its error is about the option, not a line.
        let o = opts(&["build-arg:BUILDKIT_DOCKERFILE_CHECK=bogus"]);
        assert_eq!(check_config(&o, text).unwrap_err().span, None);
        assert!(check_config(&opts(&[]), "# check=skip=all\nFROM a\n").is_ok());
    }

    #[test]
    fn frontend_caps_check() {
        assert!(
            check_frontend_caps(&["moby.buildkit.frontend.subrequests+forward".into()]).is_ok()
        );
        assert!(check_frontend_caps(&[]).is_ok());
        let e = check_frontend_caps(&["moby.buildkit.frontend.gitquerystring".into()]).unwrap_err();
        assert_eq!(
            e.message,
            "unsupported frontend capability moby.buildkit.frontend.gitquerystring"
        );
    }
}
