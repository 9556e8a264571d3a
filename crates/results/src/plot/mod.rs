//! `ablate plot`: PNG charts from stored metrics.
//!
//! - `curves.png`: per epoch, the validation macro-F1 and the training loss of each variant's
//!   final training (seeds averaged per epoch), one line per variant: coloured by a factor,
//!   with markers and dashes for the next factors (see `style`), the legend below the charts.
//! - `bars.png`: the comparison table's primary column as horizontal bars, mean ± std over
//!   seeds, coloured by the same factor.
//!
//! Text is drawn with the DejaVu Sans font built into the binary, so plots look the same on
//! machines without fonts.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, anyhow};
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::collect::StageResult;
use super::compare::{Comparison, Row};
use super::curves::{Series, TRAINING_LOSS, VALIDATION_MACRO_F1};
use style::{Look, draw_legend, draw_line, draw_markers, legend_height};

mod style;

pub use style::Styling;

const FONT: &str = "sans-serif";

/// One variant's per-epoch curve: epoch → mean over seeds.
struct Curve {
    validation_f1: Vec<(f64, f64)>,
    training_loss: Vec<(f64, f64)>,
}

/// One of a curve's series, (epoch, value) points.
type PointsOf = fn(&Curve) -> &Vec<(f64, f64)>;

fn curve(results: &[&StageResult]) -> Curve {
    let mean_per_epoch = |series: &Series| -> Vec<(f64, f64)> {
        let mut sums: BTreeMap<u64, (f64, usize)> = BTreeMap::new();
        for (epoch, value) in results.iter().flat_map(|result| series.points(result)) {
            let sum = sums.entry(epoch as u64).or_default();
            *sum = (sum.0 + value, sum.1 + 1);
        }
        sums.into_iter().map(|(epoch, (sum, n))| (epoch as f64, sum / n as f64)).collect()
    };
    Curve {
        validation_f1: mean_per_epoch(&VALIDATION_MACRO_F1),
        training_loss: mean_per_epoch(&TRAINING_LOSS),
    }
}

