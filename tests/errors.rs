//! Bad pipelines and bad data: clear messages that name file, line and column, non-zero exits,
//! and nothing published.
mod common;

use common::{TINY, Workspace, text, write_odir_folder};

/// Runs `plan` on `yaml` and returns (exit code, all output).
fn plan_error(yaml: &str) -> (i32, String) {
    let ws = Workspace::new();
    ws.write("p.yaml", yaml);
    let output = ws.ablate(&["plan", "p.yaml"]);
    (output.status.code().unwrap(), text(&output))
}

#[test]
fn malformed_yaml() {
    let (code, out) = plan_error("stages:\n  data: {kind: synthetic\n  train: x\n");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("malformed YAML") && out.contains("p.yaml:3:"), "{out}");
}

#[test]
fn unknown_stage_kind() {
    let (code, out) = plan_error("stages:\n  data:\n    kind: synthetc\n");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown stage kind `synthetc`"), "{out}");
    assert!(out.contains("p.yaml:3:11") && out.contains("did you mean `synthetic`?"), "{out}");
}

#[test]
fn unknown_parameter() {
    let (code, out) = plan_error(&TINY.replace("lr: 0.001", "lrate: 0.001"));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown parameter `lrate` for kind `train`"), "{out}");
    assert!(out.contains("p.yaml:14:41") && out.contains("did you mean `lr`?"), "{out}");
}

#[test]
fn wrong_parameter_type() {
    let (code, out) = plan_error(&TINY.replace("epochs: 1", "epochs: many"));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("parameter `epochs` must be an integer in 1..=10000, found `many`"),
        "{out}"
    );
}

#[test]
fn missing_input_reference() {
    let (code, out) = plan_error(&TINY.replace(
        "inputs: {model: train, data: data}\n  export",
        "inputs: {model: trian, data: data}\n  export",
    ));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("input `model` refers to unknown stage `trian`")
            && out.contains("did you mean `train`?"),
        "{out}"
    );
    assert!(out.contains("p.yaml:17:21"), "{out}");
}

#[test]
fn missing_required_input() {
    let (code, out) = plan_error("stages:\n  train:\n    kind: train\n");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("stage `train` is missing input `data`"), "{out}");
}

#[test]
fn cycle() {
    let yaml = "stages:\n  a:\n    kind: evaluate\n    inputs: {model: b, data: b}\n  b:\n    kind: train\n    inputs: {data: a, model: a}\n";
    let (code, out) = plan_error(yaml);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("stages form a cycle:")
            && (out.contains("a → b → a") || out.contains("b → a → b")),
        "{out}"
    );
}

#[test]
fn unknown_variable_and_bad_override() {
    let (code, out) = plan_error(&TINY.replace("\"${size}\"", "\"${sise}\""));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("unknown variable `sise`") && out.contains("did you mean `size`?"),
        "{out}"
    );
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    let output = ws.ablate(&["plan", "p.yaml", "--set", "nosuch.lr=1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("`nosuch` is neither a variable nor a stage"),
        "{}",
        text(&output)
    );
}

const ODIR: &str =
    "stages:\n  load:\n    kind: load\n    params: {root: odir, size: 16, splits: [train]}\n";

#[test]
fn missing_image_names_the_file_and_publishes_nothing() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train"], 3);
    std::fs::remove_file(ws.path("odir/images/train/1_left.png")).unwrap();
    ws.write("p.yaml", ODIR);
    let output = ws.ablate(&["run", "p.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output);
    assert!(
        out.contains("cannot read input file") && out.contains("images/train/1_left.png"),
        "{out}"
    );
    assert!(ws.entries().is_empty());
}

#[test]
fn corrupt_image_names_the_file() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train"], 3);
    std::fs::write(ws.path("odir/images/train/2_left.png"), b"\x89PNG not really").unwrap();
    ws.write("p.yaml", ODIR);
    let output = ws.ablate(&["run", "p.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output);
    assert!(out.contains("images/train/2_left.png"), "{out}");
    assert!(ws.entries().is_empty());
}

#[test]
fn malformed_csv_row_names_file_and_line() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train"], 3);
    let csv = std::fs::read_to_string(ws.path("odir/train.csv")).unwrap();
    std::fs::write(
        ws.path("odir/train.csv"),
        csv.replace("1_left.png,0,1,0", "1_left.png,0,yes,0"),
    )
    .unwrap();
    ws.write("p.yaml", ODIR);
    let output = ws.ablate(&["run", "p.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output);
    assert!(out.contains("train.csv:3: label G must be 0 or 1, found `yes`"), "{out}");
}

#[test]
fn a_failing_stage_stops_only_its_descendants() {
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train"], 3);
    std::fs::remove_file(ws.path("odir/images/train/0_left.png")).unwrap();
    let yaml = format!(
        "{ODIR}  model:\n    kind: backbone\n    params: {{arch: resnet18}}\n  train:\n    kind: train\n    inputs: {{data: load, model: model}}\n  other:\n    kind: synthetic\n    params: {{size: 16, train: 2, val: 2, offsite_test: 2, onsite_test: 2}}\n"
    );
    ws.write("p.yaml", &yaml);
    let output = ws.ablate(&["run", "p.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(ws.last_run_ran(), ["model", "other"]);
    assert!(text(&output).contains("2 ran, 0 cached, 1 failed, 1 skipped"), "{}", text(&output));
}
