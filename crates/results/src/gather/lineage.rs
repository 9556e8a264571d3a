//! Where results come from: the stage graph of the pipelines and, per variant, the stage
//! instances it used with their keys and parameters and the environments that computed them.
//!
//! Stages and kinds come from the manifests; edges from each result's record (its inputs by
//! role), so a stage without a result is drawn without its inputs. A stage's status is its
//! outcome in the pipeline's latest run, else `cached` when it has a collected result and
//! `pending` when not (a stale result is not collected unless asked for). A result's environment is that of the run record that computed it (ablate version and
//! commit, libtorch, device, driver, host), else what its key's toolchain says; `when` is when
//! it was computed.
use std::collections::HashMap;

use ablate_core::clock::format_time;
use ablate_core::manifest::Manifest;
use ablate_core::run_record::{Environment as RunEnvironment, Outcome, RunReport};
use ablate_core::store::Entry;

use super::variants::Variants;
use crate::collect::StageResult;
use crate::report::{Edge, Environment, Graph, Node, Provenance, StageProvenance, Status};

/// The manifests' stages, the run records and the collected results.
pub(super) struct Lineage<'a> {
    manifests: &'a [Manifest],
    runs: &'a [RunReport],
    /// (pipeline, instance) → its result.
    results: HashMap<(&'a str, &'a str), &'a Entry>,
}

impl<'a> Lineage<'a> {
    pub(super) fn new(
        manifests: &'a [Manifest],
        runs: &'a [RunReport],
        collected: &'a [StageResult],
    ) -> Lineage<'a> {
        let results = collected
            .iter()
            .map(|r| ((r.pipeline.as_str(), r.instance.as_str()), &*r.entry))
            .collect();
        Lineage { manifests, runs, results }
    }

    /// The result of `instance` in `pipeline`, if collected.
    fn latest(&self, pipeline: &str, instance: &str) -> Option<&'a Entry> {
        self.results.get(&(pipeline, instance)).copied()
    }

    /// Every stage of the pipelines, named `pipeline: instance` when there are several.
    pub(super) fn graph(&self) -> Graph {
        let several = self.manifests.len() > 1;
        let mut graph = Graph::default();
        for manifest in self.manifests {
            let name = |instance: &str| {
                if several { format!("{}: {instance}", manifest.pipeline) } else { instance.into() }
            };
            let last_run = self.runs.iter().rev().find(|r| r.pipeline == manifest.pipeline);
            let outcomes: HashMap<&str, &Outcome> = last_run
                .map(|run| run.stages.iter().map(|(s, o)| (s.as_str(), o)).collect())
                .unwrap_or_default();
            let mut nodes = Vec::new();
            for stage in &manifest.stages {
                let entry = self.latest(&manifest.pipeline, &stage.instance);
                let status = match outcomes.get(stage.instance.as_str()) {
                    Some(Outcome::Ran { .. }) => Status::Ran,
                    Some(Outcome::Cached { .. } | Outcome::Fetched { .. }) => Status::Cached,
                    Some(Outcome::Failed { .. }) => Status::Failed,
                    Some(Outcome::Skipped { .. }) => Status::Blocked,
                    _ if entry.is_some() => Status::Cached,
                    _ => Status::Pending,
                };
                nodes.push(Node { name: name(&stage.instance), kind: stage.kind.clone(), status });
                for (role, upstream) in entry.iter().flat_map(|e| &e.record.fingerprint.upstream) {
                    graph.edges.push(Edge {
                        from: name(&upstream.stage),
                        to: name(&stage.instance),
                        role: Some(role.clone()),
                    });
                }
            }
            graph.nodes.extend(nodes);
        }
        graph
    }

    /// Per variant shown, the stage instances any of its seeds used that have a result, and
    /// the environments those results were computed in.
    pub(super) fn provenance(&self, variants: &Variants) -> Vec<Provenance> {
        let mut all = Vec::new();
        for (pipeline, name) in variants.iter() {
            let Some(manifest) = self.manifests.iter().find(|m| m.pipeline == pipeline) else {
                continue;
            };
            let used: Vec<&str> = manifest
                .variants
                .iter()
                .filter(|v| variants.name(pipeline, &v.levels) == Some(name))
                .flat_map(|v| v.stages.values().map(String::as_str))
                .collect();
            let mut provenance = Provenance { variant: name.to_string(), ..Provenance::default() };
            let mut computed: Vec<(RunEnvironment, u64)> = Vec::new();
            for stage in manifest.stages.iter().filter(|s| used.contains(&s.instance.as_str())) {
                let Some(entry) = self.latest(pipeline, &stage.instance) else { continue };
                provenance.stages.push(StageProvenance {
                    instance: stage.instance.clone(),
                    kind: stage.kind.clone(),
                    key: entry.record.key.clone(),
                    params: serde_json::Value::Object(entry.record.fingerprint.params.clone()),
                });
                computed.push((self.environment_of(entry), entry.record.created));
            }
            provenance.environments = distinct(computed);
            all.push(provenance);
        }
        all
    }

    /// The environment of the run that computed `entry`, else what its key's toolchain says.
    fn environment_of(&self, entry: &Entry) -> RunEnvironment {
        let key = &entry.record.key;
        let computed_by = self.runs.iter().rev().find(|run| {
            run.stages.iter().any(|(_, o)| matches!(o, Outcome::Ran { key: k, .. } if k == key))
        });
        let mut environment = computed_by.map(|run| run.environment.clone()).unwrap_or_default();
        let toolchain = &entry.record.fingerprint.toolchain;
        let fill = |field: &mut Option<String>, name: &str| {
            if field.is_none() {
                *field = toolchain.get(name).cloned();
            }
        };
        fill(&mut environment.ablate_version, "ablate");
        fill(&mut environment.libtorch, "libtorch");
        fill(&mut environment.device_name, "device");
        environment
    }
}

/// The distinct environments, each with the span of times its results were computed in.
fn distinct(computed: Vec<(RunEnvironment, u64)>) -> Vec<Environment> {
    let mut spans: Vec<(RunEnvironment, u64, u64)> = Vec::new();
    for (environment, when) in computed {
        match spans.iter_mut().find(|(e, ..)| *e == environment) {
            Some((_, first, last)) => (*first, *last) = ((*first).min(when), (*last).max(when)),
            None => spans.push((environment, when, when)),
        }
    }
    spans
        .into_iter()
        .map(|(run, first, last)| {
            let when = if first == last {
                format!("{} UTC", format_time(first))
            } else {
                format!("{} – {} UTC", format_time(first), format_time(last))
            };
            Environment { run, when: Some(when) }
        })
        .collect()
}
