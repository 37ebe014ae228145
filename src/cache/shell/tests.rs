use super::dequote::dequote;
use super::*;
use proptest::prelude::*;

/// argv texts of every invocation.
fn progs(script: &str) -> Vec<Vec<String>> {
    analyze(script)
        .into_iter()
        .map(|i| i.argv.into_iter().map(|w| w.text).collect())
        .collect()
}

fn v(words: &[&[&str]]) -> Vec<Vec<String>> {
    words
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Every span of `inv` covers exactly the written word `written[k]`.
fn assert_spans(script: &str, inv: &Invocation, written: &[&str]) {
    assert_eq!(inv.argv.len(), written.len(), "{inv:?}");
    for (w, exp) in inv.argv.iter().zip(written) {
        let (s, e) = w.span.unwrap_or_else(|| panic!("no span for {w:?}"));
        assert_eq!(&script[s..e], *exp, "{w:?}");
    }
}

fn one(script: &str) -> Analysed {
    let mut a = analyze_detailed(script);
    assert_eq!(a.len(), 1, "{script:?}: {a:#?}");
    a.remove(0)
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn lists_and_pipelines() {
    assert_eq!(
        progs("a 1 && b || c; d | e |& f & g\n! h\n\n  i;j&&k"),
        v(&[
            &["a", "1"],
            &["b"],
            &["c"],
            &["d"],
            &["e"],
            &["f"],
            &["g"],
            &["h"],
            &["i"],
            &["j"],
            &["k"]
        ])
    );
    assert_eq!(
        progs("a &&\n  b ||\n c |\n d"),
        v(&[&["a"], &["b"], &["c"], &["d"]])
    );
    assert_eq!(progs(""), Vec::<Vec<String>>::new());
    assert_eq!(progs(" ;; ; & && | "), Vec::<Vec<String>>::new());
}

#[test]
fn continuations_and_comments() {
    let s = "apt-get install \\\n  -y foo # trailing && rm -rf /\n# whole line\nb";
    assert_eq!(progs(s), v(&[&["apt-get", "install", "-y", "foo"], &["b"]]));
    let a = analyze(s);
    assert_spans(s, &a[0], &["apt-get", "install", "-y", "foo"]);
    // A word split by a continuation has no span.
    let s = "pip in\\\nstall x";
    let a = analyze(s);
    assert_eq!(a[0].argv[1].text, "install");
    assert_eq!(a[0].argv[1].span, None);
    assert!(a[0].argv[2].span.is_some());
    // `#` inside a word is not a comment.
    assert_eq!(progs("echo a#b #c"), v(&[&["echo", "a#b"]]));
}

#[test]
fn quoting_and_spans() {
    let s = r#"echo 'a b' "c $X d" $'e\tf' "g\"h" i\ j 'k'"l"m "${Y:-z}" $"loc""#;
    let a = analyze(s);
    assert_eq!(a.len(), 1);
    let texts: Vec<&str> = a[0].argv.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(
        texts,
        ["echo", "a b", "c $X d", "e\tf", "g\"h", "i j", "klm", "${Y:-z}", "loc"]
    );
    assert_spans(
        s,
        &a[0],
        &[
            "echo",
            "'a b'",
            r#""c $X d""#,
            r"$'e\tf'",
            r#""g\"h""#,
            r"i\ j",
            r#"'k'"l"m"#,
            r#""${Y:-z}""#,
            r#"$"loc""#,
        ],
    );
    // Backslash in double quotes only escapes $ ` " \ and newline.
    assert_eq!(progs(r#"echo "a\nb\\c\$d""#), v(&[&["echo", r"a\nb\c$d"]]));
    // UTF-8 survives, spans stay on char boundaries.
    let s = "echo héllo 'wörld' \\é";
    let a = analyze(s);
    assert_spans(s, &a[0], &["echo", "héllo", "'wörld'", "\\é"]);
    assert_eq!(a[0].argv[3].text, "é");
}

#[test]
fn expansions_kept_and_substitutions_nested() {
    let s = "pip install $(cat reqs.txt | grep -v x) ${PKG} `echo y` \"$(dirname \"$0\")\" $((1+2)) <(pipenv lock)";
    let a = analyze(s);
    let names: Vec<(&str, bool)> = a.iter().map(|i| (i.program(), i.nested)).collect();
    assert_eq!(
        names,
        [
            ("cat", true),
            ("grep", true),
            ("echo", true),
            ("dirname", true),
            ("pipenv", true),
            ("pip", false)
        ]
    );
    let pip = a.last().unwrap();
    let texts: Vec<&str> = pip.argv.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "pip",
            "install",
            "$(cat reqs.txt | grep -v x)",
            "${PKG}",
            "`echo y`",
            "$(dirname \"$0\")",
            "$((1+2))",
            "<(pipenv lock)"
        ]
    );
    assert!(a
        .iter()
        .filter(|i| i.nested)
        .all(|i| i.argv.iter().all(|w| w.span.is_none())));
    assert_spans(
        s,
        pip,
        &[
            "pip",
            "install",
            "$(cat reqs.txt | grep -v x)",
            "${PKG}",
            "`echo y`",
            "\"$(dirname \\\"$0\\\")\"",
            "$((1+2))",
            "<(pipenv lock)",
        ]
        .map(|x| {
            if x.starts_with("\"$(dirname") {
                "\"$(dirname \"$0\")\""
            } else {
                x
            }
        }),
    );
    // Assignment from a substitution: the inner command is found, the cd inside does not leak.
    let a = analyze_detailed("X=$(cd /a && pwd) && make");
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].inv.program(), "pwd");
    assert_eq!(a[0].inv.cwd.as_deref(), Some("/a"));
    assert_eq!(a[1].inv.cwd, None);
    assert_eq!(a[1].shell_vars, pairs(&[("X", "$(cd /a && pwd)")]));
    // Backticks with escapes inside.
    assert_eq!(
        progs("echo `basename \\`pwd\\``")[..2],
        v(&[&["pwd"], &["basename", "`pwd`"]])[..]
    );
}

