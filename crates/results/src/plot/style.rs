//! How `plot` tells variants apart: colour by one factor (`--by`, else the first that varies),
//! marker shape by the next factor that varies, dash pattern by the one after. Two variants
//! that differ in any of these three factors never draw the same line. The legend names each
//! combination and is drawn beside the charts, never over the data.
use plotters::coord::Shift;
use plotters::element::{DashedPathElement, EmptyElement};
use plotters::prelude::*;

use super::{DrawResult, FONT};
use crate::compare::{Comparison, Row};
use ablate_core::invalid;

/// Matplotlib's `tab10` colours.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A marker shape, one per level of the second factor.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
    Diamond,
}

const MARKERS: [Marker; 5] =
    [Marker::Circle, Marker::Triangle, Marker::Square, Marker::Cross, Marker::Diamond];

/// A dash pattern, one per level of the third factor: solid, dashed, dotted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dash {
    Solid,
    Dashed,
    Dotted,
}

const DASHES: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];

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
    pub(super) colour: RGBColor,
    marker: Option<Marker>,
    dash: Dash,
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
            marker: self.marker.as_ref().map(|e| MARKERS[e.index(row) % MARKERS.len()]),
            dash: self.dash.as_ref().map_or(Dash::Solid, |e| DASHES[e.index(row) % DASHES.len()]),
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

/// Draws a line through `points` (pixels, or chart coordinates) in `look`'s colour and dash.
pub(super) fn draw_line<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    points: &[CT::From],
    look: Look,
) -> DrawResult
where
    CT::From: Clone,
    DB::ErrorType: 'static,
{
    let style = look.colour.stroke_width(2);
    match look.dash {
        Dash::Solid => area.draw(&PathElement::new(points.to_vec(), style))?,
        Dash::Dashed => area.draw(&DashedPathElement::new(points.iter().cloned(), 9, 6, style))?,
        Dash::Dotted => area.draw(&DashedPathElement::new(points.iter().cloned(), 2, 5, style))?,
    }
    Ok(())
}

/// Draws `look`'s marker, if it has one, at each of `points`.
pub(super) fn draw_markers<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    points: impl IntoIterator<Item = CT::From>,
    look: Look,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Some(marker) = look.marker else { return Ok(()) };
    let (colour, filled) = (look.colour, look.colour.filled());
    for point in points {
        let at = EmptyElement::at(point);
        match marker {
            Marker::Circle => area.draw(&(at + Circle::new((0, 0), 5, filled)))?,
            Marker::Triangle => area.draw(&(at + TriangleMarker::new((0, 0), 6, filled)))?,
            Marker::Square => area.draw(&(at + Rectangle::new([(-4, -4), (4, 4)], filled)))?,
            Marker::Cross => area.draw(&(at + Cross::new((0, 0), 5, colour.stroke_width(2))))?,
            Marker::Diamond => {
                area.draw(&(at + Polygon::new(vec![(0, -6), (6, 0), (0, 6), (-6, 0)], filled)))?
            }
        }
    }
    Ok(())
}

/// The legend's height for `entries` (label, look) in an area `width` pixels wide.
pub(super) fn legend_height(entries: &[(String, Look)], width: u32) -> u32 {
    let (columns, _) = legend_grid(entries, width);
    let rows = entries.len().div_ceil(columns) as u32;
    if entries.is_empty() { 0 } else { 20 + rows * LEGEND_ROW }
}

const LEGEND_ROW: u32 = 26;
/// Pixels per character of the legend's 14 px text, generously.
const LEGEND_CHAR: u32 = 8;
const SAMPLE: i32 = 40;

/// Columns and column width of the legend's grid.
fn legend_grid(entries: &[(String, Look)], width: u32) -> (usize, u32) {
    let longest = entries.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) as u32;
    let column = SAMPLE as u32 + 16 + longest * LEGEND_CHAR + 24;
    (((width.saturating_sub(40)) / column).max(1) as usize, column)
}

/// Draws the legend below the charts: a sample line with its marker, then the label.
pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Look)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (width, _) = area.dim_in_pixel();
    let (columns, column) = legend_grid(entries, width);
    for (i, (label, look)) in entries.iter().enumerate() {
        let x = 40 + (i % columns) as i32 * column as i32;
        let y = 10 + (i / columns) as i32 * LEGEND_ROW as i32 + LEGEND_ROW as i32 / 2;
        draw_line(area, &[(x, y), (x + SAMPLE, y)], *look)?;
        draw_markers(area, [(x + SAMPLE / 2, y)], *look)?;
        area.draw(&Text::new(label.clone(), (x + SAMPLE + 10, y - 8), (FONT, 14)))?;
    }
    Ok(())
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

    #[test]
    fn the_legend_gets_rows_of_its_own() {
        let look = Look { colour: PALETTE[0], marker: None, dash: Dash::Solid };
        let entries: Vec<(String, Look)> = (0..9).map(|i| (format!("variant {i}"), look)).collect();
        let one_row = legend_height(&entries[..2], 1400);
        assert!(one_row >= LEGEND_ROW && legend_height(&entries, 300) > one_row);
        assert_eq!(legend_height(&[], 1400), 0);
    }
}
