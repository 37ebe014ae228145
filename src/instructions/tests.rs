//! Tests on hand-built nodes (independent of the parser), laid out like the stock parser's.

use super::*;
use crate::error::Span;
use crate::expand::Lexer;
use crate::parser::{Dockerfile, Heredoc, Node};

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A node for `original` (the keyword is its first word), with the given flags and args.
fn node(line: usize, original: &str, flags: &[&str], args: &[&str]) -> Node {
    Node {
        keyword: original
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_lowercase(),
        flags: strs(flags),
        args: strs(args),
        json: false,
        inner: None,
        original: original.to_string(),
        heredocs: Vec::new(),
        span: Span::line(line),
        comments: Vec::new(),
    }
}

fn json(mut n: Node) -> Node {
    n.json = true;
    n
}

fn heredoc(name: &str, content: &str, expand: bool, chomp: bool) -> Heredoc {
    Heredoc {
        name: name.into(),
        content: content.into(),
        expand,
        chomp,
    }
}

fn cmd(n: Node) -> Command {
    parse_command(&n).unwrap_or_else(|e| panic!("{}: {e:?}", n.original))
}

fn err(n: Node) -> String {
    match parse_command(&n) {
        Ok(c) => panic!("{} should fail, got {c:?}", n.original),
        Err(e) => {
            assert_eq!(e.span, Some(n.span));
            e.message
        }
    }
}

fn df(nodes: Vec<Node>) -> Dockerfile {
    Dockerfile {
        nodes,
        ..Default::default()
    }
}

fn lex_expander(env: &[(&str, &str)]) -> impl FnMut(&str) -> crate::Result<String> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |w: &str| Ok(Lexer::new('\\').process_word(w, &env)?)
}

