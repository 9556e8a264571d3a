//! Which row of the comparison a stored result belongs to, by the name every section of the
//! report gives the row (`Comparison::row_name`): its variant is the row's and its seed one the
//! row pools (`--where seed=…` keeps some).
use ablate_core::grid::Levels;

use crate::compare::{Comparison, Row};

/// A row of the comparison, named.
struct Variant {
    pipeline: String,
    /// Without `seed`.
    levels: Levels,
    name: String,
    seeds: Vec<String>,
}

pub(super) struct Variants {
    /// In the table's row order.
    rows: Vec<Variant>,
}

impl Variants {
    pub(super) fn new(comparison: &Comparison) -> Variants {
        let rows = comparison
            .rows
            .iter()
            .map(|row| Variant {
                pipeline: row.pipeline.clone(),
                levels: row.levels.without_seed(),
                name: comparison.row_name(row),
                seeds: row.seeds.clone(),
            })
            .collect();
        Variants { rows }
    }

    /// The name of the row that pools the variant (and seed) with these levels in `pipeline`.
    pub(super) fn name(&self, pipeline: &str, levels: &Levels) -> Option<&str> {
        let seed = levels.seed();
        let levels = levels.without_seed();
        let row = self.rows.iter().find(|v| v.pipeline == pipeline && v.levels == levels)?;
        let pooled = seed.is_none_or(|seed| row.seeds.iter().any(|s| s == seed));
        pooled.then_some(row.name.as_str())
    }

    pub(super) fn of_row(&self, row: &Row) -> &str {
        self.name(&row.pipeline, &row.levels).expect("every row is named")
    }

    /// Pipeline and name of each variant, in the table's row order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rows.iter().map(|v| (v.pipeline.as_str(), v.name.as_str()))
    }
}
