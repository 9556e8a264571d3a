use super::csv::csv_number;
use super::grid::mark;
use super::*;
use crate::compare::{Baseline, Column, NotRun};
use crate::significance::{Cell, Settings};
use crate::stats::TestKind;

fn comparison() -> Comparison {
    let column = |name: &str, class: Option<&str>| Column {
        template: "eval".into(),
        split: Some("val".into()),
        metric: if class.is_some() { "f1".into() } else { "macro_f1".into() },
        class: class.map(String::from),
        name: name.into(),
    };
    let cell = |mean: f64| {
        Some(Cell {
            mean,
            std: Some(0.01),
            n: 2,
            delta: Some(mean - 0.5),
            p_value: Some(0.01),
            p_adjusted: Some(0.03),
            test: Some(TestKind::PairedT),
            significant: true,
            ..Cell::default()
        })
    };
    Comparison {
        pipelines: vec!["p".into()],
        sources: vec![Source {
            pipeline: "p".into(),
            file: "/work/p.yaml".into(),
            digest: "3f2a9c1b0000".into(),
            run: 1_764_102_600,
            overrides: vec!["a=b".into()],
            killed: false,
        }],
        factors: vec!["model".into()],
        columns: vec![
            column("val.macro_f1", None),
            column("val.f1[D]", Some("D")),
            column("val.f1[G]", Some("G")),
        ],
        rows: vec![Row {
            pipeline: "p".into(),
            levels: vec![("model".into(), "resnet18".into())].into(),
            seeds: vec!["0".into(), "1".into()],
            n: 2,
            cells: vec![cell(0.6), cell(0.7), cell(0.8)],
            stale: false,
        }],
        primary: Some(0),
        baseline: Some(Baseline {
            pipeline: "p".into(),
            levels: vec![("model".into(), "resnet18".into())].into(),
        }),
        baseline_not_run: None,
        settings: Settings { ci: None, ..Settings::default() },
        per_seed: false,
        not_run: vec![NotRun { pipeline: "p".into(), variant: "model=vit".into(), seeds: vec![] }],
        stale: vec![],
    }
}

#[test]
fn a_narrow_terminal_hides_per_class_columns_first() {
    let wide = table(&comparison(), None);
    assert!(
        wide.contains("val.f1[G]")
            && wide.contains("0.6000 ± 0.0100")
            && wide.contains("+0.1000")
            && wide.contains("0.0300 *"),
        "{wide}"
    );
    let narrow = table(&comparison(), Some(60));
    assert!(narrow.lines().all(|l| l.chars().count() <= 60 || l.starts_with('(')), "{narrow}");
    assert!(narrow.contains("val.macro_f1") && !narrow.contains("val.f1[G]  "), "{narrow}");
    assert!(narrow.contains("hidden to fit the terminal: val.f1[D], val.f1[G]"), "{narrow}");
}

#[test]
fn the_footer_says_what_is_missing_and_where_results_come_from() {
    let text = table(&comparison(), None);
    assert!(text.contains("not run yet (or failed): model=vit"), "{text}");
    assert!(
        text.contains(
            "p: /work/p.yaml (version 3f2a9c1b, run 2025-11-25 20:30:00 UTC with --set a=b)"
        ),
        "{text}"
    );
    assert!(text.contains("one row tested: nothing to adjust); * p < 0.05"), "{text}");
}

#[test]
fn cells_without_a_p_value_point_at_a_footnote() {
    let mut comparison = comparison();
    let cell = comparison.rows[0].cells[0].as_mut().unwrap();
    (cell.p_value, cell.p_adjusted) = (None, None);
    cell.note = Some("n = 1 pair: a paired t-test needs at least 2 pairs".into());
    let text = table(&comparison, None);
    assert!(text.contains("–¹") && text.contains("¹ n = 1 pair: a paired t-test"), "{text}");
    assert_eq!(mark(11), "¹²");
}

#[test]
fn csv_numbers_keep_full_precision_without_dozens_of_zeros() {
    assert_eq!(csv_number(3.2e-48), "3.2e-48");
    assert_eq!(csv_number(0.5), "0.5");
    assert_eq!(csv_number(0.0), "0");
    assert_eq!(csv_number(0.012), "0.012");
}

#[test]
fn csv_and_json_carry_every_statistic() {
    let csv = csv(&comparison()).unwrap();
    assert!(csv.starts_with("pipeline,variant,model,val.macro_f1.mean,val.macro_f1.std,val.macro_f1.n,val.macro_f1.ci_low,val.macro_f1.ci_high,val.macro_f1.delta,val.macro_f1.delta_ci_low,val.macro_f1.delta_ci_high,val.macro_f1.p_value,val.macro_f1.p_adjusted,val.macro_f1.test,val.macro_f1.significant"), "{csv}");
    assert!(csv.contains("p,model=resnet18,resnet18,0.6,0.01,2,,,"), "{csv}");
    assert!(csv.contains(",paired t,true,"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().ends_with(",/work/p.yaml,3f2a9c1b,false"), "{csv}");
    let json = json(&comparison());
    assert_eq!(json[0]["metrics"]["val.f1[D]"]["mean"], 0.7);
    assert_eq!(json[0]["metrics"]["val.f1[D]"]["test"], "paired t");
    assert_eq!(json[0]["metrics"]["val.f1[D]"]["p_adjusted"], 0.03);
    assert_eq!(json[0]["levels"]["model"], "resnet18");
    assert_eq!(json[0]["source"]["file"], "/work/p.yaml");
}
