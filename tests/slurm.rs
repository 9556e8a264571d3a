//! The Slurm executor against a real cluster: `scripts/slurm-local-cluster.sh` brings one up on
//! this machine, and CI does so before `make test`. Without `sbatch` or a cluster that answers,
//! the tests that need one say so and pass, unless ABLATE_REQUIRE_SLURM is set (CI sets it).
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ablate_core::metrics::read_parquet;
use common::{TINY, Workspace, text, write_odir_folder};
use serde_json::Value;

/// The longest a submission may take here before a test gives up on it (jobs queue behind
/// those of tests running beside it on a two-core node).
const PATIENCE: Duration = Duration::from_secs(300);

const QUICKSTART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/quickstart.yaml");

/// The quickstart at 32 px, 48 training images, one epoch.
const SMALL: &[&str] = &[
    "--set",
    "size=32",
    "--set",
    "data.train=48",
    "--set",
    "data.val=16",
    "--set",
    "data.offsite_test=16",
    "--set",
    "data.onsite_test=8",
    "--set",
    "train.epochs=1",
    "--set",
    "train.batch_size=16",
];

/// Whether a cluster answers with a node that takes jobs; if not, says why the test is skipped.
fn cluster() -> bool {
    let why = if ablate::slurm::queue::find_program("sbatch").is_none() {
        "sbatch is not on PATH".to_string()
    } else {
        match Command::new("timeout").args(["20", "sinfo", "--noheader", "--format=%T"]).output() {
            Ok(out)
                if out.status.success()
                    && ["idle", "mixed", "allocated"]
                        .iter()
                        .any(|s| String::from_utf8_lossy(&out.stdout).contains(s)) =>
            {
                return true;
            }
            Ok(out) => format!("no Slurm node takes jobs (sinfo: {})", text(&out).trim()),
            Err(error) => format!("sinfo cannot run: {error}"),
        }
    };
    assert!(
        std::env::var_os("ABLATE_REQUIRE_SLURM").is_none(),
        "ABLATE_REQUIRE_SLURM is set, but {why}"
    );
    eprintln!("skipped: {why}; scripts/slurm-local-cluster.sh (as root) starts a local cluster");
    false
}

