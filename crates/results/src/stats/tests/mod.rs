//! Every expected value below comes from SciPy 1.17.1 / statsmodels 0.15.0 through
//! `scripts/dev/stats_fixtures.py` (see the generated block). Comparisons are relative: a
//! value passes when `|got − want| ≤ 1e-9·|want|`; exact expected values (0, ±∞, NaN,
//! integers such as seed counts and Wilcoxon statistics) must match exactly. The only absolute comparisons
//! are the noncentral t CDF and power (`|got − want| ≤ 1e-12`), which SciPy and statsmodels
//! themselves form as 1 − F and so carry only absolute precision.
use std::f64::consts::PI;

use super::power::t_test_power;
use super::special::*;
use super::student_t::nct_cdf;
use super::*;

const REL: f64 = 1e-9;
const ABS: f64 = 1e-12;

#[track_caller]
fn assert_rel(got: f64, want: f64, what: &str) {
    let ok = if want.is_nan() {
        got.is_nan()
    } else if want == 0.0 || want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= REL * want.abs()
    };
    assert!(ok, "{what}: got {got:e}, want {want:e} (relative error {:e})", (got - want) / want);
}

#[track_caller]
fn assert_abs(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= ABS, "{what}: got {got:e}, want {want:e}");
}

struct MeanCase {
    values: &'static [f64],
    level: f64,
    mean: f64,
    std: f64,
    low: f64,
    high: f64,
}

struct TestCase {
    name: &'static str,
    a: &'static [f64],
    b: &'static [f64],
    level: f64,
    delta: f64,
    low: f64,
    high: f64,
    statistic: f64,
    df: f64,
    p: f64,
}

struct WilcoxonCase {
    name: &'static str,
    a: &'static [f64],
    b: &'static [f64],
    level: f64,
    alpha: f64,
    delta: f64,
    low: f64,
    high: f64,
    statistic: f64,
    p: f64,
}

struct Refusal {
    name: &'static str,
    a: &'static [f64],
    b: &'static [f64],
    alpha: f64,
    n: usize,
    needed: usize,
    smallest_p: f64,
}

struct AdjustCase {
    p: &'static [f64],
    holm: &'static [f64],
    bh: &'static [f64],
}

/// (delta, pooled std, alpha, power, paired, expected seeds).
type SeedsRow = (f64, f64, f64, f64, bool, Option<u64>);

#[rustfmt::skip]
mod fixtures;
use fixtures::*;

#[test]
fn mean_interval_matches_scipy_t_interval() {
    for case in MEAN_CASES {
        let got = mean_interval(case.values, case.level).unwrap();
        let what = format!("n = {}", case.values.len());
        assert_eq!(got.n, case.values.len());
        assert_rel(got.mean, case.mean, &format!("{what}: mean"));
        assert_rel(got.std, case.std, &format!("{what}: std"));
        assert_rel(got.low, case.low, &format!("{what}: low"));
        assert_rel(got.high, case.high, &format!("{what}: high"));
    }
    assert_eq!(mean_interval(&[0.5], 0.95), None);
    assert_eq!(mean_interval(&[], 0.95), None);
}

fn check_t_test(case: &TestCase, got: &Difference, kind: TestKind) {
    let name = case.name;
    assert_eq!(got.test, kind);
    assert_rel(got.delta, case.delta, &format!("{name}: delta"));
    assert_rel(got.low, case.low, &format!("{name}: low"));
    assert_rel(got.high, case.high, &format!("{name}: high"));
    assert_rel(got.statistic, case.statistic, &format!("{name}: t"));
    assert_rel(got.df.unwrap(), case.df, &format!("{name}: df"));
    if case.p.is_nan() {
        assert_eq!(got.p_value, None, "{name}");
        assert!(got.why_no_p.as_deref().unwrap().starts_with("no variance"), "{name}");
    } else {
        assert_rel(got.p_value.unwrap(), case.p, &format!("{name}: p"));
        assert_eq!(got.why_no_p, None, "{name}");
    }
}

#[test]
fn paired_t_matches_scipy_ttest_rel() {
    for case in PAIRED_CASES {
        check_t_test(case, &paired_t(case.a, case.b, case.level).unwrap(), TestKind::PairedT);
    }
}

#[test]
fn welch_t_matches_scipy_ttest_ind_unequal_var() {
    for case in WELCH_CASES {
        check_t_test(case, &welch_t(case.a, case.b, case.level).unwrap(), TestKind::WelchT);
    }
}

