//! The coverage study: do the 95 % intervals contain the truth as often as they say?
//!
//! Each simulated study is an ablation of two variants × 3 seeds measured on one test split of
//! 250 images with two labels: `rare` (prevalence 27/250, so 27 positives expected) and
//! `common` (prevalence 0.55, the majority label). Per label, image i has truth y_i and a
//! difficulty z_i that every model sees; the model of variant v and seed s scores it
//! latent = d_{v,s} y_i + √ρ z_i + √(1 − ρ) ε, with d_{v,s} = d_v + σ u_{v,s} (u: the seed's
//! random effect, ε: the model's own noise), and predicts probability logistic(latent − c), so
//! that the threshold 0.5 decides latent > c. Negatives' latent is N(0, 1), positives'
//! N(d_{v,s}, 1), so a seed's AUROC is Φ(d_{v,s}/√2) and the truth, its mean over seeds, is
//! Φ(d_v/√(2 + σ²)); a seed's F1 at the threshold is 2π·TPR/(π + π·TPR + (1 − π)·FPR) with
//! TPR = Φ(d_{v,s} − c) and FPR = Φ(−c), and the truth is its mean over u, integrated
//! numerically. The truth of Δ is the difference of the variants' truths.
//!
//! Each study is compared as `compare` compares stored results: the t statistics from the seeds'
//! values, then the cells re-scored by the bootstrap (`Table::rescore`) from the predictions.
//! An interval covers when the truth lies inside it. With 200 studies the share of a correct
//! method's 95 % intervals that cover is 0.95 ± 0.015 (binomial SD), so the test accepts
//! 0.904–0.996 (3 SD) for each of the 8 quantities, in the main scenario and where seeds vary
//! more; a method that ignores the test images'
//! variance, as the t-interval does, covers far less often, and the test checks that the
//! simulation tells the two apart. The full study (1,000 studies, B = 2000, recorded in
//! `docs/benchmarks.md`) is the ignored test: `cargo test --release -p ablate-results --lib
//! coverage_of_1000_studies -- --ignored --nocapture`.
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::*;
use crate::compare::compare_with_baseline;
use crate::compare::predictions::ScoredLabel;
use crate::significance::Bootstrap;
use crate::stats::normal_cdf;

const IMAGES: usize = 250;
const SEEDS: usize = 3;

/// How much seeds and images matter.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    /// The SD σ of the seeds' random effect on the separation d.
    seed_sd: f64,
    /// ρ, the share of a score's noise that is the image's difficulty, which every model sees.
    shared: f64,
}

/// The study's main scenario: a seed moves AUROC by about ±0.016 (SD), half of a score's noise
/// is the image's.
const MAIN: Scenario = Scenario { seed_sd: 0.1, shared: 0.5 };

/// One label of the simulated test split.
struct Label {
    name: &'static str,
    prevalence: f64,
    /// Separation of positives from negatives, per variant (baseline first).
    separation: [f64; 2],
    /// The latent score above which the label is predicted (probability 0.5).
    cut: f64,
}

const LABELS: [Label; 2] = [
    Label { name: "rare", prevalence: 27.0 / 250.0, separation: [1.5, 1.8], cut: 1.2 },
    Label { name: "common", prevalence: 0.55, separation: [1.3, 1.5], cut: 0.6 },
];

/// The quantities whose intervals are checked: per label, F1 and AUROC, each a row's mean
/// (the baseline's) and Δ (the other variant's minus the baseline's).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quantity {
    label: usize,
    metric: Rescored,
    delta: bool,
}

fn quantities() -> Vec<Quantity> {
    let mut all = Vec::new();
    for label in 0..LABELS.len() {
        for metric in [Rescored::F1, Rescored::Auroc] {
            for delta in [false, true] {
                all.push(Quantity { label, metric, delta });
            }
        }
    }
    all
}

impl Quantity {
    fn name(&self) -> String {
        let metric = if self.metric == Rescored::F1 { "f1" } else { "auroc" };
        let of = if self.delta { "Δ" } else { "mean" };
        format!("{metric}[{}] {of}", LABELS[self.label].name)
    }

    /// The column of the simulated table it reads.
    fn column(&self) -> usize {
        self.label * 2 + usize::from(self.metric == Rescored::Auroc)
    }

    fn truth(&self, scenario: Scenario) -> f64 {
        let of = |v: usize| truth(&LABELS[self.label], self.metric, v, scenario.seed_sd);
        if self.delta { of(1) - of(0) } else { of(0) }
    }
}

