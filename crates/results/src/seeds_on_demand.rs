//! Seeds on demand (`ablate run P --until-ci WIDTH --max-seeds N`): after each round of runs,
//! which variants get more seeds, how many, and why.
//!
//! In: per variant its seeds so far and the width of its Δ interval on the primary column of
//! the comparison (`compare`'s, t-intervals by default); the baseline's seeds; the target width
//! and the most seeds a variant may have. Out: per variant a [`Decision`]: the seeds it gets
//! this round (the next numbers after its largest) and the [`Reason`], in words a user reads.
//!
//! - A variant whose interval is at most WIDTH wide is [`Reason::Narrow`] and gets nothing.
//! - A wider one gets as many seeds as the width calculation (`stats::seeds_for_width`: the
//!   interval shrinks as t(n − 1)/√n with the spread it shows now) expects to be narrow
//!   enough, at least one and at most up to N in all ([`Reason::WiderThan`]); one without an
//!   interval yet goes to 3 seeds ([`Reason::NoInterval`]); one that has N seeds is
//!   [`Reason::ReachedMaxSeeds`].
//! - The baseline gets the seeds any variant will have that it lacks: a Δ pairs seed i of a
//!   variant with seed i of the baseline, so without them the baseline's seeds limit the
//!   width ([`Reason::BaselineLimits`]).
//!
//! Every variant below N seeds whose interval is too wide gains a seed each round and none
//! passes N, so rounds end: [`Round::is_final`] when no variant gets a seed.
use std::fmt;

use ablate_core::grid::Levels;

use crate::compare::Comparison;
use crate::stats;

/// What the rounds aim for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// The widest Δ interval accepted, in the metric's units.
    pub width: f64,
    /// The most seeds any variant (the baseline too) may have.
    pub max_seeds: usize,
    /// The confidence level of the intervals.
    pub level: f64,
}

/// Where a variant stands after a round.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Its levels without `seed`.
    pub levels: Levels,
    /// Its seeds so far, ascending.
    pub seeds: Vec<i64>,
    /// The width of its Δ interval; `None` without one.
    pub width: Option<f64>,
}

/// Why a variant gets seeds this round, or none.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Its Δ interval is at most the target wide.
    Narrow { width: f64, target: f64 },
    /// Its Δ interval is wider than the target: it gets seeds up to `wanted` in all (`capped`
    /// when the width calculation expects more than `--max-seeds`).
    WiderThan { width: f64, target: f64, wanted: usize, capped: bool },
    /// It has no Δ interval yet (fewer than 2 seeds with the baseline's).
    NoInterval { wanted: usize },
    /// Its Δ interval is wider than the target (or missing), but it has `--max-seeds` seeds.
    ReachedMaxSeeds { width: Option<f64>, max: usize },
    /// The baseline, whose seeds some variants will have beyond it (named).
    BaselineLimits { variants: Vec<String> },
    /// The baseline, which has every seed the variants have.
    Baseline,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Narrow { width, target } => {
                write!(f, "Δ interval {width:.4} wide ≤ {target}: narrow enough")
            }
            Reason::WiderThan { width, target, wanted, capped: false } => write!(
                f,
                "Δ interval {width:.4} wide > {target}: {wanted} seeds should narrow it enough"
            ),
            Reason::WiderThan { width, target, wanted, capped: true } => write!(
                f,
                "Δ interval {width:.4} wide > {target}: more than {wanted} seeds would be needed; --max-seeds {wanted}"
            ),
            Reason::NoInterval { wanted } => {
                write!(
                    f,
                    "no Δ interval yet (fewer than 2 seeds with the baseline's): {wanted} seeds"
                )
            }
            Reason::ReachedMaxSeeds { width: Some(width), max } => {
                write!(f, "Δ interval {width:.4} wide, but --max-seeds {max} reached")
            }
            Reason::ReachedMaxSeeds { width: None, max } => {
                write!(f, "no Δ interval, but --max-seeds {max} reached")
            }
            Reason::BaselineLimits { variants } => write!(
                f,
                "baseline: each Δ pairs seed i with the baseline's seed i, so its seeds limit the width of {}",
                variants.join("; ")
            ),
            Reason::Baseline => write!(f, "baseline: has every seed of the variants"),
        }
    }
}

/// One variant's decision in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub levels: Levels,
    /// Its seeds before the round.
    pub seeds: Vec<i64>,
    pub reason: Reason,
    /// The seeds it gets this round.
    pub new_seeds: Vec<i64>,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.levels.name();
        let name = if name.is_empty() { "(no levels)".to_string() } else { name };
        write!(f, "{name}: {} seeds ({}); {}", self.seeds.len(), list(&self.seeds), self.reason)?;
        if !self.new_seeds.is_empty() {
            write!(f, " → seeds {}", list(&self.new_seeds))?;
        }
        Ok(())
    }
}

