//! Marker shapes that tell lines of one colour apart.

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
    Diamond,
}

impl Marker {
    pub(crate) const ALL: [Marker; 5] =
        [Marker::Circle, Marker::Triangle, Marker::Square, Marker::Cross, Marker::Diamond];

    /// The marker centred on `(x, y)`, filled (a cross: stroked) with `colour`.
    pub(crate) fn svg(self, x: f64, y: f64, colour: &str) -> String {
        let polygon = |points: &[(f64, f64)]| {
            let points: Vec<String> =
                points.iter().map(|(dx, dy)| format!("{:.1},{:.1}", x + dx, y + dy)).collect();
            format!("<polygon points=\"{}\" fill=\"{colour}\"/>", points.join(" "))
        };
        match self {
            Marker::Circle => {
                format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{colour}\"/>")
            }
            Marker::Triangle => polygon(&[(0.0, -6.0), (5.2, 3.0), (-5.2, 3.0)]),
            Marker::Square => polygon(&[(-4.0, -4.0), (4.0, -4.0), (4.0, 4.0), (-4.0, 4.0)]),
            Marker::Diamond => polygon(&[(0.0, -6.0), (6.0, 0.0), (0.0, 6.0), (-6.0, 0.0)]),
            Marker::Cross => format!(
                "<path d=\"M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}\" stroke=\"{colour}\" \
                 stroke-width=\"2\"/>",
                x - 4.0,
                y - 4.0,
                x + 4.0,
                y + 4.0,
                x - 4.0,
                y + 4.0,
                x + 4.0,
                y - 4.0
            ),
        }
    }
}
