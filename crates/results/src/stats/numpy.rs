//! Sums, means and variances in NumPy's order (pairwise summation), so that degenerate inputs
//! (zero variance, ties, zero differences) take the same branch as SciPy.

/// `np.sum` of a contiguous float64 array: NumPy's pairwise summation (8 accumulators in
/// blocks of at most 128, halves above), reproduced so that sums agree bit for bit.
pub(super) fn np_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, &x| s + x)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(block) {
                *acc += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let half = n / 2;
        let half = half - half % 8;
        np_sum(&a[..half]) + np_sum(&a[half..])
    }
}

/// `np.mean`.
pub(super) fn np_mean(a: &[f64]) -> f64 {
    np_sum(a) / a.len() as f64
}

/// SciPy's sample variance (`_var(x, ddof=1)`): mean of squared deviations times n / (n − 1).
pub(super) fn scipy_var(a: &[f64]) -> f64 {
    let n = a.len() as f64;
    let mean = np_mean(a);
    let squares: Vec<f64> = a.iter().map(|v| (v - mean) * (v - mean)).collect();
    np_mean(&squares) * (n / (n - 1.0))
}

/// Indices that sort `x` ascending (NaN last), stable.
pub(super) fn argsort(x: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    order
}
