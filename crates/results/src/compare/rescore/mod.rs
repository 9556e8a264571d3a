//! The statistics that re-score the stored predictions instead of pooling stored numbers:
//! `--interval bootstrap` (the hierarchical bootstrap over seeds and test images, see
//! `stats::bootstrap`) and DeLong's test of AUROC differences (`--test delong`, and beside the
//! bootstrap in JSON).
//!
//! A cell is re-scored when its column is a metric the predictions give back exactly as
//! `evaluate` and `score` computed it: `macro_f1` and per-label `f1` at each result's own
//! decision thresholds (`scores.json`), per-label `auroc` and `average_precision`, and their
//! macro means over the labels where they are defined. Each replicate draws the images of each
//! split once and the seeds (distinct results) of each list of seeds once, re-scores every result
//! on its split's drawn images, and gives each cell the mean over its drawn units of their values
//! on the split plus how far the mean over all its units moves on the drawn images
//! (`bootstrap`); Δ is the row's replicate minus its baseline row's in the same replicate. A
//! per-label AUROC cell also gets DeLong's test against its baseline's (`delong`, the test of
//! Δ with `--test delong`). Cells that cannot be re-scored (a
//! `train` stage's metrics, a command stage's own, `precision`, a result whose predictions are
//! gone) keep their t statistics, and say why in `fallback`.
use std::collections::HashMap;

use ablate_stages::metric;
use ablate_stages::ranking::{self, LabelRanking};
use ablate_stages::scoring::{self, LabelScores};

use super::predictions::{self, Loaded, Scored};
use super::{Column, Row, RowSamples};
use crate::collect::StageResult;
use crate::significance::{Cell, Interval, PairedTest, Sample, Settings};

mod bootstrap;
mod delong;

use bootstrap::{fill, replicate};
use delong::test_by_delong;

#[cfg(test)]
mod coverage;

/// What re-scoring reads beyond the rows: the columns, the compared results, and the snapshot
/// whose results hold the datasets.
pub(super) struct Rescoring<'a> {
    pub(super) columns: &'a [Column],
    pub(super) results: &'a [StageResult],
    pub(super) snapshot: &'a [StageResult],
}

/// A metric that the predictions give back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rescored {
    MacroF1,
    F1,
    Auroc,
    AveragePrecision,
    MacroAuroc,
    MacroAveragePrecision,
}

impl Rescored {
    fn of(column: &Column) -> Option<Rescored> {
        Some(match (column.metric.as_str(), column.class.is_some()) {
            (metric::MACRO_F1, false) => Rescored::MacroF1,
            (metric::F1, true) => Rescored::F1,
            (metric::AUROC, true) => Rescored::Auroc,
            (metric::AVERAGE_PRECISION, true) => Rescored::AveragePrecision,
            (metric::MACRO_AUROC, false) => Rescored::MacroAuroc,
            (metric::MACRO_AVERAGE_PRECISION, false) => Rescored::MacroAveragePrecision,
            _ => return None,
        })
    }

    /// Whether it needs the labels' rankings (AUROC, AP), not only their decisions.
    fn ranks(self) -> bool {
        !matches!(self, Rescored::MacroF1 | Rescored::F1)
    }

    /// Its value in one replicate's scores of a result (`label`: the column's, where it has
    /// one); NaN where undefined.
    fn value(self, scores: &Rescore, label: Option<usize>) -> f64 {
        let label = || label.expect("a per-label column has its label");
        let defined = |v: Result<f64, _>| v.unwrap_or(f64::NAN);
        match self {
            Rescored::MacroF1 => scoring::macro_f1(&scores.decisions),
            Rescored::F1 => scores.decisions[label()].f1,
            Rescored::Auroc => defined(scores.rankings[label()].auroc),
            Rescored::AveragePrecision => defined(scores.rankings[label()].average_precision),
            Rescored::MacroAuroc => ranking::macro_auroc(&scores.rankings).mean.unwrap_or(f64::NAN),
            Rescored::MacroAveragePrecision => {
                ranking::macro_average_precision(&scores.rankings).mean.unwrap_or(f64::NAN)
            }
        }
    }
}

