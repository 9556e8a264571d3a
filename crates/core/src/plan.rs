//! `ablate plan`: which stages are cached, which will run, and why — without running anything.
//!
//! A stage whose upstream stages are all cached has a known key: it runs for certain when that
//! key is not in the store. A stage downstream of one that runs has no key yet: when it has a
//! result from an earlier run, it runs only if that upstream output comes out different (early
//! cutoff), so it is marked `if_upstream_changes`; one that never ran runs. A stage with a
//! workspace left by an earlier run (a training killed or extended) says where it continues from.
//! With a remote cache, a stage that is not cached here but whose record the remote has is
//! `remote`: a run fetches it, and its record's output digest gives the keys downstream.
use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::dag::Dag;
use super::fingerprint::{DirtyReason, FingerprintRef, Previous, StageKey, why_dirty};
use super::interrupt::continues_from;
use super::keys::Fingerprinter;
use super::pipeline::{Pipeline, StageSpec};
use super::remote::Remote;
use super::stage::KindInfo;
use super::store::{PipelineRefs, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Cached,
    /// Not cached here; the remote cache has it.
    Remote,
    Run,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStage {
    pub stage: String,
    pub kind: String,
    /// `None` when an upstream stage must run first: the key depends on its output.
    pub key: Option<StageKey>,
    pub status: Status,
    /// It runs only if the output of an upstream stage that runs first comes out different.
    pub if_upstream_changes: bool,
    #[serde(serialize_with = "reasons_as_text")]
    pub reasons: Vec<DirtyReason>,
    #[serde(skip)]
    pub summary: Option<String>,
}

fn reasons_as_text<S: serde::Serializer>(reasons: &[DirtyReason], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(reasons.iter().map(|r| r.to_string()))
}

pub fn plan(
    pipeline: &Pipeline,
    dag: &Dag,
    store: &Store,
    fingerprinter: &Fingerprinter,
) -> anyhow::Result<Vec<PlannedStage>> {
    plan_with_remote(pipeline, dag, store, fingerprinter, None, &|_| {})
}

/// [`plan`], asking `remote` about each stage that is not cached here and has a key (one
/// request each; `warn` hears of a remote that fails).
pub fn plan_with_remote(
    pipeline: &Pipeline,
    dag: &Dag,
    store: &Store,
    fingerprinter: &Fingerprinter,
    remote: Option<&Remote>,
    warn: &dyn Fn(&str),
) -> anyhow::Result<Vec<PlannedStage>> {
    let planner = Planner {
        remote,
        warn,
        pipeline,
        store,
        fingerprinter,
        workspaces: store.workspace_names(),
        refs: store.pipeline_refs(&pipeline.name),
    };
    let mut outputs: HashMap<String, Option<String>> = HashMap::new();
    let mut planned = Vec::new();
    for name in dag.topological() {
        let (stage, output) = planner.stage(name, &outputs)?;
        outputs.insert(name.to_string(), output);
        planned.push(stage);
    }
    Ok(planned)
}

/// What planning a stage reads besides its upstream stages' outputs.
struct Planner<'a> {
    remote: Option<&'a Remote>,
    warn: &'a dyn Fn(&str),
    pipeline: &'a Pipeline,
    store: &'a Store,
    fingerprinter: &'a Fingerprinter<'a>,
    /// The store's workspaces (see [`workspace_reasons`]).
    workspaces: HashSet<String>,
    refs: PipelineRefs,
}

impl Planner<'_> {
    /// The plan of stage `name`, and its output digest when it is cached.
    fn stage(
        &self,
        name: &str,
        outputs: &HashMap<String, Option<String>>,
    ) -> anyhow::Result<(PlannedStage, Option<String>)> {
        let spec = self.pipeline.stage(name).expect("dag nodes are stages");
        let fingerprint = self
            .fingerprinter
            .fingerprint(spec, outputs)
            .map_err(|e| e.context(format!("stage `{name}`")))?;
        let key = fingerprint.key();
        let entry = match &key {
            Some(key) => self.store.entry(key)?,
            None => None,
        };
        let mut ran_before = false;
        let remote = match (&entry, &key, self.remote) {
            (None, Some(key), Some(remote)) => remote.record(key, self.warn),
            _ => None,
        };
        let (status, reasons, summary, output) = match (entry, remote) {
            (Some(entry), _) => {
                (Status::Cached, Vec::new(), entry.record.summary, Some(entry.record.output))
            }
            (None, Some(remote)) => {
                let record = remote.record;
                (Status::Remote, Vec::new(), record.summary, Some(record.output))
            }
            (None, None) => {
                let last = self.store.previous(self.refs.read(name))?;
                ran_before = matches!(last, Previous::Result { .. });
                let kept = |digest: &str| self.store.key_output(digest);
                let mut reasons = why_dirty(&last, key.as_deref(), &fingerprint, &kept);
                let registry = self.fingerprinter.registry;
                let kind = registry.get(&spec.kind).expect("kinds are validated");
                workspace_reasons(
                    self.store,
                    Some(&self.workspaces),
                    kind.info(),
                    spec,
                    &fingerprint,
                    &mut reasons,
                );
                (Status::Run, reasons, None, None)
            }
        };
        let planned = PlannedStage {
            stage: name.to_string(),
            kind: spec.kind.clone(),
            if_upstream_changes: status == Status::Run && key.is_none() && ran_before,
            key,
            status,
            reasons,
            summary,
        };
        Ok((planned, output))
    }
}

