//! The comparison table: one row per variant with its seeds pooled, one column per metric.
//!
//! A column is a final (not per-epoch) metric of one stage of the file on one split, for one
//! class or none: `offsite_test.macro_f1`, `offsite_test.f1[G]`; it is prefixed with the stage
//! (`val:…`) only where two chosen stages report the same. A cell pools the variant's seeds
//! (see `significance`): mean, sample standard deviation, n (distinct results: a stage that
//! several seeds share counts once) and the confidence interval of the mean; against the
//! baseline row (the grid's `baseline`, or `--baseline`) it gets Δ, Δ's interval and a test.
//!
//! The order of work: `--where seed=…` keeps seeds before pooling; rows are pooled (or, with
//! `--per-seed`, one row per variant and seed, each compared with the baseline's same seed);
//! Δ and the raw p-values are computed against the baseline, which other filters may hide;
//! with `--interval bootstrap` or `--test delong` the cells whose metric the stored predictions
//! give back are then re-scored from them (`rescore`, reading them through `predictions`);
//! the other `--where` filters keep rows; the p-values of each column are adjusted across the
//! rows left; `--sort` orders them.
use std::collections::BTreeMap;

use ablate_core::grid::{Levels, SEED};
use ablate_core::invalid;

use super::collect::{Collected, StageResult, Stages, factor_levels};
use super::significance::{self, Cell, Sample, Settings};

mod columns;
mod filter;
mod left_out;
mod predictions;
mod rescore;
mod table;

use columns::{chosen_columns, matches};
use filter::{Filter, check_baseline, keeps_seed, sort_rows};
use left_out::{not_run, note_stale};
use rescore::Rescoring;
pub use table::*;

/// The values of one row: per column, instance → the seeds that used it, its value and the
/// index of its result.
type RowValues<'a> = Vec<BTreeMap<&'a str, (Vec<String>, f64, usize)>>;

/// Per row, per column, the distinct results pooled.
type RowSamples = Vec<Vec<Vec<Sample>>>;

/// The comparison of `collected`'s results, in the order of work the module doc gives.
/// Statistics that re-score predictions (`--interval bootstrap`, `--test delong`) look for the
/// datasets among `collected` too: [`compare_in`] a snapshot of every stage instead.
pub fn compare(collected: &Collected, options: &Options) -> anyhow::Result<Comparison> {
    compare_among(collected, &collected.results, options)
}

/// The comparison of `snapshot`'s results of `stages` (a snapshot collected with
/// [`Stages::All`]), the datasets of their predictions found among all of its results.
pub fn compare_in(
    snapshot: &Collected,
    stages: &Stages,
    options: &Options,
) -> anyhow::Result<Comparison> {
    compare_among(&snapshot.select(stages)?, &snapshot.results, options)
}

fn compare_among(
    collected: &Collected,
    snapshot: &[StageResult],
    options: &Options,
) -> anyhow::Result<Comparison> {
    let columns = chosen_columns(collected, options)?;
    let factor_levels = factor_levels(&collected.manifests);
    let pipelines: Vec<String> = collected.manifests.iter().map(|m| m.pipeline.clone()).collect();
    let filters = options
        .filters
        .iter()
        .map(|f| Filter::parse(f, &factor_levels, &pipelines, &columns))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (seed_filters, row_filters): (Vec<&Filter>, Vec<&Filter>) =
        filters.iter().partition(|f| f.is_on(SEED));

    let (mut rows, samples, mut stale_notes) = pool(collected, &columns, &seed_filters, options);
    let mut factors: Vec<String> =
        factor_levels.iter().map(|(f, _)| f.clone()).filter(|f| f != SEED).collect();
    if options.per_seed && rows.iter().any(|r| r.levels.seed().is_some()) {
        factors.push(SEED.to_string());
    }
    let sort_column = options.sort.as_ref().and_then(|s| columns.iter().position(|c| &c.name == s));
    let primary = sort_column
        .or_else(|| columns.iter().position(|c| c.class.is_none()))
        .or((!columns.is_empty()).then_some(0));
    let (baseline, baseline_not_run) = baseline_of(collected, options, &factor_levels, &rows)?;
    let baselines: Vec<Option<usize>> = match &baseline {
        Some(baseline) => {
            let baselines = baseline_rows(&rows, baseline);
            compare_with_baseline(&mut rows, &samples, &baselines, &options.settings);
            baselines
        }
        None => vec![None; rows.len()],
    };
    let rescoring = Rescoring { columns: &columns, results: &collected.results, snapshot };
    rescoring.apply(&mut rows, &samples, &baselines, &options.settings);

    rows.retain(|row| row_filters.iter().all(|f| f.keeps(row)));
    for c in 0..columns.len() {
        let mut cells: Vec<&mut Cell> =
            rows.iter_mut().filter_map(|row| row.cells[c].as_mut()).collect();
        significance::adjust(&mut cells, &options.settings);
    }
    if let Some(sort) = &options.sort {
        sort_rows(&mut rows, sort, sort_column, &factor_levels, &columns)?;
    }
    if options.reverse {
        rows.reverse();
    }
    let shown: Vec<String> = unique(rows.iter().map(|row| row.pipeline.clone()).collect());
    let sources = sources(collected, &shown);
    let not_run = not_run(collected, &rows, &seed_filters, &row_filters, &mut stale_notes);
    Ok(Comparison {
        pipelines: shown,
        sources,
        factors,
        columns,
        rows,
        primary,
        baseline,
        baseline_not_run,
        settings: options.settings,
        per_seed: options.per_seed,
        not_run,
        stale: stale_notes,
    })
}

