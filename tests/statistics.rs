//! `ablate compare`'s statistics through the binary, on stored metrics whose expected
//! statistics were computed once with SciPy 1.17.1 and statsmodels 0.15.0 (the script is below)
//! and are pinned here to 1e-9: the interval of each mean, Δ with its interval and test against
//! the baseline (paired where both rows ran the same seeds, Welch otherwise), Holm and
//! Benjamini–Hochberg across the rows, the Wilcoxon signed-rank test and the seeds needed.
//!
//! The cache is written directly (manifest, refs, `metrics.parquet`), as runs leave it, so the
//! numbers are exactly these whatever the machine.
//!
//! ```python
//! import numpy as np
//! from scipy import stats
//! from statsmodels.stats.multitest import multipletests
//! from statsmodels.stats.power import TTestPower, TTestIndPower
//! ci = lambda x, level: stats.t.interval(level, len(x) - 1, loc=np.mean(x),
//!                                        scale=np.std(x, ddof=1) / np.sqrt(len(x)))
//! rel, rel_e = stats.ttest_rel(b, a), stats.ttest_rel(e, a)
//! welch = stats.ttest_ind(c, a, equal_var=False)
//! rel.confidence_interval(0.95), welch.confidence_interval(0.95)    # and at 0.9
//! multipletests([rel.pvalue, welch.pvalue, rel_e.pvalue], method="holm")[1]   # and "fdr_bh"
//! multipletests([stats.wilcoxon(b, a).pvalue, welch.pvalue, stats.wilcoxon(e, a).pvalue],
//!               method="holm")[1]
//! # seeds needed: the smallest n >= 2 with TTestPower().power(|mean(b - a)| / std(b - a), n,
//! # 0.05) >= 0.8, and TTestIndPower().power(|mean(c) - mean(a)| / pooled std, n, 0.05) >= 0.8
//! ```
mod common;

use std::collections::BTreeMap;

use ablate_core::fingerprint::Fingerprint;
use ablate_core::grid::Layout;
use ablate_core::manifest::{Manifest, ManifestStage, ManifestVariant};
use ablate_core::metrics::{MetricRow, MetricSource, write_parquet};
use ablate_core::store::{Record, RefEntry, Store};
use common::{Workspace, text};
use serde_json::Value;

/// macro-F1 per seed of each variant of factor `model`; `a` is the baseline. `c` lacks seeds
/// 4 and 5 (so it is compared by Welch's test), `d` has one seed, `f` none.
const VALUES: [(&str, &[f64]); 6] = [
    ("a", &[0.6123, 0.6345, 0.5987, 0.6210, 0.6402, 0.6055]),
    ("b", &[0.6420, 0.6511, 0.6302, 0.6488, 0.6695, 0.6270]),
    ("c", &[0.6001, 0.6650, 0.6402, 0.6199]),
    ("d", &[0.7000]),
    ("e", &[0.6150, 0.6390, 0.6001, 0.6260, 0.6398, 0.6120]),
    ("f", &[]),
];
const SEEDS: usize = 6;

/// A cache holding pipeline `stats` with the values above as `offsite_test.macro_f1`.
fn stored(ws: &Workspace) {
    let store = Store::open(&ws.path("cache")).unwrap();
    let (mut stages, mut variants) = (Vec::new(), Vec::new());
    for (model, values) in VALUES {
        for seed in 0..SEEDS {
            let instance = format!("evaluate[model={model},seed={seed}]");
            stages.push(ManifestStage {
                instance: instance.clone(),
                template: "evaluate".into(),
                kind: "evaluate".into(),
            });
            variants.push(ManifestVariant {
                levels: vec![("model".into(), model.into()), ("seed".into(), seed.to_string())]
                    .into(),
                stages: BTreeMap::from([("evaluate".to_string(), instance.clone())]),
            });
            let Some(&value) = values.get(seed) else { continue };
            let key = blake3::hash(instance.as_bytes()).to_hex().to_string();
            let entry = store.entries_dir().join(&key);
            std::fs::create_dir_all(&entry).unwrap();
            let source = MetricSource {
                pipeline: "stats",
                stage: &instance,
                stage_key: &key,
                timestamp_micros: 0,
            };
            let rows = [MetricRow::new("macro_f1", value).split("offsite_test")];
            write_parquet(&entry.join("metrics.parquet"), &source, &rows).unwrap();
            write_record(&entry, &key, "stats", &instance);
            store.write_ref("stats", &instance, &plain_ref(&key)).unwrap();
        }
    }
    let models: Vec<String> = VALUES.iter().map(|(m, _)| m.to_string()).collect();
    store
        .write_manifest(&Manifest {
            pipeline: "stats".into(),
            file: "/studies/stats.yaml".into(),
            file_digest: "3f2a9c1b7e5d".into(),
            overrides: vec!["epochs=2".into()],
            extra_seeds: Default::default(),
            written: 1_764_102_600,
            layout: Some(Layout {
                factors: vec![
                    ("model".into(), models),
                    ("seed".into(), (0..SEEDS).map(|s| s.to_string()).collect()),
                ],
                baseline: Some(vec![("model".into(), "a".into())].into()),
            }),
            stages,
            variants,
            definitions: Default::default(),
        })
        .unwrap();
}