#[test]
fn subshells_groups_and_cwd() {
    let a = analyze("(cd /x && make) && make install; { cd /y; ls; }; pwd; cd sub && cd ../other/./d && go build");
    let got: Vec<(String, Option<String>)> = a
        .iter()
        .map(|i| (i.program().to_string(), i.cwd.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("make".to_string(), Some("/x".to_string())),
            ("make".into(), None),
            ("ls".into(), Some("/y".into())),
            ("pwd".into(), Some("/y".into())),
            ("go".into(), Some("/y/other/d".into())),
        ]
    );
    // Relative to the step's working directory.
    let a = analyze("cd server && uv sync; cd .. && ls; cd ../up && a");
    assert_eq!(a[0].cwd.as_deref(), Some("server"));
    assert_eq!(a[1].cwd, None);
    assert_eq!(a[2].cwd.as_deref(), Some("../up"));
    // cd -, unknown targets, pipelines and background jobs.
    let a =
        analyze_detailed("cd /a; cd /b; cd - && x; cd $HOME && y; cd /c | z; w; cd /d & v; cd; u");
    let got: Vec<(&str, Option<&str>, bool)> = a
        .iter()
        .map(|i| (i.inv.program(), i.inv.cwd.as_deref(), i.cwd_unknown))
        .collect();
    assert_eq!(
        got,
        [
            ("x", Some("/a"), false),
            ("y", None, true),
            ("z", None, true),
            ("w", None, true),
            ("v", None, true),
            ("u", None, true)
        ]
    );
    let a = analyze_detailed("cd ~ && a; cd /r && cd \"sp ace\" && b; cd '' && c; cd -P /p && d");
    assert!(a[0].cwd_unknown);
    assert_eq!(a[1].inv.cwd.as_deref(), Some("/r/sp ace"));
    assert_eq!(a[2].inv.cwd.as_deref(), Some("/r/sp ace"));
    assert_eq!(a[3].inv.cwd.as_deref(), Some("/p"));
    // pushd/popd.
    let a = analyze("cd /a; pushd /b && x; popd; y; popd; z");
    assert_eq!(
        a.iter().map(|i| i.cwd.clone()).collect::<Vec<_>>(),
        [Some("/b".into()), Some("/a".into()), None]
    );
    // Branches that disagree make the directory unknown; agreeing ones keep it.
    let a = analyze_detailed(
        "if [ -d x ]; then cd x; fi; a; cd /q || exit 1; b; if t; then cd /s; else cd /s; fi; c",
    );
    let got: Vec<(&str, Option<&str>, bool)> = a
        .iter()
        .map(|i| (i.inv.program(), i.inv.cwd.as_deref(), i.cwd_unknown))
        .collect();
    assert_eq!(
        got,
        [
            ("[", None, false),
            ("a", None, true),
            ("b", Some("/q"), false),
            ("t", Some("/q"), false),
            ("c", Some("/s"), false)
        ]
    );
}

