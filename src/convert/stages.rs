//! The stage graph: expanded base names, `--platform`, which stage each `COPY --from` and
//! `RUN --mount=from=` refers to, the target, what it reaches, and dispatching the reachable
//! stages in file order.

use std::collections::{BTreeMap, BTreeSet};

use super::api::{ConvertOpts, ImageRequest, PlatformResult, Resolved};
use super::args::{self, EnvList};
use super::outline::{self, Capture, Links, Outline};
use super::state::{Build, BuildOutcome, Cmd, St, StageState};
use crate::error::{Error, Result, Span, Warning};
use crate::expand::Lexer;
use crate::image::{normalize_reference, ImageConfig, Platform};
use crate::instructions::{self, Command, ParsedFile, Stage};
use crate::llb;
use crate::parser;

impl<'a> Build<'a> {
    pub fn new(
        text: &'a str,
        opts: &'a ConvertOpts,
        target_platform: Platform,
        implicit_target: bool,
    ) -> Result<Self> {
        // Errors carry the warnings found before them (see `Error::warnings`).
        let mut found = Vec::new();
        Self::new_collecting(text, opts, target_platform, implicit_target, &mut found)
            .map_err(|e| e.with_warnings(std::mem::take(&mut found)))
    }

    fn new_collecting(
        text: &'a str,
        opts: &'a ConvertOpts,
        target_platform: Platform,
        implicit_target: bool,
        found: &mut Vec<Warning>,
    ) -> Result<Self> {
        let df = parser::parse(text)?;
        let ParsedFile {
            meta_args,
            stages,
            warnings,
        } = instructions::parse(&df).map_err(|e| {
            let mut all = df.warnings.clone();
            all.extend(e.warnings.iter().cloned());
            Error { warnings: all, ..e }
        })?;
        *found = df.warnings.clone();
        found.extend(warnings.iter().cloned());
        if stages.is_empty() {
            return Err(Error::new("dockerfile contains no stages to build"));
        }
        let lexer = Lexer::new(df.directives.escape);
        let mut all_warnings = df.warnings.clone();
        all_warnings.extend(warnings);
        all_warnings.extend(super::checks::stage_names(&stages));
        all_warnings.extend(super::checks::command_casing(&stages));

        let target_name = opts.target.clone().unwrap_or_else(|| {
            stages
                .last()
                .and_then(|s| s.name.clone())
                .unwrap_or_default()
        });
        let defaults = args::default_args(
            &opts.build_platform,
            &target_platform,
            &target_name,
            &opts.build_args,
        );
        // Base names must stay valid with the global ARGs' defaults alone.
        let default_globals =
            args::meta_args(defaults.clone(), &lexer, &meta_args, &BTreeMap::new())
                .ok()
                .map(|(env, _)| env);
        all_warnings.extend(super::checks::default_arg_bases(
            &stages,
            &lexer,
            default_globals
                .as_ref()
                .map(|e| e as &dyn crate::expand::Env),
        ));
        *found = all_warnings.clone();
        let (global_args, evaluated_meta) =
            args::meta_args(defaults, &lexer, &meta_args, &opts.build_args)?;
        let mut declared_args: Vec<String> = global_args.0.iter().map(|(k, _)| k.clone()).collect();
        for (k, _) in meta_args.iter().flat_map(|a| a.args.iter()) {
            if !declared_args.contains(k) {
                declared_args.push(k.clone());
            }
        }
        let starts: Vec<(usize, String)> = df
            .nodes
            .iter()
            .map(|n| (n.span.start, n.keyword.clone()))
            .collect();
        *found = all_warnings.clone();
        let dialect = crate::cache::dialect::scan(text, &starts)?;
        all_warnings.extend(super::checks::unknown_tools(&dialect.unknown_tools));
        let hoard_arg = match opts.build_args.get("HOARD") {
            Some(v) => crate::cache::dialect::parse_settings(v, 0).map_err(|e| {
                Error::new(format!(
                    "--build-arg HOARD: {}",
                    e.message.trim_start_matches("hoard: ")
                ))
            })?,
            None => Vec::new(),
        };

        let mut b = Build {
            opts,
            text,
            lexer,
            target_platform,
            implicit_target,
            global_args,
            stages: Vec::new(),
            by_name: BTreeMap::new(),
            target: 0,
            warnings: all_warnings,
            graph: super::graph::Graph::default(),
            file_requests: Vec::new(),
            resolved_files: BTreeMap::new(),
            dialect,
            hoard_arg,
            plans: Vec::new(),
            read_paths: BTreeMap::new(),
            follow_hint: None,
            local_contexts: false,
            ready: Vec::new(),
            hoard_files: std::collections::HashMap::new(),
            ci: super::ci::CiState::new(&opts.build_args)?,
            declared_args,
            used_once: BTreeMap::new(),
            comments: df
                .nodes
                .iter()
                .map(|n| (n.span.start, n.comments.clone()))
                .collect(),
            outline_seq: 0,
            global_capture: super::outline::Capture::default(),
            ignore: crate::dockerignore::Matcher::new(&opts.dockerignore).ok(),
        };
        let mut seq = 0;
        b.global_capture = Capture::of_meta_args(
            &evaluated_meta,
            |key, span| b.doc_comment(key, span),
            &mut seq,
        );
        b.outline_seq = seq;
        for (i, stage) in stages.into_iter().enumerate() {
            if let Err(e) = b.add_stage(i, stage) {
                *found = b.warnings;
                return Err(e);
            }
        }
        *found = b.warnings.clone();
        b.target = match &opts.target {
            None => b.stages.len() - 1,
            Some(t) => *b
                .by_name
                .get(&t.to_lowercase())
                .ok_or_else(|| Error::new(format!("target stage \"{t}\" could not be found")))?,
        };
        // Resolve the sources of every command now that all names are known.
        for i in 0..b.stages.len() {
            let cmds = std::mem::take(&mut b.stages[i].commands);
            let mut out = Vec::with_capacity(cmds.len());
            for c in cmds {
                out.push(b.link_command(i, c.command, false)?);
            }
            b.stages[i].commands = out;
        }
        if b.stages.iter().filter(|s| !s.unregistered).count() == 1 {
            b.stages[0].stage_name.clear();
        }
        b.check_cycles()?;
        Ok(b)
    }

