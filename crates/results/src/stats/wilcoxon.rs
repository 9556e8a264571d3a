//! The Wilcoxon signed-rank test of paired differences, as `scipy.stats.wilcoxon` computes it:
//! exact p-values from the distribution of rank sums (subset-sum counts of doubled average
//! ranks) where there are no ties or zeros, the normal approximation with tie correction
//! otherwise, and a refusal where the pairs are too few for any p-value to reach alpha.
use super::*;

/// Wilcoxon signed-rank test of the per-seed differences `a − b`: the p-value and statistic of
/// `scipy.stats.wilcoxon(a, b)` with its defaults (`zero_method='wilcox'`, `correction=False`,
/// two-sided, `method='auto'`). `delta`, `low` and `high` are NOT a Hodges–Lehmann estimate:
/// they are the mean difference and the paired-t interval of [`paired_t`].
///
/// Zero differences are dropped and ties get average ranks. `method='auto'` of SciPy 1.17
/// is reproduced: with more than 50 pairs, the normal approximation; otherwise, without ties
/// or zeros, the exact null distribution of R+; with ties or zeros and at most 13 pairs, the
/// exact sign-flip permutation distribution (what SciPy's `PermutationMethod` enumerates);
/// else the normal approximation with the tie correction and no continuity correction. Both
/// exact distributions are computed here by dynamic programming over rank sums.
///
/// # Errors
/// [`TooFew`] when the smallest two-sided p the signed-rank test can produce with this many
/// non-zero differences, 2 / 2^n, exceeds `alpha`: below 6 pairs at `alpha = 0.05`.
///
/// # Panics
/// If `a` and `b` differ in length, or `level` or `alpha` is not strictly between 0 and 1.
pub(crate) fn wilcoxon(a: &[f64], b: &[f64], level: f64, alpha: f64) -> Result<Difference, TooFew> {
    let d = differences(a, b);
    check_level(level);
    assert!(alpha > 0.0 && alpha < 1.0, "alpha must be in (0, 1), got {alpha}");
    let n = d.len();
    if let Some(why) = nan_input(&d) {
        // SciPy propagates NaN (nan_policy='propagate').
        let one = one_sample_t(&d, level);
        return Ok(Difference {
            delta: one.mean,
            low: one.low,
            high: one.high,
            statistic: f64::NAN,
            df: None,
            p_value: None,
            test: TestKind::Wilcoxon,
            why_no_p: Some(why),
        });
    }
    let nonzero: Vec<f64> = d.iter().copied().filter(|&v| v != 0.0).collect();
    let m = nonzero.len();
    let needed = wilcoxon_min_pairs(alpha);
    if m < needed {
        let zeros = n - m;
        let what = if zeros == 0 {
            format!("n = {m} {}", pairs(m))
        } else {
            format!(
                "n = {m} {} with a non-zero difference ({zeros} zero difference{} dropped)",
                pairs(m),
                if zeros == 1 { " is" } else { "s are" }
            )
        };
        return Err(TooFew {
            test: TestKind::Wilcoxon,
            n: m,
            needed,
            reason: format!(
                "{what}: the signed-rank test cannot reach p ≤ {alpha} below {needed} pairs"
            ),
        });
    }

    let magnitudes: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (ranks2, has_ties) = doubled_average_ranks(&magnitudes);
    let r_plus2: u64 = nonzero.iter().zip(&ranks2).filter(|(v, _)| **v > 0.0).map(|(_, r)| r).sum();
    let r_minus2: u64 =
        nonzero.iter().zip(&ranks2).filter(|(v, _)| **v < 0.0).map(|(_, r)| r).sum();

    // SciPy's method='auto': exact without ties or zeros, else an exact permutation test up to
    // 13 pairs; the normal approximation above that, and always above 50 pairs.
    let exact = n <= 50 && ((!has_ties && m == n) || n <= 13);
    let p = if exact {
        // Each of the 2^m sign patterns of the non-zero differences is equally likely.
        let counts = subset_sum_counts(&ranks2);
        let at_most: u64 = counts[..=r_plus2 as usize].iter().sum();
        let at_least: u64 = counts[r_plus2 as usize..].iter().sum();
        let total = (m as f64).exp2();
        (2.0 * (at_most as f64 / total).min(at_least as f64 / total)).min(1.0)
    } else {
        let count = m as f64;
        let mn = count * (count + 1.0) * 0.25;
        let tie_correct = tie_sizes(&magnitudes).map(|t| t * t * t - t).sum::<f64>();
        let se = count * (count + 1.0) * (2.0 * count + 1.0);
        let se = ((se - tie_correct / 2.0) / 24.0).sqrt();
        let z = (r_plus2 as f64 / 2.0 - mn) / se;
        2.0 * normal_cdf(-z.abs())
    };

    let one = one_sample_t(&d, level);
    Ok(Difference {
        delta: one.mean,
        low: one.low,
        high: one.high,
        statistic: r_plus2.min(r_minus2) as f64 / 2.0,
        df: None,
        p_value: finite_p(p),
        test: TestKind::Wilcoxon,
        why_no_p: p.is_nan().then(|| "the signed-rank p-value is undefined".to_string()),
    })
}

/// The fewest non-zero differences whose most extreme two-sided p, 2 / 2^n, is ≤ `alpha`.
pub(super) fn wilcoxon_min_pairs(alpha: f64) -> usize {
    let mut n = 1;
    while (1.0 - n as f64).exp2() > alpha {
        n += 1;
    }
    n
}

/// Twice the average ranks of `x` (integers), and whether any two values tie.
pub(super) fn doubled_average_ranks(x: &[f64]) -> (Vec<u64>, bool) {
    let order = argsort(x);
    let mut ranks = vec![0; x.len()];
    let mut has_ties = false;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && x[order[end]] == x[order[start]] {
            end += 1;
        }
        has_ties |= end - start > 1;
        // Average of the 1-based ranks start + 1 ..= end, doubled.
        let doubled = (start + 1 + end) as u64;
        for &i in &order[start..end] {
            ranks[i] = doubled;
        }
        start = end;
    }
    (ranks, has_ties)
}

/// Sizes of the groups of equal values in `x`, as floats.
pub(super) fn tie_sizes(x: &[f64]) -> impl Iterator<Item = f64> {
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut sizes = Vec::new();
    let mut start = 0;
    while start < sorted.len() {
        let end = start + sorted[start..].iter().take_while(|&&v| v == sorted[start]).count();
        sizes.push((end - start) as f64);
        start = end;
    }
    sizes.into_iter()
}

/// `counts[s]`: how many of the 2^k subsets of `weights` add up to `s`.
pub(super) fn subset_sum_counts(weights: &[u64]) -> Vec<u64> {
    let total: u64 = weights.iter().sum();
    let mut counts = vec![0u64; total as usize + 1];
    counts[0] = 1;
    let mut reach = 0;
    for &w in weights {
        let w = w as usize;
        for s in (0..=reach).rev() {
            counts[s + w] += counts[s];
        }
        reach += w;
    }
    counts
}