#[test]
fn t_tests_refuse_fewer_than_two() {
    let e = paired_t(&[0.5], &[0.4], 0.95).unwrap_err();
    assert_eq!((e.test, e.n, e.needed), (TestKind::PairedT, 1, 2));
    assert_eq!(e.to_string(), "n = 1 pair: a paired t-test needs at least 2 pairs");
    let e = welch_t(&[0.5, 0.6, 0.7], &[0.4], 0.95).unwrap_err();
    assert_eq!((e.test, e.n, e.needed), (TestKind::WelchT, 1, 2));
    assert_eq!(
        e.to_string(),
        "n = 3 and 1 seeds: Welch's t-test needs at least 2 seeds of each variant"
    );
    assert!(welch_t(&[], &[0.4, 0.5], 0.95).is_err());
}

#[test]
fn wilcoxon_matches_scipy() {
    for case in WILCOXON_CASES {
        let name = case.name;
        let got = wilcoxon(case.a, case.b, case.level, case.alpha).unwrap();
        assert_eq!(got.test, TestKind::Wilcoxon);
        assert_eq!(got.df, None);
        assert_eq!(got.statistic, case.statistic, "{name}: statistic");
        assert_rel(got.p_value.unwrap(), case.p, &format!("{name}: p"));
        assert_rel(got.delta, case.delta, &format!("{name}: delta"));
        assert_rel(got.low, case.low, &format!("{name}: low"));
        assert_rel(got.high, case.high, &format!("{name}: high"));
    }
}

#[test]
fn wilcoxon_refuses_when_p_cannot_reach_alpha() {
    for case in WILCOXON_REFUSED {
        let name = case.name;
        let e = wilcoxon(case.a, case.b, 0.95, case.alpha).unwrap_err();
        assert_eq!((e.test, e.n, e.needed), (TestKind::Wilcoxon, case.n, case.needed), "{name}");
        // The rule: 2 / 2^n, SciPy's p for n all-positive differences, exceeds alpha.
        assert_eq!((1.0 - case.n as f64).exp2().min(1.0), case.smallest_p, "{name}");
        assert!(case.smallest_p > case.alpha, "{name}");
        assert!(e.to_string().contains(&format!("below {} pairs", case.needed)), "{name}");
    }
    let e = wilcoxon(&[0.71, 0.72, 0.73, 0.74, 0.75], &[0.7; 5], 0.95, 0.05).unwrap_err();
    assert_eq!(
        e.to_string(),
        "n = 5 pairs: the signed-rank test cannot reach p ≤ 0.05 below 6 pairs"
    );
    let e = wilcoxon(&[0.71, 0.7, 0.7, 0.72], &[0.7; 4], 0.95, 0.05).unwrap_err();
    assert_eq!(
        e.to_string(),
        "n = 2 pairs with a non-zero difference (2 zero differences are dropped): \
         the signed-rank test cannot reach p ≤ 0.05 below 6 pairs"
    );
}

#[test]
fn holm_and_bh_match_statsmodels() {
    for case in ADJUST_CASES {
        let (holm_got, bh_got) = (holm(case.p), benjamini_hochberg(case.p));
        assert_eq!(holm_got.len(), case.p.len());
        assert_eq!(bh_got.len(), case.p.len());
        for i in 0..case.p.len() {
            assert_rel(holm_got[i], case.holm[i], &format!("holm {:?}[{i}]", case.p));
            assert_rel(bh_got[i], case.bh[i], &format!("bh {:?}[{i}]", case.p));
        }
    }
}

#[test]
fn t_cdf_matches_scipy() {
    for &(t, df, want) in T_CDF {
        assert_rel(t_cdf(t, df), want, &format!("t_cdf({t}, {df})"));
    }
    assert_eq!(t_cdf(f64::INFINITY, 3.0), 1.0);
    assert_eq!(t_cdf(f64::NEG_INFINITY, 3.0), 0.0);
    assert_eq!(t_cdf(0.0, 3.0), 0.5);
    assert!(t_cdf(f64::NAN, 3.0).is_nan());
}

