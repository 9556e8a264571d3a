//! Finds the stored metrics of each variant of the chosen pipelines.
//!
//! A pipeline's manifest lists its variants and the stage instance each variant uses for each
//! stage of the file; the instance's ref names the key of its last result, and that result's
//! `metrics.parquet` holds the numbers. Nothing is recomputed and no pipeline file is read, so
//! results of pipelines run at different times, or whose files have changed since, compare
//! side by side. Each metrics file is read once however many variants share it.
//!
//! A ref also records the definition its result was made under, and the manifest each
//! instance's definition at the last run: where they differ (the last run changed a parameter
//! and failed, or was a slice that left the variant out), the result is *stale*. It is left out
//! as missing, with the reason, unless the caller asks for stale results, which are marked.
//!
//! A reader that needs several selections of one store (the report: the compared stages, the
//! final trainings, the evaluations, the GradCAM stages) collects [`Stages::All`] once and
//! takes each with [`Collected::select`], in memory.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context;
use rayon::prelude::*;

mod choose;

use choose::{Wanted, chosen_manifests, wanted};

use ablate_core::fingerprint::StageKey;
use ablate_core::grid::Levels;
use ablate_core::manifest::Manifest;
use ablate_core::metrics::{MetricRow, read_parquet};
use ablate_core::run_record::RunReport;
use ablate_core::store::{Entry, RefEntry, Store};
use ablate_stages::WorkerKind;

/// The metrics of one stage instance, as used by one variant.
#[derive(Debug, Clone)]
pub struct StageResult {
    pub pipeline: String,
    /// The variant's levels, `seed` included.
    pub levels: Levels,
    pub template: String,
    pub instance: String,
    /// The stage's kind.
    pub kind: String,
    /// The result: its record (key, inputs, parameters) and folder.
    pub entry: Arc<Entry>,
    pub metrics: Arc<Vec<MetricRow>>,
    /// Set when the result was made under another configuration than the manifest describes
    /// (read only with [`Selection::stale`]).
    pub stale: Option<Stale>,
    /// When its ref was first written under its definition, Unix seconds (0 for older refs).
    pub recorded: u64,
}

impl StageResult {
    pub fn key(&self) -> &StageKey {
        &self.entry.record.key
    }
}

/// A result recorded under another definition of its stage than the pipeline's last run has:
/// other parameters, or other upstream stages (a slice or a failed stage left it in place).
#[derive(Debug, Clone, PartialEq)]
pub struct Stale {
    /// Seconds since the Unix epoch when the result was recorded.
    pub written: u64,
    /// The `--set` overrides of the run that recorded it.
    pub overrides: Vec<String>,
}

/// Which results to read.
pub struct Selection<'a> {
    /// Pipeline names; empty means every pipeline run with the cache.
    pub pipelines: &'a [String],
    pub stages: Stages<'a>,
    /// Read stale results too (marked); without, a variant whose result is stale counts as
    /// missing, with the reason.
    pub stale: bool,
}

/// Which stages of each variant to read.
#[derive(Clone, Copy)]
pub enum Stages<'a> {
    /// These stages of the file (templates).
    Named(&'a [String]),
    /// Those whose output is an evaluation's (`evaluate`, `score`), or of kind `train` in a
    /// pipeline without any.
    Evaluations,
    /// Those whose output is an evaluation's (none is no error).
    Scored,
    /// Those of one kind (none is no error).
    Kind(WorkerKind),
    /// Each variant's last `train` stage in file order: the training that made its model.
    FinalTraining,
    /// Every stage of the file.
    All,
}

pub struct Collected {
    pub manifests: Vec<Manifest>,
    /// Every recorded run, oldest first: a result the chosen pipelines use may have been
    /// computed by another pipeline's run.
    pub runs: Vec<RunReport>,
    pub results: Vec<StageResult>,
    /// Variants with a chosen stage instance that has no result: not run yet, or failed.
    pub missing: Vec<Missing>,
}

/// A variant of a chosen pipeline lacking a result of a chosen stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub pipeline: String,
    /// The variant's levels, `seed` included.
    pub levels: Levels,
    /// The chosen stages (templates) it lacks a result of, in file order, each with the stale
    /// result it has where it has one (left out).
    pub stages: Vec<(String, Option<Stale>)>,
}

impl Missing {
    /// The stale result of its first missing stage: set when the variant has a result, of
    /// another configuration (left out), rather than none.
    pub fn stale(&self) -> Option<&Stale> {
        self.stages.first().and_then(|(_, stale)| stale.as_ref())
    }
}

/// A stage of the file (the last) of a variant (pipeline, levels).
type StageOfVariant<'a> = (&'a str, &'a Levels, &'a str);

/// Adds the lack of `template`'s result to the variant's entry of `missing`.
fn note_missing(
    missing: &mut Vec<Missing>,
    pipeline: &str,
    levels: &Levels,
    template: &str,
    stale: Option<Stale>,
) {
    let at = missing.iter().position(|m| m.pipeline == pipeline && m.levels == *levels);
    let entry = match at {
        Some(at) => &mut missing[at],
        None => {
            missing.push(Missing {
                pipeline: pipeline.to_string(),
                levels: levels.clone(),
                stages: Vec::new(),
            });
            missing.last_mut().expect("just pushed")
        }
    };
    entry.stages.push((template.to_string(), stale));
}