#[test]
fn stages_and_meta_args() {
    let f = parse(&df(vec![
        node(1, "ARG VERSION=1.0", &[], &["VERSION=1.0"]),
        node(2, "ARG BASE", &[], &["BASE"]),
        node(
            3,
            "FROM --platform=$BUILDPLATFORM golang:${VERSION} AS Build",
            &["--platform=$BUILDPLATFORM"],
            &["golang:${VERSION}", "AS", "Build"],
        ),
        node(4, "ARG VERSION", &[], &["VERSION"]),
        node(5, "RUN go build", &[], &["go build"]),
        node(6, "from scratch", &[], &["scratch"]),
        node(
            7,
            "COPY --from=build /out /out",
            &["--from=build"],
            &["/out", "/out"],
        ),
    ]))
    .unwrap();
    assert_eq!(f.meta_args.len(), 2);
    assert_eq!(
        f.meta_args[0].args,
        vec![("VERSION".to_string(), Some("1.0".to_string()))]
    );
    assert_eq!(f.meta_args[1].args, vec![("BASE".to_string(), None)]);
    assert_eq!(f.stages.len(), 2);
    let s = &f.stages[0];
    assert_eq!(s.name.as_deref(), Some("build"));
    assert_eq!(s.base, "golang:${VERSION}");
    assert_eq!(s.platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(s.span, Span::line(3));
    assert_eq!(s.keyword, "FROM");
    assert_eq!(s.commands.len(), 2);
    assert!(matches!(&s.commands[0], Command::Arg(a) if a.args[0].0 == "VERSION"));
    assert_eq!(s.commands[1].name(), "run");
    assert_eq!(s.commands[1].original(), "RUN go build");
    let s = &f.stages[1];
    assert_eq!(
        (s.name.clone(), s.base.as_str(), s.platform.clone()),
        (None, "scratch", None)
    );
    assert!(matches!(&s.commands[0], Command::Copy(c) if c.from.as_deref() == Some("build")));
    // `Build` is not lower case.
    assert_eq!(f.warnings.len(), 1);
    assert_eq!(f.warnings[0].rule, "StageNameCasing");
    assert_eq!(
        f.warnings[0].message,
        "Stage name 'Build' should be lowercase"
    );
}

#[test]
fn from_errors_and_lints() {
    let e = parse(&df(vec![node(1, "FROM a b", &[], &["a", "b"])])).unwrap_err();
    assert_eq!(
        e.message,
        "dockerfile parse error on line 1: FROM requires either one or three arguments"
    );
    assert_eq!(e.span, Some(Span::line(1)));
    let e = parse(&df(vec![node(2, "FROM a AS 1x", &[], &["a", "AS", "1x"])])).unwrap_err();
    assert_eq!(
        e.message,
        "dockerfile parse error on line 2: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"
    );
    let e = parse(&df(vec![node(1, "FROM --foo=x a", &["--foo=x"], &["a"])])).unwrap_err();
    assert_eq!(
        e.message,
        "dockerfile parse error on line 1: unknown flag: --foo"
    );
    assert!(parse(&df(vec![node(
        1,
        "FROM a as b-c_d.1",
        &[],
        &["a", "as", "b-c_d.1"]
    )]))
    .is_ok());
    let f = parse(&df(vec![node(1, "FROM a as b", &[], &["a", "as", "b"])])).unwrap();
    assert_eq!(f.warnings[0].rule, "FromAsCasing");
    assert_eq!(
        f.warnings[0].message,
        "'as' and 'FROM' keywords' casing do not match"
    );
    let f = parse(&df(vec![node(1, "from a AS b", &[], &["a", "AS", "b"])])).unwrap();
    assert_eq!(
        f.warnings[0].message,
        "'AS' and 'from' keywords' casing do not match"
    );
    let f = parse(&df(vec![node(1, "From a AS b", &[], &["a", "AS", "b"])])).unwrap();
    assert!(f.warnings.is_empty());
    // FROM is not a command.
    assert!(parse_command(&node(1, "FROM a", &[], &["a"])).is_err());
}

#[test]
fn commands_before_from() {
    let e = parse(&df(vec![node(3, "RUN x", &[], &["x"])])).unwrap_err();
    assert_eq!(e.message, "no build stage in current context");
    assert_eq!(e.span, Some(Span::line(3)));
    // ARG after a stage started is a stage command, not a meta arg.
    let f = parse(&df(vec![
        node(1, "FROM a", &[], &["a"]),
        node(2, "ARG x", &[], &["x"]),
    ]))
    .unwrap();
    assert!(f.meta_args.is_empty());
    // An empty file has no stages (the converter reports that).
    assert!(parse(&df(vec![])).unwrap().stages.is_empty());
}

#[test]
fn unknown_instruction() {
    assert_eq!(
        err(node(4, "BADCMD bar", &[], &["bar"])),
        "unknown instruction: BADCMD"
    );
    assert_eq!(
        err(node(4, "xyzzy bar", &[], &["bar"])),
        "unknown instruction: xyzzy"
    );
    // Levenshtein distance 2 from FROM, as in the stock frontend.
    assert_eq!(
        err(node(4, "FOO bar", &[], &["bar"])),
        "unknown instruction: FOO (did you mean FROM?)"
    );
    assert_eq!(
        err(node(4, "FORM bar", &[], &["bar"])),
        "unknown instruction: FORM (did you mean FROM?)"
    );
    assert_eq!(
        err(node(4, "cpy a b", &[], &["a", "b"])),
        "unknown instruction: cpy (did you mean copy?)"
    );
    assert_eq!(
        err(node(4, "Rum x", &[], &["x"])),
        "unknown instruction: Rum (did you mean run?)"
    );
    let e = parse(&df(vec![
        node(1, "FROM a", &[], &["a"]),
        node(2, "FNTRYPOINT x", &[], &["x"]),
    ]))
    .unwrap_err();
    assert_eq!(e.message, "dockerfile parse error on line 2: unknown instruction: FNTRYPOINT (did you mean ENTRYPOINT?)");
}

#[test]
fn run_forms() {
    let Command::Run(r) = cmd(node(1, "RUN echo hi", &[], &["echo hi"])) else {
        panic!()
    };
    assert_eq!(r.cmd, ShellOrExec::Shell("echo hi".into()));
    assert_eq!(r.cmd.args(), strs(&["echo hi"]));
    assert!(r.cmd.prepend_shell() && r.files.is_empty());
    assert_eq!(
        (r.network, r.security),
        (NetworkMode::Default, SecurityMode::Sandbox)
    );
    assert!(r.flags_used.is_empty() && r.mounts.is_empty() && r.mount_specs.is_empty());
    let Command::Run(r) = cmd(json(node(
        1,
        "RUN [\"echo\", \"hi\"]",
        &[],
        &["echo", "hi"],
    ))) else {
        panic!()
    };
    assert_eq!(r.cmd, ShellOrExec::Exec(strs(&["echo", "hi"])));
    assert!(r.cmd.is_exec());
    let Command::Run(r) = cmd(node(
        1,
        "RUN --network=none --security=insecure x",
        &["--network=none", "--security=insecure"],
        &["x"],
    )) else {
        panic!()
    };
    assert_eq!(
        (r.network, r.security),
        (NetworkMode::None, SecurityMode::Insecure)
    );
    assert_eq!(r.flags_used, strs(&["network", "security"]));
    let Command::Run(r) = cmd(node(1, "RUN --network=host x", &["--network=host"], &["x"])) else {
        panic!()
    };
    assert_eq!(r.network, NetworkMode::Host);
    assert_eq!(
        err(node(
            1,
            "RUN --network=bridge x",
            &["--network=bridge"],
            &["x"]
        )),
        "invalid network mode \"bridge\""
    );
    assert_eq!(
        err(node(1, "RUN --security=x x", &["--security=x"], &["x"])),
        "security \"x\" is not valid"
    );
    assert_eq!(
        err(node(
            1,
            "RUN --networks=host x",
            &["--networks=host"],
            &["x"]
        )),
        "unknown flag: --networks (did you mean network?)"
    );
    assert_eq!(
        err(node(1, "RUN --network x", &["--network"], &["x"])),
        "missing a value on flag: --network"
    );
    let Command::Run(r) = cmd(node(1, "RUN --device=gpu x", &["--device=gpu"], &["x"])) else {
        panic!()
    };
    assert_eq!(r.devices[0].name, "gpu");
}

#[test]
fn run_heredoc() {
    let mut n = node(1, "RUN <<EOF", &[], &["<<EOF"]);
    n.heredocs = vec![heredoc("EOF", "echo hi\n", true, false)];
    n.span = Span::new(1, 3);
    let Command::Run(r) = cmd(n) else { panic!() };
    assert_eq!(r.cmd.args(), strs(&["<<EOF"]));
    assert_eq!(
        r.files,
        vec![InlineFile {
            name: "EOF".into(),
            data: "echo hi\n".into(),
            chomp: false
        }]
    );
    assert!(r.cmd.prepend_shell());
    assert!(parse_heredoc_marker(&r.cmd.args()[0]).is_some());
    assert_eq!(r.span, Span::new(1, 3));
}

#[test]
fn run_mounts() {
    let flags = [
        "--mount=type=cache,target=/root/.cache,id=pip-$TARGETARCH",
        "--mount=type=bind,from=build,source=/out,target=/in",
    ];
    let n = node(1, "RUN --mount=... pip install", &flags, &["pip install"]);
    let Command::Run(mut r) = cmd(n) else {
        panic!()
    };
    assert_eq!(r.mount_specs, strs(&flags.map(|f| &f[8..])));
    // Before expansion only `from` is known.
    let froms: Vec<_> = r.mounts.iter().map(|m| m.from.clone()).collect();
    assert_eq!(froms, vec![None, Some("build".to_string())]);
    assert_eq!(r.mounts[0].kind, MountType::Bind);
    assert_eq!(r.flags_used, strs(&["mount"]));
    r.expand(&mut lex_expander(&[("TARGETARCH", "arm64")]))
        .unwrap();
    assert_eq!(r.mounts.len(), 2);
    assert_eq!(r.mounts[0].kind, MountType::Cache);
    assert_eq!(r.mounts[0].id, "pip-arm64");
    assert_eq!(r.mounts[0].target, "/root/.cache");
    assert!(!r.mounts[0].read_only);
    assert_eq!(
        (
            r.mounts[1].from.as_deref(),
            r.mounts[1].source.as_str(),
            r.mounts[1].read_only
        ),
        (Some("build"), "/out", true)
    );

    // Bad options are only found when expanding (as in the stock frontend)...
    let Command::Run(mut r) = cmd(node(1, "RUN x", &["--mount=type=cache,bogus=1"], &["x"])) else {
        panic!()
    };
    assert_eq!(
        r.expand(&mut lex_expander(&[])).unwrap_err().message,
        "unexpected key 'bogus' in 'bogus=1'"
    );
    // ...but CSV errors and variables in `from` are found while parsing.
    assert_eq!(
        err(node(1, "RUN x", &["--mount=from=$X,target=/x"], &["x"])),
        "'from' doesn't support variable expansion, define alias stage instead"
    );
    assert!(err(node(1, "RUN x", &["--mount=target=\"x"], &["x"]))
        .starts_with("failed to parse csv mounts: parse error"));
    // Expansion errors surface.
    let Command::Run(mut r) = cmd(node(
        1,
        "RUN x",
        &["--mount=type=cache,target=${T:?no target}"],
        &["x"],
    )) else {
        panic!()
    };
    assert!(r
        .expand(&mut lex_expander(&[]))
        .unwrap_err()
        .message
        .ends_with("T: no target"));
}

#[test]
fn copy_and_add() {
    let Command::Copy(c) = cmd(node(
        1,
        "COPY --from=b --chown=1:1 --chmod=755 --link --parents --exclude=*.md --exclude=x a b /dst/",
        &["--from=b", "--chown=1:1", "--chmod=755", "--link", "--parents", "--exclude=*.md", "--exclude=x"],
        &["a", "b", "/dst/"],
    )) else {
        panic!()
    };
    assert_eq!(c.sources, strs(&["a", "b"]));
    assert_eq!(c.dest, "/dst/");
    assert_eq!(
        (c.from.as_deref(), c.chown.as_deref(), c.chmod.as_deref()),
        (Some("b"), Some("1:1"), Some("755"))
    );
    assert!(c.link && c.parents);
    assert_eq!(c.exclude, strs(&["*.md", "x"]));
    let Command::Copy(c) = cmd(node(
        1,
        "COPY --link=false a b",
        &["--link=false"],
        &["a", "b"],
    )) else {
        panic!()
    };
    assert!(!c.link && !c.parents && c.from.is_none() && c.chown.is_none());

    assert_eq!(
        err(node(1, "COPY a", &[], &["a"])),
        "COPY requires at least two arguments, but only one was provided. Destination could not be determined"
    );
    assert!(err(node(1, "ADD a", &["--bogus"], &["a"]))
        .starts_with("ADD requires at least two arguments"));
    assert_eq!(
        err(node(
            1,
            "COPY --checksum=x a b",
            &["--checksum=x"],
            &["a", "b"]
        )),
        "unknown flag: --checksum"
    );
    assert_eq!(
        err(node(
            1,
            "COPY --link=maybe a b",
            &["--link=maybe"],
            &["a", "b"]
        )),
        "expecting boolean value for flag --link, not: maybe"
    );
    assert_eq!(
        err(node(
            1,
            "COPY --from=a --from=b a b",
            &["--from=a", "--from=b"],
            &["a", "b"]
        )),
        "duplicate flag specified: --from"
    );

    let Command::Add(a) = cmd(node(
        1,
        "ADD --keep-git-dir --checksum=sha256:abc --unpack=false --chmod=644 https://x/y.tgz /y",
        &[
            "--keep-git-dir",
            "--checksum=sha256:abc",
            "--unpack=false",
            "--chmod=644",
        ],
        &["https://x/y.tgz", "/y"],
    )) else {
        panic!()
    };
    assert_eq!((a.keep_git_dir, a.unpack), (Some(true), Some(false)));
    assert_eq!(a.checksum.as_deref(), Some("sha256:abc"));
    let Command::Add(a) = cmd(node(1, "ADD a b", &[], &["a", "b"])) else {
        panic!()
    };
    assert_eq!((a.keep_git_dir, a.unpack, a.link), (None, None, false));
    assert_eq!(
        err(node(1, "ADD --from=x a b", &["--from=x"], &["a", "b"])),
        "unknown flag: --from"
    );
}

#[test]
fn copy_heredocs() {
    let mut n = node(
        1,
        "COPY <<one <<-\"two\" /dst/",
        &[],
        &["<<one", "<<-\"two\"", "/dst/"],
    );
    n.heredocs = vec![
        heredoc("one", "hello $X\n", true, false),
        heredoc("two", "\tbye $X\n", false, true),
    ];
    let Command::Copy(mut c) = cmd(n) else {
        panic!()
    };
    assert!(c.sources.is_empty());
    assert_eq!(
        c.contents,
        vec![
            SourceContent {
                path: "one".into(),
                data: "hello $X\n".into(),
                expand: true
            },
            SourceContent {
                path: "two".into(),
                data: "bye $X\n".into(),
                expand: false
            },
        ]
    );
    let mut c2 = Command::Copy(c.clone());
    assert!(c2.expand_raw(&mut lex_expander(&[("X", "x")])).unwrap());
    let Command::Copy(c2) = c2 else { panic!() };
    assert_eq!(c2.contents[0].data, "hello x\n");
    assert_eq!(c2.contents[1].data, "bye $X\n");
    c.expand(&mut lex_expander(&[])).unwrap();
    assert_eq!(c.dest, "/dst/");

    let mut n = node(1, "COPY a <<EOF", &[], &["a", "<<EOF"]);
    n.heredocs = vec![heredoc("EOF", "x\n", true, false)];
    assert_eq!(err(n), "COPY cannot accept a heredoc as a destination");
}

#[test]
fn env_label_expand() {
    let n = node(
        1,
        "ENV A=1 B=\"$A x\"",
        &[],
        &["A", "1", "=", "B", "$A x", "="],
    );
    let mut c = cmd(n);
    let Command::Env(e) = &c else { panic!() };
    assert_eq!(e.pairs[1], ("B".to_string(), "$A x".to_string()));
    assert!(!e.legacy_format);
    assert!(c.expand(&mut lex_expander(&[("A", "one")])).unwrap());
    let Command::Env(e) = &c else { panic!() };
    assert_eq!(e.pairs[1].1, "one x");
    let Command::Env(e) = cmd(node(1, "ENV A b c", &[], &["A", "b c", ""])) else {
        panic!()
    };
    assert!(e.legacy_format);

    assert_eq!(
        err(node(1, "ENV", &[], &[])),
        "ENV requires at least one argument"
    );
    assert_eq!(
        err(node(1, "LABEL", &[], &[])),
        "LABEL requires at least one argument"
    );
    assert_eq!(
        err(node(1, "ENV a b c", &[], &["a", "b", "c", ""])),
        "Bad input to ENV, too many arguments"
    );
    assert_eq!(
        err(node(1, "LABEL =x", &[], &["", "x", "="])),
        "LABEL names can not be blank"
    );
    assert_eq!(
        err(node(1, "ENV --x a=b", &["--x"], &[])),
        "unknown flag: --x"
    );

    let mut l = LabelCommand::new("k", "$v", true);
    l.expand(&mut lex_expander(&[("v", "1")])).unwrap();
    assert_eq!(l.pairs[0].1, "$v");
    assert_eq!(l.original, "LABEL k=$v");
}

#[test]
fn arg() {
    let Command::Arg(a) = cmd(node(
        1,
        "ARG a=1 b c= d=x=y",
        &[],
        &["a=1", "b", "c=", "d=x=y"],
    )) else {
        panic!()
    };
    let want = [
        ("a", Some("1")),
        ("b", None),
        ("c", Some("")),
        ("d", Some("x=y")),
    ];
    for (got, (k, v)) in a.args.iter().zip(want) {
        assert_eq!((got.0.as_str(), got.1.as_deref()), (k, v));
    }
    assert_eq!(
        err(node(1, "ARG", &[], &[])),
        "ARG requires at least one argument"
    );
    assert_eq!(
        err(node(1, "ARG =x", &[], &["=x"])),
        "ARG names can not be blank"
    );
    // ARG ignores flags, as the stock frontend does.
    assert!(matches!(
        cmd(node(1, "ARG --x a", &["--x"], &["a"])),
        Command::Arg(_)
    ));
    // Command::expand skips ARG; ArgCommand::expand expands.
    let mut c = cmd(node(1, "ARG a=$X", &[], &["a=$X"]));
    assert!(!c.expand(&mut lex_expander(&[("X", "1")])).unwrap());
    let Command::Arg(mut a) = c else { panic!() };
    a.expand(&mut lex_expander(&[("X", "1")])).unwrap();
    assert_eq!(a.args[0].1.as_deref(), Some("1"));
}

#[test]
fn single_argument_commands() {
    for kw in ["MAINTAINER", "WORKDIR", "USER", "STOPSIGNAL"] {
        assert_eq!(
            err(node(1, kw, &[], &[])),
            format!("{kw} requires exactly one argument")
        );
        assert_eq!(
            err(node(1, kw, &[], &["a", "b"])),
            format!("{kw} requires exactly one argument")
        );
    }
    let mut c = cmd(node(1, "WORKDIR $HOME/app", &[], &["$HOME/app"]));
    c.expand(&mut lex_expander(&[("HOME", "/root")])).unwrap();
    assert!(matches!(&c, Command::Workdir(w) if w.path == "/root/app"));
    let mut c = cmd(node(1, "USER ${U:-nobody}", &[], &["${U:-nobody}"]));
    c.expand(&mut lex_expander(&[])).unwrap();
    assert!(matches!(&c, Command::User(u) if u.user == "nobody"));
    let mut c = cmd(node(1, "STOPSIGNAL $S", &["--ignored"], &["$S"]));
    c.expand(&mut lex_expander(&[("S", "SIGKILL")])).unwrap();
    assert!(matches!(&c, Command::StopSignal(s) if s.signal == "SIGKILL"));
    assert_eq!(
        err(node(1, "MAINTAINER --boo joe", &["--boo"], &["joe"])),
        "unknown flag: --boo"
    );
    assert!(
        matches!(cmd(node(1, "MAINTAINER joe", &[], &["joe"])), Command::Maintainer(m) if m.maintainer == "joe")
    );
    let f = parse(&df(vec![
        node(1, "FROM a", &[], &["a"]),
        node(2, "MAINTAINER joe", &[], &["joe"]),
    ]))
    .unwrap();
    assert_eq!(f.warnings[0].rule, "MaintainerDeprecated");
    assert_eq!(f.warnings[0].span, Some(Span::line(2)));
}

#[test]
fn cmd_entrypoint_shell() {
    let Command::Cmd(c) = cmd(node(1, "CMD echo $HOME", &[], &["echo $HOME"])) else {
        panic!()
    };
    assert_eq!(c.cmd.args(), strs(&["echo $HOME"]));
    assert!(c.cmd.prepend_shell());
    let mut cc = Command::Cmd(c);
    assert!(!cc.expand(&mut lex_expander(&[])).unwrap());
    let Command::Entrypoint(e) = cmd(json(node(1, "ENTRYPOINT []", &[], &[]))) else {
        panic!()
    };
    assert!(e.cmd.args().is_empty() && e.cmd.is_exec());
    let Command::Cmd(c) = cmd(json(node(1, "CMD [\"a\",\"b c\"]", &[], &["a", "b c"]))) else {
        panic!()
    };
    assert_eq!(c.cmd.args(), strs(&["a", "b c"]));
    let Command::Shell(s) = cmd(json(node(
        1,
        "SHELL [\"bash\",\"-c\"]",
        &[],
        &["bash", "-c"],
    ))) else {
        panic!()
    };
    assert_eq!(s.shell, strs(&["bash", "-c"]));
    assert_eq!(
        err(node(1, "SHELL bash -c", &[], &["bash -c"])),
        "SHELL requires the arguments to be in JSON form"
    );
    assert_eq!(
        err(json(node(1, "SHELL []", &[], &[]))),
        "SHELL requires at least one argument"
    );
    assert_eq!(
        err(node(1, "CMD --x a", &["--x"], &["a"])),
        "unknown flag: --x"
    );
}

#[test]
fn expose_volume() {
    let Command::Expose(e) = cmd(node(
        1,
        "EXPOSE 8080 443/tcp 80",
        &[],
        &["8080", "443/tcp", "80"],
    )) else {
        panic!()
    };
    assert_eq!(e.ports, strs(&["443/tcp", "80", "8080"]));
    assert_eq!(
        err(node(1, "EXPOSE", &[], &[])),
        "EXPOSE requires at least one argument"
    );
    let mut c = cmd(json(node(
        1,
        "VOLUME [\" /a \", \"$D\"]",
        &[],
        &[" /a ", "$D"],
    )));
    c.expand(&mut lex_expander(&[("D", "/d")])).unwrap();
    assert!(matches!(&c, Command::Volume(v) if v.volumes == strs(&["/a", "/d"])));
    assert_eq!(
        err(json(node(1, "VOLUME [\" \"]", &[], &[" "]))),
        "VOLUME specified can not be an empty string"
    );
    assert_eq!(
        err(node(1, "VOLUME", &[], &[])),
        "VOLUME requires at least one argument"
    );
}

#[test]
fn healthcheck() {
    let hc = |n: Node| match cmd(n) {
        Command::Healthcheck(h) => h,
        c => panic!("{c:?}"),
    };
    let h = hc(node(
        1,
        "HEALTHCHECK --interval=5s --timeout=3s --retries=3 --start-period=1m --start-interval=500ms CMD /check --quiet",
        &["--interval=5s", "--timeout=3s", "--retries=3", "--start-period=1m", "--start-interval=500ms"],
        &["CMD", "/check --quiet"],
    ));
    assert_eq!(h.test, strs(&["CMD-SHELL", "/check --quiet"]));
    assert_eq!(
        (h.interval, h.timeout, h.retries),
        (5_000_000_000, 3_000_000_000, 3)
    );
    assert_eq!(
        (h.start_period, h.start_interval),
        (60_000_000_000, 500_000_000)
    );
    let h = hc(json(node(
        1,
        "HEALTHCHECK cmd [\"foo\"]",
        &["--timeout=0s"],
        &["cmd", "foo"],
    )));
    assert_eq!(h.test, strs(&["CMD", "foo"]));
    assert_eq!(h.timeout, 0);
    let h = hc(node(1, "HEALTHCHECK NONE", &["--whatever"], &["NONE"]));
    assert_eq!((h.test, h.interval, h.retries), (strs(&["NONE"]), 0, 0));

    assert_eq!(
        err(node(1, "HEALTHCHECK", &[], &[])),
        "HEALTHCHECK requires at least one argument"
    );
    assert_eq!(
        err(node(1, "HEALTHCHECK NONE x", &[], &["NONE", "x"])),
        "HEALTHCHECK NONE takes no arguments"
    );
    assert_eq!(
        err(node(1, "HEALTHCHECK CMD", &[], &["CMD"])),
        "Missing command after HEALTHCHECK CMD"
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK CONNECT TCP 7000",
            &[],
            &["CONNECT", "TCP 7000"]
        )),
        "Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)"
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK --interval=50ns CMD x",
            &["--interval=50ns"],
            &["CMD", "x"]
        )),
        "Interval \"interval\" cannot be less than 1ms"
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK --timeout=-1s CMD x",
            &["--timeout=-1s"],
            &["CMD", "x"]
        )),
        "Interval \"timeout\" cannot be less than 1ms"
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK --interval=5 CMD x",
            &["--interval=5"],
            &["CMD", "x"]
        )),
        "time: missing unit in duration \"5\""
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK --retries=-1 CMD x",
            &["--retries=-1"],
            &["CMD", "x"]
        )),
        "--retries cannot be negative (-1)"
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK --retries=x CMD x",
            &["--retries=x"],
            &["CMD", "x"]
        )),
        "strconv.ParseInt: parsing \"x\": invalid syntax"
    );
    assert_eq!(
        err(node(
            1,
            "HEALTHCHECK --intervl=1s CMD x",
            &["--intervl=1s"],
            &["CMD", "x"]
        )),
        "unknown flag: --intervl (did you mean interval?)"
    );
}

