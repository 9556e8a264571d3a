//! `command` stages through the binary: any program as a stage, cached, explained, cut off
//! early, failing cleanly, killed cleanly, and computed once by concurrent runs.
mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Workspace, names, stage, text};

/// `fit` runs a Python script (its output depends on `vars.lr` only), `after` copies it,
/// `other` is independent of both.
const PIPELINE: &str = r#"
name: cmd
vars: {lr: 0.001}
stages:
  fit:
    kind: command
    params:
      run: [python3, "${pipeline_dir}/scripts/fit.py", --lr, "${lr}"]
      deps: ["${pipeline_dir}/scripts/fit.py", "${pipeline_dir}/scripts/lib"]
      vars: {lr: "${lr}", arch: tiny}
      env: {OMP_NUM_THREADS: "1"}
  after:
    kind: command
    inputs: {model: fit}
    params:
      run: [sh, -c, 'cp "$ABLATE_INPUT_MODEL/model.txt" "$ABLATE_OUT/copy.txt"']
  other:
    kind: command
    params: {run: [sh, -c, 'echo other > "$ABLATE_OUT/other.txt"']}
"#;

const FIT: &str = r#"
import json, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
import helper
v = json.load(open(os.environ["ABLATE_VARS"]))
assert sys.argv[1:] == ["--lr", str(v["lr"])], sys.argv
assert os.environ["ABLATE_STAGE"] == "fit" and os.environ["ABLATE_DEVICE"] == "cpu"
assert os.environ["CUDA_VISIBLE_DEVICES"] == "" and os.environ["OMP_NUM_THREADS"] == "1"
out = os.environ["ABLATE_OUT"]
open(os.path.join(out, "model.txt"), "w").write(helper.describe(v))
with open(os.path.join(out, "metrics.jsonl"), "w") as m:
    for epoch in (1, 2):
        m.write(json.dumps({"split": "train", "metric": "loss", "value": 1 / epoch, "epoch": epoch}) + "\n")
    m.write(json.dumps({"split": "val", "metric": "macro_f1", "value": v["lr"] * 100}) + "\n")
    m.write(json.dumps({"split": "val", "metric": "f1", "value": 0.5, "class": "D"}) + "\n")
print("trained with", v)
"#;

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("p.yaml", PIPELINE);
    ws.write("scripts/fit.py", FIT);
    ws.write(
        "scripts/lib/helper.py",
        "def describe(v):\n    return f\"lr={v['lr']} arch={v['arch']}\"\n",
    );
    ws
}

