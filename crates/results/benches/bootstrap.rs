//! `ablate compare --interval bootstrap` on a 40-variant × 3-seed grid of evaluations of 250
//! images (5 labels), B = 2000: through the same code as the command (a snapshot of every stage
//! → the evaluations' `predictions.csv`, `scores.json` and their dataset's labels → 2000
//! replicates → the table). Run with `cargo bench -p ablate-results --bench bootstrap`; prints
//! the first and the median of 5 runs, and their CPU time (all threads), which a busy machine
//! does not inflate. `ABLATE_BENCH_KEEP=1` keeps the cache and prints its
//! path, to time the binary on it (`ablate compare --interval bootstrap --cache <path>`).
use std::collections::BTreeMap;
use std::time::Instant;

use ablate_core::fingerprint::{Fingerprint, Upstream};
use ablate_core::grid::Layout;
use ablate_core::manifest::{Manifest, ManifestStage, ManifestVariant};
use ablate_core::metrics::{MetricSource, write_parquet};
use ablate_core::store::{Record, RefEntry, Store};
use ablate_results::collect::{Selection, Stages, collect};
use ablate_results::compare::{Options, compare_in};
use ablate_results::format::{Format, render};
use ablate_results::significance::{Interval, Settings};
use ablate_stages::data::dataset::{Dataset, Split};
use ablate_stages::evaluation::evaluate;
use ablate_stages::prediction::Decision;
use ablate_stages::predictions::Predictions;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const VARIANTS: usize = 40;
const SEEDS: usize = 3;
const IMAGES: usize = 250;
const LABELS: [&str; 5] = ["D", "G", "C", "A", "H"];
const SPLIT: &str = "offsite_test";

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    populate(&store)?;
    let options = Options {
        settings: Settings { interval: Interval::Bootstrap, ..Settings::default() },
        ..Options::default()
    };
    let run = || -> anyhow::Result<usize> {
        let snapshot =
            collect(&store, &Selection { pipelines: &[], stages: Stages::All, stale: false })?;
        let comparison = compare_in(&snapshot, &Stages::Evaluations, &options)?;
        Ok(render(&comparison, Format::Table, None)?.len())
    };
    let first = Instant::now();
    run()?;
    let first = first.elapsed().as_secs_f64();
    let cpu = cpu_seconds();
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            run().expect("compare runs");
            t.elapsed().as_secs_f64()
        })
        .collect();
    let cpu = (cpu_seconds() - cpu) / 5.0;
    times.sort_by(f64::total_cmp);
    println!(
        "compare --interval bootstrap, {VARIANTS} variants × {SEEDS} seeds × {IMAGES} images, B = 2000: first {first:.2} s, median {:.2} s, best {:.2} s; {cpu:.2} s of CPU (all threads) each",
        times[2], times[0]
    );
    if std::env::var_os("ABLATE_BENCH_KEEP").is_some() {
        println!("cache kept at {}", dir.keep().display());
    }
    Ok(())
}

/// The CPU time of this process so far, user and system, all threads (Linux: /proc/self/stat).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command's closing parenthesis: state, …, utime (12th), stime (13th)
    let fields: Vec<&str> = stat.rsplit_once(") ").map_or(vec![], |(_, r)| r.split(' ').collect());
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    const TICKS_PER_SECOND: f64 = 100.0;
    (ticks(11) + ticks(12)) / TICKS_PER_SECOND
}

