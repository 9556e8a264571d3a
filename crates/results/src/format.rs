//! Writes a comparison as a terminal table (cut to the terminal's width), markdown, CSV or JSON.
//!
//! Table and markdown show per cell the mean with its confidence interval (`mean ± std` with
//! `--ci 0`), the row's n, and for the primary column Δ against the baseline with its interval,
//! the adjusted p-value (`*` below alpha) and, on request, the seeds needed. A cell without a
//! p-value carries a footnote saying why. Under the table: what the numbers are, the variants
//! not run yet and which file (and version of it) each pipeline was run from. CSV and JSON
//! carry every statistic of every column.

use ablate_core::clock::format_time;
use serde_json::{Map, Value, json};

use super::compare::{Comparison, Row, Source};
use super::significance::{Cell, Interval, POWER, PairedTest, Settings};
use super::stats::MAX_SEEDS;

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

/// What an output column shows, which decides what a narrow terminal hides first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shows {
    /// Pipeline, factors, n: always shown.
    Label,
    /// A metric column other than the primary one; per-class columns go first.
    Metric { per_class: bool },
    /// The primary column and its Δ, p and seeds needed: always shown.
    Primary,
}

/// Header, cells and footnotes as text, one entry per column of output.
struct Grid {
    header: Vec<String>,
    shows: Vec<Shows>,
    rows: Vec<Vec<String>>,
    /// Why cells have no p-value, numbered by their position.
    notes: Vec<String>,
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

/// `¹`, `²`, … `¹⁰`: the footnote mark of note `index` (0-based).
fn mark(index: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    (index + 1).to_string().chars().map(|d| DIGITS[d.to_digit(10).unwrap_or(0) as usize]).collect()
}

fn grid(comparison: &Comparison) -> Grid {
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

fn table(comparison: &Comparison, width: Option<usize>) -> String {
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

/// What the numbers are, why some are missing, what has not run and where results come from.
fn footer(comparison: &Comparison, notes: &[String]) -> String {
    let settings = &comparison.settings;
    let mut out = String::new();
    let bootstrapped = settings.interval == Interval::Bootstrap;
    let cells = || comparison.rows.iter().flat_map(|r| &r.cells).flatten();
    if cells().any(|c| c.n > 1) || (bootstrapped && settings.ci.is_some()) {
        out += &match settings.ci {
            Some(level) if bootstrapped => {
                format!("[low, high]: {} {}\n", percent(level), bootstrap_meaning(settings))
            }
            Some(level) => format!(
                "[low, high]: {} confidence interval of the mean over seeds (t, n − 1 degrees of freedom)\n",
                percent(level)
            ),
            None => "±: sample standard deviation over seeds (n − 1)\n".to_string(),
        };
    }
    if let (Some(baseline), Some(p), true) =
        (&comparison.baseline, comparison.primary, comparison.per_seed)
    {
        out += &format!(
            "Δ: {} minus that of the baseline {baseline} with the same seed (one seed per row: no tests)\n",
            comparison.columns[p].name
        );
    } else if let (Some(baseline), Some(p)) = (&comparison.baseline, comparison.primary) {
        let interval =
            settings.ci.map(|level| format!(" [{} CI]", percent(level))).unwrap_or_default();
        let paired = tests_text(settings);
        let family = comparison
            .rows
            .iter()
            .filter(|r| r.cells[p].as_ref().is_some_and(|c| c.p_value.is_some()))
            .count();
        let tests = match family {
            0 => format!(
                "p: none, no row could be tested ({paired}: each t-test needs at least two seeds a side, and the Wilcoxon test differences that are not all zero)"
            ),
            1 => {
                format!("p: {paired} (one row tested: nothing to adjust); * p < {}", settings.alpha)
            }
            n => format!(
                "p: {paired}, adjusted across {n} rows ({}); * adjusted p < {}",
                settings.adjustment.name(),
                settings.alpha
            ),
        };
        out += &format!(
            "Δ: {} minus the baseline {baseline}{interval}; {tests}\n",
            comparison.columns[p].name
        );
        if settings.seeds_needed {
            out += &format!(
                "seeds needed: seeds per variant for a two-sided t-test to detect the row's Δ with {} power at α = {} (from the standard deviation of the paired differences, else the pooled one); – where Δ is 0, the seeds do not vary or more than {MAX_SEEDS} are needed\n",
                percent(POWER),
                settings.alpha
            );
        }
    }
    for (i, note) in notes.iter().enumerate() {
        out += &format!("{} {note}\n", mark(i));
    }
    if let Some(baseline) = &comparison.baseline_not_run {
        out += &format!("no Δ: the baseline {baseline} has no results yet\n");
    } else if comparison.baseline.is_none() && comparison.rows.len() > 1 {
        out += "no Δ: no baseline (the grid names none); --baseline factor=level compares every row with that one\n";
    }
    if comparison.settings.seeds_needed && comparison.baseline.is_none() {
        out += "seeds needed: none computed: they are the seeds to detect a row's Δ, and there is no baseline to take Δ from; --baseline factor=level names one\n";
    }
    out += &stale_lines(comparison);
    if !comparison.not_run.is_empty() {
        let several =
            comparison.not_run.iter().any(|n| n.pipeline != comparison.not_run[0].pipeline)
                || comparison.pipelines.len() > 1;
        let listed: Vec<String> = comparison
            .not_run
            .iter()
            .map(|n| variant_text(&n.pipeline, &n.variant, &n.seeds, several))
            .collect();
        out += &format!("not run yet (or failed): {}\n", listed.join("; "));
    }
    for source in &comparison.sources {
        out += &format!("{}\n", describe(source));
    }
    out
}

/// `k=b (seed 0, 1)`, prefixed with its pipeline when the table shows several; a pipeline
/// without a grid by its name.
fn variant_text(pipeline: &str, variant: &str, seeds: &[String], several: bool) -> String {
    let mut text = match (variant.is_empty(), several) {
        (true, _) => pipeline.to_string(),
        (false, true) => format!("{pipeline}: {variant}"),
        (false, false) => variant.to_string(),
    };
    if !seeds.is_empty() {
        text += &format!(" (seed {})", seeds.join(", "));
    }
    text
}

/// Marks a row with numbers of an earlier configuration (`--stale`).
const STALE_MARK: &str = "†";

/// The stale results: those shown (marked) and those left out, each with when and under which
/// overrides it was recorded.
pub(crate) fn stale_lines(comparison: &Comparison) -> String {
    let several = comparison.pipelines.len() > 1;
    let describe = |shown: bool| -> Vec<String> {
        comparison
            .stale
            .iter()
            .filter(|s| s.shown == shown)
            .map(|s| {
                let text = variant_text(&s.pipeline, &s.variant, &s.seeds, several);
                let mut when = match s.written {
                    0 => "recorded before refs dated their results".to_string(),
                    at => format!("recorded {} UTC", format_time(at)),
                };
                if !s.overrides.is_empty() {
                    let sets: Vec<String> =
                        s.overrides.iter().map(|o| format!("--set {o}")).collect();
                    when += &format!(" with {}", sets.join(" "));
                }
                format!("{text}, {when}")
            })
            .collect()
    };
    let mut out = String::new();
    let shown = describe(true);
    if !shown.is_empty() {
        out += &format!(
            "{STALE_MARK} stale: numbers of an earlier configuration than the last run's, shown with --stale: {}\n",
            shown.join("; ")
        );
    }
    let hidden = describe(false);
    if !hidden.is_empty() {
        out += &format!(
            "left out as stale (made under an earlier configuration than the last run's; --stale shows them): {}\n",
            hidden.join("; ")
        );
    }
    out
}

/// `paper: /path/paper.yaml (version 3f2a9c1b, run 2026-12-01 14:00:12 UTC with --set a=b)`.
fn describe(source: &Source) -> String {
    let mut detail: Vec<String> = Vec::new();
    if !source.digest.is_empty() {
        detail.push(format!("version {}", source.version()));
    }
    let killed = if source.killed { " (killed; what it finished was kept)" } else { "" };
    let mut run = format!("run {} UTC{killed}", format_time(source.run));
    if !source.overrides.is_empty() {
        let sets: Vec<String> = source.overrides.iter().map(|o| format!("--set {o}")).collect();
        run += &format!(" with {}", sets.join(" "));
    }
    detail.push(run);
    format!("{}: {} ({})", source.pipeline, source.file, detail.join(", "))
}

/// What the bootstrap's interval of a mean is, in one sentence: also the report's.
pub(crate) fn bootstrap_meaning(settings: &Settings) -> String {
    format!(
        "percentile interval of the mean over seeds and test images: a bootstrap that redraws the test images (re-scoring the stored predictions at each result's thresholds) and draws the seeds' spread from t(n − 1) (B = {} replicates, seed {}), so it also says how much the number would move on another test set of this size",
        settings.bootstrap.replicates, settings.bootstrap.seed
    )
}

/// Which tests give Δ's p-values, as the footer names them.
fn tests_text(settings: &Settings) -> String {
    let by_seeds = match settings.paired_test {
        PairedTest::Wilcoxon => "Wilcoxon signed-rank test",
        PairedTest::T | PairedTest::DeLong => "paired t-test",
    };
    let seeds = format!("{by_seeds} where a row ran the baseline's seeds, else Welch's t-test");
    let delong = "DeLong's test on the test images (seeds pooled) in per-label AUROC columns";
    match (settings.interval, settings.paired_test) {
        (Interval::T, PairedTest::DeLong) => format!("{delong}, else the {seeds}"),
        (Interval::T, _) => seeds,
        (Interval::Bootstrap, test) => format!(
            "{}the bootstrap (Δ paired by image and by seed; B = {}, seed {}) where both cells were re-scored, else the {seeds}",
            if test == PairedTest::DeLong { format!("{delong}, else ") } else { String::new() },
            settings.bootstrap.replicates,
            settings.bootstrap.seed
        ),
    }
}

fn percent(level: f64) -> String {
    format!("{}%", (level * 1000.0).round() / 10.0)
}

fn markdown(comparison: &Comparison) -> String {
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

/// The statistics of each column in CSV, in this order.
const CSV_STATISTICS: [&str; 22] = [
    "mean",
    "std",
    "n",
    "ci_low",
    "ci_high",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "p_value",
    "p_adjusted",
    "test",
    "significant",
    "note",
    "seeds_needed",
    "interval",
    "fallback",
    "t_ci_low",
    "t_ci_high",
    "t_delta_ci_low",
    "t_delta_ci_high",
    "t_p_value",
    "delong_p_value",
];

fn csv(comparison: &Comparison) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["pipeline".into(), "variant".into()];
    header.extend(comparison.factors.iter().cloned());
    for column in &comparison.columns {
        header.extend(CSV_STATISTICS.map(|s| format!("{}.{s}", column.name)));
    }
    header.extend(["file".to_string(), "file_version".to_string(), "stale".to_string()]);
    writer.write_record(&header)?;
    for row in &comparison.rows {
        let mut record: Vec<String> = vec![row.pipeline.clone(), row.name()];
        record.extend(
            comparison.factors.iter().map(|f| row.level(f).unwrap_or_default().to_string()),
        );
        for cell in &row.cells {
            record.extend(csv_cell(cell.as_ref()));
        }
        let source = source_of(comparison, row);
        record.push(source.map_or(String::new(), |s| s.file.clone()));
        record.push(source.map_or(String::new(), |s| s.version().to_string()));
        record.push(row.stale.to_string());
        writer.write_record(&record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

/// A cell's statistics in the order of [`CSV_STATISTICS`], empty where unknown.
fn csv_cell(cell: Option<&Cell>) -> [String; CSV_STATISTICS.len()] {
    let Some(cell) = cell else { return Default::default() };
    let number = |v: Option<f64>| v.map_or(String::new(), csv_number);
    let t = cell.t.as_ref();
    [
        csv_number(cell.mean),
        number(cell.std),
        cell.n.to_string(),
        number(cell.ci_low),
        number(cell.ci_high),
        number(cell.delta),
        number(cell.delta_ci_low),
        number(cell.delta_ci_high),
        number(cell.p_value),
        number(cell.p_adjusted),
        cell.test.map_or(String::new(), |t| t.to_string()),
        if cell.p_adjusted.is_some() { cell.significant.to_string() } else { String::new() },
        cell.note.clone().unwrap_or_default(),
        cell.seeds_needed.map_or(String::new(), |n| n.to_string()),
        cell.interval.name().to_string(),
        cell.fallback.clone().unwrap_or_default(),
        number(t.and_then(|t| t.ci_low)),
        number(t.and_then(|t| t.ci_high)),
        number(t.and_then(|t| t.delta_ci_low)),
        number(t.and_then(|t| t.delta_ci_high)),
        number(t.and_then(|t| t.p_value)),
        number(cell.delong.as_ref().and_then(|d| d.p_value)),
    ]
}

/// A number as CSV readers parse it, in full precision: tiny p-values in exponent form
/// (`3.2e-48`) instead of 48 digits of zeros.
fn csv_number(value: f64) -> String {
    if value != 0.0 && value.abs() < 1e-4 { format!("{value:e}") } else { value.to_string() }
}

fn source_of<'a>(comparison: &'a Comparison, row: &Row) -> Option<&'a Source> {
    comparison.sources.iter().find(|s| s.pipeline == row.pipeline)
}

fn json(comparison: &Comparison) -> Value {
    let rows: Vec<Value> = comparison
        .rows
        .iter()
        .map(|row| {
            let levels: Map<String, Value> =
                row.levels.iter().map(|(f, l)| (f.clone(), Value::from(l.as_str()))).collect();
            let metrics: Map<String, Value> = comparison
                .columns
                .iter()
                .zip(&row.cells)
                .filter_map(|(column, cell)| {
                    Some((column.name.clone(), serde_json::to_value(cell.as_ref()?).ok()?))
                })
                .collect();
            let source = source_of(comparison, row).map(|s| {
                json!({"file": s.file, "version": s.digest, "run": s.run, "overrides": s.overrides})
            });
            json!({
                "pipeline": row.pipeline,
                "variant": row.name(),
                "levels": levels,
                "seeds": row.seeds,
                "n": row.n,
                "metrics": metrics,
                "source": source,
                "stale": row.stale,
            })
        })
        .collect();
    json!(rows)
}

#[cfg(test)]
mod tests {
    use super::super::compare::{Baseline, Column, NotRun};
    use super::super::significance::Settings;
    use super::super::stats::TestKind;
    use super::*;

    fn comparison() -> Comparison {
        let column = |name: &str, class: Option<&str>| Column {
            template: "eval".into(),
            split: Some("val".into()),
            metric: if class.is_some() { "f1".into() } else { "macro_f1".into() },
            class: class.map(String::from),
            name: name.into(),
        };
        let cell = |mean: f64| {
            Some(Cell {
                mean,
                std: Some(0.01),
                n: 2,
                delta: Some(mean - 0.5),
                p_value: Some(0.01),
                p_adjusted: Some(0.03),
                test: Some(TestKind::PairedT),
                significant: true,
                ..Cell::default()
            })
        };
        Comparison {
            pipelines: vec!["p".into()],
            sources: vec![Source {
                pipeline: "p".into(),
                file: "/work/p.yaml".into(),
                digest: "3f2a9c1b0000".into(),
                run: 1_764_102_600,
                overrides: vec!["a=b".into()],
                killed: false,
            }],
            factors: vec!["model".into()],
            columns: vec![
                column("val.macro_f1", None),
                column("val.f1[D]", Some("D")),
                column("val.f1[G]", Some("G")),
            ],
            rows: vec![Row {
                pipeline: "p".into(),
                levels: vec![("model".into(), "resnet18".into())].into(),
                seeds: vec!["0".into(), "1".into()],
                n: 2,
                cells: vec![cell(0.6), cell(0.7), cell(0.8)],
                stale: false,
            }],
            primary: Some(0),
            baseline: Some(Baseline {
                pipeline: "p".into(),
                levels: vec![("model".into(), "resnet18".into())].into(),
            }),
            baseline_not_run: None,
            settings: Settings { ci: None, ..Settings::default() },
            per_seed: false,
            not_run: vec![NotRun {
                pipeline: "p".into(),
                variant: "model=vit".into(),
                seeds: vec![],
            }],
            stale: vec![],
        }
    }

    #[test]
    fn a_narrow_terminal_hides_per_class_columns_first() {
        let wide = table(&comparison(), None);
        assert!(
            wide.contains("val.f1[G]")
                && wide.contains("0.6000 ± 0.0100")
                && wide.contains("+0.1000")
                && wide.contains("0.0300 *"),
            "{wide}"
        );
        let narrow = table(&comparison(), Some(60));
        assert!(narrow.lines().all(|l| l.chars().count() <= 60 || l.starts_with('(')), "{narrow}");
        assert!(narrow.contains("val.macro_f1") && !narrow.contains("val.f1[G]  "), "{narrow}");
        assert!(narrow.contains("hidden to fit the terminal: val.f1[D], val.f1[G]"), "{narrow}");
    }

    #[test]
    fn the_footer_says_what_is_missing_and_where_results_come_from() {
        let text = table(&comparison(), None);
        assert!(text.contains("not run yet (or failed): model=vit"), "{text}");
        assert!(
            text.contains(
                "p: /work/p.yaml (version 3f2a9c1b, run 2025-11-25 20:30:00 UTC with --set a=b)"
            ),
            "{text}"
        );
        assert!(text.contains("one row tested: nothing to adjust); * p < 0.05"), "{text}");
    }

    #[test]
    fn cells_without_a_p_value_point_at_a_footnote() {
        let mut comparison = comparison();
        let cell = comparison.rows[0].cells[0].as_mut().unwrap();
        (cell.p_value, cell.p_adjusted) = (None, None);
        cell.note = Some("n = 1 pair: a paired t-test needs at least 2 pairs".into());
        let text = table(&comparison, None);
        assert!(text.contains("–¹") && text.contains("¹ n = 1 pair: a paired t-test"), "{text}");
        assert_eq!(mark(11), "¹²");
    }

    #[test]
    fn csv_numbers_keep_full_precision_without_dozens_of_zeros() {
        assert_eq!(csv_number(3.2e-48), "3.2e-48");
        assert_eq!(csv_number(0.5), "0.5");
        assert_eq!(csv_number(0.0), "0");
        assert_eq!(csv_number(0.012), "0.012");
    }

    #[test]
    fn csv_and_json_carry_every_statistic() {
        let csv = csv(&comparison()).unwrap();
        assert!(csv.starts_with("pipeline,variant,model,val.macro_f1.mean,val.macro_f1.std,val.macro_f1.n,val.macro_f1.ci_low,val.macro_f1.ci_high,val.macro_f1.delta,val.macro_f1.delta_ci_low,val.macro_f1.delta_ci_high,val.macro_f1.p_value,val.macro_f1.p_adjusted,val.macro_f1.test,val.macro_f1.significant"), "{csv}");
        assert!(csv.contains("p,model=resnet18,resnet18,0.6,0.01,2,,,"), "{csv}");
        assert!(csv.contains(",paired t,true,"), "{csv}");
        assert!(csv.lines().nth(1).unwrap().ends_with(",/work/p.yaml,3f2a9c1b,false"), "{csv}");
        let json = json(&comparison());
        assert_eq!(json[0]["metrics"]["val.f1[D]"]["mean"], 0.7);
        assert_eq!(json[0]["metrics"]["val.f1[D]"]["test"], "paired t");
        assert_eq!(json[0]["metrics"]["val.f1[D]"]["p_adjusted"], 0.03);
        assert_eq!(json[0]["levels"]["model"], "resnet18");
        assert_eq!(json[0]["source"]["file"], "/work/p.yaml");
    }
}
