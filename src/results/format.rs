//! Writes a comparison as a terminal table (cut to the terminal's width), markdown, CSV or JSON.
//!
//! Table and markdown show `mean ± std` per cell, the variant's n, and Δ of the primary column
//! against the baseline; CSV and JSON carry mean, std, n and Δ of every column.
use std::io::IsTerminal;

use serde_json::{Map, Value, json};

use super::compare::{Comparison, Stat};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Markdown,
    Csv,
    Json,
}

pub fn render(comparison: &Comparison, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Table => table(comparison, terminal_width()),
        Format::Markdown => markdown(comparison),
        Format::Csv => csv(comparison)?,
        Format::Json => serde_json::to_string_pretty(&json(comparison))? + "\n",
    })
}

fn cell(stat: &Option<Stat>) -> String {
    match stat {
        Some(Stat { mean, std: Some(std), .. }) => format!("{mean:.4} ± {std:.4}"),
        Some(Stat { mean, std: None, .. }) => format!("{mean:.4}"),
        None => "–".into(),
    }
}

/// Header and cells as text, one entry per column of output.
fn grid(comparison: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let several = comparison.pipelines.len() > 1;
    let mut header: Vec<String> = Vec::new();
    if several {
        header.push("pipeline".into());
    }
    header.extend(comparison.factors.iter().cloned());
    if comparison.factors.is_empty() && !several {
        header.push("pipeline".into());
    }
    header.push("n".into());
    header.extend(comparison.columns.iter().map(|c| c.name.clone()));
    let delta = comparison.baseline.as_ref().and(comparison.primary);
    if let Some(p) = delta {
        header.push(format!("Δ {}", comparison.columns[p].name));
    }
    let rows = comparison
        .rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = Vec::new();
            if several || comparison.factors.is_empty() {
                cells.push(row.pipeline.clone());
            }
            cells
                .extend(comparison.factors.iter().map(|f| row.level(f).unwrap_or("–").to_string()));
            let n = comparison.primary.and_then(|p| row.cells[p]).map_or(0, |s| s.n);
            cells.push(n.to_string());
            cells.extend(row.cells.iter().map(cell));
            if let Some(p) = delta {
                cells.push(
                    row.cells[p].and_then(|s| s.delta).map_or("–".into(), |d| format!("{d:+.4}")),
                );
            }
            cells
        })
        .collect();
    (header, rows)
}

