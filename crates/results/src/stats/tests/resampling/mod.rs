//! DeLong's test, percentile intervals and the normal quantile against the values of
//! `scripts/dev/bootstrap_fixtures.py` (NumPy, SciPy, scikit-learn, MLstatkit; see the generated
//! block), and the bootstrap's draws and p-value by their definitions.
use super::super::bootstrap::{Design, Spread, p_value, percentile_interval, seed_scale};
use super::super::delong::{NoCovariance, auc_covariance, delong_test};
use super::super::special::normal_quantile;

struct PercentileCase {
    values: &'static [f64],
    level: f64,
    low: f64,
    high: f64,
}

struct DeLongCase {
    name: &'static str,
    a: &'static [&'static [f64]],
    b: &'static [&'static [f64]],
    truth: &'static [u8],
    level: f64,
    aucs: &'static [f64],
    covariance: &'static [f64],
    delta: f64,
    se: f64,
    z: f64,
    p: f64,
    low: f64,
    high: f64,
}

#[rustfmt::skip]
mod fixtures;
use fixtures::*;

#[track_caller]
fn close(got: f64, want: f64, tolerance: f64, what: &str) {
    let ok = if want.is_nan() { got.is_nan() } else { (got - want).abs() <= tolerance };
    assert!(ok, "{what}: got {got:e}, want {want:e}");
}

#[test]
fn normal_quantile_matches_scipy_ndtri() {
    for &(p, want) in NORMAL_QUANTILES {
        close(normal_quantile(p), want, 1e-14 * want.abs().max(1.0), &format!("ndtri({p})"));
    }
    assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
    assert_eq!(normal_quantile(1.0), f64::INFINITY);
    assert!(normal_quantile(1.5).is_nan());
}

#[test]
fn percentile_interval_matches_numpy() {
    for case in PERCENTILE_CASES {
        let (low, high) = percentile_interval(case.values, case.level).unwrap();
        let what = format!("{} values at {}", case.values.len(), case.level);
        close(low, case.low, 1e-12, &format!("{what}: low"));
        close(high, case.high, 1e-12, &format!("{what}: high"));
    }
    // undefined replicates are left out, and without any there is no interval
    let with_nan = [0.25, f64::NAN, 0.5, 0.75];
    assert_eq!(percentile_interval(&with_nan, 0.5), percentile_interval(&[0.5, 0.25, 0.75], 0.5));
    assert_eq!(percentile_interval(&[f64::NAN], 0.95), None);
}

#[test]
fn delong_matches_the_reference_implementations() {
    for case in DELONG_CASES {
        let truth: Vec<bool> = case.truth.iter().map(|&y| y == 1).collect();
        let all: Vec<&[f64]> = case.a.iter().chain(case.b).copied().collect();
        let covariance = auc_covariance(&all, &truth).unwrap();
        for (got, want) in covariance.aucs.iter().zip(case.aucs) {
            close(*got, *want, 1e-12, &format!("{}: AUC", case.name));
        }
        for (got, want) in covariance.covariance.iter().zip(case.covariance) {
            close(*got, *want, 1e-14, &format!("{}: covariance", case.name));
        }
        let test = delong_test(case.a, case.b, &truth, case.level).unwrap();
        let name = case.name;
        close(test.delta, case.delta, 1e-12, &format!("{name}: delta"));
        close(test.se, case.se, 1e-12, &format!("{name}: se"));
        close(test.z, case.z, 1e-9 * case.z.abs().max(1.0), &format!("{name}: z"));
        close(test.low, case.low, 1e-12, &format!("{name}: low"));
        close(test.high, case.high, 1e-12, &format!("{name}: high"));
        match test.p_value {
            Some(p) => close(p, case.p, 1e-12, &format!("{name}: p")),
            None => assert!(case.p.is_nan(), "{name}: no p, want {}", case.p),
        }
    }
}

#[test]
fn delong_needs_two_images_of_each_class() {
    let scores: &[f64] = &[0.9, 0.2, 0.4];
    let refused = delong_test(&[scores], &[scores], &[true, false, false], 0.95).unwrap_err();
    assert_eq!(refused, NoCovariance::TooFewOfAClass { positives: 1, negatives: 2 });
    assert_eq!(
        refused.to_string(),
        "1 positive and 2 negative images: DeLong's test needs at least 2 of each"
    );
}