    fn add_stage(&mut self, i: usize, stage: Stage) -> Result<()> {
        let base = self
            .lexer
            .process(&stage.base, &self.global_args)
            .map_err(|e| Error::at(stage.span, e.message))?;
        self.warnings.extend(super::checks::undefined_from_args(
            &base.unmatched,
            &self.declared_args,
            stage.span,
        ));
        let mut used = base.matched;
        let base = base.result;
        if base.is_empty() {
            return Err(Error::at(
                stage.span,
                format!("base name ({}) should not be blank", stage.base),
            ));
        }
        let platform = match &stage.platform {
            None => None,
            Some(p) => {
                let r = self.lexer.process(p, &self.global_args).map_err(|e| {
                    Error::at(
                        stage.span,
                        format!(
                            "failed to process arguments for platform {p}: {}",
                            e.message
                        ),
                    )
                })?;
                self.warnings.extend(super::checks::undefined_from_args(
                    &r.unmatched,
                    &self.declared_args,
                    stage.span,
                ));
                self.warnings.extend(super::checks::platform_flag(
                    p,
                    &r.result,
                    &r.matched,
                    &r.unmatched,
                    &self.global_args,
                    stage.name.as_deref(),
                    stage.span,
                ));
                used.extend(r.matched.iter().cloned());
                let v = r.result;
                if v.is_empty() {
                    return Err(Error::at(
                        stage.span,
                        format!("empty platform value from expression {p}"),
                    ));
                }
                Some(Platform::parse(&v).map_err(|e| {
                    Error::at(
                        stage.span,
                        format!("failed to parse platform {p}: {}", e.message),
                    )
                })?)
            }
        };
        let mut base_stage = self
            .by_name
            .get(&base.to_lowercase())
            .copied()
            .filter(|_| self.by_name.contains_key(&base));
        // `--build-context <stage name>=...` replaces the stage: it no longer depends on its base.
        let replaced = match &stage.name {
            Some(name) => {
                let p = platform
                    .clone()
                    .unwrap_or_else(|| self.target_platform.clone());
                self.opts
                    .named_contexts
                    .lookup(name, &p)
                    .map_err(|e| Error::at(stage.span, e.message))?
            }
            None => None,
        };
        // The outline record starts from the base stage's, as it was before that stage ran.
        let mut capture = match base_stage {
            Some(b) => self.stages[b].capture.clone(),
            None => self.global_capture.clone(),
        };
        if replaced.is_some() {
            base_stage = None;
        } else {
            capture.mark_used(used);
        }
        let ignore_cache = self.opts.no_cache.applies_to(stage.name.as_deref());
        let mut st = StageState {
            stage_name: stage.name.clone().unwrap_or_else(|| format!("stage-{i}")),
            base_name: base,
            base_stage,
            platform,
            span: stage.span,
            original: stage.original.clone(),
            commands: stage
                .commands
                .into_iter()
                .map(|c| Cmd {
                    command: c,
                    sources: Vec::new(),
                    onbuild: false,
                })
                .collect(),
            deps: BTreeSet::new(),
            unregistered: false,
            ignore_cache,
            onbuild_done: false,
            st: None,
            cmd_index: 0,
            cmd_total: 0,
            in_onbuild: false,
            context_checked: replaced.is_some(),
            replaced,
            base_context: None,
            name: stage.name.clone(),
            capture,
        };
        if let Some(b) = base_stage {
            st.deps.insert(b);
        }
        let idx = self.stages.len();
        if let Some(n) = &stage.name {
            self.by_name.insert(n.to_lowercase(), idx);
        }
        self.stages.push(st);
        Ok(())
    }

