//! Ablation grids end to end on tiny synthetic data: a 2 × 2 grid with 2 seeds expands into
//! the right, readably named stages, shares what it can, and `compare`, `plot` and `gc` read
//! the stored results back correctly.
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ablate_core::metrics::read_parquet;
use common::{Workspace, text};
use serde_json::Value;

const GRID: &str = r#"
name: grid
grid:
  factors:
    loss: [bce, focal]
    hidden: [16, 32]
  baseline: {loss: bce, hidden: 16}
  seeds: 2
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 32, val: 16, offsite_test: 16, onsite_test: 8}
  model:
    kind: backbone
    params: {arch: resnet18}
  loss:
    kind: loss
    inputs: {data: data}
    params: {function: "${loss}"}
  train:
    kind: train
    inputs: {data: data, model: model, loss: loss}
    params: {epochs: 2, batch_size: 16, head_hidden: "${hidden}", seed: "${seed}"}
  evaluate:
    kind: evaluate
    inputs: {model: train, data: data}
"#;

const VARIANTS: [(&str, &str); 4] =
    [("bce", "16"), ("bce", "32"), ("focal", "16"), ("focal", "32")];

fn ok(ws: &Workspace, args: &[&str]) -> String {
    let output = ws.ablate(args);
    assert!(output.status.success(), "ablate {args:?} failed:\n{}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

fn json(ws: &Workspace, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&ok(ws, &args)).expect("compare prints JSON")
}

/// The published entry of every stage instance, read from the records.
fn entries_by_stage(ws: &Workspace) -> BTreeMap<String, PathBuf> {
    ws.entries()
        .into_iter()
        .map(|dir| {
            let record: Value =
                serde_json::from_slice(&std::fs::read(dir.join("record.json")).unwrap()).unwrap();
            (record["stage"].as_str().unwrap().to_string(), dir)
        })
        .collect()
}

fn macro_f1_of(dir: &std::path::Path) -> f64 {
    read_parquet(&dir.join("metrics.parquet"))
        .unwrap()
        .into_iter()
        .find(|m| m.row.metric == "macro_f1")
        .unwrap()
        .row
        .value
}

fn row<'a>(rows: &'a [Value], loss: &str, hidden: &str) -> &'a Value {
    rows.iter().find(|r| r["levels"]["loss"] == loss && r["levels"]["hidden"] == hidden).unwrap()
}