#[test]
fn onbuild() {
    let mut n = node(1, "ONBUILD RUN echo hi", &[], &["RUN", "echo hi"]);
    n.inner = Some(Box::new(node(1, "RUN echo hi", &[], &["echo hi"])));
    let Command::Onbuild(o) = cmd(n) else {
        panic!()
    };
    assert_eq!(o.expression, "RUN echo hi");
    assert_eq!(o.inner.as_ref().map(|n| n.keyword.as_str()), Some("run"));
    // The trigger can be parsed on its own later.
    assert!(matches!(
        parse_command(o.inner.as_ref().unwrap()).unwrap(),
        Command::Run(_)
    ));

    let mut n = node(
        1,
        "  onbuild   COPY <<EOF /x",
        &[],
        &["COPY", "<<EOF", "/x"],
    );
    n.heredocs = vec![heredoc("EOF", "data\n", true, false)];
    let Command::Onbuild(o) = cmd(n) else {
        panic!()
    };
    assert_eq!(o.expression, "COPY <<EOF /x\ndata\nEOF");
    assert_eq!(o.original, "onbuild   COPY <<EOF /x");

    let inner = |kw: &str| {
        let mut n = node(1, &format!("ONBUILD {kw} x"), &[], &[kw, "x"]);
        n.inner = Some(Box::new(node(1, &format!("{kw} x"), &[], &["x"])));
        n
    };
    assert_eq!(
        err(inner("ONBUILD")),
        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
    );
    assert_eq!(
        err(inner("FROM")),
        "FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        err(inner("maintainer")),
        "MAINTAINER isn't allowed as an ONBUILD trigger"
    );
    // Without an inner node, the first argument word is the trigger.
    assert_eq!(
        err(node(1, "ONBUILD FROM x", &[], &["FROM x"])),
        "FROM isn't allowed as an ONBUILD trigger"
    );
    assert_eq!(
        err(node(1, "ONBUILD", &[], &[])),
        "ONBUILD requires at least one argument"
    );
}