    /// Find the stage a `--from` names: an AS name, a stage index, or an image (added as an
    /// unregistered stage).
    fn source_stage(&mut self, from: &str, span: Span) -> Result<usize> {
        if let Some(&i) = self.by_name.get(&from.to_lowercase()) {
            return Ok(i);
        }
        if let Ok(n) = from.parse::<usize>() {
            let registered: Vec<usize> = (0..self.stages.len())
                .filter(|&i| !self.stages[i].unregistered)
                .collect();
            return registered
                .get(n)
                .copied()
                .ok_or_else(|| Error::at(span, format!("invalid stage index {n}")));
        }
        if let Some(i) = self
            .stages
            .iter()
            .position(|s| s.unregistered && s.base_name == from)
        {
            return Ok(i);
        }
        self.stages.push(StageState {
            stage_name: String::new(),
            base_name: from.to_string(),
            base_stage: None,
            platform: None,
            span,
            original: String::new(),
            commands: Vec::new(),
            deps: BTreeSet::new(),
            unregistered: true,
            ignore_cache: false,
            onbuild_done: true,
            st: None,
            cmd_index: 0,
            cmd_total: 0,
            in_onbuild: false,
            replaced: None,
            base_context: None,
            context_checked: false,
            name: None,
            capture: super::outline::Capture::default(),
        });
        Ok(self.stages.len() - 1)
    }

