//! `ablate run P --until-ci WIDTH [--max-seeds N]`: seeds on demand. Rounds of runs: after
//! each, the comparison of the pipeline's results (as `ablate compare` makes it) gives each
//! variant's Δ interval on the primary column, `ablate_results::seeds_on_demand` decides which
//! variants get which further seeds and why, the decision is printed and kept in the round's
//! run record, the extra seeds are recorded in the cache (`ablate_core::grid::ExtraSeeds`) and
//! the next round runs the grid with them; finished seeds are cached, so only new ones run. It
//! stops when every interval is narrow enough, or the wide ones have N seeds, or a round fails.
use std::collections::BTreeMap;
use std::path::Path;

use ablate_core::grid::{Levels, SEED};
use ablate_core::invalid;
use ablate_core::key_commands::KeyOutputs;
use ablate_core::run_record::{RunReport, UntilCiRound};
use ablate_core::scheduler::RunOptions;
use ablate_results::compare;
use ablate_results::seeds_on_demand::{Round, Standing, Target, decide, delta_widths};
use ablate_results::significance::{Interval, Settings};

use super::results::{IntervalArg, comparison};
use crate::session::{Access, Session};

/// The most seeds a variant gets without `--max-seeds`.
const DEFAULT_MAX_SEEDS: usize = 10;

#[derive(clap::Args)]
#[command(next_help_heading = "Seeds on demand (--until-ci)")]
pub(super) struct UntilCi {
    /// After each round, give the variants whose Δ interval (against the grid's baseline, on
    /// the primary metric) is wider than WIDTH (in the metric's units, e.g. 0.05 of macro-F1)
    /// the next seeds, the baseline too where it lacks them; stop when every interval is at most
    /// WIDTH wide or the wide ones have --max-seeds seeds. The seeds added are recorded in the
    /// cache and stay part of the pipeline (later runs, plans and comparisons see them).
    #[arg(long, value_name = "WIDTH")]
    until_ci: Option<f64>,
    /// The most seeds any variant may have with --until-ci [default: 10].
    #[arg(long, value_name = "N", requires = "until_ci")]
    max_seeds: Option<usize>,
    /// The metric of the intervals (default: the comparison's primary: macro_f1 where stored).
    #[arg(long, requires = "until_ci")]
    metric: Option<String>,
    /// The split of the intervals (default: the comparison's first).
    #[arg(long, requires = "until_ci")]
    split: Option<String>,
    /// The stages whose metric is compared (default: as `ablate compare`'s, the evaluations).
    #[arg(long = "stage", value_name = "STAGE", requires = "until_ci")]
    stages: Vec<String>,
    /// What the intervals account for: `t`, the seeds (t-intervals), or `bootstrap`, the seeds
    /// and the test images (the bootstrap over the stored predictions, B = 2000, seed 0).
    #[arg(
        long,
        value_enum,
        default_value = "t",
        requires = "until_ci",
        hide_possible_values = true
    )]
    interval: IntervalArg,
}

/// One run of a pipeline, recorded and printed (`run::run_once`).
pub(super) type RunOnce<'a> = dyn Fn(&Session, &RunOptions) -> anyhow::Result<RunReport> + 'a;

impl UntilCi {
    pub(super) fn requested(&self) -> bool {
        self.until_ci.is_some()
    }

    /// Checks the values given, before the pipeline is read.
    pub(super) fn check(&self) -> anyhow::Result<()> {
        match self.until_ci {
            Some(width) if !(width.is_finite() && width > 0.0) => invalid!(
                "--until-ci {width}: the width of a Δ interval is a positive number in the metric's units (e.g. 0.05 for macro-F1)"
            ),
            _ if self.max_seeds == Some(0) => {
                invalid!("--max-seeds 0: a variant needs at least one seed")
            }
            _ => Ok(()),
        }
    }

    /// Rounds from `session` (the pipeline as loaded, with the seeds added before) until every
    /// interval is narrow enough or out of seeds; whether every round succeeded.
    pub(super) fn rounds(
        &self,
        cache: &Path,
        mut session: Session,
        options: &RunOptions,
        run_once: &RunOnce,
    ) -> anyhow::Result<bool> {
        let target = self.target(&session)?;
        let compare_options = self.compare_options();
        let mut extra = session.source.extra_seeds.clone();
        for round in 1.. {
            let mut report = run_once(&session, options)?;
            if !report.succeeded() {
                println!("--until-ci: round {round} failed; no further seeds");
                return Ok(false);
            }
            let name = session.pipeline.name.clone();
            let names = std::slice::from_ref(&name);
            let comparison =
                comparison(&session.store, names, &self.stages, false, &compare_options)?;
            let Some(baseline) = &comparison.baseline else {
                invalid!(
                    "--until-ci: the comparison of {name} has no baseline row, so no Δ interval{}",
                    comparison
                        .baseline_not_run
                        .as_ref()
                        .map(|b| format!(" (the baseline {b} has no results)"))
                        .unwrap_or_default()
                );
            };
            let (base, variants) =
                standings(&session, &baseline.levels, &delta_widths(&comparison));
            let decided = decide(&base, &variants, &target);
            let column = comparison.primary.map(|c| comparison.columns[c].name.clone());
            println!(
                "round {round}: Δ intervals on {} (against {}), target width {}:",
                column.as_deref().unwrap_or("(no column)"),
                baseline,
                target.width
            );
            let lines: Vec<String> = decided.decisions.iter().map(|d| d.to_string()).collect();
            for line in &lines {
                println!("  {line}");
            }
            report.until_ci = Some(UntilCiRound { round, decisions: lines });
            if let Err(error) = session.store.write_run(&report) {
                eprintln!("warning: {error:#}");
            }
            if decided.is_final() {
                println!("--until-ci: {}", verdict(&decided, round));
                return Ok(true);
            }
            for decision in decided.decisions.iter().filter(|d| !d.new_seeds.is_empty()) {
                extra.add(&decision.levels, &decision.new_seeds);
            }
            session.store.write_extra_seeds(&name, &extra)?;
            let mut source = session.source.clone();
            source.extra_seeds = extra.clone();
            let kind = options.device_kind();
            session = Session::open(cache, &source, kind, Access::Run, &KeyOutputs::default())?;
        }
        unreachable!("the rounds return")
    }

