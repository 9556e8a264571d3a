//! VAE augmentation end to end on tiny synthetic data: `vae_augment` balances the training
//! labels exactly, keeps the original rows and the other splits, reports its loss per label and
//! epoch, draws sample grids, is reproducible from its seed, and `train` consumes its output.
mod common;

use ablate_core::metrics::read_parquet;
use ablate_stages::data::dataset::Dataset;
use common::{Workspace, names, text};

const PIPELINE: &str = r#"
name: vae
vars: {vae_seed: 0}
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 64, val: 16, offsite_test: 16, onsite_test: 8}
  vae:
    kind: vae_augment
    inputs: {data: data}
    params: {epochs: 3, grid: 4, seed: "${vae_seed}"}
  model:
    kind: backbone
    params: {arch: resnet18}
  train:
    kind: train
    inputs: {data: vae, model: model}
    params: {epochs: 1, batch_size: 16, head_hidden: 32}
  evaluate:
    kind: evaluate
    inputs: {model: train, data: vae}
"#;

fn dataset(ws: &Workspace, stage: &str) -> Dataset {
    Dataset::read(&ws.output_of("vae", stage).join("out")).unwrap()
}

/// `vae_loss` values by (label, epoch), in the order written.
fn vae_losses(ws: &Workspace) -> Vec<(String, u32, f64)> {
    let rows = read_parquet(&ws.output_of("vae", "vae").join("metrics.parquet")).unwrap();
    rows.into_iter()
        .filter(|m| m.row.metric == "vae_loss")
        .map(|m| (m.row.class.unwrap(), m.row.epoch.unwrap(), m.row.value))
        .collect()
}

#[test]
fn train_consumes_a_training_split_balanced_exactly_by_the_vae() {
    let ws = Workspace::new();
    let pipeline = ws.write("vae.yaml", PIPELINE);
    let ran = ws.run(pipeline.to_str().unwrap(), &[]);
    assert_eq!(ran, ["data", "evaluate", "model", "train", "vae"]);

    let (input, output) = (dataset(&ws, "data"), dataset(&ws, "vae"));
    let n_labels = input.label_names.len();
    let (before, after) = (input.split("train").unwrap(), output.split("train").unwrap());
    let (counts, balanced) = (before.positives(n_labels), after.positives(n_labels));
    let most = *counts.iter().max().unwrap();
    let minority: Vec<usize> = (0..n_labels).filter(|&c| counts[c] < most).collect();
    assert!(!minority.is_empty(), "the synthetic data should be imbalanced: {counts:?}");
    for c in 0..n_labels {
        let expected = if minority.contains(&c) { most } else { counts[c] };
        assert_eq!(
            balanced[c], expected,
            "label {}: {counts:?} → {balanced:?}",
            input.label_names[c]
        );
    }
    let generated: usize = minority.iter().map(|&c| most - counts[c]).sum();
    assert_eq!(after.len(), before.len() + generated);
    eprintln!("train positives {counts:?} → {balanced:?}; {} + {generated} images", before.len());

    // The originals come first, unchanged; each synthetic image carries its label alone.
    let (image_bytes, n) = (3 * 32 * 32, before.len());
    assert_eq!(after.ids[..n], before.ids[..]);
    assert_eq!(after.images[..n * image_bytes], before.images[..]);
    assert_eq!(after.labels[..n * n_labels], before.labels[..]);
    let synthetic_labels: Vec<&[u8]> = after.labels[n * n_labels..].chunks(n_labels).collect();
    assert!(
        synthetic_labels.iter().all(|row| row.iter().map(|&y| usize::from(y)).sum::<usize>() == 1)
    );
    let first_label = &input.label_names[minority[0]];
    assert_eq!(after.ids[n], format!("{first_label}_vae_0.png"));
    for name in ["val", "offsite_test", "onsite_test"] {
        assert_eq!(
            output.split(name).unwrap(),
            input.split(name).unwrap(),
            "split {name} must pass through"
        );
    }

    let losses = vae_losses(&ws);
    eprintln!("vae_loss per label and epoch: {losses:?}");
    assert_eq!(losses.len(), 3 * minority.len());
    assert!(losses.iter().all(|(_, _, loss)| loss.is_finite() && *loss > 0.0));
    for &c in &minority {
        let label = &input.label_names[c];
        let epochs: Vec<u32> =
            losses.iter().filter(|(l, _, _)| l == label).map(|(_, e, _)| *e).collect();
        assert_eq!(epochs, [1, 2, 3], "{label}");
        let grid = image::open(ws.output_of("vae", "vae").join(format!("out/samples_{label}.png")))
            .unwrap();
        assert_eq!((grid.width(), grid.height()), (4 * 34 + 2, 34 + 2), "4 samples in one row");
    }

    let train_loss = read_parquet(&ws.output_of("vae", "train").join("metrics.parquet")).unwrap();
    assert!(train_loss.iter().any(|m| m.row.metric == "loss" && m.row.value.is_finite()));
}

#[test]
fn the_augmented_set_is_reproducible_from_its_seed_and_a_new_seed_retrains_downstream() {
    let first = Workspace::new();
    let pipeline = first.write("vae.yaml", PIPELINE);
    let pipeline = pipeline.to_str().unwrap();
    first.run(pipeline, &[]);
    let second = Workspace::new();
    second.write("vae.yaml", PIPELINE);
    second.run("vae.yaml", &[]);
    let bytes = |ws: &Workspace| {
        std::fs::read(ws.output_of("vae", "vae").join("out/dataset.safetensors")).unwrap()
    };
    assert!(bytes(&first) == bytes(&second), "the same seed must give the same images");
    assert_eq!(vae_losses(&first), vae_losses(&second));

    let plan = first.plan(pipeline, &["vae_seed=1"]);
    assert_eq!(names(&plan, "run"), ["evaluate", "train", "vae"]);
    assert_eq!(names(&plan, "cached"), ["data", "model"]);
    first.run(pipeline, &["vae_seed=1"]);
    let (reseeded, original) = (dataset(&first, "vae"), dataset(&second, "vae"));
    let n = dataset(&first, "data").split("train").unwrap().len();
    let (a, b) = (reseeded.split("train").unwrap(), original.split("train").unwrap());
    assert_eq!(
        (a.ids.clone(), a.labels.clone()),
        (b.ids.clone(), b.labels.clone()),
        "the counts depend on the data alone"
    );
    assert!(
        a.images[n * 3 * 32 * 32..] != b.images[n * 3 * 32 * 32..],
        "another seed draws other images"
    );
}

#[test]
fn bad_labels_fail_the_stage_with_the_field_named() {
    let ws = Workspace::new();
    ws.write("vae.yaml", &PIPELINE.replace("grid: 4,", "grid: 4, labels: [G, X],"));
    let output = ws.ablate(&["run", "vae.yaml", "--device", "cpu"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("`labels`: the dataset has no label `X` (it has: D, G, A)"), "{out}");
    assert!(!ws.ref_path("vae", "train").exists(), "train must not run without its data");
}
