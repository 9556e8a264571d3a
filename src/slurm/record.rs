//! What a Slurm submission leaves in the cache, and where:
//!
//! ```text
//! cache/slurm/<pipeline>/<id>.json     the record: the pipeline as submitted (file text and
//!                                      --set overrides), the device kind, the outputs of its
//!                                      key commands, the sbatch options, and per job its
//!                                      stage, Slurm job id and upstream jobs
//! cache/slurm/<pipeline>/<id>/<n>-<stage>.sh     the job's batch script
//! cache/slurm/<pipeline>/<id>/<n>-<stage>.log    its output (stdout and stderr)
//! cache/slurm/<pipeline>/<id>/<n>-<stage>.exit   its exit status, written when `ablate` returns
//! ```
//!
//! The id is `<unix seconds>-<pid>` of the submitting process. Jobs read the pipeline from the
//! record, so editing the YAML file after submitting changes nothing already queued; they take
//! the outputs of its key commands (`key_cmd`) from it too, so their keys are those planned on
//! the submitting machine (see `ablate_core::key_commands`).
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use ablate_core::key_commands::KeyOutputs;
use ablate_core::names::file_name;
use ablate_core::spec::PipelineSource;
use ablate_core::store::{Store, write_atomically};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Submission {
    pub id: String,
    pub pipeline: String,
    /// Unix seconds.
    pub submitted: u64,
    pub source: PipelineSource,
    /// The folder jobs run in: the submitting command's, so relative paths mean the same.
    pub workdir: PathBuf,
    /// `cpu` or `cuda`: the device kind of the keys, and each device stage's `--device`.
    pub device: String,
    /// The output digests of the key commands, as the submitting machine computed them.
    #[serde(default)]
    pub key_outputs: KeyOutputs,
    /// sbatch options every job got (partition, account, time limit, `--sbatch-arg`s).
    pub sbatch: Vec<String>,
    /// Stages that were cached, hence not submitted.
    pub cached: Vec<String>,
    /// In dependency order: a job comes after the jobs it waits for.
    pub jobs: Vec<Job>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub stage: String,
    /// Slurm's job id.
    pub id: String,
    /// Stages of this submission whose jobs must succeed first (`--dependency=afterok`).
    pub after: Vec<String>,
    /// GPUs asked for (`--gres=gpu:N`): as many as the stage takes, at least `--gpus-per-stage`;
    /// 0 for CPU stages and CPU runs.
    pub gpus: u32,
    pub script: PathBuf,
    pub log: PathBuf,
    pub exit_file: PathBuf,
}

impl Submission {
    /// The record's file in `store`.
    pub fn path(&self, store: &Store) -> PathBuf {
        pipeline_dir(store, &self.pipeline).join(format!("{}.json", self.id))
    }

    /// The folder of the jobs' scripts, logs and exit files.
    pub fn jobs_dir(&self, store: &Store) -> PathBuf {
        pipeline_dir(store, &self.pipeline).join(&self.id)
    }

    pub fn save(&self, store: &Store) -> anyhow::Result<()> {
        let path = self.path(store);
        fs::create_dir_all(path.parent().expect("records are in a folder")).with_context(|| {
            format!("cannot create {}", path.parent().expect("records are in a folder").display())
        })?;
        write_atomically(&path, &serde_json::to_vec_pretty(self)?)
    }

    pub fn load(path: &Path) -> anyhow::Result<Submission> {
        let bytes = fs::read(path)
            .with_context(|| format!("cannot read Slurm submission {}", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("corrupt Slurm submission {}", path.display()))
    }

    pub fn job(&self, stage: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.stage == stage)
    }
}

fn slurm_dir(store: &Store) -> PathBuf {
    store.root().join("slurm")
}

fn pipeline_dir(store: &Store, pipeline: &str) -> PathBuf {
    slurm_dir(store).join(file_name(pipeline))
}

/// The latest submission of each pipeline (of `pipeline` alone when given), latest first.
pub fn latest(store: &Store, pipeline: Option<&str>) -> anyhow::Result<Vec<Submission>> {
    let dirs: Vec<PathBuf> = match pipeline {
        Some(name) => vec![pipeline_dir(store, name)],
        None => match fs::read_dir(slurm_dir(store)) {
            Ok(entries) => entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).context(format!("cannot read {}", slurm_dir(store).display())),
        },
    };
    let mut latest = Vec::new();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        let newest = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| Submission::load(&p))
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter()
            .max_by(|a, b| (a.submitted, &a.id).cmp(&(b.submitted, &b.id)));
        latest.extend(newest);
    }
    latest.sort_by(|a, b| (b.submitted, &b.id).cmp(&(a.submitted, &a.id)));
    Ok(latest)
}
