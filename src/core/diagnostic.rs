//! Errors that point at the place in a pipeline file that caused them.
//!
//! A [`Diagnostic`] carries a message, an optional source location (file, line, column) and an
//! optional hint. Rendering shows the offending line with a caret under the column, the way
//! compilers do, so a user sees at once which key of which stage is wrong.
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a YAML node came from: a file (or a `--set` argument) plus line and column (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub source: Arc<Source>,
    pub line: usize,
    pub column: usize,
}

/// The text a location refers to, kept so that diagnostics can quote the offending line.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    pub name: PathBuf,
    pub text: String,
}

impl Location {
    fn source_line(&self) -> Option<&str> {
        self.source.text.lines().nth(self.line.checked_sub(1)?)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source.name.display(), self.line, self.column)
    }
}

/// A user-facing error about a pipeline file or its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub message: String,
    pub location: Option<Location>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic { message: message.into(), location: None, hint: None }
    }

    pub fn at(mut self, location: &Location) -> Self {
        self.location = Some(location.clone());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(location) = &self.location {
            write!(f, "\n  --> {location}")?;
            if let Some(line) = location.source_line() {
                let gutter = location.line.to_string().len();
                let pad = " ".repeat(gutter);
                let caret_pad = " ".repeat(location.column.saturating_sub(1));
                write!(f, "\n{pad} |\n{} | {line}\n{pad} | {caret_pad}^", location.line)?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Several diagnostics found in one validation pass, reported together.
#[derive(Debug)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
                write!(f, "error: ")?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest candidate to `name`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}