fn exit_code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn a_command_stage_is_cached_explained_and_cut_off_early() {
    let ws = workspace();
    assert_eq!(ws.run("p.yaml", &[]), ["after", "fit", "other"]);
    let copied = std::fs::read_to_string(ws.output_of("cmd", "after").join("out/copy.txt"));
    assert_eq!(copied.unwrap(), "lr=0.001 arch=tiny");
    let fit = ws.output_of("cmd", "fit");
    assert!(!fit.join("out/metrics.jsonl").exists(), "metrics.jsonl leaves the output");
    let log = std::fs::read_to_string(fit.join("log.txt")).unwrap();
    assert!(log.contains("trained with {'arch': 'tiny', 'lr': 0.001}"), "{log}");
    let metrics = ablate_core::metrics::read_parquet(&fit.join("metrics.parquet")).unwrap();
    assert_eq!(metrics.len(), 4);
    assert!(metrics.iter().any(|m| m.row.metric == "loss" && m.row.epoch == Some(2)));
    assert!(metrics.iter().any(|m| m.row.class.as_deref() == Some("D")));
    let shown =
        ws.ablate(&["compare", "--stage", "fit", "--metric", "macro_f1", "--format", "csv"]);
    assert!(shown.status.success() && text(&shown).contains("0.1"), "{}", text(&shown));

    // A no-op run.
    assert!(ws.run("p.yaml", &[]).is_empty());

    // A changed `vars` entry: that stage, and what reads it.
    let plan = ws.plan("p.yaml", &["lr=0.0003"]);
    assert_eq!(names(&plan, "cached"), ["other"]);
    assert!(
        stage(&plan, "fit")["reasons"]
            .as_array()
            .unwrap()
            .contains(&"params.vars.lr: 0.001 → 0.0003".into()),
        "{plan:?}"
    );
    assert_eq!(ws.run("p.yaml", &["lr=0.0003"]), ["after", "fit"]);
    // Back to the first value: its results are still there.
    assert!(ws.run("p.yaml", &[]).is_empty());

    // Editing the script: exactly that stage runs, and its output decides about the rest.
    std::fs::write(
        ws.path("scripts/fit.py"),
        FIT.replace("import helper", "import helper\nv_unused = 1"),
    )
    .unwrap();
    let plan = ws.plan("p.yaml", &[]);
    assert_eq!(stage(&plan, "fit")["reasons"][0], "deps file scripts/fit.py changed");
    assert_eq!(names(&plan, "cached"), ["other"]);
    // It writes the same bytes: `after` stays cached (early cutoff).
    assert_eq!(ws.run("p.yaml", &[]), ["fit"]);

    // A file in a `deps` folder: the same, and new output re-runs what reads it.
    ws.write("scripts/lib/helper.py", "def describe(v):\n    return f\"lr={v['lr']}\"\n");
    let plan = ws.plan("p.yaml", &[]);
    assert_eq!(stage(&plan, "fit")["reasons"][0], "deps file scripts/lib/helper.py changed");
    assert_eq!(ws.run("p.yaml", &[]), ["after", "fit"]);
    // Byte code and hidden files in the folder change nothing.
    ws.write("scripts/lib/__pycache__/helper.cpython-311.pyc", "byte code");
    ws.write("scripts/lib/.helper.py.swp", "an editor's");
    assert!(ws.run("p.yaml", &[]).is_empty());

    let verify = ws.ablate(&["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[test]
fn a_failing_or_slow_program_fails_its_stage_and_publishes_nothing() {
    let ws = Workspace::new();
    let pipeline = |run: &str, extra: &str| {
        format!(
            "name: bad\nstages:\n  s:\n    kind: command\n    params: {{run: [sh, -c, '{run}']{extra}}}\n  t:\n    kind: command\n    inputs: {{x: s}}\n    params: {{run: [sh, -c, 'true']}}\n"
        )
    };
    let failed = |yaml: String| {
        ws.write("p.yaml", &yaml);
        let started = Instant::now();
        let output = ws.ablate(&["run", "p.yaml", "--device", "cpu"]);
        assert_eq!(exit_code(&output), 1, "{}", text(&output));
        assert!(ws.entries().is_empty(), "nothing is published:\n{}", text(&output));
        assert!(text(&output).contains("skip t (upstream s failed)"), "{}", text(&output));
        (text(&output), started.elapsed())
    };

    let lines: String = (1..=30).map(|i| format!("echo line {i}; ")).collect();
    let (out, _) = failed(pipeline(&format!("{lines}echo broken >&2; exit 3"), ""));
    assert!(out.contains("✗ s failed: `sh -c"), "{out}");
    assert!(out.contains("exited with status 3; the last lines of its output:"), "{out}");
    assert!(out.contains("    | line 30\n    | broken"), "{out}");
    assert!(!out.contains("    | line 10\n"), "only the tail: {out}");

    let (out, took) = failed(pipeline("echo started; sleep 30", ", timeout: 0.5"));
    assert!(out.contains("timed out after"), "{out}");
    assert!(out.contains("its process group was killed") && out.contains("    | started"), "{out}");
    assert!(took < Duration::from_secs(15), "the timeout stopped it: {took:?}");

    for (line, bad) in [
        ("{\"metric\": \"x\"}", "metrics.jsonl line 2:"),
        ("{\"metric\": \"x\", \"value\": 1, \"epoch\": \"one\"}", "metrics.jsonl line 2:"),
    ] {
        let write = format!(
            "echo {{\\\"metric\\\": \\\"a\\\", \\\"value\\\": 1}} > $ABLATE_OUT/metrics.jsonl; echo {} >> $ABLATE_OUT/metrics.jsonl",
            shell_quote(line)
        );
        let (out, _) = failed(pipeline(&write.replace('\'', "'\\''"), ""));
        assert!(out.contains(bad), "{out}");
    }
}

/// `text` as one sh word inside a YAML single-quoted scalar (no `'` in it).
fn shell_quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\\\""))
}