/// The record a published result has beside its metrics.
fn write_record(entry: &std::path::Path, key: &str, pipeline: &str, stage: &str) {
    let record = Record {
        key: key.into(),
        pipeline: pipeline.into(),
        stage: stage.into(),
        fingerprint: Fingerprint {
            kind: "evaluate".into(),
            version: 1,
            params: Default::default(),
            upstream: Default::default(),
            files: Default::default(),
            commands: Default::default(),
            toolchain: Default::default(),
        },
        output: String::new(),
        metrics: None,
        created: 0,
        seconds: 0.0,
        summary: None,
    };
    std::fs::write(entry.join("record.json"), serde_json::to_vec(&record).unwrap()).unwrap();
}

fn compare(ws: &Workspace, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["compare", "--format", "json"];
    all.extend(args);
    let output = ws.ablate(&all);
    assert!(output.status.success(), "{}", text(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// The macro-F1 cell of `model`.
fn cell<'a>(rows: &'a [Value], model: &str) -> &'a Value {
    let row = rows.iter().find(|r| r["levels"]["model"] == model).expect("a row");
    &row["metrics"]["offsite_test.macro_f1"]
}

/// `value` equals SciPy's `want` to 1e-9, relatively.
#[track_caller]
fn close(value: &Value, want: f64) {
    let got = value.as_f64().unwrap_or_else(|| panic!("{value} is not a number"));
    assert!((got - want).abs() <= 1e-9 * want.abs(), "{got} vs SciPy's {want}");
}

#[test]
fn compare_s_statistics_equal_scipy_s() {
    let ws = Workspace::new();
    stored(&ws);
    let rows = compare(&ws, &[]);
    assert_eq!(rows.len(), 5, "a row per variant with results");

    // Each mean with its t-interval (scipy.stats.t.interval).
    for (model, mean, std, low, high) in [
        ("a", 0.6187, 0.01632409262409398, 0.6015689154113126, 0.6358310845886874),
        ("b", 0.6447666666666666, 0.015515239819824465, 0.6284844210382095, 0.6610489122951237),
        ("c", 0.6313, 0.027798681023866366, 0.5870660951419181, 0.6755339048580818),
        ("e", 0.6219833333333333, 0.015814223555605484, 0.6053873235167984, 0.6385793431498683),
    ] {
        let cell = cell(&rows, model);
        close(&cell["mean"], mean);
        close(&cell["std"], std);
        close(&cell["ci_low"], low);
        close(&cell["ci_high"], high);
    }
    let a = cell(&rows, "a");
    assert_eq!(
        (a["delta"].as_f64(), &a["p_value"], &a["test"]),
        (Some(0.0), &Value::Null, &Value::Null)
    );

    // b and e ran a's seeds: paired t (ttest_rel); c did not: Welch (ttest_ind, equal_var=False).
    let b = cell(&rows, "b");
    assert_eq!(b["test"], "paired t");
    close(&b["delta"], 0.026066666666666682);
    close(&b["delta_ci_low"], 0.020007989536382362);
    close(&b["delta_ci_high"], 0.032125343796951006);
    close(&b["p_value"], 0.00010526862374010856);
    close(&b["p_adjusted"], 0.0003158058712203257);
    assert_eq!(b["significant"], true);
    let c = cell(&rows, "c");
    assert_eq!(c["test"], "Welch t");
    close(&c["delta"], 0.012599999999999945);
    close(&c["delta_ci_low"], -0.028710941995333722);
    close(&c["delta_ci_high"], 0.05391094199533361);
    close(&c["p_value"], 0.4556655868988308);
    close(&c["p_adjusted"], 0.4556655868988308);
    assert_eq!(c["significant"], false);
    let e = cell(&rows, "e");
    close(&e["delta"], 0.0032833333333333417);
    close(&e["delta_ci_low"], 0.0006189928087329656);
    close(&e["delta_ci_high"], 0.005947673857933718);
    close(&e["p_value"], 0.024876492950805164);
    close(&e["p_adjusted"], 0.04975298590161033);
    assert_eq!(e["significant"], true);
    // d has one seed: no test, and why.
    let d = cell(&rows, "d");
    assert_eq!(
        (d["n"].as_u64(), &d["p_value"], &d["test"]),
        (Some(1), &Value::Null, &"Welch t".into())
    );
    assert_eq!(
        d["note"],
        "n = 1 and 6 seeds: Welch's t-test needs at least 2 seeds of each variant"
    );

    // Benjamini–Hochberg instead of Holm; 90% intervals; intervals hidden.
    let bh = compare(&ws, &["--adjust", "bh"]);
    close(&cell(&bh, "b")["p_adjusted"], 0.0003158058712203257);
    close(&cell(&bh, "c")["p_adjusted"], 0.4556655868988308);
    close(&cell(&bh, "e")["p_adjusted"], 0.03731473942620775);
    let none = compare(&ws, &["--adjust", "none"]);
    close(&cell(&none, "e")["p_adjusted"], 0.024876492950805164);
    let ninety = compare(&ws, &["--ci", "0.9"]);
    close(&cell(&ninety, "a")["ci_low"], 0.605271147568496);
    close(&cell(&ninety, "a")["ci_high"], 0.6321288524315041);
    close(&cell(&ninety, "b")["delta_ci_low"], 0.021317342087040003);
    close(&cell(&ninety, "c")["delta_ci_high"], 0.044624318026638125);
    let hidden = compare(&ws, &["--ci", "0"]);
    assert!(cell(&hidden, "a")["ci_low"].is_null() && cell(&hidden, "b")["delta_ci_low"].is_null());
    close(&cell(&hidden, "b")["p_value"], 0.00010526862374010856);

    // The signed-rank test for paired rows (scipy.stats.wilcoxon), Welch's for the others.
    let wilcoxon = compare(&ws, &["--test", "wilcoxon"]);
    let b = cell(&wilcoxon, "b");
    assert_eq!(b["test"], "Wilcoxon signed-rank");
    close(&b["p_value"], 0.03125);
    close(&b["p_adjusted"], 0.09375);
    assert_eq!(b["significant"], false);
    close(&cell(&wilcoxon, "e")["p_adjusted"], 0.125);
    assert_eq!(cell(&wilcoxon, "c")["test"], "Welch t");

    // Seeds for 80% power (statsmodels' TTestPower / TTestIndPower).
    let needed = compare(&ws, &["--seeds-needed"]);
    assert_eq!(cell(&needed, "b")["seeds_needed"], 3);
    assert_eq!(cell(&needed, "c")["seeds_needed"], 47);

    // Seeds kept before pooling: on seeds 0–3, c ran a's seeds and is paired.
    let four = compare(&ws, &["--where", "seed=0,1,2,3"]);
    assert_eq!(cell(&four, "c")["test"], "paired t");
    assert_eq!(cell(&four, "a")["n"], 4);
    close(&cell(&four, "a")["mean"], (0.6123 + 0.6345 + 0.5987 + 0.6210) / 4.0);
    // One row per seed, each compared with the baseline's same seed.
    let per_seed = compare(&ws, &["--per-seed"]);
    assert_eq!(per_seed.len(), 6 + 6 + 4 + 1 + 6);
    let b2 = per_seed
        .iter()
        .find(|r| r["levels"]["model"] == "b" && r["levels"]["seed"] == "2")
        .expect("row b, seed 2");
    close(&b2["metrics"]["offsite_test.macro_f1"]["delta"], 0.6302 - 0.5987);

    // The table marks significance, explains missing p-values and lists what has not run.
    let table = text(&ws.ablate(&["compare"]));
    let line = |model: &str| table.lines().find(|l| l.starts_with(model)).unwrap().to_string();
    assert!(line("b ").trim_end().ends_with("0.0003 *"), "{table}");
    assert!(line("c ").trim_end().ends_with("0.4557"), "{table}");
    assert!(line("d ").trim_end().ends_with("–¹"), "{table}");
    assert!(
        table
            .contains("¹ n = 1 and 6 seeds: Welch's t-test needs at least 2 seeds of each variant"),
        "{table}"
    );
    assert!(
        table.contains(
            "not run yet (or failed): model=c (seed 4, 5); model=d (seed 1, 2, 3, 4, 5); model=f"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "stats: /studies/stats.yaml (version 3f2a9c1b, run 2025-11-25 20:30:00 UTC with --set epochs=2)"
        ),
        "{table}"
    );
    assert!(table.contains("adjusted across 3 rows (Holm); * adjusted p < 0.05"), "{table}");
}

#[test]
fn out_of_range_statistics_options_are_refused() {
    let ws = Workspace::new();
    stored(&ws);
    for (args, says) in [
        (&["--ci", "1.5"][..], "--ci 1.5: a confidence level is between 0 and 1"),
        (&["--alpha", "0"], "--alpha 0: a significance level is between 0 and 1"),
        (
            &["--baseline", "model=z"],
            "--baseline: factor `model` has no level `z` (levels: a, b, c, d, e, f)",
        ),
        (&["--baseline", "model=f"], "--baseline model=f matches no row with results"),
        (&["nosuch"], "pipeline `nosuch` has not run with the cache"),
    ] {
        let mut all = vec!["compare"];
        all.extend(args);
        let output = ws.ablate(&all);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(says), "{args:?}: {}", text(&output));
    }
}