    pub(super) fn link_command(
        &mut self,
        stage: usize,
        command: Command,
        onbuild: bool,
    ) -> Result<Cmd> {
        let mut sources = Vec::new();
        match &command {
            Command::Copy(c) => {
                if let Some(from) = &c.from {
                    let expanded = self
                        .lexer
                        .process_word(from, &crate::expand::NoEnv)
                        .unwrap_or_default();
                    if &expanded != from {
                        return Err(Error::at(c.span, "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"));
                    }
                    sources.push(Some(self.source_stage(from, c.span)?));
                }
            }
            Command::Run(r) => {
                for spec in &r.mount_specs {
                    let from = instructions::mount_from_unexpanded(spec)
                        .map_err(|e| Error::at(r.span, e))?;
                    match from.filter(|f| !f.is_empty()) {
                        None => sources.push(None),
                        Some(from) => sources.push(Some(self.source_stage(&from, r.span)?)),
                    }
                }
            }
            _ => {}
        }
        for s in sources.iter().flatten() {
            self.stages[stage].deps.insert(*s);
        }
        Ok(Cmd {
            command,
            sources,
            onbuild,
        })
    }

    fn check_cycles(&self) -> Result<()> {
        fn visit(
            b: &Build,
            i: usize,
            path: &mut Vec<usize>,
            done: &mut BTreeSet<usize>,
        ) -> Result<()> {
            if done.contains(&i) {
                return Ok(());
            }
            if path.contains(&i) {
                return Err(Error::at(
                    b.stages[i].span,
                    "circular dependency detected on stage: ".to_string() + &b.stages[i].stage_name,
                ));
            }
            path.push(i);
            for &d in &b.stages[i].deps {
                visit(b, d, path, done)?;
            }
            path.pop();
            done.insert(i);
            Ok(())
        }
        let mut done = BTreeSet::new();
        for i in 0..self.stages.len() {
            visit(self, i, &mut Vec::new(), &mut done)?;
        }
        Ok(())
    }

    fn reachable(&self) -> BTreeSet<usize> {
        if self.opts.all_stages {
            return (0..self.stages.len()).collect();
        }
        let mut seen = BTreeSet::new();
        let mut todo = vec![self.target];
        while let Some(i) = todo.pop() {
            if seen.insert(i) {
                todo.extend(self.stages[i].deps.iter().copied());
            }
        }
        seen
    }

    pub(super) fn stage_platform(&self, i: usize) -> Platform {
        self.stages[i]
            .platform
            .clone()
            .unwrap_or_else(|| self.target_platform.clone())
    }

    /// Resolve base images and ONBUILD triggers until the reachable set is stable; then dispatch.
    /// On an error, `self.warnings` holds the warnings found before it.
    pub fn run(&mut self, resolved: &Resolved) -> Result<BuildOutcome> {
        loop {
            let reachable = self.reachable();
            let mut need = Vec::new();
            let mut files = Vec::new();
            let mut new_deps = false;
            for &i in &reachable {
                self.find_base_context(i)?;
                if self.context_needs(i, resolved, &mut need, &mut files)? {
                    new_deps = true;
                }
                let s = &self.stages[i];
                if s.base_stage.is_some()
                    || s.base_name == "scratch"
                    || s.replaced.is_some()
                    || s.base_context.is_some()
                {
                    continue;
                }
                let reference = normalize_reference(&s.base_name)
                    .map_err(|e| Error::at(s.span, e.message))?
                    .full();
                let platform = self.stage_platform(i);
                let key = (reference.clone(), platform.id());
                match resolved.images.get(&key) {
                    None => {
                        let mut prefix = String::from("[");
                        if self.opts.multi_platform {
                            prefix += &format!("{} ", platform.id());
                        }
                        need.push(ImageRequest {
                            log_name: format!("{prefix}internal] load metadata for {reference}"),
                            reference,
                            platform,
                            span: s.span,
                            oci_store: None,
                        });
                    }
                    Some(img) if !s.onbuild_done => {
                        let config = ImageConfig::from_json(&img.config).map_err(|e| {
                            Error::at(s.span, format!("failed to parse image config: {e}"))
                        })?;
                        if let Some(w) = self.base_platform_check(i, &config) {
                            self.warnings.push(w);
                        }
                        self.stages[i].onbuild_done = true;
                        if self.add_onbuild(i, &config.config.on_build)? {
                            new_deps = true;
                        }
                    }
                    Some(_) => {}
                }
            }
            // ONBUILD triggers declared by a base *stage* of this Dockerfile.
            for &i in &reachable {
                if let Some(b) = self.stages[i].base_stage {
                    if !self.stages[i].onbuild_done {
                        self.stages[i].onbuild_done = true;
                        let triggers: Vec<String> = self.stages[b]
                            .commands
                            .iter()
                            .filter_map(|c| match &c.command {
                                Command::Onbuild(o) => Some(o.expression.clone()),
                                _ => None,
                            })
                            .collect();
                        if self.add_onbuild(i, &triggers)? {
                            new_deps = true;
                        }
                    }
                }
            }
            if !need.is_empty() {
                return Ok(BuildOutcome::Need(need));
            }
            if !files.is_empty() {
                return Ok(BuildOutcome::NeedFiles(files, Vec::new()));
            }
            if !new_deps {
                break;
            }
        }
        self.dispatch_all(resolved)
    }