#[test]
fn expand_dispatch_set() {
    // Which commands `Command::expand` touches, matching the stock SupportsSingleWordExpansion.
    let mut f = lex_expander(&[("X", "1")]);
    let mut yes = vec![
        cmd(node(1, "ENV a=$X", &[], &["a", "$X", "="])),
        cmd(node(1, "LABEL a=$X", &[], &["a", "$X", "="])),
        cmd(node(1, "COPY $X /$X", &["--chown=$X"], &["$X", "/$X"])),
        cmd(node(1, "ADD $X /$X", &["--checksum=$X"], &["$X", "/$X"])),
        cmd(node(1, "WORKDIR /$X", &[], &["/$X"])),
        cmd(node(1, "USER $X", &[], &["$X"])),
        cmd(node(1, "VOLUME $X", &[], &["$X"])),
        cmd(node(1, "STOPSIGNAL $X", &[], &["$X"])),
        cmd(node(1, "RUN x", &[], &["x"])),
    ];
    for c in &mut yes {
        assert!(c.expand(&mut f).unwrap(), "{}", c.name());
    }
    let Command::Copy(c) = &yes[2] else { panic!() };
    assert_eq!(
        (c.chown.as_deref(), c.sources[0].as_str(), c.dest.as_str()),
        (Some("1"), "1", "/1")
    );
    let Command::Add(a) = &yes[3] else { panic!() };
    assert_eq!(a.checksum.as_deref(), Some("1"));
    let mut no = vec![
        cmd(node(1, "CMD $X", &[], &["$X"])),
        cmd(node(1, "ENTRYPOINT $X", &[], &["$X"])),
        cmd(node(1, "EXPOSE $X", &[], &["$X"])),
        cmd(node(1, "MAINTAINER $X", &[], &["$X"])),
        cmd(node(1, "HEALTHCHECK CMD $X", &[], &["CMD", "$X"])),
        cmd(node(1, "ARG a=$X", &[], &["a=$X"])),
    ];
    for c in &mut no {
        assert!(!c.expand(&mut f).unwrap(), "{}", c.name());
    }
    assert!(matches!(&no[0], Command::Cmd(c) if c.cmd.args() == strs(&["$X"])));
}

