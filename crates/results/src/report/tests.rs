//! The rendered page: self-contained, every section present and in order, empty sections say
//! so, text escaped, and the data model survives JSON.
use super::*;
use crate::compare::Baseline;
use crate::significance::{Adjustment, Interval, Settings, TStatistics};
use crate::stats::TestKind;

const SECTIONS: [&str; 8] =
    ["summary", "comparison", "per-class", "curves", "confusion", "gradcam", "graph", "provenance"];

/// A small PNG for the overlays.
fn png() -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(4, 4, image::Rgb([200, 40, 40]))
        .write_to(&mut bytes, image::ImageFormat::Png)
        .unwrap();
    bytes.into_inner()
}

fn cell(mean: f64, delta: f64, p: Option<f64>, note: Option<&str>) -> Option<Cell> {
    Some(Cell {
        mean,
        std: Some(0.02),
        n: 3,
        ci_low: Some(mean - 0.05),
        ci_high: Some(mean + 0.05),
        delta: Some(delta),
        delta_ci_low: p.map(|_| delta - 0.01),
        delta_ci_high: p.map(|_| delta + 0.01),
        p_value: p,
        p_adjusted: p.map(|p| (p * 2.0).min(1.0)),
        test: Some(TestKind::PairedT),
        significant: p.is_some_and(|p| p * 2.0 < 0.05),
        note: note.map(String::from),
        ..Cell::default()
    })
}

fn full_report() -> Report {
    let row = |variant: &str, cells: Vec<Option<Cell>>| Row {
        pipeline: "p".into(),
        levels: vec![("model".into(), variant.into())].into(),
        seeds: vec!["0".into(), "1".into(), "2".into()],
        n: 3,
        cells,
        stale: false,
    };
    let mut baseline = cell(0.5, 0.0, None, None);
    baseline.as_mut().unwrap().test = None;
    let seeds = |offset: f64| {
        (0..2)
            .map(|s| SeedCurve {
                seed: s.to_string(),
                points: (1..=3).map(|e| (f64::from(e), offset + 0.1 * f64::from(e + s))).collect(),
            })
            .collect()
    };
    let overlay = |label: &str, probability: f64, truth: bool| Overlay {
        image_id: "img_1.png".into(),
        label: label.into(),
        probability,
        truth,
        png: png(),
    };
    let environment = Environment {
        run: RunEnvironment {
            ablate_version: Some("0.1.0".into()),
            device_name: Some("cpu".into()),
            ..RunEnvironment::default()
        },
        when: Some("2026-12-01 14:00:12 UTC".into()),
    };
    Report {
        title: "p: a study".into(),
        generated_at: "2026-12-01 15:00:00 UTC".into(),
        generator: "ablate 0.1.0".into(),
        pipelines: vec![Pipeline {
            name: "p".into(),
            file: "/p.yaml".into(),
            digest: "ab".repeat(32),
        }],
        comparison: Comparison {
            pipelines: vec!["p".into()],
            factors: vec!["model".into()],
            columns: vec![
                Column {
                    name: "test.macro_f1".into(),
                    metric: "macro_f1".into(),
                    ..Column::default()
                },
                Column {
                    name: "test.f1[G]".into(),
                    metric: "f1".into(),
                    class: Some("G".into()),
                    ..Column::default()
                },
            ],
            rows: vec![
                row("a", vec![baseline.clone(), baseline]),
                row("b", vec![cell(0.6, 0.1, Some(0.001), None), cell(0.7, 0.2, Some(0.3), None)]),
                row(
                    "c",
                    vec![
                        cell(
                            0.4,
                            -0.1,
                            None,
                            Some("n = 1 pair: a paired t-test needs at least 2 pairs"),
                        ),
                        None,
                    ],
                ),
            ],
            primary: Some(0),
            baseline: Some(Baseline {
                pipeline: "p".into(),
                levels: vec![("model".into(), "a".into())].into(),
            }),
            settings: Settings { adjustment: Adjustment::Holm, ..Settings::default() },
            ..Comparison::default()
        },
        heat_maps: vec![HeatMap {
            title: "test: F1 per label".into(),
            labels: vec!["D".into(), "G".into()],
            rows: vec![HeatRow {
                variant: "model=a".into(),
                means: vec![Some(0.2), None],
                stds: vec![],
            }],
            domain: None,
        }],
        curves: vec![CurveSet {
            title: "Validation macro-F1".into(),
            y_label: "macro-F1".into(),
            x_label: "epoch".into(),
            variants: vec![
                VariantCurves { variant: "model=a".into(), seeds: seeds(0.1) },
                VariantCurves { variant: "model=b".into(), seeds: seeds(0.2) },
            ],
        }],
        confusion: vec![Confusion {
            variant: "model=a".into(),
            split: "test".into(),
            seeds: 3,
            labels: vec![LabelCounts { label: "G".into(), tp: 3, fp: 1, fn_: 2, tn: 10 }],
            ..Confusion::default()
        }],
        gradcam: vec![GradcamStage {
            instance: "cam[model=a]".into(),
            variant: Some("model=a".into()),
            split: "val".into(),
            overlays: vec![overlay("G", 0.8, true), overlay("D", 0.6, false)],
            ..GradcamStage::default()
        }],
        graph: Graph {
            nodes: ["data", "train[model=a]", "cam[model=a]"]
                .map(|n| Node { name: n.into(), kind: "k".into(), status: Status::Ran })
                .to_vec(),
            edges: vec![
                Edge {
                    from: "data".into(),
                    to: "train[model=a]".into(),
                    role: Some("data".into()),
                },
                Edge { from: "train[model=a]".into(), to: "cam[model=a]".into(), role: None },
            ],
        },
        provenance: vec![Provenance {
            variant: "model=a".into(),
            stages: vec![StageProvenance {
                instance: "train[model=a]".into(),
                kind: "train".into(),
                key: "cd".repeat(32).into(),
                params: serde_json::json!({"epochs": 2, "lr": 0.001}),
            }],
            environments: vec![environment],
        }],
    }
}

