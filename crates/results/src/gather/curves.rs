//! Learning curves per variant and seed, from the per-epoch rows of each variant's final
//! training (the stage `plot` draws): validation macro-F1 and training loss.
use std::collections::BTreeMap;

use super::variants::Variants;
use crate::collect::StageResult;
use crate::report::{CurveSet, SeedCurve, VariantCurves};

/// A per-epoch series of a training's metrics.
struct Series {
    title: &'static str,
    y_label: &'static str,
    metric: &'static str,
    /// Whether it is measured on the training split (the loss) or another (validation).
    on_training: bool,
}

const SERIES: [Series; 2] = [
    Series {
        title: "Validation macro-F1",
        y_label: "macro-F1 (0–1)",
        metric: "macro_f1",
        on_training: false,
    },
    Series {
        title: "Training loss",
        y_label: "loss per sample",
        metric: "loss",
        on_training: true,
    },
];

pub(super) fn curves(trainings: &[StageResult], variants: &Variants) -> Vec<CurveSet> {
    SERIES
        .iter()
        .map(|series| CurveSet {
            title: series.title.to_string(),
            y_label: series.y_label.to_string(),
            x_label: "epoch".to_string(),
            variants: variants
                .iter()
                .filter_map(|(_, name)| {
                    let seeds = seed_curves(trainings, variants, name, series);
                    (!seeds.is_empty()).then(|| VariantCurves { variant: name.to_string(), seeds })
                })
                .collect(),
        })
        .collect()
}

/// One curve per distinct training of the variant, named by its seeds.
fn seed_curves(
    trainings: &[StageResult],
    variants: &Variants,
    name: &str,
    series: &Series,
) -> Vec<SeedCurve> {
    let mut by_instance: BTreeMap<&str, (Vec<&str>, &StageResult)> = BTreeMap::new();
    let of_variant = |t: &&StageResult| variants.name(&t.pipeline, &t.levels) == Some(name);
    for result in trainings.iter().filter(of_variant) {
        let entry = by_instance.entry(&result.instance).or_insert((Vec::new(), result));
        entry.0.extend(result.seed());
    }
    by_instance
        .into_values()
        .filter_map(|(seeds, result)| {
            let mut points: Vec<(f64, f64)> = result
                .metrics
                .iter()
                .filter(|m| m.metric == series.metric && m.class.is_none())
                .filter(|m| (m.split.as_deref() == Some("train")) == series.on_training)
                .filter_map(|m| Some((f64::from(m.epoch?), m.value)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (!points.is_empty()).then(|| SeedCurve { seed: seeds.join(", "), points })
        })
        .collect()
}
