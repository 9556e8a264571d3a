//! The training recipes end to end on tiny synthetic data (deterministic CPU mode): losses from
//! a `loss` stage, resuming a killed run, continuing when `epochs` is raised, divergence, mixed
//! precision and tuned thresholds.
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ablate_core::metrics::read_parquet;
use common::{Workspace, text};

const PIPELINE: &str = r#"
name: recipes
vars: {epochs: 4, function: focal, gamma: 2.0, precision: fp32, lr: 0.001, optimizer: adam, weight_decay: 0.0, schedule: constant}
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 96, val: 16, offsite_test: 16, onsite_test: 8}
  model:
    kind: backbone
    params: {arch: resnet18}
  loss:
    kind: loss
    inputs: {data: data}
    params: {function: "${function}", gamma: "${gamma}", alpha: 0.25}
  train:
    kind: train
    inputs: {data: data, model: model, loss: loss}
    params:
      epochs: ${epochs}
      batch_size: 16
      head_hidden: 32
      lr: ${lr}
      optimizer: ${optimizer}
      weight_decay: ${weight_decay}
      schedule: ${schedule}
      precision: ${precision}
      deterministic: true
      tune_thresholds: true
      checkpoint_seconds: 0
  evaluate:
    kind: evaluate
    inputs: {model: train, data: data}
"#;

fn setup() -> (Workspace, PathBuf) {
    let ws = Workspace::new();
    let pipeline = ws.write("recipes.yaml", PIPELINE);
    (ws, pipeline)
}

/// The train stage's metric rows that do not measure time, in order.
fn training_metrics(ws: &Workspace) -> Vec<(String, Option<u32>, Option<String>, f64)> {
    let dir = ws.output_of("recipes", "train");
    read_parquet(&dir.join("metrics.parquet"))
        .unwrap()
        .into_iter()
        .filter(|m| m.row.metric != "images_per_second")
        .map(|m| (m.row.metric, m.row.epoch, m.row.class, m.row.value))
        .collect()
}

fn run_text(ws: &Workspace, pipeline: &Path, sets: &[&str]) -> String {
    let mut args = vec!["run", pipeline.to_str().unwrap(), "--device", "cpu"];
    for set in sets {
        args.extend(["--set", set]);
    }
    let output = ws.ablate(&args);
    assert!(output.status.success(), "run failed:\n{}", text(&output));
    text(&output)
}

fn checkpoint_epoch(ws: &Workspace) -> Option<u32> {
    let work = std::fs::read_dir(ws.path("cache/work")).ok()?;
    work.flatten()
        .filter_map(|d| checkpoint_header_epoch(&d.path().join("checkpoint.safetensors")))
        .max()
}

/// The epoch in a checkpoint's metadata, read from the safetensors header alone.
fn checkpoint_header_epoch(file: &Path) -> Option<u32> {
    let bytes = std::fs::read(file).ok()?;
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).ok()?;
    let state: serde_json::Value =
        serde_json::from_str(metadata.metadata().as_ref()?.get("ablate.training")?).ok()?;
    state["epoch"].as_u64().map(|e| e as u32)
}

