//! What a researcher takes away from a grid, through the binary: a 2-factor grid with 3 seeds
//! on the synthetic data, then `ablate metrics` (one tidy table), `ablate out` (where a stage's
//! output is) and `ablate report` (one self-contained HTML page, rendered by Chromium).
//!
//! The Chromium check needs Debian's `chromium`: without it the check is skipped with a
//! message, unless `ABLATE_REQUIRE_CHROMIUM=1` (CI), which makes it fail.
mod common;

use std::fs::File;

use common::{Workspace, text};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

const GRID: &str = r#"
name: study
grid:
  factors:
    loss: [bce, focal]
    hidden: [16, 32]
  baseline: {loss: bce, hidden: 16}
  seeds: 3
stages:
  data:
    kind: synthetic
    params: {size: 32, train: 32, val: 16, offsite_test: 16, onsite_test: 8}
  model:
    kind: backbone
    params: {arch: resnet18}
  loss:
    kind: loss
    inputs: {data: data}
    params: {function: "${loss}"}
  train:
    kind: train
    inputs: {data: data, model: model, loss: loss}
    params: {epochs: 2, batch_size: 16, head_hidden: "${hidden}", seed: "${seed}"}
  evaluate:
    kind: evaluate
    inputs: {model: train, data: data}
  cam:
    kind: gradcam
    when: {seed: ["0"]}
    inputs: {model: train, data: data}
    params: {split: offsite_test, count: 2}
"#;

#[test]
fn a_grid_s_results_read_as_a_table_a_folder_and_a_report() {
    let ws = Workspace::new();
    ws.write("study.yaml", GRID);
    ws.run("study.yaml", &[]);
    metrics_is_one_tidy_table_with_the_levels_as_columns(&ws);
    out_prints_the_output_folder_of_a_stage_s_latest_result(&ws);
    the_report_is_one_self_contained_page(&ws);
    confusion_counts_are_recounted_from_the_predictions(&ws);
    the_report_renders_in_chromium(&ws);
    the_bootstrap_s_report_shows_both_intervals(&ws);
}

fn ok(ws: &Workspace, args: &[&str]) -> String {
    let output = ws.ablate(args);
    assert!(output.status.success(), "ablate {args:?} failed:\n{}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

fn exit_code(ws: &Workspace, args: &[&str]) -> (i32, String) {
    let output = ws.ablate(args);
    (output.status.code().unwrap_or(-1), text(&output))
}

fn metrics_is_one_tidy_table_with_the_levels_as_columns(ws: &Workspace) {
    assert!(ok(ws, &["metrics", "--out", "m.parquet"]).contains("metric rows → m.parquet"));
    let reader = SerializedFileReader::new(File::open(ws.path("m.parquet")).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "pipeline",
            "variant",
            "loss",
            "hidden",
            "seed",
            "stage",
            "stage_key",
            "split",
            "epoch",
            "class",
            "metric",
            "value",
            "stale"
        ]
    );
    // The evaluations' macro-F1: one per variant and seed, equal to what compare pools.
    let table: Vec<Vec<(String, Field)>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| row.unwrap().get_column_iter().map(|(n, f)| (n.clone(), f.clone())).collect())
        .collect();
    let mut found: Vec<(String, String, f64)> = Vec::new();
    for row in &table {
        let field = |name: &str| &row.iter().find(|(n, _)| n == name).unwrap().1;
        let text = |name: &str| match field(name) {
            Field::Str(s) => Some(s.as_str()),
            _ => None,
        };
        let is_split = text("split").is_some();
        if text("stage") == Some("evaluate") && text("metric") == Some("macro_f1") && is_split {
            let Field::Double(value) = field("value") else { panic!("value is a double") };
            // The seed is an integer column: `WHERE seed = 0` works in DuckDB.
            let seed = match field("seed") {
                Field::UInt(seed) => seed.to_string(),
                other => panic!("seed is an unsigned integer, found {other:?}"),
            };
            found.push((text("variant").unwrap().into(), seed, *value));
        }
    }
    assert_eq!(found.len(), 12, "4 variants × 3 seeds: {found:?}");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&ok(ws, &["compare", "--format", "json"])).unwrap();
    for row in &rows {
        let values: Vec<f64> =
            found.iter().filter(|f| f.0 == row["variant"]).map(|f| f.2).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let pooled = row["metrics"]["offsite_test.macro_f1"]["mean"].as_f64().unwrap();
        assert!((mean - pooled).abs() < 1e-12, "{}: {mean} vs {pooled}", row["variant"]);
    }
    // CSV to standard output, with the same rows.
    let csv = ok(ws, &["metrics", "--format", "csv"]);
    assert!(csv.starts_with(
        "pipeline,variant,loss,hidden,seed,stage,stage_key,split,epoch,class,metric,value,stale\n"
    ));
    assert_eq!(csv.lines().count(), table.len() + 1);
    assert!(csv.contains("study,\"loss=focal,hidden=32\",focal,32,2,evaluate,"), "{csv}");
    let (code, said) = exit_code(ws, &["metrics", "nosuch"]);
    assert_eq!(code, 2, "{said}");
    assert!(said.contains("pipeline `nosuch` has not run with the cache"), "{said}");
}