#[test]
fn through_the_parser() {
    let text = "ARG V=1\nFROM alpine:${V} AS base\nRUN --mount=type=cache,target=/var/cache/apk apk add curl\nCOPY --link a b /dst/\nCMD [\"sh\"]\n";
    let dockerfile = crate::parser::parse(text).unwrap();
    let f = parse(&dockerfile).unwrap();
    assert_eq!(f.meta_args.len(), 1);
    assert_eq!(f.stages.len(), 1);
    let s = &f.stages[0];
    assert_eq!(
        (s.name.as_deref(), s.base.as_str()),
        (Some("base"), "alpine:${V}")
    );
    assert_eq!(s.commands.len(), 3);
    let Command::Run(r) = &s.commands[0] else {
        panic!()
    };
    assert_eq!(r.mount_specs, strs(&["type=cache,target=/var/cache/apk"]));
    assert_eq!(r.cmd.args(), strs(&["apk add curl"]));
    let Command::Copy(c) = &s.commands[1] else {
        panic!()
    };
    assert!(c.link);
    assert_eq!(
        (c.sources.clone(), c.dest.as_str()),
        (strs(&["a", "b"]), "/dst/")
    );
    let Command::Cmd(c) = &s.commands[2] else {
        panic!()
    };
    assert_eq!(c.cmd, ShellOrExec::Exec(strs(&["sh"])));
}