#[test]
fn bad_command_stages_are_refused_before_anything_runs() {
    let ws = Workspace::new();
    for (params, inputs, what, at) in [
        ("{run: []}", "", "`run` is empty", "p.yaml:5:19"),
        (
            "{run: python3}",
            "",
            "parameter `run` must be a list of strings (numbers and booleans as text), found `python3`",
            "p.yaml:5:19",
        ),
        (
            "{run: [sh], deps: [missing.py]}",
            "",
            "deps entry missing.py does not exist",
            "p.yaml:5:32",
        ),
        (
            "{run: [no-such-program-here]}",
            "",
            "program `no-such-program-here` is not on PATH",
            "p.yaml:5:20",
        ),
        (
            "{run: [sh]}",
            "\n    inputs: {data: nowhere}",
            "input `data` refers to unknown stage `nowhere`",
            "p.yaml:5:20",
        ),
        (
            "{run: [sh]}",
            "\n    inputs: {my-data: s}",
            "input role `my-data` contains `-`",
            "p.yaml:5:14",
        ),
    ] {
        ws.write(
            "p.yaml",
            &format!("stages:\n  s: {{kind: command, params: {{run: [sh]}}}}\n  c:\n    kind: command{inputs}\n    params: {params}\n"),
        );
        let output = ws.ablate(&["plan", "p.yaml"]);
        assert_eq!(exit_code(&output), 2, "{}", text(&output));
        assert!(text(&output).contains(what), "{what}:\n{}", text(&output));
        assert!(text(&output).contains(at), "{what} at {at}:\n{}", text(&output));
    }
}

const SLOW: &str = r#"
name: slow
stages:
  s:
    kind: command
    params:
      run: [python3, -c, "import os, time\nopen(os.environ['MARK'], 'a').write(str(os.getpid()) + '\\n')\ntime.sleep(float(os.environ['SLEEP']))\nopen(os.path.join(os.environ['ABLATE_OUT'], 'done'), 'w').write('1')"]
      env: {MARK: "${pipeline_dir}/started.txt", SLEEP: "${sleep}"}
vars: {sleep: 30}
"#;

