//! Tokenising and parsing: lists, pipelines, compound commands, words, redirections and
//! heredocs. Simple commands are handed to [`super::command`].

use super::{Analysed, Ctx};

/// Deeper nesting than this is skipped, not analysed (keeps the recursion bounded).
pub(super) const MAX_DEPTH: usize = 48;

/// Reserved words that end a list when they appear in command position.
const CLOSERS: [&str; 8] = ["then", "do", "done", "fi", "elif", "else", "esac", "}"];

/// A word as the command layer sees it.
#[derive(Debug, Clone)]
pub(super) struct W {
    pub text: String,
    pub span: Option<(usize, usize)>,
    /// No expansion, glob or leading tilde: the text is what the program receives.
    pub literal: bool,
    /// Some part was quoted or escaped.
    pub quoted: bool,
    /// For a prefix assignment word, the byte index of `=` in `text`.
    pub assign: Option<usize>,
}

impl W {
    /// An exec-form word: literal, no span.
    pub(super) fn plain(s: &str) -> W {
        W {
            text: s.to_string(),
            span: None,
            literal: true,
            quoted: false,
            assign: None,
        }
    }
}

/// Standard input of a simple command that a shell would read as its script.
pub(super) enum Stdin {
    /// A heredoc, by id (its body is read at the next newline).
    Doc(usize),
    /// A here-string's text.
    Str(String),
}

struct Pending {
    id: usize,
    delim: String,
    strip_tabs: bool,
}

/// A shell reading a heredoc body: analysed once the body has been read.
pub(super) struct Deferred {
    pub id: usize,
    pub at: usize,
    pub ctx: Ctx,
}

pub(super) struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pub pos: usize,
    /// The whole source is a nested script.
    pub nested: bool,
    /// How many `$(...)` we are inside.
    pub subst: usize,
    pub depth: usize,
    pub ctx: Ctx,
    pub out: Vec<Analysed>,
    pending: Vec<Pending>,
    bodies: Vec<Option<String>>,
    pub deferred: Vec<Deferred>,
}