#[test]
fn through_the_parser_shapes() {
    let text = "FROM a\nONBUILD RUN echo hi\nONBUILD COPY <<EOF /x\nhello\nEOF\nRUN <<-EOT bash\n\techo\nEOT\nHEALTHCHECK --interval=5s CMD [\"foo\"]\nENV C d e\nMAINTAINER me\nRUN --mount=type=secret,id=tok,env=TOKEN --network=none make\n";
    let f = parse(&crate::parser::parse(text).unwrap()).unwrap();
    let c = &f.stages[0].commands;
    let Command::Onbuild(o) = &c[0] else {
        panic!("{:?}", c[0])
    };
    assert_eq!(o.expression, "RUN echo hi");
    assert!(matches!(
        parse_command(o.inner.as_ref().unwrap()).unwrap(),
        Command::Run(_)
    ));
    let Command::Onbuild(o) = &c[1] else { panic!() };
    assert_eq!(o.expression, "COPY <<EOF /x\nhello\nEOF");
    let Command::Run(r) = &c[2] else { panic!() };
    assert_eq!(r.cmd.args(), strs(&["<<-EOT bash"]));
    assert_eq!(r.files.len(), 1);
    assert_eq!((r.files[0].name.as_str(), r.files[0].chomp), ("EOT", true));
    assert_eq!(r.span, Span::new(6, 8));
    // `<<-EOT bash` is not a lone heredoc marker: the converter reconstitutes the script.
    assert_eq!(parse_heredoc_marker(&r.cmd.args()[0]), None);
    let Command::Healthcheck(h) = &c[3] else {
        panic!()
    };
    assert_eq!(
        (h.test.clone(), h.interval),
        (strs(&["CMD", "foo"]), 5_000_000_000)
    );
    let Command::Env(e) = &c[4] else { panic!() };
    assert_eq!(
        (e.pairs.clone(), e.legacy_format),
        (vec![("C".to_string(), "d e".to_string())], true)
    );
    let Command::Run(r) = &c[6] else { panic!() };
    let mut r = r.clone();
    assert_eq!(r.network, NetworkMode::None);
    r.expand(&mut lex_expander(&[])).unwrap();
    assert_eq!(
        (r.mounts[0].kind, r.mounts[0].env.as_deref()),
        (MountType::Secret, Some("TOKEN"))
    );
    assert_eq!(
        f.warnings
            .iter()
            .map(|w| w.rule.as_str())
            .collect::<Vec<_>>(),
        vec!["MaintainerDeprecated"]
    );
}
