//! The state of a run between stage completions, as cargo's `DrainState` is for a build: which
//! stages ended and how, which run, which device slots and CPU jobs are free, and how often a
//! stage had a corrupt input recomputed. The scheduler asks it which stages may start
//! ([`RunState::start_ready`]) and tells it how each ended ([`RunState::finish`]); it never
//! runs anything itself, so its rules can be read and tested alone:
//!
//! - a stage starts when every upstream stage is done and a slot of its resource is free (a
//!   CPU job, up to `jobs`; or device slots: one on each of as many different devices as it
//!   takes, all at once, so that a stage of several GPUs sees that many GPUs);
//! - device stages start in dependency order: once a ready one waits for devices, those after
//!   it wait too, so that stages of one device cannot keep a stage of several from ever
//!   finding them free together (the scheduler refuses, before anything runs, a stage that
//!   takes more devices than the run has and would wait forever, and caps a cached one, which
//!   only looks its result up);
//! - a stage whose upstream failed or was skipped is skipped, naming the stage;
//! - a stage that found an upstream output corrupt (set aside by then) runs again after that
//!   upstream stage has run again, at most [`MAX_RECOMPUTES`] times; then it fails.
use std::collections::{HashMap, HashSet};

use super::run_record::Outcome;
use super::stage::Resource;
use super::store::Entry;

/// How often one stage may have a corrupt input recomputed within a run.
pub const MAX_RECOMPUTES: u32 = 2;

/// A stage as the run state sees it.
#[derive(Debug, Clone)]
pub struct Node<'p> {
    pub name: &'p str,
    pub inputs: Vec<&'p str>,
    pub resource: Resource,
}

/// How a started stage ended, as the scheduler reports it.
pub enum Ended {
    Ok(Outcome, Box<Entry>),
    /// It read a corrupt output of `upstream`, which has been set aside.
    CorruptInput {
        upstream: String,
        error: String,
    },
    Failed(String),
}

/// What [`RunState::finish`] decided.
#[derive(Debug, PartialEq)]
pub enum Next {
    Continue,
    /// The stage runs again after `upstream`, whose output was corrupt (`error`), has run again.
    Recompute {
        upstream: String,
        error: String,
    },
    Failed(String),
}

pub struct RunState<'p> {
    /// In dependency order.
    nodes: Vec<Node<'p>>,
    jobs: usize,
    free_devices: Vec<String>,
    outcomes: HashMap<&'p str, Outcome>,
    done: HashMap<&'p str, Entry>,
    started: HashSet<&'p str>,
    running: usize,
    running_cpu: usize,
    retries: HashMap<&'p str, u32>,
}

impl<'p> RunState<'p> {
    pub fn new(nodes: Vec<Node<'p>>, jobs: usize, devices: Vec<String>) -> RunState<'p> {
        RunState {
            nodes,
            jobs: jobs.max(1),
            free_devices: devices,
            outcomes: HashMap::new(),
            done: HashMap::new(),
            started: HashSet::new(),
            running: 0,
            running_cpu: 0,
            retries: HashMap::new(),
        }
    }

    /// Marks the stages that may start now as started, taking their slots, and returns them
    /// with their device slots (none: a CPU job) and their upstream results. Stages whose
    /// upstream failed are skipped on the way; `skipped` hears of each.
    pub fn start_ready(
        &mut self,
        mut skipped: impl FnMut(&str, &str),
    ) -> Vec<(&'p str, Vec<String>, HashMap<String, Entry>)> {
        let mut ready = Vec::new();
        let mut devices_awaited = false;
        for i in 0..self.nodes.len() {
            let node = &self.nodes[i];
            let name = node.name;
            if self.outcomes.contains_key(name) || self.started.contains(name) {
                continue;
            }
            let blocker = node.inputs.iter().find(|u| {
                matches!(
                    self.outcomes.get(*u),
                    Some(Outcome::Failed { .. } | Outcome::Skipped { .. })
                )
            });
            if let Some(blocker) = blocker {
                skipped(name, blocker);
                let because = format!("upstream {blocker} failed");
                self.outcomes.insert(name, Outcome::Skipped { because });
                continue;
            }
            if !node.inputs.iter().all(|u| self.done.contains_key(u)) {
                continue;
            }
            let devices = match node.resource {
                Resource::Cpu if self.running_cpu < self.jobs => Vec::new(),
                Resource::Cpu => continue,
                Resource::Devices(_) if devices_awaited => continue,
                Resource::Devices(n) => match take_devices(&mut self.free_devices, n.get()) {
                    Some(devices) => devices,
                    None => {
                        devices_awaited = true;
                        continue;
                    }
                },
            };
            if node.resource == Resource::Cpu {
                self.running_cpu += 1;
            }
            self.running += 1;
            self.started.insert(name);
            let upstream =
                node.inputs.iter().map(|u| (u.to_string(), self.done[u].clone())).collect();
            ready.push((name, devices, upstream));
        }
        ready
    }

    /// Whether stages are running (the scheduler waits for the next to end).
    pub fn running(&self) -> bool {
        self.running > 0
    }

    /// Records how `name`, started with `devices`, ended; `published` says whether a key's
    /// result is in the store (a corrupt upstream result that was set aside is not).
    pub fn finish(
        &mut self,
        name: &'p str,
        devices: Vec<String>,
        ended: Ended,
        published: impl Fn(&str) -> bool,
    ) -> Next {
        self.running -= 1;
        if devices.is_empty() {
            self.running_cpu -= 1;
        }
        self.free_devices.extend(devices);
        match ended {
            Ended::Ok(outcome, entry) => {
                self.done.insert(name, *entry);
                self.outcomes.insert(name, outcome);
                Next::Continue
            }
            Ended::CorruptInput { upstream, error } => {
                let retries = self.retries.entry(name).or_default();
                if *retries >= MAX_RECOMPUTES {
                    return self.fail(name, error);
                }
                *retries += 1;
                let upstream = self.nodes.iter().find(|n| n.name == upstream).map(|n| n.name);
                let upstream = upstream.expect("inputs are stages");
                if self.done.get(upstream).is_some_and(|e| !published(&e.record.key)) {
                    self.done.remove(upstream);
                    self.outcomes.remove(upstream);
                    self.started.remove(upstream);
                }
                self.started.remove(name);
                Next::Recompute { upstream: upstream.to_string(), error }
            }
            Ended::Failed(error) => self.fail(name, error),
        }
    }

    fn fail(&mut self, name: &'p str, error: String) -> Next {
        self.outcomes.insert(name, Outcome::Failed { error: error.clone() });
        Next::Failed(error)
    }

    /// Every stage's outcome, in dependency order.
    pub fn outcomes(mut self) -> Vec<(String, Outcome)> {
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name).collect();
        names
            .into_iter()
            .map(|s| (s.to_string(), self.outcomes.remove(s).expect("every stage ends")))
            .collect()
    }
}