    /// `InvalidBaseImagePlatform` for a stage's resolved base image (checked once, when the
    /// stock frontend checks it: as the image is resolved, before any stage is dispatched).
    fn base_platform_check(&self, i: usize, image: &ImageConfig) -> Option<Warning> {
        let is_scratch =
            image.rootfs.diff_ids.is_empty() && image.history.iter().all(|h| h.empty_layer);
        if is_scratch {
            return None;
        }
        let mut expected = self.stage_platform(i);
        if self.stages[i].platform.is_none() && self.implicit_target {
            let differs = image.os != expected.os || image.architecture != expected.architecture;
            let is_build = image.os == self.opts.build_platform.os
                && image.architecture == self.opts.build_platform.architecture;
            if differs && !image.os.is_empty() && is_build {
                expected = self.opts.build_platform.clone();
            }
        }
        super::checks::base_platform(
            &self.stages[i].base_name,
            &expected,
            &image.platform(),
            self.stages[i].span,
        )
    }

    pub(super) fn add_onbuild(&mut self, stage: usize, triggers: &[String]) -> Result<bool> {
        let span = self.stages[stage].span;
        let mut cmds = Vec::new();
        let mut new_deps = false;
        for trigger in triggers {
            let df = parser::parse(trigger).map_err(|e| Error::at(span, e.message))?;
            if df.nodes.len() != 1 {
                return Err(Error::at(
                    span,
                    "onbuild trigger should be a single expression",
                ));
            }
            let mut node = df.nodes[0].clone();
            node.span = span;
            let command =
                instructions::parse_command(&node).map_err(|e| Error::at(span, e.message))?;
            let before = self.stages[stage].deps.len();
            let cmd = self.link_command(stage, command, true)?;
            if self.stages[stage].deps.len() != before {
                new_deps = true;
            }
            cmds.push(cmd);
        }
        let s = &mut self.stages[stage];
        cmds.append(&mut s.commands);
        s.commands = cmds;
        Ok(new_deps)
    }