fn alive(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // A zombie waits for its reaper; it runs nothing.
    !stat.is_empty() && !stat.contains(") Z ")
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "no {what} after 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn killing_ablate_mid_command_leaves_no_partial_entry_and_no_orphan() {
    let ws = Workspace::new();
    ws.write("p.yaml", SLOW);
    let mut child = ws
        .command(&["run", "p.yaml", "--device", "cpu"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("program start", || ws.path("started.txt").exists());
    let pid = std::fs::read_to_string(ws.path("started.txt")).unwrap().trim().to_string();
    assert!(alive(&pid));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    wait_for("end of the program", || !alive(&pid));
    assert!(ws.entries().is_empty());
    // Ctrl-C (SIGINT) kills the program's whole process group too.
    std::fs::remove_file(ws.path("started.txt")).unwrap();
    let child = ws
        .command(&["run", "p.yaml", "--device", "cpu"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("program start", || ws.path("started.txt").exists());
    let pid = std::fs::read_to_string(ws.path("started.txt")).unwrap().trim().to_string();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(exit_code(&output), 130, "{}", text(&output));
    wait_for("end of the program", || !alive(&pid));
    assert!(ws.entries().is_empty());
    let verify = ws.ablate(&["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(ws.run("p.yaml", &["sleep=0"]) == ["s"]);
}

#[test]
fn two_concurrent_runs_compute_a_command_stage_once() {
    let ws = Workspace::new();
    ws.write("p.yaml", SLOW);
    let start = || {
        ws.command(&["run", "p.yaml", "--device", "cpu", "--set", "sleep=2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success() && b.status.success(), "{}\n{}", text(&a), text(&b));
    let started = std::fs::read_to_string(ws.path("started.txt")).unwrap();
    assert_eq!(started.lines().count(), 1, "the program ran once");
    let both = format!("{}{}", text(&a), text(&b));
    assert!(both.contains("1 ran, 0 cached") && both.contains("0 ran, 1 cached"), "{both}");
}

/// Sweeps from the command line: `--set` reaches into a command stage's `vars`, and `--factor`
/// adds a factor whose levels are named by their values, checked like the file's.
#[test]
fn sweeps_from_the_command_line_reach_a_command_stage() {
    let ws = workspace();
    ws.run("p.yaml", &["fit.vars.arch=wide"]);
    let copied = std::fs::read_to_string(ws.output_of("cmd", "after").join("out/copy.txt"));
    assert_eq!(copied.unwrap(), "lr=0.001 arch=wide");

    // In a grid, the stage is `fit[lr=…]`.
    let fit = FIT.replace(
        r#"os.environ["ABLATE_STAGE"] == "fit""#,
        r#"os.environ["ABLATE_STAGE"].startswith("fit[lr=")"#,
    );
    ws.write("scripts/fit.py", &fit);
    let swept = ws.ablate(&["run", "p.yaml", "--factor", "lr=1e-4,3e-4"]);
    assert!(swept.status.success(), "{}", text(&swept));
    for (level, lr) in [("1e-4", "0.0001"), ("3e-4", "0.0003")] {
        let after = ws.output_of("cmd", &format!("after[lr={level}]"));
        let copied = std::fs::read_to_string(after.join("out/copy.txt")).unwrap();
        assert_eq!(copied, format!("lr={lr} arch=tiny"));
    }
    let identical = ws.ablate(&["plan", "p.yaml", "--factor", "lr=1,2,1"]);
    assert_eq!(exit_code(&identical), 2, "{}", text(&identical));
    assert!(text(&identical).contains("factor `lr` lists level `1` twice"), "{}", text(&identical));
    let malformed = ws.ablate(&["plan", "p.yaml", "--factor", "lr"]);
    assert_eq!(exit_code(&malformed), 2, "{}", text(&malformed));
    assert!(text(&malformed).contains("--factor `lr` is not of the form name=level,level,…"));
}

/// `key_cmd` prints versions.txt (as `pip freeze` prints what is installed) and counts its
/// calls; three instances of a grid and a fourth stage share it.
const KEY_CMD: &str = r#"
name: env
grid: {factors: {level: [a, b, c]}}
stages:
  fit:
    kind: command
    params:
      run: [sh, -c, 'echo "$LEVEL" > "$ABLATE_OUT/level.txt"']
      env: {LEVEL: "${level}"}
      key_cmd: [sh, "${pipeline_dir}/freeze.sh"]
  other:
    kind: command
    params:
      run: [sh, -c, 'echo other > "$ABLATE_OUT/other.txt"']
      key_cmd: [sh, "${pipeline_dir}/freeze.sh"]
"#;

#[test]
fn a_key_cmd_output_keys_its_stages_runs_once_and_plan_shows_what_changed() {
    let ws = Workspace::new();
    ws.write("p.yaml", KEY_CMD);
    ws.write(
        "freeze.sh",
        "echo call >> \"$(dirname \"$0\")/calls.txt\"\ncat \"$(dirname \"$0\")/versions.txt\"\n",
    );
    ws.write("versions.txt", "numpy==1.26.4\ntorch==2.10.0\nsix==1.16.0\n");
    let calls = || std::fs::read_to_string(ws.path("calls.txt")).unwrap().lines().count();
    assert_eq!(ws.run("p.yaml", &[]).len(), 4);
    assert_eq!(calls(), 1, "one distinct key_cmd runs once per invocation");
    assert!(ws.run("p.yaml", &[]).is_empty());

    // An upgrade: every stage that declares it runs again, and plan says which lines changed.
    ws.write("versions.txt", "numpy==1.26.4\ntorch==2.11.0\nsix==1.16.0\n");
    let plan = ws.plan("p.yaml", &[]);
    assert_eq!(names(&plan, "run").len(), 4, "{plan:?}");
    let why = stage(&plan, "other")["reasons"][0].as_str().unwrap().to_string();
    assert!(why.starts_with("key_cmd `sh "), "{why}");
    assert!(why.ends_with("freeze.sh` output changed: torch==2.10.0 → torch==2.11.0"), "{why}");
    assert_eq!(ws.run("p.yaml", &[]).len(), 4);
    // The old environment again: its results are still there.
    ws.write("versions.txt", "numpy==1.26.4\ntorch==2.10.0\nsix==1.16.0\n");
    assert!(ws.run("p.yaml", &[]).is_empty());
    assert_eq!(calls(), 5, "once per invocation: four runs and a plan");

    // gc removes torch 2.11's results, and what its key_cmd printed with them.
    let key_outputs = || std::fs::read_dir(ws.path("cache/key-outputs")).unwrap().count();
    assert_eq!(key_outputs(), 2);
    let dry = ws.ablate(&["gc", "--keep-runs", "1"]);
    assert!(text(&dry).contains("key command output no kept result names"), "{}", text(&dry));
    let gc = ws.ablate(&["gc", "--keep-runs", "1", "--apply"]);
    assert!(gc.status.success(), "{}", text(&gc));
    assert_eq!(key_outputs(), 1, "{}", text(&gc));
    assert!(ws.run("p.yaml", &[]).is_empty(), "torch 2.10's results and their key output kept");

    // A key_cmd that fails stops planning at the stage, naming it.
    ws.write("freeze.sh", "echo 'no pip here' >&2\nexit 3\n");
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    let out = text(&output);
    assert!(out.contains("freeze.sh` of stage `fit"), "{out}");
    assert!(out.contains("(and of 3 more stages) failed: exited with status 3"), "{out}");
    assert!(out.contains("| no pip here") && out.contains("p.yaml:5:3"), "{out}");
}

#[test]
fn a_deps_module_is_found_where_the_stage_s_pythonpath_says_and_keyed_by_its_files() {
    let ws = Workspace::new();
    let pipeline = |modules: &str| {
        format!(
            r#"
name: mods
stages:
  fit:
    kind: command
    params:
      run: [python3, -c, "import os, mypkg, single; open(os.environ['ABLATE_OUT'] + '/v.txt', 'w').write(mypkg.VERSION)"]
      deps: [{modules}]
      env: {{PYTHONPATH: "${{pipeline_dir}}/lib"}}
"#
        )
    };
    ws.write("p.yaml", &pipeline("{module: mypkg}, {module: single}"));
    ws.write("lib/mypkg/__init__.py", "from .core import VERSION\n");
    ws.write("lib/mypkg/core.py", "VERSION = '1'\n");
    ws.write("lib/single.py", "");
    assert_eq!(ws.run("p.yaml", &[]), ["fit"]);
    let out = ws.output_of("mods", "fit").join("out/v.txt");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "1");
    ws.write("lib/mypkg/__pycache__/core.cpython-311.pyc", "byte code");
    assert!(ws.run("p.yaml", &[]).is_empty(), "byte code changes nothing");

    ws.write("lib/mypkg/core.py", "VERSION = '2'\n");
    let plan = ws.plan("p.yaml", &[]);
    let why = stage(&plan, "fit")["reasons"][0].as_str().unwrap().to_string();
    assert!(why.starts_with("deps module mypkg ("), "{why}");
    assert!(why.ends_with("lib/mypkg/core.py) changed"), "{why}");
    assert_eq!(ws.run("p.yaml", &[]), ["fit"]);
    ws.write("lib/single.py", "# edited\n");
    let plan = ws.plan("p.yaml", &[]);
    assert!(
        stage(&plan, "fit")["reasons"][0].as_str().unwrap().starts_with("deps module single (")
    );

    ws.write("p.yaml", &pipeline("{module: mypkg}, {module: no_such_module_here}"));
    let output = ws.ablate(&["plan", "p.yaml"]);
    assert_eq!(exit_code(&output), 2, "{}", text(&output));
    let out = text(&output);
    assert!(out.contains("deps module `no_such_module_here` is not found by "), "{out}");
    assert!(out.contains("p.yaml:8:31"), "{out}");
}

/// Two stages that print the GPUs they see.
const GPUS: &str = r#"
name: gpus
stages:
  wide:
    kind: command
    params:
      run: [sh, -c, 'echo "$CUDA_VISIBLE_DEVICES $ABLATE_DEVICE" > "$ABLATE_OUT/seen.txt"']
      device: 2
  narrow:
    kind: command
    params:
      run: [sh, -c, 'echo "$CUDA_VISIBLE_DEVICES $ABLATE_DEVICE" > "$ABLATE_OUT/seen.txt"']
      device: true
"#;

#[test]
fn a_stage_of_several_devices_sees_them_all_and_one_that_could_never_start_is_refused() {
    let ws = Workspace::new();
    ws.write("p.yaml", GPUS);
    // Fewer devices than the stage takes, however many slots: refused before anything runs.
    // (This machine may have no GPU: a command stage only hands the numbers over.)
    let run = |device: &str, slots: &str| {
        ws.command(&["run", "p.yaml", "--device", device, "--gpu-slots", slots])
            .env("CUDA_VISIBLE_DEVICES", "4,5,6")
            .output()
            .unwrap()
    };
    for (device, slots, has) in [("cuda:0", "2", "1 (cuda:0)"), ("cpu", "4", "1 (cpu)")] {
        let output = run(device, slots);
        assert_eq!(exit_code(&output), 2, "{}", text(&output));
        let out = text(&output);
        assert!(
            out.contains(&format!("stage `wide` takes 2 devices, and this run has {has}")),
            "{out}"
        );
        assert!(out.contains("p.yaml:4:3"), "{out}");
        assert!(ws.entries().is_empty(), "nothing ran: {out}");
    }

    let output = run("cuda:0,1,2", "1");
    assert!(output.status.success(), "{}", text(&output));
    let seen = |stage: &str| {
        let seen = ws.output_of("gpus", stage).join("out/seen.txt");
        let seen = std::fs::read_to_string(seen).unwrap();
        let (visible, device) = seen.trim().split_once(' ').unwrap();
        assert_eq!(device, "cuda:0", "{stage}: the first of its GPUs");
        visible.split(',').map(String::from).collect::<Vec<_>>()
    };
    // ablate's cuda:N is the N-th GPU of its own CUDA_VISIBLE_DEVICES.
    let (wide, narrow) = (seen("wide"), seen("narrow"));
    assert_eq!(wide.len(), 2);
    assert_eq!(narrow.len(), 1);
    let mut all = [wide, narrow].concat();
    all.sort();
    assert_eq!(all, ["4", "5", "6"], "two stages, three GPUs, none shared");
    // Cached, the stage needs no device: a run on one GPU has nothing to refuse.
    let output = run("cuda:0", "1");
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("0 ran, 2 cached"), "{}", text(&output));
}