/// One level of a grid factor in a plan: its variants and the stages they use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelSummary {
    pub factor: String,
    pub level: String,
    pub variants: usize,
    pub cached: usize,
    pub to_run: usize,
}

/// Per level of each factor (and seed) of the pipeline's grid, what the plan does to the
/// stages its variants use; a stage shared by variants of several levels counts for each.
/// One pass over the variants, each adding itself to the cells of its levels (a grid of
/// 100,000 variants has hundreds of levels: a pass per level would cost more than the plan).
pub fn by_factor(pipeline: &Pipeline, planned: &[PlannedStage]) -> Vec<LevelSummary> {
    let Some(layout) = &pipeline.layout else { return Vec::new() };
    let position: HashMap<&str, usize> =
        planned.iter().enumerate().map(|(i, p)| (p.stage.as_str(), i)).collect();
    // Per factor, by level: its variants and the positions in `planned` of their stages.
    let mut cells: Vec<HashMap<&str, LevelCell>> = layout
        .factors
        .iter()
        .map(|(_, levels)| levels.iter().map(|l| (l.as_str(), LevelCell::default())).collect())
        .collect();
    for variant in &pipeline.variants {
        let stages: Vec<usize> =
            variant.stages.values().filter_map(|s| position.get(s.as_str()).copied()).collect();
        for ((factor, _), cells) in layout.factors.iter().zip(&mut cells) {
            if let Some(cell) = variant.variant.level(factor).and_then(|l| cells.get_mut(l)) {
                cell.variants += 1;
                cell.stages.extend_from_slice(&stages);
            }
        }
    }
    for cell in cells.iter_mut().flat_map(HashMap::values_mut) {
        cell.stages.sort_unstable();
        cell.stages.dedup();
    }
    let count = |cell: &LevelCell, s: Status| {
        cell.stages.iter().filter(|&&i| planned[i].status == s).count()
    };
    let rows = layout.factors.iter().zip(&cells);
    rows.flat_map(|((factor, levels), cells)| {
        levels.iter().map(move |level| {
            let cell = &cells[level.as_str()];
            LevelSummary {
                factor: factor.clone(),
                level: level.clone(),
                variants: cell.variants,
                cached: count(cell, Status::Cached),
                to_run: count(cell, Status::Run),
            }
        })
    })
    .collect()
}

/// The variants of one level of a factor, and the stages they use (positions in the plan).
#[derive(Default)]
struct LevelCell {
    variants: usize,
    stages: Vec<usize>,
}

/// What a stage's workspace adds to why it runs: it continues from where an earlier run got
/// (not "never run"), or starts over although a parameter it could extend changed.
/// `workspaces`: the store's workspace names (`Store::workspace_names`), listed once by a
/// caller that asks for many stages (with none, no workspace key is computed); `None`: look
/// for this stage's workspace alone.
pub(crate) fn workspace_reasons(
    store: &Store,
    workspaces: Option<&HashSet<String>>,
    kind: &KindInfo,
    spec: &StageSpec,
    fingerprint: &FingerprintRef,
    reasons: &mut Vec<DirtyReason>,
) {
    let Some(extendable) = kind.workspace.kept(&spec.params).left_out() else { return };
    let continues = if workspaces.is_some_and(HashSet::is_empty) {
        None
    } else {
        fingerprint
            .workspace_key(extendable)
            .filter(|wkey| workspaces.is_none_or(|names| names.contains(&wkey[..])))
            .and_then(|wkey| continues_from(&store.workspaces_dir().join(wkey)))
    };
    let extended = reasons.iter().any(|r| {
        matches!(r, DirtyReason::ParamChanged { name, .. } if extendable.contains(&name.as_str()))
    });
    match continues {
        Some(from) => {
            reasons.retain(|r| *r != DirtyReason::NeverRun);
            reasons.push(DirtyReason::Continues { from });
        }
        None if extended => reasons.push(DirtyReason::StartsOver),
        None => {}
    }
}
