//! Key commands: programs whose output enters a stage's key beside its files (a command stage's
//! `key_cmd`, e.g. `[python3, -m, pip, freeze]`), for what a pipeline's files do not show: an
//! upgraded torch, a helper package installed into the environment.
//!
//! Each distinct command (program and arguments) runs once per `ablate`
//! invocation, before planning, all of them at once (a grid of a hundred stages that share a
//! `key_cmd` runs it once); a pipeline without one runs nothing. A command that fails, times
//! out or prints too much (see `probe`) stops planning with an error at the stage that declares
//! it (exit 2). The digest of its output enters the keys of the stages that declare it
//! (`Fingerprint::commands`), and the output itself is kept in the cache under that digest
//! (`Store::keep_key_output`), so that `plan` can show which of its lines changed.
//!
//! A Slurm submission records the digests it planned with ([`KeyOutputs`] serialises), and its
//! jobs take them from the record instead of running the commands again: the keys are those
//! computed on the submitting machine, so every job publishes under the key that was planned,
//! and a compute node whose environment differs from the submitting machine's goes unnoticed.
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::pipeline::{Pipeline, StageSpec};
use super::probe;
use super::stage::{KeyCommand, Registry};
use super::store::Store;

/// The digest of the output of each key command of a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<(KeyCommand, String)>", into = "Vec<(KeyCommand, String)>")]
pub struct KeyOutputs {
    digests: BTreeMap<KeyCommand, String>,
}

impl From<Vec<(KeyCommand, String)>> for KeyOutputs {
    fn from(pairs: Vec<(KeyCommand, String)>) -> KeyOutputs {
        KeyOutputs { digests: pairs.into_iter().collect() }
    }
}

impl From<KeyOutputs> for Vec<(KeyCommand, String)> {
    fn from(outputs: KeyOutputs) -> Vec<(KeyCommand, String)> {
        outputs.digests.into_iter().collect()
    }
}

impl KeyOutputs {
    /// The output digest of the key command of every stage of `pipeline` (of its whole grid
    /// too), set as the stage's `commands`: from `known` where it has one (a Slurm job, from its
    /// submission), else by running the command, keeping what it printed in `store`. An error
    /// names each command that failed, at a stage that declares it.
    pub fn apply(
        pipeline: &mut Pipeline,
        registry: &Registry,
        store: &Store,
        known: &KeyOutputs,
    ) -> Result<KeyOutputs, Diagnostics> {
        let outputs = KeyOutputs::of(pipeline, registry, store, known)?;
        let whole = pipeline.whole.iter_mut().flat_map(|w| w.stages.iter_mut());
        for spec in pipeline.stages.iter_mut().chain(whole) {
            let kind = registry.get(&spec.kind).expect("kinds are validated");
            spec.commands = kind
                .key_command(&spec.params)
                .map(|command| {
                    let digest = outputs.digest(&command).expect("every command has run");
                    (command.label(), digest.to_string())
                })
                .into_iter()
                .collect();
        }
        Ok(outputs)
    }

    fn of(
        pipeline: &Pipeline,
        registry: &Registry,
        store: &Store,
        known: &KeyOutputs,
    ) -> Result<KeyOutputs, Diagnostics> {
        let mut declared: BTreeMap<KeyCommand, Vec<&StageSpec>> = BTreeMap::new();
        let whole = pipeline.whole.iter().flat_map(|w| w.stages.iter());
        for spec in pipeline.stages.iter().chain(whole) {
            let kind = registry.get(&spec.kind).expect("kinds are validated");
            if let Some(command) = kind.key_command(&spec.params) {
                let stages = declared.entry(command).or_default();
                if !stages.iter().any(|s| s.name == spec.name) {
                    stages.push(spec);
                }
            }
        }
        let ran: Vec<(&KeyCommand, Result<String, String>)> = declared
            .par_iter()
            .filter(|(command, _)| !known.digests.contains_key(command))
            .map(|(command, _)| {
                let printed = probe::output(&command.argv, &[], probe::TIMEOUT);
                let digest = printed.and_then(|text| {
                    let digest = blake3::hash(text.as_bytes()).to_hex().to_string();
                    store
                        .keep_key_output(&digest, &text)
                        .map_err(|e| format!("cannot keep its output: {e:#}"))?;
                    Ok(digest)
                });
                (command, digest)
            })
            .collect();
        let mut outputs = KeyOutputs::default();
        let mut failures = Vec::new();
        for (command, digest) in ran {
            match digest {
                Ok(digest) => {
                    outputs.digests.insert(command.clone(), digest);
                }
                Err(why) => {
                    // Its first stage is enough to find it.
                    let stages = &declared[command];
                    let more = match stages.len() - 1 {
                        0 => String::new(),
                        n => format!(" (and of {n} more stages)"),
                    };
                    failures.push(
                        Diagnostic::new(format!(
                            "key_cmd `{}` of stage `{}`{more} failed: {why}",
                            command.label(),
                            stages[0].name
                        ))
                        .at(&stages[0].location)
                        .hint("a key_cmd must exit 0 within a minute, printing what describes the environment (e.g. `pip freeze`)"),
                    );
                }
            }
        }
        if !failures.is_empty() {
            return Err(Diagnostics(failures));
        }
        for (command, digest) in &known.digests {
            if declared.contains_key(command) {
                outputs.digests.insert(command.clone(), digest.clone());
            }
        }
        Ok(outputs)
    }

    /// The digest of `command`'s output, `None` for a command these outputs lack.
    pub fn digest(&self, command: &KeyCommand) -> Option<&str> {
        self.digests.get(command).map(String::as_str)
    }
}
