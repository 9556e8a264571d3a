//! The model stages end to end on the real images of `../shared` at a tiny size: pre-training
//! on the eight ODIR labels handed on to the three-label task with an attention block, and the
//! shared ImageNet EfficientNet-Lite0 trained head-only, then fully.
mod common;

use std::path::{Path, PathBuf};

use common::{Workspace, names, stage};

fn pipeline() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/odir-transfer.yaml")
}

fn sets() -> Vec<String> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        shared.join("data/fundus-small/train_odir8.csv").exists(),
        "the shared data is missing at {}",
        shared.display()
    );
    vec![
        format!("data={}", shared.join("data/fundus-small").display()),
        format!(
            "weights={}",
            shared.join("weights/tf_efficientnet_lite0.in1k.safetensors").display()
        ),
        "size=32".into(),
        "epochs=1".into(),
        "limit=24".into(),
    ]
}

#[test]
fn pretraining_attention_and_imagenet_weights_chain_through_the_stages() {
    let ws = Workspace::new();
    let sets = sets();
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let pipeline = pipeline();
    let pipeline = pipeline.to_str().unwrap();
    assert_eq!(ws.run(pipeline, &sets).len(), 11);

    let lite0 = ws.output_of("odir-transfer", "lite0").join("out");
    let tensors = safetensors::SafeTensors::deserialize(
        &std::fs::read(lite0.join("weights.safetensors")).unwrap(),
    )
    .unwrap()
    .len();
    assert_eq!(tensors, 294, "296 tensors minus the ImageNet classifier");
    let finetuned: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.output_of("odir-transfer", "resnet18_finetune").join("out/model.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(finetuned["attention"], "se");
    assert_eq!(finetuned["labels"], serde_json::json!(["D", "G", "A"]));

    // Another attention block re-runs the attention stage and what follows it, nothing before.
    let mut other = sets.clone();
    other.push("resnet18_attention.block=mha");
    let plan = ws.plan(pipeline, &other);
    let mut to_run = names(&plan, "run");
    to_run.sort();
    assert_eq!(to_run, ["resnet18_attention", "resnet18_finetune", "resnet18_offsite"]);
    assert_eq!(stage(&plan, "resnet18_attention")["reasons"][0], r#"params.block: "se" → "mha""#);
}

#[test]
fn a_weights_file_with_the_wrong_sha256_is_refused() {
    let ws = Workspace::new();
    let mut sets = sets();
    sets.push(format!("lite0.sha256={}", "ab".repeat(32)));
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let pipeline = pipeline();
    let mut args = vec!["run", pipeline.to_str().unwrap(), "--device", "cpu"];
    for set in &sets {
        args.extend(["--set", set]);
    }
    let output = ws.ablate(&args);
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("tf_efficientnet_lite0.in1k.safetensors has sha256 8ea0f754e28179864c3e8fa853785a7453de0c4862ba0510612a569c3a5830af, expected abab"), "{text}");
}
