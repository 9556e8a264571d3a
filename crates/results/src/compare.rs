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
//! the other `--where` filters keep rows; the p-values of each column are adjusted across the
//! rows left; `--sort` orders them.
use std::collections::BTreeMap;

use ablate_core::grid::{Levels, SEED};
use ablate_core::invalid;
use ablate_core::manifest::Manifest;
use ablate_core::metrics::MetricRow;
use ablate_core::run_record::{RunReport, RunState};
use ablate_stages::metric;
use anyhow::Context;
use serde::Serialize;

use super::collect::{Collected, StageResult, Stale, factor_levels};
use super::significance::{self, Cell, Sample, Settings};

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub template: String,
    pub split: Option<String>,
    pub metric: String,
    pub class: Option<String>,
    /// How the column is named in output, `--sort` and `--where`.
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub pipeline: String,
    /// Levels without `seed` (with it last in the per-seed view).
    pub levels: Levels,
    pub seeds: Vec<String>,
    /// Distinct results pooled: the most of any of its cells.
    pub n: usize,
    pub cells: Vec<Option<Cell>>,
    /// Whether some of its numbers come from an earlier configuration (`--stale`).
    pub stale: bool,
}

impl Row {
    pub fn name(&self) -> String {
        self.levels.name()
    }

    pub fn level(&self, factor: &str) -> Option<&str> {
        self.levels.level(factor)
    }
}

/// Which file, and which version of it, a pipeline's results were last run from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub pipeline: String,
    /// The pipeline file's absolute path.
    pub file: String,
    /// blake3 of the file's text; empty in manifests written before it was recorded.
    pub digest: String,
    /// When the run that recorded the newest of the shown results started, Unix seconds (the
    /// last run's start where refs do not date their results).
    pub run: u64,
    /// Its `--set` overrides.
    pub overrides: Vec<String>,
    /// That run was killed before it ended (its finished stages were kept).
    pub killed: bool,
}

impl Source {
    /// Where `manifest`'s shown `results` come from: the run that recorded the newest of them.
    fn of(manifest: &Manifest, runs: &[RunReport], results: &[&StageResult]) -> Source {
        let newest = results.iter().map(|r| r.recorded).max().unwrap_or(0);
        let run = runs
            .iter()
            .filter(|run| run.pipeline == manifest.pipeline && newest > 0 && run.started <= newest)
            .max_by_key(|run| run.started);
        Source {
            pipeline: manifest.pipeline.clone(),
            file: manifest.file.clone(),
            digest: manifest.file_digest.clone(),
            run: run.map_or(manifest.written, |r| r.started),
            overrides: run.map_or_else(|| manifest.overrides.clone(), |r| r.overrides.clone()),
            killed: run.is_some_and(|r| r.state() == RunState::Killed),
        }
    }

    /// The digest as a short version name, as git shortens commits.
    pub fn version(&self) -> &str {
        &self.digest[..self.digest.len().min(8)]
    }
}

/// A variant of the chosen pipelines without results (or without some of its seeds').
#[derive(Debug, Clone, PartialEq)]
pub struct NotRun {
    pub pipeline: String,
    /// The variant's name (levels without `seed`).
    pub variant: String,
    /// The seeds without results; empty when the variant has none at all, or no seeds.
    pub seeds: Vec<String>,
}

/// Results of a variant made under an earlier configuration than the table describes: shown
/// (marked) with `--stale`, else left out and named.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleNote {
    pub pipeline: String,
    /// The variant's name (levels without `seed`).
    pub variant: String,
    /// The seeds concerned; empty without seeds.
    pub seeds: Vec<String>,
    /// When the stale result was recorded (the latest of the seeds'), Unix seconds.
    pub written: u64,
    /// The overrides of the run that recorded it.
    pub overrides: Vec<String>,
    /// Whether its numbers are in the table.
    pub shown: bool,
}

/// The variant the others are compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub pipeline: String,
    /// Its levels, without `seed`.
    pub levels: Levels,
}

impl Baseline {
    /// Whether `row` is (a seed of) the baseline variant.
    pub fn is(&self, row: &Row) -> bool {
        row.pipeline == self.pipeline && row.levels.without_seed() == self.levels
    }
}

