//! The report's per-class heat maps, from `ablate compare`'s comparison: the same rows and
//! cells, named as `variants` names them.
use ablate_stages::metric;

use super::variants::Variants;
use crate::compare::Comparison;
use crate::report;

/// One heat map per evaluated split with per-class `f1` columns: variants × labels. Two stages
/// that measure splits of the same name (an evaluation of the same test split on two datasets)
/// get a map each, titled with the stage as `compare` names their columns.
pub(super) fn heat_maps(c: &Comparison, variants: &Variants) -> Vec<report::HeatMap> {
    let per_class: Vec<usize> = (0..c.columns.len())
        .filter(|&i| c.columns[i].metric == metric::F1 && c.columns[i].class.is_some())
        .collect();
    let group = |i: usize| (c.columns[i].template.as_str(), c.columns[i].split.as_deref());
    let mut groups: Vec<(&str, Option<&str>)> = Vec::new();
    for &i in &per_class {
        if !groups.contains(&group(i)) {
            groups.push(group(i));
        }
    }
    groups
        .iter()
        .map(|&(template, split)| {
            let columns: Vec<usize> =
                per_class.iter().copied().filter(|&i| group(i) == (template, split)).collect();
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
            let measured = groups.iter().map(|&(t, s)| (t, s.unwrap_or("all")));
            let heading = super::split_heading(template, split.unwrap_or("all"), measured);
            report::HeatMap {
                title: format!("{heading}: F1 per label (mean over seeds)"),
                labels: columns.iter().filter_map(|&i| c.columns[i].class.clone()).collect(),
                rows,
                domain: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Column, Row};
    use crate::significance::Cell;

    fn f1(template: &str, split: &str, class: &str, prefixed: bool) -> Column {
        let name = format!("{split}.f1[{class}]");
        Column {
            template: template.into(),
            split: Some(split.into()),
            metric: "f1".into(),
            class: Some(class.into()),
            name: if prefixed { format!("{template}:{name}") } else { name },
        }
    }

    fn comparison(columns: Vec<Column>) -> Comparison {
        let cells = (0..columns.len())
            .map(|i| Some(Cell { mean: i as f64 / 10.0, n: 1, ..Cell::default() }))
            .collect();
        let row = Row {
            pipeline: "p".into(),
            levels: vec![("lever".into(), "base".into())].into(),
            seeds: vec!["0".into()],
            n: 1,
            cells,
            stale: false,
        };
        crate::compare::of_rows(&["lever"], columns, vec![row])
    }

    #[test]
    fn same_named_splits_of_two_stages_are_two_maps_named_by_stage() {
        let c = comparison(vec![
            f1("offsite", "offsite_test", "D", true),
            f1("offsite", "offsite_test", "G", true),
            f1("natural", "offsite_test", "D", true),
            f1("natural", "offsite_test", "G", true),
            f1("offsite", "val", "D", false),
        ]);
        let maps = heat_maps(&c, &Variants::new(&c));
        let titles: Vec<&str> = maps.iter().map(|m| m.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "offsite:offsite_test: F1 per label (mean over seeds)",
                "natural:offsite_test: F1 per label (mean over seeds)",
                "val: F1 per label (mean over seeds)",
            ]
        );
        assert_eq!(maps[1].labels, ["D", "G"]);
        assert_eq!(maps[1].rows[0].means, [Some(0.2), Some(0.3)], "the natural stage's cells");
    }
}
