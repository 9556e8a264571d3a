//! Submits the stages of a plan that are not cached, one `sbatch` job each, in dependency
//! order, so that each job's `--dependency=afterok:` names the jobs of its upstream stages.
//! Cached stages are not submitted; their refs and the pipeline's manifest are written as a
//! local run writes them, so `ablate compare` sees the pipeline. Should one `sbatch` fail, the
//! jobs already submitted are cancelled.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};

use super::queue;
use super::record::{Job, Submission};
use crate::session::Session;
use ablate_core::manifest::Manifest;
use ablate_core::names::file_name;
use ablate_core::plan::{PlannedStage, Status};
use ablate_core::scheduler::refuse_too_wide;
use ablate_core::store::RefEntry;

/// The options `ablate run --executor slurm` passes on to sbatch.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub partition: Option<String>,
    pub account: Option<String>,
    /// sbatch's `--time`, e.g. `2:00:00`.
    pub time: Option<String>,
    /// Passed as they are, after the others.
    pub extra: Vec<String>,
    /// `--gres=gpu:N` of device stages when the device is `cuda`, unless a stage takes more
    /// (`device: N`).
    pub gpus_per_stage: u32,
}

impl Options {
    /// The sbatch options every job gets.
    fn common(&self) -> Vec<String> {
        let named =
            [("partition", &self.partition), ("account", &self.account), ("time", &self.time)];
        let mut args: Vec<String> = named
            .iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("--{name}={v}")))
            .collect();
        args.extend(self.extra.iter().cloned());
        args
    }
}

pub fn require_sbatch() -> anyhow::Result<()> {
    if queue::find_program("sbatch").is_none() {
        bail!("--executor slurm: `sbatch` not found on PATH");
    }
    Ok(())
}

/// Submits every stage of `planned` that is not cached; `None` when all are. The jobs load the
/// pipeline from the session's source.
pub fn submit(
    session: &Session,
    planned: &[PlannedStage],
    device: &str,
    options: &Options,
) -> anyhow::Result<Option<Submission>> {
    let (store, pipeline) = (&session.store, &session.pipeline);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).context("clock before 1970")?.as_secs();
    let (cached, to_run): (Vec<&PlannedStage>, Vec<&PlannedStage>) =
        planned.iter().partition(|p| p.status == Status::Cached);
    // A CPU run's jobs have the CPU, one device; a GPU run's jobs ask for what they take.
    if device == "cpu" {
        let specs = to_run.iter().map(|p| pipeline.stage(&p.stage).expect("planned stages exist"));
        refuse_too_wide(&session.registry, specs, &["cpu".to_string()])?;
    }
    store.write_manifest(&Manifest::of(pipeline, now))?;
    for stage in &cached {
        let key = stage.key.as_deref().expect("cached stages have keys");
        store.write_ref(
            &pipeline.name,
            &stage.stage,
            &RefEntry::of(pipeline, &stage.stage, key),
        )?;
    }
    if to_run.is_empty() {
        return Ok(None);
    }
    let mut submission = Submission {
        id: format!("{now}-{}", std::process::id()),
        pipeline: pipeline.name.clone(),
        submitted: now,
        source: session.source.clone(),
        workdir: std::env::current_dir().context("cannot read the current folder")?,
        device: device.to_string(),
        key_outputs: session.key_outputs.clone(),
        sbatch: options.common(),
        cached: cached.iter().map(|s| s.stage.clone()).collect(),
        jobs: Vec::new(),
    };
    // The jobs read the pipeline from the record: it exists before the first job can start.
    submission.save(store)?;
    // Absolute, so that jobs and `ablate status` find them from any folder.
    let jobs_dir = std::path::absolute(submission.jobs_dir(store))?;
    fs::create_dir_all(&jobs_dir)
        .with_context(|| format!("cannot create {}", jobs_dir.display()))?;
    let command = JobCommand::new(
        &std::path::absolute(submission.path(store))?,
        &std::path::absolute(store.root())?,
    )?;
    for (n, stage) in to_run.iter().enumerate() {
        let spec = pipeline.stage(&stage.stage).expect("planned stages exist");
        let mut after: Vec<String> =
            spec.inputs.values().filter(|u| submission.job(u).is_some()).cloned().collect();
        after.sort();
        after.dedup();
        let devices = session.devices(&spec.name);
        let file =
            |extension: &str| jobs_dir.join(format!("{n}-{}.{extension}", file_name(&spec.name)));
        let mut job = Job {
            stage: spec.name.clone(),
            id: String::new(),
            after,
            gpus: if device == "cuda" && devices > 0 {
                devices.max(options.gpus_per_stage)
            } else {
                0
            },
            script: file("sh"),
            log: file("log"),
            exit_file: file("exit"),
        };
        fs::write(&job.script, command.script(&submission, &job))
            .with_context(|| format!("cannot write {}", job.script.display()))?;
        match sbatch(&sbatch_args(&submission, &job)) {
            Ok(id) => job.id = id,
            Err(error) => {
                let submitted: Vec<&str> = submission.jobs.iter().map(|j| j.id.as_str()).collect();
                let cancelled = queue::cancel(&submitted).map(|()| {
                    format!("the {} jobs submitted before it were cancelled", submitted.len())
                });
                submission.save(store)?;
                return Err(error.context(format!(
                    "cannot submit stage {}; {}",
                    spec.name,
                    cancelled.unwrap_or_else(|e| format!("{e:#}"))
                )));
            }
        }
        submission.jobs.push(job);
    }
    submission.save(store)?;
    Ok(Some(submission))
}