/// The population value of `metric` for variant `v`: its mean over the seeds' random effect.
fn truth(label: &Label, metric: Rescored, v: usize, seed_sd: f64) -> f64 {
    let d = label.separation[v];
    if metric == Rescored::Auroc {
        return normal_cdf(d / (2.0 + seed_sd * seed_sd).sqrt());
    }
    let pi = label.prevalence;
    let f1 = |d: f64| {
        let (tpr, fpr) = (normal_cdf(d - label.cut), normal_cdf(-label.cut));
        2.0 * pi * tpr / (pi + pi * tpr + (1.0 - pi) * fpr)
    };
    // E[f1(d + σu)], u standard normal: the midpoint rule on ±8 SD
    let steps = 4000;
    let width = 16.0 / steps as f64;
    (0..steps)
        .map(|k| {
            let u = -8.0 + (k as f64 + 0.5) * width;
            f1(d + seed_sd * u) * (-0.5 * u * u).exp() / (2.0 * std::f64::consts::PI).sqrt()
        })
        .sum::<f64>()
        * width
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller
    let (a, b): (f64, f64) = (rng.random(), rng.random());
    (-2.0 * (1.0 - a).ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
}

/// One study's predictions: per result (variant-major, then seed), its scored labels.
fn simulate(study: u64, scenario: Scenario) -> Loaded {
    let mut rng = ChaCha8Rng::seed_from_u64(study);
    let truth: Vec<Vec<u8>> = LABELS
        .iter()
        .map(|l| (0..IMAGES).map(|_| u8::from(rng.random::<f64>() < l.prevalence)).collect())
        .collect();
    let difficulty: Vec<Vec<f64>> =
        LABELS.iter().map(|_| (0..IMAGES).map(|_| normal(&mut rng)).collect()).collect();
    let mut results = HashMap::new();
    for v in 0..2 {
        for s in 0..SEEDS {
            let effect = scenario.seed_sd * normal(&mut rng);
            let labels = LABELS
                .iter()
                .enumerate()
                .map(|(l, label)| {
                    let d = label.separation[v] + effect;
                    let scores: Vec<f32> = (0..IMAGES)
                        .map(|i| {
                            let latent = d * f64::from(truth[l][i])
                                + scenario.shared.sqrt() * difficulty[l][i]
                                + (1.0 - scenario.shared).sqrt() * normal(&mut rng);
                            (1.0 / (1.0 + (label.cut - latent).exp())) as f32
                        })
                        .collect();
                    ScoredLabel::new(label.name, scores, truth[l].clone(), 0.5)
                })
                .collect();
            let scored = Scored {
                instance: format!("evaluate[variant={v},seed={s}]"),
                images: 0,
                split: "test".into(),
                labels,
            };
            results.insert(v * SEEDS + s, Ok(scored));
        }
    }
    Loaded { image_sets: vec![IMAGES], results }
}

fn columns() -> Vec<Column> {
    let column = |label: &Label, metric: &str| Column {
        template: "evaluate".into(),
        split: Some("test".into()),
        metric: metric.into(),
        class: Some(label.name.into()),
        name: format!("test.{metric}[{}]", label.name),
    };
    LABELS.iter().flat_map(|l| [column(l, metric::F1), column(l, metric::AUROC)]).collect()
}

/// One study compared, t statistics first and then the bootstrap's: its rows.
fn compare_study(study: u64, scenario: Scenario, settings: &Settings) -> Vec<Row> {
    let loaded = simulate(study, scenario);
    let columns = columns();
    let samples: RowSamples = (0..2)
        .map(|v| {
            columns
                .iter()
                .map(|column| {
                    let metric = Rescored::of(column).expect("re-scored");
                    (0..SEEDS)
                        .map(|s| {
                            let result = v * SEEDS + s;
                            let scored = loaded.results[&result].as_ref().expect("simulated");
                            let label = scored.label(column.class.as_deref().expect("per label"));
                            let stored = rescore(scored, &[1; IMAGES], true);
                            let value = metric.value(&stored, label);
                            Sample { seeds: vec![s.to_string()], value, result }
                        })
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut rows: Vec<Row> = samples
        .iter()
        .enumerate()
        .map(|(v, cells)| Row {
            pipeline: "simulated".into(),
            levels: vec![("variant".into(), v.to_string())].into(),
            seeds: (0..SEEDS).map(|s| s.to_string()).collect(),
            n: SEEDS,
            cells: cells.iter().map(|s| Cell::pool(s, settings)).collect(),
            stale: false,
        })
        .collect();
    let baselines = [Some(0), Some(0)];
    compare_with_baseline(&mut rows, &samples, &baselines, settings);
    let wanted: Vec<(usize, usize, Rescored)> = (0..2)
        .flat_map(|r| columns.iter().enumerate().map(move |(c, col)| (r, c, col)))
        .map(|(r, c, column)| (r, c, Rescored::of(column).expect("re-scored")))
        .collect();
    let table = Table { columns: &columns, samples: &samples, baselines: &baselines };
    table.rescore(&mut rows, &wanted, &loaded, settings);
    rows
}

/// Per quantity, whether the bootstrap's interval and the t-interval cover its truth.
fn covered(rows: &[Row], quantity: &Quantity, scenario: Scenario) -> (bool, bool) {
    let truth = quantity.truth(scenario);
    let cell = |r: usize| rows[r].cells[quantity.column()].as_ref().expect("a cell");
    let inside = |low: Option<f64>, high: Option<f64>| {
        low.expect("an interval") <= truth && truth <= high.expect("an interval")
    };
    if quantity.delta {
        let cell = cell(1);
        let t = cell.t.as_ref().expect("t statistics kept");
        (inside(cell.delta_ci_low, cell.delta_ci_high), inside(t.delta_ci_low, t.delta_ci_high))
    } else {
        let cell = cell(0);
        let t = cell.t.as_ref().expect("t statistics kept");
        (inside(cell.ci_low, cell.ci_high), inside(t.ci_low, t.ci_high))
    }
}

/// The share of `studies` whose intervals cover each quantity's truth: (bootstrap, t).
fn coverage(scenario: Scenario, studies: u64, replicates: u32) -> Vec<(Quantity, f64, f64)> {
    let settings = Settings {
        interval: Interval::Bootstrap,
        bootstrap: Bootstrap { replicates, seed: 0 },
        ..Settings::default()
    };
    let quantities = quantities();
    let counts: Vec<(usize, usize)> = (0..studies)
        .into_par_iter()
        .map(|study| {
            let rows = compare_study(study, scenario, &settings);
            quantities.iter().map(|q| covered(&rows, q, scenario)).collect::<Vec<_>>()
        })
        .map(|covered| covered.iter().map(|&(b, t)| (usize::from(b), usize::from(t))).collect())
        .reduce(
            || vec![(0, 0); quantities.len()],
            |a: Vec<(usize, usize)>, b| {
                a.iter().zip(&b).map(|(x, y)| (x.0 + y.0, x.1 + y.1)).collect()
            },
        );
    let share = |n: usize| n as f64 / studies as f64;
    quantities.into_iter().zip(counts).map(|(q, (b, t))| (q, share(b), share(t))).collect()
}

fn table(scenario: Scenario, coverage: &[(Quantity, f64, f64)]) -> String {
    let mut out =
        "| quantity | truth | bootstrap | t-interval |\n|---|---:|---:|---:|\n".to_string();
    for (q, bootstrap, t) in coverage {
        out += &format!(
            "| {} | {:.4} | {:.1} % | {:.1} % |\n",
            q.name(),
            q.truth(scenario),
            bootstrap * 100.0,
            t * 100.0
        );
    }
    out
}

/// Seeds matter more: a seed moves AUROC by about ±0.05.
const SEEDS_VARY: Scenario = Scenario { seed_sd: 0.3, ..MAIN };

#[test]
fn bootstrap_intervals_cover_the_truth_in_simulated_studies() {
    for scenario in [MAIN, SEEDS_VARY] {
        let coverage = coverage(scenario, 200, 500);
        let table = table(scenario, &coverage);
        println!("{scenario:?}\n{table}");
        for (q, bootstrap, _) in &coverage {
            assert!((0.904..=0.996).contains(bootstrap), "{}: {bootstrap}\n{table}", q.name());
        }
        // the t-interval sees the seeds alone: the rare label's F1 moves with the test images
        let rare_f1 = coverage.iter().find(|(q, ..)| q.name() == "f1[rare] mean").expect("checked");
        assert!(scenario.seed_sd > MAIN.seed_sd || rare_f1.2 < 0.9, "{table}");
    }
}

#[test]
#[ignore = "the full coverage study of docs/benchmarks.md: a minute or two"]
fn coverage_of_1000_studies() {
    let scenarios = [
        ("main", MAIN),
        ("seeds matter more", SEEDS_VARY),
        ("seeds dominate", Scenario { seed_sd: 0.6, ..MAIN }),
        ("models agree on the images", Scenario { shared: 0.8, ..MAIN }),
    ];
    for (name, scenario) in scenarios {
        println!("{name}: {scenario:?}\n{}", table(scenario, &coverage(scenario, 1000, 2000)));
    }
}
