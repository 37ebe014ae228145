//! `COPY` and `ADD`: sources from the build context, another stage, an image, a URL or a
//! heredoc; `--chown`, `--chmod`, `--link` (MergeOp when the daemon has it), `--exclude`,
//! `--parents`, ADD's archive unpacking; and the history entry.

use super::graph::{CopyAction, CopyFrom};
use super::paths::{is_git, is_http};
use super::state::{Build, Cmd};
use crate::error::{Error, Result, Span};
use crate::instructions::{AddCommand, CopyCommand};
use crate::llb;

/// What COPY and ADD have in common.
pub(super) struct CopySpec {
    pub is_add: bool,
    pub sources: Vec<String>,
    /// Heredoc sources: (file name, content).
    pub contents: Vec<(String, String)>,
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
    pub checksum: Option<String>,
    pub unpack: Option<bool>,
    pub keep_git_dir: Option<bool>,
    pub original: String,
    pub span: Span,
}

impl CopySpec {
    pub fn from_copy(c: &CopyCommand) -> Self {
        CopySpec {
            is_add: false,
            sources: c.sources.clone(),
            contents: c
                .contents
                .iter()
                .map(|f| (f.path.clone(), f.data.clone()))
                .collect(),
            dest: c.dest.clone(),
            chown: c.chown.clone().filter(|s| !s.is_empty()),
            chmod: c.chmod.clone().filter(|s| !s.is_empty()),
            link: c.link,
            parents: c.parents,
            exclude: c.exclude.clone(),
            checksum: None,
            unpack: None,
            keep_git_dir: None,
            original: c.original.clone(),
            span: c.span,
        }
    }

    pub fn from_add(c: &AddCommand) -> Self {
        CopySpec {
            is_add: true,
            sources: c.sources.clone(),
            contents: c
                .contents
                .iter()
                .map(|f| (f.path.clone(), f.data.clone()))
                .collect(),
            dest: c.dest.clone(),
            chown: c.chown.clone().filter(|s| !s.is_empty()),
            chmod: c.chmod.clone().filter(|s| !s.is_empty()),
            link: c.link,
            parents: false,
            exclude: c.exclude.clone(),
            checksum: c.checksum.clone().filter(|s| !s.is_empty()),
            unpack: c.unpack,
            keep_git_dir: c.keep_git_dir,
            original: c.original.clone(),
            span: c.span,
        }
    }
}

/// Parse `--chmod`: octal up to 07777, or a symbolic mode string.
fn parse_chmod(s: &str) -> Result<(Option<i32>, Option<String>)> {
    let err = || {
        Error::new(format!(
            "invalid chmod parameter: '{s}'. it should be octal string and between 0 and 07777"
        ))
    };
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let v = i64::from_str_radix(s, 8).map_err(|_| err())?;
        if v > 0o7777 {
            return Err(err());
        }
        return Ok((Some(v as i32), None));
    }
    // symbolic: [ugoa]*[+-=][rwxXst]* (comma separated)
    let ok = s.split(',').all(|clause| {
        let rest = clause.trim_start_matches(['u', 'g', 'o', 'a']);
        !rest.is_empty()
            && rest.starts_with(['+', '-', '='])
            && rest[1..].chars().all(|c| "rwxXst+-=ugo".contains(c))
    });
    if ok {
        Ok((None, Some(s.to_string())))
    } else {
        Err(err())
    }
}

