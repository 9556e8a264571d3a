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
                let (quoted, caret) = quote(line, location.column);
                let caret_pad = " ".repeat(caret);
                write!(f, "\n{pad} |\n{} | {quoted}\n{pad} | {caret_pad}^", location.line)?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// The most characters of a source line a diagnostic quotes; a longer line (a 10,000-deep `[[[…`)
/// is cut around the column.
const QUOTED_CHARS: usize = 100;

/// `line` cut to at most [`QUOTED_CHARS`] characters around `column` (1-based), each cut marked
/// with `…`, and the caret's offset in the result.
fn quote(line: &str, column: usize) -> (String, usize) {
    let at = column.saturating_sub(1);
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= QUOTED_CHARS {
        return (line.to_string(), at);
    }
    let start = at.saturating_sub(QUOTED_CHARS / 2).min(chars.len() - QUOTED_CHARS);
    let end = start + QUOTED_CHARS;
    let mut quoted = String::new();
    if start > 0 {
        quoted.push('…');
    }
    quoted.extend(&chars[start..end]);
    if end < chars.len() {
        quoted.push('…');
    }
    (quoted, at.min(chars.len()) - start + usize::from(start > 0))
}

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
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_quoted_around_the_column() {
        assert_eq!(quote("a: 1", 4), ("a: 1".to_string(), 3));
        let line = format!("{}x{}", "[".repeat(500), "]".repeat(500));
        let (quoted, caret) = quote(&line, 501);
        assert_eq!(quoted.chars().count(), QUOTED_CHARS + 2);
        assert!(quoted.starts_with('…') && quoted.ends_with('…'));
        assert_eq!(quoted.chars().nth(caret), Some('x'));
        let (quoted, caret) = quote(&line, 1);
        assert!(!quoted.starts_with('…') && quoted.ends_with('…'));
        assert_eq!(caret, 0);
    }
}

/// An invalid invocation: an argument that names nothing that exists, or a value out of range.
/// Like a [`Diagnostics`], it makes `ablate` exit with 2 (a failed stage exits with 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// Returns early with an [`Invalid`] error: `invalid!("--sort {x}: no such column")`.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::diagnostic::Invalid(format!($($arg)*))))
    };
}