fn out_prints_the_output_folder_of_a_stage_s_latest_result(ws: &Workspace) {
    let data = ok(ws, &["out", "study", "data"]);
    assert_eq!(std::path::PathBuf::from(data.trim()), ws.output_of("study", "data").join("out"));
    let instance = "evaluate[loss=focal,hidden=16,seed=1]";
    let evaluation = ok(ws, &["out", "study.yaml", instance]);
    let folder = std::path::PathBuf::from(evaluation.trim());
    assert_eq!(folder, ws.output_of("study", instance).join("out"));
    assert!(folder.join("predictions.csv").is_file());
    for (args, says) in [
        (
            &["out", "study", "evaluate"][..],
            "stage `evaluate` of `study` has 12 instances; name one: evaluate[loss=bce,hidden=16,seed=0], ",
        ),
        (
            &["out", "study", "nosuch"],
            "pipeline `study` has no stage `nosuch` (its stages: data, model, loss (2 instances), train (12 instances), evaluate (12 instances), cam (4 instances))",
        ),
        (&["out", "nosuch", "data"], "pipeline `nosuch` has not run with the cache"),
    ] {
        let (code, said) = exit_code(ws, args);
        assert_eq!(code, 2, "{args:?}: {said}");
        assert!(said.contains(says), "{args:?}: {said}");
    }
}

const VARIANTS: [&str; 4] =
    ["loss=bce,hidden=16", "loss=bce,hidden=32", "loss=focal,hidden=16", "loss=focal,hidden=32"];

fn the_report_is_one_self_contained_page(ws: &Workspace) {
    let said = ok(ws, &["report", "--out", "report.html"]);
    assert!(said.starts_with("report.html ("), "{said}");
    let html = std::fs::read_to_string(ws.path("report.html")).unwrap();
    // Nothing from elsewhere: no URL, every src and href internal or data:.
    assert!(!html.contains("http://") && !html.contains("https://"), "a URL in the page");
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let target = &html[at + attribute.len()..];
            assert!(target.starts_with('#') || target.starts_with("data:"), "{}", &target[..40]);
        }
    }
    assert_eq!(html.matches("<script").count(), 1);
    for section in [
        "summary",
        "comparison",
        "per-class",
        "curves",
        "confusion",
        "gradcam",
        "graph",
        "provenance",
    ] {
        assert!(html.contains(&format!("<section id=\"{section}\">")), "no {section} section");
    }
    for variant in VARIANTS {
        assert!(html.contains(variant), "{variant} missing");
    }
    assert!(html.contains("<span class=\"badge\">baseline</span>"));
    assert!(html.contains("p-values adjusted (Holm)"), "the statistics named");
    assert_eq!(html.matches("<svg class=\"plot\"").count(), 2, "macro-F1 and loss curves");
    assert!(html.contains("cam[loss=focal,hidden=32,seed=0]"), "each gradcam stage");
    assert!(html.matches("<img src=\"data:image/png;base64,").count() >= 4, "overlays inline");
    assert_eq!(html.matches("<g class=\"node ").count(), 32, "every stage in the graph");
    // Provenance: keys, parameters, and the environment of the run that computed them.
    let key = ws.ref_key("study", "train[loss=bce,hidden=16,seed=0]");
    assert!(html.contains(&key), "the training's key");
    assert!(html.contains("<span class=\"k\">head_hidden</span> 16"), "its parameters");
    assert!(html.contains("<td>0.1.0</td>") && html.contains("cpu"), "the environment");
    if let Some(commit) = option_env!("ABLATE_COMMIT") {
        assert!(html.contains(commit), "ablate's commit");
    }
    let (code, said) = exit_code(ws, &["report", "--ci", "1.5"]);
    assert_eq!(code, 2, "{said}");
}

