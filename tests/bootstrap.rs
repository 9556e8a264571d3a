//! `compare --interval bootstrap` and `--test delong` through the binary, on a grid whose
//! predictions come from a script (two models of different skill × 3 seeds, scored by `score`
//! on the synthetic data's 60 off-site test images): the bootstrap re-scores the stored
//! predictions, is reproducible from its seed, keeps its intervals inside [0, 1], falls back to
//! the t statistics (marked) where it cannot re-score, and DeLong's p-value equals one computed
//! here from the predictions pair by pair. `metrics --bootstrap-summary` writes the replicates'
//! summary.
mod common;

use common::{Workspace, text};
use serde_json::Value;

const GRID: &str = r#"
name: boot
grid:
  factors:
    model: {weak: {skill: "0.6"}, strong: {skill: "2.5"}}
  baseline: {model: weak}
  seeds: 3
stages:
  data:
    kind: synthetic
    params: {size: 16, train: 4, val: 4, offsite_test: 60, onsite_test: 4}
  predict:
    kind: command
    inputs: {data: data}
    params:
      run: [python3, "${pipeline_dir}/predict.py", "${skill}", "${seed}"]
      deps: ["${pipeline_dir}/predict.py"]
  score: {kind: score, inputs: {predictions: predict, data: data}}
"#;

/// Probabilities that know the truth as well as `skill` says, with noise from a hash of the
/// seed and the image (the labels are read from the dataset's safetensors file).
const PREDICT: &str = r#"
import hashlib, json, math, os, struct, sys
skill, seed = float(sys.argv[1]), sys.argv[2]
data = os.environ["ABLATE_INPUT_DATA"]
index = json.load(open(os.path.join(data, "dataset.json")))
ids = dict(index["splits"])["offsite_test"]
labels = index["label_names"]
raw = open(os.path.join(data, "dataset.safetensors"), "rb").read()
length = struct.unpack("<Q", raw[:8])[0]
start = json.loads(raw[8:8 + length])["labels.offsite_test"]["data_offsets"][0] + 8 + length
rows = ["id," + ",".join("p_" + l for l in labels)]
for i, image in enumerate(ids):
    ps = []
    for c, label in enumerate(labels):
        y = raw[start + i * len(labels) + c]
        h = hashlib.sha256(f"{seed}/{image}/{label}".encode()).digest()
        noise = (int.from_bytes(h[:4], "little") / 2**32 - 0.5) * 4
        ps.append("%.6f" % (1 / (1 + math.exp(-(skill * (2 * y - 1) + noise)))))
    rows.append(image + "," + ",".join(ps))
open(os.path.join(os.environ["ABLATE_OUT"], "predictions.csv"), "w").write("\n".join(rows) + "\n")
"#;

fn compare(ws: &Workspace, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["compare", "boot", "--format", "json"];
    all.extend(args);
    let output = ws.ablate(&all);
    assert!(output.status.success(), "{}", text(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn cell<'a>(rows: &'a [Value], model: &str, column: &str) -> &'a Value {
    let row = rows.iter().find(|r| r["levels"]["model"] == model).expect("a row");
    &row["metrics"][column]
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("{value} is not a number"))
}