#[test]
fn compound_commands() {
    let s = "if a; then b; elif c; then d; else e; fi\nfor x in 1 2 $(seq 3); do f $x; done\nwhile g; do h; done; until i; do j; done\ncase \"$arch\" in amd64|arm64) k ;; (i386) l;; *) m ;& esac; n";
    assert_eq!(
        progs(s)
            .into_iter()
            .map(|c| c[0].clone())
            .collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e", "seq", "f", "g", "h", "i", "j", "k", "l", "m", "n"]
    );
    // Keywords are only keywords in command position.
    assert_eq!(
        progs("echo if then fi done { }"),
        v(&[&["echo", "if", "then", "fi", "done", "{", "}"]])
    );
    // Nested compounds, newlines everywhere, and redirections after them.
    let s = "for f in *.whl\ndo\n  if [ -f \"$f\" ]\n  then\n    pip install \"$f\" > /dev/null\n  fi\ndone 2>&1 | tee log";
    assert_eq!(
        progs(s),
        v(&[
            &["[", "-f", "$f", "]"],
            &["pip", "install", "$f"],
            &["tee", "log"]
        ])
    );
    // Functions: the body is analysed, the definition is not a command.
    assert_eq!(
        progs("f() { apt-get update; }; function g { yum install x; }; f"),
        v(&[&["apt-get", "update"], &["yum", "install", "x"], &["f"]])
    );
    // [[ ]] keeps its operators; (( )) is not a command.
    assert_eq!(
        progs("[[ -f a && b < c ]] && ((i++)) && d"),
        v(&[&["[[", "-f", "a", "&&", "b", "<", "c", "]]"], &["d"]])
    );
}

#[test]
fn redirections_are_not_argv() {
    let s = "apt-get update > /dev/null 2>&1 && cat <in >>out 2> err &> all &>>more >|f 3<>g <&0 >&- {fd}>x a";
    let a = analyze(s);
    assert_eq!(progs(s), v(&[&["apt-get", "update"], &["cat", "a"]]));
    assert_spans(s, &a[1], &["cat", "a"]);
    assert_eq!(progs("echo x>y 2>/dev/null z"), v(&[&["echo", "x", "z"]]));
    // `2` not touching the operator is an argument.
    assert_eq!(progs("echo 2 > f"), v(&[&["echo", "2"]]));
    assert_eq!(progs("> f; < g cat"), v(&[&["cat"]]));
}

