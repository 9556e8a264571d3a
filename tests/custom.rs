//! Bring your own code, end to end: `pipelines/custom.yaml`, where a PyTorch script run as a
//! `command` stage trains beside the native `train` on the native dataset, and the native
//! stages read the model it writes; a model ablate does not know is scored from its
//! predictions by `score`, beside both. Needs numpy and safetensors in `.deps/python-io`
//! (`scripts/install-python-io.sh`; `make test` installs them); without them the tests say so
//! and pass, unless ABLATE_REQUIRE_PYTHON_IO is set (CI sets it).
mod common;

use std::path::Path;

use common::{Workspace, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Whether the script's Python packages are installed; if not, says why the test is skipped.
fn python_io() -> bool {
    let pythonpath = format!("{ROOT}/.deps/python-io:{ROOT}/.deps/libtorch-2.11.0");
    let found = std::process::Command::new("python3")
        .args(["-c", "import numpy, safetensors, torch"])
        .env("PYTHONPATH", &pythonpath)
        .output();
    let why = match found {
        Ok(output) if output.status.success() => return true,
        Ok(output) => format!("numpy, safetensors or torch is missing: {}", text(&output).trim()),
        Err(error) => format!("python3 cannot run: {error}"),
    };
    assert!(
        std::env::var_os("ABLATE_REQUIRE_PYTHON_IO").is_none(),
        "ABLATE_REQUIRE_PYTHON_IO is set, but {why}"
    );
    eprintln!("skipped: {why}; scripts/install-python-io.sh installs them");
    false
}

#[test]
fn the_custom_pipeline_compares_a_python_training_with_a_native_one() {
    if !python_io() {
        return;
    }
    let ws = Workspace::new();
    let pipeline = Path::new(ROOT).join("pipelines/custom.yaml");
    let pipeline = pipeline.to_str().unwrap();
    let ran = ws.run(pipeline, &["epochs=1"]);
    let expected = [
        "data",
        "evaluate[trainer=native]",
        "evaluate[trainer=python]",
        "fit",
        "model",
        "own",
        "score[trainer=native]",
        "score[trainer=own]",
        "score[trainer=python]",
        "train",
    ];
    assert_eq!(ran, expected);
    let compare = ws.ablate(&["compare", "custom", "--stage", "score", "--format", "csv"]);
    let table = text(&compare);
    assert!(compare.status.success(), "{table}");
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("custom,trainer=")).collect();
    assert_eq!(rows.len(), 3, "one row per trainer, the model ablate does not know too:\n{table}");
    assert!(table.lines().next().unwrap().contains("offsite_test.macro_auroc"), "{table}");
    let fit =
        ablate_core::metrics::read_parquet(&ws.output_of("custom", "fit").join("metrics.parquet"))
            .unwrap();
    assert!(fit.iter().any(|m| m.row.metric == "macro_f1" && m.row.epoch == Some(1)), "{fit:?}");
    assert!(ws.run(pipeline, &["epochs=1"]).is_empty(), "a second run executes nothing");
    let plot = ws.ablate(&["plot", "custom", "--out", "plots"]);
    assert!(plot.status.success(), "{}", text(&plot));
    assert!(ws.path("plots/curves.png").is_file());
}

#[test]
fn export_and_gradcam_read_the_model_a_script_writes() {
    if !python_io() {
        return;
    }
    let ws = Workspace::new();
    let pipeline = std::fs::read_to_string(Path::new(ROOT).join("pipelines/custom.yaml")).unwrap();
    let (head, _) = pipeline.split_once("grid:").unwrap();
    let head = head.replace("name: custom", "name: byo").replace("${pipeline_dir}/..", ROOT);
    let stages = format!(
        "{head}stages:\n  data:\n    kind: synthetic\n    params: {{size: 32, train: 32, val: 16, offsite_test: 16, onsite_test: 8}}\n  fit:\n    kind: command\n    inputs: {{data: data}}\n    params:\n      run: [python3, \"{ROOT}/pipelines/scripts/fit.py\"]\n      vars: {{epochs: 1, batch_size: 16, lr: 0.001, seed: 0, head_hidden: 8}}\n      env: {{PYTHONPATH: \"${{python}}:{ROOT}/scripts\"}}\n  export: {{kind: export, inputs: {{model: fit, data: data}}}}\n  gradcam: {{kind: gradcam, inputs: {{model: fit, data: data}}, params: {{count: 2, classes: all}}}}\n"
    );
    ws.write("p.yaml", &stages);
    assert_eq!(ws.run("p.yaml", &[]), ["data", "export", "fit", "gradcam"]);
    let csv = std::fs::read_to_string(ws.output_of("byo", "export").join("out/submission.csv"));
    assert_eq!(csv.unwrap().lines().count(), 9, "a header and 8 rows");
    assert!(ws.output_of("byo", "gradcam").join("out/maps.safetensors").is_file());
}