#[test]
fn the_bootstrap_re_scores_the_stored_predictions() {
    let ws = Workspace::new();
    ws.write("boot.yaml", GRID);
    ws.write("predict.py", PREDICT);
    ws.run("boot.yaml", &[]);

    let args = ["--interval", "bootstrap", "--bootstrap", "500", "--seed", "7"];
    let rows = compare(&ws, &args);
    for model in ["weak", "strong"] {
        for column in ["offsite_test.macro_f1", "offsite_test.macro_auroc", "offsite_test.f1[G]"] {
            let cell = cell(&rows, model, column);
            assert_eq!(cell["interval"], "bootstrap", "{model} {column}: {cell}");
            let (low, high) = (number(&cell["ci_low"]), number(&cell["ci_high"]));
            assert!((0.0..=1.0).contains(&low) && (0.0..=1.0).contains(&high), "{cell}");
            assert!(low <= high, "{cell}");
            assert_eq!(cell["replicates"]["replicates"], 500, "{cell}");
            // the t-interval it replaced is kept beside it
            assert!(cell["t"]["ci_low"].is_number(), "{cell}");
        }
    }
    let strong = cell(&rows, "strong", "offsite_test.macro_f1");
    assert_eq!(strong["test"], "bootstrap");
    assert!(number(&strong["delta_ci_low"]) > 0.0, "{strong}");
    // no replicate has the weak model ahead: p is the smallest 500 replicates give
    assert_eq!(number(&strong["p_value"]), 2.0 / 501.0, "{strong}");
    assert_eq!(strong["significant"], true);

    // The same seed gives the same numbers, on one thread too; another seed others.
    assert_eq!(compare(&ws, &args), rows);
    let mut one_thread =
        ws.command(&[&["compare", "boot", "--format", "json"][..], &args].concat());
    let one_thread = one_thread.env("RAYON_NUM_THREADS", "1").output().unwrap();
    assert_eq!(serde_json::from_slice::<Vec<Value>>(&one_thread.stdout).unwrap(), rows);
    let other = compare(&ws, &["--interval", "bootstrap", "--bootstrap", "500", "--seed", "8"]);
    assert_ne!(
        cell(&other, "weak", "offsite_test.macro_f1")["ci_low"],
        cell(&rows, "weak", "offsite_test.macro_f1")["ci_low"]
    );

    // A metric the bootstrap does not re-score keeps its t-interval, marked.
    let precision = compare(&ws, &[&args[..], &["--metric", "macro_f1,precision"]].concat());
    let kept = cell(&precision, "weak", "offsite_test.precision[D]");
    assert_eq!(kept["interval"], "t");
    assert!(kept["fallback"].as_str().unwrap().contains("`precision` is not re-scored"), "{kept}");
    let table = text(&ws.ablate(&[
        "compare",
        "boot",
        "--interval",
        "bootstrap",
        "--bootstrap",
        "500",
        "--seed",
        "7",
        "--metric",
        "macro_f1,precision",
        "--format",
        "markdown",
    ]));
    assert!(
        table.contains(
            "95% percentile interval of the mean over seeds and test images: a bootstrap that redraws the test images"
        ) && table.contains("(B = 500 replicates, seed 7)"),
        "{table}"
    );
    assert!(table.contains("¹ t statistics: `precision` is not re-scored"), "{table}");
    assert!(table.contains("p: the bootstrap (Δ paired by image and by seed; B = 500, seed 7)"));

    delong_equals_the_pairwise_definition(&ws);
    refusals(&ws);
    metrics_writes_the_replicates_summary(&ws);
}

/// `--test delong` on a per-label AUROC column: Δ of the mean AUROCs over seeds, its variance
/// from the placements of every scoring, computed here pair by pair from the predictions.
fn delong_equals_the_pairwise_definition(ws: &Workspace) {
    let rows = compare(ws, &["--test", "delong", "--metric", "auroc"]);
    let cell = cell(&rows, "strong", "offsite_test.auroc[D]");
    assert_eq!(cell["test"], "DeLong", "{cell}");
    let labels = ablate_stages::data::dataset::read_split_labels(
        &ws.output_of("boot", "data").join("out"),
        "offsite_test",
    )
    .unwrap();
    let truth: Vec<bool> = (0..labels.ids.len()).map(|i| labels.labels[i * 3] == 1).collect();
    let scores = |model: &str| -> Vec<Vec<f64>> {
        (0..3)
            .map(|seed| {
                let stage = format!("score[model={model},seed={seed}]");
                let csv = std::fs::read_to_string(
                    ws.output_of("boot", &stage).join("out/predictions.csv"),
                )
                .unwrap();
                let by_id: std::collections::HashMap<&str, f64> = csv
                    .lines()
                    .skip(1)
                    .map(|l| {
                        let fields: Vec<&str> = l.split(',').collect();
                        (fields[0], fields[1].parse().unwrap())
                    })
                    .collect();
                labels.ids.iter().map(|id| by_id[id.as_str()]).collect()
            })
            .collect()
    };
    let (strong, weak) = (scores("strong"), scores("weak"));
    let (delta, se) = pairwise_delong(&strong, &weak, &truth);
    assert!((number(&cell["delta"]) - delta).abs() < 1e-9, "{cell} vs {delta}");
    let z = delta / se;
    assert!((number(&cell["delong"]["z"]) - z).abs() < 1e-9 * z.abs().max(1.0), "{cell} vs {z}");
}