/// Per variant of the confusion table: its name and, per label, TP, FP, FN and TN.
fn confusion_rows(html: &str) -> Vec<(String, Vec<[u64; 4]>)> {
    count_rows(confusion_section(html))
}

fn confusion_section(html: &str) -> &str {
    let start = html.find("<section id=\"confusion\">").unwrap();
    &html[start..start + html[start..].find("</section>").unwrap()]
}

/// Per row of the confusion tables in `part` of the page: its variant and, per label, TP, FP,
/// FN and TN.
fn count_rows(part: &str) -> Vec<(String, Vec<[u64; 4]>)> {
    part.split("<tr title=\"")
        .skip(1)
        .map(|row| {
            let variant = row[..row.find('"').unwrap()].to_string();
            let counts: Vec<u64> = row
                .split("<td class=\"num ")
                .skip(1)
                .filter(|cell| ["tp", "err", "tn"].iter().any(|c| cell.starts_with(c)))
                .map(|cell| {
                    let value = &cell[cell.find("data-v=\"").unwrap() + 8..];
                    value[..value.find('"').unwrap()].parse().unwrap()
                })
                .collect();
            (variant, counts.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect())
        })
        .collect()
}

fn confusion_counts_are_recounted_from_the_predictions(ws: &Workspace) {
    // All seeds: every label of every variant counts the 16 test images of 3 seeds.
    let html = std::fs::read_to_string(ws.path("report.html")).unwrap();
    let rows = confusion_rows(&html);
    assert_eq!(rows.len(), 4, "{rows:?}");
    for (variant, labels) in &rows {
        assert_eq!(labels.len(), 3, "{variant}: D, G, A");
        assert!(labels.iter().all(|c| c.iter().sum::<u64>() == 3 * 16), "{variant}: {labels:?}");
    }
    // One seed: the counts give the precision and recall `evaluate` stored.
    ok(ws, &["report", "--where", "seed=0", "--out", "seed0.html"]);
    let html = std::fs::read_to_string(ws.path("seed0.html")).unwrap();
    let stored: Vec<serde_json::Value> = serde_json::from_str(&ok(
        ws,
        &["compare", "--where", "seed=0", "--metric", "precision,recall", "--format", "json"],
    ))
    .unwrap();
    for (variant, labels) in confusion_rows(&html) {
        let row = stored.iter().find(|r| r["variant"] == variant.as_str()).unwrap();
        for (label, [tp, fp, fn_, tn]) in ["D", "G", "A"].iter().zip(labels) {
            assert_eq!(tp + fp + fn_ + tn, 16, "{variant} {label}");
            let value = |metric: &str| {
                row["metrics"][format!("offsite_test.{metric}[{label}]")]["mean"].as_f64().unwrap()
            };
            let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            assert!((ratio(tp, tp + fp) - value("precision")).abs() < 1e-9, "{variant} {label}");
            assert!((ratio(tp, tp + fn_) - value("recall")).abs() < 1e-9, "{variant} {label}");
        }
    }
}

/// Renders `page` with headless Chromium into a 1400 × 3000 screenshot; `None` without
/// Chromium (unless `ABLATE_REQUIRE_CHROMIUM=1`).
fn screenshot(ws: &Workspace, page: &str, png: &str) -> Option<image::RgbImage> {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", ws.path(page).display());
    let output = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--screenshot={}", ws.path(png).display()),
            "--window-size=1400,3000",
            &url,
        ])
        .output();
    let Ok(output) = output else {
        assert!(
            std::env::var("ABLATE_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "ABLATE_REQUIRE_CHROMIUM=1 but `chromium` cannot be started (scripts/ci/install-chromium.sh installs it)"
        );
        eprintln!(
            "skipped: no `chromium` here to render the report (Debian: apt-get install chromium)"
        );
        return None;
    };
    assert!(output.status.success(), "chromium failed: {}", text(&output));
    Some(image::open(ws.path(png)).expect("chromium wrote a PNG").to_rgb8())
}

