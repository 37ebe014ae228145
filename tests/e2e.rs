//! End-to-end comparison of hoard against the stock Dockerfile frontend.
//!
//! Every directory `testdata/cases/<name>/` holds a `Dockerfile` and its build context. Each case
//! is built twice with `docker buildx build --builder default` into OCI tarballs: once with the
//! stock frontend built into the daemon, once through hoard (`--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`,
//! and for the cases in `SYNTAX_LINE_CASES` also through a copy of the Dockerfile with a
//! `# syntax=$HOARD_IMAGE` first line). The image configs (less `created` times and the layer
//! digests) and the flattened filesystems (type, mode, owner, link target, content; not mtimes)
//! must be equal.
//!
//! Optional files in a case directory (they are part of the build context too):
//! * `args`: one `K=V` per line, passed as `--build-arg K=V`;
//! * `target`: the `--target` stage;
//! * `buildflags`: extra buildx flags, whitespace-separated (paths are relative to the case dir);
//! * `setup`: lines `DIR TAG`: build `DIR` (relative to the case dir) with the stock frontend
//!   and load it as `TAG` before the case (for images with ONBUILD triggers, say); and, for
//!   named contexts, `oci-layout DIR OUT` (build `DIR` into an OCI layout directory `OUT` in the
//!   scratch dir) and `git DIR` (commit `DIR`'s files to a repository `DIR.git` served by
//!   `git daemon` on 127.0.0.1). `buildflags` may use `{SCRATCH}` and `{GIT}`
//!   (`git://127.0.0.1:<port>`).
//!
//! `testdata/errors/<name>/` holds a failing `Dockerfile` and an `expected` file: line 1 is a
//! substring the build output must contain, line 2 the `Dockerfile:N` reference, and an optional
//! line 3 the text of a `>>>` snippet line (trimmed). With a `stock` marker file the stock frontend
//! must fail the same way.
//!
//! Environment:
//! * `HOARD_IMAGE`: the frontend image (default `hoard:dev`, made by `scripts/image.sh`);
//! * `HOARD_E2E_SELFTEST=1`: build the "hoard" side with the stock frontend too, which proves the
//!   harness and the comparator pass on equal images;
//! * `HOARD_E2E_NO_CACHE=1`: build the hoard side with `--no-cache`, so every step really runs
//!   twice (with the self-test, this shows that the cases themselves are deterministic);
//! * `HOARD_SKIP_E2E=1`: skip every test that needs the engine (a skipped test is not a pass;
//!   `.ci/run` never sets it). Without it, a missing engine fails the tests.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

// ------------------------------------------------------------------------------------------
// The corpus. Every directory of testdata/cases and testdata/errors must be listed here
// (`tests/harness.rs` checks it, without an engine), so a new case cannot be skipped silently.

tests_calling! { run_case in case:
    // WORKDIR "${HOME}" with HOME unset keeps the working directory (stock NormalizeWorkdir).
    workdir_empty_var,
    // ENV inherited from a parent stage against ARGs and build args of the same name.
    parent_env_and_args,
    // `COPY --from=xx / /` (an xx look-alike) before an apt step hoard caches.
    xx_root_copy,
    add_tar,
    arg_before_from,
    args_and_expansion,
    comments_continuations,
    copy_basic,
    copy_chown_chmod,
    copy_from,
    copy_link,
    debian_apt,
    debian_user,
    dockerignore,
    entrypoint_cmd,
    env_workdir_user,
    escape_directive,
    everything,
    from_scratch,
    healthcheck,
    heredocs,
    label_expose_volume,
    maintainer_stopsignal,
    named_context_git,
    named_context_image,
    named_context_local,
    named_context_oci,
    named_context_onbuild,
    named_context_stage,
    named_context_target,
    onbuild_declare,
    onbuild_trigger,
    platform_stages,
    run_exec_form,
    run_mounts,
    run_network,
    run_secret_ssh,
    shell_instr,
    target_stage,
}

tests_calling! { run_error in error:
    // Bytes that are not UTF-8 in an instruction: refused at its line, never built as U+FFFD.
    non_utf8_instruction,
    hoard_dialect_misplaced,
    hoard_dialect_unknown,
    copy_missing,
    failing_run,
    unknown_flag,
    unknown_instruction,
    bad_continuation,
    named_context_bad_ref,
}

/// Cases also built through a Dockerfile copy whose first line is `# syntax=$HOARD_IMAGE`.
const SYNTAX_LINE_CASES: &[&str] = &[
    "copy_basic",
    "args_and_expansion",
    "everything",
    "onbuild_trigger",
];

