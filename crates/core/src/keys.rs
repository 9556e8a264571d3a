//! Computes a stage's [`Fingerprint`] from its spec, its upstream outputs, its input files and
//! the output of its key command.
use std::collections::{BTreeMap, HashMap};

use super::digest::FileDigests;
use super::fingerprint::{Fingerprint, Upstream};
use super::pipeline::StageSpec;
use super::stage::{Registry, Resource};

/// Toolchain components of keys: `common` enters every key, `device` only device stages' keys.
#[derive(Debug, Clone, Default)]
pub struct Toolchain {
    pub common: BTreeMap<String, String>,
    pub device: BTreeMap<String, String>,
}

pub struct Fingerprinter<'a> {
    pub registry: &'a Registry,
    pub digests: &'a FileDigests,
    pub toolchain: &'a Toolchain,
}

impl Fingerprinter<'_> {
    /// `outputs` maps stage names to their output digests (`None`: not yet known).
    pub fn fingerprint(
        &self,
        spec: &StageSpec,
        outputs: &HashMap<String, Option<String>>,
    ) -> anyhow::Result<Fingerprint> {
        let kind = self.registry.get(&spec.kind).expect("kinds are validated");
        let upstream = spec
            .inputs
            .iter()
            .map(|(role, stage)| {
                let output = outputs.get(stage).cloned().flatten();
                (role.clone(), Upstream { stage: stage.clone(), output })
            })
            .collect();
        let files = match &spec.files {
            Some(files) => files.clone(),
            None => self.digests.digest_all(&kind.input_files(&spec.params)?)?,
        };
        let mut toolchain = self.toolchain.common.clone();
        if kind.resource(&spec.params) != Resource::Cpu {
            toolchain.extend(self.toolchain.device.clone());
        }
        Ok(Fingerprint {
            kind: spec.kind.clone(),
            version: kind.info().version,
            params: spec.params.keyed(),
            upstream,
            files,
            commands: spec.commands.clone(),
            toolchain,
        })
    }
}