#[test]
fn a_grid_runs_once_per_distinct_stage_and_compares_from_parquet() {
    let ws = Workspace::new();
    let pipeline = ws.write("grid.yaml", GRID);
    let pipeline = pipeline.to_str().unwrap();

    let mut expected: Vec<String> =
        vec!["data".into(), "model".into(), "loss[loss=bce]".into(), "loss[loss=focal]".into()];
    for (loss, hidden) in VARIANTS {
        for seed in ["0", "1"] {
            expected.push(format!("train[loss={loss},hidden={hidden},seed={seed}]"));
            expected.push(format!("evaluate[loss={loss},hidden={hidden},seed={seed}]"));
        }
    }
    expected.sort();
    let planned = ws.plan(pipeline, &[]);
    assert_eq!(
        common::names(&planned, "run"),
        expected,
        "the grid's stage instances and their names"
    );
    assert_eq!(
        ws.run(pipeline, &[]),
        expected,
        "every distinct stage runs once: data, model and each loss are shared"
    );
    assert!(ws.run(pipeline, &[]).is_empty(), "a second run is a no-op");

    // Means and standard deviations over the two seeds, from the stored metrics themselves.
    let entries = entries_by_stage(&ws);
    let rows = json(&ws, &["compare"]);
    assert_eq!(rows.len(), 4, "one row per variant, seeds pooled");
    let baseline_mean = {
        let f = |seed: &str| {
            macro_f1_of(&entries[&format!("evaluate[loss=bce,hidden=16,seed={seed}]")])
        };
        (f("0") + f("1")) / 2.0
    };
    for (loss, hidden) in VARIANTS {
        let f = |seed: &str| {
            macro_f1_of(&entries[&format!("evaluate[loss={loss},hidden={hidden},seed={seed}]")])
        };
        let (a, b) = (f("0"), f("1"));
        let mean = (a + b) / 2.0;
        let std = ((a - mean).powi(2) + (b - mean).powi(2)).sqrt(); // n − 1 = 1
        let stat = &row(&rows, loss, hidden)["metrics"]["offsite_test.macro_f1"];
        assert_eq!(stat["n"], 2);
        assert!(
            (stat["mean"].as_f64().unwrap() - mean).abs() < 1e-12,
            "{loss}/{hidden}: {stat} vs mean {mean}"
        );
        assert!(
            (stat["std"].as_f64().unwrap() - std).abs() < 1e-12,
            "{loss}/{hidden}: {stat} vs std {std}"
        );
        assert!((stat["delta"].as_f64().unwrap() - (mean - baseline_mean)).abs() < 1e-12);
        assert_eq!(row(&rows, loss, hidden)["variant"], format!("loss={loss},hidden={hidden}"));
        for class in ["D", "G", "A"] {
            assert!(
                row(&rows, loss, hidden)["metrics"][format!("offsite_test.f1[{class}]")]["mean"]
                    .is_f64()
            );
        }
    }

    // Filters by factor and by metric, sorting.
    let focal = json(&ws, &["compare", "--where", "loss=focal"]);
    assert_eq!(focal.len(), 2);
    assert!(focal.iter().all(|r| r["levels"]["loss"] == "focal"));
    let wide = json(&ws, &["compare", "--where", "hidden!=16", "--where", "loss=bce,focal"]);
    assert!(wide.len() == 2 && wide.iter().all(|r| r["levels"]["hidden"] == "32"));
    let mean = |r: &Value| r["metrics"]["offsite_test.macro_f1"]["mean"].as_f64().unwrap();
    let sorted = json(&ws, &["compare", "--sort", "offsite_test.macro_f1"]);
    assert!(sorted.windows(2).all(|w| mean(&w[0]) >= mean(&w[1])), "best first");
    let threshold = mean(&sorted[1]);
    let above = json(&ws, &["compare", "--where", &format!("offsite_test.macro_f1>={threshold}")]);
    assert_eq!(above.len(), sorted.iter().filter(|r| mean(r) >= threshold).count());
    let bad = ws.ablate(&["compare", "--where", "optimizer=adam"]);
    assert!(
        !bad.status.success()
            && text(&bad).contains("`optimizer` is neither a factor (loss, hidden, seed)"),
        "{}",
        text(&bad)
    );

    // The other formats and the training metrics.
    let table = ok(&ws, &["compare"]);
    assert!(
        table.contains("Δ offsite_test.macro_f1")
            && table.contains("minus the baseline loss=bce,hidden=16"),
        "{table}"
    );
    let markdown = ok(&ws, &["compare", "--format", "markdown"]);
    assert!(markdown.lines().nth(1).unwrap().starts_with("|---|"), "{markdown}");
    let csv = ok(&ws, &["compare", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 5);
    let trained = json(&ws, &["compare", "--stage", "train", "--metric", "best_macro_f1"]);
    assert!(trained.iter().all(|r| r["metrics"]["val.best_macro_f1"]["n"] == 2), "{trained:?}");

    // Plots.
    let out = ok(&ws, &["plot", "--out", "plots", "--by", "loss"]);
    for name in ["curves.png", "bars.png"] {
        assert!(out.contains(name), "{out}");
        let png = image::open(ws.path(&format!("plots/{name}"))).expect("a PNG");
        assert!(png.width() > 600 && png.height() > 100);
    }
    // The legend is a strip of its own below the 560-pixel charts, not over the data.
    let curves = image::open(ws.path("plots/curves.png")).unwrap().to_rgb8();
    assert!(curves.height() > 560 + 20, "{}", curves.height());
    let legend_ink = curves.rows().skip(560).flatten().filter(|p| p.0 != [255, 255, 255]).count();
    assert!(legend_ink > 500, "the legend below the charts is drawn: {legend_ink}");
    let bad = ws.ablate(&["plot", "--by", "optimizer"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("--by optimizer: no such factor (factors: loss, hidden)"));

    // gc: results of the old threshold are garbage once the file says another, the
    // evaluations re-ran, and the runs that used them are not kept (--keep-runs 0).
    assert!(ok(&ws, &["gc"]).contains("nothing to remove"));
    ws.write("grid.yaml", &format!("{GRID}    params: {{threshold: 0.4}}\n"));
    assert_eq!(ws.run(pipeline, &[]).len(), 8, "only the evaluations re-run");
    assert!(ok(&ws, &["gc"]).contains("nothing to remove"), "the last runs keep theirs");
    let dry = ok(&ws, &["gc", "--keep-runs", "0"]);
    assert_eq!(
        dry.lines().filter(|l| l.contains("result no current pipeline reaches")).count(),
        8,
        "{dry}"
    );
    assert!(
        dry.lines().filter(|l| l.contains("no current pipeline")).all(|l| l.contains("(evaluate[")),
        "{dry}"
    );
    assert!(dry.contains("a dry run"), "{dry}");
    let before = ws.entries().len();
    ok(&ws, &["gc", "--keep-runs", "0", "--apply"]);
    assert_eq!(ws.entries().len(), before - 8);
    assert!(ws.run(pipeline, &[]).is_empty(), "gc kept everything the pipeline reaches");
    assert_eq!(json(&ws, &["compare"]).len(), 4);
}