#[test]
fn a_killed_run_continues_from_its_last_epoch_and_ends_as_an_uninterrupted_one() {
    let (reference, pipeline) = setup();
    run_text(&reference, &pipeline, &[]);
    let expected = training_metrics(&reference);
    assert_eq!(expected.iter().filter(|m| m.0 == "loss").count(), 4);

    let (ws, pipeline) = setup();
    let mut child =
        ws.command(&["run", pipeline.to_str().unwrap(), "--device", "cpu"]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint_epoch(&ws).is_none_or(|e| e < 1) {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL; the torch worker exits when its stdin closes
    child.wait().unwrap();
    let killed_at = checkpoint_epoch(&ws).unwrap();
    assert!(killed_at < 4, "killed after the last epoch");
    assert!(!ws.ref_path("recipes", "train").exists(), "train was published before the kill");

    let output = run_text(&ws, &pipeline, &[]);
    assert!(output.contains(&format!("continued from epoch {killed_at}")), "{output}");
    assert_eq!(training_metrics(&ws), expected);
    assert!(
        std::fs::read_dir(ws.path("cache/work")).unwrap().next().is_some(),
        "constant lr: the workspace stays for extension"
    );
}

#[test]
fn raising_epochs_continues_the_cached_run_unless_the_schedule_depends_on_them() {
    let (reference, pipeline) = setup();
    run_text(&reference, &pipeline, &[]);
    let expected = training_metrics(&reference);

    let (ws, pipeline) = setup();
    run_text(&ws, &pipeline, &["epochs=2"]);
    the_finished_workspace_shares_the_best_weights_with_the_result(&ws, 2);
    let output = run_text(&ws, &pipeline, &[]);
    assert!(output.contains("continued from epoch 2"), "{output}");
    assert_eq!(training_metrics(&ws), expected);

    run_text(&ws, &pipeline, &["schedule=cosine", "epochs=2"]);
    let output = run_text(&ws, &pipeline, &["schedule=cosine", "epochs=3"]);
    assert!(!output.contains("continued"), "a cosine schedule must start over:\n{output}");
}

/// The checkpoint of a finished training holds no best weights: the workspace keeps them as a
/// hard link to the result's model file, named by the checkpoint's epoch.
fn the_finished_workspace_shares_the_best_weights_with_the_result(ws: &Workspace, epoch: u32) {
    use std::os::unix::fs::MetadataExt;
    let workspace = std::fs::read_dir(ws.path("cache/work")).unwrap().next().unwrap().unwrap();
    let checkpoint = std::fs::read(workspace.path().join("checkpoint.safetensors")).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&checkpoint).unwrap();
    assert!(tensors.names().iter().any(|n| n.starts_with("model.")));
    assert!(!tensors.names().iter().any(|n| n.starts_with("best.")), "best weights twice");
    let best = std::fs::metadata(workspace.path().join(format!("best-{epoch}.safetensors")));
    let model = std::fs::metadata(ws.output_of("recipes", "train").join("out/model.safetensors"));
    assert_eq!(best.unwrap().ino(), model.unwrap().ino(), "one file, linked");
}

#[test]
fn a_loss_parameter_that_does_not_matter_leaves_training_cached() {
    let (ws, pipeline) = setup();
    run_text(&ws, &pipeline, &["function=bce", "epochs=1"]);
    run_text(&ws, &pipeline, &["function=bce", "epochs=1", "gamma=1.0"]);
    assert_eq!(
        ws.last_run_ran(),
        ["loss"],
        "γ does not enter a BCE loss: early cutoff keeps train cached"
    );
    let loss: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.output_of("recipes", "loss").join("out/loss.json")).unwrap(),
    )
    .unwrap();
    let positives: u64 =
        loss["positives"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum();
    assert!(positives > 0 && loss["samples"] == 96, "{loss}");
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_last_good_checkpoint() {
    let (ws, pipeline) = setup();
    let output = ws.ablate(&[
        "run",
        pipeline.to_str().unwrap(),
        "--device",
        "cpu",
        "--set",
        "lr=10",
        "--set",
        "optimizer=adamw",
        "--set",
        "weight_decay=1",
        "--set",
        "epochs=12",
    ]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    let epoch: u32 = out
        .split("training loss is NaN in epoch ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no divergence message:\n{out}"));
    assert!(
        epoch >= 2,
        "diverged in the first epoch; the test wants a checkpoint before it:\n{out}"
    );
    assert!(out.contains("training diverged; lower the learning rate (lr = 10)"), "{out}");
    assert!(out.contains(&format!("the checkpoint of epoch {} is kept in", epoch - 1)), "{out}");
    assert_eq!(checkpoint_epoch(&ws), Some(epoch - 1));
    assert!(!ws.ref_path("recipes", "train").exists());
}

#[test]
fn bf16_autocast_trains_and_evaluation_reports_tuned_thresholds_beside_fixed_ones() {
    let (ws, pipeline) = setup();
    run_text(&ws, &pipeline, &["precision=bf16", "epochs=1"]);
    let metrics = training_metrics(&ws);
    let loss = metrics.iter().find(|m| m.0 == "loss").unwrap().3;
    assert!(loss.is_finite() && loss > 0.0);
    let evaluate =
        read_parquet(&ws.output_of("recipes", "evaluate").join("metrics.parquet")).unwrap();
    let has = |name: &str| evaluate.iter().any(|m| m.row.metric == name);
    assert!(has("macro_f1") && has("tuned_macro_f1") && has("tuned_f1"));
    let thresholds: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.output_of("recipes", "train").join("out/thresholds.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(thresholds["tuned_on"], "val");
}

/// Ties between epochs decide which model is published: a training extended from a shorter
/// one, or continued after a kill, must pick the same best epoch and publish the same bytes as
/// an uninterrupted one (issue 26: a best macro-F1 read back one ULP low from the checkpoint
/// made an equal later epoch count as better). With a learning rate of 1e-9 every epoch scores
/// the same: epoch 1 must stay the best.
#[test]
fn ties_at_every_epoch_publish_the_same_model_straight_through_or_extended() {
    let sets = ["function=focal", "lr=1e-9", "epochs=3"];
    let (straight, pipeline) = setup();
    run_text(&straight, &pipeline, &sets);
    let model = |ws: &Workspace| {
        std::fs::read(ws.output_of("recipes", "train").join("out/model.safetensors")).unwrap()
    };
    let best_epoch = |ws: &Workspace| {
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(ws.output_of("recipes", "train").join("record.json")).unwrap(),
        )
        .unwrap();
        let summary = summary["summary"].as_str().unwrap_or_default().to_string();
        let best = summary.split("; ").find(|part| part.starts_with("best epoch"));
        best.unwrap_or_default().to_string()
    };
    assert!(best_epoch(&straight).contains("best epoch 1/3"), "{}", best_epoch(&straight));

    let (extended, pipeline) = setup();
    run_text(&extended, &pipeline, &["function=focal", "lr=1e-9", "epochs=1"]);
    run_text(&extended, &pipeline, &["function=focal", "lr=1e-9", "epochs=2"]);
    let output = run_text(&extended, &pipeline, &sets);
    assert!(output.contains("continued from epoch 2"), "{output}");
    assert_eq!(best_epoch(&extended), best_epoch(&straight));
    assert!(model(&extended) == model(&straight), "extended: another model was published");
}