/// One result re-scored on one replicate's images.
struct Rescore {
    /// Per label, at its threshold.
    decisions: Vec<LabelScores>,
    /// Per label; empty where no column of the result ranks.
    rankings: Vec<LabelRanking>,
}

fn rescore(scored: &Scored, weights: &[u32], ranks: bool) -> Rescore {
    let count = |images: &[u32]| images.iter().map(|&i| weights[i as usize] as usize).sum();
    let decisions = scored
        .labels
        .iter()
        .map(|label| {
            let d = &label.decided;
            let (tp, fp) = (count(&d.true_positives), count(&d.false_positives));
            LabelScores::from_counts(tp, fp, count(&d.false_negatives))
        })
        .collect();
    let rankings = if ranks {
        let rank = |label: &predictions::ScoredLabel| match &label.ranked {
            Ok(ranked) => ranked.weighted_curve(weights).ranking(),
            Err(why) => LabelRanking { auroc: Err(*why), average_precision: Err(*why) },
        };
        scored.labels.iter().map(rank).collect()
    } else {
        Vec::new()
    };
    Rescore { decisions, rankings }
}

/// What a cell's units are drawn from: the seeds they are (each result one seed's), or the
/// distinct results where seeds share one. Cells with the same key share each replicate's draw.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum UnitKey {
    Seeds(Vec<String>),
    Results(Vec<usize>),
}

/// One unit of a cell: a result, and the index of the column's label among its predictions'.
#[derive(Debug, Clone, Copy)]
struct Unit {
    result: usize,
    label: Option<usize>,
}

/// A cell to re-score.
struct Plan {
    row: usize,
    column: usize,
    metric: Rescored,
    /// In the order of the key's units.
    units: Vec<Unit>,
    key: UnitKey,
}

impl Rescoring<'_> {
    /// Re-scores the cells of `rows` as `settings` ask, each compared with its row's baseline
    /// row (`baselines`).
    pub(super) fn apply(
        &self,
        rows: &mut [Row],
        samples: &RowSamples,
        baselines: &[Option<usize>],
        settings: &Settings,
    ) {
        if !settings.reads_predictions() {
            return;
        }
        let wanted = wanted(rows, self.columns, settings);
        let mut results: Vec<usize> =
            wanted.iter().flat_map(|&(r, c, _)| samples[r][c].iter().map(|s| s.result)).collect();
        results.sort_unstable();
        results.dedup();
        let loaded = predictions::load(self.results, self.snapshot, &results);
        let table = Table { columns: self.columns, samples, baselines };
        table.rescore(rows, &wanted, &loaded, settings);
    }
}

/// The cells to re-score: with the bootstrap, those of the metrics it re-scores (the others
/// say why they are not); with DeLong alone, those of per-label AUROC columns.
fn wanted(
    rows: &mut [Row],
    columns: &[Column],
    settings: &Settings,
) -> Vec<(usize, usize, Rescored)> {
    let bootstrap = settings.interval == Interval::Bootstrap;
    let mut wanted = Vec::new();
    for (r, row) in rows.iter_mut().enumerate() {
        for (c, column) in columns.iter().enumerate() {
            let Some(cell) = row.cells[c].as_mut() else { continue };
            match Rescored::of(column) {
                Some(metric) if bootstrap || metric == Rescored::Auroc => {
                    wanted.push((r, c, metric))
                }
                _ if bootstrap => cell.fallback = Some(unsupported(column)),
                _ => {}
            }
        }
    }
    wanted
}

/// What re-scoring the cells of a table reads beside its rows.
struct Table<'a> {
    columns: &'a [Column],
    samples: &'a RowSamples,
    baselines: &'a [Option<usize>],
}

