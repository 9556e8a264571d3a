//! A standalone figure: charts side by side, each under its title, and a legend below them,
//! as one SVG document that carries the chart stylesheet and names its font, and the same
//! document rasterised to PNG by resvg with DejaVu Sans, built into the binary, so that a PNG
//! looks the same on every machine.
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, anyhow};
use resvg::{tiny_skia, usvg};

use super::bars::{self, BarChart};
use super::line::{self, LineChart};
use super::marker::Marker;
use super::{CSS, escape};

/// One chart of a figure.
pub(crate) enum Panel<'a> {
    Line(LineChart<'a>),
    Bars(BarChart<'a>),
}

impl Panel<'_> {
    fn size(&self) -> (f64, f64) {
        match self {
            Panel::Line(chart) => (chart.width, chart.height),
            Panel::Bars(chart) => (chart.width(), chart.height()),
        }
    }

    fn body(&self) -> String {
        match self {
            Panel::Line(chart) => line::body(chart),
            Panel::Bars(chart) => bars::body(chart),
        }
    }
}

/// What one look of the figure's lines stands for.
pub(crate) struct LegendEntry<'a> {
    pub(crate) label: String,
    pub(crate) colour: &'a str,
    pub(crate) dash: &'a str,
    pub(crate) marker: Option<Marker>,
}

#[derive(Default)]
pub(crate) struct Figure<'a> {
    /// Each with its title, left to right.
    pub(crate) panels: Vec<(String, Panel<'a>)>,
    pub(crate) legend: Vec<LegendEntry<'a>>,
}

const TITLE: f64 = 36.0;
const LEGEND_ROW: f64 = 26.0;
/// Units per character of the legend's 14-unit text, generously.
const LEGEND_CHAR: f64 = 8.0;
const SAMPLE: f64 = 40.0;

impl Figure<'_> {
    fn charts_size(&self) -> (f64, f64) {
        let sizes = self.panels.iter().map(|(_, p)| p.size());
        sizes.fold((0.0, 0.0), |(w, h), (pw, ph)| (w + pw, f64::max(h, TITLE + ph)))
    }

    /// The legend's columns, column width and height in a figure `width` units wide.
    fn legend_grid(&self, width: f64) -> (usize, f64, f64) {
        if self.legend.is_empty() {
            return (1, 0.0, 0.0);
        }
        let longest = self.legend.iter().map(|e| e.label.chars().count()).max().unwrap_or(0);
        let column = SAMPLE + 16.0 + longest as f64 * LEGEND_CHAR + 24.0;
        let columns = (((width - 40.0) / column).floor() as usize).max(1);
        let rows = self.legend.len().div_ceil(columns);
        (columns, column, 20.0 + rows as f64 * LEGEND_ROW)
    }

    /// The whole figure as an SVG document.
    pub(crate) fn svg(&self) -> String {
        let (width, charts_height) = self.charts_size();
        let (columns, column, legend_height) = self.legend_grid(width);
        let height = charts_height + legend_height;
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
             viewBox=\"0 0 {width} {height}\">\n<style>\nsvg {{ font-family: \"DejaVu Sans\", \
             sans-serif; }}\n.title {{ font-size: 18px; fill: #1f2933; }}\n\
             .legend text {{ font-size: 14px; fill: #1f2933; }}\n\
             .legend .line {{ fill: none; stroke-width: 2; }}\n{CSS}</style>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
        );
        let mut x = 0.0;
        for (title, panel) in &self.panels {
            let (w, _) = panel.size();
            let _ = write!(
                out,
                "<text class=\"title\" x=\"{:.1}\" y=\"26\" text-anchor=\"middle\">{}</text>\n\
                 <g class=\"plot\" transform=\"translate({x:.1} {TITLE})\">\n{}</g>\n",
                x + w / 2.0,
                escape(title),
                panel.body()
            );
            x += w;
        }
        out.push_str("<g class=\"legend\">\n");
        for (i, entry) in self.legend.iter().enumerate() {
            let x = 40.0 + (i % columns) as f64 * column;
            let y = charts_height + 10.0 + (i / columns) as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
            let dash = if entry.dash.is_empty() {
                String::new()
            } else {
                format!(" stroke-dasharray=\"{}\"", entry.dash)
            };
            let _ = write!(
                out,
                "<path class=\"line\" d=\"M{x:.1},{y:.1}h{SAMPLE}\" stroke=\"{}\"{dash}/>",
                entry.colour
            );
            if let Some(marker) = entry.marker {
                out.push_str(&marker.svg(x + SAMPLE / 2.0, y, entry.colour));
            }
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{y:.1}\" dy=\"0.35em\">{}</text>",
                x + SAMPLE + 10.0,
                escape(&entry.label)
            );
        }
        out.push_str("</g>\n</svg>\n");
        out
    }

    /// Writes `<stem>.svg` and `<stem>.png` into `dir`; returns their paths.
    pub(crate) fn write(&self, dir: &Path, stem: &str) -> anyhow::Result<[PathBuf; 2]> {
        let svg = self.svg();
        let (svg_path, png_path) =
            (dir.join(format!("{stem}.svg")), dir.join(format!("{stem}.png")));
        std::fs::write(&svg_path, &svg)
            .with_context(|| format!("cannot write {}", svg_path.display()))?;
        let png = rasterise(&svg).with_context(|| format!("cannot draw {}", png_path.display()))?;
        std::fs::write(&png_path, png)
            .with_context(|| format!("cannot write {}", png_path.display()))?;
        Ok([svg_path, png_path])
    }
}

