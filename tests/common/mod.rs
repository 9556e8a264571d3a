//! Helpers for tests that drive the `ablate` binary in a scratch folder with its own cache.
#![allow(dead_code, unreachable_pub)]
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ablate"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("ABLATE_CACHE", self.path("cache"))
            .env("ABLATE_TORCH_WORKER", env!("CARGO_BIN_EXE_ablate-torch"));
        command
    }

    pub fn ablate(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("ablate runs")
    }

    /// Runs a pipeline that must succeed; returns the stages that executed (not cached).
    pub fn run(&self, pipeline: &str, sets: &[&str]) -> Vec<String> {
        let output = self.ablate(&with_sets(&["run", pipeline, "--device", "cpu"], sets));
        assert!(output.status.success(), "run failed:\n{}", text(&output));
        self.last_run_ran()
    }

    pub fn plan(&self, pipeline: &str, sets: &[&str]) -> Vec<Value> {
        let output =
            self.ablate(&with_sets(&["plan", pipeline, "--json", "--device", "cpu"], sets));
        assert!(output.status.success(), "plan failed:\n{}", text(&output));
        serde_json::from_slice::<Vec<Value>>(&output.stdout).expect("plan prints JSON")
    }

    /// Stages that executed in the most recent run, from the store's run records.
    pub fn last_run_ran(&self) -> Vec<String> {
        let mut runs: Vec<(std::time::SystemTime, PathBuf)> =
            std::fs::read_dir(self.path("cache/runs"))
                .unwrap()
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
                .collect();
        runs.sort();
        let report: Value =
            serde_json::from_slice(&std::fs::read(&runs.last().unwrap().1).unwrap()).unwrap();
        let mut ran: Vec<String> = report["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|pair| pair[1]["status"] == "ran")
            .map(|pair| pair[0].as_str().unwrap().to_string())
            .collect();
        ran.sort();
        ran
    }

    /// Published results in the store.
    pub fn entries(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.path("cache/entries")) {
            Ok(dir) => dir.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The published output folder of `stage` in the last run of `pipeline_name`.
    pub fn output_of(&self, pipeline_name: &str, stage: &str) -> PathBuf {
        self.path(&format!("cache/entries/{}", self.ref_key(pipeline_name, stage)))
    }

    /// The key `stage`'s ref in `pipeline_name` names.
    pub fn ref_key(&self, pipeline_name: &str, stage: &str) -> String {
        let text = std::fs::read_to_string(self.ref_path(pipeline_name, stage)).unwrap();
        let entry: Value = serde_json::from_str(&text).expect("a ref is JSON");
        entry["key"].as_str().expect("a ref names a key").to_string()
    }

    /// Where the cache keeps the key of `stage`'s last result in `pipeline_name`.
    pub fn ref_path(&self, pipeline_name: &str, stage: &str) -> PathBuf {
        let file = ablate_core::names::file_name;
        self.path(&format!("cache/refs/{}/{}", file(pipeline_name), file(stage)))
    }
}

fn with_sets<'a>(base: &[&'a str], sets: &[&'a str]) -> Vec<&'a str> {
    let mut args = base.to_vec();
    for set in sets {
        args.push("--set");
        args.push(set);
    }
    args
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn names(plan: &[Value], status: &str) -> Vec<String> {
    let mut names: Vec<String> = plan
        .iter()
        .filter(|s| s["status"] == status)
        .map(|s| s["stage"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

pub fn stage<'a>(plan: &'a [Value], name: &str) -> &'a Value {
    plan.iter().find(|s| s["stage"] == name).unwrap()
}

/// A tiny synthetic pipeline: 32 px images, one short epoch.
pub const TINY: &str = r#"
name: tiny
vars: {size: 32}
stages:
  data:
    kind: synthetic
    params: {size: "${size}", train: 48, val: 16, offsite_test: 16, onsite_test: 8}
  model:
    kind: backbone
    params: {arch: resnet18}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: 1, batch_size: 16, lr: 0.001, head_hidden: 32}
  evaluate:
    kind: evaluate
    inputs: {model: train, data: data}
  export:
    kind: export
    inputs: {model: train, data: data}
"#;

/// Writes a small ODIR-style folder: `n` PNG images per split with labels cycling through D/G/A.
pub fn write_odir_folder(root: &Path, splits: &[&str], n: usize) {
    for split in splits {
        let images = root.join("images").join(split);
        std::fs::create_dir_all(&images).unwrap();
        let mut csv = String::from("id,D,G,A\n");
        for i in 0..n {
            let id = format!("{i}_left.png");
            let image = image::RgbImage::from_fn(20, 20, |x, y| {
                image::Rgb([(x * 12) as u8, (y * 12) as u8, (i * 40) as u8])
            });
            image.save(images.join(&id)).unwrap();
            let labels = [i % 3 == 0, i % 3 == 1, i % 3 == 2].map(|b| if b { "1" } else { "0" });
            csv.push_str(&format!("{id},{}\n", labels.join(",")));
        }
        std::fs::write(root.join(format!("{split}.csv")), csv).unwrap();
    }
}