impl std::fmt::Display for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.levels.name())
    }
}

pub struct Comparison {
    pub pipelines: Vec<String>,
    /// Where each shown pipeline's results come from.
    pub sources: Vec<Source>,
    /// Factors in declaration order, `seed` excluded (last in the per-seed view).
    pub factors: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// The column Δ and the default sort refer to.
    pub primary: Option<usize>,
    /// The baseline variant, when Δ is computed.
    pub baseline: Option<Baseline>,
    /// The declared baseline when it has no results, so no Δ is computed.
    pub baseline_not_run: Option<String>,
    pub settings: Settings,
    /// One row per variant and seed (`--per-seed`).
    pub per_seed: bool,
    pub not_run: Vec<NotRun>,
    pub stale: Vec<StaleNote>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Metric names; empty means `macro_f1` and `f1` where present, else the metrics whose name
    /// holds `macro_f1` (`best_macro_f1` of a training), else every metric.
    pub metrics: Vec<String>,
    /// Splits; empty means all.
    pub splits: Vec<String>,
    /// Overrides the grid's baseline.
    pub baseline: Option<Levels>,
    pub filters: Vec<String>,
    /// A column or factor; metrics sort best (highest) first, factors in declaration order.
    pub sort: Option<String>,
    pub reverse: bool,
    /// One row per variant and seed instead of pooling the seeds.
    pub per_seed: bool,
    pub settings: Settings,
    /// Show results of an earlier configuration (marked) instead of leaving them out.
    pub stale: bool,
}

const DEFAULT_METRICS: &[&str] = &[metric::MACRO_F1, metric::F1];

/// The values of one row: per column, instance → the seeds that used it and its value.
type RowValues<'a> = Vec<BTreeMap<&'a str, (Vec<String>, f64)>>;

/// Per row, per column, the distinct results pooled.
type RowSamples = Vec<Vec<Vec<Sample>>>;