fn table(comparison: &Comparison, width: Option<usize>) -> String {
    let (header, rows) = grid(comparison);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Per-class columns go first when the table is too wide, then the last columns.
    let mut shown: Vec<usize> = (0..header.len()).collect();
    let total = |shown: &[usize]| shown.iter().map(|&c| widths[c] + 2).sum::<usize>();
    let mut hidden: Vec<String> = Vec::new();
    if let Some(width) = width {
        let first_metric = header.len()
            - comparison.columns.len()
            - usize::from(comparison.baseline.is_some() && comparison.primary.is_some());
        let per_class: Vec<usize> = comparison
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.class.is_some())
            .map(|(i, _)| first_metric + i)
            .collect();
        for c in per_class.into_iter().rev().chain((first_metric..header.len()).rev()) {
            if total(&shown) <= width || shown.len() <= first_metric + 1 {
                break;
            }
            if let Some(at) = shown.iter().position(|&s| s == c) {
                shown.remove(at);
                hidden.push(header[c].clone());
            }
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
    out += &footer(comparison);
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

fn footer(comparison: &Comparison) -> String {
    let mut out = String::new();
    if let (Some(baseline), Some(p)) = (&comparison.baseline, comparison.primary) {
        out += &format!("Δ: {} minus the baseline {baseline}\n", comparison.columns[p].name);
    }
    if !comparison.missing.is_empty() {
        out += &format!(
            "{} results not in the cache (not run yet, or failed): {}\n",
            comparison.missing.len(),
            comparison.missing.join("; ")
        );
    }
    out
}

fn markdown(comparison: &Comparison) -> String {
    let (header, rows) = grid(comparison);
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
    let footer = footer(comparison);
    if !footer.is_empty() {
        out += &format!("\n{footer}");
    }
    out
}

fn csv(comparison: &Comparison) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["pipeline".into(), "variant".into()];
    header.extend(comparison.factors.iter().cloned());
    for column in &comparison.columns {
        header.extend(["mean", "std", "n", "delta"].map(|s| format!("{}.{s}", column.name)));
    }
    writer.write_record(&header)?;
    let number = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for row in &comparison.rows {
        let mut record: Vec<String> = vec![row.pipeline.clone(), row.name()];
        record.extend(
            comparison.factors.iter().map(|f| row.level(f).unwrap_or_default().to_string()),
        );
        for stat in &row.cells {
            record.push(number(stat.map(|s| s.mean)));
            record.push(number(stat.and_then(|s| s.std)));
            record.push(stat.map_or(String::new(), |s| s.n.to_string()));
            record.push(number(stat.and_then(|s| s.delta)));
        }
        writer.write_record(&record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn json(comparison: &Comparison) -> Value {
    let rows: Vec<Value> = comparison
        .rows
        .iter()
        .map(|row| {
            let levels: Map<String, Value> = row.levels.iter().map(|(f, l)| (f.clone(), Value::from(l.as_str()))).collect();
            let metrics: Map<String, Value> = comparison
                .columns
                .iter()
                .zip(&row.cells)
                .filter_map(|(column, stat)| {
                    let s = stat.as_ref()?;
                    Some((column.name.clone(), json!({"mean": s.mean, "std": s.std, "n": s.n, "delta": s.delta})))
                })
                .collect();
            json!({"pipeline": row.pipeline, "variant": row.name(), "levels": levels, "seeds": row.seeds, "metrics": metrics})
        })
        .collect();
    json!(rows)
}

/// `COLUMNS` when set, else the terminal's width when standard output is one, else no limit.
fn terminal_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(columns);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the pointer given, which lives on this stack.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col as usize)
}

#[cfg(test)]
mod tests {
    use super::super::compare::{Column, Row};
    use super::*;

    fn comparison() -> Comparison {
        let column = |name: &str, class: Option<&str>| Column {
            template: "eval".into(),
            split: Some("val".into()),
            metric: if class.is_some() { "f1".into() } else { "macro_f1".into() },
            class: class.map(String::from),
            name: name.into(),
        };
        let stat = |mean: f64| Some(Stat { mean, std: Some(0.01), n: 2, delta: Some(mean - 0.5) });
        Comparison {
            pipelines: vec!["p".into()],
            factors: vec!["model".into()],
            columns: vec![
                column("val.macro_f1", None),
                column("val.f1[D]", Some("D")),
                column("val.f1[G]", Some("G")),
            ],
            rows: vec![Row {
                pipeline: "p".into(),
                levels: vec![("model".into(), "resnet18".into())],
                seeds: vec!["0".into(), "1".into()],
                cells: vec![stat(0.6), stat(0.7), stat(0.8)],
            }],
            primary: Some(0),
            baseline: Some("model=resnet18".into()),
            missing: vec![],
        }
    }

    #[test]
    fn a_narrow_terminal_hides_per_class_columns_first() {
        let wide = table(&comparison(), None);
        assert!(
            wide.contains("val.f1[G]")
                && wide.contains("0.6000 ± 0.0100")
                && wide.contains("+0.1000"),
            "{wide}"
        );
        let narrow = table(&comparison(), Some(60));
        assert!(narrow.lines().all(|l| l.chars().count() <= 60 || l.starts_with('(')), "{narrow}");
        assert!(narrow.contains("val.macro_f1") && !narrow.contains("val.f1[G]  "), "{narrow}");
        assert!(narrow.contains("hidden to fit the terminal: val.f1[D], val.f1[G]"), "{narrow}");
    }

    #[test]
    fn csv_and_json_carry_every_statistic() {
        let csv = csv(&comparison()).unwrap();
        assert!(csv.starts_with("pipeline,variant,model,val.macro_f1.mean,val.macro_f1.std,val.macro_f1.n,val.macro_f1.delta"), "{csv}");
        assert!(csv.contains("p,model=resnet18,resnet18,0.6,0.01,2,"), "{csv}");
        let json = json(&comparison());
        assert_eq!(json[0]["metrics"]["val.f1[D]"]["mean"], 0.7);
        assert_eq!(json[0]["levels"]["model"], "resnet18");
    }
}
