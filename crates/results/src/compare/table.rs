//! What a comparison is: its columns, its rows with their cells, the baseline, where the
//! results come from and what is left out (not run yet, stale). `format` writes it; the
//! report shows it.
use ablate_core::grid::Levels;
use ablate_core::manifest::Manifest;
use ablate_core::run_record::{RunReport, RunState};
use serde::Serialize;

use crate::collect::StageResult;
use crate::significance::{Cell, Settings};

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
    pub(super) fn of(manifest: &Manifest, runs: &[RunReport], results: &[&StageResult]) -> Source {
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