#[test]
fn heredocs() {
    let s =
        "cat <<EOF > /etc/x && apt-get update\npip install nope\n  EOF\nEOF\napt-get install -y y";
    assert_eq!(
        progs(s),
        v(&[
            &["cat"],
            &["apt-get", "update"],
            &["apt-get", "install", "-y", "y"]
        ])
    );
    let s = "cat <<-'EOF' | tee f; cat << \"A\" <<B\n\tnope\n\tEOF\nno\nA\nnope\nB\nyes";
    assert_eq!(progs(s), v(&[&["cat"], &["tee", "f"], &["cat"], &["yes"]]));
    // A shell reading a heredoc: the body is a nested script, in place.
    let s = "echo a; bash -e <<EOF\ncd /w\npip install \\\n  x\nEOF\necho b";
    let a = analyze(s);
    assert_eq!(
        progs(s),
        v(&[&["echo", "a"], &["pip", "install", "x"], &["echo", "b"]])
    );
    assert!(a[1].nested && a[1].argv.iter().all(|w| w.span.is_none()));
    assert_eq!(a[1].cwd.as_deref(), Some("/w"));
    assert_eq!(a[2].cwd, None);
    // Here-strings feed shells too.
    assert_eq!(progs("sh <<< 'npm ci'"), v(&[&["npm", "ci"]]));
    // Unterminated heredoc: the body runs to the end.
    assert_eq!(progs("cat <<EOF\nrm -rf /"), v(&[&["cat"]]));
}

#[test]
fn assignments_and_env() {
    let s = "A=1 B=\"x y\" pip install x";
    let a = one(s);
    assert_eq!(a.inv.assignments, pairs(&[("A", "1"), ("B", "x y")]));
    assert_eq!(a.env, pairs(&[("A", "1"), ("B", "x y")]));
    assert_spans(s, &a.inv, &["pip", "install", "x"]);
    // Quoted names are not assignments.
    assert_eq!(progs("\"A=1\" b"), v(&[&["A=1", "b"]]));
    let a = analyze_detailed(
        "export CARGO_HOME=/x DEBIAN_FRONTEND=noninteractive && P=1; cargo build; export P; a; PATH+=:/b; declare -x D=d; c; unset D; e",
    );
    assert_eq!(a[0].inv.program(), "cargo");
    assert_eq!(a[0].inv.assignments, []);
    assert_eq!(
        a[0].env,
        pairs(&[("CARGO_HOME", "/x"), ("DEBIAN_FRONTEND", "noninteractive")])
    );
    assert_eq!(a[0].shell_vars, pairs(&[("P", "1")]));
    assert_eq!(a[0].env_var("CARGO_HOME"), Some("/x"));
    assert_eq!(a[1].env_var("P"), Some("1"));
    assert_eq!(a[2].env_var("D"), Some("d"));
    assert_eq!(a[2].shell_vars, pairs(&[("PATH", "$PATH:/b")]));
    assert_eq!(a[3].env_var("D"), None);
    // set -a exports later assignments; prefixes override exported values for one command.
    let a = analyze_detailed("set -eux -o pipefail; set -a; X=1; set +a; Y=2; X=3 a; b");
    assert_eq!(a.len(), 2);
    assert_eq!(a[0].env, pairs(&[("X", "3")]));
    assert_eq!(a[0].inv.assignments, pairs(&[("X", "3")]));
    assert_eq!(a[1].env, pairs(&[("X", "1")]));
    // Conditionally set: taken as set.
    let a = analyze_detailed("if x; then export PIP_CACHE_DIR=/p; fi; pip install y");
    assert_eq!(a[1].env_var("PIP_CACHE_DIR"), Some("/p"));
    // Assignments inside a subshell do not leak.
    let a = analyze_detailed("(export A=1; a); b");
    assert_eq!(a[0].env_var("A"), Some("1"));
    assert_eq!(a[1].env_var("A"), None);
}

