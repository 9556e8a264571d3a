//! The whole study (`pipelines/paper.yaml`) at a tiny size on the real images of `../shared`:
//! every task of every model runs, the shared upstream stages run once, and a second run is a
//! no-op.
mod common;

use std::path::Path;

use common::Workspace;

#[test]
fn the_paper_grid_runs_end_to_end_and_shares_its_upstream_stages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    assert!(
        shared.join("data/fundus-small/train_odir8.csv").exists(),
        "the shared data is missing at {}",
        shared.display()
    );
    let sets = [
        format!("data={}", shared.join("data/fundus-small").display()),
        format!("odir={}", shared.join("data/fundus").display()),
        format!(
            "lite0_weights={}",
            shared.join("weights/tf_efficientnet_lite0.in1k.safetensors").display()
        ),
        "size=64".into(), // GradCAM-guided training needs feature maps larger than 1×1
        "limit=16".into(),
        "epochs=1".into(),
        "pretrain_epochs=1".into(),
        "vae_epochs=2".into(),
        "grid.seeds=1".into(),
    ];
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let pipeline = root.join("pipelines/paper.yaml");
    let pipeline = pipeline.to_str().unwrap();
    let ws = Workspace::new();

    let ran = ws.run(pipeline, &sets);
    assert_eq!(ran.len(), 166, "{ran:?}");
    let count = |prefix: &str| ran.iter().filter(|s| s.starts_with(prefix)).count();
    assert_eq!(count("load"), 2, "the two datasets are loaded once for all variants");
    assert_eq!(count("pretrain"), 4, "one pre-training per model, shared by its tasks");
    assert_eq!(count("loss"), 3, "bce, focal and class-balanced, shared by every model");
    assert_eq!(count("head"), 3, "Tasks 1.2 and 1.3 share the head-only run");
    assert_eq!(
        count("finetune"),
        17,
        "Tasks 1.3–3.2 and 4c of two CNNs, Lite0 1.3, ViT and Swin 4b"
    );
    assert!(ran.iter().any(|s| s == "vae"), "one VAE augmentation, shared by both CNNs' Task 4a");
    assert_eq!(count("vae_head"), 2);
    assert_eq!(count("vae_finetune"), 10);
    assert_eq!(count("gradcam"), 8, "Tasks 3.1, 3.2, 4c-se and 4c-mha of two CNNs");
    assert_eq!(count("offsite"), 34);
    assert_eq!(count("validate"), 34);
    assert_eq!(count("submission"), 34, "every variant's on-site submission");
    assert!(
        ran.contains(&"offsite[model=resnet18,task=1.1]".to_string()),
        "Task 1.1 evaluates the ODIR-8 model on D, G, A"
    );
    assert!(ran.contains(&"finetune[model=swin_tiny,task=4b]".to_string()));

    assert!(ws.run(pipeline, &sets).is_empty(), "a second run is a no-op");

    let output = ws.ablate(&["compare", "paper", "--format", "json"]);
    assert!(output.status.success(), "{}", common::text(&output));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), 34, "one row per model and task");
    for row in &rows {
        for column in ["val.macro_f1", "offsite_test.macro_f1", "offsite_test.f1[A]"] {
            assert_eq!(row["metrics"][column]["n"], 1, "{column} of {}", row["variant"]);
        }
    }
}