    fn dispatch_all(&mut self, resolved: &Resolved) -> Result<BuildOutcome> {
        self.resolved_files = resolved.files.clone();
        let reachable = self.reachable();
        // Images named only by `--from` have no commands and depend on nothing: set them up
        // first, so any stage can read them.
        // Stages a named context replaces are ready as early (the stock frontend marks them
        // dispatched when it loads them, so `--from` may name them before their position).
        for i in 0..self.stages.len() {
            if (self.stages[i].unregistered || self.stages[i].replaced.is_some())
                && reachable.contains(&i)
            {
                self.init_stage(i, resolved)?;
            }
        }
        for i in 0..self.stages.len() {
            if !reachable.contains(&i)
                || self.stages[i].unregistered
                || self.stages[i].replaced.is_some()
            {
                continue;
            }
            self.init_stage(i, resolved)?;
            if self.stages[i].unregistered {
                continue;
            }
            let cmds = self.stages[i].commands.clone();
            for cmd in &cmds {
                let span = cmd.command.span();
                self.stages[i].in_onbuild = cmd.onbuild;
                self.dispatch(i, cmd).map_err(|e| e.or_at(span))?;
            }
            let st = self.stages[i].st.as_ref().expect("stage dispatched");
            if !st.pending {
                if let Some(out) = st.output.clone() {
                    self.add_ready(out);
                }
            }
        }
        let target = self.target;
        self.mark_read(target, "/");
        if self.local_contexts && self.follow_hint.is_none() {
            return Ok(BuildOutcome::Retry(self.follow_hint_from_reads()));
        }
        let mut st = self.stages[target].st.clone().expect("target dispatched");
        for (k, v) in &self.opts.labels {
            st.image.config.labels.insert(k.clone(), v.clone());
        }
        if !self.implicit_target {
            let tp = &self.target_platform;
            let same = tp.os == st.image.os && tp.architecture == st.image.architecture;
            st.image.os = tp.os.clone();
            st.image.architecture = tp.architecture.clone();
            if !tp.variant.is_empty() || !same {
                st.image.variant = tp.variant.clone();
            }
            if !tp.os_version.is_empty() || !same {
                st.image.os_version = tp.os_version.clone();
            }
        }
        let hoard_rules: Vec<Warning> = self
            .plans
            .iter()
            .flat_map(super::checks::plan_warnings)
            .collect();
        self.warnings.extend(hoard_rules);
        let definition = self.marshal(st.output.as_ref());
        let result = PlatformResult {
            platform: st.image.platform().normalized(),
            definition,
            config: st.image,
            plans: std::mem::take(&mut self.plans),
            ci: self.ci_result()?,
            outline: self.outline(),
        };
        if !self.file_requests.is_empty() {
            let ready = self.ready.iter().map(|o| self.marshal(Some(o))).collect();
            return Ok(BuildOutcome::NeedFiles(
                std::mem::take(&mut self.file_requests),
                ready,
            ));
        }
        Ok(BuildOutcome::Done(
            result,
            std::mem::take(&mut self.warnings),
        ))
    }

    /// A copy of stage `i`'s state for reading while an instruction is built: everything but
    /// the image history and the written paths, which grow with every instruction (copying
    /// them for each one made long stages quadratic) and are only appended to.
    pub(super) fn snapshot(&mut self, i: usize) -> St {
        let st = self.stages[i].st.as_mut().expect("stage initialised");
        let history = std::mem::take(&mut st.image.history);
        let written = std::mem::take(&mut st.written);
        let snap = st.clone();
        st.image.history = history;
        st.written = written;
        snap
    }

    /// Remember a state that holds no pending step (once per state).
    pub(super) fn add_ready(&mut self, out: llb::Output) {
        if !self
            .ready
            .iter()
            .any(|o| o.digest() == out.digest() && o.index() == out.index())
        {
            self.ready.push(out);
        }
    }

    /// Stage `i` is about to take input from stage `from`: if that one is pending, so is `i`
    /// from here on, and its state so far is ready.
    pub(super) fn inherit_pending(&mut self, i: usize, from: usize) {
        let from_pending = self.stages[from].st.as_ref().is_some_and(|s| s.pending);
        let st = self.stages[i].st.as_mut().expect("stage initialised");
        if from_pending && !st.pending {
            st.pending = true;
            if let Some(out) = st.output.clone() {
                self.add_ready(out);
            }
        }
    }

