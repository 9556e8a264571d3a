//! The comparison table: one row per variant with its seeds pooled, one column per metric.
//!
//! A column is a final (not per-epoch) metric of one stage of the file on one split, for one
//! class or none: `offsite_test.macro_f1`, `offsite_test.f1[G]`; it is prefixed with the stage
//! (`val:…`) only where two chosen stages report the same. A cell pools the variant's seeds:
//! mean, sample standard deviation (n − 1; none for one seed) and n, the number of distinct
//! results, so a stage that several seeds share counts once. Δ is the difference of means with
//! the baseline row (the grid's `baseline`, or `--baseline`), computed before rows are filtered.
use std::collections::BTreeMap;

use anyhow::{Context, bail};

use super::collect::{Collected, StageResult, factor_levels};
use ablate_core::grid::{SEED, levels_name};

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub template: String,
    pub split: Option<String>,
    pub metric: String,
    pub class: Option<String>,
    /// How the column is named in output, `--sort` and `--where`.
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub std: Option<f64>,
    pub n: usize,
    pub delta: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub pipeline: String,
    /// Levels without `seed`.
    pub levels: Vec<(String, String)>,
    pub seeds: Vec<String>,
    pub cells: Vec<Option<Stat>>,
}

impl Row {
    pub fn name(&self) -> String {
        levels_name(&self.levels)
    }

    pub fn level(&self, factor: &str) -> Option<&str> {
        self.levels.iter().find(|(f, _)| f == factor).map(|(_, l)| l.as_str())
    }
}

pub struct Comparison {
    pub pipelines: Vec<String>,
    /// Factors in declaration order, `seed` excluded.
    pub factors: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// The column Δ and the default sort refer to.
    pub primary: Option<usize>,
    /// The baseline's name, when Δ is computed.
    pub baseline: Option<String>,
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Metric names; empty means `macro_f1` and `f1` where present, else every metric.
    pub metrics: Vec<String>,
    /// Splits; empty means all.
    pub splits: Vec<String>,
    /// Overrides the grid's baseline.
    pub baseline: Option<Vec<(String, String)>>,
    pub filters: Vec<String>,
    /// A column or factor; metrics sort best (highest) first, factors in declaration order.
    pub sort: Option<String>,
    pub reverse: bool,
}

const DEFAULT_METRICS: &[&str] = &["macro_f1", "f1"];

