//! GradCAM end to end on tiny synthetic data: GradCAM-guided training reports `cam_loss`, and
//! the `gradcam` stage writes overlays, raw maps and an index page whose colours are RGB jet.
//! Images are 64 px so that ResNet18's final map is 2×2 (at 32 px it is a single cell).
mod common;

use ablate_core::metrics::read_parquet;
use ablate_stages::gradcam::Index;
use common::{Workspace, text};

/// `train` is GradCAM-guided; the maps are drawn of `probe`, a head trained on the frozen random
/// backbone, whose BatchNorm layers use the same statistics in training and evaluation, so that
/// a few steps give it positive logits (and non-empty maps) on the CPU.
const PIPELINE: &str = r#"
name: cam
vars: {ids: []}
stages:
  data:
    kind: synthetic
    params: {size: 64, train: 32, val: 8, offsite_test: 4, onsite_test: 4}
  model:
    kind: backbone
    params: {arch: resnet18}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 2, batch_size: 16, head_hidden: 32, lr: 0.001, deterministic: true, cam_weight: 0.1}
  probe:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 3, batch_size: 16, head_hidden: 32, lr: 0.01, freeze: backbone, deterministic: true}
  gradcam:
    kind: gradcam
    inputs: {model: probe, data: data}
    params: {split: val, count: 3, classes: all, opacity: 1.0, ids: "${ids}"}
"#;

/// The jet colour of `v` in [0, 1] as bytes (the formula of `nn::gradcam::jet`).
fn jet(v: f32) -> [f32; 3] {
    [3.0, 2.0, 1.0].map(|centre| (1.5 - (4.0 * v - centre).abs()).clamp(0.0, 1.0) * 255.0)
}

#[test]
fn guided_training_and_gradcam_write_rgb_jet_overlays_maps_and_an_index() {
    let ws = Workspace::new();
    let pipeline = ws.write("cam.yaml", PIPELINE);
    ws.run(pipeline.to_str().unwrap(), &[]);

    let train = read_parquet(&ws.output_of("cam", "train").join("metrics.parquet")).unwrap();
    let cam_losses: Vec<f64> =
        train.iter().filter(|m| m.row.metric == "cam_loss").map(|m| m.row.value).collect();
    assert_eq!(cam_losses.len(), 2, "one cam_loss per epoch");
    assert!(
        cam_losses.iter().all(|c| (0.0..=1.0).contains(c)),
        "normalised entropy: {cam_losses:?}"
    );

    let out = ws.output_of("cam", "gradcam").join("out");
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    let rows: Vec<&str> = index.lines().filter(|l| l.starts_with("| ![")).collect();
    assert_eq!(rows.len(), 3 * 3, "three images × all three labels:\n{index}");
    assert!(rows[0].contains("| val_00000.png | D |"), "{}", rows[0]);
    let written = Index::read(&out, "not read: index.json has it", 0.0).unwrap();
    assert_eq!((written.split.as_str(), written.images, written.map_size), ("val", 3, (2, 2)));
    let shown = Index::read_legacy_markdown(&index, "val", written.threshold).unwrap();
    assert_eq!(shown.overlays.len(), written.overlays.len());
    for (page, json) in shown.overlays.iter().zip(&written.overlays) {
        assert_eq!((&page.file, &page.image, &page.label), (&json.file, &json.image, &json.label));
        assert_eq!((page.predicted, page.truth), (json.predicted, json.truth));
        assert!((page.probability - json.probability).abs() <= 5e-5, "{page:?} vs {json:?}");
    }

    let maps_bytes = std::fs::read(out.join("maps.safetensors")).unwrap();
    let maps_file = safetensors::SafeTensors::deserialize(&maps_bytes).unwrap();
    let maps = maps_file.tensor("maps").unwrap();
    assert_eq!(maps.shape(), [3, 3, 2, 2]);
    let values: Vec<f32> =
        maps.data().chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();

    let mut hottest_checked = 0;
    for (image, id) in ["val_00000", "val_00001", "val_00002"].iter().enumerate() {
        for (label, name) in ["D", "G", "A"].iter().enumerate() {
            let overlay =
                image::open(out.join(format!("overlays/{id}_{name}.png"))).unwrap().to_rgb8();
            // 64-px images are drawn 4× as large, at least 224 px wide.
            assert_eq!(overlay.dimensions(), (256, 256));
            let cells = &values[(image * 3 + label) * 4..][..4];
            let max = cells.iter().copied().fold(0.0f32, f32::max);
            // Bilinear upsampling without corner alignment reproduces each cell at its image corner.
            for (cell, (x, y)) in cells.iter().zip([(0, 0), (255, 0), (0, 255), (255, 255)]) {
                let expected = jet(if max > 0.0 { cell / max } else { 0.0 });
                let got = overlay.get_pixel(x, y).0;
                for channel in 0..3 {
                    let difference = (f32::from(got[channel]) - expected[channel]).abs();
                    assert!(
                        difference <= 1.0,
                        "{id} {name} pixel ({x}, {y}): {got:?}, expected jet {expected:?}"
                    );
                }
                if max > 0.0 && *cell == max {
                    assert!(
                        got[0] > 100 && got[1] < 10 && got[2] < 10,
                        "the hottest pixel is not red: {got:?}"
                    );
                    hottest_checked += 1;
                }
            }
        }
    }
    assert!(hottest_checked > 0, "every map was empty");

    let bad =
        ws.write("bad.yaml", &PIPELINE.replace("vars: {ids: []}", "vars: {ids: [val_99.png]}"));
    let output = ws.ablate(&["run", bad.to_str().unwrap(), "--device", "cpu"]);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("`ids`: split `val` has no image `val_99.png`"),
        "{}",
        text(&output)
    );
}
