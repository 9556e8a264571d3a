//! How `plot` tells variants apart: colour by one factor (`--by`, else the first that varies),
//! marker shape by the next factor that varies, dash pattern by the one after. Two variants
//! that differ in any of these three factors never draw the same line. The legend names each
//! combination and is drawn beside the charts, never over the data.
use crate::chart::Marker;
use crate::compare::{Comparison, Row};
use ablate_core::invalid;

/// Matplotlib's `tab10` colours.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// Dash patterns (`stroke-dasharray`), one per level of the third factor: solid, dashed,
/// dotted.
const DASHES: [&str; 3] = ["", "9 6", "2 5"];

/// A factor and its levels among the rows, in row order.
struct Encoding {
    factor: String,
    levels: Vec<String>,
}

impl Encoding {
    fn index(&self, row: &Row) -> usize {
        let level = row.level(&self.factor);
        level.and_then(|l| self.levels.iter().position(|x| x == l)).unwrap_or(0)
    }
}

/// The colour, marker and dash of each row.
pub struct Styling {
    colour: Option<Encoding>,
    marker: Option<Encoding>,
    dash: Option<Encoding>,
}

/// How one row is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Look {
    pub(super) colour: &'static str,
    pub(super) marker: Option<Marker>,
    pub(super) dash: &'static str,
}

impl Styling {
    /// Colour by `by` (else the first factor that varies among the rows), markers and dashes
    /// by the next factors that vary.
    pub fn new(comparison: &Comparison, by: Option<&str>) -> anyhow::Result<Styling> {
        let encoding = |factor: &str| {
            let mut levels: Vec<String> = Vec::new();
            for level in comparison.rows.iter().filter_map(|r| r.level(factor)) {
                if !levels.iter().any(|l| l == level) {
                    levels.push(level.to_string());
                }
            }
            Encoding { factor: factor.to_string(), levels }
        };
        if let Some(by) = by
            && !comparison.factors.iter().any(|f| f == by)
        {
            invalid!("--by {by}: no such factor (factors: {})", comparison.factors.join(", "));
        }
        let mut varying = comparison
            .factors
            .iter()
            .filter(|f| Some(f.as_str()) != by)
            .map(|f| encoding(f))
            .filter(|e| e.levels.len() > 1);
        let colour = match by {
            Some(by) => Some(encoding(by)),
            None => varying.next(),
        };
        Ok(Styling { colour, marker: varying.next(), dash: varying.next() })
    }

    /// The factor colours stand for.
    pub fn colour_factor(&self) -> Option<&str> {
        self.colour.as_ref().map(|e| e.factor.as_str())
    }

    pub(super) fn look(&self, row: &Row) -> Look {
        Look {
            colour: PALETTE[self.colour.as_ref().map_or(0, |e| e.index(row)) % PALETTE.len()],
            marker: self.marker.as_ref().map(|e| Marker::ALL[e.index(row) % Marker::ALL.len()]),
            dash: self.dash.as_ref().map_or(DASHES[0], |e| DASHES[e.index(row) % DASHES.len()]),
        }
    }

    /// The legend's text for a row: the levels its look stands for.
    pub(super) fn label(&self, row: &Row) -> String {
        let parts: Vec<String> = [&self.colour, &self.marker, &self.dash]
            .into_iter()
            .flatten()
            .filter_map(|e| Some(format!("{}={}", e.factor, row.level(&e.factor)?)))
            .collect();
        if parts.is_empty() { row.pipeline.clone() } else { parts.join(", ") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(factors: &[&str], rows: &[&[&str]]) -> Comparison {
        let rows = rows
            .iter()
            .map(|levels| Row {
                pipeline: "p".into(),
                levels: factors
                    .iter()
                    .zip(levels.iter())
                    .map(|(f, l)| (f.to_string(), l.to_string()))
                    .collect(),
                seeds: vec![],
                n: 1,
                cells: vec![],
                stale: false,
            })
            .collect();
        crate::compare::of_rows(factors, vec![], rows)
    }

    #[test]
    fn variants_differing_in_any_of_three_factors_look_different() {
        let mut rows: Vec<[&str; 3]> = Vec::new();
        for a in ["a1", "a2"] {
            for b in ["b1", "b2"] {
                for c in ["c1", "c2"] {
                    rows.push([a, b, c]);
                }
            }
        }
        let rows: Vec<&[&str]> = rows.iter().map(|r| r.as_slice()).collect();
        let comparison = comparison(&["a", "b", "c"], &rows);
        let styling = Styling::new(&comparison, Some("b")).unwrap();
        assert_eq!(styling.colour_factor(), Some("b"));
        let looks: Vec<Look> = comparison.rows.iter().map(|r| styling.look(r)).collect();
        for (i, x) in looks.iter().enumerate() {
            assert!(looks[i + 1..].iter().all(|y| y != x), "{looks:?}");
        }
        assert_eq!(styling.label(&comparison.rows[5]), "b=b1, a=a2, c=c2");
    }

    #[test]
    fn factors_that_do_not_vary_get_no_marker_or_dash() {
        let comparison = comparison(&["a", "b"], &[&["x", "same"], &["y", "same"]]);
        let styling = Styling::new(&comparison, None).unwrap();
        assert_eq!(styling.colour_factor(), Some("a"));
        assert_eq!(styling.look(&comparison.rows[0]).marker, None);
        assert_ne!(styling.look(&comparison.rows[0]), styling.look(&comparison.rows[1]));
        let unknown = Styling::new(&comparison, Some("z")).err().unwrap().to_string();
        assert!(unknown.contains("--by z: no such factor (factors: a, b)"), "{unknown}");
    }
}