/// `0–2, 5`: seeds, runs of consecutive ones shortened.
fn list(seeds: &[i64]) -> String {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for &seed in seeds {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == seed => *end = seed,
            _ => runs.push((seed, seed)),
        }
    }
    let runs: Vec<String> = runs
        .iter()
        .map(|&(a, b)| match b - a {
            0 => a.to_string(),
            1 => format!("{a}, {b}"),
            _ => format!("{a}–{b}"),
        })
        .collect();
    runs.join(", ")
}

/// The decisions of one round: the baseline's first, then the variants' in their order.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    pub decisions: Vec<Decision>,
}

impl Round {
    /// No variant gets a seed: every interval is narrow enough, or its variant has N seeds.
    pub fn is_final(&self) -> bool {
        self.decisions.iter().all(|d| d.new_seeds.is_empty())
    }

    /// Whether every variant's interval is narrow enough (not only out of seeds).
    pub fn all_narrow(&self) -> bool {
        self.decisions.iter().all(|d| matches!(d.reason, Reason::Narrow { .. } | Reason::Baseline))
    }
}

/// The decisions after a round, for the `baseline` and the other `variants`.
pub fn decide(baseline: &Standing, variants: &[Standing], target: &Target) -> Round {
    let mut decisions: Vec<Decision> =
        variants.iter().map(|v| decide_variant(v, baseline.seeds.len(), target)).collect();
    let mut lacking: Vec<i64> = Vec::new();
    let mut limited: Vec<String> = Vec::new();
    for decision in &decisions {
        let beyond: Vec<i64> = (decision.seeds.iter().chain(&decision.new_seeds))
            .filter(|s| !baseline.seeds.contains(s))
            .copied()
            .collect();
        if !beyond.is_empty() {
            limited.push(format!("{} (seeds {})", decision.levels.name(), list(&beyond)));
            lacking.extend(beyond);
        }
    }
    lacking.sort_unstable();
    lacking.dedup();
    lacking.truncate(target.max_seeds.saturating_sub(baseline.seeds.len()));
    let reason = if lacking.is_empty() {
        Reason::Baseline
    } else {
        Reason::BaselineLimits { variants: limited }
    };
    decisions.insert(
        0,
        Decision {
            levels: baseline.levels.clone(),
            seeds: baseline.seeds.clone(),
            reason,
            new_seeds: lacking,
        },
    );
    Round { decisions }
}

fn decide_variant(variant: &Standing, baseline_seeds: usize, target: &Target) -> Decision {
    let had = variant.seeds.len();
    let decision = |reason, wanted: usize| {
        let next = variant.seeds.iter().max().map_or(0, |s| s + 1);
        let new_seeds = (next..).take(wanted.saturating_sub(had)).collect();
        Decision { levels: variant.levels.clone(), seeds: variant.seeds.clone(), reason, new_seeds }
    };
    let max = target.max_seeds;
    match variant.width {
        Some(width) if width <= target.width => {
            decision(Reason::Narrow { width, target: target.width }, 0)
        }
        width if had >= max => decision(Reason::ReachedMaxSeeds { width, max }, 0),
        None => {
            let wanted = 3.max(had + 1).min(max);
            decision(Reason::NoInterval { wanted }, wanted)
        }
        Some(width) => {
            let pairs = had.min(baseline_seeds) as u64;
            let expected =
                stats::seeds_for_width(width, pairs, target.width, target.level, max as u64);
            let wanted = expected.map_or(max, |n| n as usize).max(had + 1).min(max);
            let capped = expected.is_none();
            decision(Reason::WiderThan { width, target: target.width, wanted, capped }, wanted)
        }
    }
}