    /// Set up a stage's starting state from its base (a stage, an image or scratch).
    fn init_stage(&mut self, i: usize, resolved: &Resolved) -> Result<()> {
        let platform = self.stage_platform(i);
        let s = &self.stages[i];
        let span = s.span;
        // progress counter: FROM (for images) + RUN/COPY/ADD/WORKDIR
        let mut total = if s.base_stage.is_none() && s.base_name != "scratch" {
            1
        } else {
            0
        };
        total += s
            .commands
            .iter()
            .filter(|c| {
                matches!(
                    c.command,
                    Command::Run(_) | Command::Copy(_) | Command::Add(_) | Command::Workdir(_)
                )
            })
            .count();
        self.stages[i].cmd_total = total;

        let context = self.stages[i]
            .replaced
            .clone()
            .or_else(|| self.stages[i].base_context.clone());
        if let Some(nc) = context {
            return self.init_context_stage(i, &nc, resolved);
        }
        let base_replaced = self.stages[i]
            .base_stage
            .is_some_and(|b| self.stages[b].replaced.is_some());
        let st = if let Some(b) = self.stages[i].base_stage {
            let mut st = self.stages[b]
                .st
                .clone()
                .ok_or_else(|| Error::at(span, "base stage was not built"))?;
            st.image.config.on_build.clear();
            st
        } else if self.stages[i].base_name == "scratch" {
            St::new(
                None,
                platform.clone(),
                ImageConfig::empty(&platform),
                "scratch".into(),
            )
        } else {
            let reference = normalize_reference(&self.stages[i].base_name)
                .map_err(|e| Error::at(span, e.message))?;
            let img = resolved
                .images
                .get(&(reference.full(), platform.id()))
                .ok_or_else(|| {
                    Error::at(span, format!("image {} was not resolved", reference.full()))
                })?;
            let mut image = ImageConfig::from_json(&img.config)
                .map_err(|e| Error::at(span, format!("failed to parse image config: {e}")))?;
            image.created = None;
            if !self.stages[i].unregistered {
                // The base's ONBUILD triggers run in this stage (see `run`); they are not inherited.
                image.config.on_build.clear();
            }
            let mut platform = platform.clone();
            if self.stages[i].platform.is_none() && self.implicit_target {
                // autoDetectPlatform: keep the image's own platform if it differs.
                let differs =
                    image.os != platform.os || image.architecture != platform.architecture;
                let is_build = image.os == self.opts.build_platform.os
                    && image.architecture == self.opts.build_platform.architecture;
                if differs && !image.os.is_empty() && is_build {
                    platform = self.opts.build_platform.clone();
                }
            }
            let mut name = match &img.digest {
                Some(d) if !d.is_empty() => {
                    let r = normalize_reference(&img.reference).unwrap_or(reference.clone());
                    r.with_digest(d).full()
                }
                _ => normalize_reference(&img.reference)
                    .map(|r| r.full())
                    .unwrap_or_else(|_| reference.full()),
            };
            if name.is_empty() {
                name = reference.full();
            }
            let is_scratch =
                image.rootfs.diff_ids.is_empty() && image.history.iter().all(|h| h.empty_layer);
            let output = if is_scratch {
                None
            } else {
                let label = self.progress_name(i, &format!("FROM {name}"), &platform);
                Some(
                    self.graph.image(
                        &name,
                        &platform,
                        self.opts.image_resolve_mode,
                        llb::OpMeta::named(label)
                            .with_description(
                                "com.docker.dockerfile.v1.command",
                                &self.stages[i].original,
                            )
                            .at(span),
                    ),
                )
            };
            St::new(output, platform, image, reference.full())
        };
        if self.stages[i].unregistered {
            self.stages[i].st = Some(st);
            return Ok(());
        }
        self.finish_init(i, st, base_replaced)
    }

