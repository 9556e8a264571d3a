//! A line chart: axes with ticks, grid lines and labels, then each series' band, line and
//! markers.
use std::fmt::Write;

use super::axis::{decimals, range, tick_label, ticks};
use super::escape;
use super::marker::Marker;

/// One line of a [`LineChart`] with an optional band around it.
pub(crate) struct Series<'a> {
    /// CSS class of the series group, e.g. `s-3`, used to highlight it from the legend.
    pub(crate) class: String,
    /// Shown on hover.
    pub(crate) name: &'a str,
    pub(crate) colour: &'a str,
    /// `stroke-dasharray`, empty for a solid line.
    pub(crate) dash: &'a str,
    /// Drawn at about a dozen of the line's points, however many there are.
    pub(crate) marker: Option<Marker>,
    /// `(x, y)` points, x ascending.
    pub(crate) line: Vec<(f64, f64)>,
    /// `(x, low, high)`, x ascending; empty for no band.
    pub(crate) band: Vec<(f64, f64, f64)>,
}

/// A line's `(x, y)` points and a band's `(x, low, high)`.
type LineAndBand = (Vec<(f64, f64)>, Vec<(f64, f64, f64)>);

/// Per x present in any of `curves` (each `(x, y)` points), the mean over the curves as the
/// line and their lowest to highest value as the band (none for fewer than two curves).
pub(crate) fn mean_and_band<'a>(
    curves: impl Iterator<Item = &'a [(f64, f64)]> + Clone,
) -> LineAndBand {
    let mut xs: Vec<f64> =
        curves.clone().flat_map(|c| c.iter().map(|p| p.0)).filter(|x| x.is_finite()).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut line = Vec::new();
    let mut band = Vec::new();
    for x in xs {
        let ys: Vec<f64> = curves
            .clone()
            .filter_map(|c| c.iter().find(|p| p.0 == x).map(|p| p.1))
            .filter(|y| y.is_finite())
            .collect();
        if ys.is_empty() {
            continue;
        }
        let mean = ys.iter().sum::<f64>() / ys.len() as f64;
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        line.push((x, mean));
        band.push((x, lo, hi));
    }
    if curves.count() < 2 {
        band.clear();
    }
    (line, band)
}

/// A line chart of `width` × `height` chart units.
pub(crate) struct LineChart<'a> {
    pub(crate) x_label: &'a str,
    pub(crate) y_label: &'a str,
    pub(crate) width: f64,
    pub(crate) height: f64,
    pub(crate) series: Vec<Series<'a>>,
}

const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 48.0;

/// The chart as an `<svg class="plot">` element that scales to its container.
pub(crate) fn line_chart(chart: &LineChart) -> String {
    format!(
        "<svg class=\"plot\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{} by {}\">\n{}</svg>\n",
        chart.width,
        chart.height,
        escape(chart.y_label),
        escape(chart.x_label),
        body(chart)
    )
}

/// The chart's elements, in chart units from its top left corner.
pub(super) fn body(chart: &LineChart) -> String {
    let xs = chart.series.iter().flat_map(|s| s.line.iter().map(|p| p.0));
    let ys = chart
        .series
        .iter()
        .flat_map(|s| s.line.iter().map(|p| p.1).chain(s.band.iter().flat_map(|b| [b.1, b.2])));
    let (x_lo, x_hi) = range(xs);
    let (y_lo, y_hi) = range(ys);
    let integer_x = chart.series.iter().flat_map(|s| &s.line).all(|p| p.0.fract() == 0.0);
    let x_ticks = ticks(x_lo, x_hi, 8, integer_x);
    let y_ticks = ticks(y_lo, y_hi, 6, false);
    let plane = Plane {
        x: (x_lo, x_hi),
        y: (y_ticks[0], y_ticks[y_ticks.len() - 1]),
        width: chart.width - LEFT - RIGHT,
        height: chart.height - TOP - BOTTOM,
    };
    let mut out = axes(chart, &plane, &x_ticks, &y_ticks);
    for s in &chart.series {
        series(&mut out, s, &plane);
    }
    out
}