#[test]
fn t_quantile_matches_scipy() {
    for &(p, df, want) in T_PPF {
        let got = t_quantile(p, df);
        assert_rel(got, want, &format!("t_quantile({p}, {df})"));
        // Full precision: the CDF of the answer gives p back.
        assert_rel(t_cdf(got, df), p, &format!("t_cdf(t_quantile({p}, {df}))"));
    }
    // Far tails, where x = df / (df + t²) underflows: the Cauchy quantile is −1 / (π p).
    assert_rel(t_quantile(1e-300, 1.0), -1.0 / (PI * 1e-300), "Cauchy quantile at 1e-300");
    assert_rel(t_cdf(-1e200, 1.0), 1.0 / (PI * 1e200), "Cauchy CDF at -1e200");
    assert_eq!(t_quantile(1e-300, 0.5), f64::NEG_INFINITY);
    assert_eq!(t_quantile(0.5, 7.0), 0.0);
    assert_eq!(t_quantile(0.0, 7.0), f64::NEG_INFINITY);
    assert_eq!(t_quantile(1.0, 7.0), f64::INFINITY);
    assert!(t_quantile(1.5, 7.0).is_nan());
}

#[test]
fn special_functions_match_scipy_special() {
    for &(x, want) in LN_GAMMA {
        assert_rel(ln_gamma(x), want, &format!("ln_gamma({x})"));
    }
    for &(a, b, x, want) in IBETA {
        assert_rel(ibeta(a, b, x), want, &format!("ibeta({a}, {b}, {x})"));
    }
    for &(x, want) in NORMAL_CDF {
        assert_rel(normal_cdf(x), want, &format!("normal_cdf({x})"));
    }
}

#[test]
fn noncentral_t_cdf_matches_scipy_nctdtr() {
    for &(t, df, nc, want, scipy_nan) in NCT_CDF {
        let what = format!("nct_cdf({t}, {df}, {nc}), SciPy NaN: {scipy_nan}");
        assert_abs(nct_cdf(t, df, nc), want, &what);
    }
}

#[test]
fn power_matches_statsmodels() {
    for &(d, n, alpha, paired, want, scipy_nan) in POWER {
        let got = t_test_power(d, n, alpha, paired);
        let what = format!("power(d = {d}, n = {n}, {alpha}, paired {paired}), NaN: {scipy_nan}");
        assert_abs(got, want, &what);
    }
}

#[test]
fn seeds_needed_matches_statsmodels_scan() {
    for &(delta, std, alpha, power, paired, want) in SEEDS_NEEDED {
        let got = seeds_needed(delta, std, alpha, power, paired);
        assert_eq!(got, want, "seeds_needed({delta}, {std}, {alpha}, {power}, {paired})");
    }
    assert_eq!(seeds_needed(0.0, 0.01, 0.05, 0.8, true), None);
    assert_eq!(seeds_needed(0.01, 0.0, 0.05, 0.8, true), None);
    assert_eq!(seeds_needed(0.01, f64::NAN, 0.05, 0.8, false), None);
    // A huge effect (seeds that barely vary) needs the minimum and returns at once, even
    // when the noncentrality δ²/2 overflows.
    assert_eq!(seeds_needed(0.05, 1e-9, 0.05, 0.8, false), Some(2));
    assert_eq!(seeds_needed(0.05, 1e-300, 0.05, 0.8, true), Some(2));
}

#[test]
fn nan_values_give_no_p_and_say_why() {
    let (a, b) = ([0.5, f64::NAN, 0.7, 0.6, 0.8, 0.55], [0.4, 0.5, 0.6, 0.5, 0.7, 0.5]);
    for d in [
        paired_t(&a, &b, 0.95).unwrap(),
        welch_t(&a, &b, 0.95).unwrap(),
        wilcoxon(&a, &b, 0.95, 0.05).unwrap(),
    ] {
        assert_eq!(d.p_value, None, "{}", d.test);
        assert_eq!(d.why_no_p.as_deref(), Some("a seed's value is NaN"), "{}", d.test);
    }
}

#[test]
fn test_kind_names() {
    assert_eq!(TestKind::PairedT.to_string(), "paired t");
    assert_eq!(TestKind::WelchT.to_string(), "Welch t");
    assert_eq!(TestKind::Wilcoxon.to_string(), "Wilcoxon signed-rank");
    for kind in [TestKind::PairedT, TestKind::WelchT, TestKind::Wilcoxon] {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{kind}\""));
        assert_eq!(serde_json::from_str::<TestKind>(&json).unwrap(), kind);
    }
}

#[test]
fn numpy_pairwise_sum_order() {
    // 0.1 added 1000 times: NumPy's pairwise order gives 100.00000000000001 where a plain
    // loop gives 99.9999999999986.
    let x = vec![0.1; 1000];
    assert_eq!(np_sum(&x), 100.000_000_000_000_01);
}

mod resampling;
