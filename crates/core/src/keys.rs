//! Computes a stage's fingerprint ([`FingerprintRef`]) from its spec, its upstream outputs, its
//! input files and the output of its key command.
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::digest::FileDigests;
use super::fingerprint::{FingerprintRef, UpstreamRef};
use super::pipeline::StageSpec;
use super::stage::{Registry, Resource};

/// Toolchain components of keys: `common` enters every key, `device` only device stages' keys.
#[derive(Debug, Clone, Default)]
pub struct Toolchain {
    common: BTreeMap<String, String>,
    device: BTreeMap<String, String>,
    /// `common` and `device` (whose components win): the toolchain of a device stage's key,
    /// merged once for all stages.
    device_stage: BTreeMap<String, String>,
}

impl Toolchain {
    /// `common` for every stage's key, `device` for device stages' keys besides.
    pub fn new(common: BTreeMap<String, String>, device: BTreeMap<String, String>) -> Toolchain {
        let mut device_stage = common.clone();
        device_stage.extend(device.clone());
        Toolchain { common, device, device_stage }
    }

    /// The components only device stages' keys hold.
    pub fn device(&self) -> &BTreeMap<String, String> {
        &self.device
    }

    /// The toolchain of a stage's key: a device stage's, or any other's.
    pub fn of(&self, device_stage: bool) -> &BTreeMap<String, String> {
        if device_stage { &self.device_stage } else { &self.common }
    }
}

pub struct Fingerprinter<'a> {
    pub registry: &'a Registry,
    pub digests: &'a FileDigests,
    pub toolchain: &'a Toolchain,
}

impl Fingerprinter<'_> {
    /// `outputs` maps stage names to their output digests (`None`: not yet known).
    pub fn fingerprint<'a>(
        &'a self,
        spec: &'a StageSpec,
        outputs: &'a HashMap<String, Option<String>>,
    ) -> anyhow::Result<FingerprintRef<'a>> {
        let kind = self.registry.get(&spec.kind).expect("kinds are validated");
        let upstream = spec.inputs.iter().map(|(role, stage)| UpstreamRef {
            role,
            stage,
            output: outputs.get(stage).and_then(Option::as_deref),
        });
        let files = match &spec.files {
            Some(files) => Cow::Borrowed(files),
            None => Cow::Owned(self.digests.digest_all(&kind.input_files(&spec.params)?)?),
        };
        Ok(FingerprintRef::new(
            &spec.kind,
            kind.info().version,
            spec.params.keyed_values().collect(),
            upstream.collect(),
            files,
            &spec.commands,
            self.toolchain.of(kind.resource(&spec.params) != Resource::Cpu),
        ))
    }
}