/// The data's ranges and the plotting area's size.
struct Plane {
    x: (f64, f64),
    y: (f64, f64),
    width: f64,
    height: f64,
}

impl Plane {
    fn sx(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * self.width
    }

    fn sy(&self, y: f64) -> f64 {
        TOP + (1.0 - (y - self.y.0) / (self.y.1 - self.y.0)) * self.height
    }
}

/// Grid lines, ticks, frame and axis labels.
fn axes(chart: &LineChart, plane: &Plane, x_ticks: &[f64], y_ticks: &[f64]) -> String {
    let (w, h) = (plane.width, plane.height);
    let x_decimals = decimals(x_ticks);
    let y_decimals = decimals(y_ticks);
    let mut out = String::from("<g class=\"axis\">\n");
    for &t in y_ticks {
        let y = plane.sy(t);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\" dy=\"0.32em\">{}</text>",
            LEFT + w,
            LEFT - 8.0,
            tick_label(t, y_decimals)
        );
    }
    for &t in x_ticks.iter().filter(|&&t| t >= plane.x.0 && t <= plane.x.1) {
        let x = plane.sx(t);
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            TOP + h,
            TOP + h + 5.0,
            TOP + h + 19.0,
            tick_label(t, x_decimals)
        );
    }
    let _ = writeln!(
        out,
        "<line class=\"frame\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
         <line class=\"frame\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\"/>",
        LEFT + w,
        TOP + h,
        TOP + h,
        TOP + h
    );
    let _ = writeln!(
        out,
        "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text class=\"label\" transform=\"translate(16 {:.1}) rotate(-90)\" \
         text-anchor=\"middle\">{}</text>",
        LEFT + w / 2.0,
        chart.height - 8.0,
        escape(chart.x_label),
        TOP + h / 2.0,
        escape(chart.y_label)
    );
    out.push_str("</g>\n");
    out
}

/// A series' group: its band, its line (a dot for a single point) and its markers.
fn series(out: &mut String, s: &Series, plane: &Plane) {
    let dash =
        if s.dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{}\"", s.dash) };
    let _ = write!(out, "<g class=\"series {}\"><title>{}</title>", s.class, escape(s.name));
    if s.band.len() > 1 {
        let mut d = String::new();
        for (i, (x, _, hi)) in s.band.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                plane.sx(*x),
                plane.sy(*hi)
            );
        }
        for (x, lo, _) in s.band.iter().rev() {
            let _ = write!(d, "L{:.1},{:.1}", plane.sx(*x), plane.sy(*lo));
        }
        let _ = write!(out, "<path class=\"band\" d=\"{d}Z\" fill=\"{}\"/>", s.colour);
    }
    let mut d = String::new();
    for (i, (x, y)) in s.line.iter().enumerate() {
        let _ =
            write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, plane.sx(*x), plane.sy(*y));
    }
    if s.line.len() == 1 {
        let (x, y) = s.line[0];
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
            plane.sx(x),
            plane.sy(y),
            s.colour
        );
    }
    let _ = write!(out, "<path class=\"line\" d=\"{d}\" stroke=\"{}\"{dash}/>", s.colour);
    if let Some(marker) = s.marker {
        let every = s.line.len().div_ceil(12).max(1);
        for (x, y) in s.line.iter().step_by(every) {
            out.push_str(&marker.svg(plane.sx(*x), plane.sy(*y), s.colour));
        }
    }
    out.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_and_band_cover_every_x_of_any_curve() {
        let a = [(1.0, 0.2), (2.0, 0.4)];
        let b = [(1.0, 0.4)];
        let (line, band) = mean_and_band([&a[..], &b[..]].into_iter());
        assert_eq!(line, [(1.0, 0.30000000000000004), (2.0, 0.4)]);
        assert_eq!(band, [(1.0, 0.2, 0.4), (2.0, 0.4, 0.4)]);
        let (_, band) = mean_and_band([&a[..]].into_iter());
        assert!(band.is_empty(), "one curve has no band");
    }
}
