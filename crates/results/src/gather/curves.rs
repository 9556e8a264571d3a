//! Learning curves per variant and seed, from the per-epoch rows of each variant's final
//! training (the stage `plot` draws), as `curves` extracts them: validation macro-F1 and
//! training loss.
use std::collections::BTreeMap;

use super::variants::Variants;
use crate::collect::StageResult;
use crate::curves::{SERIES, Series};
use crate::report::{CurveSet, SeedCurve, VariantCurves};

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
        entry.0.extend(result.levels.seed());
    }
    by_instance
        .into_values()
        .filter_map(|(seeds, result)| {
            let points = series.points(result);
            (!points.is_empty()).then(|| SeedCurve { seed: seeds.join(", "), points })
        })
        .collect()
}
