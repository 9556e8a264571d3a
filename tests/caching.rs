//! The cache's promises, end to end through the `ablate` binary.
mod common;

use common::{TINY, Workspace, names, stage, write_odir_folder};

#[test]
fn a_second_run_executes_nothing() {
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    assert_eq!(ws.run("p.yaml", &[]), ["data", "evaluate", "export", "model", "train"]);
    assert!(ws.run("p.yaml", &[]).is_empty());
    let plan = ws.plan("p.yaml", &[]);
    assert_eq!(names(&plan, "cached").len(), 5);
    assert!(
        plan.iter().all(|s| s["key"].is_string() && s["reasons"].as_array().unwrap().is_empty())
    );
}

#[test]
fn changing_a_parameter_reruns_exactly_that_stage_and_its_descendants() {
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    ws.run("p.yaml", &[]);
    let plan = ws.plan("p.yaml", &["train.lr=0.0001"]);
    assert_eq!(names(&plan, "cached"), ["data", "model"]);
    assert_eq!(stage(&plan, "train")["reasons"][0], "params.lr: 0.001 → 0.0001");
    assert_eq!(stage(&plan, "evaluate")["reasons"][0], "upstream train runs first");
    assert_eq!(ws.run("p.yaml", &["train.lr=0.0001"]), ["evaluate", "export", "train"]);
    // Changing back finds the first results again.
    assert!(ws.run("p.yaml", &[]).is_empty());
    // A parameter of a leaf re-runs the leaf alone.
    assert_eq!(ws.run("p.yaml", &["evaluate.threshold=0.4"]), ["evaluate"]);
}

const ODIR: &str = r#"
name: odir
vars: {limit: 0}
stages:
  load:
    kind: load
    params: {root: odir, size: 16, splits: [train, val], limit: "${limit}"}
  model:
    kind: backbone
    params: {arch: resnet18}
  train:
    kind: train
    inputs: {data: load, model: model}
    params: {epochs: 1, batch_size: 4, head_hidden: 8}
"#;

#[test]
fn changing_one_input_image_changes_the_load_key_and_names_the_file() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train", "val"], 6);
    ws.write("p.yaml", ODIR);
    assert_eq!(ws.run("p.yaml", &[]), ["load", "model", "train"]);
    let before = ws.plan("p.yaml", &[]);
    image::RgbImage::from_pixel(20, 20, image::Rgb([1, 2, 3]))
        .save(ws.path("odir/images/train/2_left.png"))
        .unwrap();
    let after = ws.plan("p.yaml", &[]);
    assert_ne!(stage(&before, "load")["key"], stage(&after, "load")["key"]);
    assert_eq!(stage(&after, "load")["reasons"][0], "input file images/train/2_left.png changed");
    assert_eq!(stage(&after, "train")["status"], "run");
}

#[test]
fn moving_the_dataset_keeps_results_cached() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train", "val"], 6);
    ws.write("p.yaml", ODIR);
    ws.run("p.yaml", &[]);
    std::fs::rename(ws.path("odir"), ws.path("moved")).unwrap();
    assert!(ws.run("p.yaml", &["load.root=moved"]).is_empty());
}

#[test]
fn per_split_roots_and_an_image_root_choose_where_each_split_comes_from() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("small"), &["train", "val"], 6);
    write_odir_folder(&ws.path("big"), &["train", "val"], 9);
    let load = |params: &str| {
        format!(
            "name: p\nstages:\n  load:\n    kind: load\n    params: {{root: small, size: 16, splits: [train, val], {params}}}\n"
        )
    };
    let rows = |ws: &Workspace| {
        let dataset =
            ablate_stages::data::dataset::Dataset::read(&ws.output_of("p", "load").join("out"))
                .unwrap();
        dataset.splits.iter().map(|s| (s.name.clone(), s.len())).collect::<Vec<_>>()
    };
    ws.write("p.yaml", &load("roots: {train: big}"));
    ws.run("p.yaml", &[]);
    assert_eq!(rows(&ws), [("train".to_string(), 9), ("val".to_string(), 6)]);

    // The same ids' images from another folder: small's CSVs, big's pixels (the two folders'
    // images 0-5 are drawn alike; big's 0_left.png differs).
    image::RgbImage::from_pixel(20, 20, image::Rgb([1, 2, 3]))
        .save(ws.path("big/images/train/0_left.png"))
        .unwrap();
    ws.write("p.yaml", &load("image_root: big"));
    let plan = ws.plan("p.yaml", &[]);
    assert_eq!(stage(&plan, "load")["reasons"][0], "input file images/train/0_left.png changed");
    ws.run("p.yaml", &[]);
    assert_eq!(rows(&ws), [("train".to_string(), 6), ("val".to_string(), 6)]);

    ws.write("p.yaml", &load("roots: {test: big}"));
    let output = ws.ablate(&["run", "p.yaml", "--device", "cpu"]);
    assert!(!output.status.success());
    assert!(
        common::text(&output)
            .contains("`roots` names split `test`, which `splits` does not list (train, val)"),
        "{}",
        common::text(&output)
    );
}

#[test]
fn a_stage_that_reproduces_its_output_does_not_rerun_its_consumers() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train", "val"], 6);
    ws.write("p.yaml", ODIR);
    ws.run("p.yaml", &[]);
    // `limit: 6` keeps every row: `load` has a new key and runs, but writes identical bytes.
    let plan = ws.plan("p.yaml", &["limit=6"]);
    assert_eq!(stage(&plan, "load")["reasons"][0], "params.limit: 0 → 6");
    assert_eq!(ws.run("p.yaml", &["limit=6"]), ["load"]);
}

#[test]
fn results_carry_metrics_in_parquet_and_a_submission_csv() {
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    ws.run("p.yaml", &[]);
    let metrics = ablate_core::metrics::read_parquet(
        &ws.output_of("tiny", "evaluate").join("metrics.parquet"),
    )
    .unwrap();
    let f1: Vec<_> = metrics.iter().filter(|m| m.row.metric == "f1").collect();
    assert_eq!(f1.len(), 3);
    assert!(f1.iter().all(|m| m.pipeline == "tiny"
        && m.stage == "evaluate"
        && m.row.split.as_deref() == Some("offsite_test")));
    let macro_f1 = metrics.iter().find(|m| m.row.metric == "macro_f1").unwrap().row.value;
    let mean = f1.iter().map(|m| m.row.value).sum::<f64>() / 3.0;
    assert!((macro_f1 - mean).abs() < 1e-12);
    let train =
        ablate_core::metrics::read_parquet(&ws.output_of("tiny", "train").join("metrics.parquet"))
            .unwrap();
    assert!(train.iter().any(|m| m.row.metric == "loss" && m.row.epoch == Some(1)));

    let csv =
        std::fs::read_to_string(ws.output_of("tiny", "export").join("out/submission.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,D,G,A");
    assert_eq!(lines.len(), 9);
    assert!(lines[1].starts_with("onsite_test_00000.png,"));
    assert!(lines[1..].iter().all(|l| l.split(',').skip(1).all(|v| v == "0" || v == "1")));
}
