//! Numbers a user can trust (issue 26), through the binary: a row comes from the configuration
//! its table claims or says that it does not, duplicate metrics are refused, `verify` covers
//! everything a command reads, and `gc --max-size` predicts what `du` sees.
mod common;

use common::{Workspace, text};
use serde_json::Value;

/// A grid of command stages whose metric is `scale × level`; `mode: fail` fails level `b`.
const GRID: &str = r#"
name: trust
vars: {scale: 1, mode: ok}
grid:
  factors:
    k: {a: {x: 1}, b: {x: 2}}
  seeds: 2
stages:
  score:
    kind: command
    params:
      run: [sh, -c, 'if [ "$MODE" = fail ] && [ "$X" = 2 ]; then exit 3; fi; echo "{\"split\": \"test\", \"metric\": \"macro_f1\", \"value\": $(( $X * $SCALE ))}" > "$ABLATE_OUT/metrics.jsonl"']
      env: {X: "${x}", SCALE: "${scale}", MODE: "${mode}", SEED: "${seed}"}
"#;

fn compare(ws: &Workspace, args: &[&str]) -> (Vec<Value>, String) {
    let mut json = vec!["compare", "trust", "--stage", "score", "--format", "json"];
    json.extend(args);
    let output = ws.ablate(&json);
    assert!(output.status.success(), "{}", text(&output));
    let rows = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut table = vec!["compare", "trust", "--stage", "score"];
    table.extend(args);
    let output = ws.ablate(&table);
    assert!(output.status.success(), "{}", text(&output));
    (rows, text(&output))
}

fn mean(rows: &[Value], level: &str) -> Option<f64> {
    let row = rows.iter().find(|r| r["levels"]["k"] == level)?;
    row["metrics"]["test.macro_f1"]["mean"].as_f64()
}

#[test]
fn a_slice_under_other_parameters_leaves_the_other_rows_out_as_stale() {
    let ws = Workspace::new();
    ws.write("trust.yaml", GRID);
    ws.run("trust.yaml", &[]);
    let (rows, _) = compare(&ws, &[]);
    assert_eq!((mean(&rows, "a"), mean(&rows, "b")), (Some(1.0), Some(2.0)));

    // A slice with another scale: `b` keeps its results of scale 1, which are stale now.
    ws.run("trust.yaml", &["scale=3", "grid.only={k: a}"]);
    let (rows, table) = compare(&ws, &[]);
    assert_eq!(mean(&rows, "a"), Some(3.0));
    assert_eq!(mean(&rows, "b"), None, "a stale row was shown as current:\n{table}");
    assert!(
        table.contains("left out as stale") && table.contains("k=b (seed 0, 1), recorded"),
        "{table}"
    );
    assert!(table.contains("--set scale=3"), "the source names the last run's overrides:\n{table}");

    let (rows, table) = compare(&ws, &["--stale"]);
    assert_eq!(mean(&rows, "b"), Some(2.0));
    let b = rows.iter().find(|r| r["levels"]["k"] == "b").unwrap();
    assert_eq!(b["stale"], true);
    assert!(table.contains("† stale") && table.contains("2 †"), "{table}");

    // The tidy table leaves them out too, and marks them with --stale.
    let output = ws.ablate(&["metrics", "trust", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&output.stdout);
    assert!(!csv.contains("k=b"), "{csv}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("left out as stale"));
    let output = ws.ablate(&["metrics", "trust", "--format", "csv", "--stale"]);
    let csv = String::from_utf8(output.stdout).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",value,stale"), "{csv}");
    assert!(csv.lines().any(|l| l.contains("k=b") && l.ends_with(",true")), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("trust,k=a,a,0,") && l.ends_with(",false")), "{csv}");

    // Running the whole grid again makes every row current.
    ws.run("trust.yaml", &["scale=3"]);
    let (rows, table) = compare(&ws, &[]);
    assert_eq!(mean(&rows, "b"), Some(6.0));
    assert!(!table.contains("stale"), "{table}");
}

