//! `score` through the binary: any stage's `predictions.csv` scored exactly as `evaluate` scores
//! a native model (F1 at the threshold, AUROC and average precision, their macro means), read
//! by `compare` like any evaluation, and predictions that cannot be scored refused by line.
mod common;

use common::{Workspace, text};
use serde_json::Value;

/// A native model evaluated, its predictions scored again by `score`, and a model of the
/// user's own (a script that ranks images by a hash of their id) scored beside it.
const PIPELINE: &str = r#"
name: own
stages:
  data:
    kind: synthetic
    params: {size: 16, train: 32, val: 16, offsite_test: 48, onsite_test: 8}
  model: {kind: backbone, params: {arch: resnet18}}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 1, batch_size: 8, head_hidden: 8}
  evaluate: {kind: evaluate, inputs: {model: train, data: data}}
  rescore: {kind: score, inputs: {predictions: evaluate, data: data}}
  mine:
    kind: command
    inputs: {data: data}
    params:
      run: [python3, "${pipeline_dir}/mine.py"]
      deps: ["${pipeline_dir}/mine.py"]
  scored: {kind: score, inputs: {predictions: mine, data: data}, params: {threshold: 0.4}}
"#;

/// Writes a probability per image and label from a hash of its id; `bad` spoils a row.
const MINE: &str = r#"
import hashlib, json, os
index = json.load(open(os.path.join(os.environ["ABLATE_INPUT_DATA"], "dataset.json")))
ids = dict(index["splits"])["offsite_test"]
rows = ["id," + ",".join("p_" + l for l in index["label_names"])]
for i in ids:
    h = hashlib.sha256(i.encode()).digest()
    rows.append(i + "," + ",".join("%.6f" % (h[c] / 255) for c in range(len(index["label_names"]))))
bad = os.environ.get("MINE_BAD", "")
if bad == "range":
    rows[3] = rows[3].rsplit(",", 1)[0] + ",1.5"
elif bad == "foreign":
    rows[2] = "stranger.jpg" + rows[2][rows[2].index(","):]
open(os.path.join(os.environ["ABLATE_OUT"], "predictions.csv"), "w").write("\n".join(rows) + "\n")
"#;

fn scores(ws: &Workspace, stage: &str) -> Value {
    let path = ws.output_of("own", stage).join("out/scores.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The AUROC of one label counted pair by pair: an independent check of the sorted sweep.
fn auroc_by_pairs(p: &[f64], y: &[bool]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (pi, _) in p.iter().zip(y).filter(|(_, y)| **y) {
        for (pj, _) in p.iter().zip(y).filter(|(_, y)| !**y) {
            wins += if pi > pj {
                1.0
            } else if pi == pj {
                0.5
            } else {
                0.0
            };
            pairs += 1.0;
        }
    }
    wins / pairs
}

#[test]
fn any_stage_s_predictions_are_scored_as_evaluate_scores_a_model() {
    let ws = Workspace::new();
    ws.write("own.yaml", PIPELINE);
    ws.write("mine.py", MINE);
    ws.run("own.yaml", &[]);

    // `score` of evaluate's own predictions reproduces evaluate's numbers.
    let (native, rescored) = (scores(&ws, "evaluate"), scores(&ws, "rescore"));
    for field in ["labels", "ranking", "macro_f1", "macro_auroc", "macro_average_precision"] {
        assert_eq!(native[field], rescored[field], "{field}");
    }
    assert!(native["macro_auroc"].as_f64().is_some(), "{native}");

    // The user's model: AUROC per label as counted pair by pair against the dataset's labels.
    let mine = scores(&ws, "scored");
    let predictions =
        std::fs::read_to_string(ws.output_of("own", "scored").join("out/predictions.csv")).unwrap();
    let labels = ablate_stages::data::dataset::read_split_labels(
        &ws.output_of("own", "data").join("out"),
        "offsite_test",
    )
    .unwrap();
    let n = labels.label_names.len();
    let rows: Vec<Vec<&str>> =
        predictions.lines().skip(1).map(|l| l.split(',').collect()).collect();
    for (c, label) in labels.label_names.iter().enumerate() {
        let mut p = Vec::new();
        let mut y = Vec::new();
        for row in &rows {
            let at = labels.ids.iter().position(|id| id == row[0]).unwrap();
            p.push(row[c + 1].parse::<f64>().unwrap());
            y.push(labels.labels[at * n + c] == 1);
        }
        let stored = &mine["ranking"][label]["auroc"];
        match stored.as_f64() {
            Some(auroc) => assert!((auroc - auroc_by_pairs(&p, &y)).abs() < 1e-12, "{label}"),
            None => assert!(y.iter().all(|&v| v) || y.iter().all(|&v| !v), "{label}: {stored}"),
        }
    }
    assert_eq!(mine["thresholds"]["D"], 0.4);

    // compare reads it like any evaluation, by the new metrics too.
    let table = text(&ws.ablate(&[
        "compare",
        "--stage",
        "scored",
        "--metric",
        "macro_auroc",
        "--format",
        "json",
    ]));
    let rows: Vec<Value> = serde_json::from_str(&table).expect(&table);
    let shown = rows[0]["metrics"]["offsite_test.macro_auroc"]["mean"].as_f64().unwrap();
    assert_eq!(shown, mine["macro_auroc"].as_f64().unwrap());

    // Predictions that cannot be scored fail the stage, naming the line or the image.
    for (bad, message) in [
        ("range", "predictions.csv:4: p_"),
        ("foreign", "image stranger.jpg is not in split `offsite_test`"),
    ] {
        ws.write(
            "mine.py",
            &MINE.replace(r#"os.environ.get("MINE_BAD", "")"#, &format!("{bad:?}")),
        );
        let failed = ws.ablate(&["run", "own.yaml"]);
        assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
        assert!(text(&failed).contains(message), "{bad}: {}", text(&failed));
    }
}
