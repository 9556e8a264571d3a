//! ablate's one way to draw a chart: SVG text, written here. The report inlines the charts
//! (its stylesheet includes [`CSS`]; a series' class lets the page pick it out on hover), and
//! `plot` writes them as standalone figures ([`Figure`]): an SVG file for papers, and a PNG
//! rasterised from the same SVG (resvg, with the font built into the binary).
//!
//! Why SVG written by hand rather than a plotting library: the report needs charts that its
//! page styles and makes interactive (classes, titles, hover), which a backend's drawing calls
//! cannot carry; a PNG then comes from that same SVG, so a figure looks alike everywhere.
mod axis;
mod bars;
mod colour;
mod figure;
mod line;
mod marker;

pub(crate) use bars::{Bar, BarChart};
pub(crate) use colour::{colour_bar, viridis, viridis_dark};
pub(crate) use figure::{Figure, LegendEntry, Panel};
pub(crate) use line::{LineChart, Series, line_chart, mean_and_band};
pub(crate) use marker::Marker;

/// The charts' stylesheet: ink, grid, line and band styles of `.plot` groups.
pub(crate) const CSS: &str = include_str!("chart.css");

/// `text` with XML's special characters escaped, for text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