/// The width of each row's Δ interval on the comparison's primary column (`None` where it has
/// none), by its levels without `seed`.
pub fn delta_widths(comparison: &Comparison) -> Vec<(Levels, Option<f64>)> {
    comparison
        .rows
        .iter()
        .map(|row| {
            let cell = comparison.primary.and_then(|c| row.cells.get(c)).and_then(Option::as_ref);
            let width = cell.and_then(|c| Some(c.delta_ci_high? - c.delta_ci_low?));
            (row.levels.without_seed(), width)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: Target = Target { width: 0.05, max_seeds: 8, level: 0.95 };

    fn standing(level: &str, seeds: std::ops::Range<i64>, width: Option<f64>) -> Standing {
        Standing {
            levels: vec![("m".to_string(), level.to_string())].into(),
            seeds: seeds.collect(),
            width,
        }
    }

    fn new_seeds(round: &Round, level: &str) -> Vec<i64> {
        let d = round.decisions.iter().find(|d| d.levels.level("m") == Some(level)).unwrap();
        d.new_seeds.clone()
    }

    #[test]
    fn a_wide_variant_gets_the_next_seeds_the_width_calculation_asks_for_and_the_baseline_too() {
        let base = standing("base", 0..3, None);
        let wide = standing("wide", 0..3, Some(0.08));
        let narrow = standing("narrow", 0..3, Some(0.04));
        let round = decide(&base, &[wide, narrow], &TARGET);
        // 0.08 at 3 seeds: 4 → 0.0512, 5 → 0.0398 (width·√(3/n)·t(n−1)/t(2)).
        assert_eq!(new_seeds(&round, "wide"), [3, 4]);
        assert_eq!(new_seeds(&round, "narrow"), [] as [i64; 0]);
        assert_eq!(new_seeds(&round, "base"), [3, 4]);
        assert!(matches!(round.decisions[0].reason, Reason::BaselineLimits { .. }));
        assert!(matches!(round.decisions[1].reason, Reason::WiderThan { wanted: 5, .. }));
        assert!(matches!(round.decisions[2].reason, Reason::Narrow { .. }));
        assert!(!round.is_final() && !round.all_narrow());
        let line = round.decisions[1].to_string();
        assert_eq!(
            line,
            "m=wide: 3 seeds (0–2); Δ interval 0.0800 wide > 0.05: 5 seeds should narrow it enough → seeds 3, 4"
        );
    }

    #[test]
    fn rounds_stop_when_every_interval_is_narrow() {
        let base = standing("base", 0..5, None);
        let round = decide(
            &base,
            &[standing("a", 0..5, Some(0.05)), standing("b", 0..3, Some(0.01))],
            &TARGET,
        );
        assert!(round.is_final() && round.all_narrow());
        assert_eq!(round.decisions[0].reason, Reason::Baseline);
    }

    #[test]
    fn no_variant_ever_passes_max_seeds_and_one_at_the_maximum_stops() {
        let base = standing("base", 0..6, None);
        let hopeless = standing("hopeless", 0..6, Some(10.0));
        let round = decide(&base, &[hopeless], &TARGET);
        assert_eq!(new_seeds(&round, "hopeless"), [6, 7]);
        assert!(matches!(
            round.decisions[1].reason,
            Reason::WiderThan { wanted: 8, capped: true, .. }
        ));
        assert_eq!(new_seeds(&round, "base"), [6, 7]);
        let full = standing("hopeless", 0..8, Some(10.0));
        let round = decide(&standing("base", 0..8, None), &[full], &TARGET);
        assert!(round.is_final() && !round.all_narrow());
        assert_eq!(
            round.decisions[1].reason,
            Reason::ReachedMaxSeeds { width: Some(10.0), max: 8 }
        );
    }

    #[test]
    fn a_wide_variant_always_gains_a_seed_even_when_one_more_is_projected_enough() {
        // Just above the target: one more seed is projected narrow enough.
        let round =
            decide(&standing("base", 0..3, None), &[standing("a", 0..3, Some(0.0501))], &TARGET);
        assert_eq!(new_seeds(&round, "a"), [3]);
        // Without an interval: 3 seeds; with 3 already (and no interval): one more.
        let round = decide(&standing("base", 0..1, None), &[standing("a", 0..1, None)], &TARGET);
        assert_eq!(new_seeds(&round, "a"), [1, 2]);
        assert_eq!(new_seeds(&round, "base"), [1, 2]);
        let round = decide(&standing("base", 0..3, None), &[standing("a", 0..3, None)], &TARGET);
        assert_eq!(new_seeds(&round, "a"), [3]);
    }

    #[test]
    fn the_baseline_gets_what_any_variant_has_beyond_it_but_never_more_than_max_seeds() {
        let target = Target { max_seeds: 4, ..TARGET };
        let round = decide(
            &standing("base", 0..2, None),
            &[standing("a", 0..2, Some(1.0)), standing("b", 0..6, Some(0.01))],
            &target,
        );
        assert_eq!(new_seeds(&round, "a"), [2, 3]);
        assert_eq!(new_seeds(&round, "base"), [2, 3]);
        let Reason::BaselineLimits { variants } = &round.decisions[0].reason else {
            panic!("{:?}", round.decisions[0])
        };
        assert_eq!(variants, &["m=a (seeds 2, 3)", "m=b (seeds 2–5)"]);
    }

    #[test]
    fn seeds_read_as_runs() {
        assert_eq!(list(&[0, 1, 2, 5, 7, 8]), "0–2, 5, 7, 8");
        assert_eq!(list(&[]), "");
    }
}