#[test]
fn rows_of_two_pipelines_show_their_own_n() {
    // Pipeline `other` measured another split: its row has no value in `stats`' primary column,
    // and its n is still its own (issue 21, 5).
    let ws = Workspace::new();
    stored(&ws);
    let store = Store::open(&ws.path("cache")).unwrap();
    let key = blake3::hash(b"other evaluate").to_hex().to_string();
    let entry = store.entries_dir().join(&key);
    std::fs::create_dir_all(&entry).unwrap();
    let source =
        MetricSource { pipeline: "other", stage: "evaluate", stage_key: &key, timestamp_micros: 0 };
    let rows = [MetricRow::new("macro_f1", 0.5).split("val")];
    write_parquet(&entry.join("metrics.parquet"), &source, &rows).unwrap();
    write_record(&entry, &key, "other", "evaluate");
    store.write_ref("other", "evaluate", &plain_ref(&key)).unwrap();
    let stage = ManifestStage {
        instance: "evaluate".into(),
        template: "evaluate".into(),
        kind: "evaluate".into(),
    };
    store
        .write_manifest(&Manifest {
            pipeline: "other".into(),
            file: "/studies/other.yaml".into(),
            file_digest: "0123456789ab".into(),
            overrides: Vec::new(),
            extra_seeds: Default::default(),
            written: 1_764_102_600,
            layout: None,
            stages: vec![stage],
            variants: vec![ManifestVariant {
                levels: Vec::new().into(),
                stages: BTreeMap::from([("evaluate".to_string(), "evaluate".to_string())]),
            }],
            definitions: Default::default(),
        })
        .unwrap();
    let rows = compare(&ws, &["stats", "other"]);
    let other = rows.iter().find(|r| r["pipeline"] == "other").unwrap();
    assert_eq!(other["n"], 1);
    assert!(other["metrics"]["offsite_test.macro_f1"].is_null(), "{other}");
    let table = text(&ws.ablate(&["compare", "stats", "other"]));
    let line = table.lines().find(|l| l.starts_with("other")).unwrap();
    assert!(line.starts_with("other     –      1  "), "{table}");
    assert!(table.contains("other: /studies/other.yaml (version 01234567"), "{table}");
}

/// A ref naming `key` without a definition, as refs were written before definitions.
fn plain_ref(key: &str) -> RefEntry {
    RefEntry { key: key.into(), definition: None, written: 0, overrides: Vec::new() }
}
