//! `ablate plot`: figures of stored metrics, each written as SVG (for papers) and PNG, drawn by
//! the report's chart engine (`crate::chart`).
//!
//! - `curves`: per epoch, the validation macro-F1 and the training loss of each variant's
//!   final training, as the report draws them (the mean over seeds as a line, their range
//!   shaded), one line per variant: coloured by a factor, with markers and dashes for the next
//!   factors (see `style`), the legend below the charts.
//! - `bars`: the comparison table's primary column as horizontal bars, mean ± std over seeds,
//!   coloured by the same factor.
use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::chart::{self, Bar, BarChart, Figure, LegendEntry, LineChart, Panel, Series};
use super::collect::StageResult;
use super::compare::Comparison;
use super::gather::curve_sets;

mod style;

pub use style::Styling;

/// Chart units of each learning-curve chart, its title not included.
const CURVES_CHART: (f64, f64) = (700.0, 524.0);

/// Writes `curves.svg` and `curves.png` for the comparison's rows from `trainings` (each row's
/// final training results); returns their paths.
pub fn curves(
    comparison: &Comparison,
    trainings: &[StageResult],
    styling: &Styling,
    out: &Path,
) -> anyhow::Result<[PathBuf; 2]> {
    let sets = curve_sets(comparison, trainings);
    if sets.iter().all(|set| set.variants.is_empty()) {
        return Err(anyhow!("no per-epoch training metrics among the chosen variants"));
    }
    let row_of = |name: &str| {
        comparison.rows.iter().find(|row| comparison.row_name(row) == name).expect("a row's name")
    };
    let mut figure = Figure::default();
    for set in &sets {
        let series = set
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let look = styling.look(row_of(&v.variant));
                let (line, band) =
                    chart::mean_and_band(v.seeds.iter().map(|s| s.points.as_slice()));
                Series {
                    class: format!("s-{i}"),
                    name: &v.variant,
                    colour: look.colour,
                    dash: look.dash,
                    marker: look.marker,
                    line,
                    band,
                }
            })
            .collect();
        let chart = LineChart {
            x_label: &set.x_label,
            y_label: &set.y_label,
            width: CURVES_CHART.0,
            height: CURVES_CHART.1,
            series,
        };
        figure.panels.push((set.title.clone(), Panel::Line(chart)));
    }
    for row in &comparison.rows {
        let (label, look) = (styling.label(row), styling.look(row));
        let drawn =
            sets.iter().flat_map(|s| &s.variants).any(|v| v.variant == comparison.row_name(row));
        let known = figure.legend.iter().any(|e| e.label == label);
        if drawn && !known {
            figure.legend.push(LegendEntry {
                label,
                colour: look.colour,
                dash: look.dash,
                marker: look.marker,
            });
        }
    }
    figure.write(out, "curves")
}

/// Writes `bars.svg` and `bars.png`: the primary column of the comparison; returns their paths.
pub fn bars(
    comparison: &Comparison,
    styling: &Styling,
    out: &Path,
) -> anyhow::Result<[PathBuf; 2]> {
    let column =
        comparison.primary.ok_or_else(|| anyhow!("the comparison has no metric to plot"))?;
    let bars: Vec<Bar> = comparison
        .rows
        .iter()
        .filter_map(|row| {
            let stat = row.cells[column].as_ref()?;
            let name = if comparison.pipelines.len() > 1 {
                format!("{} {}", row.pipeline, row.name())
            } else {
                row.name()
            };
            Some(Bar {
                label: if name.is_empty() { row.pipeline.clone() } else { name },
                colour: styling.look(row).colour,
                value: stat.mean,
                error: stat.std.unwrap_or(0.0),
            })
        })
        .collect();
    if bars.is_empty() {
        return Err(anyhow!("no variant has a value of {}", comparison.columns[column].name));
    }
    let name = &comparison.columns[column].name;
    let chart = BarChart { x_label: name, bars_width: 700.0, bars };
    let figure = Figure {
        panels: vec![(format!("{name} (mean ± std over seeds)"), Panel::Bars(chart))],
        legend: Vec::new(),
    };
    figure.write(out, "bars")
}
