//! What a comparison is: its columns, its rows with their cells, the baseline, where the
//! results come from and what is left out (not run yet, stale). The one model that `format`
//! writes as a table, markdown, CSV and JSON, and that the HTML report shows (serialisable, so
//! that a report can be rendered from JSON alone).
use ablate_core::grid::Levels;
use ablate_core::manifest::Manifest;
use ablate_core::run_record::{RunReport, RunState};
use ablate_stages::metric;
use serde::{Deserialize, Serialize};

use crate::collect::StageResult;
use crate::significance::{Cell, Settings};

/// A metric column: one final metric of one stage of the file on one split, for one class or
/// for none.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Column {
    pub template: String,
    pub split: Option<String>,
    pub metric: String,
    pub class: Option<String>,
    /// How the column is named in output, `--sort` and `--where`.
    pub name: String,
}

/// A variant (a variant and seed in the per-seed view): its levels and one cell per column.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NotRun {
    pub pipeline: String,
    /// The variant's name (levels without `seed`).
    pub variant: String,
    /// The seeds without results; empty when the variant has none at all, or no seeds.
    pub seeds: Vec<String>,
}

/// Results of a variant made under an earlier configuration than the table describes: shown
/// (marked) with `--stale`, else left out and named.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Comparison {
    /// The pipelines of the rows shown, in row order.
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

impl Comparison {
    /// The name every section of the report gives `row`: its levels without the seed
    /// (`loss=focal,hidden=32`), prefixed with the pipeline (`paper: …`) when rows of several
    /// pipelines are shown, or the pipeline's name for a pipeline without a grid.
    pub fn row_name(&self, row: &Row) -> String {
        match row.levels.without_seed().name() {
            name if name.is_empty() => row.pipeline.clone(),
            name if self.pipelines.len() > 1 => format!("{}: {name}", row.pipeline),
            name => name,
        }
    }

    /// The name of the baseline's row, when Δ is computed and the row is shown.
    pub fn baseline_name(&self) -> Option<String> {
        let baseline = self.baseline.as_ref()?;
        self.rows.iter().find(|row| baseline.is(row)).map(|row| self.row_name(row))
    }

    /// The level of the intervals shown (their default where they are hidden).
    pub fn ci_level(&self) -> f64 {
        self.settings.ci.unwrap_or(0.95)
    }
}

impl Column {
    /// Whether a larger value is better (F1: yes, loss: no); decides "best" and ▲/▼.
    pub fn higher_is_better(&self) -> bool {
        metric::higher_is_better(&self.metric)
    }
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
