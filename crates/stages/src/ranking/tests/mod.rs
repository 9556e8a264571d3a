//! Every expected value below comes from scikit-learn 1.9.1 through
//! `scripts/dev/ranking_fixtures.py` (see the generated block): a value passes when
//! `|got − want| ≤ 1e-12`; an undefined one must give the same reason.
use super::*;

const ABS: f64 = 1e-12;

/// A metric's value, or why it has none.
type Value = Result<f64, Undefined>;

/// A case's scores, as the Rust caller would hold them.
enum Scores {
    F32(&'static [f32]),
    F64(&'static [f64]),
}

struct Case {
    name: &'static str,
    scores: Scores,
    truth: &'static [u8],
    auroc: Value,
    average_precision: Value,
}

/// A row-major N×`n_labels` table.
struct Table {
    name: &'static str,
    n_labels: usize,
    probabilities: &'static [f32],
    labels: &'static [u8],
    /// (AUC, average precision) per label.
    per_label: &'static [(Value, Value)],
    /// (mean over the defined labels, labels left out).
    macro_auroc: (f64, usize),
    macro_average_precision: (f64, usize),
}

#[rustfmt::skip]
mod fixtures;
use fixtures::*;

#[track_caller]
fn assert_close(got: Value, want: Value, what: &str) {
    match (got, want) {
        (Ok(g), Ok(w)) => {
            assert!((g - w).abs() <= ABS, "{what}: got {g:e}, want {w:e} (off by {:e})", g - w)
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

fn as_f64(scores: &Scores) -> Vec<f64> {
    match scores {
        Scores::F32(s) => s.iter().map(|&x| f64::from(x)).collect(),
        Scores::F64(s) => s.to_vec(),
    }
}

#[test]
fn matches_sklearn_on_every_case() {
    assert!(CASES.len() >= 50, "{} cases", CASES.len());
    for case in CASES {
        let name = case.name;
        let (auroc, ap, both) = match case.scores {
            Scores::F32(s) => (
                roc_auc(s, case.truth),
                average_precision(s, case.truth),
                LabelRanking::of(s, case.truth),
            ),
            Scores::F64(s) => (
                roc_auc(s, case.truth),
                average_precision(s, case.truth),
                LabelRanking::of(s, case.truth),
            ),
        };
        assert_close(auroc, case.auroc, &format!("{name}: roc_auc"));
        assert_close(ap, case.average_precision, &format!("{name}: average_precision"));
        assert_eq!(both, LabelRanking { auroc, average_precision: ap }, "{name}: of");
        // f32 scores read as f64 are the same numbers, so the same ranking
        let wide = as_f64(&case.scores);
        assert_eq!(LabelRanking::of(&wide, case.truth), both, "{name}: as f64");
    }
}

#[test]
fn fixtures_cover_ties_and_refusals() {
    let with_ties = CASES
        .iter()
        .filter(|c| {
            let mut s = as_f64(&c.scores);
            s.sort_by(f64::total_cmp);
            s.windows(2).any(|w| w[0] == w[1])
        })
        .count();
    assert!(with_ties >= 10, "{with_ties} cases with ties");
    for why in [
        Undefined::Empty,
        Undefined::NoPositives,
        Undefined::NoNegatives,
        Undefined::NotFinite { row: 1 },
        Undefined::NotBinary { row: 2, value: 2 },
    ] {
        assert!(CASES.iter().any(|c| c.auroc == Err(why)), "no case of {why:?}");
    }
}

/// The Mann–Whitney U by counting pairs, half credit for ties: O(n²), independent of the curve.
fn pair_count_auc(scores: &[f64], truth: &[u8]) -> f64 {
    let (mut twice, mut pairs) = (0u64, 0u64);
    for (&p, _) in scores.iter().zip(truth).filter(|(_, y)| **y == 1) {
        for (&n, _) in scores.iter().zip(truth).filter(|(_, y)| **y == 0) {
            pairs += 1;
            twice += match p.total_cmp(&n) {
                _ if p == n => 1,
                std::cmp::Ordering::Greater => 2,
                _ => 0,
            };
        }
    }
    twice as f64 / (2 * pairs) as f64
}

#[test]
fn auc_is_the_mann_whitney_u_with_ties_at_half() {
    for case in CASES {
        if let Ok(want) = case.auroc {
            let got = pair_count_auc(&as_f64(&case.scores), case.truth);
            assert!((got - want).abs() <= ABS, "{}: pairs give {got}, sklearn {want}", case.name);
        }
    }
}

#[test]
fn order_of_the_rows_does_not_matter() {
    for case in CASES.iter().filter(|c| c.auroc.is_ok()) {
        let scores = as_f64(&case.scores);
        let reversed: Vec<f64> = scores.iter().rev().copied().collect();
        let truth: Vec<u8> = case.truth.iter().rev().copied().collect();
        assert_eq!(LabelRanking::of(&reversed, &truth), LabelRanking::of(&scores, case.truth));
    }
}

#[test]
fn per_label_and_macro_match_sklearn_tables() {
    for table in TABLES {
        let name = table.name;
        let got = per_label(table.probabilities, table.labels, table.n_labels);
        assert_eq!(got.len(), table.n_labels);
        for (c, (label, &(auroc, ap))) in got.iter().zip(table.per_label).enumerate() {
            assert_close(label.auroc, auroc, &format!("{name}, label {c}: roc_auc"));
            assert_close(label.average_precision, ap, &format!("{name}, label {c}: AP"));
        }
        for (what, got, (want, left_out)) in [
            ("macro AUC", macro_auroc(&got), table.macro_auroc),
            ("macro AP", macro_average_precision(&got), table.macro_average_precision),
        ] {
            assert_eq!(got.left_out, left_out, "{name}: {what} left out");
            assert_eq!(got.defined + got.left_out, table.n_labels, "{name}: {what}");
            let mean = got.mean.expect("some label is defined");
            assert!((mean - want).abs() <= ABS, "{name}: {what} {mean:e}, want {want:e}");
        }
    }
}

#[test]
fn macro_mean_without_defined_labels_is_none() {
    let undefined = [Err(Undefined::NoPositives), Err(Undefined::NoNegatives)];
    assert_eq!(macro_mean(&undefined), MacroMean { mean: None, defined: 0, left_out: 2 });
    assert_eq!(macro_mean(&[]), MacroMean { mean: None, defined: 0, left_out: 0 });
    let some = [Ok(0.5), Err(Undefined::NoPositives), Ok(1.0)];
    assert_eq!(macro_mean(&some), MacroMean { mean: Some(0.75), defined: 2, left_out: 1 });
}

#[test]
fn per_label_names_sample_rows() {
    // 3 rows × 2 labels; label 1's score in row 2 is NaN, label 0's truth in row 1 is 3
    let probabilities = [0.1, 0.2, 0.3, 0.4, 0.5, f32::NAN];
    let labels = [0, 1, 3, 0, 1, 1];
    let got = per_label(&probabilities, &labels, 2);
    assert_eq!(got[0].auroc, Err(Undefined::NotBinary { row: 1, value: 3 }));
    assert_eq!(got[1].average_precision, Err(Undefined::NotFinite { row: 2 }));
}

#[test]
fn reasons_read_as_words() {
    let cases = [
        (Undefined::Empty, "no samples"),
        (Undefined::NotBinary { row: 4, value: 2 }, "the truth of row 4 is 2, not 0 or 1"),
        (Undefined::NotFinite { row: 7 }, "the score of row 7 is NaN or infinite"),
        (Undefined::NoPositives, "no positive sample"),
        (Undefined::NoNegatives, "no negative sample"),
    ];
    for (why, words) in cases {
        assert_eq!(why.to_string(), words);
    }
}

#[test]
fn serialises_with_the_reason() {
    let ranking = LabelRanking { auroc: Err(Undefined::NoPositives), average_precision: Ok(0.25) };
    let json = serde_json::to_string(&ranking).unwrap();
    assert_eq!(json, r#"{"auroc":{"reason":"no_positives"},"average_precision":0.25}"#);
    assert_eq!(serde_json::from_str::<LabelRanking>(&json).unwrap(), ranking);
    let row = serde_json::to_string(&Undefined::NotFinite { row: 3 }).unwrap();
    assert_eq!(row, r#"{"reason":"not_finite","row":3}"#);
}

#[test]
#[should_panic(expected = "one truth value per score")]
fn lengths_must_agree() {
    let _ = roc_auc(&[0.5f32, 0.2], &[1]);
}

#[test]
fn a_weighted_curve_is_the_curve_of_the_samples_repeated() {
    for case in CASES.iter().filter(|c| c.truth.len() > 1) {
        let Ok(ranked) = Ranked::new(&as_f64(&case.scores), case.truth) else { continue };
        let ones = vec![1u32; case.truth.len()];
        assert_eq!(ranked.weighted_curve(&ones), ranked.curve(), "{}", case.name);
        // sample i drawn i mod 3 times (so some never), as a bootstrap replicate draws them
        let weights: Vec<u32> = (0..case.truth.len() as u32).map(|i| i % 3).collect();
        let (mut scores, mut truth) = (Vec::new(), Vec::new());
        for ((&s, &y), &w) in as_f64(&case.scores).iter().zip(case.truth).zip(&weights) {
            scores.extend(std::iter::repeat_n(s, w as usize));
            truth.extend(std::iter::repeat_n(y, w as usize));
        }
        let repeated = LabelRanking::of(&scores, &truth);
        assert_eq!(ranked.weighted_curve(&weights).ranking(), repeated, "{}", case.name);
    }
}
