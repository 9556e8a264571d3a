//! The viridis colour scale and its colour bar.
use std::fmt::Write;

use super::axis::{decimals, tick_label, ticks};
use super::escape;

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
pub(crate) fn viridis(t: f64) -> String {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let f = t * 10.0;
    let i = (f.floor() as usize).min(9);
    let u = f - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * u).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether text on viridis at `t` should be light.
pub(crate) fn viridis_dark(t: f64) -> bool {
    t < 0.6
}

/// A horizontal colour bar for `[lo, hi]` with ticks and a label; `id` must be unique per page.
pub(crate) fn colour_bar(id: &str, lo: f64, hi: f64, label: &str) -> String {
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
    fn viridis_ends() {
        assert_eq!(viridis(0.0), "#440154");
        assert_eq!(viridis(1.0), "#fde725");
    }
}
