//! Which columns a comparison has: the metrics asked for (`--metric`, checked against what
//! the results stored) or the defaults, on the splits asked for (`--split`), per stage of the
//! file that reports them, named `split.metric[class]` and prefixed with the stage only where
//! two chosen stages report the same.
use ablate_core::invalid;
use ablate_core::metrics::MetricRow;
use ablate_stages::metric;

use super::{Column, Options, unique};
use crate::collect::{Collected, StageResult};

pub(super) const DEFAULT_METRICS: &[&str] =
    &[metric::MACRO_F1, metric::MACRO_AUROC, metric::MACRO_AVERAGE_PRECISION, metric::F1];

/// The columns of `--metric` and `--split` (checked against what the results stored), or the
/// defaults.
pub(super) fn chosen_columns(
    collected: &Collected,
    options: &Options,
) -> anyhow::Result<Vec<Column>> {
    let metrics = chosen_metrics(&collected.results, options)?;
    check_splits(&collected.results, &options.splits)?;
    let columns = columns(&collected.results, &metrics, &options.splits);
    if columns.is_empty() && !collected.results.is_empty() {
        let stages: Vec<&str> = collected.results.iter().map(|r| r.template.as_str()).collect();
        invalid!(
            "no metric to compare: the chosen stages ({}) stored no final metrics; choose others with --stage",
            unique(stages).join(", ")
        );
    }
    Ok(columns)
}

pub(super) fn matches(column: &Column, result: &StageResult, row: &MetricRow) -> bool {
    column.template == result.template
        && column.split == row.split
        && column.metric == row.metric
        && column.class == row.class
}

/// The metrics of the columns: `--metric`, each of which some result must have stored, or the
/// defaults.
pub(super) fn chosen_metrics(
    results: &[StageResult],
    options: &Options,
) -> anyhow::Result<Vec<String>> {
    let stored: Vec<&str> = unique(
        results
            .iter()
            .flat_map(|r| r.metrics.iter().filter(|m| m.epoch.is_none()).map(|m| m.metric.as_str()))
            .collect(),
    );
    if options.metrics.is_empty() {
        let defaults: Vec<&str> =
            DEFAULT_METRICS.iter().copied().filter(|m| stored.contains(m)).collect();
        let macro_f1: Vec<&str> =
            stored.iter().copied().filter(|m| m.contains(metric::MACRO_F1)).collect();
        let chosen = [defaults, macro_f1, stored].into_iter().find(|m| !m.is_empty());
        let chosen = chosen.unwrap_or_default();
        return Ok(chosen.into_iter().map(str::to_string).collect());
    }
    if !results.is_empty() {
        for metric in &options.metrics {
            if !stored.contains(&metric.as_str()) {
                invalid!(
                    "--metric {metric}: no chosen stage stored it (metrics: {})",
                    stored.join(", ")
                );
            }
        }
    }
    Ok(options.metrics.clone())
}

/// Every `--split` must be a split some result measured.
pub(super) fn check_splits(results: &[StageResult], splits: &[String]) -> anyhow::Result<()> {
    let stored: Vec<&str> = unique(
        results
            .iter()
            .flat_map(|r| r.metrics.iter().filter(|m| m.epoch.is_none()))
            .filter_map(|m| m.split.as_deref())
            .collect(),
    );
    if results.is_empty() {
        return Ok(());
    }
    for split in splits {
        if !stored.contains(&split.as_str()) {
            invalid!(
                "--split {split}: no chosen stage measured it (splits: {})",
                stored.join(", ")
            );
        }
    }
    Ok(())
}

/// What identifies a column: template, split, metric, class.
pub(super) type ColumnId = (String, Option<String>, String, Option<String>);

pub(super) fn columns(
    results: &[StageResult],
    metrics: &[String],
    splits: &[String],
) -> Vec<Column> {
    let mut found: Vec<ColumnId> = Vec::new();
    for result in results {
        for row in result.metrics.iter().filter(|m| m.epoch.is_none()) {
            let split_wanted =
                splits.is_empty() || row.split.as_ref().is_some_and(|s| splits.contains(s));
            let id =
                (result.template.clone(), row.split.clone(), row.metric.clone(), row.class.clone());
            if metrics.contains(&row.metric) && split_wanted && !found.contains(&id) {
                found.push(id);
            }
        }
    }
    let first = |f: &dyn Fn(&ColumnId) -> bool| found.iter().position(f);
    let mut order: Vec<(usize, usize, usize, usize, usize)> = found
        .iter()
        .enumerate()
        .map(|(i, (template, split, metric, class))| {
            (
                first(&|f| &f.0 == template).unwrap_or(i),
                first(&|f| &f.1 == split).unwrap_or(i),
                metrics.iter().position(|m| m == metric).unwrap_or(usize::MAX),
                if class.is_none() { 0 } else { 1 + first(&|f| &f.3 == class).unwrap_or(i) },
                i,
            )
        })
        .collect();
    order.sort();
    let label = |(_, split, metric, class): &ColumnId| {
        let mut name =
            split.as_ref().map(|s| format!("{s}.{metric}")).unwrap_or_else(|| metric.clone());
        if let Some(class) = class {
            name.push_str(&format!("[{class}]"));
        }
        name
    };
    order
        .into_iter()
        .map(|(.., i)| {
            let id = &found[i];
            let shared =
                found.iter().filter(|f| f.1 == id.1 && f.2 == id.2 && f.3 == id.3).count() > 1;
            let name = if shared { format!("{}:{}", id.0, label(id)) } else { label(id) };
            Column {
                template: id.0.clone(),
                split: id.1.clone(),
                metric: id.2.clone(),
                class: id.3.clone(),
                name,
            }
        })
        .collect()
}