impl Build<'_> {
    /// `COPY`.
    pub(super) fn dispatch_copy_instruction(
        &mut self,
        i: usize,
        c: &crate::instructions::CopyCommand,
        cmd: &Cmd,
    ) -> Result<()> {
        self.dispatch_copy(i, CopySpec::from_copy(c), cmd)
    }

    /// `ADD`.
    pub(super) fn dispatch_add(
        &mut self,
        i: usize,
        a: &crate::instructions::AddCommand,
        cmd: &Cmd,
    ) -> Result<()> {
        self.dispatch_copy(i, CopySpec::from_add(a), cmd)
    }

    /// `COPY`/`ADD`: the destination, the copy actions of each source (context, stage, URL,
    /// git, heredoc), the copy (or merge, for `--link`) op, what it wrote, and the history.
    fn dispatch_copy(&mut self, i: usize, spec: CopySpec, cmd: &Cmd) -> Result<()> {
        let st = self.snapshot(i);
        let dest = copy_dest(&st.dir, &spec);
        let (mode, mode_str) = copy_flags(&spec)?;
        let shown = self
            .lexer
            .process_word(&spec.original, &st.env)
            .unwrap_or_else(|_| spec.original.clone());
        let name = super::gofmt::uppercase_cmd(&shown);

        // Where non-URL sources come from: the named stage/image or the build context.
        let from_output = match cmd.sources.first() {
            Some(Some(s)) => match &self.stages[*s].st {
                Some(sst) => Some(sst.output.clone()),
                None => {
                    return Err(Error::new(format!(
                        "cannot copy from stage \"{}\", it needs to be defined before current stage \"{}\"",
                        self.stages[*s].base_name, self.stages[i].stage_name
                    )))
                }
            },
            _ => None,
        };
        let from_context = from_output.is_none();
        // What COPY reads of another stage (a named local context sends only that).
        if let Some(Some(s)) = cmd.sources.first() {
            for src in &spec.sources {
                self.mark_read(*s, src);
            }
            self.inherit_pending(i, *s);
        }

        let known = match cmd.sources.first() {
            Some(Some(s)) => self.known_contents(*s, &spec, &dest),
            _ => None,
        };
        let pg_name = self.progress_name(i, &name, &st.platform);
        let actions = self.copy_actions(&spec, &from_output, &dest, (mode, mode_str), &pg_name)?;

        let mut meta = llb::OpMeta::named(pg_name).at(spec.span);
        meta.ignore_cache = self.stages[i].ignore_cache;
        let use_merge = spec.link && spec.chmod.is_none() && self.opts.llb_caps.contains("mergeop");
        let context = self.context();
        let out = if use_merge {
            let layer = self.graph.copy(None, &actions, &context, meta.clone())?;
            let mut link_meta = meta;
            link_meta.custom_name = Some(format!(
                "LINK {}",
                link_meta.custom_name.clone().unwrap_or_default()
            ));
            self.graph.merge(st.output.clone(), layer, link_meta)
        } else {
            Some(
                self.graph
                    .copy(st.output.clone(), &actions, &context, meta)?,
            )
        };
        let st = self.stages[i].st.as_mut().unwrap();
        st.output = out;
        let by = shorten(spec.original.trim());
        let context_dir = if from_context {
            context_dir(&spec)
        } else {
            None
        };
        let written = match known {
            Some(paths) => paths,
            None => written_paths(&spec, &dest),
        };
        let texts = heredoc_files(&spec, &dest);
        for path in written {
            let content = texts
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| t.clone());
            st.written.push(crate::cache::Written {
                path,
                line: spec.span.start,
                by: by.clone(),
                context_dir: context_dir.clone(),
                found: None,
                content,
            });
        }
        st.image
            .commit_history(format!("{} # buildkit", copy_history(&spec)), true);
        Ok(())
    }

    /// What a COPY of the root of stage `s` writes, when `s` is an image whose whole contents
    /// are known ([`crate::cache::recipes::KNOWN_IMAGES`]) and nothing else: those paths under
    /// the destination.
    fn known_contents(&self, s: usize, spec: &CopySpec, dest: &str) -> Option<Vec<String>> {
        let src = &self.stages[s];
        let plain_image = src.base_stage.is_none()
            && src.commands.is_empty()
            && src.replaced.is_none()
            && src.base_context.is_none();
        let whole = !spec.sources.is_empty()
            && spec.contents.is_empty()
            && spec.sources.iter().all(|p| {
                let p = super::paths::normalize_path("/", p, false);
                p == "/"
            });
        if !plain_image || !whole || spec.parents || !spec.exclude.is_empty() {
            return None;
        }
        let reference = crate::image::normalize_reference(&src.base_name).ok()?;
        let repository = reference.name();
        let (_, paths) = crate::cache::recipes::KNOWN_IMAGES
            .iter()
            .find(|(r, _)| *r == repository)?;
        let base = dest.trim_end_matches('/');
        Some(paths.iter().map(|p| format!("{base}{p}")).collect())
    }

    /// One copy action per source and heredoc, in order.
    fn copy_actions(
        &mut self,
        spec: &CopySpec,
        from_output: &Option<Option<llb::Output>>,
        dest: &str,
        (mode, mode_str): (Option<i32>, Option<String>),
        pg_name: &str,
    ) -> Result<Vec<CopyAction>> {
        let pg_name = pg_name.to_string();
        // A copy of `src` from `from` to the destination with this instruction's flags; the
        // context/stage case turns on wildcards, contents-only and ADD's unpacking.
        let action = |from: CopyFrom, src: String| CopyAction {
            from,
            src,
            dest: dest.to_string(),
            mode,
            mode_str: mode_str.clone(),
            follow_symlinks: false,
            dir_contents_only: false,
            attempt_unpack: false,
            allow_wildcard: false,
            include: Vec::new(),
            exclude: spec.exclude.clone(),
            chown: spec.chown.clone(),
        };
        let mut actions = Vec::new();
        for src in &spec.sources {
            if is_git(src) {
                if !spec.is_add {
                    return Err(Error::new("source can't be a git ref for COPY"));
                }
                let git = self.graph.git(
                    src,
                    spec.keep_git_dir.unwrap_or(false),
                    spec.checksum.as_deref(),
                    llb::OpMeta::named(pg_name.clone()),
                )?;
                actions.push(action(CopyFrom::State(Some(git)), "/".into()));
            } else if is_http(src) {
                if !spec.is_add {
                    return Err(Error::new("source can't be a URL for COPY"));
                }
                let path = src.split(['?', '#']).next().unwrap_or(src);
                let base = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
                let f = if base.is_empty() || path.ends_with("//") || base.contains(':') {
                    "__unnamed__"
                } else {
                    base
                };
                let http = self.graph.http(
                    src,
                    f,
                    spec.checksum.as_deref(),
                    llb::OpMeta::named(pg_name.clone())
                        .with_description("com.docker.dockerfile.v1.command", &spec.original),
                );
                actions.push(CopyAction {
                    attempt_unpack: spec.unpack.unwrap_or(false),
                    ..action(CopyFrom::State(Some(http)), format!("/{f}"))
                });
            } else {
                let (src_path, include) = if spec.parents {
                    match src.split_once("/./") {
                        Some((parent, pattern)) => (
                            parent.to_string(),
                            vec![super::paths::normalize_path("/", pattern, false)
                                .trim_start_matches('/')
                                .to_string()],
                        ),
                        None => (
                            "/".to_string(),
                            vec![super::paths::normalize_path("/", src, false)
                                .trim_start_matches('/')
                                .to_string()],
                        ),
                    }
                } else {
                    (src.clone(), Vec::new())
                };
                if from_output.is_none() {
                    let w = super::checks::copy_ignored(
                        self.ignore.as_ref(),
                        src,
                        spec.is_add,
                        spec.span,
                    );
                    self.warnings.extend(w);
                }
                let from = match &from_output {
                    Some(o) => CopyFrom::State(o.clone()),
                    None => CopyFrom::Context,
                };
                actions.push(CopyAction {
                    follow_symlinks: true,
                    dir_contents_only: true,
                    attempt_unpack: spec.unpack.unwrap_or(spec.is_add),
                    allow_wildcard: true,
                    include,
                    ..action(from, super::paths::normalize_path("/", &src_path, false))
                });
            }
        }
        for (path, data) in &spec.contents {
            let file = self.graph.mkfile(
                None,
                &format!("/{}", path.trim_start_matches('/')),
                0o644,
                data.as_bytes(),
                llb::OpMeta::named("[internal] preparing inline document"),
            )?;
            actions.push(action(
                CopyFrom::State(Some(file)),
                format!("/{}", path.trim_start_matches('/')),
            ));
        }
        Ok(actions)
    }
}