/// The comparison of `collected`'s results, in the order of work the module doc gives.
pub fn compare(collected: &Collected, options: &Options) -> anyhow::Result<Comparison> {
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
    let (baseline, baseline_not_run) =
        baseline_of(collected, options, &factor_levels, &mut rows, &samples)?;

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

/// The columns of `--metric` and `--split` (checked against what the results stored), or the
/// defaults.
fn chosen_columns(collected: &Collected, options: &Options) -> anyhow::Result<Vec<Column>> {
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
    for result in collected.results.iter().filter(|r| keeps_seed(seed_filters, &r.levels)) {
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
                    .or_insert_with(|| (Vec::new(), row.value));
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
                        .map(|(seeds, value)| Sample { seeds: seeds.clone(), value: *value })
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
    rows: &mut [Row],
    samples: &RowSamples,
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
            let variant = Baseline { pipeline: pipeline.clone(), levels: levels.clone() };
            compare_with_baseline(rows, samples, &variant, &options.settings);
            Ok((Some(variant), None))
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

/// Adds a stale result of the variant with `levels` to the notes, one note per variant.
fn note_stale(
    notes: &mut Vec<StaleNote>,
    pipeline: &str,
    levels: &Levels,
    stale: &Stale,
    shown: bool,
) {
    let variant_levels: Levels = levels.without_seed();
    let variant = variant_levels.name();
    let seed = levels.seed().map(str::to_string);
    let at = notes.iter().position(|n| n.pipeline == pipeline && n.variant == variant);
    let note = match at {
        Some(at) => &mut notes[at],
        None => {
            notes.push(StaleNote {
                pipeline: pipeline.to_string(),
                variant,
                seeds: Vec::new(),
                written: 0,
                overrides: Vec::new(),
                shown,
            });
            notes.last_mut().expect("just pushed")
        }
    };
    if let Some(seed) = seed
        && !note.seeds.contains(&seed)
    {
        note.seeds.push(seed);
    }
    if stale.written >= note.written {
        note.written = stale.written;
        note.overrides = stale.overrides.clone();
    }
}

impl Row {
    fn variant_name(&self) -> String {
        let name = self.levels.without_seed().name();
        format!("{}: {}", self.pipeline, if name.is_empty() { "(no levels)" } else { &name })
    }
}

/// Δ, its interval and test of every row against the baseline variant (in the per-seed view,
/// against the baseline's row of the same seed).
fn compare_with_baseline(
    rows: &mut [Row],
    samples: &[Vec<Vec<Sample>>],
    baseline: &Baseline,
    settings: &Settings,
) {
    let baseline_of = |row: &Row| {
        rows.iter().position(|b| baseline.is(b) && b.levels.seed() == row.levels.seed())
    };
    let baselines: Vec<Option<usize>> = rows.iter().map(baseline_of).collect();
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

/// The variants (and seeds) of the chosen pipelines with no result, as the rows would show them.
fn not_run(
    collected: &Collected,
    rows: &[Row],
    seed_filters: &[&Filter],
    row_filters: &[&Filter],
    stale_notes: &mut Vec<StaleNote>,
) -> Vec<NotRun> {
    let mut not_run: Vec<NotRun> = Vec::new();
    for missing in collected.missing.iter().filter(|m| keeps_seed(seed_filters, &m.levels)) {
        let levels: Levels = missing.levels.without_seed();
        let probe = Row {
            pipeline: missing.pipeline.clone(),
            levels: levels.clone(),
            seeds: Vec::new(),
            n: 0,
            cells: Vec::new(),
            stale: false,
        };
        if !row_filters.iter().filter(|f| !f.is_on_value()).all(|f| f.keeps(&probe)) {
            continue;
        }
        if let Some(stale) = missing.stale() {
            note_stale(stale_notes, &missing.pipeline, &missing.levels, stale, false);
            continue;
        }
        let variant = levels.name();
        let has_results = rows
            .iter()
            .any(|r| r.pipeline == missing.pipeline && r.levels.without_seed() == levels);
        let seed = missing.levels.seed().map(str::to_string);
        let at =
            not_run.iter().position(|n| n.pipeline == missing.pipeline && n.variant == variant);
        let entry = match at {
            Some(at) => &mut not_run[at],
            None => {
                not_run.push(NotRun {
                    pipeline: missing.pipeline.clone(),
                    variant,
                    seeds: Vec::new(),
                });
                not_run.last_mut().expect("just pushed")
            }
        };
        if has_results && let Some(seed) = seed {
            entry.seeds.push(seed);
        }
    }
    not_run
}

/// Whether the `--where seed=…` filters keep a variant with these levels.
fn keeps_seed(seed_filters: &[&Filter], levels: &Levels) -> bool {
    let seed = levels.seed();
    seed_filters.iter().all(|f| f.keeps_level(seed))
}

fn matches(column: &Column, result: &StageResult, row: &MetricRow) -> bool {
    column.template == result.template
        && column.split == row.split
        && column.metric == row.metric
        && column.class == row.class
}

/// The metrics of the columns: `--metric`, each of which some result must have stored, or the
/// defaults.
fn chosen_metrics(results: &[StageResult], options: &Options) -> anyhow::Result<Vec<String>> {
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
fn check_splits(results: &[StageResult], splits: &[String]) -> anyhow::Result<()> {
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

/// `--baseline` names factors that exist, and levels of theirs.
fn check_baseline(levels: &Levels, factor_levels: &[(String, Vec<String>)]) -> anyhow::Result<()> {
    for (factor, level) in levels {
        let Some((_, known)) = factor_levels.iter().find(|(f, _)| f == factor) else {
            let factors: Vec<&str> =
                factor_levels.iter().map(|(f, _)| f.as_str()).filter(|f| *f != SEED).collect();
            invalid!("--baseline: no factor `{factor}` (factors: {})", factors.join(", "));
        };
        if !known.contains(level) {
            invalid!(
                "--baseline: factor `{factor}` has no level `{level}` (levels: {})",
                known.join(", ")
            );
        }
    }
    Ok(())
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

fn sort_rows(
    rows: &mut [Row],
    sort: &str,
    column: Option<usize>,
    factor_levels: &[(String, Vec<String>)],
    columns: &[Column],
) -> anyhow::Result<()> {
    if let Some(c) = column {
        let mean = |row: &Row| row.cells[c].as_ref().map_or(f64::NEG_INFINITY, |s| s.mean);
        rows.sort_by(|a, b| mean(b).total_cmp(&mean(a)));
        return Ok(());
    }
    if sort == "pipeline" {
        rows.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
        return Ok(());
    }
    let Some((_, order)) = factor_levels.iter().find(|(f, _)| f == sort) else {
        let factors: Vec<&str> = factor_levels.iter().map(|(f, _)| f.as_str()).collect();
        let columns: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        invalid!(
            "--sort {sort}: no such column or factor (factors: pipeline, {}; columns: {})",
            factors.join(", "),
            columns.join(", ")
        );
    };
    let rank = |row: &Row| {
        row.level(sort).and_then(|l| order.iter().position(|o| o == l)).unwrap_or(usize::MAX)
    };
    rows.sort_by_key(rank);
    Ok(())
}

/// `factor=level[,level]`, `factor!=level`, or `column OP number` with OP one of
/// `> >= < <= = !=` (on the mean). `seed` and `pipeline` count as factors.
enum Filter {
    Levels { factor: String, levels: Vec<String>, keep: bool },
    Value { column: usize, op: &'static str, value: f64 },
}

const OPERATORS: &[&str] = &[">=", "<=", "!=", "=", ">", "<"];

impl Filter {
    fn parse(
        text: &str,
        factor_levels: &[(String, Vec<String>)],
        pipelines: &[String],
        columns: &[Column],
    ) -> anyhow::Result<Filter> {
        let Some((at, op)) = OPERATORS
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op)))
            .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
        else {
            invalid!("--where {text}: expected `factor=level`, `factor!=level` or `column>number`")
        };
        let (name, value) = (text[..at].trim(), text[at + op.len()..].trim());
        let known = if name == "pipeline" {
            Some(pipelines)
        } else {
            factor_levels.iter().find(|(f, _)| f == name).map(|(_, levels)| levels.as_slice())
        };
        if let Some(known) = known {
            if !matches!(op, "=" | "!=") {
                invalid!("--where {text}: a factor is compared with = or !=");
            }
            let levels: Vec<String> = value.split(',').map(|l| l.trim().to_string()).collect();
            if let Some(unknown) = levels.iter().find(|l| !known.contains(l)) {
                invalid!(
                    "--where {text}: `{name}` has no level `{unknown}` (levels: {})",
                    known.join(", ")
                );
            }
            return Ok(Filter::Levels { factor: name.to_string(), levels, keep: op == "=" });
        }
        let Some(column) = columns.iter().position(|c| c.name == name) else {
            let factors: Vec<&str> = factor_levels.iter().map(|(f, _)| f.as_str()).collect();
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            invalid!(
                "--where {text}: `{name}` is neither a factor ({}) nor a column ({})",
                factors.join(", "),
                names.join(", ")
            );
        };
        let value =
            value.parse().with_context(|| format!("--where {text}: `{value}` is not a number"));
        let value = match value {
            Ok(value) => value,
            Err(error) => invalid!("{error:#}"),
        };
        Ok(Filter::Value { column, op, value })
    }

    fn is_on(&self, name: &str) -> bool {
        matches!(self, Filter::Levels { factor, .. } if factor == name)
    }

    fn is_on_value(&self) -> bool {
        matches!(self, Filter::Value { .. })
    }

    /// Whether a level filter keeps `level` (a row without the factor has none).
    fn keeps_level(&self, level: Option<&str>) -> bool {
        match self {
            Filter::Levels { levels, keep, .. } => {
                level.is_some_and(|l| levels.iter().any(|x| x == l)) == *keep
            }
            Filter::Value { .. } => true,
        }
    }

    fn keeps(&self, row: &Row) -> bool {
        match self {
            Filter::Levels { factor, .. } => self.keeps_level(if factor == "pipeline" {
                Some(row.pipeline.as_str())
            } else {
                row.level(factor)
            }),
            Filter::Value { column, op, value } => {
                row.cells[*column].as_ref().is_some_and(|s| match *op {
                    ">" => s.mean > *value,
                    ">=" => s.mean >= *value,
                    "<" => s.mean < *value,
                    "<=" => s.mean <= *value,
                    "=" => s.mean == *value,
                    _ => s.mean != *value,
                })
            }
        }
    }
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
