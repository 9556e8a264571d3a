//! Progress display: where a run stands, and a bar for each long task.
//!
//! A run's status: its stages done, running and left; the units of work its kinds declare (a
//! training's epochs, [`crate::stage::StageKind::planned_units`]) done of those planned; the
//! time elapsed and an ETA from the speed so far, per stage kind; and which stages run now. On
//! a terminal it is a status line above the task bars, in colour unless `NO_COLOR` is set;
//! elsewhere (a log, CI) a plain `status:` line when a stage starts or ends or a unit is done,
//! at most every [`PLAIN_EVERY`].
//!
//! Device stages run in `ablate-torch` workers. There [`Progress::forwarding`] turns every call
//! into an [`Event`], one JSON line on the worker's reply channel, which the parent replays into
//! its own display ([`Progress::replay`]): one screen shows every stage.
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

/// Off a terminal, the status line is printed at most this often (`ABLATE_STATUS_EVERY`, in
/// seconds, overrides it: 0 prints it at every change).
pub const PLAIN_EVERY: Duration = Duration::from_secs(30);

fn plain_every() -> Duration {
    std::env::var("ABLATE_STATUS_EVERY")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(PLAIN_EVERY, Duration::from_secs_f64)
}

/// Units of work a stage plans (a training's epochs): what the run's status counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Units {
    /// What a unit is, plural: `epochs`.
    pub name: &'static str,
    pub planned: u64,
}

/// A progress call made in a worker, as the parent replays it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Line {
        text: String,
    },
    Task {
        id: u64,
        label: String,
        total: u64,
    },
    Inc {
        id: u64,
        n: u64,
    },
    Message {
        id: u64,
        text: String,
    },
    Finish {
        id: u64,
        message: String,
    },
    /// One of the stage's units of work is done (an epoch).
    Unit,
}

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

pub struct Progress {
    bars: MultiProgress,
    interactive: bool,
    colour: bool,
    /// In a worker: where events go instead of the screen.
    sink: Option<Sink>,
    next_task: AtomicU64,
    /// Tasks replayed from workers, by stage and the worker's task id.
    replayed: Mutex<HashMap<(String, u64), Task>>,
    run: Mutex<Option<RunStatus>>,
}

/// One unit of long work (an epoch's batches, a folder of images).
pub struct Task {
    inner: TaskInner,
}

enum TaskInner {
    Shown { bars: MultiProgress, bar: ProgressBar, label: String, interactive: bool },
    Forwarded { sink: Sink, id: u64 },
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let interactive = std::io::stderr().is_terminal();
        let target =
            if interactive { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let colour = interactive && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Progress {
            bars: MultiProgress::with_draw_target(target),
            interactive,
            colour,
            sink: None,
            next_task: AtomicU64::new(0),
            replayed: Mutex::new(HashMap::new()),
            run: Mutex::new(None),
        }
    }

    /// A worker's progress: every call becomes an [`Event`] line written to `sink`.
    pub fn forwarding(sink: Box<dyn Write + Send>) -> Self {
        Progress { sink: Some(Arc::new(Mutex::new(sink))), ..Progress::new() }
    }

    fn forward(&self, event: &Event) -> bool {
        match &self.sink {
            Some(sink) => {
                send(sink, event);
                true
            }
            None => false,
        }
    }

