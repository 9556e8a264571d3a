//! Seeds on demand through the binary (`ablate run P --until-ci WIDTH --max-seeds N`, issue
//! 31): on a grid of command stages whose metric per seed is set by a table, so every Δ
//! interval is known in advance, the rounds give the wide variants and the baseline the next
//! seeds, stop when every interval is narrow or at N seeds, print why, and keep the seeds:
//! a second invocation, a plain run and a plan run nothing new, and `compare` sees them all.
//! Bad values are refused before anything runs.
mod common;

use common::{Workspace, text};
use serde_json::Value;

/// `0.5 + spread × shape[seed]` (0 past the table): `base` is constant; `calm`'s Δ is tiny;
/// `noisy`'s Δ at seeds 0–2 (0.02, −0.02, 0) is 0.0994 wide, and with seeds 3 and 4 (0, 0)
/// 0.0351; `wild` alternates ±0.2 and stays wide.
const SCORE: &str = r#"
import json, os, sys
shape, spread, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
table = {"flat": [], "dip": [1, -1], "zigzag": [(-1) ** i for i in range(100)]}[shape]
value = 0.5 + spread * (table[seed] if seed < len(table) else 0)
row = {"split": "test", "metric": "macro_f1", "value": value}
open(os.path.join(os.environ["ABLATE_OUT"], "metrics.jsonl"), "w").write(json.dumps(row) + "\n")
"#;

fn grid(levels: &str, baseline: &str, seeds: &str) -> String {
    format!(
        r#"
name: ondemand
vars: {{seed: 0}}
grid:
  factors:
    m: {{{levels}}}
  {baseline}
  {seeds}
stages:
  score:
    kind: command
    params:
      run: [python3, "${{pipeline_dir}}/score.py", "${{shape}}", "${{spread}}", "${{seed}}"]
      deps: ["${{pipeline_dir}}/score.py"]
"#
    )
}

const BASE: &str = "base: {shape: flat, spread: \"0\"}";
const CALM: &str = "calm: {shape: dip, spread: \"0.001\"}";
const NOISY: &str = "noisy: {shape: dip, spread: \"0.02\"}";
const WILD: &str = "wild: {shape: zigzag, spread: \"0.2\"}";

fn workspace(levels: &[&str]) -> Workspace {
    let ws = Workspace::new();
    ws.write("score.py", SCORE);
    ws.write("grid.yaml", &grid(&levels.join(", "), "baseline: {m: base}", "seeds: 3"));
    ws
}

/// `ablate run grid.yaml --until-ci …`, which must succeed: its standard output.
fn until_ci(ws: &Workspace, args: &[&str]) -> String {
    let mut all = vec!["run", "grid.yaml", "--device", "cpu", "--stage", "score", "--until-ci"];
    all.extend(args);
    let output = ws.ablate(&all);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The lines of `round N:`'s decisions.
fn round(stdout: &str, n: u32) -> Vec<&str> {
    let start = format!("round {n}:");
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with(&start)).skip(1);
    let mut decisions = Vec::new();
    while let Some(line) = lines.next().filter(|l| l.starts_with("  ")) {
        decisions.push(line.trim());
    }
    decisions
}

fn decision<'a>(decisions: &[&'a str], variant: &str) -> &'a str {
    let prefix = format!("m={variant}: ");
    decisions.iter().find(|d| d.starts_with(&prefix)).unwrap_or_else(|| panic!("{decisions:?}"))
}

