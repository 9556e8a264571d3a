//! What is written under a table: what the numbers are, why some are missing, what has not
//! run, and which file (and version of it) each pipeline was run from.
use ablate_core::clock::format_time;

use super::grid::{STALE_MARK, mark};
use crate::compare::{Comparison, Source};
use crate::significance::{Interval, POWER, PairedTest, Settings};
use crate::stats::MAX_SEEDS;

/// What the numbers are, why some are missing, what has not run and where results come from.
pub(super) fn footer(comparison: &Comparison, notes: &[String]) -> String {
    let settings = &comparison.settings;
    let mut out = String::new();
    let bootstrapped = settings.interval == Interval::Bootstrap;
    let cells = || comparison.rows.iter().flat_map(|r| &r.cells).flatten();
    if cells().any(|c| c.n > 1) || (bootstrapped && settings.ci.is_some()) {
        out += &match settings.ci {
            Some(level) if bootstrapped => {
                format!("[low, high]: {} {}\n", percent(level), bootstrap_meaning(settings))
            }
            Some(level) => format!(
                "[low, high]: {} confidence interval of the mean over seeds (t, n − 1 degrees of freedom)\n",
                percent(level)
            ),
            None => "±: sample standard deviation over seeds (n − 1)\n".to_string(),
        };
    }
    if let (Some(baseline), Some(p), true) =
        (&comparison.baseline, comparison.primary, comparison.per_seed)
    {
        out += &format!(
            "Δ: {} minus that of the baseline {baseline} with the same seed (one seed per row: no tests)\n",
            comparison.columns[p].name
        );
    } else if let (Some(baseline), Some(p)) = (&comparison.baseline, comparison.primary) {
        let interval =
            settings.ci.map(|level| format!(" [{} CI]", percent(level))).unwrap_or_default();
        let paired = tests_text(settings);
        let family = comparison
            .rows
            .iter()
            .filter(|r| r.cells[p].as_ref().is_some_and(|c| c.p_value.is_some()))
            .count();
        let tests = match family {
            0 => format!(
                "p: none, no row could be tested ({paired}: each t-test needs at least two seeds a side, and the Wilcoxon test differences that are not all zero)"
            ),
            1 => {
                format!("p: {paired} (one row tested: nothing to adjust); * p < {}", settings.alpha)
            }
            n => format!(
                "p: {paired}, adjusted across {n} rows ({}); * adjusted p < {}",
                settings.adjustment.name(),
                settings.alpha
            ),
        };
        out += &format!(
            "Δ: {} minus the baseline {baseline}{interval}; {tests}\n",
            comparison.columns[p].name
        );
        if settings.seeds_needed {
            out += &format!(
                "seeds needed: seeds per variant for a two-sided t-test to detect the row's Δ with {} power at α = {} (from the standard deviation of the paired differences, else the pooled one); – where Δ is 0, the seeds do not vary or more than {MAX_SEEDS} are needed\n",
                percent(POWER),
                settings.alpha
            );
        }
    }
    for (i, note) in notes.iter().enumerate() {
        out += &format!("{} {note}\n", mark(i));
    }
    if let Some(baseline) = &comparison.baseline_not_run {
        out += &format!("no Δ: the baseline {baseline} has no results yet\n");
    } else if comparison.baseline.is_none() && comparison.rows.len() > 1 {
        out += "no Δ: no baseline (the grid names none); --baseline factor=level compares every row with that one\n";
    }
    if comparison.settings.seeds_needed && comparison.baseline.is_none() {
        out += "seeds needed: none computed: they are the seeds to detect a row's Δ, and there is no baseline to take Δ from; --baseline factor=level names one\n";
    }
    out += &stale_lines(comparison);
    if !comparison.not_run.is_empty() {
        let several =
            comparison.not_run.iter().any(|n| n.pipeline != comparison.not_run[0].pipeline)
                || comparison.pipelines.len() > 1;
        let listed: Vec<String> = comparison
            .not_run
            .iter()
            .map(|n| variant_text(&n.pipeline, &n.variant, &n.seeds, several))
            .collect();
        out += &format!("not run yet (or failed): {}\n", listed.join("; "));
    }
    for source in &comparison.sources {
        out += &format!("{}\n", describe(source));
    }
    out
}

