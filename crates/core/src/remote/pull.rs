//! `ablate pull`: the results of a pipeline's stages, fetched from the top of its graph down.
//! A stage's key needs its upstream stages' output digests; a result that is here gives them,
//! else the remote's record of it does (a record only, for a stage that is not wanted), so the
//! chain goes on without downloading what is not asked for. A stage whose key cannot be known
//! (an upstream result is nowhere) or whose result the remote lacks is missing.
use std::collections::HashMap;

use super::Remote;
use crate::clock::unix_seconds;
use crate::dag::Dag;
use crate::keys::Fingerprinter;
use crate::manifest::Manifest;
use crate::pipeline::{Pipeline, StageSpec};
use crate::store::{RefEntry, Store};

/// What a pull found for each stage, by instance name in graph order.
#[derive(Debug, Default)]
pub struct Pulled {
    pub fetched: Vec<String>,
    /// Wanted, and here already.
    pub here: Vec<String>,
    /// Wanted, and neither here nor on the remote.
    pub missing: Vec<String>,
}

/// Fetches the result of every stage `wanted` accepts that is not here, and points its ref at
/// it, so that `compare`, `report` and `out` read it as a run's; records the manifest.
pub fn pull(
    pipeline: &Pipeline,
    dag: &Dag,
    store: &Store,
    fingerprinter: &Fingerprinter,
    remote: &Remote,
    wanted: &dyn Fn(&StageSpec) -> bool,
    warn: &dyn Fn(&str),
) -> anyhow::Result<Pulled> {
    let mut outputs: HashMap<String, Option<String>> = HashMap::new();
    let mut pulled = Pulled::default();
    for name in dag.topological() {
        let spec = pipeline.stage(name).expect("dag nodes are stages");
        let key = fingerprinter.fingerprint(spec, &outputs)?.key();
        let wanted = wanted(spec);
        let output = match &key {
            None => None,
            Some(key) => match store.entry(key)? {
                Some(entry) => {
                    if wanted {
                        pulled.here.push(name.to_string());
                        store.write_ref(
                            &pipeline.name,
                            name,
                            &RefEntry::of(pipeline, name, key),
                        )?;
                    }
                    Some(entry.record.output)
                }
                None if wanted => {
                    let _lock = store.lock(key)?;
                    let entry = match store.entry(key)? {
                        Some(entry) => Some(entry),
                        None => remote.fetch(store, key, warn).map(|fetched| fetched.entry),
                    };
                    if entry.is_some() {
                        pulled.fetched.push(name.to_string());
                        store.write_ref(
                            &pipeline.name,
                            name,
                            &RefEntry::of(pipeline, name, key),
                        )?;
                    }
                    entry.map(|entry| entry.record.output)
                }
                None => remote.record(key, warn).map(|remote| remote.record.output),
            },
        };
        if wanted && output.is_none() {
            pulled.missing.push(name.to_string());
        }
        outputs.insert(name.to_string(), output);
    }
    store.write_manifest(&Manifest::of(pipeline, unix_seconds()))?;
    Ok(pulled)
}