/// A free slot on each of `n` different devices, the first free ones in slot order, taken
/// out of `free`; `None` (and nothing taken) while fewer than `n` devices have a free slot.
fn take_devices(free: &mut Vec<String>, n: u32) -> Option<Vec<String>> {
    let mut chosen: Vec<usize> = Vec::new();
    for (i, device) in free.iter().enumerate() {
        if chosen.len() == n as usize {
            break;
        }
        if !chosen.iter().any(|&c| free[c] == *device) {
            chosen.push(i);
        }
    }
    if chosen.len() < n as usize {
        return None;
    }
    // Removed from the last, so that the positions before stay right.
    let mut taken: Vec<String> = chosen.into_iter().rev().map(|i| free.remove(i)).collect();
    taken.reverse();
    Some(taken)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::fingerprint::Fingerprint;
    use crate::store::Record;

    fn entry(key: &str) -> Entry {
        let fingerprint = Fingerprint {
            kind: "k".into(),
            version: 1,
            params: Default::default(),
            upstream: Default::default(),
            files: Default::default(),
            commands: Default::default(),
            toolchain: Default::default(),
        };
        let record = Record {
            key: key.into(),
            pipeline: "p".into(),
            stage: "s".into(),
            fingerprint,
            output: String::new(),
            metrics: None,
            created: 0,
            seconds: 0.0,
            summary: None,
        };
        Entry { dir: PathBuf::from(key), record }
    }

    fn ran(key: &str) -> Ended {
        Ended::Ok(
            Outcome::Ran { key: key.into(), seconds: 0.0, summary: None },
            Box::new(entry(key)),
        )
    }

    /// a → b → c, with b and c on the device.
    fn chain() -> RunState<'static> {
        let node = |name, inputs: &[&'static str], resource| Node {
            name,
            inputs: inputs.to_vec(),
            resource,
        };
        RunState::new(
            vec![
                node("a", &[], Resource::Cpu),
                node("b", &["a"], Resource::DEVICE),
                node("c", &["b"], Resource::DEVICE),
            ],
            1,
            vec!["cpu".into()],
        )
    }

    fn names(ready: Vec<(&str, Vec<String>, HashMap<String, Entry>)>) -> Vec<&str> {
        ready.into_iter().map(|(n, _, _)| n).collect()
    }

    #[test]
    fn a_corrupt_input_runs_its_stage_again_then_the_reader() {
        let mut state = chain();
        assert_eq!(names(state.start_ready(|_, _| {})), ["a"]);
        assert_eq!(state.finish("a", Vec::new(), ran("ka"), |_| true), Next::Continue);
        assert_eq!(names(state.start_ready(|_, _| {})), ["b"]);
        let corrupt = Ended::CorruptInput { upstream: "a".into(), error: "corrupt".into() };
        let next = state.finish("b", vec!["cpu".into()], corrupt, |key| key != "ka");
        assert_eq!(next, Next::Recompute { upstream: "a".into(), error: "corrupt".into() });
        assert_eq!(names(state.start_ready(|_, _| {})), ["a"], "a runs again first");
        state.finish("a", Vec::new(), ran("ka2"), |_| true);
        assert_eq!(names(state.start_ready(|_, _| {})), ["b"]);
    }

    #[test]
    fn recomputing_stops_after_the_limit_and_skips_what_follows() {
        let mut state = chain();
        state.start_ready(|_, _| {});
        state.finish("a", Vec::new(), ran("ka"), |_| true);
        for round in 0..=MAX_RECOMPUTES {
            assert_eq!(names(state.start_ready(|_, _| {})), ["b"], "round {round}");
            let corrupt = Ended::CorruptInput { upstream: "a".into(), error: "bad".into() };
            // `a`'s result stays published: only `b` runs again.
            let next = state.finish("b", vec!["cpu".into()], corrupt, |_| true);
            if round < MAX_RECOMPUTES {
                assert_eq!(next, Next::Recompute { upstream: "a".into(), error: "bad".into() });
            } else {
                assert_eq!(next, Next::Failed("bad".into()));
            }
        }
        let mut skipped = Vec::new();
        assert!(
            state.start_ready(|name, blocker| skipped.push(format!("{name}<{blocker}"))).is_empty()
        );
        assert_eq!(skipped, ["c<b"]);
        assert!(!state.running());
        let outcomes = state.outcomes();
        assert!(matches!(outcomes[1].1, Outcome::Failed { .. }));
        assert!(matches!(outcomes[2].1, Outcome::Skipped { .. }));
    }

    #[test]
    fn a_device_stage_waits_for_a_free_slot() {
        let node = |name, resource| Node { name, inputs: Vec::new(), resource };
        let mut state = RunState::new(
            vec![
                node("x", Resource::DEVICE),
                node("y", Resource::DEVICE),
                node("z", Resource::Cpu),
            ],
            1,
            vec!["cuda:0".into()],
        );
        assert_eq!(names(state.start_ready(|_, _| {})), ["x", "z"]);
        assert!(state.start_ready(|_, _| {}).is_empty());
        state.finish("x", vec!["cuda:0".into()], ran("kx"), |_| true);
        assert_eq!(names(state.start_ready(|_, _| {})), ["y"]);
    }

    #[test]
    fn a_stage_of_several_devices_takes_a_slot_on_each_at_once_and_is_not_starved() {
        let node = |name, n: u32| Node {
            name,
            inputs: Vec::new(),
            resource: match std::num::NonZeroU32::new(n) {
                Some(n) => Resource::Devices(n),
                None => Resource::Cpu,
            },
        };
        // Three GPUs, two slots each.
        let slots = ["cuda:0", "cuda:0", "cuda:1", "cuda:1", "cuda:2", "cuda:2"];
        let mut state = RunState::new(
            vec![node("one", 1), node("wide", 3), node("two", 2), node("late", 1), node("cpu", 0)],
            1,
            slots.iter().map(|s| s.to_string()).collect(),
        );
        let started = state.start_ready(|_, _| {});
        let taken: Vec<(&str, Vec<String>)> = started.into_iter().map(|(n, d, _)| (n, d)).collect();
        assert_eq!(
            taken,
            [
                ("one", vec!["cuda:0".to_string()]),
                ("wide", vec!["cuda:0".into(), "cuda:1".into(), "cuda:2".into()]),
                // `two` needs two devices; `cuda:1` and `cuda:2` have a slot each.
                ("two", vec!["cuda:1".into(), "cuda:2".into()]),
                ("cpu", vec![]),
            ]
        );
        // `late` waits though nothing is free; a second wide stage would wait as well.
        assert!(state.start_ready(|_, _| {}).is_empty());
        state.finish("two", vec!["cuda:1".into(), "cuda:2".into()], ran("k2"), |_| true);
        assert_eq!(names(state.start_ready(|_, _| {})), ["late"]);

        // Behind a waiting wide stage, stages of one device wait too.
        let mut state = RunState::new(
            vec![node("a", 1), node("wide", 2), node("b", 1)],
            1,
            vec!["cuda:0".into(), "cuda:1".into()],
        );
        assert_eq!(names(state.start_ready(|_, _| {})), ["a"]);
        state.finish("a", vec!["cuda:0".into()], ran("ka"), |_| true);
        assert_eq!(names(state.start_ready(|_, _| {})), ["wide"]);
        state.finish("wide", vec!["cuda:0".into(), "cuda:1".into()], ran("kw"), |_| true);
        assert_eq!(names(state.start_ready(|_, _| {})), ["b"]);
    }
}