/// `k=b (seed 0, 1)`, prefixed with its pipeline when the table shows several; a pipeline
/// without a grid by its name.
fn variant_text(pipeline: &str, variant: &str, seeds: &[String], several: bool) -> String {
    let mut text = match (variant.is_empty(), several) {
        (true, _) => pipeline.to_string(),
        (false, true) => format!("{pipeline}: {variant}"),
        (false, false) => variant.to_string(),
    };
    if !seeds.is_empty() {
        text += &format!(" (seed {})", seeds.join(", "));
    }
    text
}

/// The stale results: those shown (marked) and those left out, each with when and under which
/// overrides it was recorded.
pub(crate) fn stale_lines(comparison: &Comparison) -> String {
    let several = comparison.pipelines.len() > 1;
    let describe = |shown: bool| -> Vec<String> {
        comparison
            .stale
            .iter()
            .filter(|s| s.shown == shown)
            .map(|s| {
                let text = variant_text(&s.pipeline, &s.variant, &s.seeds, several);
                let mut when = match s.written {
                    0 => "recorded before refs dated their results".to_string(),
                    at => format!("recorded {} UTC", format_time(at)),
                };
                if !s.overrides.is_empty() {
                    let sets: Vec<String> =
                        s.overrides.iter().map(|o| format!("--set {o}")).collect();
                    when += &format!(" with {}", sets.join(" "));
                }
                format!("{text}, {when}")
            })
            .collect()
    };
    let mut out = String::new();
    let shown = describe(true);
    if !shown.is_empty() {
        out += &format!(
            "{STALE_MARK} stale: numbers of an earlier configuration than the last run's, shown with --stale: {}\n",
            shown.join("; ")
        );
    }
    let hidden = describe(false);
    if !hidden.is_empty() {
        out += &format!(
            "left out as stale (made under an earlier configuration than the last run's; --stale shows them): {}\n",
            hidden.join("; ")
        );
    }
    out
}

/// `paper: /path/paper.yaml (version 3f2a9c1b, run 2026-12-01 14:00:12 UTC with --set a=b)`.
fn describe(source: &Source) -> String {
    let mut detail: Vec<String> = Vec::new();
    if !source.digest.is_empty() {
        detail.push(format!("version {}", source.version()));
    }
    let killed = if source.killed { " (killed; what it finished was kept)" } else { "" };
    let mut run = format!("run {} UTC{killed}", format_time(source.run));
    if !source.overrides.is_empty() {
        let sets: Vec<String> = source.overrides.iter().map(|o| format!("--set {o}")).collect();
        run += &format!(" with {}", sets.join(" "));
    }
    detail.push(run);
    format!("{}: {} ({})", source.pipeline, source.file, detail.join(", "))
}

/// What the bootstrap's interval of a mean is, in one sentence: also the report's.
pub(crate) fn bootstrap_meaning(settings: &Settings) -> String {
    format!(
        "percentile interval of the mean over seeds and test images: a bootstrap that redraws the test images (re-scoring the stored predictions at each result's thresholds) and draws the seeds' spread from t(n − 1) (B = {} replicates, seed {}), so it also says how much the number would move on another test set of this size",
        settings.bootstrap.replicates, settings.bootstrap.seed
    )
}

/// Which tests give Δ's p-values, as the footer names them.
fn tests_text(settings: &Settings) -> String {
    let by_seeds = match settings.paired_test {
        PairedTest::Wilcoxon => "Wilcoxon signed-rank test",
        PairedTest::T | PairedTest::DeLong => "paired t-test",
    };
    let seeds = format!("{by_seeds} where a row ran the baseline's seeds, else Welch's t-test");
    let delong = "DeLong's test on the test images (seeds pooled) in per-label AUROC columns";
    match (settings.interval, settings.paired_test) {
        (Interval::T, PairedTest::DeLong) => format!("{delong}, else the {seeds}"),
        (Interval::T, _) => seeds,
        (Interval::Bootstrap, test) => format!(
            "{}the bootstrap (Δ paired by image and by seed; B = {}, seed {}) where both cells were re-scored, else the {seeds}",
            if test == PairedTest::DeLong { format!("{delong}, else ") } else { String::new() },
            settings.bootstrap.replicates,
            settings.bootstrap.seed
        ),
    }
}

fn percent(level: f64) -> String {
    format!("{}%", (level * 1000.0).round() / 10.0)
}