impl Collected {
    /// The results and missing variants of `stages` among those collected: what [`collect`]
    /// with `stages` would give, when this was collected with [`Stages::All`].
    pub fn select(&self, stages: &Stages) -> anyhow::Result<Collected> {
        let wanted = self.wanted(stages)?;
        let mut missing = Vec::new();
        for variant in &self.missing {
            for (template, stale) in &variant.stages {
                if wanted.contains(&(variant.pipeline.as_str(), &variant.levels, template.as_str()))
                {
                    let stale = stale.clone();
                    note_missing(&mut missing, &variant.pipeline, &variant.levels, template, stale);
                }
            }
        }
        Ok(Collected {
            manifests: self.manifests.clone(),
            runs: self.runs.clone(),
            results: self.results_in(&wanted),
            missing,
        })
    }

    /// Only the results of `stages` among those collected (see [`Collected::select`]).
    pub fn results_of(&self, stages: &Stages) -> anyhow::Result<Vec<StageResult>> {
        Ok(self.results_in(&self.wanted(stages)?))
    }

    /// The stages `stages` selects of each collected variant.
    fn wanted(&self, stages: &Stages) -> anyhow::Result<HashSet<StageOfVariant<'_>>> {
        Ok(wanted(&self.manifests, stages)?
            .into_iter()
            .map(|w| {
                let manifest = &self.manifests[w.manifest];
                let variant = &manifest.variants[w.variant];
                // The template as the manifest holds it: `w` does not outlive this call.
                let (template, _) = variant.stages.get_key_value(&w.template).expect("used");
                (manifest.pipeline.as_str(), &variant.levels, template.as_str())
            })
            .collect())
    }

    fn results_in(&self, wanted: &HashSet<StageOfVariant>) -> Vec<StageResult> {
        self.results
            .iter()
            .filter(|r| wanted.contains(&(r.pipeline.as_str(), &r.levels, r.template.as_str())))
            .cloned()
            .collect()
    }
}

pub fn collect(store: &Store, selection: &Selection) -> anyhow::Result<Collected> {
    let manifests = chosen_manifests(store, selection.pipelines)?;
    let wanted = wanted(&manifests, &selection.stages)?;
    // (manifest, instance) → its ref and whether the result is stale.
    let mut refs: HashMap<(usize, &str), Option<ReadRef>> = HashMap::new();
    for Wanted { manifest: m, instance, .. } in &wanted {
        refs.entry((*m, instance.as_str())).or_insert_with(|| {
            let entry = store.read_ref_entry(&manifests[*m].pipeline, instance)?;
            let stale = staleness(&manifests[*m], instance, &entry);
            Some((entry, stale))
        });
    }
    let mut keys: Vec<&str> =
        refs.values().flatten().map(|(entry, _)| entry.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let by_key: HashMap<&str, Option<Stored>> = keys
        .par_iter()
        .map(|&key| Ok((key, read_result(store, key)?)))
        .collect::<anyhow::Result<_>>()?;

    let mut results = Vec::new();
    let mut missing: Vec<Missing> = Vec::new();
    for Wanted { manifest: m, variant: v, template, instance } in &wanted {
        let manifest = &manifests[*m];
        let levels = &manifest.variants[*v].levels;
        let stored = refs[&(*m, instance.as_str())]
            .as_ref()
            .and_then(|(entry, stale)| Some((entry, stale, by_key[entry.key.as_str()].as_ref()?)));
        match stored {
            Some((entry, stale, (result, metrics))) if stale.is_none() || selection.stale => {
                results.push(StageResult {
                    pipeline: manifest.pipeline.clone(),
                    levels: levels.clone(),
                    template: template.clone(),
                    instance: instance.clone(),
                    kind: manifest.stage(instance).map(|s| s.kind.clone()).unwrap_or_default(),
                    entry: result.clone(),
                    metrics: metrics.clone(),
                    stale: stale.clone(),
                    recorded: entry.written,
                })
            }
            stored => {
                let stale = stored.and_then(|(_, stale, _)| stale.clone());
                note_missing(&mut missing, &manifest.pipeline, levels, template, stale);
            }
        }
    }
    Ok(Collected { manifests, runs: store.runs()?, results, missing })
}

/// A ref as read, and whether its result is stale.
type ReadRef = (RefEntry, Option<Stale>);

/// Whether the ref's result was made under another definition of `instance` than the
/// manifest's (unknown for refs and manifests written before definitions: taken as current).
fn staleness(manifest: &Manifest, instance: &str, entry: &RefEntry) -> Option<Stale> {
    let now = manifest.definitions.get(instance)?;
    let then = entry.definition.as_ref()?;
    (now != then).then(|| Stale { written: entry.written, overrides: entry.overrides.clone() })
}

/// A result as read: its entry and its final (not per-epoch) and per-epoch metric rows.
type Stored = (Arc<Entry>, Arc<Vec<MetricRow>>);

/// The result `key`; `None` when it is gone from the cache.
fn read_result(store: &Store, key: &str) -> anyhow::Result<Option<Stored>> {
    let Some(entry) = store.entry(key)? else { return Ok(None) };
    let path = entry.dir.join(ablate_core::store::METRICS);
    let rows = if path.exists() {
        read_parquet(&path)
            .with_context(|| format!("cannot read the metrics of cache entry {key}"))?
            .into_iter()
            .map(|m| m.row)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some((Arc::new(entry), Arc::new(rows))))
}

/// The factors and their levels in the order the manifests declare them.
pub fn factor_levels(manifests: &[Manifest]) -> Vec<(String, Vec<String>)> {
    let mut order: Vec<(String, Vec<String>)> = Vec::new();
    for layout in manifests.iter().filter_map(|m| m.layout.as_ref()) {
        for (factor, levels) in &layout.factors {
            let at = order.iter().position(|(f, _)| f == factor).unwrap_or_else(|| {
                order.push((factor.clone(), Vec::new()));
                order.len() - 1
            });
            let known = &mut order[at].1;
            for level in levels {
                if !known.contains(level) {
                    known.push(level.clone());
                }
            }
        }
    }
    order
}
