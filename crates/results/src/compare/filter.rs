//! `--where` and `--sort`: which rows a comparison keeps (`factor=level[,level]`,
//! `factor!=level`, `column>number` …; `seed=…` keeps seeds before pooling) and in what order.
use ablate_core::grid::{Levels, SEED};
use ablate_core::invalid;
use anyhow::Context;

use super::{Column, Row};

/// Whether the `--where seed=…` filters keep a variant with these levels.
pub(super) fn keeps_seed(seed_filters: &[&Filter], levels: &Levels) -> bool {
    let seed = levels.seed();
    seed_filters.iter().all(|f| f.keeps_level(seed))
}

/// `--baseline` names factors that exist, and levels of theirs.
pub(super) fn check_baseline(
    levels: &Levels,
    factor_levels: &[(String, Vec<String>)],
) -> anyhow::Result<()> {
    for (factor, level) in levels {
        let Some((_, known)) = factor_levels.iter().find(|(f, _)| f == factor) else {
            let factors: Vec<&str> =
                factor_levels.iter().map(|(f, _)| f.as_str()).filter(|f| *f != SEED).collect();
            invalid!("--baseline: no factor `{factor}` (factors: {})", factors.join(", "));
        };
        if !known.contains(level) {
            invalid!(
                "--baseline: factor `{factor}` has no level `{level}` (levels: {})",
                known.join(", ")
            );
        }
    }
    Ok(())
}

pub(super) fn sort_rows(
    rows: &mut [Row],
    sort: &str,
    column: Option<usize>,
    factor_levels: &[(String, Vec<String>)],
    columns: &[Column],
) -> anyhow::Result<()> {
    if let Some(c) = column {
        let mean = |row: &Row| row.cells[c].as_ref().map_or(f64::NEG_INFINITY, |s| s.mean);
        rows.sort_by(|a, b| mean(b).total_cmp(&mean(a)));
        return Ok(());
    }
    if sort == "pipeline" {
        rows.sort_by(|a, b| a.pipeline.cmp(&b.pipeline));
        return Ok(());
    }
    let Some((_, order)) = factor_levels.iter().find(|(f, _)| f == sort) else {
        let factors: Vec<&str> = factor_levels.iter().map(|(f, _)| f.as_str()).collect();
        let columns: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        invalid!(
            "--sort {sort}: no such column or factor (factors: pipeline, {}; columns: {})",
            factors.join(", "),
            columns.join(", ")
        );
    };
    let rank = |row: &Row| {
        row.level(sort).and_then(|l| order.iter().position(|o| o == l)).unwrap_or(usize::MAX)
    };
    rows.sort_by_key(rank);
    Ok(())
}

/// `factor=level[,level]`, `factor!=level`, or `column OP number` with OP one of
/// `> >= < <= = !=` (on the mean). `seed` and `pipeline` count as factors.
pub(super) enum Filter {
    Levels { factor: String, levels: Vec<String>, keep: bool },
    Value { column: usize, op: &'static str, value: f64 },
}

pub(super) const OPERATORS: &[&str] = &[">=", "<=", "!=", "=", ">", "<"];

impl Filter {
    pub(super) fn parse(
        text: &str,
        factor_levels: &[(String, Vec<String>)],
        pipelines: &[String],
        columns: &[Column],
    ) -> anyhow::Result<Filter> {
        let Some((at, op)) = OPERATORS
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op)))
            .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())))
        else {
            invalid!("--where {text}: expected `factor=level`, `factor!=level` or `column>number`")
        };
        let (name, value) = (text[..at].trim(), text[at + op.len()..].trim());
        let known = if name == "pipeline" {
            Some(pipelines)
        } else {
            factor_levels.iter().find(|(f, _)| f == name).map(|(_, levels)| levels.as_slice())
        };
        if let Some(known) = known {
            if !matches!(op, "=" | "!=") {
                invalid!("--where {text}: a factor is compared with = or !=");
            }
            let levels: Vec<String> = value.split(',').map(|l| l.trim().to_string()).collect();
            if let Some(unknown) = levels.iter().find(|l| !known.contains(l)) {
                invalid!(
                    "--where {text}: `{name}` has no level `{unknown}` (levels: {})",
                    known.join(", ")
                );
            }
            return Ok(Filter::Levels { factor: name.to_string(), levels, keep: op == "=" });
        }
        let Some(column) = columns.iter().position(|c| c.name == name) else {
            let factors: Vec<&str> = factor_levels.iter().map(|(f, _)| f.as_str()).collect();
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            invalid!(
                "--where {text}: `{name}` is neither a factor ({}) nor a column ({})",
                factors.join(", "),
                names.join(", ")
            );
        };
        let value =
            value.parse().with_context(|| format!("--where {text}: `{value}` is not a number"));
        let value = match value {
            Ok(value) => value,
            Err(error) => invalid!("{error:#}"),
        };
        Ok(Filter::Value { column, op, value })
    }

    pub(super) fn is_on(&self, name: &str) -> bool {
        matches!(self, Filter::Levels { factor, .. } if factor == name)
    }

    pub(super) fn is_on_value(&self) -> bool {
        matches!(self, Filter::Value { .. })
    }

    /// Whether a level filter keeps `level` (a row without the factor has none).
    pub(super) fn keeps_level(&self, level: Option<&str>) -> bool {
        match self {
            Filter::Levels { levels, keep, .. } => {
                level.is_some_and(|l| levels.iter().any(|x| x == l)) == *keep
            }
            Filter::Value { .. } => true,
        }
    }

    pub(super) fn keeps(&self, row: &Row) -> bool {
        match self {
            Filter::Levels { factor, .. } => self.keeps_level(if factor == "pipeline" {
                Some(row.pipeline.as_str())
            } else {
                row.level(factor)
            }),
            Filter::Value { column, op, value } => {
                row.cells[*column].as_ref().is_some_and(|s| match *op {
                    ">" => s.mean > *value,
                    ">=" => s.mean >= *value,
                    "<" => s.mean < *value,
                    "<=" => s.mean <= *value,
                    "=" => s.mean == *value,
                    _ => s.mean != *value,
                })
            }
        }
    }
}