/// Where a COPY/ADD writes, absolute (a directory destination keeps its `/`).
fn copy_dest(dir: &str, spec: &CopySpec) -> String {
    if spec.dest.starts_with('/') {
        super::paths::normalize_path("/", &spec.dest, true)
    } else {
        let p = if spec.dest.is_empty() || spec.dest == "." {
            "./"
        } else {
            spec.dest.as_str()
        };
        super::paths::normalize_path(dir, p, true)
    }
}

/// `--chmod` parsed, and `--checksum` checked against the instruction and its sources.
fn copy_flags(spec: &CopySpec) -> Result<(Option<i32>, Option<String>)> {
    let mode = match &spec.chmod {
        Some(c) => parse_chmod(c)?,
        None => (None, None),
    };
    if spec.checksum.is_some() {
        if !spec.is_add {
            return Err(Error::new("checksum can't be specified for COPY"));
        }
        if spec.sources.len() != 1 {
            return Err(Error::new(
                "checksum can't be specified for multiple sources",
            ));
        }
        if !is_http(&spec.sources[0]) && !is_git(&spec.sources[0]) {
            return Err(Error::new("checksum requires HTTP(S) or Git sources"));
        }
    }
    Ok(mode)
}

/// The history entry: the instruction, its flags, sources, heredocs and destination.
fn copy_history(spec: &CopySpec) -> String {
    let mut msg = String::from(if spec.is_add { "ADD" } else { "COPY" });
    if spec.parents {
        msg += " --parents";
    }
    if let Some(c) = &spec.chown {
        msg += &format!(" --chown={c}");
    }
    if let Some(c) = &spec.chmod {
        msg += &format!(" --chmod={c}");
    }
    for src in &spec.sources {
        msg += &format!(" {src}");
    }
    for (path, _) in &spec.contents {
        msg += &format!(" <<{path}");
    }
    msg += &format!(" {}", spec.dest);
    msg
}