/// Whether a screenshot shows a page with content: not nearly all white, many colours.
fn shows_content(shot: &image::RgbImage) -> Result<(), String> {
    let pixels = shot.pixels().count();
    let white = shot.pixels().filter(|p| p.0.iter().all(|&c| c > 245)).count();
    let colours: std::collections::HashSet<[u8; 3]> = shot.pixels().map(|p| p.0).collect();
    let inked = 1.0 - white as f64 / pixels as f64;
    if colours.len() < 500 || inked < 0.05 {
        return Err(format!("{} colours, {:.1}% not white", colours.len(), inked * 100.0));
    }
    Ok(())
}

fn the_report_renders_in_chromium(ws: &Workspace) {
    let Some(shot) = screenshot(ws, "report.html", "report.png") else { return };
    assert_eq!(shot.dimensions(), (1400, 3000));
    shows_content(&shot).expect("the report renders with content");
    // The check fails on an empty page, and on a page whose styles and charts are broken.
    ws.write("empty.html", "");
    let empty = screenshot(ws, "empty.html", "empty.png").unwrap();
    assert!(shows_content(&empty).is_err(), "an empty page passed");
    ws.write("broken.html", "<html><body><p>error: no report</p></body></html>");
    let broken = screenshot(ws, "broken.html", "broken.png").unwrap();
    assert!(shows_content(&broken).is_err(), "a broken page passed");
}

/// `--interval bootstrap`: every re-scored mean and Δ with the bootstrap's interval and the
/// t-interval beneath it, and a sentence on each under the table.
fn the_bootstrap_s_report_shows_both_intervals(ws: &Workspace) {
    ok(ws, &["report", "--interval", "bootstrap", "--bootstrap", "200", "--out", "boot.html"]);
    let html = std::fs::read_to_string(ws.path("boot.html")).unwrap();
    assert!(html.matches("<span class=\"ci t\">t ").count() >= 12, "a t-interval per mean");
    assert!(
        html.contains("First, the 95% percentile interval of the mean over seeds and test images")
            && html.contains("(B = 200 replicates, seed 0)"),
        "the bootstrap's sentence"
    );
    assert!(html.contains("Second, marked t, the 95% confidence interval of the mean over seeds"));
    if let Some(shot) = screenshot(ws, "boot.html", "boot.png") {
        shows_content(&shot).expect("the bootstrap's report renders with content");
    }
}

/// Two evaluation stages that measure a split of the same name on two datasets: the report
/// keeps them apart, headed by stage as `compare` names their columns, in the heat maps and in
/// the confusion counts (which would otherwise sum the two datasets' images).
#[test]
fn same_named_splits_of_two_evaluations_are_never_pooled() {
    let ws = Workspace::new();
    ws.write(
        "two.yaml",
        r#"
name: two
stages:
  near: {kind: synthetic, params: {size: 32, train: 32, val: 16, offsite_test: 16, onsite_test: 8}}
  far: {kind: synthetic, params: {size: 32, train: 8, val: 8, offsite_test: 8, onsite_test: 8, seed: 7}}
  model: {kind: backbone, params: {arch: resnet18}}
  train: {kind: train, inputs: {data: near, model: model}, params: {epochs: 1, batch_size: 16, head_hidden: 8}}
  here: {kind: evaluate, inputs: {model: train, data: near}}
  there: {kind: evaluate, inputs: {model: train, data: far}}
"#,
    );
    ws.run("two.yaml", &[]);
    ok(&ws, &["report", "two", "--out", "two.html"]);
    let html = std::fs::read_to_string(ws.path("two.html")).unwrap();
    for stage in ["here", "there"] {
        let title = format!("{stage}:offsite_test: F1 per label");
        assert!(html.contains(&title), "no heat map {title}");
    }
    let section = confusion_section(&html);
    let table = |heading: &str| {
        let at = section
            .find(&format!("<h3><code>{heading}</code></h3>"))
            .unwrap_or_else(|| panic!("no confusion table {heading}"));
        let rest = &section[at..];
        count_rows(&rest[..rest.find("</table>").unwrap()])
    };
    for (heading, images) in [("here:offsite_test", 16), ("there:offsite_test", 8)] {
        let rows = table(heading);
        assert_eq!(rows.len(), 1, "{heading}: {rows:?}");
        assert!(rows[0].1.iter().all(|c| c.iter().sum::<u64>() == images), "{heading}: {rows:?}");
    }
}

