//! What a new user trips over (issue 21): names that collide, slices that re-key, silent
//! mistakes, malformed output and exit codes, each through the binary.
mod common;

use common::{Workspace, text};

/// A synthetic dataset stage small enough to run in a second.
const DATA: &str =
    "kind: synthetic\n    params: {size: 16, train: 8, val: 4, offsite_test: 4, onsite_test: 4}";

fn exit_code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn names_that_would_share_a_file_are_refused_with_the_rule() {
    let ws = Workspace::new();
    for (name, what) in [
        ("\"e[1]\"", "stage name `e[1]` contains `[`"),
        ("\"e 1 \"", "stage name `e 1 ` contains ` `"),
        ("\"train[f=a]\"", "stage name `train[f=a]` contains `[`"),
        (&"x".repeat(300), "stage name `xxxxxxxxxxxxxxxxxxxx…` is longer than 64 characters"),
    ] {
        ws.write("p.yaml", &format!("stages:\n  {name}:\n    {DATA}\n"));
        let output = ws.ablate(&["plan", "p.yaml"]);
        assert_eq!(exit_code(&output), 2, "{}", text(&output));
        assert!(text(&output).contains(what), "{}", text(&output));
        assert!(text(&output).contains("letters, digits, `_` and `-`"), "{}", text(&output));
    }
    for name in [".", "p q", "../x"] {
        ws.write("p.yaml", &format!("name: \"{name}\"\nstages:\n  d:\n    {DATA}\n"));
        let output = ws.ablate(&["run", "p.yaml", "--device", "cpu"]);
        assert_eq!(exit_code(&output), 2, "{}", text(&output));
        assert!(text(&output).contains("pipeline name"), "{}", text(&output));
    }
    assert!(!ws.path("cache").exists(), "nothing was written");
}

#[test]
fn pipelines_whose_names_mapped_to_one_folder_keep_their_own_results() {
    // `p.q` and `p_q` shared `refs/p_q` before: compare showed one, gc deleted the other's.
    let ws = Workspace::new();
    for (name, size) in [("p.q", 16), ("p_q", 24)] {
        let data = DATA.replace("size: 16", &format!("size: {size}"));
        ws.write(&format!("{name}.yaml"), &format!("name: {name}\nstages:\n  d:\n    {data}\n"));
        ws.run(&format!("{name}.yaml"), &[]);
    }
    let gc = ws.ablate(&["gc"]);
    assert!(text(&gc).contains("nothing to remove"), "{}", text(&gc));
    assert_ne!(ws.output_of("p.q", "d"), ws.output_of("p_q", "d"));
    let status = ws.ablate(&["status"]);
    assert!(text(&status).contains("2 results"), "{}", text(&status));
}

const SLICED: &str = r#"
grid:
  factors: {width: {w8: {hh: 8}, w16: {hh: 16}}}
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 32, val: 16, offsite_test: 8, onsite_test: 8}
  model: {kind: backbone, params: {arch: resnet18}}
  pre:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 1, batch_size: 16, head_hidden: "${hh}"}
  fine:
    kind: train
    inputs: {data: data, model: pre}
    params: {epochs: 1, batch_size: 16, head_hidden: "${hh}", lr: 0.0001}
"#;