impl Table<'_> {
    /// The `wanted` cells of `rows` re-scored from `loaded`.
    fn rescore(
        &self,
        rows: &mut [Row],
        wanted: &[(usize, usize, Rescored)],
        loaded: &Loaded,
        settings: &Settings,
    ) {
        let mut plans = Vec::new();
        for &(r, c, metric) in wanted {
            match plan(&self.samples[r][c], &self.columns[c], loaded) {
                Ok((units, key)) => plans.push(Plan { row: r, column: c, metric, units, key }),
                Err(why) => fallback(rows[r].cells[c].as_mut(), why),
            }
        }
        let at: HashMap<(usize, usize), usize> =
            plans.iter().enumerate().map(|(i, p)| ((p.row, p.column), i)).collect();
        let baseline_plan = |plan: &Plan| {
            self.baselines[plan.row].filter(|&b| b != plan.row).map(|b| at.get(&(b, plan.column)))
        };
        if settings.interval == Interval::Bootstrap {
            let replicates = replicate(&plans, loaded, settings);
            for (plan, values) in plans.iter().zip(&replicates) {
                let cell = rows[plan.row].cells[plan.column].as_mut().expect("planned");
                let baseline = baseline_plan(plan).map(|b| b.map(|&b| replicates[b].as_slice()));
                fill(cell, values, baseline, settings);
            }
        }
        for plan in plans.iter().filter(|p| p.metric == Rescored::Auroc) {
            let cell = rows[plan.row].cells[plan.column].as_mut().expect("planned");
            match baseline_plan(plan) {
                Some(Some(&b)) => test_by_delong(cell, plan, &plans[b], loaded, settings),
                Some(None)
                    if settings.paired_test == PairedTest::DeLong && cell.delta.is_some() =>
                {
                    cell.fallback = Some(
                        "no DeLong test: the baseline's cell has no predictions to re-score".into(),
                    )
                }
                _ => {}
            }
        }
    }
}

/// The units of a cell, each result's predictions matched to the column, and their key.
fn plan(
    samples: &[Sample],
    column: &Column,
    loaded: &Loaded,
) -> Result<(Vec<Unit>, UnitKey), String> {
    let mut units: Vec<(String, Unit)> = Vec::new();
    for sample in samples {
        let scored = loaded.results[&sample.result].as_ref().map_err(Clone::clone)?;
        let instance = &scored.instance;
        if column.split.as_ref().is_some_and(|split| *split != scored.split) {
            return Err(format!("{instance}: its predictions are of split {}", scored.split));
        }
        let label = match &column.class {
            Some(class) => Some(scored.label(class).ok_or_else(|| {
                format!("{instance}: its predictions.csv has no column p_{class}")
            })?),
            None => None,
        };
        let seed = match sample.seeds.as_slice() {
            [seed] => seed.clone(),
            _ => String::new(),
        };
        units.push((seed, Unit { result: sample.result, label }));
    }
    let seeded = units.iter().all(|(seed, _)| !seed.is_empty());
    units.sort_by(|a, b| (&a.0, a.1.result).cmp(&(&b.0, b.1.result)));
    let key = if seeded {
        UnitKey::Seeds(units.iter().map(|(seed, _)| seed.clone()).collect())
    } else {
        UnitKey::Results(units.iter().map(|(_, unit)| unit.result).collect())
    };
    Ok((units.into_iter().map(|(_, unit)| unit).collect(), key))
}

/// Why a column is not re-scored.
fn unsupported(column: &Column) -> String {
    format!(
        "`{}` is not re-scored from predictions (the bootstrap re-scores macro_f1, f1, auroc, average_precision and their macro means)",
        column.metric
    )
}

fn fallback(cell: Option<&mut Cell>, why: String) {
    if let Some(cell) = cell {
        cell.fallback = Some(why);
    }
}
