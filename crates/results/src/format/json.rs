//! The comparison as JSON: every statistic of every column.
use serde_json::{Map, Value, json};

use super::source_of;
use crate::compare::Comparison;

pub(super) fn json(comparison: &Comparison) -> Value {
    let rows: Vec<Value> = comparison
        .rows
        .iter()
        .map(|row| {
            let levels: Map<String, Value> =
                row.levels.iter().map(|(f, l)| (f.clone(), Value::from(l.as_str()))).collect();
            let metrics: Map<String, Value> = comparison
                .columns
                .iter()
                .zip(&row.cells)
                .filter_map(|(column, cell)| {
                    Some((column.name.clone(), serde_json::to_value(cell.as_ref()?).ok()?))
                })
                .collect();
            let source = source_of(comparison, row).map(|s| {
                json!({"file": s.file, "version": s.digest, "run": s.run, "overrides": s.overrides})
            });
            json!({
                "pipeline": row.pipeline,
                "variant": row.name(),
                "levels": levels,
                "seeds": row.seeds,
                "n": row.n,
                "metrics": metrics,
                "source": source,
                "stale": row.stale,
            })
        })
        .collect();
    json!(rows)
}
