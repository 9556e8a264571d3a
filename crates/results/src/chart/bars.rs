//! A horizontal bar chart: one bar per row, top to bottom, with a whisker for its spread.
use std::fmt::Write;

use super::axis::{decimals, tick_label, ticks};
use super::escape;

pub(crate) struct Bar<'a> {
    pub(crate) label: String,
    pub(crate) colour: &'a str,
    pub(crate) value: f64,
    /// Half the whisker's length (e.g. the standard deviation); 0 for none.
    pub(crate) error: f64,
}

pub(crate) struct BarChart<'a> {
    pub(crate) x_label: &'a str,
    /// Units of the bars' area; the labels' column comes on top.
    pub(crate) bars_width: f64,
    pub(crate) bars: Vec<Bar<'a>>,
}

const ROW: f64 = 26.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 48.0;
const RIGHT: f64 = 24.0;
/// Chart units per character of a 12-unit label, generously.
const CHAR: f64 = 7.5;

impl BarChart<'_> {
    pub(crate) fn width(&self) -> f64 {
        self.left() + self.bars_width + RIGHT
    }

    pub(crate) fn height(&self) -> f64 {
        TOP + ROW * self.bars.len() as f64 + BOTTOM
    }

    fn left(&self) -> f64 {
        let longest = self.bars.iter().map(|b| b.label.chars().count()).max().unwrap_or(0);
        16.0 + longest as f64 * CHAR
    }
}

/// The chart's elements, in chart units from its top left corner.
pub(super) fn body(chart: &BarChart) -> String {
    let ends = chart.bars.iter().flat_map(|b| [b.value - b.error, b.value + b.error]);
    let (lo, hi) = ends.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let x_ticks = ticks(lo, if hi > lo { hi } else { lo + 1.0 }, 6, false);
    let (x0, x1) = (x_ticks[0], x_ticks[x_ticks.len() - 1]);
    let left = chart.left();
    let width = chart.bars_width;
    let bottom = TOP + ROW * chart.bars.len() as f64;
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * width;

    let mut out = String::from("<g class=\"axis\">\n");
    let d = decimals(&x_ticks);
    for &t in &x_ticks {
        let x = sx(t);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{bottom:.1}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            bottom + 19.0,
            tick_label(t, d)
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"frame\" x1=\"{left:.1}\" x2=\"{:.1}\" y1=\"{bottom:.1}\" y2=\"{bottom:.1}\"/>\
         <line class=\"frame\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{TOP}\" y2=\"{bottom:.1}\"/>\
         <text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
        left + width,
        sx(0.0),
        sx(0.0),
        left + width / 2.0,
        bottom + 40.0,
        escape(chart.x_label)
    );
    out.push_str("</g>\n");
    for (i, bar) in chart.bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let centre = y + ROW / 2.0;
        let (from, to) = (sx(bar.value.min(0.0)), sx(bar.value.max(0.0)));
        let _ = write!(
            out,
            "<g class=\"series s-{i}\"><title>{}</title>\
             <text x=\"{:.1}\" y=\"{centre:.1}\" text-anchor=\"end\" dy=\"0.32em\">{}</text>\
             <rect x=\"{from:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\" \
             fill-opacity=\"0.85\"/>",
            escape(&bar.label),
            left - 8.0,
            escape(&bar.label),
            y + 4.0,
            to - from,
            ROW - 8.0,
            bar.colour
        );
        if bar.error > 0.0 {
            let (a, b) = (sx(bar.value - bar.error), sx(bar.value + bar.error));
            let _ = write!(
                out,
                "<path class=\"whisker\" d=\"M{a:.1},{centre:.1}L{b:.1},{centre:.1}\
                 M{a:.1},{:.1}L{a:.1},{:.1}M{b:.1},{:.1}L{b:.1},{:.1}\"/>",
                centre - 5.0,
                centre + 5.0,
                centre - 5.0,
                centre + 5.0
            );
        }
        out.push_str("</g>\n");
    }
    out
}