/// The built-in fonts, loaded once.
fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(dejavu::sans::regular().to_vec());
        fonts.load_font_data(dejavu::sans::bold().to_vec());
        fonts.set_sans_serif_family("DejaVu Sans");
        usvg::Options {
            font_family: "DejaVu Sans".into(),
            fontdb: Arc::new(fonts),
            ..usvg::Options::default()
        }
    })
}

/// `svg` as a PNG of a pixel per unit, on white.
fn rasterise(svg: &str) -> anyhow::Result<Vec<u8>> {
    let tree = usvg::Tree::from_str(svg, options())?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| anyhow!("{} × {} pixels is too large", size.width(), size.height()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    Ok(pixmap.encode_png()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Series;

    fn figure(legend: usize) -> Figure<'static> {
        let series = Series {
            class: "s-0".into(),
            name: "a",
            colour: "#1f77b4",
            dash: "",
            marker: Some(Marker::Square),
            line: vec![(1.0, 0.2), (2.0, 0.5), (3.0, 0.4)],
            band: vec![(1.0, 0.1, 0.3), (2.0, 0.4, 0.6), (3.0, 0.3, 0.5)],
        };
        let chart = LineChart {
            x_label: "epoch",
            y_label: "macro-F1",
            width: 400.0,
            height: 300.0,
            series: vec![series],
        };
        let entry = |i| LegendEntry {
            label: format!("variant {i}"),
            colour: "#ff7f0e",
            dash: "9 6",
            marker: None,
        };
        Figure {
            panels: vec![("Validation".into(), Panel::Line(chart))],
            legend: (0..legend).map(entry).collect(),
        }
    }

    #[test]
    fn the_legend_gets_rows_of_its_own_below_the_charts() {
        let (_, _, one_row) = figure(2).legend_grid(1400.0);
        let (_, _, narrow) = figure(9).legend_grid(300.0);
        assert!(one_row >= LEGEND_ROW && narrow > one_row, "{one_row} {narrow}");
        assert_eq!(figure(0).legend_grid(1400.0).2, 0.0);
    }

    #[test]
    fn the_png_is_the_svg_drawn_with_the_built_in_font() {
        let dir = tempfile::tempdir().unwrap();
        let [svg, png] = figure(3).write(dir.path(), "curves").unwrap();
        assert!(std::fs::read_to_string(svg).unwrap().starts_with("<svg xmlns="));
        let png = image::open(png).unwrap().to_rgb8();
        let (_, _, legend) = figure(3).legend_grid(400.0);
        assert_eq!((png.width(), png.height()), (400, (TITLE + 300.0 + legend) as u32));
        let ink = |ys: std::ops::Range<u32>, colour: Option<[u8; 3]>| {
            let rows = png.enumerate_pixels().filter(|(_, y, _)| ys.contains(y));
            rows.filter(|(_, _, p)| colour.map_or(p.0 != [255; 3], |c| p.0 == c)).count()
        };
        assert!(ink(0..TITLE as u32, None) > 100, "the title's text is drawn");
        assert!(ink(TITLE as u32..TITLE as u32 + 300, Some([0x1f, 0x77, 0xb4])) > 100, "the line");
        assert!(ink(TITLE as u32 + 300..png.height(), Some([0xff, 0x7f, 0x0e])) > 50, "the legend");
    }
}