pub fn compare(collected: &Collected, options: &Options) -> anyhow::Result<Comparison> {
    let metrics: Vec<String> = if options.metrics.is_empty() {
        let present = |m: &str| {
            collected
                .results
                .iter()
                .any(|r| r.metrics.iter().any(|row| row.epoch.is_none() && row.metric == m))
        };
        DEFAULT_METRICS.iter().filter(|m| present(m)).map(|m| m.to_string()).collect()
    } else {
        options.metrics.clone()
    };
    let columns = columns(&collected.results, &metrics, &options.splits);
    let factor_levels = factor_levels(&collected.manifests);
    let factors: Vec<String> =
        factor_levels.iter().map(|(f, _)| f.clone()).filter(|f| f != SEED).collect();

    let mut rows: Vec<Row> = Vec::new();
    let mut values: Vec<Vec<BTreeMap<&str, f64>>> = Vec::new(); // row → column → instance → value
    for result in &collected.results {
        let levels = result.row_levels();
        let r = match rows
            .iter()
            .position(|row| row.pipeline == result.pipeline && row.levels == levels)
        {
            Some(r) => r,
            None => {
                rows.push(Row {
                    pipeline: result.pipeline.clone(),
                    levels,
                    seeds: Vec::new(),
                    cells: Vec::new(),
                });
                values.push(vec![BTreeMap::new(); columns.len()]);
                rows.len() - 1
            }
        };
        if let Some(seed) = result.seed()
            && !rows[r].seeds.iter().any(|s| s == seed)
        {
            rows[r].seeds.push(seed.to_string());
        }
        for row in result.metrics.iter().filter(|m| m.epoch.is_none()) {
            if let Some(c) = columns.iter().position(|c| matches(c, result, row)) {
                values[r][c].insert(result.instance.as_str(), row.value);
            }
        }
    }
    for (row, values) in rows.iter_mut().zip(&values) {
        row.cells = values.iter().map(|by_instance| stat(by_instance.values().copied())).collect();
    }

    let sort_column = options.sort.as_ref().and_then(|s| columns.iter().position(|c| &c.name == s));
    let primary = sort_column
        .or_else(|| columns.iter().position(|c| c.class.is_none()))
        .or((!columns.is_empty()).then_some(0));
    let baseline_levels = options.baseline.clone().or_else(|| {
        collected.manifests.iter().find_map(|m| m.layout.as_ref().and_then(|l| l.baseline.clone()))
    });
    let mut baseline = None;
    if let Some(levels) = &baseline_levels {
        let levels: Vec<(String, String)> =
            levels.iter().filter(|(f, _)| f != SEED).cloned().collect();
        let matching: Vec<usize> = (0..rows.len())
            .filter(|&r| levels.iter().all(|(f, l)| rows[r].level(f) == Some(l.as_str())))
            .collect();
        let name = levels_name(&levels);
        match matching.as_slice() {
            [one] => {
                let base = rows[*one].cells.clone();
                for row in &mut rows {
                    for (cell, base) in row.cells.iter_mut().zip(&base) {
                        if let (Some(cell), Some(base)) = (cell.as_mut(), base) {
                            cell.delta = Some(cell.mean - base.mean);
                        }
                    }
                }
                baseline = Some(name);
            }
            _ if options.baseline.is_some() => {
                bail!(
                    "--baseline {name} matches {} rows; name a level of more factors so that it matches one",
                    matching.len()
                )
            }
            _ => {}
        }
    }

    for filter in &options.filters {
        let filter = Filter::parse(filter, &factors, &columns)?;
        rows.retain(|row| filter.keeps(row));
    }
    if let Some(sort) = &options.sort {
        sort_rows(&mut rows, sort, sort_column, &factor_levels)?;
    }
    if options.reverse {
        rows.reverse();
    }
    let mut pipelines: Vec<String> = Vec::new();
    for row in &rows {
        if !pipelines.contains(&row.pipeline) {
            pipelines.push(row.pipeline.clone());
        }
    }
    Ok(Comparison {
        pipelines,
        factors,
        columns,
        rows,
        primary,
        baseline,
        missing: collected.missing.clone(),
    })
}

fn matches(column: &Column, result: &StageResult, row: &ablate_core::metrics::MetricRow) -> bool {
    column.template == result.template
        && column.split == row.split
        && column.metric == row.metric
        && column.class == row.class
}

/// What identifies a column: template, split, metric, class.
type ColumnId = (String, Option<String>, String, Option<String>);