#[test]
fn wrappers() {
    let s = "env -u X A=1 B=2 pip install x";
    let a = one(s);
    assert_eq!(a.inv.assignments, pairs(&[("A", "1"), ("B", "2")]));
    assert_eq!(a.wrappers, ["env"]);
    assert_spans(s, &a.inv, &["pip", "install", "x"]);

    let a = analyze_detailed("export K=v; env -i PATH=/bin npm ci; /usr/bin/env npm ci");
    assert_eq!(a[0].env, pairs(&[("PATH", "/bin")]));
    assert_eq!(a[1].env, pairs(&[("K", "v")]));
    assert_eq!(a[1].wrappers, ["env"]);

    let a = analyze_detailed(
        "export K=v; sudo -E -u bob pip install x; sudo apt-get install y; sudo -i -- A=1 make",
    );
    assert_eq!(
        (a[0].user.as_deref(), a[0].env_var("K")),
        (Some("bob"), Some("v"))
    );
    assert_eq!(
        (a[1].user.as_deref(), a[1].env_var("K")),
        (Some("root"), None)
    );
    assert_eq!(a[2].inv.assignments, pairs(&[("A", "1")]));
    assert_eq!(a[2].inv.program(), "make");

    assert_eq!(
        progs("exec gosu app npm start; time -p make; nice -n 10 nohup cargo build; command -v pip; command pip install; timeout -s KILL 10m go test; stdbuf -oL ionice -c3 make"),
        v(&[
            &["npm", "start"],
            &["make"],
            &["cargo", "build"],
            &["command", "-v", "pip"],
            &["pip", "install"],
            &["go", "test"],
            &["make"],
        ])
    );
    let s = "echo a b | xargs -r -n1 -I{} apt-get install -y {}";
    let a = analyze_detailed(s);
    assert_eq!(a[1].wrappers, ["xargs"]);
    assert_spans(s, &a[1].inv, &["apt-get", "install", "-y", "{}"]);
    assert_eq!(
        progs(
            "find . -name '*.pyc' -exec rm -f {} + -o -execdir sh -c 'pip install \"$1\"' _ {} \\;"
        ),
        v(&[
            &[
                "find",
                ".",
                "-name",
                "*.pyc",
                "-exec",
                "rm",
                "-f",
                "{}",
                "+",
                "-o",
                "-execdir",
                "sh",
                "-c",
                "pip install \"$1\"",
                "_",
                "{}",
                ";"
            ],
            &["rm", "-f", "{}"],
            &["pip", "install", "$1"],
        ])
    );
    // Conditional prefixes and s6.
    let a = analyze_detailed(
        "${J:+env J=\"$J\"} xx-cargo build; X=1 s6-setuidgid app python3 manage.py",
    );
    assert_eq!(a[0].inv.program(), "xx-cargo");
    assert_eq!(a[0].wrappers, ["${J:+env J=\"$J\"}"]);
    assert_eq!(
        (a[1].inv.program(), a[1].user.as_deref()),
        ("python3", Some("app"))
    );
    assert_eq!(a[1].inv.assignments, pairs(&[("X", "1")]));
    // Wrappers without a command are reported as themselves (or not at all).
    assert_eq!(
        progs("env; exec >log 2>&1; nice; xargs"),
        v(&[&["env"], &["nice"], &["xargs"]])
    );
}

