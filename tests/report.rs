//! What a researcher takes away from a grid, through the binary: a 2-factor grid with 3 seeds
//! on the synthetic data, then `ablate metrics` (one tidy table), `ablate out` (where a stage's
//! output is) and `ablate report` (one self-contained HTML page, rendered by Chromium).
mod common;

use std::fs::File;

use arrow_array::{Array, Float64Array, StringArray};
use common::{Workspace, text};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const GRID: &str = r#"
name: study
grid:
  factors:
    loss: [bce, focal]
    hidden: [16, 32]
  baseline: {loss: bce, hidden: 16}
  seeds: 3
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
  cam:
    kind: gradcam
    when: {seed: ["0"]}
    inputs: {model: train, data: data}
    params: {split: offsite_test, count: 2}
"#;

#[test]
fn a_grid_s_results_read_as_a_table_a_folder_and_a_report() {
    let ws = Workspace::new();
    ws.write("study.yaml", GRID);
    ws.run("study.yaml", &[]);
    metrics_is_one_tidy_table_with_the_levels_as_columns(&ws);
    out_prints_the_output_folder_of_a_stage_s_latest_result(&ws);
}

fn ok(ws: &Workspace, args: &[&str]) -> String {
    let output = ws.ablate(args);
    assert!(output.status.success(), "ablate {args:?} failed:\n{}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

fn exit_code(ws: &Workspace, args: &[&str]) -> (i32, String) {
    let output = ws.ablate(args);
    (output.status.code().unwrap_or(-1), text(&output))
}

fn metrics_is_one_tidy_table_with_the_levels_as_columns(ws: &Workspace) {
    assert!(ok(ws, &["metrics", "--out", "m.parquet"]).contains("metric rows → m.parquet"));
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(File::open(ws.path("m.parquet")).unwrap())
            .unwrap()
            .build()
            .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "pipeline",
            "variant",
            "loss",
            "hidden",
            "seed",
            "stage",
            "stage_key",
            "split",
            "epoch",
            "class",
            "metric",
            "value"
        ]
    );
    // The evaluations' macro-F1: one per variant and seed, equal to what compare pools.
    let mut found: Vec<(String, String, f64)> = Vec::new();
    for batch in &batches {
        let column = |name: &str| {
            batch.column_by_name(name).unwrap().as_any().downcast_ref::<StringArray>().unwrap()
        };
        let (variant, seed, stage, metric, split) =
            (column("variant"), column("seed"), column("stage"), column("metric"), column("split"));
        let value = batch.column_by_name("value").unwrap();
        let value = value.as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..batch.num_rows() {
            if stage.value(i) == "evaluate" && metric.value(i) == "macro_f1" && !split.is_null(i) {
                found.push((variant.value(i).into(), seed.value(i).into(), value.value(i)));
            }
        }
    }
    assert_eq!(found.len(), 12, "4 variants × 3 seeds: {found:?}");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&ok(ws, &["compare", "--format", "json"])).unwrap();
    for row in &rows {
        let values: Vec<f64> =
            found.iter().filter(|f| f.0 == row["variant"]).map(|f| f.2).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let pooled = row["metrics"]["offsite_test.macro_f1"]["mean"].as_f64().unwrap();
        assert!((mean - pooled).abs() < 1e-12, "{}: {mean} vs {pooled}", row["variant"]);
    }
    // CSV to standard output, with the same rows.
    let csv = ok(ws, &["metrics", "--format", "csv"]);
    assert!(csv.starts_with(
        "pipeline,variant,loss,hidden,seed,stage,stage_key,split,epoch,class,metric,value\n"
    ));
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(csv.lines().count(), total + 1);
    assert!(csv.contains("study,\"loss=focal,hidden=32\",focal,32,2,evaluate,"), "{csv}");
    let (code, said) = exit_code(ws, &["metrics", "nosuch"]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("pipeline `nosuch` has not run with the cache"), "{said}");
}

fn out_prints_the_output_folder_of_a_stage_s_latest_result(ws: &Workspace) {
    let data = ok(ws, &["out", "study", "data"]);
    assert_eq!(std::path::PathBuf::from(data.trim()), ws.output_of("study", "data").join("out"));
    let instance = "evaluate[loss=focal,hidden=16,seed=1]";
    let evaluation = ok(ws, &["out", "study.yaml", instance]);
    let folder = std::path::PathBuf::from(evaluation.trim());
    assert_eq!(folder, ws.output_of("study", instance).join("out"));
    assert!(folder.join("predictions.csv").is_file());
    for (args, says) in [
        (
            &["out", "study", "evaluate"][..],
            "stage `evaluate` of `study` has 12 instances; name one: evaluate[loss=bce,hidden=16,seed=0], ",
        ),
        (
            &["out", "study", "nosuch"],
            "pipeline `study` has no stage `nosuch` (its stages: data, model, loss (2 instances), train (12 instances), evaluate (12 instances), cam (4 instances))",
        ),
        (&["out", "nosuch", "data"], "pipeline `nosuch` has not run with the cache"),
    ] {
        let (code, said) = exit_code(ws, args);
        assert_eq!(code, 2, "{args:?}: {said}");
        assert!(said.contains(says), "{args:?}: {said}");
    }
}
