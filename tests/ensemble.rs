//! Ensembles, test-time augmentation and tuned decisions end to end on tiny synthetic data: an
//! ensemble of one model predicts what the model does; an ensemble's key follows its members'
//! outputs (a member that re-ran with the same output leaves it cached); `decision: tuned`
//! predicts at the thresholds the model carries, and is refused for a model without any; a stage
//! that needs one network refuses an ensemble.
mod common;

use common::{Workspace, text};

const PIPELINE: &str = r#"
name: ens
vars: {lr_b: 0.001, patience_a: 100}
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 48, val: 16, offsite_test: 16, onsite_test: 8}
  model:
    kind: backbone
    params: {arch: resnet18}
  a:
    kind: train
    inputs: {data: data, model: model}
    params: &recipe {epochs: 1, batch_size: 16, head_hidden: 32, deterministic: true, tune_thresholds: true, patience: "${patience_a}"}
  b:
    kind: train
    inputs: {data: data, model: model}
    params: {<<: *recipe, member: 1, lr: "${lr_b}", patience: 100}
  one:
    kind: ensemble
    inputs: {only: a}
  both:
    kind: ensemble
    inputs: {data: data, first: a, second: b}
    params: {tune_thresholds: true}
  eval_a:
    kind: evaluate
    inputs: {model: a, data: data}
  eval_one:
    kind: evaluate
    inputs: {model: one, data: data}
  eval_both:
    kind: evaluate
    inputs: {model: both, data: data}
    params: {decision: tuned, tta: flips}
  export_both:
    kind: export
    inputs: {model: both, data: data}
    params: {decision: tuned, tta: flips, split: offsite_test}
"#;

fn setup() -> Workspace {
    let ws = Workspace::new();
    ws.write("ens.yaml", PIPELINE);
    ws
}

fn read(ws: &Workspace, stage: &str, file: &str) -> String {
    std::fs::read_to_string(ws.output_of("ens", stage).join("out").join(file)).unwrap()
}

fn scores(ws: &Workspace, stage: &str) -> serde_json::Value {
    serde_json::from_str(&read(ws, stage, "scores.json")).unwrap()
}

#[test]
fn an_ensemble_of_one_model_predicts_what_the_model_does() {
    let ws = setup();
    ws.run("ens.yaml", &[]);
    assert_eq!(read(&ws, "eval_one", "predictions.csv"), read(&ws, "eval_a", "predictions.csv"));
    assert_eq!(scores(&ws, "eval_one")["macro_f1"], scores(&ws, "eval_a")["macro_f1"]);
    let members = read(&ws, "both", "ensemble.json");
    assert!(members.contains("m0") && members.contains("m1"), "{members}");
    assert_ne!(
        read(&ws, "eval_both", "predictions.csv"),
        read(&ws, "eval_a", "predictions.csv"),
        "two differently seeded members average to something else"
    );
}

#[test]
fn an_ensemble_reruns_when_a_member_output_changes_and_only_then() {
    let ws = setup();
    ws.run("ens.yaml", &[]);
    assert!(ws.run("ens.yaml", &[]).is_empty(), "nothing changed, nothing runs");

    // `a` re-runs (its key has patience in it) but trains the same single epoch: same output, so
    // the ensembles and evaluations that read it stay cached (early cutoff).
    assert_eq!(ws.run("ens.yaml", &["patience_a=50"]), ["a"]);

    // A member whose output changes re-keys the ensembles that hold it, not the others.
    assert_eq!(
        ws.run("ens.yaml", &["patience_a=50", "lr_b=0.01"]),
        ["b", "both", "eval_both", "export_both"]
    );
}

#[test]
fn a_tuned_decision_uses_the_thresholds_the_model_carries() {
    let ws = setup();
    ws.run("ens.yaml", &[]);
    let report = scores(&ws, "eval_both");
    assert_eq!(report["decision"], "tuned");
    assert_eq!(report["thresholds"], report["tuned"]["thresholds"]);
    assert_eq!(report["macro_f1"], report["tuned"]["macro_f1"]);

    // The submission's flags are the offsite probabilities above those thresholds.
    let thresholds = &report["thresholds"];
    let pipeline = PIPELINE.to_string()
        + "  eval_offsite:\n    kind: evaluate\n    inputs: {model: both, data: data}\n    params: {split: offsite_test, tta: flips}\n";
    ws.write("ens.yaml", &pipeline);
    ws.run("ens.yaml", &[]);
    let probabilities = read(&ws, "eval_offsite", "predictions.csv");
    let submission = read(&ws, "export_both", "submission.csv");
    let mut expected = String::from("id,D,G,A\n");
    for line in probabilities.lines().skip(1) {
        let mut cells = line.split(',');
        expected += cells.next().unwrap();
        for (label, p) in ["D", "G", "A"].iter().zip(cells) {
            let above = p.parse::<f64>().unwrap() > thresholds[label].as_f64().unwrap();
            expected += if above { ",1" } else { ",0" };
        }
        expected += "\n";
    }
    assert_eq!(submission, expected);
}

#[test]
fn a_tuned_decision_needs_tuned_thresholds() {
    let ws = setup();
    let pipeline = PIPELINE
        .replace("    params: {tune_thresholds: true}\n", "    params: {tune_thresholds: false}\n");
    ws.write("ens.yaml", &pipeline);
    let output = ws.ablate(&["run", "ens.yaml", "--device", "cpu"]);
    assert!(!output.status.success());
    let message = text(&output);
    assert!(message.contains("carries no tuned thresholds"), "{message}");
    assert!(message.contains("tune_thresholds: true"), "{message}");
}

#[test]
fn a_stage_that_needs_one_network_refuses_an_ensemble() {
    let ws = setup();
    let pipeline = format!(
        "{PIPELINE}  more:\n    kind: train\n    inputs: {{data: data, model: both}}\n    params: {{epochs: 1, batch_size: 16, head_hidden: 32}}\n"
    );
    ws.write("ens.yaml", &pipeline);
    let output = ws.ablate(&["run", "ens.yaml", "--device", "cpu"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let message = text(&output);
    assert!(message.contains("the input model is an ensemble"), "{message}");
    assert!(message.contains("give this stage one of its members"), "{message}");
}
