//! The lines that differ between two outputs of a key command (`pip freeze` before and after an
//! upgrade), as explanations show them.
//!
//! Lines are compared as a multiset, so a line that only moved is no change. A removed and an
//! added line with the same name (what comes before a version: `torch` of `torch==2.10.0` or
//! of `torch @ file:///…`, the first word of a `conda list` line) pair up as one change,
//! `torch==2.10.0 → torch==2.11.0`; the others were added or removed.
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum LineChange {
    Changed { from: String, to: String },
    Added(String),
    Removed(String),
}

impl fmt::Display for LineChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineChange::Changed { from, to } => write!(f, "{from} → {to}"),
            LineChange::Added(line) => write!(f, "{line} added"),
            LineChange::Removed(line) => write!(f, "{line} removed"),
        }
    }
}

/// What changed from `old` to `new`: changes and additions in the order of `new`, then what
/// was removed, in the order of `old`. Blank lines and surrounding spaces do not count.
pub fn changes(old: &str, new: &str) -> Vec<LineChange> {
    let lines = |text: &'_ str| -> Vec<String> {
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
    };
    let (old, new) = (lines(old), lines(new));
    let mut unmatched: HashMap<&str, usize> = HashMap::new();
    for line in &new {
        *unmatched.entry(line).or_default() += 1;
    }
    let mut removed: Vec<&String> = Vec::new();
    for line in &old {
        match unmatched.get_mut(line.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => removed.push(line),
        }
    }
    let mut changes = Vec::new();
    for line in &new {
        let Some(n) = unmatched.get_mut(line.as_str()).filter(|n| **n > 0) else { continue };
        *n -= 1;
        let same_name = removed.iter().position(|r| name(r) == name(line));
        changes.push(match same_name {
            Some(i) => LineChange::Changed { from: removed.remove(i).clone(), to: line.clone() },
            None => LineChange::Added(line.clone()),
        });
    }
    changes.extend(removed.into_iter().map(|line| LineChange::Removed(line.clone())));
    changes
}

/// What a line names: its text up to a version or a comparison.
fn name(line: &str) -> &str {
    let end = line.find(|c: char| c.is_whitespace() || "=<>!~@;[(".contains(c));
    &line[..end.unwrap_or(line.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_pair_up_by_name_and_moves_are_no_change() {
        let old = "numpy==1.26.4\ntorch==2.10.0\nsix==1.16.0\nrequests==2.31.0\n";
        let new = "torch==2.11.0\nnumpy==1.26.4\nrequests==2.31.0\nmypkg @ file:///src/mypkg\n";
        let shown: Vec<String> = changes(old, new).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            shown,
            [
                "torch==2.10.0 → torch==2.11.0",
                "mypkg @ file:///src/mypkg added",
                "six==1.16.0 removed"
            ]
        );
        assert!(changes("a\nb\n", "b\n\n  a\n").is_empty());
        let conda =
            changes("numpy  1.26.4  py311  conda-forge", "numpy  2.0.0  py311  conda-forge");
        assert_eq!(conda.len(), 1);
        assert!(matches!(&conda[0], LineChange::Changed { .. }));
    }
}