/// An instruction for a one-line message: its first line, at most 60 characters.
fn shorten(s: &str) -> String {
    let line = s
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches('\\')
        .trim_end();
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_string(),
    }
}

/// For a COPY of one directory (or file) of the build context, its path in the context
/// (`""`: the root): what it writes under its destination is what the context holds under that
/// path, after `.dockerignore`. `None` where that does not hold or cannot be asked: ADD
/// (archives unpack), several sources, wildcards, heredocs, `--parents`, `--exclude`.
fn context_dir(spec: &CopySpec) -> Option<String> {
    let [src] = spec.sources.as_slice() else {
        return None;
    };
    if spec.is_add
        || spec.parents
        || !spec.exclude.is_empty()
        || !spec.contents.is_empty()
        || is_git(src)
        || is_http(src)
        || src.contains(['*', '?', '[', '\\'])
    {
        return None;
    }
    Some(
        super::paths::normalize_path("/", src, false)
            .trim_matches('/')
            .to_string(),
    )
}

/// The paths a COPY/ADD writes, as far as the instruction says: each heredoc's file, the
/// destination itself otherwise (everything under it may have been written). `dest` is
/// normalised; a directory destination ends with `/`.
fn written_paths(spec: &CopySpec, dest: &str) -> Vec<String> {
    let dir = dest.ends_with('/') || spec.sources.len() + spec.contents.len() > 1;
    let base = dest.trim_end_matches('/').to_string();
    if !spec.sources.is_empty() || !dir {
        return vec![base];
    }
    spec.contents
        .iter()
        .map(|(name, _)| format!("{base}/{}", name.trim_start_matches('/')))
        .collect()
}

/// The files a COPY writes from its heredocs, with their text (as [`written_paths`] names them).
fn heredoc_files(spec: &CopySpec, dest: &str) -> Vec<(String, String)> {
    if !spec.sources.is_empty() {
        return Vec::new();
    }
    let dir = dest.ends_with('/') || spec.contents.len() > 1;
    let base = dest.trim_end_matches('/');
    spec.contents
        .iter()
        .map(|(name, text)| {
            let path = if dir {
                format!("{base}/{}", name.trim_start_matches('/'))
            } else {
                base.to_string()
            };
            (path, text.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chmod_values() {
        assert_eq!(parse_chmod("755").unwrap(), (Some(0o755), None));
        assert_eq!(parse_chmod("0644").unwrap(), (Some(0o644), None));
        assert!(parse_chmod("8").is_err());
        assert!(parse_chmod("17777").is_err());
        assert_eq!(parse_chmod("u+x").unwrap(), (None, Some("u+x".into())));
        assert!(parse_chmod("bogus").is_err());
    }

    #[test]
    fn url_kinds() {
        assert!(is_http("https://example.com/a.tar.gz"));
        assert!(is_git("https://github.com/a/b.git#main"));
        assert!(!is_http("https://github.com/a/b.git"));
        assert!(!is_http("./local"));
    }
}