/// One row per variant (per variant and seed with `--per-seed`) of the results the seed
/// filters keep, its cells pooled from the distinct results; the samples of each cell; the
/// stale results shown.
fn pool(
    collected: &Collected,
    columns: &[Column],
    seed_filters: &[&Filter],
    options: &Options,
) -> (Vec<Row>, RowSamples, Vec<StaleNote>) {
    let mut rows: Vec<Row> = Vec::new();
    let mut values: Vec<RowValues> = Vec::new();
    let mut stale_notes: Vec<StaleNote> = Vec::new();
    let kept =
        collected.results.iter().enumerate().filter(|(_, r)| keeps_seed(seed_filters, &r.levels));
    for (index, result) in kept {
        let mut levels = result.levels.without_seed();
        if options.per_seed
            && let Some(seed) = result.levels.seed()
        {
            levels.push(SEED, seed);
        }
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
                    n: 0,
                    cells: Vec::new(),
                    stale: false,
                });
                values.push(vec![BTreeMap::new(); columns.len()]);
                rows.len() - 1
            }
        };
        let seed = result.levels.seed().map(str::to_string);
        if let Some(seed) = &seed
            && !rows[r].seeds.contains(seed)
        {
            rows[r].seeds.push(seed.clone());
        }
        if let Some(stale) = &result.stale {
            rows[r].stale = true;
            note_stale(&mut stale_notes, &result.pipeline, &result.levels, stale, true);
        }
        for row in result.metrics.iter().filter(|m| m.epoch.is_none()) {
            if let Some(c) = columns.iter().position(|c| matches(c, result, row)) {
                let entry = values[r][c]
                    .entry(result.instance.as_str())
                    .or_insert_with(|| (Vec::new(), row.value, index));
                entry.0.extend(seed.clone());
            }
        }
    }
    let samples: RowSamples = values
        .iter()
        .map(|row| {
            row.iter()
                .map(|by_instance| {
                    by_instance
                        .values()
                        .map(|(seeds, value, result)| Sample {
                            seeds: seeds.clone(),
                            value: *value,
                            result: *result,
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    for (row, samples) in rows.iter_mut().zip(&samples) {
        row.cells = samples.iter().map(|s| Cell::pool(s, &options.settings)).collect();
        row.n = row.cells.iter().flatten().map(|c| c.n).max().unwrap_or(0);
    }
    (rows, samples, stale_notes)
}

/// The baseline variant (`--baseline`, else the grid's), with every row compared with it; or
/// the declared baseline's name when it has no results. `--baseline` must match one variant.
fn baseline_of(
    collected: &Collected,
    options: &Options,
    factor_levels: &[(String, Vec<String>)],
    rows: &[Row],
) -> anyhow::Result<(Option<Baseline>, Option<String>)> {
    let declared = options.baseline.clone().or_else(|| {
        collected.manifests.iter().find_map(|m| m.layout.as_ref().and_then(|l| l.baseline.clone()))
    });
    let Some(levels) = declared else { return Ok((None, None)) };
    let levels = levels.without_seed();
    let name = levels.name();
    if options.baseline.is_some() {
        check_baseline(&levels, factor_levels)?;
    }
    let matching = |row: &Row| levels.iter().all(|(f, l)| row.level(f) == Some(l.as_str()));
    let variants: Vec<(String, Levels)> = unique(
        rows.iter()
            .filter(|row| matching(row))
            .map(|row| (row.pipeline.clone(), row.levels.without_seed()))
            .collect(),
    );
    match variants.as_slice() {
        [(pipeline, levels)] => {
            Ok((Some(Baseline { pipeline: pipeline.clone(), levels: levels.clone() }), None))
        }
        [] if options.baseline.is_some() => {
            let variants: Vec<String> = unique(rows.iter().map(Row::variant_name).collect());
            invalid!(
                "--baseline {name} matches no row with results (rows: {})",
                variants.join("; ")
            )
        }
        [] => Ok((None, Some(name))),
        _ if options.baseline.is_some() => {
            invalid!(
                "--baseline {name} matches {} rows; name a level of more factors so that it matches one",
                variants.len()
            )
        }
        _ => Ok((None, None)),
    }
}

/// Where each shown pipeline's results come from.
fn sources(collected: &Collected, shown: &[String]) -> Vec<Source> {
    collected
        .manifests
        .iter()
        .filter(|m| shown.contains(&m.pipeline))
        .map(|m| {
            let results: Vec<&StageResult> =
                collected.results.iter().filter(|r| r.pipeline == m.pipeline).collect();
            Source::of(m, &collected.runs, &results)
        })
        .collect()
}

impl Row {
    fn variant_name(&self) -> String {
        let name = self.levels.without_seed().name();
        format!("{}: {}", self.pipeline, if name.is_empty() { "(no levels)" } else { &name })
    }
}

/// Per row, the baseline variant's row it is compared with (in the per-seed view, the
/// baseline's row of the same seed).
fn baseline_rows(rows: &[Row], baseline: &Baseline) -> Vec<Option<usize>> {
    let baseline_of = |row: &Row| {
        rows.iter().position(|b| baseline.is(b) && b.levels.seed() == row.levels.seed())
    };
    rows.iter().map(baseline_of).collect()
}

/// Δ, its interval and test of every row against its baseline row (`baselines`).
fn compare_with_baseline(
    rows: &mut [Row],
    samples: &[Vec<Vec<Sample>>],
    baselines: &[Option<usize>],
    settings: &Settings,
) {
    for (r, row) in rows.iter_mut().enumerate() {
        for (c, cell) in row.cells.iter_mut().enumerate() {
            let Some(cell) = cell.as_mut() else { continue };
            match baselines[r] {
                Some(b) if b == r => cell.mark_baseline(),
                Some(b) if !samples[b][c].is_empty() => {
                    cell.compare_with(&samples[r][c], &samples[b][c], settings)
                }
                _ => cell.without_baseline(),
            }
        }
    }
}

fn unique<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut kept: Vec<T> = Vec::new();
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    kept
}

/// A comparison of pipeline `p` for unit tests: `rows` over `columns`, default settings, no
/// baseline.
#[cfg(test)]
pub(crate) fn of_rows(factors: &[&str], columns: Vec<Column>, rows: Vec<Row>) -> Comparison {
    Comparison {
        pipelines: vec!["p".into()],
        sources: vec![],
        factors: factors.iter().map(|f| f.to_string()).collect(),
        columns,
        rows,
        primary: None,
        baseline: None,
        baseline_not_run: None,
        settings: Settings::default(),
        per_seed: false,
        not_run: vec![],
        stale: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_factors_and_columns() {
        let columns = vec![Column {
            template: "eval".into(),
            split: Some("val".into()),
            metric: "macro_f1".into(),
            class: None,
            name: "val.macro_f1".into(),
        }];
        let factors = vec![("model".to_string(), vec!["a".to_string(), "b".to_string()])];
        let row = |model: &str, mean: f64| Row {
            pipeline: "p".into(),
            levels: vec![("model".into(), model.into())].into(),
            seeds: vec![],
            n: 1,
            cells: vec![Some(Cell { mean, n: 1, ..Cell::default() })],
            stale: false,
        };
        let parse = |f: &str| Filter::parse(f, &factors, &["p".to_string()], &columns);
        let keeps = |f: &str, r: &Row| parse(f).unwrap().keeps(r);
        assert!(keeps("model=a,b", &row("b", 0.1)) && !keeps("model=a", &row("b", 0.1)));
        assert!(keeps("model!=a", &row("b", 0.1)));
        assert!(
            keeps("val.macro_f1>=0.5", &row("a", 0.5))
                && !keeps("val.macro_f1>0.5", &row("a", 0.5))
        );
        let unknown = parse("loss=bce").err().unwrap().to_string();
        assert!(
            unknown.contains("neither a factor (model) nor a column (val.macro_f1)"),
            "{unknown}"
        );
        let level = parse("model=c").err().unwrap().to_string();
        assert!(level.contains("`model` has no level `c` (levels: a, b)"), "{level}");
        let pipeline = parse("pipeline=q").err().unwrap().to_string();
        assert!(pipeline.contains("`pipeline` has no level `q` (levels: p)"), "{pipeline}");
    }
}
