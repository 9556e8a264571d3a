//! The cells of a table as text, shared by the terminal table and markdown: a mean with its
//! interval, Δ, p and footnote marks.
use crate::compare::Comparison;
use crate::significance::Cell;

/// What an output column shows, which decides what a narrow terminal hides first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shows {
    /// Pipeline, factors, n: always shown.
    Label,
    /// A metric column other than the primary one; per-class columns go first.
    Metric { per_class: bool },
    /// The primary column and its Δ, p and seeds needed: always shown.
    Primary,
}

/// Header, cells and footnotes as text, one entry per column of output.
pub(super) struct Grid {
    pub(super) header: Vec<String>,
    pub(super) shows: Vec<Shows>,
    pub(super) rows: Vec<Vec<String>>,
    /// Why cells have no p-value, numbered by their position.
    pub(super) notes: Vec<String>,
}

/// A cell's mean with its interval (`mean ± std` without), its n where not the row's, and the
/// mark of the note saying why it kept its t statistics where the bootstrap was asked for.
fn cell_text(cell: &Option<Cell>, row_n: usize, notes: &mut Vec<String>) -> String {
    let Some(cell) = cell else { return "–".into() };
    let mut text = match (cell.ci_low, cell.ci_high, cell.std) {
        (Some(low), Some(high), _) => format!("{:.4} [{low:.4}, {high:.4}]", cell.mean),
        (_, _, Some(std)) => format!("{:.4} ± {std:.4}", cell.mean),
        _ => format!("{:.4}", cell.mean),
    };
    if cell.n != row_n {
        text += &format!(" (n={})", cell.n);
    }
    if let Some(fallback) = &cell.fallback {
        text += &note_mark(notes, &format!("t statistics: {fallback}"));
    }
    text
}

/// The footnote mark of `note`, numbered in order of first use.
fn note_mark(notes: &mut Vec<String>, note: &str) -> String {
    let at = notes.iter().position(|n| n == note).unwrap_or_else(|| {
        notes.push(note.to_string());
        notes.len() - 1
    });
    mark(at)
}

fn delta_text(cell: &Cell) -> String {
    let Some(delta) = cell.delta else { return "–".into() };
    match (cell.delta_ci_low, cell.delta_ci_high) {
        (Some(low), Some(high)) => format!("{delta:+.4} [{low:+.4}, {high:+.4}]"),
        _ => format!("{delta:+.4}"),
    }
}

fn p_text(p: f64) -> String {
    if p < 1e-4 { "<0.0001".into() } else { format!("{p:.4}") }
}

/// Marks a row with numbers of an earlier configuration (`--stale`).
pub(super) const STALE_MARK: &str = "†";

/// `¹`, `²`, … `¹⁰`: the footnote mark of note `index` (0-based).
pub(super) fn mark(index: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    (index + 1).to_string().chars().map(|d| DIGITS[d.to_digit(10).unwrap_or(0) as usize]).collect()
}

pub(super) fn grid(comparison: &Comparison) -> Grid {
    let several = comparison.pipelines.len() > 1;
    let mut header: Vec<String> = Vec::new();
    if several || comparison.factors.is_empty() {
        header.push("pipeline".into());
    }
    header.extend(comparison.factors.iter().cloned());
    header.push("n".into());
    let mut shows = vec![Shows::Label; header.len()];
    for (c, column) in comparison.columns.iter().enumerate() {
        header.push(column.name.clone());
        shows.push(if Some(c) == comparison.primary {
            Shows::Primary
        } else {
            Shows::Metric { per_class: column.class.is_some() }
        });
    }
    let compared = comparison.baseline.as_ref().and(comparison.primary);
    // One seed per row leaves nothing to test.
    let tested = !comparison.per_seed;
    let settings = &comparison.settings;
    if let Some(p) = compared {
        header.push(format!("Δ {}", comparison.columns[p].name));
        if tested {
            header.push(match settings.adjustment.name() {
                "none" => "p".to_string(),
                name => format!("p ({name})"),
            });
            if settings.seeds_needed {
                header.push("seeds needed".into());
            }
        }
        shows.resize(header.len(), Shows::Primary);
    }
    let mut notes: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for row in &comparison.rows {
        let mut cells: Vec<String> = Vec::new();
        if several || comparison.factors.is_empty() {
            cells.push(row.pipeline.clone());
        }
        cells.extend(comparison.factors.iter().map(|f| row.level(f).unwrap_or("–").to_string()));
        cells.push(if row.stale { format!("{} {STALE_MARK}", row.n) } else { row.n.to_string() });
        cells.extend(row.cells.iter().map(|c| cell_text(c, row.n, &mut notes)));
        if let Some(p) = compared {
            let cell = row.cells[p].as_ref();
            cells.push(cell.map_or("–".into(), delta_text));
            if !tested {
                rows.push(cells);
                continue;
            }
            cells.push(match cell {
                Some(cell)
                    if cell.delta == Some(0.0) && cell.test.is_none() && cell.note.is_none() =>
                {
                    "baseline".into()
                }
                Some(Cell { p_adjusted: Some(p), significant, .. }) => {
                    p_text(*p) + if *significant { " *" } else { "" }
                }
                Some(Cell { note: Some(note), .. }) => format!("–{}", note_mark(&mut notes, note)),
                _ => "–".into(),
            });
            if settings.seeds_needed {
                cells.push(cell.and_then(|c| c.seeds_needed).map_or("–".into(), |n| n.to_string()));
            }
        }
        rows.push(cells);
    }
    Grid { header, shows, rows, notes }
}