    /// The part of a stage's set-up shared by every kind of base: PATH, and the environment,
    /// working directory and user taken from the base image's config.
    pub(super) fn finish_init(&mut self, i: usize, mut st: St, base_replaced: bool) -> Result<()> {
        let span = self.stages[i].span;
        if st.image.env("PATH").is_none() && st.platform.os != "windows" {
            st.image.config.env.push(format!(
                "PATH={}",
                crate::image::default_path_env(&st.platform.os)
            ));
        }
        // A stage built on a replaced stage takes its settings from that image's config, as
        // the stock frontend re-applies every base config.
        if self.stages[i].base_stage.is_none() || base_replaced {
            st.env = EnvList::default();
            for kv in &st.image.config.env {
                let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                st.env.set(k, v);
            }
            let wd = st.image.config.working_dir.clone();
            if !wd.is_empty() {
                st.dir =
                    super::paths::normalize_workdir(&st.dir, &wd).map_err(|e| e.or_at(span))?;
            }
            st.user = st.image.config.user.clone();
        }
        self.stages[i].st = Some(st);
        Ok(())
    }

    /// The progress name of the next step: `[stage 2/5] RUN ...`.
    pub(super) fn progress_name(&mut self, i: usize, text: &str, platform: &Platform) -> String {
        let s = &mut self.stages[i];
        if s.cmd_total == 0 {
            return text.to_string();
        }
        let mut out = String::from("[");
        if self.opts.multi_platform {
            out += &format!("{} ", platform.id());
        }
        if !s.stage_name.is_empty() {
            out += &s.stage_name;
            out.push(' ');
        }
        s.cmd_index += 1;
        let width = s.cmd_total.to_string().len();
        out += &format!("{:>width$}/{}] ", s.cmd_index, s.cmd_total);
        if s.in_onbuild {
            out += "ONBUILD ";
        }
        out + text
    }
}

impl Build<'_> {
    /// The build context (`local://context`), minus `.dockerignore`d files; made once.
    /// The next number in definition order of outline records.
    pub(super) fn next_seq(&mut self) -> usize {
        self.outline_seq += 1;
        self.outline_seq
    }

    /// The description of `name` from the comments before the instruction at `span`.
    pub(super) fn doc_comment(&self, name: &str, span: Span) -> String {
        let comments = self.comments.get(&span.start).map(Vec::as_slice);
        parser::doc_comment(comments.unwrap_or(&[]), name)
    }

    /// The outline of the target (see `outline.rs`).
    fn outline(&mut self) -> Outline {
        let links: Vec<Links> = self
            .stages
            .iter()
            .map(|s| Links {
                base: s.base_stage,
                deps: s.deps.iter().copied().collect(),
            })
            .collect();
        let mut captures: Vec<Capture> = self
            .stages
            .iter_mut()
            .map(|s| std::mem::take(&mut s.capture))
            .collect();
        let (args, secrets, ssh) = outline::collect(self.target, &links, &mut captures);
        for (s, c) in self.stages.iter_mut().zip(captures) {
            s.capture = c;
        }
        let t = &self.stages[self.target];
        let name = t.name.clone().unwrap_or_default();
        let description = self.doc_comment(&name, t.span);
        Outline {
            name,
            description,
            args,
            secrets,
            ssh,
        }
    }

    pub(super) fn context(&mut self) -> llb::Output {
        let opts = self.opts;
        self.graph.context_or_insert(|| {
            let local = llb::LocalOpts {
                session_id: (!opts.session_id.is_empty()).then(|| opts.session_id.clone()),
                unique_id: "hoard-context".into(),
                exclude_patterns: opts.dockerignore.clone(),
                shared_key_hint: Some(opts.context_key.clone()),
                ..Default::default()
            };
            llb::local(
                &opts.context_key,
                &local,
                llb::OpMeta::named("[internal] load build context"),
            )
        })
    }

    pub(super) fn marshal(&self, root: Option<&llb::Output>) -> llb::Definition {
        let sources = vec![crate::proto::pb::SourceInfo {
            filename: self.opts.filename.clone(),
            data: self.text.as_bytes().to_vec(),
            language: "Dockerfile".into(),
            definition: None,
        }];
        llb::marshal(root, &sources)
    }
}