#[test]
fn nested_scripts() {
    let a = analyze_detailed("cd /w && sh -c 'cd sub && pip install -r req.txt' && bash -lc \"npm ci\" && dash -c 'a' x y; /bin/bash -euxo pipefail -c 'go build ./...'");
    let got: Vec<(&str, bool, Option<&str>)> = a
        .iter()
        .map(|i| (i.inv.program(), i.inv.nested, i.inv.cwd.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("pip", true, Some("/w/sub")),
            ("npm", true, Some("/w")),
            ("a", true, Some("/w")),
            ("go", true, Some("/w"))
        ]
    );
    assert_eq!(a[0].wrappers, ["sh"]);
    assert!(a
        .iter()
        .all(|i| i.inv.argv.iter().all(|w| w.span.is_none())));
    // Doubly nested, with sudo around.
    let a = analyze_detailed("sudo -u pg bash -c \"su app -c 'pip install x'\"");
    assert_eq!(a[0].inv.program(), "pip");
    assert_eq!(a[0].user.as_deref(), Some("app"));
    assert_eq!(a[0].wrappers, ["sudo", "bash", "su"]);
    // Scripts run from files are reported as the shell.
    assert_eq!(
        progs("sh ./install.sh --flag; curl -s x | bash"),
        v(&[
            &["sh", "./install.sh", "--flag"],
            &["curl", "-s", "x"],
            &["bash"]
        ])
    );
    // eval runs in this shell.
    let a = analyze_detailed("eval 'cd /e && export Z=1' && eval \"pip install\" x; y");
    assert_eq!(
        a[0].inv
            .argv
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>(),
        ["pip", "install", "x"]
    );
    assert_eq!(a[1].inv.cwd.as_deref(), Some("/e"));
    assert_eq!(a[1].env_var("Z"), Some("1"));
    assert!(!a[1].inv.nested);
    // su -c, trap, the exported environment reaches nested scripts, shell vars do not.
    let a =
        analyze_detailed("export E=1; S=2; su -c 'apt-get update' root; trap 'rm -rf /tmp/x' EXIT");
    assert_eq!(a[0].user.as_deref(), Some("root"));
    assert_eq!(a[0].env, pairs(&[("E", "1")]));
    assert_eq!(a[0].shell_vars, []);
    assert_eq!(a[1].inv.program(), "rm");
    // Exec form.
    let a = analyze_exec(&[
        "/bin/sh".into(),
        "-c".into(),
        "pip install x && cd /a && make".into(),
    ]);
    assert_eq!(
        a.iter()
            .map(|i| (i.program(), i.nested, i.cwd.clone()))
            .collect::<Vec<_>>(),
        [("pip", true, None), ("make", true, Some("/a".into()))]
    );
    let a = analyze_exec(&["pip".into(), "install".into(), "$X".into()]);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].argv[2].text, "$X");
    assert!(!a[0].nested && a[0].argv.iter().all(|w| w.span.is_none()));
    assert_eq!(progs_exec(&["env", "A=1", "cd", "x"]), v(&[&["cd", "x"]]));
    assert_eq!(progs_exec(&[]), Vec::<Vec<String>>::new());
}

fn progs_exec(argv: &[&str]) -> Vec<Vec<String>> {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    analyze_exec(&argv)
        .into_iter()
        .map(|i| i.argv.into_iter().map(|w| w.text).collect())
        .collect()
}

#[test]
fn state_builtins_are_not_reported() {
    assert_eq!(
        progs("set -eux; : noop; export A=1; unset A; cd /; readonly R=1; local L; shopt -s x; umask 022; true; exit 0"),
        v(&[&["true"]])
    );
}

#[test]
fn best_effort_on_broken_input() {
    assert_eq!(progs("echo \"abc && rm x"), v(&[&["echo", "abc && rm x"]]));
    assert_eq!(progs("echo 'abc"), v(&[&["echo", "abc"]]));
    assert_eq!(progs("a $(b c"), v(&[&["b", "c"], &["a", "$(b c"]]));
    assert_eq!(progs("if a; then b"), v(&[&["a"], &["b"]]));
    assert_eq!(progs("fi; done; a ) b; }"), v(&[&["a"], &["b"]]));
    for s in [
        "(((((",
        "$(((",
        "`",
        "\\",
        "$'\\",
        "$'\\x",
        "${",
        "case",
        "case x in",
        "for",
        "for ((",
        "a <<",
        "<<<",
        "f()",
        "function",
        "x=(",
        "[[",
        "{",
        "$(<",
        "a\\\n",
        "'\"`$(",
        "case a in (b|c",
        "echo $'\\u{'",
        "$'\\c\u{e9}'",
        "a 2>",
        "{fd",
        "select",
    ] {
        let _ = analyze(s);
    }
    // Deep nesting is bounded and does not overflow the stack.
    let deep = "(".repeat(20000) + &"$(".repeat(20000) + &"`".repeat(100);
    let _ = analyze(&deep);
    let deep = "if a; then ".repeat(5000) + &"sh -c '".repeat(100);
    let _ = analyze(&deep);
}

// ----- properties -----