fn columns(results: &[StageResult], metrics: &[String], splits: &[String]) -> Vec<Column> {
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

fn stat(values: impl Iterator<Item = f64>) -> Option<Stat> {
    let values: Vec<f64> = values.collect();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = (n > 1)
        .then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
    Some(Stat { mean, std, n, delta: None })
}

fn sort_rows(
    rows: &mut [Row],
    sort: &str,
    column: Option<usize>,
    factor_levels: &[(String, Vec<String>)],
) -> anyhow::Result<()> {
    if let Some(c) = column {
        let mean = |row: &Row| row.cells[c].map_or(f64::NEG_INFINITY, |s| s.mean);
        rows.sort_by(|a, b| mean(b).total_cmp(&mean(a)));
        return Ok(());
    }
    if sort == "pipeline" {
        rows.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
        return Ok(());
    }
    let Some((_, order)) = factor_levels.iter().find(|(f, _)| f == sort) else {
        let factors: Vec<&str> = factor_levels.iter().map(|(f, _)| f.as_str()).collect();
        bail!(
            "--sort {sort}: no such column or factor (factors: {}; columns: see the table's header)",
            factors.join(", ")
        );
    };
    let rank = |row: &Row| {
        row.level(sort).and_then(|l| order.iter().position(|o| o == l)).unwrap_or(usize::MAX)
    };
    rows.sort_by_key(rank);
    Ok(())
}

/// `factor=level[,level]`, `factor!=level`, or `column OP number` with OP one of
/// `> >= < <= = !=` (on the mean).
enum Filter {
    Levels { factor: String, levels: Vec<String>, keep: bool },
    Value { column: usize, op: &'static str, value: f64 },
}

const OPERATORS: &[&str] = &[">=", "<=", "!=", "=", ">", "<"];

impl Filter {
    fn parse(text: &str, factors: &[String], columns: &[Column]) -> anyhow::Result<Filter> {
        let (at, op) = OPERATORS
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op)))
            .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
            .with_context(|| {
                format!(
                    "--where {text}: expected `factor=level`, `factor!=level` or `column>number`"
                )
            })?;
        let (name, value) = (text[..at].trim(), text[at + op.len()..].trim());
        if name == "pipeline" || factors.iter().any(|f| f == name) {
            if !matches!(op, "=" | "!=") {
                bail!("--where {text}: a factor is compared with = or !=");
            }
            let levels = value.split(',').map(|l| l.trim().to_string()).collect();
            return Ok(Filter::Levels { factor: name.to_string(), levels, keep: op == "=" });
        }
        let column = columns.iter().position(|c| c.name == name).with_context(|| {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            format!(
                "--where {text}: `{name}` is neither a factor ({}) nor a column ({})",
                factors.join(", "),
                names.join(", ")
            )
        })?;
        let value =
            value.parse().with_context(|| format!("--where {text}: `{value}` is not a number"))?;
        Ok(Filter::Value { column, op, value })
    }

    fn keeps(&self, row: &Row) -> bool {
        match self {
            Filter::Levels { factor, levels, keep } => {
                let level = if factor == "pipeline" {
                    Some(row.pipeline.as_str())
                } else {
                    row.level(factor)
                };
                level.is_some_and(|l| levels.iter().any(|x| x == l)) == *keep
            }
            Filter::Value { column, op, value } => row.cells[*column].is_some_and(|s| match *op {
                ">" => s.mean > *value,
                ">=" => s.mean >= *value,
                "<" => s.mean < *value,
                "<=" => s.mean <= *value,
                "=" => s.mean == *value,
                _ => s.mean != *value,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_distinct_results_with_the_sample_deviation() {
        let s = stat([0.5, 0.7, 0.9].into_iter()).unwrap();
        assert!((s.mean - 0.7).abs() < 1e-12 && (s.std.unwrap() - 0.2).abs() < 1e-12 && s.n == 3);
        assert_eq!(stat([0.4].into_iter()).unwrap().std, None);
        assert_eq!(stat(std::iter::empty()), None);
    }

    #[test]
    fn filters_read_factors_and_columns() {
        let columns = vec![Column {
            template: "eval".into(),
            split: Some("val".into()),
            metric: "macro_f1".into(),
            class: None,
            name: "val.macro_f1".into(),
        }];
        let factors = vec!["model".to_string()];
        let row = |model: &str, mean: f64| Row {
            pipeline: "p".into(),
            levels: vec![("model".into(), model.into())],
            seeds: vec![],
            cells: vec![Some(Stat { mean, std: None, n: 1, delta: None })],
        };
        let keeps = |f: &str, r: &Row| Filter::parse(f, &factors, &columns).unwrap().keeps(r);
        assert!(keeps("model=a,b", &row("b", 0.1)) && !keeps("model=a", &row("b", 0.1)));
        assert!(keeps("model!=a", &row("b", 0.1)));
        assert!(
            keeps("val.macro_f1>=0.5", &row("a", 0.5))
                && !keeps("val.macro_f1>0.5", &row("a", 0.5))
        );
        let unknown = Filter::parse("loss=bce", &factors, &columns).err().unwrap().to_string();
        assert!(
            unknown.contains("neither a factor (model) nor a column (val.macro_f1)"),
            "{unknown}"
        );
    }
}