#[test]
fn a_slice_of_a_grid_plans_with_the_keys_of_the_whole_grid() {
    let ws = Workspace::new();
    ws.write("p.yaml", SLICED);
    ws.run("p.yaml", &[]);
    let plan = ws.plan("p.yaml", &["grid.only={width: w8}"]);
    let stages: Vec<(&str, &str)> = plan
        .iter()
        .map(|s| (s["stage"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert!(stages.iter().all(|(_, status)| *status == "cached"), "{stages:?}");
    assert!(stages.iter().any(|(stage, _)| *stage == "fine[width=w8]"), "{stages:?}");
    // A run of the slice records the whole grid: compare still sees both widths.
    ws.run("p.yaml", &["grid.only={width: w8}"]);
    let compare = ws.ablate(&["compare", "--stage", "fine", "--metric", "best_macro_f1"]);
    assert!(text(&compare).contains("w16"), "{}", text(&compare));
    // What does not exist is named with what does (issue 21, 5).
    for (args, says) in [
        (
            &["--where", "width=w9"][..],
            "--where width=w9: `width` has no level `w9` (levels: w8, w16)",
        ),
        (&["--metric", "bogus"], "--metric bogus: no chosen stage stored it (metrics: "),
        (&["--split", "bogus"], "--split bogus: no chosen stage measured it (splits: "),
    ] {
        let mut all = vec!["compare", "--stage", "fine"];
        all.extend(args);
        let output = ws.ablate(&all);
        assert_eq!(exit_code(&output), 2, "{args:?}: {}", text(&output));
        assert!(text(&output).contains(says), "{args:?}: {}", text(&output));
    }
}

#[test]
fn compare_of_a_slice_lists_the_variants_not_run_yet() {
    let ws = Workspace::new();
    ws.write("p.yaml", SLICED);
    ws.run("p.yaml", &["grid.only={width: w8}"]);
    let output = ws.ablate(&["compare", "--stage", "fine", "--metric", "best_macro_f1"]);
    assert!(output.status.success(), "{}", text(&output));
    let table = text(&output);
    assert!(table.lines().any(|l| l.starts_with("w8 ")), "{table}");
    assert!(table.contains("not run yet (or failed): width=w16\n"), "{table}");
    assert!(!table.contains("fine[width=w16]"), "by variant, not by instance: {table}");
    let file = ws.path("p.yaml");
    assert!(
        table.contains(&format!("p: {} (version ", file.display()))
            && table.contains("with --set grid.only={width: w8})"),
        "{table}"
    );
}

#[test]
fn compare_of_a_pipeline_without_evaluations_or_trainings_says_what_it_has() {
    let ws = Workspace::new();
    ws.write("p.yaml", &format!("stages:\n  d:\n    {DATA}\n"));
    ws.run("p.yaml", &[]);
    let output = ws.ablate(&["compare"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    assert!(
        text(&output).contains(
            "pipeline `p` has no `evaluate`, `score` or `train` stage to compare (its stages: d (synthetic))"
        ),
        "{}",
        text(&output)
    );
    let output = ws.ablate(&["compare", "--stage", "d"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    assert!(
        text(&output).contains("the chosen stages (d) stored no final metrics"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_level_variable_no_stage_uses_and_a_variable_two_factors_set_are_errors() {
    let ws = Workspace::new();
    // With a default in `vars`, the typo silently trained w16 with hh = 4.
    let typo = SLICED
        .replace("w16: {hh: 16}", "w16: {hhh: 16}")
        .replace("stages:", "vars: {hh: 4}\nstages:");
    ws.write("p.yaml", &typo);
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    assert!(
        text(&output)
            .contains("level `w16` of factor `width` sets variable `hhh`, which no stage uses"),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains("did you mean `hh`?"), "{}", text(&output));
    let twice = SLICED.replace(
        "factors: {width: {w8: {hh: 8}, w16: {hh: 16}}}",
        "factors: {width: {w8: {hh: 8}, w16: {hh: 16}}, deep: {yes: {hh: 64}}}",
    );
    ws.write("p.yaml", &twice);
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    assert!(
        text(&output).contains("factors `width` and `deep` both set variable `hh`"),
        "{}",
        text(&output)
    );
}

#[test]
fn an_override_every_level_shadows_is_named() {
    let ws = Workspace::new();
    ws.write("p.yaml", &SLICED.replace("stages:", "vars: {hh: 4}\nstages:"));
    let output = ws.ablate(&["plan", "p.yaml", "--set", "hh=9"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output)
            .contains("--set `hh=9` changes nothing: every level of factor `width` sets `hh`"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_stage_no_variant_selects_is_an_error() {
    let ws = Workspace::new();
    let text_ = SLICED
        .replace("  fine:\n    kind: train", "  fine:\n    when: {width: []}\n    kind: train");
    ws.write("p.yaml", &text_);
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    assert!(
        text(&output).contains("stage `fine` is in no variant: its `when` selects none"),
        "{}",
        text(&output)
    );
}

#[test]
fn factor_names_follow_the_rules_and_avoid_the_table_s_columns() {
    let ws = Workspace::new();
    for (factor, what) in [
        ("\"a=b\"", "factor name `a=b` contains `=`"),
        ("\"\"", "the factor name is empty"),
        ("n", "`n` is reserved and cannot name a factor"),
    ] {
        ws.write(
            "p.yaml",
            &format!("grid: {{factors: {{{factor}: [x, y]}}}}\nstages:\n  d:\n    {DATA}\n"),
        );
        let output = ws.ablate(&["plan", "p.yaml"]);
        assert_eq!(exit_code(&output), 2, "{}", text(&output));
        assert!(text(&output).contains(what), "{}", text(&output));
    }
}

#[test]
fn a_closed_pipe_ends_ablate_quietly() {
    let ws = Workspace::new();
    ws.write("p.yaml", &format!("stages:\n  d:\n    {DATA}\n"));
    for args in [&["kinds"][..], &["plan", "p.yaml", "--json"]] {
        let mut child = ws
            .command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before ablate writes
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
        assert_ne!(exit_code(&output), 101, "{stderr}");
    }
}

#[test]
fn the_graph_is_valid_dot_and_mermaid_for_instance_names() {
    let ws = Workspace::new();
    ws.write("p.yaml", SLICED);
    let dot = ws.ablate(&["dag", "p.yaml", "--format", "dot"]);
    let dot = String::from_utf8(dot.stdout).unwrap();
    for line in dot.lines().skip(3).filter(|l| *l != "}") {
        // every statement is "id" [label="…"]; or "id" -> "id"; with quotes balanced
        let unescaped = line.replace("\\\"", "");
        assert_eq!(unescaped.matches('"').count() % 2, 0, "{line}");
        assert!(line.ends_with(';'), "{line}");
    }
    assert!(dot.contains("\"fine[width=w8]\" [label=\"fine[width=w8]\\n(train)\"]"), "{dot}");
    let mermaid = ws.ablate(&["dag", "p.yaml", "--format", "mermaid"]);
    let mermaid = String::from_utf8(mermaid.stdout).unwrap();
    assert!(mermaid.contains("[\"fine[width=w8] (train)\"]"), "{mermaid}");
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_key() {
    let ws = Workspace::new();
    ws.write("p.yaml", &format!("\u{feff}name: bom\nstages:\n  d:\n    {DATA}\n"));
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
fn a_float_where_an_integer_belongs_is_called_a_float() {
    let ws = Workspace::new();
    ws.write("p.yaml", &format!("stages:\n  d:\n    {}\n", DATA.replace("size: 16", "size: 16.0")));
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert_eq!(exit_code(&output), 2);
    assert!(text(&output).contains("found the float 16.0"), "{}", text(&output));
}

#[test]
fn read_only_commands_do_not_make_a_cache_where_a_mistyped_path_points() {
    let ws = Workspace::new();
    for command in ["status", "compare", "gc", "verify"] {
        let output = ws.ablate(&[command, "--cache", "cahce"]);
        assert_eq!(exit_code(&output), 2, "{command}: {}", text(&output));
        assert!(text(&output).contains("there is no cache at cahce"), "{}", text(&output));
        assert!(!ws.path("cahce").exists(), "{command} created it");
    }
}

#[test]
fn invalid_invocations_exit_2_and_failed_stages_exit_1() {
    let ws = Workspace::new();
    ws.write("p.yaml", &format!("stages:\n  d:\n    {DATA}\n"));
    for args in [
        &["run", "p.yaml", "--device", "tpu"][..],
        &["run", "p.yaml", "--gpu-slots", "abc"],
        &["run", "p.yaml", "--only", "nosuch"],
        &["dag", "p.yaml", "--format", "bogus"],
    ] {
        let output = ws.ablate(args);
        assert_eq!(exit_code(&output), 2, "{args:?}: {}", text(&output));
    }
}

/// A pipeline with one short training, for the tests that need one.
const TRAINING: &str = r#"
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 32, val: 16, offsite_test: 8, onsite_test: 8}
  model: {kind: backbone, params: {arch: resnet18}}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 2, batch_size: 16, head_hidden: 16, lr: 0.001, checkpoint_seconds: 0}
  export:
    kind: export
    inputs: {model: train, data: data}
"#;

#[test]
fn gc_keeps_what_the_file_as_written_and_recent_runs_use() {
    let ws = Workspace::new();
    ws.write("P.yaml", TRAINING);
    ws.run("P.yaml", &[]);
    // More runs with overrides than gc keeps by their run records: only planning the file as
    // written keeps its export.
    for threshold in ["0.1", "0.2", "0.3", "0.4", "0.6", "0.7"] {
        ws.run("P.yaml", &[&format!("export.threshold={threshold}")]);
    }
    let dry = ws.ablate(&["gc"]);
    assert!(text(&dry).contains("P.yaml as written"), "{}", text(&dry));
    assert!(text(&dry).contains("the run of P at"), "{}", text(&dry));
    let applied = ws.ablate(&["gc", "P.yaml", "--apply"]);
    assert!(applied.status.success(), "{}", text(&applied));
    let plan = ws.plan("P.yaml", &[]);
    assert!(plan.iter().all(|s| s["status"] == "cached"), "{plan:?}");
}

#[test]
fn plan_says_what_runs_only_if_an_upstream_output_changes() {
    let ws = Workspace::new();
    ws.write("P.yaml", TRAINING);
    ws.run("P.yaml", &[]);
    let output = ws.ablate(&["plan", "P.yaml", "--device", "cpu", "--set", "data.train=24"]);
    let shown = text(&output);
    assert!(shown.contains("train   train      run?"), "{shown}");
    assert!(
        shown.contains("4 stages: 1 cached, 3 to run (1 for certain, 2 marked run? only if an upstream output changes)"),
        "{shown}"
    );
    let plan = ws.plan("P.yaml", &["data.train=24"]);
    assert_eq!(common::stage(&plan, "train")["if_upstream_changes"], true);
    assert_eq!(common::stage(&plan, "data")["if_upstream_changes"], false);
}

#[test]
fn an_interrupted_run_says_what_it_keeps_and_the_next_plan_continues_it() {
    let ws = Workspace::new();
    ws.write("P.yaml", &TRAINING.replace("epochs: 2", "epochs: 400"));
    let child = ws
        .command(&["run", "P.yaml", "--device", "cpu"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first checkpoint of the training.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let continues = || {
        std::fs::read_dir(ws.path("cache/work"))
            .ok()
            .into_iter()
            .flatten()
            .flatten()
            .any(|w| w.path().join("continues.txt").exists())
    };
    while !continues() {
        assert!(std::time::Instant::now() < deadline, "no checkpoint in time");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    // SAFETY: sends SIGINT to the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(exit_code(&output), 130, "{}", text(&output));
    assert!(
        text(&output).contains(
            "interrupted; 2 stages are done and cached; on the next run train continues from epoch"
        ),
        "{}",
        text(&output)
    );
    let staging = std::fs::read_dir(ws.path("cache/staging")).unwrap().count();
    assert_eq!(staging, 0, "the interrupted stage's staging folder is gone");
    let status = text(&ws.ablate(&["status"]));
    assert!(status.contains("INTERRUPTED"), "{status}");
    assert!(status.contains("train: interrupted; the next run continues from epoch"), "{status}");
    let plan = ws.plan("P.yaml", &[]);
    let reasons = common::stage(&plan, "train")["reasons"].to_string();
    assert!(
        reasons.contains("continues from epoch") && !reasons.contains("never run"),
        "{reasons}"
    );
}

#[test]
fn a_fully_cached_run_works_on_a_read_only_cache() {
    let ws = Workspace::new();
    ws.write("P.yaml", TRAINING);
    ws.run("P.yaml", &[]);
    let ablate = env!("CARGO_BIN_EXE_ablate");
    let script = format!(
        "mount --bind cache cache && mount -o remount,ro,bind cache && exec {ablate} run P.yaml --device cpu"
    );
    let output = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .current_dir(ws.dir.path())
        .env("ABLATE_CACHE", ws.path("cache"))
        .env("ABLATE_TORCH_WORKER", env!("CARGO_BIN_EXE_ablate-torch"))
        .output();
    let Ok(output) = output else {
        eprintln!("skipped: no unshare here");
        return;
    };
    if text(&output).contains("mount:") || text(&output).contains("unshare:") {
        eprintln!("skipped: no private mounts here ({})", text(&output));
        return;
    }
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("0 ran, 4 cached"), "{}", text(&output));
}

#[test]
fn kinds_show_defaults_and_summaries_say_where_files_are() {
    let ws = Workspace::new();
    let kinds = text(&ws.ablate(&["kinds"]));
    assert!(kinds.contains("gamma") && kinds.contains("default: 2"), "{kinds}");
    ws.write("P.yaml", TRAINING);
    let output = ws.ablate(&["run", "P.yaml", "--device", "cpu"]);
    let out = ws.output_of("P", "export").join("out");
    assert!(
        text(&output).contains(&format!("→ submission.csv (in {})", out.display())),
        "{}",
        text(&output)
    );
}