#[test]
fn a_replicate_s_draw_depends_on_the_seed_and_its_index_alone() {
    let design = Design { images: vec![250, 40], units: vec![3, 2] };
    let draw = design.draw(7, 12);
    assert_eq!(draw, design.draw(7, 12));
    assert_ne!(draw, design.draw(7, 13));
    assert_ne!(draw, design.draw(8, 12));
    assert_eq!(draw.weights.iter().map(|w| w.iter().sum::<u32>()).collect::<Vec<_>>(), [250, 40]);
    assert_eq!(draw.multipliers.iter().map(Vec::len).collect::<Vec<_>>(), [3, 2]);
    // each image is drawn once on average over replicates
    let mean: f64 =
        (0..400).map(|b| f64::from(design.draw(7, b).weights[1][5])).sum::<f64>() / 400.0;
    assert!((mean - 1.0).abs() < 0.15, "{mean}");
}

#[test]
fn the_seeds_part_of_a_replicate_is_t_distributed_around_their_mean() {
    // three seeds: Σ w (x − x̄) / (s/√3) should follow t(2), whose 0.975 quantile is 4.303
    // and 0.75 quantile 0.8165
    let values = [0.61, 0.70, 0.52];
    let mean = values.iter().sum::<f64>() / 3.0;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let design = Design { images: vec![], units: vec![3] };
    let mut t: Vec<f64> = (0..40_000)
        .map(|b| {
            let w = &design.draw(3, b).multipliers[0];
            w.iter().zip(&values).map(|(w, x)| w * (x - mean)).sum::<f64>() / (sd / 3f64.sqrt())
        })
        .collect();
    t.sort_by(f64::total_cmp);
    let at = |q: f64| t[(q * t.len() as f64) as usize];
    close(at(0.975), 4.303, 0.35, "0.975 quantile");
    close(at(0.025), -4.303, 0.35, "0.025 quantile");
    close(at(0.75), 0.8165, 0.03, "0.75 quantile");
    // one seed has no spread to draw
    assert_eq!(Design { images: vec![], units: vec![1] }.draw(3, 0).multipliers, [vec![0.0]]);
}

#[test]
fn the_seeds_keep_the_part_of_their_spread_the_images_do_not_explain() {
    // seeds that differ by the images alone: each unit moves with the images, the mean less
    let values = [0.5, 0.6, 0.7];
    let moved: Vec<Vec<f64>> = (0..200)
        .map(|b| {
            let shift = [0.1, -0.1][b % 2];
            vec![0.5 + shift, 0.6 - shift, 0.7]
        })
        .collect();
    // V₁ = mean of (0.01·200/199, 0.01·200/199, 0) = 0.0067, V̄ = 0: σ²_seed×image = 0.01,
    // s² = 0.01: nothing is left for the seeds
    let scale = seed_scale(&values, moved.iter().map(Vec::as_slice));
    close(scale, 0.0, 1e-12, "images explain all");
    // images that move every unit alike explain none of the seeds' spread
    let alike: Vec<Vec<f64>> =
        (0..200).map(|b| values.iter().map(|v| v + [0.1, -0.1][b % 2]).collect()).collect();
    close(seed_scale(&values, alike.iter().map(Vec::as_slice)), 1.0, 1e-12, "images alike");
    assert_eq!(seed_scale(&[0.5], alike.iter().map(Vec::as_slice)), 0.0);
    assert_eq!(seed_scale(&[0.5, 0.5], alike.iter().map(Vec::as_slice)), 0.0);
}

#[test]
fn the_p_value_is_twice_the_smaller_tail_counted_with_one_more() {
    // 2 of 9 replicates at or below 0: 2 (1 + 2) / 10
    let deltas = [-0.1, 0.0, 0.2, 0.3, 0.1, 0.4, 0.2, 0.3, 0.5];
    close(p_value(&deltas).unwrap(), 0.6, 1e-15, "p");
    assert_eq!(p_value(&[0.1; 99]), Some(0.02));
    assert_eq!(p_value(&[0.0; 5]), Some(1.0));
    assert_eq!(p_value(&[f64::NAN]), None);
}

#[test]
fn the_spread_summarises_the_defined_replicates() {
    let spread = Spread::of(&[0.1, 0.2, f64::NAN, 0.3]).unwrap();
    assert_eq!((spread.replicates, spread.undefined), (3, 1));
    close(spread.mean, 0.2, 1e-15, "mean");
    close(spread.sd, 0.1, 1e-15, "sd");
    close(spread.quantiles[3], 0.2, 1e-15, "median");
    assert_eq!(Spread::of(&[f64::NAN]), None);
}