    /// A line of output that does not tear the bars.
    pub fn line(&self, text: &str) {
        if self.forward(&Event::Line { text: text.to_string() }) {
            return;
        }
        if self.interactive {
            let _ = self.bars.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    pub fn task(&self, label: impl Into<String>, total: u64) -> Task {
        let label = label.into();
        if let Some(sink) = &self.sink {
            let id = self.next_task.fetch_add(1, Ordering::Relaxed);
            send(sink, &Event::Task { id, label, total });
            return Task { inner: TaskInner::Forwarded { sink: sink.clone(), id } };
        }
        let bar = self.bars.add(ProgressBar::new(total));
        let template = if self.colour {
            "{prefix:>12.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({elapsed})"
        } else {
            "{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})"
        };
        bar.set_style(
            ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "),
        );
        bar.set_prefix(label.clone());
        if self.interactive {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        let inner =
            TaskInner::Shown { bars: self.bars.clone(), bar, label, interactive: self.interactive };
        Task { inner }
    }

    /// One of `stage`'s units of work (an epoch) is done.
    pub fn unit_done(&self, stage: &str) {
        if self.forward(&Event::Unit) {
            return;
        }
        self.update_run(|run| run.unit_done(stage));
    }

    /// Shows what a worker running `stage` reported.
    pub fn replay(&self, stage: &str, event: Event) {
        let mut replayed = self.replayed.lock().expect("replayed tasks");
        match event {
            Event::Line { text } => self.line(&text),
            Event::Task { id, label, total } => {
                replayed.insert((stage.to_string(), id), self.task(label, total));
            }
            Event::Inc { id, n } => {
                if let Some(task) = replayed.get(&(stage.to_string(), id)) {
                    task.inc(n);
                }
            }
            Event::Message { id, text } => {
                if let Some(task) = replayed.get(&(stage.to_string(), id)) {
                    task.message(text);
                }
            }
            Event::Finish { id, message } => {
                if let Some(task) = replayed.remove(&(stage.to_string(), id)) {
                    task.finish(message);
                }
            }
            Event::Unit => {
                drop(replayed);
                self.unit_done(stage);
            }
        }
    }

    /// Starts the run's status: `stages` are (name, kind, planned units), in the order they
    /// may run.
    pub fn begin_run(&self, stages: Vec<(String, String, Option<Units>)>) {
        let bar = self.interactive.then(|| {
            let bar = self.bars.insert(0, ProgressBar::new_spinner());
            let template = if self.colour {
                "{elapsed_precise:.dim} {msg:.green}"
            } else {
                "{elapsed_precise} {msg}"
            };
            bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
            bar.enable_steady_tick(Duration::from_secs(1));
            bar
        });
        *self.run.lock().expect("run status") = Some(RunStatus::new(stages, bar));
        self.update_run(|_| {});
    }

    pub fn stage_started(&self, stage: &str) {
        self.update_run(|run| run.started(stage));
    }

    /// `stage` ended after `seconds`; `ran` unless it was cached or failed (its time then says
    /// nothing about its kind's speed).
    pub fn stage_ended(&self, stage: &str, ran: bool, seconds: f64) {
        self.update_run(|run| run.ended(stage, ran, seconds));
    }

    pub fn end_run(&self) {
        if let Some(run) = self.run.lock().expect("run status").take()
            && let Some(bar) = run.bar
        {
            bar.finish_and_clear();
            self.bars.remove(&bar);
        }
    }

    /// Applies `change` to the run's status and shows it: the status bar on a terminal, a
    /// plain line at most every [`PLAIN_EVERY`] elsewhere.
    fn update_run(&self, change: impl FnOnce(&mut RunStatus)) {
        let mut run = self.run.lock().expect("run status");
        let Some(run) = run.as_mut() else { return };
        change(run);
        let text = run.describe();
        match &run.bar {
            Some(bar) => bar.set_message(text),
            None => {
                if run.last_line.is_none_or(|at| at.elapsed() >= plain_every()) {
                    run.last_line = Some(Instant::now());
                    eprintln!("status: {} elapsed; {text}", clock(run.started.elapsed()));
                }
            }
        }
    }
}

fn send(sink: &Sink, event: &Event) {
    if let Ok(mut line) = serde_json::to_vec(event) {
        line.push(b'\n');
        let mut sink = sink.lock().expect("progress sink");
        let _ = sink.write_all(&line).and_then(|()| sink.flush());
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Task {
    pub fn inc(&self, n: u64) {
        match &self.inner {
            TaskInner::Shown { bar, .. } => bar.inc(n),
            TaskInner::Forwarded { sink, id } => send(sink, &Event::Inc { id: *id, n }),
        }
    }

    pub fn message(&self, message: impl Into<String>) {
        match &self.inner {
            TaskInner::Shown { bar, .. } => bar.set_message(message.into()),
            TaskInner::Forwarded { sink, id } => {
                send(sink, &Event::Message { id: *id, text: message.into() })
            }
        }
    }

    /// Ends the task; off a terminal, its closing message becomes one plain line.
    pub fn finish(self, message: impl Into<String>) {
        let message = message.into();
        match self.inner {
            TaskInner::Shown { bars, bar, label, interactive: true } => {
                bar.finish_and_clear();
                bars.remove(&bar);
                let _ = bars.println(format!("{label:>12} {message}"));
            }
            TaskInner::Shown { label, interactive: false, .. } => {
                eprintln!("{label:>12} {message}")
            }
            TaskInner::Forwarded { sink, id } => send(&sink, &Event::Finish { id, message }),
        }
    }
}

/// A stage of the run, as the status counts it.
struct StageStatus {
    kind: String,
    units: Option<Units>,
    units_done: u64,
    /// When it started, or did its last unit.
    last_unit: Option<Instant>,
    state: State,
}

#[derive(PartialEq)]
enum State {
    Left,
    Running(Instant),
    Done,
}

/// What the run has done, and how fast each kind went so far.
struct RunStatus {
    started: Instant,
    /// In the order they may run.
    order: Vec<String>,
    stages: HashMap<String, StageStatus>,
    /// Kind → (seconds, stages) of the stages that ran to the end.
    per_stage: HashMap<String, (f64, u64)>,
    /// Kind → (seconds, units) of units done, finished or not.
    per_unit: HashMap<String, (f64, u64)>,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
}

impl RunStatus {
    fn new(list: Vec<(String, String, Option<Units>)>, bar: Option<ProgressBar>) -> RunStatus {
        let order = list.iter().map(|(name, _, _)| name.clone()).collect();
        let stages = list
            .into_iter()
            .map(|(name, kind, units)| {
                let status =
                    StageStatus { kind, units, units_done: 0, last_unit: None, state: State::Left };
                (name, status)
            })
            .collect();
        RunStatus {
            started: Instant::now(),
            order,
            stages,
            per_stage: HashMap::new(),
            per_unit: HashMap::new(),
            bar,
            last_line: None,
        }
    }

    fn started(&mut self, stage: &str) {
        if let Some(status) = self.stages.get_mut(stage) {
            status.state = State::Running(Instant::now());
            status.last_unit = Some(Instant::now());
        }
    }

    fn unit_done(&mut self, stage: &str) {
        let Some(status) = self.stages.get_mut(stage) else { return };
        status.units_done += 1;
        if let Some(last) = status.last_unit.replace(Instant::now()) {
            let entry = self.per_unit.entry(status.kind.clone()).or_default();
            *entry = (entry.0 + last.elapsed().as_secs_f64(), entry.1 + 1);
        }
    }

    fn ended(&mut self, stage: &str, ran: bool, seconds: f64) {
        let Some(status) = self.stages.get_mut(stage) else { return };
        status.state = State::Done;
        // A training that stopped early plans no more units.
        if let Some(units) = status.units.as_mut() {
            units.planned = status.units_done.min(units.planned);
        }
        if ran && status.units.is_none() {
            let entry = self.per_stage.entry(status.kind.clone()).or_default();
            *entry = (entry.0 + seconds, entry.1 + 1);
        }
    }

    /// `12/128 stages done, 1 running, 115 left; epochs 34/540; ETA 1:05:00; now: train[…] (epoch 3/6)`.
    fn describe(&self) -> String {
        let count =
            |state: fn(&State) -> bool| self.stages.values().filter(|s| state(&s.state)).count();
        let done = count(|s| *s == State::Done);
        let running = count(|s| matches!(s, State::Running(_)));
        let left = self.stages.len() - done - running;
        let mut text =
            format!("{done}/{} stages done, {running} running, {left} left", self.stages.len());
        let mut units: Vec<(&str, u64, u64)> = Vec::new();
        for status in self.stages.values() {
            let Some(planned) = status.units else { continue };
            match units.iter_mut().find(|(name, _, _)| *name == planned.name) {
                Some(entry) => {
                    (entry.1, entry.2) = (entry.1 + status.units_done, entry.2 + planned.planned)
                }
                None => units.push((planned.name, status.units_done, planned.planned)),
            }
        }
        for (name, done, planned) in units {
            text += &format!("; {name} {done}/{planned}");
        }
        text += &match self.eta() {
            Some(eta) => format!("; ETA {}", clock(eta)),
            None => "; ETA when each kind has run once".to_string(),
        };
        let now: Vec<String> = self
            .order
            .iter()
            .filter_map(|name| {
                let status = &self.stages[name];
                if !matches!(status.state, State::Running(_)) {
                    return None;
                }
                Some(match status.units {
                    Some(units) => format!(
                        "{name} ({} {}/{})",
                        units.name.trim_end_matches('s'),
                        (status.units_done + 1).min(units.planned),
                        units.planned
                    ),
                    None => name.clone(),
                })
            })
            .collect();
        if !now.is_empty() {
            text += &format!("; now: {}", now.join(", "));
        }
        text
    }

    /// The time the stages not done yet need at the speed of their kinds so far; `None` while
    /// a kind left to run has no measured speed. Stages that turn out cached take no time, so
    /// the estimate errs long early in a run that is partly cached.
    fn eta(&self) -> Option<Duration> {
        let mut seconds = 0.0;
        for status in self.stages.values() {
            let elapsed = match status.state {
                State::Done => continue,
                State::Running(since) => since.elapsed().as_secs_f64(),
                State::Left => 0.0,
            };
            let needed = match status.units {
                Some(units) => {
                    let (sum, n) = self.per_unit.get(&status.kind).copied().unwrap_or_default();
                    if n == 0 {
                        return None;
                    }
                    (units.planned.saturating_sub(status.units_done)) as f64 * sum / n as f64
                }
                None => {
                    let (sum, n) = self.per_stage.get(&status.kind).copied().unwrap_or_default();
                    if n == 0 {
                        // Kinds that never ran to the end here are fast or cached: no guess.
                        continue;
                    }
                    (sum / n as f64 - elapsed).max(0.0)
                }
            };
            seconds += needed;
        }
        Some(Duration::from_secs_f64(seconds))
    }
}

/// `1:05:00`, `12:34`.
fn clock(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_counts_stages_and_epochs_and_estimates_from_the_speed_so_far() {
        let units = |planned| Some(Units { name: "epochs", planned });
        let mut run = RunStatus::new(
            vec![
                ("data".into(), "load".into(), None),
                ("train".into(), "train".into(), units(4)),
                ("train2".into(), "train".into(), units(4)),
            ],
            None,
        );
        assert!(run.describe().starts_with("0/3 stages done, 0 running, 3 left; epochs 0/8"));
        run.started("data");
        run.ended("data", true, 2.0);
        run.started("train");
        assert!(run.eta().is_none(), "no epoch measured yet");
        run.unit_done("train");
        let text = run.describe();
        assert!(text.contains("1/3 stages done, 1 running, 1 left; epochs 1/8"), "{text}");
        assert!(text.contains("now: train (epoch 2/4)"), "{text}");
        // Early stopping after two epochs: the rest of its plan is dropped.
        run.unit_done("train");
        run.ended("train", true, 10.0);
        assert!(run.describe().contains("epochs 2/6"), "{}", run.describe());
        assert!(run.eta().is_some());
    }

    #[test]
    fn events_read_back_as_written() {
        for event in [
            Event::Line { text: "x".into() },
            Event::Task { id: 3, label: "epoch 1/2".into(), total: 25 },
            Event::Finish { id: 3, message: "loss 0.5".into() },
            Event::Unit,
        ] {
            let text = serde_json::to_string(&event).unwrap();
            assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
        }
    }
}
