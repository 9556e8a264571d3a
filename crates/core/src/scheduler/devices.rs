//! Stages that take more devices than a run has: refused before anything runs (a plan tells
//! which are cached, and so need no device), since they could never start.
use std::collections::HashSet;

use super::Scheduler;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::pipeline::StageSpec;
use crate::plan::{Status, plan};
use crate::stage::Registry;

impl Scheduler<'_> {
    /// Refuses, before anything runs, every stage (with `only`, that stage) that takes more
    /// devices than the run has and is not cached: a plan tells, made only when some stage
    /// takes that many (a cached stage needs no device).
    pub fn check_devices(&self, only: Option<&str>) -> anyhow::Result<()> {
        let available = distinct(&self.options.devices).len() as u32;
        let wanted = |spec: &&StageSpec| {
            let kind = self.registry.get(&spec.kind).expect("validated");
            kind.resource(&spec.params).devices() > available
        };
        let mut too_wide: Vec<&StageSpec> = match only {
            Some(stage) => self.pipeline.stage(stage).into_iter().collect(),
            None => self.pipeline.stages.iter().collect(),
        };
        too_wide.retain(wanted);
        if too_wide.is_empty() {
            return Ok(());
        }
        let planned = plan(self.pipeline, self.dag, self.store, self.fingerprinter)?;
        let cached: HashSet<&str> = planned
            .iter()
            .filter(|p| p.status == Status::Cached)
            .map(|p| p.stage.as_str())
            .collect();
        too_wide.retain(|spec| !cached.contains(spec.name.as_str()));
        refuse_too_wide(self.registry, too_wide.into_iter(), &self.options.devices)?;
        Ok(())
    }
}

/// Refuses each of `stages` that takes more devices than `slots` are on (slots of one device
/// count once): it could never start, and would wait for them forever.
pub fn refuse_too_wide<'a>(
    registry: &Registry,
    stages: impl Iterator<Item = &'a StageSpec>,
    slots: &[String],
) -> Result<(), Diagnostics> {
    let available = distinct(slots);
    let diagnostics: Vec<Diagnostic> = stages
        .filter_map(|spec| {
            let kind = registry.get(&spec.kind).expect("validated");
            let wanted = kind.resource(&spec.params).devices();
            (wanted as usize > available.len()).then(|| {
                Diagnostic::new(format!(
                    "stage `{}` takes {wanted} devices, and this run has {} ({}): it could never start",
                    spec.name,
                    available.len(),
                    available.join(", ")
                ))
                .at(&spec.location)
                .hint("give the run as many GPUs (`--device cuda` where there are enough, `--device cuda:0,1,…`, or `--executor slurm --device cuda`, whose job asks for them), or take fewer")
            })
        })
        .collect();
    if diagnostics.is_empty() { Ok(()) } else { Err(Diagnostics(diagnostics)) }
}

/// The devices of `slots`, each once, in slot order.
pub(super) fn distinct(slots: &[String]) -> Vec<String> {
    let mut devices: Vec<String> = Vec::new();
    for slot in slots {
        if !devices.contains(slot) {
            devices.push(slot.clone());
        }
    }
    devices
}