/// `compare ondemand --format json`: each variant's seeds.
fn compared_seeds(ws: &Workspace) -> Vec<(String, Vec<String>)> {
    let output = ws.ablate(&["compare", "ondemand", "--stage", "score", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let rows: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    rows.iter()
        .map(|row| {
            let seeds = row["seeds"].as_array().expect("seeds");
            let seeds = seeds.iter().map(|s| s.as_str().expect("a seed").to_string()).collect();
            (row["levels"]["m"].as_str().expect("a level").to_string(), seeds)
        })
        .collect()
}

fn seeds(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|s| s.to_string()).collect()
}

#[test]
fn wide_variants_and_the_baseline_get_seeds_until_every_interval_is_narrow() {
    let ws = workspace(&[BASE, CALM, NOISY]);
    let stdout = until_ci(&ws, &["0.05", "--max-seeds", "10"]);
    let first = round(&stdout, 1);
    assert_eq!(
        decision(&first, "noisy"),
        "m=noisy: 3 seeds (0–2); Δ interval 0.0994 wide > 0.05: 5 seeds should narrow it enough → seeds 3, 4",
        "{stdout}"
    );
    let base = decision(&first, "base");
    assert!(
        base.contains("its seeds limit the width of m=noisy") && base.ends_with("→ seeds 3, 4")
    );
    assert!(decision(&first, "calm").ends_with("narrow enough"), "{stdout}");
    let second = round(&stdout, 2);
    assert!(decision(&second, "noisy").contains("0.0351 wide ≤ 0.05: narrow enough"), "{stdout}");
    assert!(stdout.contains("every Δ interval is narrow enough after 2 rounds"), "{stdout}");
    assert!(round(&stdout, 3).is_empty(), "{stdout}");
    assert_eq!(
        compared_seeds(&ws),
        [
            ("base".to_string(), seeds(0..5)),
            ("calm".to_string(), seeds(0..3)),
            ("noisy".to_string(), seeds(0..5))
        ]
    );
}

#[test]
fn a_variant_that_stays_wide_stops_at_max_seeds_and_its_seeds_stay_part_of_the_pipeline() {
    let ws = workspace(&[BASE, WILD]);
    let stdout = until_ci(&ws, &["0.05", "--max-seeds", "6"]);
    let first = round(&stdout, 1);
    assert!(
        decision(&first, "wild")
            .ends_with("more than 6 seeds would be needed; --max-seeds 6 → seeds 3–5"),
        "{stdout}"
    );
    assert!(decision(&first, "base").ends_with("→ seeds 3–5"), "{stdout}");
    assert!(decision(&round(&stdout, 2), "wild").contains("but --max-seeds 6 reached"));
    assert!(stdout.contains("stopped after 2 rounds"), "{stdout}");
    let expected = [("base".to_string(), seeds(0..6)), ("wild".to_string(), seeds(0..6))];
    assert_eq!(compared_seeds(&ws), expected);

    // The record of the last round names the extra seeds and its decisions; so does the manifest.
    let record = last_record(&ws);
    assert_eq!(record["until_ci"]["round"], 2);
    assert!(record["until_ci"]["decisions"][1].as_str().unwrap().contains("--max-seeds 6 reached"));
    assert_eq!(record["extra_seeds"][0]["seeds"], serde_json::json!([3, 4, 5]));
    let manifest = manifest(&ws);
    assert_eq!(manifest["extra_seeds"].as_array().map(Vec::len), Some(2), "{manifest}");

    // Again: every seed is cached, nothing runs, and the first round is the last.
    let again = until_ci(&ws, &["0.05", "--max-seeds", "6"]);
    assert!(ws.last_run_ran().is_empty(), "{again}");
    assert!(again.contains("stopped after 1 round"), "{again}");
    // A plain run and a plan keep the seeds: all cached; the manifest still lists them.
    assert!(ws.run("grid.yaml", &[]).is_empty());
    let plan = ws.plan("grid.yaml", &[]);
    assert_eq!(plan.len(), 12, "{plan:?}");
    assert!(plan.iter().all(|s| s["status"] == "cached"), "{plan:?}");
    assert_eq!(compared_seeds(&ws), expected);
}

fn last_record(ws: &Workspace) -> Value {
    let mut runs: Vec<_> = std::fs::read_dir(ws.path("cache/runs"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
        .collect();
    runs.sort();
    serde_json::from_slice(&std::fs::read(&runs.last().unwrap().1).unwrap()).unwrap()
}

fn manifest(ws: &Workspace) -> Value {
    let dir = ablate_core::names::file_name("ondemand");
    let path = ws.path(&format!("cache/refs/{dir}/manifest.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn bad_values_are_refused_before_anything_runs() {
    let refused = |ws: &Workspace, args: &[&str], expected: &str| {
        let mut all = vec!["run", "grid.yaml", "--device", "cpu", "--stage", "score"];
        all.extend(args);
        let output = ws.ablate(&all);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains(expected), "{}", text(&output));
        assert!(ws.entries().is_empty(), "something ran");
    };
    let ws = workspace(&[BASE, NOISY]);
    refused(&ws, &["--until-ci", "0"], "--until-ci 0: the width of a Δ interval is a positive");
    refused(&ws, &["--until-ci=-0.1"], "is a positive number in the metric's units");
    refused(
        &ws,
        &["--until-ci", "0.05", "--max-seeds", "2"],
        "--max-seeds 2: variant m=base already has 3 seeds",
    );
    ws.write("grid.yaml", &grid(&[BASE, NOISY].join(", "), "", "seeds: 3"));
    refused(&ws, &["--until-ci", "0.05"], "has no baseline: Δ intervals are measured against it");
    ws.write("grid.yaml", &grid(&[BASE, NOISY].join(", "), "baseline: {m: base}", ""));
    refused(&ws, &["--until-ci", "0.05"], "has no `seeds`");
}
