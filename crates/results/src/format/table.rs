//! The terminal table, its columns cut to the terminal's width (per-class columns first).
use super::footer::footer;
use super::grid::{Grid, Shows, grid};
use crate::compare::Comparison;

pub(super) fn table(comparison: &Comparison, width: Option<usize>) -> String {
    let Grid { header, shows, rows, notes } = grid(comparison);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Per-class columns go first when the table is too wide, then the other non-primary
    // metric columns, from the right.
    let mut shown: Vec<usize> = (0..header.len()).collect();
    let total = |shown: &[usize]| shown.iter().map(|&c| widths[c] + 2).sum::<usize>();
    let mut hidden: Vec<String> = Vec::new();
    if let Some(width) = width {
        let shows = &shows;
        let hideable = |per_class: bool| {
            (0..header.len())
                .rev()
                .filter(move |&c| shows[c] == Shows::Metric { per_class })
                .collect::<Vec<_>>()
        };
        for c in hideable(true).into_iter().chain(hideable(false)) {
            if total(&shown) <= width {
                break;
            }
            shown.retain(|&s| s != c);
            hidden.push(header[c].clone());
        }
    }
    let line = |cells: &[String]| {
        let text: Vec<String> =
            shown.iter().map(|&c| format!("{:<w$}", cells[c], w = widths[c])).collect();
        text.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&header);
    for row in &rows {
        out += &line(row);
    }
    let footer = footer(comparison, &notes);
    out += &match width {
        Some(width) => footer.lines().map(|l| wrap(l, width)).collect(),
        None => footer,
    };
    if !hidden.is_empty() {
        hidden.reverse();
        out += &format!(
            "({} columns hidden to fit the terminal: {}; --format markdown shows all)\n",
            hidden.len(),
            hidden.join(", ")
        );
    }
    out
}

/// `line` broken at spaces into lines of at most `width` characters (a longer word stays whole),
/// continued with an indent.
fn wrap(line: &str, width: usize) -> String {
    let mut out = String::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let length = current.chars().count();
        if length > 2 && length + 1 + word.chars().count() > width {
            out += current.trim_end();
            out.push('\n');
            current = "  ".to_string();
        } else if !current.is_empty() && current != "  " {
            current.push(' ');
        }
        current += word;
    }
    out + &current + "\n"
}
