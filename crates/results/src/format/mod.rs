//! Writes a comparison as a terminal table (cut to the terminal's width), markdown, CSV or JSON.
//!
//! Table and markdown show per cell the mean with its confidence interval (`mean ± std` with
//! `--ci 0`), the row's n, and for the primary column Δ against the baseline with its interval,
//! the adjusted p-value (`*` below alpha) and, on request, the seeds needed. A cell without a
//! p-value carries a footnote saying why. Under the table: what the numbers are, the variants
//! not run yet and which file (and version of it) each pipeline was run from. CSV and JSON
//! carry every statistic of every column.

mod csv;
mod footer;
mod grid;
mod json;
mod markdown;
mod table;
#[cfg(test)]
mod tests;

use super::compare::{Comparison, Row, Source};
use csv::csv;
use json::json;
use markdown::markdown;
use table::table;

pub(crate) use footer::{bootstrap_meaning, stale_lines};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

/// The comparison as `format`; a table is fitted into `width` columns when one is given.
pub fn render(
    comparison: &Comparison,
    format: Format,
    width: Option<usize>,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Table => table(comparison, width),
        Format::Markdown => markdown(comparison),
        Format::Csv => csv(comparison)?,
        Format::Json => serde_json::to_string_pretty(&json(comparison))? + "\n",
    })
}

fn source_of<'a>(comparison: &'a Comparison, row: &Row) -> Option<&'a Source> {
    comparison.sources.iter().find(|s| s.pipeline == row.pipeline)
}
