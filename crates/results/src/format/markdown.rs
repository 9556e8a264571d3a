//! The comparison as a markdown table.
use super::footer::footer;
use super::grid::{Grid, grid};
use crate::compare::Comparison;

pub(super) fn markdown(comparison: &Comparison) -> String {
    let Grid { header, rows, notes, .. } = grid(comparison);
    let line = |cells: &[String]| {
        format!(
            "| {} |\n",
            cells.iter().map(|c| c.replace('|', "\\|")).collect::<Vec<_>>().join(" | ")
        )
    };
    let mut out = line(&header);
    out += &format!("|{}\n", "---|".repeat(header.len()));
    for row in &rows {
        out += &line(row);
    }
    let footer = footer(comparison, &notes);
    if !footer.is_empty() {
        out += "\n";
        out += &footer.lines().map(|l| format!("{l}  \n")).collect::<String>();
    }
    out
}
