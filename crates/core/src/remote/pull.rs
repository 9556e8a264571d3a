//! `ablate pull`: the results of a pipeline's stages, fetched from the top of its graph down.
//! A stage's key needs its upstream stages' output digests; a result that is here gives them,
//! else the remote's record of it does (a record only, for a stage that is not wanted), so the
//! chain goes on without downloading what is not asked for. A stage whose key cannot be known
//! (an upstream result is nowhere) or whose result the remote lacks is missing. The stages of
//! one depth of the graph (whose upstream stages are all of lower depths) are fetched
//! [`PARALLEL_TRANSFERS`] at a time.
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{PARALLEL_TRANSFERS, Remote};
use crate::clock::unix_seconds;
use crate::dag::Dag;
use crate::keys::Fingerprinter;
use crate::manifest::Manifest;
use crate::pipeline::{Pipeline, StageSpec};
use crate::store::{RefEntry, Store};

/// What a pull found for each wanted stage, by instance name.
#[derive(Debug, Default)]
pub struct Pulled {
    pub fetched: Vec<String>,
    /// Here already.
    pub here: Vec<String>,
    /// Neither here nor on the remote.
    pub missing: Vec<String>,
}

/// Where one stage's result came from.
enum Found {
    Here,
    Fetched,
    /// Its record only: the stage is not wanted.
    Record,
    Missing,
}

/// Where a stage's result is, and its output digest when known.
type StageFound = (Found, Option<String>);

/// What a pull reads, for every stage.
struct Puller<'a> {
    pipeline: &'a Pipeline,
    store: &'a Store,
    fingerprinter: &'a Fingerprinter<'a>,
    remote: &'a Remote,
    wanted: &'a (dyn Fn(&StageSpec) -> bool + Sync),
    warn: &'a (dyn Fn(&str) + Sync),
}

/// Fetches the result of every stage `wanted` accepts that is not here, and points its ref at
/// it, so that `compare`, `report` and `out` read it as a run's; records the manifest.
pub fn pull(
    pipeline: &Pipeline,
    dag: &Dag,
    store: &Store,
    fingerprinter: &Fingerprinter,
    remote: &Remote,
    wanted: &(dyn Fn(&StageSpec) -> bool + Sync),
    warn: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Pulled> {
    let puller = Puller { pipeline, store, fingerprinter, remote, wanted, warn };
    let mut outputs: HashMap<String, Option<String>> = HashMap::new();
    let mut pulled = Pulled::default();
    for level in depths(pipeline, dag) {
        let found = puller.level(&level, &outputs)?;
        for (name, (found, output)) in level.into_iter().zip(found) {
            match found {
                Found::Here => pulled.here.push(name.to_string()),
                Found::Fetched => pulled.fetched.push(name.to_string()),
                Found::Missing => pulled.missing.push(name.to_string()),
                Found::Record => {}
            }
            outputs.insert(name.to_string(), output);
        }
    }
    store.write_manifest(&Manifest::of(pipeline, unix_seconds()))?;
    Ok(pulled)
}

/// The stages by depth: the roots, then the stages that read only from them, and so on.
fn depths<'d>(pipeline: &Pipeline, dag: &'d Dag) -> Vec<Vec<&'d str>> {
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut levels: Vec<Vec<&str>> = Vec::new();
    for name in dag.topological() {
        let spec = pipeline.stage(name).expect("dag nodes are stages");
        let own = spec.inputs.values().map(|up| depth[up.as_str()] + 1).max().unwrap_or(0);
        depth.insert(name, own);
        if levels.len() <= own {
            levels.resize(own + 1, Vec::new());
        }
        levels[own].push(name);
    }
    levels
}

impl Puller<'_> {
    /// Each stage of one depth, [`PARALLEL_TRANSFERS`] at a time: where its result is, and its
    /// output digest when known.
    fn level(
        &self,
        level: &[&str],
        outputs: &HashMap<String, Option<String>>,
    ) -> anyhow::Result<Vec<StageFound>> {
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<anyhow::Result<StageFound>>>> =
            Mutex::new(level.iter().map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL_TRANSFERS.min(level.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(name) = level.get(i) else { break };
                        let found = self.stage(name, outputs);
                        results.lock().expect("results")[i] = Some(found);
                    }
                });
            }
        });
        let results = results.into_inner().expect("results");
        results.into_iter().map(|found| found.expect("every stage was pulled")).collect()
    }

    fn stage(
        &self,
        name: &str,
        outputs: &HashMap<String, Option<String>>,
    ) -> anyhow::Result<StageFound> {
        let spec = self.pipeline.stage(name).expect("dag nodes are stages");
        let wanted = (self.wanted)(spec);
        let Some(key) = self.fingerprinter.fingerprint(spec, outputs)?.key() else {
            return Ok((if wanted { Found::Missing } else { Found::Record }, None));
        };
        let ours = |found: Found, output: String| -> anyhow::Result<StageFound> {
            let entry = RefEntry::of(self.pipeline, name, &key);
            self.store.write_ref(&self.pipeline.name, name, &entry)?;
            Ok((found, Some(output)))
        };
        if let Some(entry) = self.store.entry(&key)? {
            return match wanted {
                true => ours(Found::Here, entry.record.output),
                false => Ok((Found::Record, Some(entry.record.output))),
            };
        }
        if !wanted {
            let record = self.remote.record(&key, self.warn);
            return Ok((Found::Record, record.map(|remote| remote.record.output)));
        }
        let _lock = self.store.lock(&key)?;
        let entry = match self.store.entry(&key)? {
            Some(entry) => Some(entry),
            None => self.remote.fetch(self.store, &key, self.warn).map(|fetched| fetched.entry),
        };
        match entry {
            Some(entry) => ours(Found::Fetched, entry.record.output),
            None => Ok((Found::Missing, None)),
        }
    }
}
