//! The hierarchical bootstrap's draws, and what is read off its replicates: percentile
//! intervals, a two-sided p-value and a summary of the replicates.
//!
//! A variant's metric varies with the seed it was trained with and with the test images it is
//! measured on; a t-interval over seeds sees only the first, since every seed is measured on
//! the same images. Each replicate therefore draws twice, with replacement: the units of each
//! variant (its seeds, or its distinct results where seeds share one) and the images of each
//! test split. One draw of a split's images serves every variant in the replicate, and one draw
//! of a list of seeds serves every variant that ran exactly those seeds, so a Δ between two
//! variants is paired by image and by seed.
//!
//! The caller combines the two draws additively (`compare::rescore`): a replicate is the mean
//! over the drawn units of their values on the split's images, plus how far the mean over all
//! the variant's units moves when re-scored on the drawn images ([`Draw::weights`] says how
//! often each image counts). Re-scoring each drawn unit on the drawn images instead (the nested
//! two-stage draw) counts a seed's own image-level noise twice, once in the spread of the seeds
//! and again in the redrawn images, which is the known excess of resampling both ways of a
//! crossed design (Owen, "The pigeonhole bootstrap", Ann. Appl. Stat. 1(2), 2007): in the
//! 200 simulated studies of the coverage test its 95 % intervals of Δ covered 98.5–100 % of
//! them, the additive combination's intervals 94–97.5 % (`docs/benchmarks.md`). The additive
//! replicate can leave the metric's range, so the caller keeps it inside.
//!
//! What no resampling of three seeds can show is how far a fourth would fall: where the seeds'
//! spread is the larger part of the uncertainty, these intervals are too narrow (83–93 % in the
//! study's scenario with a large seed effect), and the t-interval, with its t(n − 1) quantile,
//! is the one to read.
//!
//! Replicate b draws from ChaCha8 seeded with the user's seed on stream b: images of each set,
//! then units of each list, in the [`Design`]'s order. A replicate's draw depends on nothing else,
//! so replicates can be computed in any order, on any number of threads, with the same result.
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
    /// Per unit list: the units drawn (indices, as many as the list has).
    pub(crate) units: Vec<Vec<usize>>,
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
        let units =
            self.units.iter().map(|&n| (0..n).map(|_| rng.random_range(0..n)).collect()).collect();
        Draw { weights, units }
    }
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