// ------------------------------------------------------------------------------------------
// Building

#[derive(Clone, Copy, PartialEq, Debug)]
enum Frontend {
    /// The Dockerfile as-is, with the daemon's built-in frontend.
    Stock,
    /// `--build-arg BUILDKIT_SYNTAX=$HOARD_IMAGE`.
    Hoard,
    /// A copy of the Dockerfile with `# syntax=$HOARD_IMAGE` prepended.
    SyntaxLine,
    /// hoard with its cache injection turned off (`--build-arg HOARD=off`): pure conversion,
    /// compared with no allowances.
    HoardOff,
}

impl fmt::Display for Frontend {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let s = match self {
            Frontend::Stock => "stock",
            Frontend::Hoard if selftest() => "hoard(selftest: stock)",
            Frontend::Hoard => "hoard",
            Frontend::SyntaxLine if selftest() => "syntax-line(selftest: stock, copied Dockerfile)",
            Frontend::SyntaxLine => "syntax-line",
            Frontend::HoardOff if selftest() => "hoard-off(selftest: stock)",
            Frontend::HoardOff => "hoard-off",
        };
        f.write_str(s)
    }
}

/// the syntax-line variant.
fn frontend_args(dir: &Path, fe: Frontend, scratch: &Path) -> Vec<String> {
    let mut args = Vec::new();
    let dockerfile = dir.join("Dockerfile");
    match fe {
        Frontend::Stock => args.extend(["-f".into(), dockerfile.display().to_string()]),
        Frontend::Hoard | Frontend::HoardOff => {
            if !selftest() {
                args.extend(hoard_frontend());
                if fe == Frontend::HoardOff {
                    args.extend(["--build-arg".into(), "HOARD=off".into()]);
                }
            }
            args.extend(["-f".into(), dockerfile.display().to_string()]);
        }
        Frontend::SyntaxLine => {
            let text = fs::read_to_string(&dockerfile).unwrap();
            // Lines shift by one: only used for comparing images, never for error positions.
            let copy = if selftest() {
                text
            } else {
                format!("# syntax={}\n{text}", hoard_image())
            };
            let sub = scratch.join("syntax-line");
            fs::create_dir_all(&sub).unwrap();
            let path = sub.join("Dockerfile");
            fs::write(&path, copy).unwrap();
            args.extend(["-f".into(), path.display().to_string()]);
        }
    }
    args
}

/// What a case's `setup` made or started: the `{NAME}` values its `buildflags` may use, and the
/// servers (stopped on drop).
struct Setup {
    vars: Vec<(String, String)>,
    servers: Vec<std::process::Child>,
}

impl Setup {
    fn expand(&self, arg: &str) -> String {
        self.vars.iter().fold(arg.to_string(), |s, (k, v)| {
            s.replace(&format!("{{{k}}}"), v)
        })
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        for c in &mut self.servers {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start a server and wait until it accepts connections on `port`.
fn start_server(cmd: &mut std::process::Command, port: u16) -> std::process::Child {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start server");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return child;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server {cmd:?} did not listen on port {port}");
}

fn run(cmd: &mut std::process::Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        output_text(&out)
    );
}

/// Runs a case's `setup` lines (see the module comment).
fn run_setup(dir: &Path, scratch: &Path) -> Setup {
    use std::process::Command;
    let mut setup = Setup {
        vars: vec![("SCRATCH".into(), scratch.display().to_string())],
        servers: Vec::new(),
    };
    for line in read_lines(&dir.join("setup")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["oci-layout", sub, out] => {
                let dest = scratch.join(out);
                let args: Vec<String> = vec![
                    "--output".into(),
                    format!("type=oci,dest={},tar=false", dest.display()),
                    sub.to_string(),
                ];
                let o = buildx(dir, &args);
                assert!(
                    o.status.success(),
                    "setup build of {sub} as an OCI layout failed:\n{}",
                    tail(&output_text(&o), 60)
                );
            }
            ["git", sub] => {
                let work = scratch.join("git-work").join(sub);
                let repos = scratch.join("git");
                fs::create_dir_all(&work).unwrap();
                fs::create_dir_all(&repos).unwrap();
                run(Command::new("cp")
                    .arg("-a")
                    .arg(dir.join(sub).join("."))
                    .arg(&work));
                let git = |args: &[&str]| {
                    let mut c = Command::new("git");
                    c.current_dir(&work)
                        .args([
                            "-c",
                            "user.name=e2e",
                            "-c",
                            "user.email=e2e@example.com",
                            "-c",
                            "init.defaultBranch=main",
                        ])
                        .args(args)
                        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
                        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z");
                    c
                };
                run(&mut git(&["init", "-q"]));
                run(&mut git(&["add", "-A"]));
                run(&mut git(&["commit", "-q", "-m", "e2e"]));
                run(Command::new("git")
                    .args(["clone", "-q", "--bare"])
                    .arg(&work)
                    .arg(repos.join(format!("{sub}.git"))));
                let port = free_port();
                let child = start_server(
                    Command::new("git")
                        .args([
                            "daemon",
                            "--reuseaddr",
                            "--export-all",
                            "--listen=127.0.0.1",
                        ])
                        .arg(format!("--port={port}"))
                        .arg(format!("--base-path={}", repos.display()))
                        .arg(&repos),
                    port,
                );
                setup.servers.push(child);
                setup
                    .vars
                    .push(("GIT".into(), format!("git://127.0.0.1:{port}")));
            }
            [sub, tag] => {
                let args: Vec<String> = vec![
                    "--load".into(),
                    "-t".into(),
                    tag.to_string(),
                    sub.to_string(),
                ];
                let out = buildx(dir, &args);
                assert!(
                    out.status.success(),
                    "setup build of {sub} as {tag} failed:\n{}",
                    tail(&output_text(&out), 60)
                );
            }
            _ => panic!(
                "bad setup line {line:?} in {}: want `DIR TAG`, `oci-layout DIR OUT` or `git DIR`",
                dir.display()
            ),
        }
    }
    setup
}

