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
//! on its split's drawn images, and gives each cell the mean over its drawn units; Δ is the row's
//! replicate minus its baseline row's in the same replicate. Cells that cannot be re-scored (a
//! `train` stage's metrics, a command stage's own, `precision`, a result whose predictions are
//! gone) keep their t statistics, and say why in `fallback`.
use std::collections::{BTreeMap, HashMap};

use ablate_stages::metric;
use ablate_stages::ranking::{self, LabelRanking};
use ablate_stages::scoring::{self, LabelScores};
use rayon::prelude::*;

use super::predictions::{self, Loaded, Scored};
use super::{Column, Row, RowSamples};
use crate::collect::StageResult;
use crate::significance::{
    Cell, DeLong, Interval, PairedTest, Sample, Settings, Spread, TStatistics, TestKind,
};
use crate::stats::bootstrap::{Design, p_value, percentile_interval};
use crate::stats::delong::delong_test;

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
    let decisions = scored
        .labels
        .iter()
        .map(|label| {
            let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
            for ((&p, &y), &w) in label.scores.iter().zip(&label.truth).zip(weights) {
                let w = w as usize;
                match (p > label.threshold, y == 1) {
                    (true, true) => tp += w,
                    (true, false) => fp += w,
                    (false, true) => fn_ += w,
                    (false, false) => {}
                }
            }
            LabelScores::from_counts(tp, fp, fn_)
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
            let Some(Some(&b)) = baseline_plan(plan) else { continue };
            let cell = rows[plan.row].cells[plan.column].as_mut().expect("planned");
            test_by_delong(cell, plan, &plans[b], loaded, settings);
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

/// Per plan, its value in each replicate (NaN where undefined): the mean over the drawn units
/// of their values on the split's images, plus how far the mean over all the cell's units
/// moves on the drawn images (see `stats::bootstrap`), kept inside the metric's range [0, 1].
fn replicate(plans: &[Plan], loaded: &Loaded, settings: &Settings) -> Vec<Vec<f64>> {
    let lists: BTreeMap<&UnitKey, usize> = plans.iter().map(|p| (&p.key, p.units.len())).collect();
    let list_of: HashMap<&UnitKey, usize> =
        lists.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let design =
        Design { images: loaded.image_sets.clone(), units: lists.values().copied().collect() };
    let results = Results::of(plans, loaded);
    let ones: Vec<Vec<u32>> = loaded.image_sets.iter().map(|&n| vec![1; n]).collect();
    let measured = results.rescore(|scored| &ones[scored.images]);
    let by_replicate: Vec<Vec<f64>> = (0..u64::from(settings.bootstrap.replicates))
        .into_par_iter()
        .map(|b| {
            let draw = design.draw(settings.bootstrap.seed, b);
            let drawn_images = results.rescore(|scored| &draw.weights[scored.images]);
            plans
                .iter()
                .map(|plan| {
                    let drawn = &draw.units[list_of[&plan.key]];
                    let all: Vec<usize> = (0..plan.units.len()).collect();
                    let seeds = results.mean(plan, drawn, &measured);
                    let images = results.mean(plan, &all, &drawn_images)
                        - results.mean(plan, &all, &measured);
                    (seeds + images).clamp(0.0, 1.0)
                })
                .collect()
        })
        .collect();
    (0..plans.len()).map(|p| by_replicate.iter().map(|values| values[p]).collect()).collect()
}

/// The results the plans draw, each with whether a column of it ranks.
struct Results<'a> {
    used: Vec<(&'a Scored, bool)>,
    /// Result index → position in `used`.
    dense: HashMap<usize, usize>,
}

impl<'a> Results<'a> {
    fn of(plans: &[Plan], loaded: &'a Loaded) -> Results<'a> {
        let mut used: Vec<(usize, bool)> = Vec::new();
        for plan in plans {
            for unit in &plan.units {
                match used.iter_mut().find(|(r, _)| *r == unit.result) {
                    Some((_, ranks)) => *ranks |= plan.metric.ranks(),
                    None => used.push((unit.result, plan.metric.ranks())),
                }
            }
        }
        let scored = |result: usize| loaded.results[&result].as_ref().expect("planned: read");
        Results {
            dense: used.iter().enumerate().map(|(i, (r, _))| (*r, i)).collect(),
            used: used.into_iter().map(|(r, ranks)| (scored(r), ranks)).collect(),
        }
    }

    /// Every result re-scored with its images counted as `weights` says.
    fn rescore<'w>(&self, weights: impl Fn(&Scored) -> &'w [u32]) -> Vec<Rescore> {
        self.used.iter().map(|&(scored, ranks)| rescore(scored, weights(scored), ranks)).collect()
    }

    /// The mean of `plan`'s metric over its units `units` (indices, repeats counted) in `scores`.
    fn mean(&self, plan: &Plan, units: &[usize], scores: &[Rescore]) -> f64 {
        let sum: f64 = units
            .iter()
            .map(|&u| {
                let unit = plan.units[u];
                plan.metric.value(&scores[self.dense[&unit.result]], unit.label)
            })
            .sum();
        sum / units.len() as f64
    }
}

/// A cell's bootstrap statistics from its replicates (`values`) and, where its baseline row was
/// re-scored too, Δ's from the difference with the baseline's (`baseline`: `None` in the
/// baseline's own row and without a baseline, `Some(None)` where the baseline kept its t).
fn fill(cell: &mut Cell, values: &[f64], baseline: Option<Option<&[f64]>>, settings: &Settings) {
    let shown = settings.ci.is_some();
    let level = settings.ci.unwrap_or(0.95);
    cell.t = Some(TStatistics {
        ci_low: cell.ci_low,
        ci_high: cell.ci_high,
        delta_ci_low: cell.delta_ci_low,
        delta_ci_high: cell.delta_ci_high,
        p_value: cell.p_value,
        test: cell.test,
    });
    cell.interval = Interval::Bootstrap;
    let interval = percentile_interval(values, level).filter(|_| shown);
    (cell.ci_low, cell.ci_high) = (interval.map(|i| i.0), interval.map(|i| i.1));
    cell.replicates = Spread::of(values);
    match baseline {
        None => {}
        Some(None) => {
            cell.fallback = Some(
                "the baseline's cell has no predictions to re-score: Δ keeps its t statistics"
                    .into(),
            )
        }
        Some(Some(base)) => {
            let deltas: Vec<f64> = values.iter().zip(base).map(|(v, b)| v - b).collect();
            let interval = percentile_interval(&deltas, level).filter(|_| shown);
            (cell.delta_ci_low, cell.delta_ci_high) =
                (interval.map(|i| i.0), interval.map(|i| i.1));
            cell.p_value = p_value(&deltas);
            cell.test = Some(TestKind::Bootstrap);
            cell.note = cell.p_value.is_none().then(|| {
                "Δ is undefined in every bootstrap replicate (a label without positives)".into()
            });
            cell.delta_replicates = Spread::of(&deltas);
        }
    }
}

/// DeLong's test of an AUROC cell against its baseline's (`baseline`), recorded in the cell,
/// and made its test with `--test delong`.
fn test_by_delong(
    cell: &mut Cell,
    plan: &Plan,
    baseline: &Plan,
    loaded: &Loaded,
    settings: &Settings,
) {
    let scored = |unit: &Unit| loaded.results[&unit.result].as_ref().expect("planned");
    let label = |unit: &Unit| &scored(unit).labels[unit.label.expect("a per-label column")];
    let first = &plan.units[0];
    let same_images =
        plan.units.iter().chain(&baseline.units).all(|u| scored(u).images == scored(first).images);
    let scores = |units: &[Unit]| -> Vec<Vec<f64>> {
        units.iter().map(|u| label(u).scores.iter().map(|&p| f64::from(p)).collect()).collect()
    };
    let (a, b) = (scores(&plan.units), scores(&baseline.units));
    let a: Vec<&[f64]> = a.iter().map(Vec::as_slice).collect();
    let b: Vec<&[f64]> = b.iter().map(Vec::as_slice).collect();
    let truth: Vec<bool> = label(first).truth.iter().map(|&y| y == 1).collect();
    let tested = if same_images {
        delong_test(&a, &b, &truth, settings.ci.unwrap_or(0.95)).map_err(|e| e.to_string())
    } else {
        Err("the row and the baseline were measured on different images".to_string())
    };
    let by_delong = settings.paired_test == PairedTest::DeLong;
    match tested {
        Ok(test) => {
            let delong = DeLong {
                delta: test.delta,
                se: test.se,
                z: test.z,
                p_value: test.p_value,
                ci_low: test.low,
                ci_high: test.high,
            };
            if by_delong {
                let shown = settings.ci.is_some();
                cell.delta_ci_low = shown.then_some(delong.ci_low);
                cell.delta_ci_high = shown.then_some(delong.ci_high);
                cell.p_value = delong.p_value;
                cell.test = Some(TestKind::DeLong);
                cell.note = delong
                    .p_value
                    .is_none()
                    .then(|| "DeLong's variance of Δ is 0: both rank the images alike".to_string());
            }
            cell.delong = Some(delong);
        }
        Err(why) if by_delong => cell.fallback = Some(format!("no DeLong test: {why}")),
        Err(_) => {}
    }
}
