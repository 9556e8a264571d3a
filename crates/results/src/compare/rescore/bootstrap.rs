//! The bootstrap's replicates of the planned cells, and the statistics read off them: each
//! replicate draws the images of every split and the seed multipliers of every list once
//! (`stats::bootstrap`), re-scores every result the plans use on the drawn images, and gives
//! each cell the mean of its units' values on the drawn images plus its seeds' part.
use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{Plan, Rescore, Rescored, UnitKey, rescore};
use crate::compare::predictions::{Loaded, Scored};
use crate::significance::{Cell, Interval, Settings, Spread, TStatistics, TestKind};
use crate::stats::bootstrap::{Design, p_value, percentile_interval, seed_scale};

/// Per plan, its value in each replicate (NaN where undefined): the mean of its units' values
/// on the drawn images plus its seeds' part (see `stats::bootstrap`), kept inside the metric's
/// range [0, 1].
pub(super) fn replicate(plans: &[Plan], loaded: &Loaded, settings: &Settings) -> Vec<Vec<f64>> {
    let lists: BTreeMap<&UnitKey, usize> = plans.iter().map(|p| (&p.key, p.units.len())).collect();
    let list_of: HashMap<&UnitKey, usize> =
        lists.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let design =
        Design { images: loaded.image_sets.clone(), units: lists.values().copied().collect() };
    let results = Results::of(plans, loaded);
    let ones: Vec<Vec<u32>> = loaded.image_sets.iter().map(|&n| vec![1; n]).collect();
    let measured = results.rescore(|scored| &ones[scored.images]);
    let cells: Vec<Measured> = plans
        .iter()
        .map(|plan| Measured::of(plan, list_of[&plan.key], &results, &measured))
        .collect();
    let draws: Vec<Replicate> = (0..u64::from(settings.bootstrap.replicates))
        .into_par_iter()
        .map(|b| {
            let draw = design.draw(settings.bootstrap.seed, b);
            let drawn_images = results.rescore(|scored| &draw.weights[scored.images]);
            let on_images = cells.iter().map(|cell| cell.on_images(&drawn_images)).collect();
            Replicate { multipliers: draw.multipliers, on_images }
        })
        .collect();
    cells
        .iter()
        .enumerate()
        .map(|(c, cell)| {
            let scale = seed_scale(&cell.values, draws.iter().map(|d| &d.on_images[c][..]));
            draws
                .iter()
                .map(|d| cell.replicate(&d.multipliers[cell.list], scale, &d.on_images[c]))
                .collect()
        })
        .collect()
}

/// What one replicate drew, and each cell's units' values on its drawn images.
struct Replicate {
    multipliers: Vec<Vec<f64>>,
    on_images: Vec<Vec<f64>>,
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
}

/// One planned cell, what each replicate reads of it set out once.
struct Measured {
    metric: Rescored,
    /// Its unit list.
    list: usize,
    /// Per unit: its result's position among the re-scored results, and the column's label.
    units: Vec<(usize, Option<usize>)>,
    /// Per unit, its value on the split's images.
    values: Vec<f64>,
    /// Their mean.
    mean: f64,
}

impl Measured {
    fn of(plan: &Plan, list: usize, results: &Results, measured: &[Rescore]) -> Measured {
        let units: Vec<(usize, Option<usize>)> =
            plan.units.iter().map(|u| (results.dense[&u.result], u.label)).collect();
        let values: Vec<f64> =
            units.iter().map(|&(r, label)| plan.metric.value(&measured[r], label)).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        Measured { metric: plan.metric, list, units, values, mean }
    }

    /// Each unit's value on the images drawn, re-scored as `scores`.
    fn on_images(&self, scores: &[Rescore]) -> Vec<f64> {
        self.units.iter().map(|&(r, label)| self.metric.value(&scores[r], label)).collect()
    }

    /// Its value in a replicate whose seed multipliers are `multipliers` and whose units scored
    /// `on_images` on its drawn images, the seeds' deviations scaled by `scale`.
    fn replicate(&self, multipliers: &[f64], scale: f64, on_images: &[f64]) -> f64 {
        let seeds = scale
            * multipliers.iter().zip(&self.values).map(|(w, x)| w * (x - self.mean)).sum::<f64>();
        let images = on_images.iter().sum::<f64>() / on_images.len() as f64;
        (seeds + images).clamp(0.0, 1.0)
    }
}

/// A cell's bootstrap statistics from its replicates (`values`) and, where its baseline row was
/// re-scored too, Δ's from the difference with the baseline's (`baseline`: `None` in the
/// baseline's own row and without a baseline, `Some(None)` where the baseline kept its t).
pub(super) fn fill(
    cell: &mut Cell,
    values: &[f64],
    baseline: Option<Option<&[f64]>>,
    settings: &Settings,
) {
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
        Some(None) if cell.delta.is_none() => {}
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