/// Builds a case into an OCI tarball; Err carries the end of the build output.
fn build_oci(
    dir: &Path,
    fe: Frontend,
    scratch: &Path,
    dest: &Path,
    setup: &Setup,
) -> Result<(), String> {
    let mut args = frontend_args(dir, fe, scratch);
    args.extend(case_flags(dir).iter().map(|a| setup.expand(a)));
    if fe != Frontend::Stock
        && std::env::var("HOARD_E2E_NO_CACHE")
            .map(|v| v == "1")
            .unwrap_or(false)
    {
        args.push("--no-cache".into());
    }
    args.push("--output".into());
    args.push(format!(
        "type=oci,dest={},compression=uncompressed,force-compression=true",
        dest.display()
    ));
    args.push(".".into());
    let out = buildx(dir, &args);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{fe} build failed ({}):\n{}",
            out.status,
            tail(&output_text(&out), 60)
        ))
    }
}

// ------------------------------------------------------------------------------------------
// Test bodies

fn cases_dir() -> PathBuf {
    root().join("testdata/cases")
}

fn errors_dir() -> PathBuf {
    root().join("testdata/errors")
}

fn run_case(name: &str) {
    if !e2e_enabled(name) {
        return;
    }
    let dir = cases_dir().join(name);
    assert!(
        dir.join("Dockerfile").is_file(),
        "{} has no Dockerfile",
        dir.display()
    );
    let mut scratch = Scratch::new(name);
    let setup = run_setup(&dir, &scratch.path);

    let stock_tar = scratch.path.join("stock.tar");
    if let Err(e) = build_oci(&dir, Frontend::Stock, &scratch.path, &stock_tar, &setup) {
        panic!("{name}: the case does not build with the stock frontend (fix the case):\n{e}");
    }
    let stock =
        load_oci(&stock_tar).unwrap_or_else(|e| panic!("{name}: reading the stock image: {e}"));

    // Directories hoard caches in this case (one per line, each with a `#` reason): with
    // injection on, their contents may differ from the stock image; with it off, nothing may.
    let cache_dirs: Vec<String> = read_lines(&dir.join("cache-dirs"))
        .into_iter()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let mut variants = vec![Frontend::Hoard];
    if SYNTAX_LINE_CASES.contains(&name) {
        variants.push(Frontend::SyntaxLine);
    }
    if !cache_dirs.is_empty() {
        variants.push(Frontend::HoardOff);
    }
    let mut failures = Vec::new();
    for fe in variants {
        let dest = scratch.path.join(format!("{fe:?}.tar").to_lowercase());
        match build_oci(&dir, fe, &scratch.path, &dest, &setup).and_then(|_| load_oci(&dest)) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(img) => {
                let mut diffs = compare_images(&stock, &img);
                if fe != Frontend::HoardOff {
                    diffs.retain(|d| {
                        let path = d.split(": ").next().unwrap_or("");
                        !cache_dirs
                            .iter()
                            .any(|c| path == c || path.starts_with(&format!("{c}/")))
                    });
                }
                if !diffs.is_empty() {
                    failures.push(report(name, "stock", &fe.to_string(), &diffs));
                }
            }
        }
    }
    if !failures.is_empty() {
        scratch.keep = true;
        panic!("{}", failures.join("\n"));
    }
    eprintln!(
        "{name}: {} files, config and filesystem equal",
        stock.fs.len()
    );
}