#[test]
fn a_stage_that_fails_under_new_parameters_does_not_leave_its_old_numbers_as_current() {
    let ws = Workspace::new();
    ws.write("trust.yaml", GRID);
    ws.run("trust.yaml", &[]);
    let output = ws.ablate(&["run", "trust.yaml", "--set", "mode=fail", "--set", "scale=2"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let (rows, table) = compare(&ws, &[]);
    assert_eq!(mean(&rows, "a"), Some(2.0));
    assert_eq!(mean(&rows, "b"), None, "{table}");
    assert!(table.contains("left out as stale"), "{table}");
}

/// The same grid with its script in a file the stages list as `deps`; `b` fails when the
/// script's FAIL line says so.
const SCRIPTED: &str = r#"
name: trust
grid:
  factors:
    k: {a: {x: 1}, b: {x: 2}}
stages:
  score:
    kind: command
    params:
      run: [sh, "${pipeline_dir}/score.sh"]
      deps: ["${pipeline_dir}/score.sh"]
      env: {X: "${x}"}
"#;

fn score_script(scale: u32, fail_b: bool) -> String {
    format!(
        "FAIL={fail_b}\nif [ \"$FAIL\" = true ] && [ \"$X\" = 2 ]; then exit 3; fi\necho \"{{\\\"split\\\": \\\"test\\\", \\\"metric\\\": \\\"macro_f1\\\", \\\"value\\\": $(( $X * {scale} ))}}\" > \"$ABLATE_OUT/metrics.jsonl\"\n"
    )
}

/// An edited script is another configuration, as another parameter is: where the run under
/// the new script failed for `b`, `b`'s numbers from the old script are stale, not current.
#[test]
fn a_stage_whose_script_changed_and_failed_does_not_leave_its_old_numbers_as_current() {
    let ws = Workspace::new();
    ws.write("trust.yaml", SCRIPTED);
    ws.write("score.sh", &score_script(1, false));
    ws.run("trust.yaml", &[]);
    let (rows, _) = compare(&ws, &[]);
    assert_eq!((mean(&rows, "a"), mean(&rows, "b")), (Some(1.0), Some(2.0)));

    ws.write("score.sh", &score_script(5, true));
    let output = ws.ablate(&["run", "trust.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let (rows, table) = compare(&ws, &[]);
    assert_eq!(mean(&rows, "a"), Some(5.0));
    assert_eq!(mean(&rows, "b"), None, "the old script's row was shown as current:\n{table}");
    assert!(table.contains("left out as stale"), "{table}");

    // The script fixed, the whole grid runs under it: every row is current.
    ws.write("score.sh", &score_script(5, false));
    ws.run("trust.yaml", &[]);
    let (rows, table) = compare(&ws, &[]);
    assert_eq!((mean(&rows, "a"), mean(&rows, "b")), (Some(5.0), Some(10.0)));
    assert!(!table.contains("stale"), "{table}");
}

#[test]
fn a_command_stage_writing_one_metric_twice_fails_naming_the_line() {
    let ws = Workspace::new();
    ws.write(
        "dup.yaml",
        r#"
stages:
  score:
    kind: command
    params:
      run: [sh, -c, 'printf "%s\n%s\n" "{\"split\": \"offsite_test\", \"metric\": \"macro_f1\", \"value\": 0.2422}" "{\"split\": \"offsite_test\", \"metric\": \"macro_f1\", \"value\": 0.99}" > "$ABLATE_OUT/metrics.jsonl"']
"#,
    );
    let output = ws.ablate(&["run", "dup.yaml"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "metrics.jsonl line 2: a second value of metric `macro_f1` on split `offsite_test`"
        ),
        "{out}"
    );
    assert!(!ws.ref_path("dup", "score").exists(), "nothing published");
}

#[test]
fn verify_finds_a_flipped_bit_in_metrics_and_names_the_stage() {
    let ws = Workspace::new();
    ws.write("trust.yaml", GRID);
    ws.run("trust.yaml", &["grid.seeds=1"]);
    let entry = ws.output_of("trust", "score[k=a]");
    let metrics = entry.join("metrics.parquet");
    let mut bytes = std::fs::read(&metrics).unwrap();
    // The value 1.0 as a little-endian double: flip one bit of its mantissa.
    let one = 1.0f64.to_le_bytes();
    let at = bytes.windows(8).position(|w| w == one).expect("the value is stored plainly");
    bytes[at] ^= 1;
    std::fs::write(&metrics, &bytes).unwrap();
    let output = ws.ablate(&["verify"]);
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("stage `score[k=a]` of pipeline `trust`") && out.contains("metrics.parquet"),
        "{out}"
    );
    assert!(out.contains("2 results verified, 1 corrupt"), "{out}");
}

#[test]
fn an_empty_stages_mapping_is_refused() {
    let ws = Workspace::new();
    ws.write("empty.yaml", "stages: {}\n");
    let output = ws.ablate(&["run", "empty.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("pipeline has no stages"), "{}", text(&output));
}

/// Bytes under `path` as `du --apparent-size --bytes` counts them (hard links once).
fn du(path: &std::path::Path) -> u64 {
    let output = std::process::Command::new("du").arg("-sb").arg(path).output().unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    out.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn gc_max_size_predicts_what_du_sees_when_best_weights_are_linked() {
    let ws = Workspace::new();
    ws.write("tiny.yaml", common::TINY);
    ws.run("tiny.yaml", &[]);
    let cache = ws.path("cache");
    let total = du(&cache);
    // One byte under: the finished training's workspace goes first; its best weights stay
    // with the result, which links them.
    let budget = (total - 1).to_string();
    let output = ws.ablate(&["gc", "--max-size", &budget, "--apply"]);
    let out = text(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("workspace of a completed training"), "{out}");
    let after = du(&cache);
    assert!(after < total, "{out}");
    let predicted = format!("{} after removing", ablate_core::disk::human_size(after));
    assert!(out.contains(&predicted), "du sees {after} bytes afterwards:\n{out}");
}

#[test]
fn a_first_plan_without_a_cache_asks_the_worker_once() {
    let ws = Workspace::new();
    ws.write("tiny.yaml", common::TINY);
    // The worker, through a wrapper that counts `toolchain` questions.
    let log = ws.path("asked.log");
    let wrapper = ws.write(
        "worker.sh",
        &format!(
            "#!/bin/sh\n[ \"$1\" = toolchain ] && echo asked >> {}\nexec {} \"$@\"\n",
            log.display(),
            env!("CARGO_BIN_EXE_ablate-torch")
        ),
    );
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap();
    for cache in ["first", "second"] {
        let output = ws
            .command(&["plan", "tiny.yaml", "--cache", cache])
            .env("ABLATE_TORCH_WORKER", &wrapper)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        assert!(!ws.path(cache).exists(), "planning creates no cache");
    }
    let asked = std::fs::read_to_string(&log).unwrap();
    assert_eq!(asked.lines().count(), 1, "the memo beside the worker answers the second plan");
}

const SLOW: &str = r#"
name: killed
vars: {delay: 0}
stages:
  score:
    kind: command
    params:
      run: [sh, -c, 'echo "{\"split\": \"test\", \"metric\": \"macro_f1\", \"value\": 0.5}" > "$ABLATE_OUT/metrics.jsonl"']
  slow:
    kind: command
    params:
      run: [sh, -c, 'sleep "$DELAY"; echo done > "$ABLATE_OUT/done.txt"']
      env: {DELAY: "${delay}"}
"#;

#[test]
fn a_killed_run_is_listed_as_killed_and_the_footnote_names_the_run_that_made_the_rows() {
    let ws = Workspace::new();
    ws.write("killed.yaml", SLOW);
    ws.run("killed.yaml", &[]);
    let first = std::fs::read_dir(ws.path("cache/runs")).unwrap().next().unwrap().unwrap();
    let first_started: u64 =
        first.file_name().to_string_lossy().split('-').next().unwrap().parse().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    let mut child = ws.command(&["run", "killed.yaml", "--set", "delay=60"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    // The run has started `slow` once its journal has the cached `score`.
    while !std::fs::read_dir(ws.path("cache/runs"))
        .unwrap()
        .flatten()
        .any(|e| e.path().extension().is_some_and(|x| x == "journal"))
    {
        assert!(std::time::Instant::now() < deadline, "the run never journaled a stage");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no record is written at the end
    child.wait().unwrap();

    let output = ws.ablate(&["status"]);
    let status = text(&output);
    assert!(!status.contains("no runs yet"), "{status}");
    let killed =
        status.lines().find(|l| l.contains("KILLED")).unwrap_or_else(|| panic!("{status}"));
    assert!(killed.contains("1 cached"), "the journal kept the cached stage:\n{status}");

    let output = ws.ablate(&["compare", "killed", "--stage", "score"]);
    let table = text(&output);
    assert!(output.status.success(), "{table}");
    let first_run = ablate_core::clock::format_time(first_started);
    assert!(table.contains(&format!("run {first_run} UTC")), "{table}");
    assert!(!table.contains("killed;"), "the rows come from the first run:\n{table}");
}

/// Smaller faults a user met (issue 26, item 10), each through the binary.
#[test]
fn plans_list_variants_in_declaration_order_and_out_takes_levels_in_any_order() {
    let ws = Workspace::new();
    ws.write("trust.yaml", GRID);
    let plan = ws.plan("trust.yaml", &[]);
    let order: Vec<&str> = plan.iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        ["score[k=a,seed=0]", "score[k=a,seed=1]", "score[k=b,seed=0]", "score[k=b,seed=1]"]
    );
    ws.run("trust.yaml", &[]);
    let out = |stage: &str| {
        let output = ws.ablate(&["out", "trust", stage]);
        (output.status.success(), text(&output))
    };
    let (ok, declared) = out("score[k=a,seed=1]");
    assert!(ok, "{declared}");
    assert_eq!(out("score[seed=1,k=a]"), (true, declared), "levels in another order");
    let (ok, said) = out("score[k=aa,seed=1]");
    assert!(!ok && said.contains("did you mean `score[k=a,seed=1]`?"), "{said}");
}

#[test]
fn seeds_that_no_stage_reads_are_warned_about() {
    let ws = Workspace::new();
    ws.write(
        "seeds.yaml",
        r#"
grid: {factors: {k: [a, b]}, seeds: 3}
stages:
  score:
    kind: command
    params: {run: [sh, -c, 'echo "{\"metric\": \"macro_f1\", \"value\": 1}" > "$ABLATE_OUT/metrics.jsonl"'], env: {K: "${k}"}}
"#,
    );
    let output = ws.ablate(&["run", "seeds.yaml"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("`grid.seeds` gives 3 seeds, but no stage uses `${seed}`"), "{said}");
    // Without a baseline, compare says how to get a Δ.
    let output = ws.ablate(&["compare", "seeds", "--stage", "score"]);
    let table = text(&output);
    assert!(table.contains("no Δ: no baseline") && table.contains("--baseline"), "{table}");
    // --seeds-needed says why it cannot answer instead of printing nothing.
    let output = ws.ablate(&["compare", "seeds", "--stage", "score", "--seeds-needed"]);
    let table = text(&output);
    assert!(
        table.contains("seeds needed: none computed") && table.contains("no baseline"),
        "{table}"
    );
}

/// Off a terminal (a log, CI) the run's status is a plain line: stages done of all, epochs
/// done of those planned, elapsed, an ETA and what runs now.
#[test]
fn a_long_run_says_where_it_stands_in_plain_lines_off_a_terminal() {
    let ws = Workspace::new();
    ws.write("tiny.yaml", common::TINY);
    let output = ws
        .command(&["run", "tiny.yaml", "--device", "cpu", "--set", "train.epochs=2"])
        .env("ABLATE_STATUS_EVERY", "0")
        .output()
        .unwrap();
    let log = text(&output);
    assert!(output.status.success(), "{log}");
    let status: Vec<&str> = log.lines().filter(|l| l.starts_with("status: ")).collect();
    assert!(
        status.iter().any(|l| l.contains("0/5 stages done, 0 running, 5 left; epochs 0/2")),
        "{log}"
    );
    assert!(
        status
            .iter()
            .any(|l| l.contains("epochs 1/2; ETA ") && l.contains("now: train (epoch 2/2)")),
        "{log}"
    );
    assert!(
        status.last().unwrap().contains("5/5 stages done, 0 running, 0 left; epochs 2/2"),
        "{log}"
    );
    assert!(!log.contains('\x1b'), "no escape codes off a terminal:\n{log}");
}

/// On a terminal the status is a bar above the task bars, in colour unless NO_COLOR is set.
#[test]
fn the_status_bar_is_coloured_on_a_terminal_unless_no_color() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no `script` to give the run a terminal");
        return;
    }
    let ws = Workspace::new();
    ws.write("tiny.yaml", common::TINY);
    let on_a_terminal = |no_color: bool, cache: &str| {
        let command =
            format!("{} --cache {cache} run tiny.yaml --device cpu", env!("CARGO_BIN_EXE_ablate"));
        let mut script = std::process::Command::new("script");
        script.args(["-qec", &command, "/dev/null"]).current_dir(ws.path("")).env("TERM", "xterm");
        script.env("ABLATE_TORCH_WORKER", env!("CARGO_BIN_EXE_ablate-torch"));
        if no_color {
            script.env("NO_COLOR", "1");
        } else {
            script.env_remove("NO_COLOR");
        }
        let output = script.output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_a_terminal(false, "a");
    assert!(coloured.contains("stages done") && coloured.contains("\x1b[32m"), "{coloured}");
    assert!(!coloured.contains("status: "), "bars, not plain lines, on a terminal");
    let plain = on_a_terminal(true, "b");
    assert!(plain.contains("stages done") && !plain.contains("\x1b[32m"), "{plain}");
}