/// Every `src=`, `href=`, `url(`, `@import` and `xlink:href=` target is internal or `data:`.
fn assert_self_contained(html: &str) {
    for attr in ["src=", "href=", "xlink:href=", "url(", "@import", "action="] {
        for (i, _) in html.match_indices(attr) {
            let value = html[i + attr.len()..].trim_start_matches(['"', '\'', ' ']);
            let ok = value.starts_with('#') || value.starts_with("data:");
            assert!(ok, "external reference {attr}{}", &value[..value.len().min(60)]);
        }
    }
    assert!(!html.contains("http://") && !html.contains("https://"), "a URL in the page");
    assert!(!html.contains("<link") && !html.contains("<iframe"), "linked resource");
}

fn assert_sections_in_order(html: &str) {
    let positions: Vec<usize> = SECTIONS
        .iter()
        .map(|id| html.find(&format!("<section id=\"{id}\">")).unwrap_or_else(|| panic!("no {id}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "sections out of order: {positions:?}");
}

#[test]
fn a_full_report_is_self_contained_and_complete() {
    let html = render(&full_report());
    assert_self_contained(&html);
    assert_sections_in_order(&html);
    assert_eq!(html.matches("<script").count(), 1, "only the inline sorting script");
    assert_eq!(html.matches("<img src=\"data:image/png;base64,iVBORw0KGgo").count(), 2);
    assert!(html.contains("class=\"baseline\""), "baseline row marked");
    assert!(html.contains("▲ "), "significant improvements marked");
    assert!(html.contains("n = 1 pair: a paired t-test needs at least 2 pairs"), "why no p");
    assert!(html.contains("paired t test"), "the test named");
    assert!(html.contains("<details class=\"prov\">"), "provenance collapsible");
    assert!(html.contains("<svg class=\"dag\""), "stage graph drawn");
    assert_eq!(html.matches("<g class=\"node ").count(), 3, "every stage drawn once");
    assert!(html.contains("Best on <code>test.macro_f1</code>"), "headline");
    assert!(html.contains(">TP<") && html.contains("data-v=\"10\">10<"), "confusion counts");
}

#[test]
fn an_empty_report_says_so() {
    let html = render(&Report::default());
    assert_self_contained(&html);
    assert_sections_in_order(&html);
    for text in [
        "No stored results",
        "No results to compare.",
        "No per-class metrics stored.",
        "No per-epoch metrics stored.",
        "No evaluation results with confusion counts.",
        "No GradCAM stages in this pipeline.",
        "No stage graph recorded.",
        "No provenance recorded.",
    ] {
        assert!(html.contains(text), "missing: {text}");
    }
}

#[test]
fn text_is_escaped() {
    let evil = "model=<script>alert(1)</script>,loss=\"x\"&'y'";
    let mut r = full_report();
    r.comparison.rows[1].levels = vec![("model".into(), "<script>alert(1)</script>".into())].into();
    r.comparison.rows[2].levels = vec![("model".into(), "\"x\"&'y'".into())].into();
    r.curves[0].variants[1].variant = evil.to_string();
    r.heat_maps[0].rows[0].variant = evil.to_string();
    r.confusion[0].variant = evil.to_string();
    r.provenance[0].variant = evil.to_string();
    r.gradcam[0].instance = evil.to_string();
    r.title = "<script>alert(3)</script>".into();
    r.graph = Graph {
        nodes: vec![Node { name: evil.into(), kind: "<b>".into(), status: Status::Failed }],
        edges: vec![],
    };
    let html = render(&r);
    assert!(!html.contains("<script>alert"), "unescaped script");
    assert!(!html.contains("<b>"), "unescaped tag");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;x&quot;&amp;&#39;y&#39;"));
    assert_eq!(html.matches("<script").count(), 1);
}

#[test]
fn a_report_round_trips_through_json() {
    let r = full_report();
    let json = serde_json::to_string(&r).expect("serialise");
    let back: Report = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(render(&back), render(&r));
    let empty: Report = serde_json::from_str("{}").expect("every field may be left out");
    assert!(render(&empty).contains("<title>Ablation report</title>"));
}

#[test]
fn with_the_bootstrap_both_intervals_are_shown_and_said_what_they_mean() {
    let mut r = full_report();
    r.comparison.settings.interval = Interval::Bootstrap;
    for cell in r.comparison.rows.iter_mut().flat_map(|row| row.cells.iter_mut().flatten()) {
        cell.t = Some(TStatistics {
            ci_low: Some(cell.mean - 0.2),
            ci_high: Some(cell.mean + 0.2),
            ..TStatistics::default()
        });
        cell.interval = Interval::Bootstrap;
    }
    let html = render(&r);
    assert!(html.contains("<span class=\"ci t\">t ± 0.200</span>"), "the t-interval beside");
    assert!(
        html.contains("First, the 95% percentile interval of the mean over seeds and test images")
            && html.contains("(B = 2000 replicates, seed 0)"),
        "the bootstrap's sentence"
    );
    assert!(
        html.contains("Second, marked t, the 95% confidence interval of the mean over seeds (t, n − 1 degrees of freedom): how much the mean would move with other seeds, measured on these same test images"),
        "the t-interval's sentence"
    );
    let plain = render(&full_report());
    assert!(!plain.contains("class=\"ci t\"") && !plain.contains("percentile interval"));
}