/// `sbatch`'s arguments for `job`, its batch script last.
fn sbatch_args(submission: &Submission, job: &Job) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_string(),
        format!("--job-name=ablate:{}:{}", submission.pipeline, job.stage),
        format!("--chdir={}", submission.workdir.display()),
        format!("--output={}", job.log.display()),
        "--kill-on-invalid-dep=yes".to_string(),
    ];
    let upstream: Vec<&str> = job
        .after
        .iter()
        .map(|stage| submission.job(stage).expect("upstream jobs come first").id.as_str())
        .collect();
    if !upstream.is_empty() {
        args.push(format!("--dependency=afterok:{}", upstream.join(":")));
    }
    if job.gpus > 0 {
        args.push(format!("--gres=gpu:{}", job.gpus));
    }
    args.extend(submission.sbatch.iter().cloned());
    args.push(job.script.display().to_string());
    args
}

/// Runs sbatch; the new job's id.
fn sbatch(args: &[String]) -> anyhow::Result<String> {
    let output = Command::new("sbatch").args(args).output().context("cannot run sbatch")?;
    if !output.status.success() {
        bail!(
            "sbatch failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    // `--parsable` prints `id` or `id;cluster`.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let id = stdout.trim().split(';').next().unwrap_or_default();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed no job id: `{}`", stdout.trim());
    }
    Ok(id.to_string())
}

/// What each batch script runs: this `ablate` binary (and its torch worker), on the record.
struct JobCommand {
    ablate: PathBuf,
    worker: PathBuf,
    cache: PathBuf,
    record: PathBuf,
}

impl JobCommand {
    fn new(record: &Path, cache: &Path) -> anyhow::Result<JobCommand> {
        let ablate = std::env::current_exe().context("cannot locate the ablate binary")?;
        Ok(JobCommand {
            ablate,
            worker: ablate_stages::worker::worker_path()?,
            cache: cache.to_path_buf(),
            record: record.to_path_buf(),
        })
    }

    /// The batch script: the stage, then its exit status into the exit file (written whole,
    /// by a rename, so that a reader never sees it half written).
    fn script(&self, submission: &Submission, job: &Job) -> String {
        let exit_file = quote(&job.exit_file.display().to_string());
        let partial = quote(&format!("{}.partial", job.exit_file.display()));
        format!(
            "#!/bin/sh\n# Stage `{stage}` of pipeline {pipeline}, Slurm submission {id} (ablate run --executor slurm).\nABLATE_TORCH_WORKER={worker} {ablate} --cache {cache} slurm-job {record} {stage_arg}\nstatus=$?\necho $status > {partial} && mv {partial} {exit_file}\nexit $status\n",
            stage = job.stage.escape_debug(),
            pipeline = submission.pipeline.escape_debug(),
            id = submission.id,
            worker = quote(&self.worker.display().to_string()),
            ablate = quote(&self.ablate.display().to_string()),
            cache = quote(&self.cache.display().to_string()),
            record = quote(&self.record.display().to_string()),
            stage_arg = quote(&job.stage),
        )
    }
}

/// `text` as one word for sh.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ablate_core::spec::PipelineSource;

    fn submission() -> Submission {
        let job = |stage: &str, id: &str, after: &[&str], gpus: u32| Job {
            stage: stage.into(),
            id: id.into(),
            after: after.iter().map(|s| s.to_string()).collect(),
            gpus,
            script: format!("/c/{stage}.sh").into(),
            log: format!("/c/{stage}.log").into(),
            exit_file: format!("/c/{stage}.exit").into(),
        };
        Submission {
            id: "1-2".into(),
            pipeline: "p".into(),
            submitted: 1,
            source: PipelineSource {
                path: "p.yaml".into(),
                text: String::new(),
                overrides: Vec::new(),
                bases: Vec::new(),
                extra_seeds: Default::default(),
            },
            workdir: "/w".into(),
            device: "cuda".into(),
            key_outputs: Default::default(),
            sbatch: Options {
                partition: Some("gpu".into()),
                time: Some("1:00:00".into()),
                extra: vec!["--qos=high".into()],
                ..Options::default()
            }
            .common(),
            cached: Vec::new(),
            jobs: vec![
                job("data", "11", &[], 0),
                job("model", "12", &[], 0),
                job("train", "13", &["data", "model"], 2),
            ],
        }
    }

    #[test]
    fn a_job_waits_for_its_upstream_jobs_and_asks_for_gpus() {
        let submission = submission();
        let args = sbatch_args(&submission, &submission.jobs[2]);
        let expected = [
            "--parsable",
            "--job-name=ablate:p:train",
            "--chdir=/w",
            "--output=/c/train.log",
            "--kill-on-invalid-dep=yes",
            "--dependency=afterok:11:12",
            "--gres=gpu:2",
            "--partition=gpu",
            "--time=1:00:00",
            "--qos=high",
            "/c/train.sh",
        ];
        assert_eq!(args, expected);
        let first = sbatch_args(&submission, &submission.jobs[0]);
        assert!(
            !first.iter().any(|a| a.starts_with("--dependency") || a.starts_with("--gres")),
            "{first:?}"
        );
    }

    #[test]
    fn scripts_quote_paths_and_stage_names() {
        let submission = submission();
        let mut job = submission.jobs[2].clone();
        job.stage = "train[who='me']".into();
        let command = JobCommand {
            ablate: "/bin/ab late".into(),
            worker: "/bin/w".into(),
            cache: "/c".into(),
            record: "/c/r.json".into(),
        };
        let script = command.script(&submission, &job);
        assert!(script.contains("ABLATE_TORCH_WORKER='/bin/w' '/bin/ab late' --cache '/c' slurm-job '/c/r.json' 'train[who='\\''me'\\'']'\n"), "{script}");
        assert!(script.contains("echo $status > '/c/train.exit.partial' && mv '/c/train.exit.partial' '/c/train.exit'\nexit $status\n"), "{script}");
    }
}
