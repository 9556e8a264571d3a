//! The report's comparison table and per-class heat maps, from `ablate compare`'s comparison:
//! the same rows, cells and statistics, the rows named as `variants` names them.
use super::variants::Variants;
use crate::results::compare::Comparison;
use crate::results::report;

pub(super) fn comparison(c: &Comparison, variants: &Variants) -> report::Comparison {
    let columns = c
        .columns
        .iter()
        .map(|column| report::Column {
            name: column.name.clone(),
            split: column.split.clone(),
            metric: column.metric.clone(),
            class: column.class.clone(),
            higher_is_better: !column.metric.contains("loss"),
        })
        .collect();
    let rows = c
        .rows
        .iter()
        .map(|row| report::Row {
            variant: variants.of_row(row).to_string(),
            pipeline: row.pipeline.clone(),
            levels: row.levels.clone(),
            seeds: row.seeds.clone(),
            n: row.n,
            cells: row.cells.clone(),
        })
        .collect();
    let baseline = c.baseline.as_ref().and_then(|b| {
        let row = c.rows.iter().find(|row| b.is(row))?;
        Some(variants.of_row(row).to_string())
    });
    report::Comparison {
        factors: c.factors.clone(),
        columns,
        rows,
        primary: c.primary,
        baseline,
        alpha: c.settings.alpha,
        ci_level: c.settings.ci.unwrap_or(0.95),
        adjustment: c.settings.adjustment.name().to_string(),
    }
}

/// One heat map per split with per-class `f1` columns: variants × labels.
pub(super) fn heat_maps(c: &Comparison, variants: &Variants) -> Vec<report::HeatMap> {
    let per_class: Vec<usize> = (0..c.columns.len())
        .filter(|&i| c.columns[i].metric == "f1" && c.columns[i].class.is_some())
        .collect();
    let mut splits: Vec<Option<&str>> = Vec::new();
    for &i in &per_class {
        let split = c.columns[i].split.as_deref();
        if !splits.contains(&split) {
            splits.push(split);
        }
    }
    splits
        .into_iter()
        .map(|split| {
            let columns: Vec<usize> = per_class
                .iter()
                .copied()
                .filter(|&i| c.columns[i].split.as_deref() == split)
                .collect();
            let rows = c
                .rows
                .iter()
                .map(|row| {
                    let cells = columns.iter().map(|&i| row.cells[i].as_ref());
                    report::HeatRow {
                        variant: variants.of_row(row).to_string(),
                        means: cells.clone().map(|cell| cell.map(|c| c.mean)).collect(),
                        stds: cells.map(|cell| cell.and_then(|c| c.std)).collect(),
                    }
                })
                .collect();
            report::HeatMap {
                title: format!("{}: F1 per label (mean over seeds)", split.unwrap_or("all")),
                labels: columns.iter().filter_map(|&i| c.columns[i].class.clone()).collect(),
                rows,
                domain: None,
            }
        })
        .collect()
}