/// `pipelines/best.yaml` plans every lever, and the levers that change nothing about training
/// (tta, ensemble's first member, thresholds) share the baseline's trainings.
#[test]
fn the_best_model_grid_shares_the_baselines_trainings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    // Planning hashes the weights but loads none: Lite0's file stands in for Lite2's, which
    // `make weights` makes and CI does not need.
    let lite0 = shared.join("weights/tf_efficientnet_lite0.in1k.safetensors");
    let sets = [
        format!("small={}", shared.join("data/fundus-small").display()),
        format!("fundus={}", shared.join("data/fundus").display()),
        format!("lite0_weights={}", lite0.display()),
        format!("lite2_weights={}", lite0.display()),
    ];
    let pipeline = root.join("pipelines/best.yaml");
    let mut args = vec!["plan", pipeline.to_str().unwrap(), "--json"];
    for set in &sets {
        args.extend(["--set", set]);
    }
    let ws = Workspace::new();
    let output = ws.ablate(&args);
    assert!(output.status.success(), "{}", common::text(&output));
    let stages: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["stage"].as_str().unwrap()).collect();
    let count = |kind: &str| stages.iter().filter(|s| s["kind"] == kind).count();
    assert_eq!(count("evaluate"), 9 * 3 * 3, "nine levers, three evaluations, three seeds");
    // Per seed: baseline (shared by tta, thresholds and the ensemble's member 0), odir, 384,
    // lite2 and pretrain8 two each, the ensemble's members 1 and 2 four, combined six; plus the
    // two pre-trainings on the eight labels, shared by the seeds.
    assert_eq!(count("train"), 3 * 20 + 2);
    assert_eq!(count("ensemble"), 2 * 3);
    assert_eq!(count("export"), 3, "the combined model's submission per seed");
    assert!(
        names.contains(&"finetune[lever=baseline+tta+ensemble+thresholds,seed=0]"),
        "{names:?}"
    );
    assert!(names.contains(&"backbone[arch=efficientnet_lite2]"), "{names:?}");
}

/// `pipelines/study-cpu.yaml` extends `paper.yaml`: the CPU edition's plan at a tiny size has
/// exactly the stages its grid needs, shares the head-only training of Tasks 1.2 and 1.3 and
/// the VAE of each seed, drops the pre-training that Lite0 does not use, and names the file
/// each stage comes from.
#[test]
fn the_cpu_edition_extends_the_paper_grid_and_shares_its_stages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pipeline = root.join("pipelines/study-cpu.yaml");
    let pipeline = pipeline.to_str().unwrap();
    let ws = Workspace::new();
    let shared = root.join("../shared");
    let sets = [
        format!("data={}", shared.join("data/fundus-small").display()),
        format!(
            "lite0_weights={}",
            shared.join("weights/tf_efficientnet_lite0.in1k.safetensors").display()
        ),
        "size=64".into(),
        "limit=16".into(),
        "epochs=1".into(),
        "vae_epochs=2".into(),
    ];
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let plan = ws.plan(pipeline, &sets);
    let stages: Vec<String> =
        plan.iter().map(|s| s["stage"].as_str().unwrap().to_string()).collect();
    assert_eq!(stages.len(), 118, "{stages:?}");
    let count = |name: &str| stages.iter().filter(|s| s.split('[').next() == Some(name)).count();
    assert_eq!(count("pretrain") + count("load_odir8"), 0, "Lite0 starts from ImageNet");
    assert_eq!((count("load"), count("backbone"), count("loss")), (1, 1, 3));
    assert_eq!(count("head"), 3, "one head-only training per seed, shared by 1.2 and 1.3");
    assert_eq!(count("finetune"), 18, "1.3, 2.1, 2.2, 3.1, 3.2 and 4c-mha, three seeds");
    assert_eq!(
        (count("vae"), count("vae_head"), count("vae_finetune")),
        (3, 1, 4),
        "VAE-balanced 1.3 has one seed (its `exclude`), 3.2 three"
    );
    assert_eq!(count("gradcam"), 6, "3.2 and 4c-mha, three seeds");
    for evaluation in ["validate", "offsite", "submission"] {
        assert_eq!(count(evaluation), 25, "nine tasks, three seeds, less two of 4a-1.3");
    }
    let output = ws.ablate(&["plan", pipeline, "--set", sets[0], "--set", sets[1]]);
    let out = common::text(&output);
    assert!(output.status.success(), "{out}");
    assert!(
        out.contains("stages from ") && out.contains("paper.yaml: attention, backbone"),
        "{out}"
    );
    assert!(
        out.contains("paper.yaml, changed in ") && out.contains("study-cpu.yaml: gradcam"),
        "{out}"
    );
}
