//! The hierarchical bootstrap's draws, and what is read off its replicates: percentile
//! intervals, a two-sided p-value and a summary of the replicates.
//!
//! A variant's metric varies with the seed it was trained with and with the test images it is
//! measured on; a t-interval over seeds sees only the first, since every seed is measured on
//! the same images. Each replicate therefore draws twice: the images of each test split, with
//! replacement, and the seeds' part of each variant (over its seeds, or its distinct results
//! where seeds share one). One draw of a split's images serves every variant in the replicate, and one draw
//! of a list of seeds serves every variant that ran exactly those seeds, so a Δ between two
//! variants is paired by image and by seed.
//!
//! A replicate is the sum of two independent parts (`compare::rescore`):
//! - **images**: the mean over all the variant's units of their values re-scored on the drawn
//!   images ([`Draw::weights`] says how often each image counts), nonparametric;
//! - **seeds**: x̄ + k Σ_u w_u (x_u − x̄) over the units' values x_u on the split, with Gaussian
//!   multipliers w scaled so that the sum is s/√n · T, T ~ t(n − 1) ([`Draw::multipliers`]): the
//!   t-interval's own model of the seeds, drawn. One draw of w serves every variant with the
//!   same list of seeds, so Δ's seed part is the same sum over the per-seed differences.
//!
//! k removes what both parts would count: a unit's value on the split holds its seed's effect
//! and its seed × image interaction (how this model happens to fare on these images), so the
//! seeds' variance s² estimates σ²_seed + σ²_seed×image, while the images' draw already moves the
//! mean by σ²_image + σ²_seed×image / n. With V₁ the images' variance of one unit's value
//! (averaged over units) and V̄ that of their mean, V₁ − V̄ = σ²_seed×image (n − 1) / n, and
//! k² = max(0, s² − σ̂²_seed×image) / s² ([`seed_scale`]): the method of moments of a crossed
//! design. Without it (Owen's excess of resampling both ways of a crossed design, "The pigeonhole
//! bootstrap", Ann. Appl. Stat. 1(2), 2007) the 95 % intervals covered 96.5–99.6 % of the
//! simulated studies; resampling three seeds with replacement instead of drawing t(2) covered
//! only 83–93 % where seeds vary much, since three seeds redrawn cannot show how far a fourth
//! would fall. With both, 94.0–97.0 % in three scenarios of `docs/benchmarks.md`, and 91.8–96.2 %
//! where seeds dominate (the t-interval then covers 92.4–96.2 %). A replicate can leave the
//! metric's range, so the caller keeps it inside.
//!
//! Replicate b draws from ChaCha8 seeded with the user's seed on stream b: images of each set,
//! then the multipliers of each list, in the [`Design`]'s order. A replicate's draw depends on
//! nothing else, so replicates can be computed in any order, on any number of threads, with the
//! same result.
//!
//! Intervals are percentile intervals (NumPy's default linear interpolation) of the replicates
//! where the metric is defined (a replicate can draw no positive image of a label: its AUROC is
//! undefined and the replicate is left out, and counted); replicates inside the metric's range
//! give intervals inside it. BCa intervals would correct percentile intervals for bias and
//! skew, but their acceleration is estimated by a jackknife over independent units, which
//! crossed seeds and images do not have; the coverage study (`docs/benchmarks.md`) checks the
//! percentile interval instead.
//!
//! The p-value of Δ is twice the smaller share of replicates on either side of zero, with one
//! added to each count (2 (1 + min(#Δ* ≤ 0, #Δ* ≥ 0)) / (B + 1), at most 1): the smallest
//! level at which the percentile interval leaves out 0, never 0 with finitely many replicates.
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// What one replicate resamples.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Design {
    /// Per image set (a split of a dataset), its number of images.
    pub(crate) images: Vec<usize>,
    /// Per unit list (the seeds, or distinct results, some variants share), its length.
    pub(crate) units: Vec<usize>,
}

/// One replicate's draw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draw {
    /// Per image set: how many times each of its images was drawn (as many draws as images).
    pub(crate) weights: Vec<Vec<u32>>,
    /// Per unit list: each unit's multiplier w_u (see the module's doc).
    pub(crate) multipliers: Vec<Vec<f64>>,
}

impl Design {
    /// Replicate `replicate`'s draw under `seed`.
    pub(crate) fn draw(&self, seed: u64, replicate: u64) -> Draw {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(replicate);
        let weights = self
            .images
            .iter()
            .map(|&n| {
                let mut weights = vec![0u32; n];
                for _ in 0..n {
                    weights[rng.random_range(0..n)] += 1;
                }
                weights
            })
            .collect();
        let multipliers = self.units.iter().map(|&n| seed_multipliers(&mut rng, n)).collect();
        Draw { weights, multipliers }
    }
}

