//! Small HTML helpers shared by the sections: escaping, number formatting, the variant palette
//! and the section frame.
use base64::Engine;

use super::Report;

pub(super) use crate::chart::escape;

/// A `data:` URI holding PNG bytes.
pub(super) fn png_data_uri(png: &[u8]) -> String {
    format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))
}

/// A metric value: 3 decimals below 100, 1 above; a true minus sign.
pub(super) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    let s = if x.abs() >= 100.0 { format!("{x:.1}") } else { format!("{x:.3}") };
    minus(s)
}

/// A difference, always signed: `+0.061`, `−0.012`.
pub(super) fn signed(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_string();
    }
    if x >= 0.0 { format!("+{}", num(x)) } else { num(x) }
}

/// An interval `[low, high]`, signed when it is one of differences.
pub(super) fn interval(low: Option<f64>, high: Option<f64>, differences: bool) -> Option<String> {
    let f = if differences { signed } else { num };
    Some(format!("[{}, {}]", f(low?), f(high?)))
}

/// An interval around `centre`, compactly: `± h` when symmetric (to display precision), else
/// `[low, high]` (signed when it is one of differences).
pub(super) fn around(
    centre: f64,
    low: Option<f64>,
    high: Option<f64>,
    differences: bool,
) -> Option<String> {
    let (lo, hi) = (low?, high?);
    if ((hi - centre) - (centre - lo)).abs() < 5e-4 {
        Some(format!("± {}", num((hi - lo) / 2.0)))
    } else {
        interval(low, high, differences)
    }
}

/// A number for the sorting script's `data-v`: 9 significant digits, exponent notation.
pub(super) fn sort_key(x: f64) -> String {
    format!("{x:.8e}")
}

/// A p-value: `< 0.001` or 3 decimals.
pub(super) fn p_value(p: f64) -> String {
    if p < 0.001 { "< 0.001".to_string() } else { format!("{p:.3}") }
}

/// A level as a percentage: 0.95 → `95%`.
pub(super) fn percent(level: f64) -> String {
    let p = level * 100.0;
    if (p - p.round()).abs() < 1e-9 { format!("{p:.0}%") } else { format!("{p}%") }
}

fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => format!("−{rest}"),
        Some(rest) => rest.to_string(), // −0.000 prints as 0.000
        None => s,
    }
}

/// At most `n` characters of a digest, with an ellipsis when cut.
pub(super) fn short(digest: &str, n: usize) -> String {
    if digest.chars().count() <= n {
        digest.to_string()
    } else {
        format!("{}…", digest.chars().take(n).collect::<String>())
    }
}

/// Paul Tol's "muted" qualitative scheme (colour-blind safe), reordered so that neighbours
/// differ most; beyond nine variants the colours repeat with a dash pattern.
const COLOURS: [&str; 9] = [
    "#332288", "#CC6677", "#44AA99", "#882255", "#DDAA33", "#88CCEE", "#117733", "#AA4499",
    "#999933",
];
const DASHES: [&str; 3] = ["", "7 3", "2 3"];

/// A colour (and dash) per variant, the same in every chart, in the table's row order.
pub(super) struct Palette {
    variants: Vec<String>,
}

impl Palette {
    pub(super) fn new(report: &Report) -> Palette {
        let mut variants: Vec<String> = Vec::new();
        let mut add = |v: &str| {
            if !variants.iter().any(|x| x == v) {
                variants.push(v.to_string());
            }
        };
        let rows = &report.comparison.rows;
        rows.iter().for_each(|r| add(&report.comparison.row_name(r)));
        report.curves.iter().flat_map(|c| &c.variants).for_each(|v| add(&v.variant));
        Palette { variants }
    }

    pub(super) fn len(&self) -> usize {
        self.variants.len()
    }

    /// The variant's index, which names its CSS class (`s-<i>`) in charts.
    pub(super) fn index(&self, variant: &str) -> usize {
        self.variants.iter().position(|v| v == variant).unwrap_or(self.variants.len())
    }

    pub(super) fn colour(&self, variant: &str) -> &'static str {
        COLOURS[self.index(variant) % COLOURS.len()]
    }

    /// SVG `stroke-dasharray`, empty for solid.
    pub(super) fn dash(&self, variant: &str) -> &'static str {
        DASHES[(self.index(variant) / COLOURS.len()) % DASHES.len()]
    }

    /// A small inline SVG line in the variant's colour and dash, for legends and tables.
    pub(super) fn swatch(&self, variant: &str) -> String {
        let dash = self.dash(variant);
        let dash =
            if dash.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{dash}\"") };
        format!(
            "<svg class=\"swatch\" width=\"22\" height=\"10\" aria-hidden=\"true\">\
             <line x1=\"1\" y1=\"5\" x2=\"21\" y2=\"5\" stroke=\"{}\" stroke-width=\"3\"{dash}/>\
             </svg>",
            self.colour(variant)
        )
    }
}

/// A page section with its anchor, heading and a one-line introduction.
pub(super) fn section(id: &str, title: &str, intro: &str, body: &str) -> String {
    let intro =
        if intro.is_empty() { String::new() } else { format!("<p class=\"intro\">{intro}</p>\n") };
    format!("<section id=\"{id}\">\n<h2>{}</h2>\n{intro}{body}</section>\n", escape(title))
}

/// The paragraph an empty section shows.
pub(super) fn empty(text: &str) -> String {
    format!("<p class=\"empty\">{}</p>\n", escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(num(-0.0001), "0.000");
        assert_eq!(num(-0.0123), "−0.012");
        assert_eq!(signed(0.0614), "+0.061");
        assert_eq!(p_value(0.0004), "< 0.001");
        assert_eq!(percent(0.95), "95%");
        assert_eq!(interval(Some(0.1), None, false), None);
        assert_eq!(around(0.5, Some(0.4), Some(0.6), false).as_deref(), Some("± 0.100"));
        assert_eq!(around(0.5, Some(0.3), Some(0.6), true).as_deref(), Some("[+0.300, +0.600]"));
        assert_eq!(short("abcdef", 4), "abcd…");
        assert_eq!(png_data_uri(b"hi"), "data:image/png;base64,aGk=");
    }
}