/// Runs `ablate args` to its end, at most PATIENCE; on timeout cancels the submission and fails.
fn within_patience(ws: &Workspace, args: &[&str]) -> Output {
    let mut child = ws.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > PATIENCE {
            child.kill().unwrap();
            ws.ablate(&["cancel"]);
            panic!(
                "`ablate {}` still waits after {PATIENCE:?}:\n{}",
                args.join(" "),
                text(&child.wait_with_output().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
}

/// Polls `ablate status` until `done` holds for its output, at most PATIENCE.
fn status_until(ws: &Workspace, what: &str, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let status = text(&ws.ablate(&["status"]));
        if done(&status) {
            return status;
        }
        if started.elapsed() > PATIENCE {
            ws.ablate(&["cancel"]);
            panic!("no {what} after {PATIENCE:?}:\n{status}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The submission records of `pipeline` in the workspace's cache.
fn records(ws: &Workspace, pipeline: &str) -> Vec<Value> {
    let dir = ws.path("cache/slurm").join(ablate_core::names::file_name(pipeline));
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
}

/// Each job's stage → the stages it waits for.
fn dependencies(record: &Value) -> BTreeMap<String, Vec<String>> {
    let jobs = record["jobs"].as_array().unwrap();
    jobs.iter()
        .map(|j| {
            (
                j["stage"].as_str().unwrap().to_string(),
                serde_json::from_value(j["after"].clone()).unwrap(),
            )
        })
        .collect()
}

fn job_ids(record: &Value) -> Vec<String> {
    record["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

fn key(cache: &Path, pipeline: &str, stage: &str) -> String {
    let store = ablate_core::store::Store::existing(cache).unwrap();
    store.read_ref(pipeline, stage).expect("a ref").to_string()
}

#[test]
fn the_quickstart_on_slurm_equals_the_local_run() {
    if !cluster() {
        return;
    }
    let ws = Workspace::new();
    let run = |extra: &[&'static str]| -> Vec<&'static str> {
        [&["run", QUICKSTART, "--device", "cpu"][..], extra, SMALL].concat()
    };
    let output = within_patience(&ws, &run(&["--executor", "slurm", "--wait"]));
    assert!(output.status.success(), "{}", text(&output));
    let local = ws.ablate(&[&["--cache", "local"][..], &run(&[])].concat());
    assert!(local.status.success(), "{}", text(&local));

    let submitted = records(&ws, "quickstart");
    assert_eq!(submitted.len(), 1);
    let expected: BTreeMap<String, Vec<String>> = [
        ("data", vec![]),
        ("model", vec![]),
        ("train", vec!["data", "model"]),
        ("evaluate", vec!["data", "train"]),
        ("export", vec!["data", "train"]),
    ]
    .into_iter()
    .map(|(stage, after)| (stage.to_string(), after.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        dependencies(&submitted[0]),
        expected,
        "every stage is a job, waiting for its upstream jobs"
    );

    for stage in ["data", "model", "train", "evaluate", "export"] {
        assert_eq!(
            key(&ws.path("cache"), "quickstart", stage),
            key(&ws.path("local"), "quickstart", stage),
            "{stage}: the same key on Slurm and here"
        );
    }
    let metrics = |cache: &str| {
        let entry =
            ws.path(&format!("{cache}/entries/{}", key(&ws.path(cache), "quickstart", "evaluate")));
        read_parquet(&entry.join("metrics.parquet"))
            .unwrap()
            .into_iter()
            .map(|m| (m.stage_key, m.row))
            .collect::<Vec<_>>()
    };
    let on_slurm = metrics("cache");
    assert!(on_slurm.iter().any(|(_, row)| row.metric == "macro_f1"), "{on_slurm:?}");
    assert_eq!(on_slurm, metrics("local"), "the evaluation's metrics are bit-identical");

    let again = within_patience(&ws, &run(&["--executor", "slurm", "--wait"]));
    assert!(
        again.status.success()
            && text(&again).contains("quickstart: nothing to submit, all 5 stages are cached"),
        "{}",
        text(&again)
    );
    assert_eq!(records(&ws, "quickstart").len(), 1, "nothing was submitted");
    let status = text(&ws.ablate(&["status"]));
    assert!(status.contains("5 jobs: 5 done; 0 stages were cached"), "{status}");
}

/// Load → train → evaluate over an ODIR folder whose second image is empty: `load` fails when
/// it decodes it, `model` succeeds.
const BROKEN: &str = r#"
name: broken
stages:
  load: {kind: load, params: {root: odir, size: 16, splits: [train, val]}}
  model: {kind: backbone, params: {arch: resnet18}}
  train:
    kind: train
    inputs: {data: load, model: model}
    params: {epochs: 1, batch_size: 4, head_hidden: 8}
  evaluate: {kind: evaluate, inputs: {model: train, data: load}, params: {split: val}}
"#;

#[test]
fn a_failed_job_shows_its_log_and_blocks_its_descendants() {
    if !cluster() {
        return;
    }
    let ws = Workspace::new();
    write_odir_folder(&ws.path("odir"), &["train", "val"], 3);
    std::fs::write(ws.path("odir/images/train/1_left.png"), b"").unwrap();
    ws.write("p.yaml", BROKEN);
    let output = within_patience(
        &ws,
        &["run", "p.yaml", "--device", "cpu", "--executor", "slurm", "--wait"],
    );
    let out = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("4 jobs: 1 done, 1 failed, 2 blocked"), "{out}");

    let status = text(&ws.ablate(&["status"]));
    let line = |stage: &str| {
        status
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{stage} ")))
            .unwrap_or_else(|| panic!("no {stage} in:\n{status}"))
            .to_string()
    };
    assert!(line("model").ends_with("done"), "{status}");
    assert!(line("load").ends_with("failed (exit 1)"), "{status}");
    assert!(line("train").ends_with("blocked by failed load"), "{status}");
    assert!(line("evaluate").ends_with("blocked by failed load"), "{status}");
    assert!(status.contains("load failed (exit 1); last lines of"), "{status}");
    assert!(
        status.contains("    | ")
            && status.contains("image odir/images/train/1_left.png is empty (0 bytes)"),
        "the log's tail:\n{status}"
    );
    assert!(!status.contains("ablate cancel"), "nothing is left to cancel:\n{status}");
}

#[test]
fn queued_jobs_run_the_pipeline_as_submitted_and_cancel_cancels_them() {
    if !cluster() {
        return;
    }
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    let submit = |sets: &[&str]| {
        let output = ws.ablate(
            &[
                &["run", "p.yaml", "--device", "cpu", "--executor", "slurm", "--sbatch-arg=--hold"]
                    [..],
                sets,
            ]
            .concat(),
        );
        assert!(output.status.success(), "{}", text(&output));
        records(&ws, "tiny").last().unwrap().clone()
    };
    let held = submit(&[]);
    let status = text(&ws.ablate(&["status"]));
    assert!(
        status.contains("queued (JobHeldUser)") && status.contains("`ablate cancel tiny`"),
        "{status}"
    );

    // The file changes while the jobs wait; they run what was submitted.
    ws.write("p.yaml", "this: [is not a pipeline");
    let released =
        Command::new("scontrol").arg("release").arg(job_ids(&held).join(",")).output().unwrap();
    assert!(released.status.success(), "{}", text(&released));
    status_until(&ws, "5 done jobs", |s| s.contains("5 jobs: 5 done"));
    ws.write("p.yaml", TINY);
    assert!(ws.run("p.yaml", &[]).is_empty(), "the jobs computed the pipeline as submitted");

    let held = submit(&["--set", "train.lr=0.01"]);
    assert_eq!(
        dependencies(&held).keys().collect::<Vec<_>>(),
        ["evaluate", "export", "train"],
        "cached stages are not submitted"
    );
    let cancel = ws.ablate(&["cancel", "p.yaml"]);
    let out = text(&cancel);
    assert!(cancel.status.success() && out.contains("cancelled 3 jobs: train (job"), "{out}");
    status_until(&ws, "3 cancelled jobs", |s| s.contains("3 jobs: 3 cancelled"));
    assert_eq!(ws.entries().len(), 5, "cancelled jobs publish nothing");
    let again = text(&ws.ablate(&["cancel"]));
    assert!(again.contains("no job is queued or running"), "{again}");
}

#[test]
fn without_sbatch_the_slurm_executor_says_so() {
    let ws = Workspace::new();
    ws.write("p.yaml", TINY);
    let output = ws
        .command(&["run", "p.yaml", "--executor", "slurm"])
        .env("PATH", ws.path("empty"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("error: --executor slurm: `sbatch` not found on PATH"),
        "{}",
        text(&output)
    );
}

/// Two command stages, the second reading the first, and a native one beside them.
const COMMANDS: &str = r#"
name: commands
stages:
  make:
    kind: command
    params:
      run: [python3, -c, "import json, os\nout = os.environ['ABLATE_OUT']\nopen(os.path.join(out, 'n.txt'), 'w').write('41')\nopen(os.path.join(out, 'metrics.jsonl'), 'w').write(json.dumps({'metric': 'n', 'value': 41}) + '\\n')"]
  add:
    kind: command
    inputs: {number: make}
    params:
      run: [sh, -c, 'echo $(( $(cat "$ABLATE_INPUT_NUMBER/n.txt") + 1 )) > "$ABLATE_OUT/n.txt"']
  data:
    kind: synthetic
    params: {size: 16, train: 8, val: 4, offsite_test: 4, onsite_test: 4}
"#;

#[test]
fn command_stages_run_on_slurm_as_they_run_here() {
    if !cluster() {
        return;
    }
    let ws = Workspace::new();
    ws.write("p.yaml", COMMANDS);
    let output = within_patience(
        &ws,
        &["run", "p.yaml", "--device", "cpu", "--executor", "slurm", "--wait"],
    );
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        dependencies(&records(&ws, "commands")[0]).get("add"),
        Some(&vec!["make".to_string()]),
        "the command stage waits for the one it reads"
    );
    let local = ws.ablate(&["--cache", "local", "run", "p.yaml", "--device", "cpu"]);
    assert!(local.status.success(), "{}", text(&local));
    for stage in ["make", "add", "data"] {
        assert_eq!(
            key(&ws.path("cache"), "commands", stage),
            key(&ws.path("local"), "commands", stage),
            "{stage}: the same key on Slurm and here"
        );
    }
    let add = ws.output_of("commands", "add");
    assert_eq!(std::fs::read_to_string(add.join("out/n.txt")).unwrap().trim(), "42");
    let make = ws.output_of("commands", "make");
    let metrics = read_parquet(&make.join("metrics.parquet")).unwrap();
    assert_eq!(
        metrics.iter().map(|m| (m.row.metric.as_str(), m.row.value)).collect::<Vec<_>>(),
        [("n", 41.0)]
    );
}

/// A stage that takes four GPUs (`torchrun` inside), one that takes one, a CPU one; each
/// prints its key_cmd's calls.
const GPUS: &str = r#"
name: gpus
stages:
  wide:
    kind: command
    params: {run: [sh, -c, 'true'], device: 4, key_cmd: [sh, "${pipeline_dir}/freeze.sh"]}
  narrow:
    kind: command
    params: {run: [sh, -c, 'true'], device: true}
  cpu:
    kind: command
    params: {run: [sh, -c, 'true']}
"#;

/// An `sbatch` that records its arguments beside itself and answers a job id.
fn fake_sbatch(ws: &Workspace) -> std::ffi::OsString {
    let script = ws.write(
        "bin/sbatch",
        "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/sbatch.txt\"\necho 4$$\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(ws.path("bin")).chain(std::env::split_paths(&path)))
        .unwrap()
}

#[test]
fn a_stage_of_several_gpus_asks_slurm_for_them_and_its_key_is_planned_here() {
    let ws = Workspace::new();
    ws.write("p.yaml", GPUS);
    ws.write("freeze.sh", "echo torch==2.11.0\n");
    let path = fake_sbatch(&ws);
    let submit = |args: &[&str]| ws.command(args).env("PATH", &path).output().unwrap();
    // A CPU run's jobs have one device: the wide stage is refused before anything is submitted.
    let output = submit(&["run", "p.yaml", "--executor", "slurm", "--device", "cpu"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("stage `wide` takes 4 devices, and this run has 1 (cpu)"));
    assert!(!ws.path("bin/sbatch.txt").exists(), "nothing was submitted");

    let output = submit(&[
        "run",
        "p.yaml",
        "--executor",
        "slurm",
        "--device",
        "cuda",
        "--gpus-per-stage",
        "2",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("submitted wide as job 4"), "{}", text(&output));
    let sbatch = std::fs::read_to_string(ws.path("bin/sbatch.txt")).unwrap();
    let gres = |stage: &str| -> Vec<String> {
        let line = sbatch.lines().find(|l| l.contains(&format!("--job-name=ablate:gpus:{stage} ")));
        let line = line.unwrap_or_else(|| panic!("no job of {stage}:\n{sbatch}"));
        line.split(' ').filter(|a| a.starts_with("--gres")).map(String::from).collect()
    };
    assert_eq!(gres("wide"), ["--gres=gpu:4"], "as many as it takes");
    assert_eq!(gres("narrow"), ["--gres=gpu:2"], "--gpus-per-stage");
    assert!(gres("cpu").is_empty());
    // The jobs take key_cmd's output from the record instead of running it on their nodes.
    let record = &records(&ws, "gpus")[0];
    let outputs = record["key_outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 1, "{record}");
    assert_eq!(outputs[0][0]["argv"][0], "sh");
    let digest = outputs[0][1].as_str().unwrap();
    let kept = std::fs::read_to_string(ws.path(&format!("cache/key-outputs/{digest}.txt")));
    assert_eq!(kept.unwrap(), "torch==2.11.0\n");
}

/// A command stage with a `key_cmd` that counts its calls, and one that reads it.
const KEYED: &str = r#"
name: keyed
stages:
  make:
    kind: command
    params:
      run: [sh, -c, 'echo 41 > "$ABLATE_OUT/n.txt"']
      key_cmd: [sh, "${pipeline_dir}/freeze.sh"]
  add:
    kind: command
    inputs: {number: make}
    params:
      run: [sh, -c, 'echo $(( $(cat "$ABLATE_INPUT_NUMBER/n.txt") + 1 )) > "$ABLATE_OUT/n.txt"']
      key_cmd: [sh, "${pipeline_dir}/freeze.sh"]
"#;

#[test]
fn slurm_jobs_take_the_key_cmd_output_of_the_submission() {
    if !cluster() {
        return;
    }
    let ws = Workspace::new();
    ws.write("p.yaml", KEYED);
    ws.write("freeze.sh", "echo call >> \"$(dirname \"$0\")/calls.txt\"\necho torch==2.11.0\n");
    let output = within_patience(
        &ws,
        &["run", "p.yaml", "--device", "cpu", "--executor", "slurm", "--wait"],
    );
    assert!(output.status.success(), "{}", text(&output));
    let calls = || std::fs::read_to_string(ws.path("calls.txt")).unwrap().lines().count();
    assert_eq!(calls(), 1, "run once, at submission; not by the jobs");
    let local = ws.ablate(&["--cache", "local", "run", "p.yaml", "--device", "cpu"]);
    assert!(local.status.success(), "{}", text(&local));
    assert_eq!(calls(), 2);
    for stage in ["make", "add"] {
        assert_eq!(
            key(&ws.path("cache"), "keyed", stage),
            key(&ws.path("local"), "keyed", stage),
            "{stage}: the same key on Slurm and here"
        );
    }
    let add = ws.output_of("keyed", "add");
    assert_eq!(std::fs::read_to_string(add.join("out/n.txt")).unwrap().trim(), "42");
}