/// Multipliers w of n units such that Σ w_u e_u, for any deviations e from their mean with
/// sample SD s, is s/√n · T, T ~ t(n − 1): n standard normals (their sum against e is
/// N(0, (n − 1) s²)) times √((n − 1) / χ²(n − 1)) / √(n (n − 1)). All zero for one unit.
fn seed_multipliers(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    if n < 2 {
        return vec![0.0; n];
    }
    let normals: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
    let chi_squared: f64 = (0..n - 1).map(|_| rng.sample::<f64, _>(StandardNormal).powi(2)).sum();
    let scale = ((n - 1) as f64 / chi_squared).sqrt() / ((n * (n - 1)) as f64).sqrt();
    normals.into_iter().map(|z| z * scale).collect()
}

/// k, the share of the seeds' deviations a replicate keeps (see the module's doc), from the
/// units' `values` on the split and, per replicate, their values on its drawn images
/// (replicates where one is undefined are left out). 0 for one unit or seeds that agree;
/// 1 when fewer than two replicates are defined.
pub(crate) fn seed_scale<'a>(values: &[f64], on_images: impl Iterator<Item = &'a [f64]>) -> f64 {
    let n = values.len();
    let seeds = variance(values.iter().copied());
    if n < 2 || seeds <= 0.0 {
        return 0.0;
    }
    let defined: Vec<&[f64]> = on_images.filter(|v| v.iter().all(|x| !x.is_nan())).collect();
    if defined.len() < 2 {
        return 1.0;
    }
    let one_unit = (0..n).map(|u| variance(defined.iter().map(|v| v[u]))).sum::<f64>() / n as f64;
    let of_mean = variance(defined.iter().map(|v| v.iter().sum::<f64>() / n as f64));
    let interaction = (one_unit - of_mean).max(0.0) * n as f64 / (n - 1) as f64;
    ((seeds - interaction).max(0.0) / seeds).sqrt()
}

/// The sample variance (n − 1) of at least two values.
fn variance(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (values.len() - 1) as f64
}

/// The percentile interval at `level` of the defined (not NaN) `replicates`; `None` without any.
///
/// # Panics
/// If `level` is not strictly between 0 and 1.
pub(crate) fn percentile_interval(replicates: &[f64], level: f64) -> Option<(f64, f64)> {
    assert!(level > 0.0 && level < 1.0, "confidence level must be in (0, 1), got {level}");
    let sorted = defined_sorted(replicates);
    let tail = (1.0 - level) / 2.0;
    Some((quantile(&sorted, tail)?, quantile(&sorted, 1.0 - tail)?))
}

/// The two-sided bootstrap p-value of Δ = 0 from Δ's defined replicates; `None` without any.
pub(crate) fn p_value(deltas: &[f64]) -> Option<f64> {
    let defined: Vec<f64> = deltas.iter().copied().filter(|d| !d.is_nan()).collect();
    if defined.is_empty() {
        return None;
    }
    let below = defined.iter().filter(|&&d| d <= 0.0).count();
    let above = defined.iter().filter(|&&d| d >= 0.0).count();
    let p = 2.0 * (1 + below.min(above)) as f64 / (defined.len() + 1) as f64;
    Some(p.min(1.0))
}

/// The replicates of one statistic, summarised for plots of one's own.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    /// Replicates where the statistic is defined.
    pub replicates: usize,
    /// Replicates left out because the metric was undefined on their draw.
    pub undefined: usize,
    pub mean: f64,
    /// Standard deviation of the replicates (n − 1): the bootstrap standard error.
    pub sd: f64,
    /// The replicates' quantiles at [`QUANTILES`].
    pub quantiles: Vec<f64>,
}

/// The levels [`Spread::quantiles`] are at.
pub const QUANTILES: [f64; 7] = [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975];

impl Spread {
    /// The summary of `replicates` (NaN where undefined); `None` when none is defined.
    pub(crate) fn of(replicates: &[f64]) -> Option<Spread> {
        let sorted = defined_sorted(replicates);
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let squares: f64 = sorted.iter().map(|v| (v - mean) * (v - mean)).sum();
        Some(Spread {
            replicates: n,
            undefined: replicates.len() - n,
            mean,
            sd: if n > 1 { (squares / (n - 1) as f64).sqrt() } else { 0.0 },
            quantiles: QUANTILES.iter().map(|&q| quantile(&sorted, q)).collect::<Option<_>>()?,
        })
    }
}

fn defined_sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// `np.quantile(sorted, q)` (linear): the value at index (n − 1) q, interpolated as NumPy's
/// `_lerp` does.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let index = n as f64 * q + (1.0 - q) - 1.0;
    let below = (index.floor().max(0.0) as usize).min(n - 1);
    let above = (below + 1).min(n - 1);
    let (a, b, t) = (sorted[below], sorted[above], index - below as f64);
    let diff = b - a;
    Some(if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t })
}