fn is_delim(c: Option<u8>) -> bool {
    matches!(
        c,
        None | Some(b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>')
    )
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, nested: bool, depth: usize, ctx: Ctx) -> Self {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            nested,
            subst: 0,
            depth,
            ctx,
            out: Vec::new(),
            pending: Vec::new(),
            bodies: Vec::new(),
            deferred: Vec::new(),
        }
    }

    /// Parse the whole source.
    pub(super) fn run(&mut self) {
        loop {
            self.parse_list();
            if self.eof() {
                break;
            }
            self.skip_stray();
        }
        self.finish();
    }

    /// Analyse the shells that read heredoc bodies, inserting their invocations where the
    /// shell stood.
    pub(super) fn finish(&mut self) {
        let deferred = std::mem::take(&mut self.deferred);
        for d in deferred.into_iter().rev() {
            let body = self.bodies.get(d.id).cloned().flatten().unwrap_or_default();
            let (found, _) = self.nested_run(&body, d.ctx);
            let at = d.at.min(self.out.len());
            self.out.splice(at..at, found);
        }
    }

    /// Analyse `script` as a separate, nested script starting in `ctx`: its invocations and
    /// the final state (for `eval`). `None` state when too deep.
    pub(super) fn nested_run(&self, script: &str, ctx: Ctx) -> (Vec<Analysed>, Option<Ctx>) {
        if self.depth + 1 >= MAX_DEPTH {
            return (Vec::new(), None);
        }
        let mut p = Parser::new(script, true, self.depth + 1, ctx);
        p.run();
        (p.out, Some(p.ctx))
    }

    // ----- low level -----

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(self.pos + i).copied()
    }

    fn starts(&self, s: &str) -> bool {
        self.b
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(s.as_bytes()))
    }

    /// A reserved word at the current position.
    fn kw(&self, k: &str) -> bool {
        self.starts(k) && is_delim(self.b.get(self.pos + k.len()).copied())
    }

    fn at_closer(&self) -> bool {
        CLOSERS.iter().any(|k| self.kw(k))
    }

    fn at_list_end(&self) -> bool {
        self.peek() == Some(b')') || self.starts(";;") || self.starts(";&") || self.at_closer()
    }

    /// Advance over one character.
    fn bump(&mut self) {
        let n = self
            .src
            .get(self.pos..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8);
        self.pos = (self.pos + n).min(self.b.len());
    }

    /// Skip something that cannot start a command here (a stray operator or keyword).
    fn skip_stray(&mut self) {
        for op in ["&&", "||", ";;&", ";;", ";&", "|&", ";", "&", "|", ")", "("] {
            if self.starts(op) {
                self.pos += op.len();
                return;
            }
        }
        if let Some(k) = CLOSERS.iter().find(|k| self.kw(k)) {
            self.pos += k.len();
            return;
        }
        self.bump();
    }

    /// Blanks, line continuations and comments (not newlines).
    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r') => self.pos += 1,
                Some(b'\\') if self.at(1) == Some(b'\n') => self.pos += 2,
                Some(b'#') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Blanks, comments and newlines (reading heredoc bodies).
    fn skip_ws_nl(&mut self) {
        loop {
            self.skip_ws();
            if self.peek() == Some(b'\n') {
                self.newline();
            } else {
                break;
            }
        }
    }

    /// Consume a newline and the bodies of the heredocs started on its line.
    fn newline(&mut self) {
        self.pos += 1;
        for p in std::mem::take(&mut self.pending) {
            let start = self.pos;
            let mut line = self.pos;
            let (mut end, mut next) = (self.b.len(), self.b.len());
            while line < self.b.len() {
                let nl = self.b[line..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map(|n| line + n);
                let line_end = nl.unwrap_or(self.b.len());
                let mut text = &self.src[line..line_end];
                text = text.strip_suffix('\r').unwrap_or(text);
                if p.strip_tabs {
                    text = text.trim_start_matches('\t');
                }
                if text == p.delim {
                    end = line;
                    next = nl.map_or(self.b.len(), |n| n + 1);
                    break;
                }
                line = nl.map_or(self.b.len(), |n| n + 1);
            }
            let mut body = self.src[start..end].to_string();
            if p.strip_tabs {
                body = body
                    .lines()
                    .map(|l| l.trim_start_matches('\t'))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            if let Some(slot) = self.bodies.get_mut(p.id) {
                *slot = Some(body);
            }
            self.pos = next;
        }
    }

    // ----- grammar -----

    /// A list: and-or lists separated by `;`, `&` or newlines, up to `)`, `;;`, a closing
    /// reserved word or the end.
    pub(super) fn parse_list(&mut self) {
        loop {
            self.skip_ws_nl();
            if self.eof() || self.at_list_end() {
                return;
            }
            let start = self.pos;
            let saved = self.ctx.clone();
            self.parse_and_or();
            self.skip_ws();
            match self.peek() {
                Some(b';') if !self.starts(";;") && !self.starts(";&") => self.pos += 1,
                Some(b'&') if !self.starts("&&") && !self.starts("&>") => {
                    self.pos += 1;
                    // A background job runs in a subshell.
                    self.ctx = saved;
                }
                Some(b'\n') => self.newline(),
                _ => {}
            }
            if self.pos == start {
                if self.at_list_end() {
                    return;
                }
                self.skip_stray();
            }
        }
    }

    fn parse_and_or(&mut self) {
        self.parse_pipeline();
        loop {
            self.skip_ws();
            if self.starts("&&") {
                self.pos += 2;
                self.skip_ws_nl();
                self.parse_pipeline();
            } else if self.starts("||") {
                self.pos += 2;
                self.skip_ws_nl();
                // The right side runs only if the left failed.
                let pre = self.ctx.clone();
                self.parse_pipeline();
                self.ctx = Ctx::merge(&pre, &[pre.clone(), self.ctx.clone()]);
            } else {
                break;
            }
        }
    }

    fn parse_pipeline(&mut self) {
        self.skip_ws();
        if self.kw("!") {
            self.pos += 1;
            self.skip_ws();
        }
        let saved = self.ctx.clone();
        self.parse_command();
        let mut piped = false;
        loop {
            self.skip_ws();
            if self.starts("||") {
                break;
            } else if self.starts("|&") {
                self.pos += 2;
            } else if self.peek() == Some(b'|') {
                self.pos += 1;
            } else {
                break;
            }
            // Every element of a pipeline runs in a subshell.
            piped = true;
            self.ctx = saved.clone();
            self.skip_ws_nl();
            self.parse_command();
        }
        if piped {
            self.ctx = saved;
        }
    }

    fn parse_command(&mut self) {
        self.skip_ws();
        if self.depth >= MAX_DEPTH {
            if self.peek() == Some(b'(') {
                self.pos = self.skip_balanced(self.pos, b'(', b')');
            } else {
                self.parse_simple();
            }
            return;
        }
        self.depth += 1;
        if self.starts("((") {
            self.pos = self.skip_balanced(self.pos, b'(', b')');
            self.redirects();
        } else if self.peek() == Some(b'(') {
            self.pos += 1;
            let saved = self.ctx.clone();
            loop {
                self.parse_list();
                if self.peek() == Some(b')') {
                    self.pos += 1;
                    break;
                }
                if self.eof() {
                    break;
                }
                self.skip_stray();
            }
            self.ctx = saved;
            self.redirects();
        } else if self.kw("{") {
            self.pos += 1;
            self.group_body();
            self.redirects();
        } else if self.kw("if") {
            self.parse_if();
            self.redirects();
        } else if self.kw("while") || self.kw("until") {
            self.pos += 5;
            self.parse_list();
            let pre = self.ctx.clone();
            if self.kw("do") {
                self.pos += 2;
                self.parse_list();
                if self.kw("done") {
                    self.pos += 4;
                }
            }
            self.ctx = Ctx::merge(&pre, &[pre.clone(), self.ctx.clone()]);
            self.redirects();
        } else if self.kw("for") || self.kw("select") {
            self.parse_for();
            self.redirects();
        } else if self.kw("case") {
            self.parse_case();
            self.redirects();
        } else if self.kw("function") {
            self.pos += 8;
            self.skip_ws();
            let _ = self.read_word();
            self.function_body();
        } else {
            self.parse_simple();
        }
        self.depth -= 1;
    }

    /// After `{`: the list and the `}`.
    fn group_body(&mut self) {
        loop {
            self.parse_list();
            if self.kw("}") {
                self.pos += 1;
                break;
            }
            if self.eof() || self.peek() == Some(b')') || self.starts(";;") || self.starts(";&") {
                break;
            }
            self.skip_stray();
        }
    }

    /// After a function's name: optional `()`, then the body, analysed in a throwaway state.
    fn function_body(&mut self) {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            let save = self.pos;
            self.pos += 1;
            self.skip_ws();
            if self.peek() == Some(b')') {
                self.pos += 1;
            } else {
                self.pos = save;
            }
        }
        self.skip_ws_nl();
        let saved = self.ctx.clone();
        self.parse_command();
        self.ctx = saved;
    }

    fn parse_if(&mut self) {
        self.pos += 2;
        self.parse_list();
        let pre = self.ctx.clone();
        if !self.kw("then") {
            return;
        }
        self.pos += 4;
        self.parse_list();
        let mut outs = vec![self.ctx.clone()];
        let mut has_else = false;
        loop {
            if self.kw("elif") {
                self.pos += 4;
                self.ctx = pre.clone();
                self.parse_list();
                if self.kw("then") {
                    self.pos += 4;
                }
                self.parse_list();
                outs.push(self.ctx.clone());
            } else if self.kw("else") {
                self.pos += 4;
                self.ctx = pre.clone();
                self.parse_list();
                outs.push(self.ctx.clone());
                has_else = true;
            } else {
                if self.kw("fi") {
                    self.pos += 2;
                }
                break;
            }
        }
        if !has_else {
            outs.push(pre.clone());
        }
        self.ctx = Ctx::merge(&pre, &outs);
    }

    fn parse_for(&mut self) {
        self.pos += if self.kw("for") { 3 } else { 6 };
        self.skip_ws();
        let mut name = None;
        if self.starts("((") {
            self.pos = self.skip_balanced(self.pos, b'(', b')');
        } else if let Some(w) = self.read_word() {
            name = Some(w.text);
        }
        self.skip_ws_nl();
        if self.kw("in") {
            self.pos += 2;
            loop {
                self.skip_ws();
                if self.read_word().is_none() {
                    break;
                }
            }
        }
        self.skip_ws();
        if self.peek() == Some(b';') && !self.starts(";;") {
            self.pos += 1;
        }
        self.skip_ws_nl();
        let pre = self.ctx.clone();
        if let Some(n) = &name {
            self.ctx.unset(n);
        }
        if self.kw("do") {
            self.pos += 2;
            self.parse_list();
            if self.kw("done") {
                self.pos += 4;
            }
        } else if self.kw("{") {
            self.pos += 1;
            self.group_body();
        }
        self.ctx = Ctx::merge(&pre, &[pre.clone(), self.ctx.clone()]);
    }

    fn parse_case(&mut self) {
        self.pos += 4;
        self.skip_ws();
        let _ = self.read_word();
        self.skip_ws_nl();
        if self.kw("in") {
            self.pos += 2;
        }
        let pre = self.ctx.clone();
        let mut outs = Vec::new();
        loop {
            self.skip_ws_nl();
            if self.kw("esac") {
                self.pos += 4;
                break;
            }
            if self.eof() {
                break;
            }
            let start = self.pos;
            if self.peek() == Some(b'(') {
                self.pos += 1;
            }
            // Patterns up to `)`.
            loop {
                self.skip_ws();
                match self.peek() {
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(b'|') => self.pos += 1,
                    None | Some(b'\n' | b';') => break,
                    _ => {
                        if self.read_word().is_none() {
                            self.bump();
                        }
                    }
                }
            }
            self.ctx = pre.clone();
            self.parse_list();
            outs.push(self.ctx.clone());
            self.skip_ws();
            if self.starts(";;&") {
                self.pos += 3;
            } else if self.starts(";;") || self.starts(";&") {
                self.pos += 2;
            } else if !self.kw("esac") && self.pos == start {
                self.skip_stray();
            }
        }
        outs.push(pre.clone());
        self.ctx = Ctx::merge(&pre, &outs);
    }

    /// Redirections after a compound command.
    fn redirects(&mut self) {
        loop {
            self.skip_ws();
            let Some((fd0, len, op)) = self.redirect_at() else {
                break;
            };
            self.pos += len;
            let mut stdin = None;
            self.redirect(fd0, op, &mut stdin);
        }
    }

    /// A redirection operator (with its optional fd number) here: (is stdin, length, operator).
    fn redirect_at(&self) -> Option<(bool, usize, &'static str)> {
        let rest = self.b.get(self.pos..)?;
        let mut i = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut stdin = i == 0 || rest[..i].iter().all(|&c| c == b'0');
        if i == 0 && rest.first() == Some(&b'{') {
            let n = rest[1..]
                .iter()
                .take_while(|&&c| c == b'_' || c.is_ascii_alphanumeric())
                .count();
            if n > 0
                && rest.get(n + 1) == Some(&b'}')
                && matches!(rest.get(n + 2), Some(b'<' | b'>'))
            {
                i = n + 2;
                stdin = false;
            }
        }
        let ops: &[&'static str] = if i == 0 {
            &[
                "&>>", "&>", "<<<", "<<-", "<<", "<&", "<>", ">>", ">&", ">|", "<", ">",
            ]
        } else {
            &["<<<", "<<-", "<<", "<&", "<>", ">>", ">&", ">|", "<", ">"]
        };
        let op = ops.iter().find(|op| rest[i..].starts_with(op.as_bytes()))?;
        if (*op == "<" || *op == ">") && rest.get(i + 1) == Some(&b'(') {
            // Process substitution: a word.
            return None;
        }
        Some((stdin && op.starts_with('<'), i + op.len(), op))
    }

    /// The operand of a redirection operator just consumed.
    fn redirect(&mut self, fd0: bool, op: &str, stdin: &mut Option<Stdin>) {
        self.skip_ws();
        let Some(w) = self.read_word() else { return };
        match op {
            "<<" | "<<-" => {
                let id = self.bodies.len();
                self.bodies.push(None);
                self.pending.push(Pending {
                    id,
                    delim: w.text,
                    strip_tabs: op == "<<-",
                });
                if fd0 {
                    *stdin = Some(Stdin::Doc(id));
                }
            }
            "<<<" if fd0 => *stdin = Some(Stdin::Str(w.text)),
            _ => {}
        }
    }

    fn parse_simple(&mut self) {
        let mut assigns: Vec<(String, bool, String)> = Vec::new();
        let mut words: Vec<W> = Vec::new();
        let mut stdin = None;
        loop {
            self.skip_ws();
            if self.eof() {
                break;
            }
            if let Some((fd0, len, op)) = self.redirect_at() {
                self.pos += len;
                self.redirect(fd0, op, &mut stdin);
                continue;
            }
            match self.peek() {
                Some(b'\n' | b';' | b'&' | b'|' | b')') => break,
                Some(b'(') => {
                    if words.len() == 1 && assigns.is_empty() && self.is_fn_parens() {
                        self.function_body();
                        return;
                    }
                    break;
                }
                _ => {}
            }
            let Some(w) = self.read_word() else {
                self.bump();
                continue;
            };
            if words.is_empty() {
                if let Some(eq) = w.assign {
                    let name = &w.text[..eq];
                    let (name, append) = match name.strip_suffix('+') {
                        Some(n) => (n, true),
                        None => (name, false),
                    };
                    assigns.push((name.to_string(), append, w.text[eq + 1..].to_string()));
                    continue;
                }
                if assigns.is_empty() && !w.quoted && w.text == "[[" {
                    words.push(w);
                    self.dbracket(&mut words);
                    continue;
                }
            }
            words.push(w);
        }
        self.run_simple(assigns, words, stdin, true);
    }

    /// `(` `)` after a function name.
    fn is_fn_parens(&self) -> bool {
        let rest = &self.b[self.pos + 1..];
        let n = rest
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        rest.get(n) == Some(&b')')
    }

    /// The rest of `[[ ... ]]`: operators are words there.
    fn dbracket(&mut self, words: &mut Vec<W>) {
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(b'\n' | b';') => break,
                _ => {}
            }
            let op = ["&&", "||", "<", ">", "(", ")", "|", "&"]
                .into_iter()
                .find(|op| self.starts(op));
            if let Some(op) = op {
                let span = self.span(self.pos, self.pos + op.len(), false);
                words.push(W {
                    text: op.to_string(),
                    span,
                    literal: true,
                    quoted: false,
                    assign: None,
                });
                self.pos += op.len();
                continue;
            }
            let Some(w) = self.read_word() else {
                self.bump();
                continue;
            };
            let end = !w.quoted && w.text == "]]";
            words.push(w);
            if end {
                break;
            }
        }
    }

    // ----- words -----

    fn span(&self, start: usize, end: usize, continuation: bool) -> Option<(usize, usize)> {
        (!self.nested && self.subst == 0 && !continuation).then_some((start, end))
    }

    /// One word at the current position (None at an operator, blank or the end).
    pub(super) fn read_word(&mut self) -> Option<W> {
        let start = self.pos;
        let c = self.peek();
        let procsub = matches!(c, Some(b'<' | b'>')) && self.at(1) == Some(b'(');
        if is_delim(c) && !procsub {
            return None;
        }
        let mut t: Vec<u8> = Vec::new();
        let mut lx = Lex::default();
        // All bytes so far unquoted and plain (for assignment detection).
        let mut plain = true;
        let mut assign: Option<usize> = None;
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b')' => break,
                b'(' => {
                    if assign.is_some_and(|a| a + 1 == t.len()) {
                        // Array assignment `a=(x y)`.
                        let e = self.skip_balanced(self.pos, b'(', b')');
                        t.extend_from_slice(&self.b[self.pos..e]);
                        self.pos = e;
                        lx.expansion = true;
                        plain = false;
                    } else {
                        break;
                    }
                }
                b'<' | b'>' => {
                    if self.at(1) == Some(b'(') {
                        let s = self.pos;
                        self.subst_parse(s + 2);
                        t.extend_from_slice(&self.b[s..self.pos]);
                        lx.expansion = true;
                        plain = false;
                    } else {
                        break;
                    }
                }
                b'\\' => {
                    plain = false;
                    match self.at(1) {
                        Some(b'\n') => {
                            self.pos += 2;
                            lx.continuation = true;
                        }
                        Some(_) => {
                            lx.quoted = true;
                            self.pos += 1;
                            let s = self.pos;
                            self.bump();
                            t.extend_from_slice(&self.b[s..self.pos]);
                        }
                        None => {
                            t.push(b'\\');
                            self.pos += 1;
                        }
                    }
                }
                b'\'' => {
                    plain = false;
                    lx.quoted = true;
                    let s = self.pos + 1;
                    let e = self.b[s..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map_or(self.b.len(), |n| s + n);
                    t.extend_from_slice(&self.b[s..e]);
                    self.pos = (e + 1).min(self.b.len());
                }
                b'"' => {
                    plain = false;
                    lx.quoted = true;
                    self.pos += 1;
                    self.dquote(&mut t, &mut lx);
                }
                b'$' => match self.at(1) {
                    Some(b'\'') => {
                        plain = false;
                        lx.quoted = true;
                        self.pos += 2;
                        self.ansi_c(&mut t);
                    }
                    Some(b'"') => {
                        plain = false;
                        lx.quoted = true;
                        self.pos += 2;
                        self.dquote(&mut t, &mut lx);
                    }
                    _ => {
                        if self.dollar(&mut t) {
                            plain = false;
                            lx.expansion = true;
                        }
                    }
                },
                b'`' => {
                    plain = false;
                    lx.expansion = true;
                    self.backtick(&mut t);
                }
                b'=' => {
                    if plain && assign.is_none() {
                        let name = t.strip_suffix(b"+").unwrap_or(&t);
                        if std::str::from_utf8(name).is_ok_and(super::is_name) {
                            assign = Some(t.len());
                        }
                    }
                    t.push(c);
                    self.pos += 1;
                }
                b'*' | b'?' | b'[' => {
                    lx.glob = true;
                    t.push(c);
                    self.pos += 1;
                }
                b'~' => {
                    if self.pos == start {
                        lx.tilde = true;
                    }
                    t.push(c);
                    self.pos += 1;
                }
                _ => {
                    t.push(c);
                    self.pos += 1;
                }
            }
        }
        if self.pos == start {
            return None;
        }
        let end = self.pos;
        let continuation = lx.continuation || self.src[start..end].contains("\\\n");
        Some(W {
            text: String::from_utf8_lossy(&t).into_owned(),
            span: self.span(start, end, continuation),
            literal: !lx.expansion && !lx.glob && !lx.tilde,
            quoted: lx.quoted,
            assign,
        })
    }

    /// Inside `"..."` (opening quote consumed), through the closing quote.
    fn dquote(&mut self, t: &mut Vec<u8>, lx: &mut Lex) {
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.pos += 1;
                    return;
                }
                b'\\' => match self.at(1) {
                    Some(b'\n') => {
                        self.pos += 2;
                        lx.continuation = true;
                    }
                    Some(e @ (b'$' | b'`' | b'"' | b'\\')) => {
                        t.push(e);
                        self.pos += 2;
                    }
                    _ => {
                        t.push(b'\\');
                        self.pos += 1;
                    }
                },
                b'$' => {
                    if self.dollar(t) {
                        lx.expansion = true;
                    }
                }
                b'`' => {
                    lx.expansion = true;
                    self.backtick(t);
                }
                _ => {
                    t.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A `$` expansion (not `$'` / `$"`), copied verbatim. False when the `$` was literal.
    fn dollar(&mut self, t: &mut Vec<u8>) -> bool {
        let s = self.pos;
        match self.at(1) {
            Some(b'(') if self.at(2) == Some(b'(') => {
                self.pos = self.skip_balanced(s + 1, b'(', b')');
            }
            Some(b'(') => self.subst_parse(s + 2),
            Some(b'{') => self.pos = self.skip_balanced(s + 1, b'{', b'}'),
            Some(c) if c.is_ascii_digit() => self.pos += 2,
            Some(c) if c == b'_' || c.is_ascii_alphabetic() => {
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|c| c == b'_' || c.is_ascii_alphanumeric())
                {
                    self.pos += 1;
                }
            }
            Some(b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-') => self.pos += 2,
            _ => {
                t.push(b'$');
                self.pos += 1;
                return false;
            }
        }
        t.extend_from_slice(&self.b[s..self.pos]);
        true
    }

    /// Parse a command substitution whose inside starts at `from`, through its `)`; its
    /// commands are reported as nested.
    fn subst_parse(&mut self, from: usize) {
        if self.depth >= MAX_DEPTH {
            self.pos = self.skip_balanced(from - 1, b'(', b')');
            return;
        }
        self.pos = from;
        self.depth += 1;
        self.subst += 1;
        let saved = self.ctx.clone();
        loop {
            self.parse_list();
            if self.peek() == Some(b')') {
                self.pos += 1;
                break;
            }
            if self.eof() {
                break;
            }
            self.skip_stray();
        }
        self.ctx = saved;
        self.subst -= 1;
        self.depth -= 1;
    }

    /// A backtick substitution, copied verbatim; its inside is analysed as a nested script.
    fn backtick(&mut self, t: &mut Vec<u8>) {
        let s = self.pos;
        let mut i = s + 1;
        while i < self.b.len() && self.b[i] != b'`' {
            i += if self.b[i] == b'\\' { 2 } else { 1 };
        }
        let close = i.min(self.b.len());
        let inner = &self.src[s + 1..close];
        let mut script = String::with_capacity(inner.len());
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' && matches!(chars.peek(), Some('\\' | '`' | '$')) {
                script.push(chars.next().unwrap_or('\\'));
            } else {
                script.push(c);
            }
        }
        let (found, _) = self.nested_run(&script, self.ctx.clone());
        self.out.extend(found);
        self.pos = (close + 1).min(self.b.len());
        t.extend_from_slice(&self.b[s..self.pos]);
    }

    /// Inside `$'...'` (opening consumed), through the closing quote, decoding escapes.
    fn ansi_c(&mut self, t: &mut Vec<u8>) {
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                b'\'' => return,
                b'\\' => {
                    let Some(e) = self.peek() else {
                        t.push(b'\\');
                        return;
                    };
                    self.pos += 1;
                    match e {
                        b'n' => t.push(b'\n'),
                        b't' => t.push(b'\t'),
                        b'r' => t.push(b'\r'),
                        b'a' => t.push(7),
                        b'b' => t.push(8),
                        b'e' | b'E' => t.push(27),
                        b'f' => t.push(12),
                        b'v' => t.push(11),
                        b'\\' | b'\'' | b'"' | b'?' => t.push(e),
                        b'x' | b'u' | b'U' => {
                            let max = match e {
                                b'x' => 2,
                                b'u' => 4,
                                _ => 8,
                            };
                            let n = self.b[self.pos..]
                                .iter()
                                .take(max)
                                .take_while(|c| c.is_ascii_hexdigit())
                                .count();
                            if n == 0 {
                                t.push(b'\\');
                                t.push(e);
                                continue;
                            }
                            let v = u32::from_str_radix(&self.src[self.pos..self.pos + n], 16)
                                .unwrap_or(0);
                            self.pos += n;
                            if e == b'x' {
                                t.push(v as u8);
                            } else if let Some(ch) = char::from_u32(v) {
                                let mut buf = [0u8; 4];
                                t.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            }
                        }
                        b'0'..=b'7' => {
                            let n = self.b[self.pos..]
                                .iter()
                                .take(2)
                                .take_while(|c| (b'0'..=b'7').contains(c))
                                .count();
                            let v = u32::from_str_radix(&self.src[self.pos - 1..self.pos + n], 8)
                                .unwrap_or(0);
                            self.pos += n;
                            t.push(v as u8);
                        }
                        b'c' => {
                            if let Some(x) = self.peek().filter(u8::is_ascii) {
                                self.pos += 1;
                                t.push(x & 0x1f);
                            }
                        }
                        _ => {
                            t.push(b'\\');
                            self.pos -= 1;
                        }
                    }
                }
                _ => t.push(c),
            }
        }
    }

    /// The end of a balanced `open ... close` group starting at `from` (which holds `open`),
    /// skipping quotes; the end of the source when unbalanced.
    fn skip_balanced(&self, from: usize, open: u8, close: u8) -> usize {
        let b = self.b;
        let mut depth = 0usize;
        let mut i = from;
        while i < b.len() {
            match b[i] {
                c if c == open => depth += 1,
                c if c == close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i + 1;
                    }
                }
                b'\\' => i += 1,
                b'\'' => {
                    i = b[i + 1..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map_or(b.len(), |n| i + 1 + n);
                }
                b'"' => {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                }
                _ => {}
            }
            i += 1;
        }
        b.len()
    }
}

#[derive(Default)]
struct Lex {
    quoted: bool,
    expansion: bool,
    glob: bool,
    tilde: bool,
    continuation: bool,
}