/// One pipeline `bench`: a dataset, and per variant and seed an evaluation of its own.
fn populate(store: &Store) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(2000);
    let ids: Vec<String> = (0..IMAGES).map(|i| format!("{i}.png")).collect();
    let prevalence = [0.108, 0.3, 0.55, 0.2, 0.15];
    let truth: Vec<u8> = (0..IMAGES * LABELS.len())
        .map(|k| u8::from(rng.random::<f64>() < prevalence[k % LABELS.len()]))
        .collect();
    let dataset = Dataset {
        label_names: LABELS.map(String::from).to_vec(),
        size: 1,
        splits: vec![Split {
            name: SPLIT.into(),
            ids: ids.clone(),
            images: vec![0; IMAGES * 3],
            labels: truth.clone(),
        }],
    };
    let data_output =
        publish(store, "data", "synthetic", BTreeMap::new(), |out| dataset.write(out))?;
    let mut stages = vec![ManifestStage {
        instance: "data".into(),
        template: "data".into(),
        kind: "synthetic".into(),
    }];
    let (mut variants, mut levels) = (Vec::new(), Vec::new());
    for v in 0..VARIANTS {
        levels.push(format!("v{v}"));
        for seed in 0..SEEDS {
            let instance = format!("evaluate[variant=v{v},seed={seed}]");
            let skill = 1.0 + v as f64 / VARIANTS as f64;
            let probabilities: Vec<f32> = truth
                .iter()
                .map(|&y| {
                    let latent = skill * f64::from(y) + rng.random::<f64>() * 2.0 - 1.0;
                    (1.0 / (1.0 + (-latent).exp())) as f32
                })
                .collect();
            let predictions = Predictions {
                labels: dataset.label_names.clone(),
                ids: ids.clone(),
                probabilities,
            };
            let evaluation =
                evaluate(&predictions, &truth, SPLIT, &[0.5; LABELS.len()], Decision::Fixed, None);
            let upstream = BTreeMap::from([(
                "data".to_string(),
                Upstream { stage: "data".into(), output: Some(data_output.clone()) },
            )]);
            publish(store, &instance, "evaluate", upstream, |out| {
                evaluation.scores.write(out)?;
                predictions.write(out)?;
                let key = blake3::hash(instance.as_bytes()).to_hex().to_string();
                let source = MetricSource {
                    pipeline: "bench",
                    stage: &instance,
                    stage_key: &key,
                    timestamp_micros: 0,
                };
                write_parquet(&out.join("../metrics.parquet"), &source, &evaluation.metrics)
            })?;
            stages.push(ManifestStage {
                instance: instance.clone(),
                template: "evaluate".into(),
                kind: "evaluate".into(),
            });
            let levels =
                vec![("variant".into(), format!("v{v}")), ("seed".into(), seed.to_string())];
            variants.push(ManifestVariant {
                levels: levels.into(),
                stages: BTreeMap::from([
                    ("data".to_string(), "data".to_string()),
                    ("evaluate".to_string(), instance),
                ]),
            });
        }
    }
    store.write_manifest(&Manifest {
        pipeline: "bench".into(),
        file: "bench.yaml".into(),
        file_digest: String::new(),
        overrides: Vec::new(),
        extra_seeds: Default::default(),
        written: 0,
        layout: Some(Layout {
            factors: vec![
                ("variant".into(), levels),
                ("seed".into(), (0..SEEDS).map(|s| s.to_string()).collect()),
            ],
            baseline: Some(vec![("variant".into(), "v0".into())].into()),
        }),
        stages,
        variants,
        definitions: BTreeMap::new(),
    })?;
    Ok(())
}

/// Writes a result of `instance` (its output through `write`, a record naming its upstream
/// outputs) and its ref; returns its output digest.
fn publish(
    store: &Store,
    instance: &str,
    kind: &str,
    upstream: BTreeMap<String, Upstream>,
    write: impl FnOnce(&std::path::Path) -> anyhow::Result<()>,
) -> anyhow::Result<String> {
    let key = blake3::hash(instance.as_bytes()).to_hex().to_string();
    let entry = store.entries_dir().join(&key);
    std::fs::create_dir_all(entry.join("out"))?;
    write(&entry.join("out"))?;
    let output = blake3::hash(format!("output of {instance}").as_bytes()).to_hex().to_string();
    let record = Record {
        key: key.clone().into(),
        pipeline: "bench".into(),
        stage: instance.into(),
        fingerprint: Fingerprint {
            kind: kind.into(),
            version: 1,
            params: Default::default(),
            upstream,
            files: BTreeMap::new(),
            commands: BTreeMap::new(),
            toolchain: BTreeMap::new(),
        },
        output: output.clone(),
        metrics: None,
        created: 0,
        seconds: 0.0,
        summary: None,
    };
    std::fs::write(entry.join("record.json"), serde_json::to_vec(&record)?)?;
    let entry = RefEntry { key: key.into(), definition: None, written: 0, overrides: Vec::new() };
    store.write_ref("bench", instance, &entry)?;
    Ok(output)
}