/// A training split named otherwise than `train` (here `fit`, from a folder of the user's) is
/// still the training split: its per-epoch loss is drawn as the training loss by `plot` and the
/// report, and its validation macro-F1 as validation.
#[test]
fn a_training_split_of_any_name_gets_its_loss_curves() {
    let ws = Workspace::new();
    common::write_odir_folder(&ws.path("odir"), &["fit", "holdout", "offsite_test"], 6);
    ws.write(
        "fit.yaml",
        r#"
name: fit
grid: {factors: {hidden: [8, 16]}, baseline: {hidden: 8}}
stages:
  data: {kind: load, params: {root: odir, size: 16, splits: [fit, holdout, offsite_test]}}
  model: {kind: backbone, params: {arch: resnet18}}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 2, batch_size: 4, head_hidden: "${hidden}", train_split: fit, val_split: holdout}
  evaluate: {kind: evaluate, inputs: {model: train, data: data}}
"#,
    );
    ws.run("fit.yaml", &[]);

    ok(&ws, &["report", "fit", "--out", "fit.html"]);
    let html = std::fs::read_to_string(ws.path("fit.html")).unwrap();
    for chart in ["Validation macro-F1", "Training loss"] {
        assert!(html.contains(&format!("<figcaption>{chart}</figcaption>")), "no chart {chart}");
    }

    ok(&ws, &["plot", "fit", "--out", "plots"]);
    let curves = image::open(ws.path("plots/curves.png")).unwrap().to_rgb8();
    // The first variant's colour, in each half of the picture: validation left, loss right.
    let first = image::Rgb([31, 119, 180]);
    let half = curves.width() / 2;
    let drawn = |x_range: std::ops::Range<u32>| {
        curves.enumerate_pixels().filter(|(x, _, p)| x_range.contains(x) && **p == first).count()
    };
    assert!(drawn(0..half) > 50, "no validation curve");
    assert!(drawn(half..curves.width()) > 50, "no training-loss curve");
}

/// A run records the git state of the pipeline's folder (commit, dirty, the digest of the
/// diff), and the report's provenance names it: which version of the user's files ran.
#[test]
fn a_run_records_the_git_state_of_the_pipeline_folder() {
    let ws = Workspace::new();
    let pipeline = "name: src\nstages:\n  a:\n    kind: command\n    params: {run: [sh, \"${pipeline_dir}/a.sh\"], deps: [\"${pipeline_dir}/a.sh\"]}\n";
    let script = |value: &str| {
        format!(
            "echo '{{\"metric\": \"macro_f1\", \"value\": {value}}}' > \"$ABLATE_OUT/metrics.jsonl\"\n"
        )
    };
    ws.write("repo/p.yaml", pipeline);
    ws.write("repo/a.sh", &script("0.5"));
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(["-C", ws.path("repo").to_str().unwrap()])
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {}", text(&output));
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let commit = git(&["rev-parse", "HEAD"]);
    // The source recorded by the run whose record is new since `seen`.
    let source_of_new_run = |seen: &mut Vec<std::path::PathBuf>| {
        let records = std::fs::read_dir(ws.path("cache/runs")).unwrap().flatten().map(|e| e.path());
        let new: Vec<_> = records
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter(|p| !seen.contains(p))
            .collect();
        assert_eq!(new.len(), 1, "{new:?}");
        seen.push(new[0].clone());
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&new[0]).unwrap()).unwrap();
        record["environment"]["pipeline_source"].clone()
    };
    let mut seen = Vec::new();
    ws.run("repo/p.yaml", &[]);
    let clean = source_of_new_run(&mut seen);
    assert_eq!(clean["commit"], commit.as_str());
    assert_eq!(clean["dirty"], false, "{clean}");
    assert!(clean.get("diff").is_none(), "{clean}");

    ws.write("repo/a.sh", &script("0.6"));
    ws.run("repo/p.yaml", &[]);
    let dirty = source_of_new_run(&mut seen);
    assert_eq!((&dirty["commit"], &dirty["dirty"]), (&clean["commit"], &true.into()), "{dirty}");
    assert_eq!(dirty["diff"].as_str().map(str::len), Some(64), "the diff's digest: {dirty}");

    ok(&ws, &["report", "src", "--stage", "a", "--out", "r.html"]);
    let html = std::fs::read_to_string(ws.path("r.html")).unwrap();
    let shown = format!("git {} + uncommitted changes (diff ", &commit[..12]);
    assert!(html.contains(&shown), "the provenance names the source: {html}");
}
