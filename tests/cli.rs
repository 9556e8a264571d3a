//! The commands besides `run` itself (dag, status, kinds), and `run --gpu-slots`.
mod common;

use common::{TINY, Workspace, text};

#[test]
fn dag_prints_dot_and_mermaid() {
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    let dot = text(&ws.ablate(&["dag", "p.yaml", "--format", "dot"]));
    assert!(dot.starts_with("digraph \"tiny\""), "{dot}");
    for edge in ["\"data\" -> \"train\"", "\"train\" -> \"evaluate\"", "\"data\" -> \"export\""] {
        assert!(dot.contains(edge), "{edge} missing from\n{dot}");
    }
    let mermaid = text(&ws.ablate(&["dag", "p.yaml", "--format", "mermaid"]));
    assert!(
        mermaid.starts_with("flowchart LR")
            && mermaid.contains("s0 --> s2")
            && mermaid.contains("s1 --> s2"),
        "{mermaid}"
    );
}

#[test]
fn status_lists_runs_and_failures() {
    let ws = Workspace::new();
    assert!(text(&ws.ablate(&["status"])).contains("no runs yet"));
    ws.write("p.yaml", TINY);
    ws.run("p.yaml", &[]);
    ws.write("bad.yaml", "stages:\n  l: {kind: load, params: {root: nowhere}}\n");
    assert!(!ws.ablate(&["run", "bad.yaml"]).status.success());
    let status = text(&ws.ablate(&["status"]));
    assert!(status.contains("5 results"), "{status}");
    assert!(status.contains("tiny") && status.contains("5 ran, 0 cached"), "{status}");
    assert!(
        status.contains("FAILED") && status.contains("data root nowhere is not a folder"),
        "{status}"
    );
}

#[test]
fn kinds_lists_every_kind_with_its_parameters() {
    let ws = Workspace::new();
    let kinds = text(&ws.ablate(&["kinds"]));
    for kind in
        ["load", "synthetic", "backbone", "attention", "train", "evaluate", "export", "vae_augment"]
    {
        assert!(kinds.contains(&format!("{kind} — ")), "{kind} missing from\n{kinds}");
    }
    assert!(kinds.contains("param  lr") && kinds.contains("input  model"), "{kinds}");
}

#[test]
fn gpu_slots_run_device_stages_side_by_side() {
    let ws = Workspace::new();
    let pipeline = common::TINY
        .replace("name: tiny\n", "name: slots\ngrid: {factors: {hidden: [16, 32]}}\n")
        .replace("head_hidden: 32", "head_hidden: \"${hidden}\"");
    ws.write("p.yaml", &pipeline);
    let output = ws.ablate(&["run", "p.yaml", "--device", "cpu", "--gpu-slots", "2"]);
    let log = common::text(&output);
    assert!(output.status.success(), "{log}");
    let at = |line: &str| log.find(line).unwrap_or_else(|| panic!("no `{line}` in:\n{log}"));
    let both_started = at("▶ train[hidden=16]").max(at("▶ train[hidden=32]"));
    assert!(
        both_started < at("✓ train[hidden=16]").min(at("✓ train[hidden=32]")),
        "the two trainings overlap:\n{log}"
    );
    assert!(ws.run("p.yaml", &[]).is_empty(), "slots do not enter cache keys");
}

#[test]
fn run_only_runs_exactly_one_stage_once_its_upstream_is_cached() {
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    let only = |stage: &str| ws.ablate(&["run", "p.yaml", "--device", "cpu", "--only", stage]);
    let early = only("train");
    let out = text(&early);
    assert_eq!(early.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error: stage `train` needs upstream stage `")
            && out.contains("`, which is not cached (key "),
        "{out}"
    );
    let unknown = text(&only("trian"));
    assert!(unknown.contains("pipeline tiny has no stage `trian`; its stages: "), "{unknown}");
    for stage in ["data", "model", "train"] {
        assert!(only(stage).status.success());
        assert_eq!(ws.last_run_ran(), [stage]);
    }
    assert_eq!(
        ws.run("p.yaml", &[]),
        ["evaluate", "export"],
        "stages run one at a time have the keys of a whole run"
    );
}

#[test]
fn bench_measures_on_the_cpu_and_names_bad_modes() {
    let ws = Workspace::new();
    let json = ws.path("bench.json");
    let args = [
        "bench",
        "--device",
        "cpu",
        "--size",
        "32",
        "--models",
        "resnet18",
        "--batch-sizes",
        "2",
        "--warmup",
        "1",
        "--steps",
        "1",
        "--repeats",
        "1",
    ];
    let output =
        ws.ablate(&[&args[..], &["--modes", "fp32", "--json", json.to_str().unwrap()]].concat());
    assert!(output.status.success(), "{}", text(&output));
    let measurements: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(measurements.len(), 1);
    assert_eq!(measurements[0]["model"], "resnet18");
    assert!(measurements[0]["images_per_second"].as_f64().unwrap() > 0.0);
    let bad = ws.ablate(&[&args[..], &["--modes", "int8"]].concat());
    assert!(
        !bad.status.success() && text(&bad).contains("`int8` is not fp32, bf16 or fp16"),
        "{}",
        text(&bad)
    );
    let graph = ws.ablate(&[&args[..], &["--modes", "fp32-graph"]].concat());
    assert!(
        !graph.status.success() && text(&graph).contains("the -graph modes need a CUDA device"),
        "{}",
        text(&graph)
    );
}
