//! Shell analysis of a `RUN` command: which programs it runs, with which arguments, under
//! which variable assignments and in which directory. (Stub: being written.)

/// One simple command found in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The words after quote removal. Words with expansions keep their `$` text.
    pub argv: Vec<Word>,
    /// `VAR=value` prefixes and `env VAR=value` assignments for this command.
    pub assignments: Vec<(String, String)>,
    /// The directory it runs in when a literal `cd DIR` earlier in the script changed it
    /// (absolute, or relative to the step's working dir).
    pub cwd: Option<String>,
    /// True when the command sits inside a nested script (`sh -c '...'`, a heredoc body, a
    /// command substitution): its words cannot be edited in the step's command line.
    pub nested: bool,
}

/// A word of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    /// Byte range of the word in the analysed script, when it can be edited there.
    pub span: Option<(usize, usize)>,
}

/// Analyse a shell script (the last argument of `/bin/sh -c`).
pub fn analyze(script: &str) -> Vec<Invocation> {
    let _ = script;
    Vec::new()
}

/// Analyse an exec-form command (`RUN ["pip", "install", "x"]`), following `sh -c` into its
/// script.
pub fn analyze_exec(argv: &[String]) -> Vec<Invocation> {
    let _ = argv;
    Vec::new()
}
