//! A run killed in the middle of a stage publishes nothing for it, and the next run finishes
//! the job without redoing what was complete.
mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::Workspace;

const SLOW: &str = r#"
name: slow
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 256, val: 16, offsite_test: 16, onsite_test: 8}
  model:
    kind: backbone
    params: {arch: resnet18}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 30, batch_size: 16, head_hidden: 32}
  evaluate:
    kind: evaluate
    inputs: {model: train, data: data}
"#;

#[test]
fn a_killed_run_leaves_no_partial_result_and_the_next_run_completes() {
    let ws = Workspace::new();
    ws.write("p.yaml", SLOW);
    let mut child = ws
        .command(&["run", "p.yaml", "--device", "cpu", "--set", "train.epochs=30"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        // Kill once training has finished its first epoch: deep inside the stage.
        if line.unwrap().contains("epoch 1/30") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let entries = ws.entries();
    assert_eq!(
        entries.len(),
        2,
        "only the finished `data` and `model` stages are published: {entries:?}"
    );
    assert!(entries.iter().all(|e| e.join("record.json").exists()));
    assert!(entries.iter().any(|e| e.join("out/dataset.safetensors").exists()));

    // The worker died with its parent: nothing else writes into the cache now.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(ws.entries().len(), 2);

    assert_eq!(ws.run("p.yaml", &["train.epochs=2"]), ["evaluate", "train"]);
    let staging = std::fs::read_dir(ws.path("cache/staging")).unwrap().count();
    assert_eq!(staging, 0, "leftover staging folders are cleaned");
}

#[test]
fn two_concurrent_runs_compute_each_stage_once() {
    let ws = Workspace::new();
    ws.write("p.yaml", common::TINY);
    let children: Vec<_> = (0..2)
        .map(|_| {
            ws.command(&["run", "p.yaml", "--device", "cpu"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut ran = Vec::new();
    for run in std::fs::read_dir(ws.path("cache/runs")).unwrap().flatten() {
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.path()).unwrap()).unwrap();
        for pair in report["stages"].as_array().unwrap() {
            if pair[1]["status"] == "ran" {
                ran.push(pair[0].as_str().unwrap().to_string());
            }
        }
    }
    ran.sort();
    assert_eq!(
        ran,
        ["data", "evaluate", "export", "model", "train"],
        "each stage ran exactly once across both runs"
    );
    assert_eq!(ws.entries().len(), 5);
}

#[test]
fn a_corrupt_cached_output_is_detected_when_read_and_recomputed_in_the_same_run() {
    let ws = Workspace::new();
    ws.write("p.yaml", common::TINY);
    ws.run("p.yaml", &[]);
    let dataset = ws.output_of("tiny", "data").join("out/dataset.safetensors");
    let mut bytes = std::fs::read(&dataset).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&dataset, bytes).unwrap();
    assert!(!ws.ablate(&["verify"]).status.success(), "verify finds the flipped byte");

    // A changed learning rate makes `train` read the dataset again.
    let output = ws.ablate(&["run", "p.yaml", "--device", "cpu", "--set", "train.lr=0.002"]);
    let log = common::text(&output);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains("train: input `data` (stage data): cache entry") && log.contains("is corrupt"),
        "{log}"
    );
    assert!(log.contains("set aside, data runs again"), "{log}");
    assert_eq!(
        ws.last_run_ran(),
        ["data", "evaluate", "export", "train"],
        "the dataset is made again, then its readers"
    );
    assert_eq!(
        std::fs::read_dir(ws.path("cache/corrupt")).unwrap().count(),
        1,
        "the corrupt result is kept aside"
    );
    assert!(ws.ablate(&["verify"]).status.success());
}
