//! The real ODIR images of `../shared/data/fundus-small`, at a tiny size: load → train →
//! evaluate → export through the binary.
mod common;

use std::path::Path;

use common::Workspace;

#[test]
fn odir_pipeline_runs_on_fundus_small_at_a_tiny_size() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/fundus-small");
    assert!(
        data.join("train.csv").exists(),
        "the shared fundus-small data is missing at {}",
        data.display()
    );
    let ws = Workspace::new();
    let pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/odir-resnet18.yaml");
    let data_set = format!("data={}", data.display());
    let sets = [data_set.as_str(), "size=32", "epochs=1", "load.limit=40", "train.batch_size=20"];
    let ran = ws.run(pipeline.to_str().unwrap(), &sets);
    assert_eq!(ran, ["evaluate", "export", "load", "model", "train"]);

    let dataset = ablate_stages::data::dataset::Dataset::read(
        &ws.output_of("odir-resnet18", "load").join("out"),
    )
    .unwrap();
    assert_eq!(dataset.label_names, ["D", "G", "A"]);
    assert_eq!(dataset.splits.iter().map(|s| s.len()).collect::<Vec<_>>(), [40, 40, 40, 40]);
    let first_train_id = std::fs::read_to_string(data.join("train.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(dataset.splits[0].ids[0], first_train_id);

    let submission =
        std::fs::read_to_string(ws.output_of("odir-resnet18", "export").join("out/submission.csv"))
            .unwrap();
    let template = std::fs::read_to_string(data.join("onsite_test.csv")).unwrap();
    let ids = |csv: &str| {
        csv.lines()
            .skip(1)
            .take(40)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(submission.lines().next(), Some("id,D,G,A"));
    assert_eq!(ids(&submission), ids(&template));
    assert!(ws.run(pipeline.to_str().unwrap(), &sets).is_empty());
}