/// True when `text` has `reference` (say `Dockerfile:3`) not followed by another digit.
fn has_line_ref(text: &str, reference: &str) -> bool {
    text.match_indices(reference)
        .any(|(i, _)| !text[i + reference.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn check_error_output(name: &str, who: &str, out: &Output, expected: &[String]) -> Vec<String> {
    let text = output_text(out);
    let mut problems = Vec::new();
    if out.status.success() {
        problems.push(format!("{name}: the {who} build succeeded; it must fail"));
        return problems;
    }
    if !text.contains(&expected[0]) {
        problems.push(format!(
            "{name}: the {who} output lacks the message {:?}",
            expected[0]
        ));
    }
    if !has_line_ref(&text, &expected[1]) {
        problems.push(format!(
            "{name}: the {who} output lacks the line reference {:?}",
            expected[1]
        ));
    }
    if let Some(snippet) = expected.get(2) {
        let snippet_line = |l: &str| {
            l.split_once(">>>")
                .is_some_and(|(_, rest)| rest.trim() == snippet.as_str())
        };
        if !text.lines().any(snippet_line) {
            problems.push(format!(
                "{name}: the {who} output has no `>>> {snippet}` snippet line"
            ));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("--- {who} output (end) ---\n{}", tail(&text, 40)));
    }
    problems
}

fn run_error(name: &str) {
    if !e2e_enabled(name) {
        return;
    }
    let dir = errors_dir().join(name);
    let expected: Vec<String> = fs::read_to_string(dir.join("expected"))
        .unwrap_or_else(|e| panic!("{}/expected: {e}", dir.display()))
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        expected.len() >= 2,
        "{name}/expected needs a message line and a `Dockerfile:N` line"
    );
    let scratch = Scratch::new(&format!("err-{name}"));

    let mut args = frontend_args(&dir, Frontend::Hoard, &scratch.path);
    args.extend(case_flags(&dir));
    args.push(".".into());
    let hoard = buildx(&dir, &args);
    let mut problems = check_error_output(name, &Frontend::Hoard.to_string(), &hoard, &expected);

    if dir.join("stock").exists() {
        let mut args = frontend_args(&dir, Frontend::Stock, &scratch.path);
        args.extend(case_flags(&dir));
        args.push(".".into());
        let stock = buildx(&dir, &args);
        problems.extend(check_error_output(name, "stock", &stock, &expected));
        if stock.status.code() != hoard.status.code() {
            problems.push(format!(
                "{name}: exit status stock {} != hoard {}",
                stock.status, hoard.status
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `buildx bake` with a `target:` context, which reaches the frontend as the named context
/// `input:dep` plus a frontend input: hoard's image must equal the stock frontend's.
#[test]
fn bake_target_context() {
    if !e2e_enabled("bake_target_context") {
        return;
    }
    let dir = root().join("testdata/bake/target_context");
    let mut scratch = Scratch::new("bake-target-context");
    let mut images = Vec::new();
    for (who, syntax) in [
        ("stock", String::new()),
        (
            "hoard",
            if selftest() {
                String::new()
            } else {
                hoard_image()
            },
        ),
    ] {
        let out = scratch.path.join(format!("{who}.tar"));
        let o = std::process::Command::new("docker")
            .current_dir(&dir)
            .args(["buildx", "bake", "--builder", "default", "--progress=plain"])
            .arg(format!("--allow=fs.write={}", scratch.path.display()))
            .arg("main")
            .env("OUT", &out)
            .env("SYNTAX", &syntax)
            .env("BUILDX_NO_DEFAULT_ATTESTATIONS", "1")
            .env_remove("BUILDX_BUILDER")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run docker buildx bake");
        if !o.status.success() {
            scratch.keep = true;
            panic!("{who} bake failed:\n{}", tail(&output_text(&o), 60));
        }
        images.push(load_oci(&out).unwrap_or_else(|e| panic!("{who}: {e}")));
    }
    let diffs = compare_images(&images[0], &images[1]);
    if !diffs.is_empty() {
        scratch.keep = true;
        panic!(
            "{}",
            report("bake_target_context", "stock", "hoard", &diffs)
        );
    }
}

/// `--build-context page=http://.../page.txt`. The daemon's own stock frontend (BuildKit v0.25)
/// fails on a plain http(s) context ("invalid argument"; fixed upstream, which also names the
/// file `context`), so hoard's image is checked on its own: the file arrives as `/context`.
#[test]
fn named_context_http() {
    if !e2e_enabled("named_context_http") || selftest() {
        return;
    }
    let mut scratch = Scratch::new("named-context-http");
    let served = scratch.path.join("served");
    let ctx = scratch.path.join("ctx");
    fs::create_dir_all(&served).unwrap();
    fs::create_dir_all(&ctx).unwrap();
    let page = b"a page served over http\n";
    fs::write(served.join("page.txt"), page).unwrap();
    fs::write(
        ctx.join("Dockerfile"),
        "FROM hoard-test/busybox:latest\nRUN --mount=from=page,target=/p cp /p/context /mounted.txt\nCOPY --from=page /context /copied.txt\n",
    )
    .unwrap();
    let port = free_port();
    let mut server = start_server(
        std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&served),
        port,
    );
    let dest = scratch.path.join("hoard.tar");
    let mut args = frontend_args(&ctx, Frontend::Hoard, &scratch.path);
    args.extend([
        "--build-context".to_string(),
        format!("page=http://127.0.0.1:{port}/page.txt"),
        "--output".into(),
        format!(
            "type=oci,dest={},compression=uncompressed,force-compression=true",
            dest.display()
        ),
        ".".into(),
    ]);
    let out = buildx(&ctx, &args);
    let _ = server.kill();
    let _ = server.wait();
    if !out.status.success() {
        scratch.keep = true;
        panic!("hoard build failed:\n{}", tail(&output_text(&out), 60));
    }
    let img = load_oci(&dest).unwrap();
    let want = hex(&<sha2::Sha256 as sha2::Digest>::digest(page));
    for f in ["/mounted.txt", "/copied.txt"] {
        assert_eq!(
            img.fs.get(f).map(|n| n.hash.as_str()),
            Some(want.as_str()),
            "{f}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// The comparator's own tests

/// Builds tiny images differing in one respect each and checks the comparator catches every
/// one, and passes an image against a rebuild of itself.
#[test]
fn comparator_detects_differences() {
    if !e2e_enabled("comparator_detects_differences") {
        return;
    }
    let scratch = Scratch::new("comparator");
    let ctx = scratch.path.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    fs::write(ctx.join("f"), "same\n").unwrap();
    fs::write(ctx.join("g"), "different\n").unwrap();
    let variants: &[(&str, &str, &str)] = &[
        ("base", "COPY f /f\nENV X=1", ""),
        ("base_again", "COPY f /f\nENV X=1", ""),
        (
            "mode",
            "COPY --chmod=0755 f /f\nENV X=1",
            "/f: file mode=0644",
        ),
        (
            "owner",
            "COPY --chown=1000:1000 f /f\nENV X=1",
            "owner=0:0 size=5",
        ),
        ("content", "COPY g /f\nENV X=1", "/f: file"),
        ("config", "COPY f /f\nENV X=2", "config.config.Env"),
        (
            "extra_file",
            "COPY f /f\nCOPY g /g\nENV X=1",
            "/g: (absent)",
        ),
    ];
    let mut images = BTreeMap::new();
    for (name, body, _) in variants {
        let df = ctx.join(format!("{name}.Dockerfile"));
        fs::write(&df, format!("FROM hoard-test/busybox\n{body}\n")).unwrap();
        let dest = scratch.path.join(format!("{name}.tar"));
        let args: Vec<String> = vec![
            "-f".into(),
            df.display().to_string(),
            "--output".into(),
            format!(
                "type=oci,dest={},compression=uncompressed,force-compression=true",
                dest.display()
            ),
            ".".into(),
        ];
        let out = buildx(&ctx, &args);
        assert!(
            out.status.success(),
            "{name}: {}",
            tail(&output_text(&out), 30)
        );
        images.insert(*name, load_oci(&dest).unwrap());
    }
    let base = &images["base"];
    let same = compare_images(base, &images["base_again"]);
    assert!(
        same.is_empty(),
        "an image must equal its own rebuild: {same:?}"
    );
    for (name, _, expect) in &variants[2..] {
        let diffs = compare_images(base, &images[name]);
        assert!(
            !diffs.is_empty(),
            "{name}: the comparator found no difference"
        );
        assert!(
            diffs.iter().any(|d| d.contains(expect)),
            "{name}: no difference mentions {expect:?}: {diffs:?}"
        );
        eprintln!("{}", report(name, "base", name, &diffs));
    }
}
