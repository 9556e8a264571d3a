//! Chart helpers drawing inline SVG: a line chart with shaded bands, "nice" axis ticks, the
//! viridis colour scale and a colour bar. Sizes are in CSS pixels of the chart's `viewBox`.
use std::fmt::Write;

use super::html::escape;

/// One line of a [`LineChart`] with an optional band around it.
pub(super) struct Series<'a> {
    /// CSS class of the series group, e.g. `s-3`, used to highlight it from the legend.
    pub(super) class: String,
    /// Shown on hover.
    pub(super) name: &'a str,
    pub(super) colour: &'a str,
    /// `stroke-dasharray`, empty for a solid line.
    pub(super) dash: &'a str,
    /// `(x, y)` points, x ascending.
    pub(super) line: Vec<(f64, f64)>,
    /// `(x, low, high)`, x ascending; empty for no band.
    pub(super) band: Vec<(f64, f64, f64)>,
}

/// A line chart: axes with ticks, grid lines and labels, then bands, then lines.
pub(super) struct LineChart<'a> {
    pub(super) x_label: &'a str,
    pub(super) y_label: &'a str,
    pub(super) width: f64,
    pub(super) height: f64,
    pub(super) series: Vec<Series<'a>>,
}

const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 48.0;

pub(super) fn line_chart(chart: &LineChart) -> String {
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
    let (x0, x1) = (x_lo, x_hi);
    let (y0, y1) = (y_ticks[0], y_ticks[y_ticks.len() - 1]);
    let (w, h) = (chart.width - LEFT - RIGHT, chart.height - TOP - BOTTOM);
    let sx = |x: f64| LEFT + (x - x0) / (x1 - x0) * w;
    let sy = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * h;

    let mut out = format!(
        "<svg class=\"plot\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{} by {}\">\n",
        chart.width,
        chart.height,
        escape(chart.y_label),
        escape(chart.x_label)
    );
    let x_decimals = decimals(&x_ticks);
    let y_decimals = decimals(&y_ticks);
    out.push_str("<g class=\"axis\">\n");
    for &t in &y_ticks {
        let y = sy(t);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\" dy=\"0.32em\">{}</text>",
            LEFT + w,
            LEFT - 8.0,
            tick_label(t, y_decimals)
        );
    }
    for &t in x_ticks.iter().filter(|&&t| t >= x0 && t <= x1) {
        let x = sx(t);
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
    for s in &chart.series {
        let dash = if s.dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{}\"", s.dash)
        };
        let _ = write!(out, "<g class=\"series {}\"><title>{}</title>", s.class, escape(s.name));
        if s.band.len() > 1 {
            let mut d = String::new();
            for (i, (x, _, hi)) in s.band.iter().enumerate() {
                let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, sx(*x), sy(*hi));
            }
            for (x, lo, _) in s.band.iter().rev() {
                let _ = write!(d, "L{:.1},{:.1}", sx(*x), sy(*lo));
            }
            let _ = write!(out, "<path class=\"band\" d=\"{d}Z\" fill=\"{}\"/>", s.colour);
        }
        let mut d = String::new();
        for (i, (x, y)) in s.line.iter().enumerate() {
            let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, sx(*x), sy(*y));
        }
        if s.line.len() == 1 {
            let (x, y) = s.line[0];
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                sx(x),
                sy(y),
                s.colour
            );
        }
        let _ = writeln!(out, "<path class=\"line\" d=\"{d}\" stroke=\"{}\"{dash}/></g>", s.colour);
    }
    out.push_str("</svg>\n");
    out
}

/// The finite values' range, widened when empty or a single value.
fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    }
}

/// Round ticks (1, 2, 2.5 or 5 × 10ᵏ apart) covering `[lo, hi]`, about `target` of them.
pub(super) fn ticks(lo: f64, hi: f64, target: usize, integer: bool) -> Vec<f64> {
    let rough = (hi - lo) / target.max(1) as f64;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let step = if integer { step.max(1.0).round() } else { step };
    let start = (lo / step + 1e-9).floor() as i64;
    let end = (hi / step - 1e-9).ceil() as i64;
    (start..=end).map(|i| i as f64 * step).collect()
}

/// Decimals needed to tell the ticks apart.
fn decimals(ticks: &[f64]) -> usize {
    (0..4)
        .find(|&d| ticks.iter().all(|t| (t * 10f64.powi(d as i32)).fract().abs() < 1e-6))
        .unwrap_or(4)
}

fn tick_label(t: f64, decimals: usize) -> String {
    let s = format!("{t:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => format!("−{rest}"),
        Some(rest) => rest.to_string(),
        None => s,
    }
}

/// Viridis sampled at 0, 0.1, …, 1.
const VIRIDIS: [(u8, u8, u8); 11] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x24, 0x75),
    (0x41, 0x44, 0x87),
    (0x35, 0x5f, 0x8d),
    (0x2a, 0x78, 0x8e),
    (0x21, 0x91, 0x8c),
    (0x22, 0xa8, 0x84),
    (0x44, 0xbf, 0x70),
    (0x7a, 0xd1, 0x51),
    (0xbd, 0xdf, 0x26),
    (0xfd, 0xe7, 0x25),
];

/// Viridis at `t` in [0, 1] (clamped), as `#rrggbb`.
pub(super) fn viridis(t: f64) -> String {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let f = t * 10.0;
    let i = (f.floor() as usize).min(9);
    let u = f - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * u).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether text on viridis at `t` should be light.
pub(super) fn viridis_dark(t: f64) -> bool {
    t < 0.6
}

/// A horizontal colour bar for `[lo, hi]` with ticks and a label; `id` must be unique per page.
pub(super) fn colour_bar(id: &str, lo: f64, hi: f64, label: &str) -> String {
    let (width, bar) = (320.0, 280.0);
    let x0 = 20.0;
    let mut out = format!(
        "<svg class=\"colour-bar\" width=\"{width}\" height=\"52\" viewBox=\"0 0 {width} 52\" \
         role=\"img\" aria-label=\"colour scale {}\">\n<defs><linearGradient id=\"{id}\">",
        escape(label)
    );
    for (i, _) in VIRIDIS.iter().enumerate() {
        let t = i as f64 / 10.0;
        let _ = write!(out, "<stop offset=\"{t}\" stop-color=\"{}\"/>", viridis(t));
    }
    let _ = writeln!(
        out,
        "</linearGradient></defs>\n<text class=\"label\" x=\"{x0}\" y=\"11\">{}</text>\
         <rect x=\"{x0}\" y=\"17\" width=\"{bar}\" height=\"12\" fill=\"url(#{id})\" rx=\"2\"/>",
        escape(label)
    );
    let ticks: Vec<f64> = ticks(lo, hi, 6, false)
        .into_iter()
        .filter(|t| *t >= lo - 1e-9 && *t <= hi + 1e-9)
        .collect();
    let d = decimals(&ticks);
    for t in ticks {
        let x = x0 + (t - lo) / (hi - lo) * bar;
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"29\" y2=\"33\"/>\
             <text x=\"{x:.1}\" y=\"45\" text-anchor=\"middle\">{}</text>",
            tick_label(t, d)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        let t: Vec<String> = ticks(0.0, 1.0, 5, false).iter().map(|t| format!("{t:.1}")).collect();
        assert_eq!(t, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(ticks(1.0, 25.0, 8, true), vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert_eq!(decimals(&[0.0, 0.25, 0.5]), 2);
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
    }
}
