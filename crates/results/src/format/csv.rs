//! The comparison as CSV: every statistic of every column.
use super::source_of;
use crate::compare::Comparison;
use crate::significance::Cell;

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

pub(super) fn csv(comparison: &Comparison) -> anyhow::Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
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
pub(super) fn csv_number(value: f64) -> String {
    if value != 0.0 && value.abs() < 1e-4 { format!("{value:e}") } else { value.to_string() }
}