/// Writes `curves.png` for the comparison's rows from `trainings` (each row's final training
/// results); returns its path.
pub fn curves(
    comparison: &Comparison,
    trainings: &[StageResult],
    styling: &Styling,
    out: &Path,
) -> anyhow::Result<PathBuf> {
    let lines: Vec<(&Row, Curve)> = comparison
        .rows
        .iter()
        .map(|row| {
            let results: Vec<&StageResult> = trainings
                .iter()
                .filter(|t| t.pipeline == row.pipeline && t.levels.without_seed() == row.levels)
                .collect();
            (row, curve(&results))
        })
        .filter(|(_, c)| !c.validation_f1.is_empty() || !c.training_loss.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(anyhow!("no per-epoch training metrics among the chosen variants"));
    }
    let mut legend: Vec<(String, Look)> = Vec::new();
    for (row, _) in &lines {
        let entry = (styling.label(row), styling.look(row));
        if !legend.contains(&entry) {
            legend.push(entry);
        }
    }
    let path = out.join("curves.png");
    let (width, charts_height) = (1400, 560);
    let height = charts_height + legend_height(&legend, width);
    draw_png(&path, (width, height), |root| {
        let (charts, legend_area) = root.split_vertically(charts_height);
        let panels = charts.split_evenly((1, 2));
        let panel_data: [(&str, PointsOf); 2] = [
            ("validation macro-F1", |c| &c.validation_f1),
            ("training loss", |c| &c.training_loss),
        ];
        for (panel, (title, points_of)) in panels.iter().zip(panel_data) {
            let all: Vec<(f64, f64)> =
                lines.iter().flat_map(|(_, c)| points_of(c).iter().copied()).collect();
            let max_epoch = all.iter().map(|p| p.0).fold(1.0, f64::max);
            let (low, high) = all
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| (l.min(p.1), h.max(p.1)));
            let (low, high) = if low.is_finite() { padded(low, high) } else { (0.0, 1.0) };
            let mut chart = ChartBuilder::on(panel)
                .caption(title, (FONT, 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(1.0..max_epoch.max(2.0), low..high)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .x_labels((max_epoch as usize).clamp(2, 13))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .x_desc("epoch")
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .draw()?;
            let area = chart.plotting_area();
            for (row, curve) in lines.iter().filter(|(_, c)| !points_of(c).is_empty()) {
                let points = points_of(curve);
                let look = styling.look(row);
                draw_line(area, points, look)?;
                // About a dozen markers per line, however many epochs.
                draw_markers(
                    area,
                    points.iter().copied().step_by(points.len().div_ceil(12)),
                    look,
                )?;
            }
        }
        draw_legend(&legend_area, &legend)
    })?;
    Ok(path)
}

/// Writes `bars.png`: the primary column of the comparison; returns its path.
pub fn bars(comparison: &Comparison, styling: &Styling, out: &Path) -> anyhow::Result<PathBuf> {
    let column =
        comparison.primary.ok_or_else(|| anyhow!("the comparison has no metric to plot"))?;
    let bars: Vec<(String, &Row, f64, f64)> = comparison
        .rows
        .iter()
        .filter_map(|row| {
            let stat = row.cells[column].as_ref()?;
            let name = if comparison.pipelines.len() > 1 {
                format!("{} {}", row.pipeline, row.name())
            } else {
                row.name()
            };
            Some((
                if name.is_empty() { row.pipeline.clone() } else { name },
                row,
                stat.mean,
                stat.std.unwrap_or(0.0),
            ))
        })
        .collect();
    if bars.is_empty() {
        return Err(anyhow!("no variant has a value of {}", comparison.columns[column].name));
    }
    let path = out.join("bars.png");
    let n = bars.len() as i32;
    let label_width = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(10) as u32 * 8 + 20;
    let height = 110 + 26 * bars.len() as u32;
    let high = bars.iter().map(|b| b.2 + b.3).fold(0.0, f64::max).max(1e-9) * 1.08;
    let title = format!("{} (mean ± std over seeds)", comparison.columns[column].name);
    draw_png(&path, (label_width + 700, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..high, (0..n - 1).into_segmented())?;
        let names: Vec<&str> = bars.iter().map(|b| b.0.as_str()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .y_labels(bars.len())
            .y_label_formatter(&|y| match y {
                // The first row at the top.
                SegmentValue::CenterOf(i) => {
                    names.get((n - 1 - i) as usize).map_or(String::new(), |s| s.to_string())
                }
                _ => String::new(),
            })
            .label_style((FONT, 14))
            .draw()?;
        for (i, (_, row, mean, std)) in bars.iter().enumerate() {
            let i = n - 1 - i as i32;
            let colour = styling.look(row).colour;
            let mut bar = Rectangle::new(
                [(0.0, SegmentValue::Exact(i)), (*mean, SegmentValue::Exact(i + 1))],
                colour.mix(0.8).filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            chart.draw_series([bar])?;
            if *std > 0.0 {
                chart.draw_series([PathElement::new(
                    [
                        (mean - std, SegmentValue::CenterOf(i)),
                        (mean + std, SegmentValue::CenterOf(i)),
                    ],
                    BLACK.stroke_width(2),
                )])?;
            }
        }
        Ok(())
    })?;
    Ok(path)
}

/// A range around `[low, high]` with some room, never empty.
fn padded(low: f64, high: f64) -> (f64, f64) {
    let pad = ((high - low) * 0.06).max(1e-3);
    (low - pad, high + pad)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws into an RGB buffer and writes it as a PNG.
fn draw_png(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> DrawResult,
) -> anyhow::Result<()> {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the built-in font is valid"));
    });
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
        draw(&root).map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
        root.present().map_err(|e| anyhow!("cannot draw {}: {e}", path.display()))?;
    }
    image::RgbImage::from_raw(width, height, buffer)
        .expect("the buffer has the image's size")
        .save(path)
        .with_context(|| format!("cannot write {}", path.display()))
}