/// Spans are in range, on char boundaries, and (with `dequote_check`, for alphabets whose
/// `$'...'` escapes [`dequote`] knows) cover exactly their word.
fn check_spans(script: &str, dequote_check: bool) -> Result<(), TestCaseError> {
    for inv in analyze(script) {
        for w in &inv.argv {
            let Some((s, e)) = w.span else { continue };
            prop_assert!(s < e && e <= script.len(), "{w:?}");
            prop_assert!(
                script.is_char_boundary(s) && script.is_char_boundary(e),
                "{w:?}"
            );
            let written = &script[s..e];
            if dequote_check && !written.contains(['(', '`', '{']) {
                prop_assert_eq!(
                    dequote(written),
                    w.text.clone(),
                    "{:?} in {:?}",
                    written,
                    script
                );
            }
        }
    }
    Ok(())
}

/// One word: (as written, its text after quote removal).
fn word() -> impl Strategy<Value = (String, String)> {
    let part = prop_oneof![
        "[a-z0-9_./=-]{1,6}".prop_map(|s| (s.clone(), s)),
        "[a-z $;|&()<>#\"\\\\]{0,6}".prop_map(|s| (format!("'{s}'"), s)),
        "[a-z ';|&()<>#]{0,6}".prop_map(|s| (format!("\"{s}\""), s)),
        "[a-z]{1,4}".prop_map(|s| (format!("\"\\\"{s}\\$\\\\\""), format!("\"{s}$\\"))),
        "[A-Z]{1,4}".prop_map(|s| (format!("${s}"), format!("${s}"))),
        "[A-Z]{1,4}".prop_map(|s| (format!("\"${{{s}:-x y}}\""), format!("${{{s}:-x y}}"))),
        "[a-z]{1,4}".prop_map(|s| (
            format!("$(echo {s} | tr a b)"),
            format!("$(echo {s} | tr a b)")
        )),
        "[a-z]{1,4}".prop_map(|s| (format!("$'{s}\\n\\''"), format!("{s}\n'"))),
        "[;&|()<> ]".prop_map(|s| (format!("\\{s}"), s)),
    ];
    prop::collection::vec(part, 1..4).prop_map(|parts| {
        let mut w = String::new();
        let mut t = String::new();
        for (a, b) in parts {
            w.push_str(&a);
            t.push_str(&b);
        }
        (w, t)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary text: no panic, spans are valid and cover the word they describe.
    #[test]
    fn never_panics_and_spans_are_exact(script in "[ kmnst$'\"\\\\();&|<>{}\n#=~*`!]{0,60}") {
        check_spans(&script, true)?;
    }

    #[test]
    fn never_panics_on_any_string(script in any::<String>()) {
        check_spans(&script, false)?;
    }

    /// Generated commands come back word for word, with spans on the written words.
    #[test]
    fn generated_commands_round_trip(
        cmds in prop::collection::vec(("qz[a-z]{0,4}", prop::collection::vec(word(), 0..5)), 1..5),
        seps in prop::collection::vec(prop_oneof![Just(" && "), Just(" || "), Just("; "), Just(" | "), Just("\n"), Just(" &\n"), Just(" \\\n && ")], 5),
    ) {
        let mut script = String::new();
        for (k, (prog, args)) in cmds.iter().enumerate() {
            if k > 0 {
                script.push_str(seps[k % seps.len()]);
            }
            script.push_str(prog);
            for (w, _) in args {
                script.push(' ');
                script.push_str(w);
            }
        }
        let top: Vec<Invocation> = analyze(&script).into_iter().filter(|i| !i.nested).collect();
        prop_assert_eq!(top.len(), cmds.len(), "{:?}", script);
        for (inv, (prog, args)) in top.iter().zip(&cmds) {
            let want: Vec<&str> = std::iter::once(prog.as_str()).chain(args.iter().map(|(_, t)| t.as_str())).collect();
            let got: Vec<&str> = inv.argv.iter().map(|w| w.text.as_str()).collect();
            prop_assert_eq!(got, want, "{:?}", script);
            let written: Vec<&str> = std::iter::once(prog.as_str()).chain(args.iter().map(|(w, _)| w.as_str())).collect();
            for (w, exp) in inv.argv.iter().zip(written) {
                let (s, e) = w.span.expect("top-level words have spans");
                prop_assert_eq!(&script[s..e], exp);
            }
        }
        check_spans(&script, true)?;
    }
}