    /// The target of the rounds, checked against the pipeline before anything runs.
    fn target(&self, session: &Session) -> anyhow::Result<Target> {
        self.check()?;
        let width = self.until_ci.expect("asked for");
        let pipeline = &session.pipeline;
        let Some(layout) = &pipeline.layout else {
            invalid!(
                "--until-ci: {} has no grid; seeds on demand add seeds to a grid's variants",
                pipeline.name
            );
        };
        if !layout.factors.iter().any(|(factor, _)| factor == SEED) {
            invalid!(
                "--until-ci: the grid of {} has no `seeds`; declare them (`grid.seeds: 3`) for seeds on demand to add more",
                pipeline.name
            );
        }
        if layout.baseline.is_none() {
            invalid!(
                "--until-ci: the grid of {} has no baseline: Δ intervals are measured against it; declare `grid.baseline` with one level of each factor",
                pipeline.name
            );
        }
        if pipeline.whole.is_some() {
            invalid!(
                "--until-ci runs the whole grid; {} is limited to a slice (`grid.only`)",
                pipeline.name
            );
        }
        let max_seeds = self.max_seeds.unwrap_or(DEFAULT_MAX_SEEDS);
        let too_many = seeds_by_variant(session).into_iter().find(|(_, s)| s.len() > max_seeds);
        if let Some((levels, seeds)) = too_many {
            invalid!(
                "--max-seeds {max_seeds}: variant {levels} already has {} seeds; give at least that many",
                seeds.len()
            );
        }
        let level = Settings::default().ci.expect("intervals are shown by default");
        Ok(Target { width, max_seeds, level })
    }

    fn compare_options(&self) -> compare::Options {
        let settings = Settings { interval: Interval::from(self.interval), ..Settings::default() };
        compare::Options {
            metrics: self.metric.iter().cloned().collect(),
            splits: self.split.iter().cloned().collect(),
            settings,
            ..compare::Options::default()
        }
    }
}

/// Each variant's seeds (its levels without `seed`), in the pipeline's order.
fn seeds_by_variant(session: &Session) -> Vec<(Levels, Vec<i64>)> {
    let mut seeds: BTreeMap<String, (usize, Levels, Vec<i64>)> = BTreeMap::new();
    for (i, variant) in session.pipeline.variants.iter().enumerate() {
        let levels = variant.variant.levels.without_seed();
        let entry = seeds.entry(levels.name()).or_insert((i, levels, Vec::new()));
        entry.2.extend(variant.variant.levels.seed().and_then(|s| s.parse::<i64>().ok()));
    }
    let mut seeds: Vec<(usize, Levels, Vec<i64>)> = seeds.into_values().collect();
    seeds.sort_by_key(|(i, ..)| *i);
    seeds
        .into_iter()
        .map(|(_, levels, mut seeds)| {
            seeds.sort_unstable();
            (levels, seeds)
        })
        .collect()
}

/// The baseline's standing and the other variants', with the widths of their Δ intervals.
fn standings(
    session: &Session,
    baseline: &Levels,
    widths: &[(Levels, Option<f64>)],
) -> (Standing, Vec<Standing>) {
    let width_of = |levels: &Levels| widths.iter().find(|(l, _)| l == levels).and_then(|w| w.1);
    let mut base = Standing { levels: baseline.clone(), seeds: Vec::new(), width: None };
    let mut variants = Vec::new();
    for (levels, seeds) in seeds_by_variant(session) {
        if &levels == baseline {
            base.seeds = seeds;
        } else {
            let width = width_of(&levels);
            variants.push(Standing { levels, seeds, width });
        }
    }
    (base, variants)
}

/// Why the rounds stop.
fn verdict(round: &Round, rounds: u32) -> String {
    let after = if rounds == 1 { "1 round".to_string() } else { format!("{rounds} rounds") };
    if round.all_narrow() {
        format!("every Δ interval is narrow enough after {after}")
    } else {
        format!(
            "stopped after {after}: the variants still wider have --max-seeds seeds (or no interval)"
        )
    }
}