/// Mean AUROC of `a` minus that of `b`, and DeLong's standard error: ψ over every
/// positive–negative pair, placements per image, their covariances over the images of a class.
fn pairwise_delong(a: &[Vec<f64>], b: &[Vec<f64>], truth: &[bool]) -> (f64, f64) {
    let psi = |p: f64, n: f64| {
        if p > n {
            1.0
        } else if p == n {
            0.5
        } else {
            0.0
        }
    };
    let weights: Vec<f64> = a
        .iter()
        .map(|_| 1.0 / a.len() as f64)
        .chain(b.iter().map(|_| -1.0 / b.len() as f64))
        .collect();
    let scorings: Vec<&Vec<f64>> = a.iter().chain(b).collect();
    let pos: Vec<usize> = (0..truth.len()).filter(|&i| truth[i]).collect();
    let neg: Vec<usize> = (0..truth.len()).filter(|&i| !truth[i]).collect();
    // the contrast's placements: Σ_k w_k V_k, per positive and per negative image
    let v10: Vec<f64> = pos
        .iter()
        .map(|&i| {
            let placement =
                |s: &Vec<f64>| neg.iter().map(|&j| psi(s[i], s[j])).sum::<f64>() / neg.len() as f64;
            scorings.iter().zip(&weights).map(|(s, w)| w * placement(s)).sum()
        })
        .collect();
    let v01: Vec<f64> = neg
        .iter()
        .map(|&j| {
            let placement =
                |s: &Vec<f64>| pos.iter().map(|&i| psi(s[i], s[j])).sum::<f64>() / pos.len() as f64;
            scorings.iter().zip(&weights).map(|(s, w)| w * placement(s)).sum()
        })
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| {
        let m = mean(v);
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64
    };
    let delta = mean(&v10);
    (delta, (var(&v10) / pos.len() as f64 + var(&v01) / neg.len() as f64).sqrt())
}

fn refusals(ws: &Workspace) {
    for (args, says) in [
        (
            &["--interval", "bootstrap", "--test", "wilcoxon"][..],
            "--test wilcoxon: with --interval bootstrap, Δ is tested by the bootstrap",
        ),
        (
            &["--interval", "bootstrap", "--bootstrap", "10"],
            "--bootstrap 10: a percentile interval needs at least 100 replicates",
        ),
    ] {
        let mut all = vec!["compare", "boot"];
        all.extend(args);
        let output = ws.ablate(&all);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(says), "{args:?}: {}", text(&output));
    }
}

fn metrics_writes_the_replicates_summary(ws: &Workspace) {
    let output = ws.ablate(&[
        "metrics",
        "boot",
        "--bootstrap-summary",
        "--bootstrap",
        "200",
        "--out",
        "summary.csv",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("replicate summaries → summary.csv"), "{}", text(&output));
    let csv = std::fs::read_to_string(ws.path("summary.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "pipeline,variant,model,stage,split,class,metric,of,replicates,undefined,mean,sd,q0.025,q0.05,q0.25,q0.5,q0.75,q0.95,q0.975"
    );
    let delta = csv
        .lines()
        .find(|l| {
            l.starts_with("boot,model=strong,strong,score,offsite_test,,macro_f1,delta,200,0,")
        })
        .unwrap_or_else(|| panic!("{csv}"));
    let fields: Vec<f64> = delta.split(',').skip(10).map(|f| f.parse().unwrap()).collect();
    assert!(fields[0] > 0.0 && fields[1] > 0.0, "{delta}");
    assert!(fields[2..].windows(2).all(|w| w[0] <= w[1]), "quantiles in order: {delta}");
}
