//! `ablate compare` over 1,000 stored metric files: a 10 × 10 grid with 10 seeds, one
//! evaluation per variant (13 metric rows each, as `evaluate` writes), read through the same
//! code as the command (manifest → refs → Parquet → table). Run with `cargo bench -p ablate-results --bench compare`;
//! prints the cold (first) and warm (median of 20) times of the whole comparison.
//! `ABLATE_BENCH_KEEP=1` keeps the generated cache and prints its path, to time the binary on it.
use std::collections::BTreeMap;
use std::time::Instant;

use ablate_core::grid::Layout;
use ablate_core::manifest::{Manifest, ManifestStage, ManifestVariant};
use ablate_core::metrics::{MetricRow, MetricSource, write_parquet};
use ablate_core::store::{RefEntry, Store};
use ablate_results::collect::{Selection, Stages, collect};
use ablate_results::compare::{Options, compare};
use ablate_results::format::{Format, render};

const LEVELS: usize = 10;
const SEEDS: usize = 10;

fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path())?;
    let started = Instant::now();
    let files = populate(&store)?;
    println!("wrote {files} metric files in {:.2}s", started.elapsed().as_secs_f64());

    let run = || -> anyhow::Result<usize> {
        let collected = collect(
            &store,
            &Selection { pipelines: &[], stages: Stages::Evaluations, stale: false },
        )?;
        let comparison = compare(&collected, &Options::default())?;
        Ok(render(&comparison, Format::Table, None)?.len())
    };
    let cold = Instant::now();
    run()?;
    let cold = cold.elapsed().as_secs_f64();
    let mut warm: Vec<f64> = (0..20)
        .map(|_| {
            let t = Instant::now();
            run().expect("compare runs");
            t.elapsed().as_secs_f64()
        })
        .collect();
    warm.sort_by(f64::total_cmp);
    println!(
        "compare over {files} metric files: first {:.1} ms, median {:.1} ms, best {:.1} ms",
        cold * 1e3,
        warm[10] * 1e3,
        warm[0] * 1e3
    );
    if std::env::var_os("ABLATE_BENCH_KEEP").is_some() {
        println!("cache kept at {}", dir.keep().display());
    }
    Ok(())
}

/// One pipeline `bench` with factors a × b and seeds, each variant with its own evaluation.
fn populate(store: &Store) -> anyhow::Result<usize> {
    let level_names: Vec<String> = (0..LEVELS).map(|i| format!("l{i}")).collect();
    let seeds: Vec<String> = (0..SEEDS).map(|s| s.to_string()).collect();
    let mut stages = Vec::new();
    let mut variants = Vec::new();
    for a in &level_names {
        for b in &level_names {
            for seed in &seeds {
                let instance = format!("evaluate[a={a},b={b},seed={seed}]");
                let key = blake3::hash(instance.as_bytes()).to_hex().to_string();
                let entry = store.entries_dir().join(&key);
                std::fs::create_dir_all(&entry)?;
                let value = (a.len() + b.len()) as f64 / 10.0 + seed.parse::<f64>()? / 100.0;
                let mut rows = vec![MetricRow::new("macro_f1", value).split("offsite_test")];
                for class in ["D", "G", "A"] {
                    for metric in ["precision", "recall", "f1", "tuned_f1"] {
                        rows.push(MetricRow::new(metric, value).split("offsite_test").class(class));
                    }
                }
                let source = MetricSource {
                    pipeline: "bench",
                    stage: &instance,
                    stage_key: &key,
                    timestamp_micros: 0,
                };
                write_parquet(&entry.join("metrics.parquet"), &source, &rows)?;
                let entry = RefEntry {
                    key: key.clone().into(),
                    definition: None,
                    written: 0,
                    overrides: Vec::new(),
                };
                store.write_ref("bench", &instance, &entry)?;
                stages.push(ManifestStage {
                    instance: instance.clone(),
                    template: "evaluate".into(),
                    kind: "evaluate".into(),
                });
                let levels = vec![
                    ("a".into(), a.clone()),
                    ("b".into(), b.clone()),
                    ("seed".into(), seed.clone()),
                ];
                variants.push(ManifestVariant {
                    levels: levels.into(),
                    stages: BTreeMap::from([("evaluate".to_string(), instance)]),
                });
            }
        }
    }
    let layout = Layout {
        factors: vec![
            ("a".into(), level_names.clone()),
            ("b".into(), level_names),
            ("seed".into(), seeds),
        ],
        baseline: Some(vec![("a".into(), "l0".into()), ("b".into(), "l0".into())].into()),
    };
    let files = stages.len();
    store.write_manifest(&Manifest {
        pipeline: "bench".into(),
        file: "bench.yaml".into(),
        file_digest: String::new(),
        overrides: Vec::new(),
        extra_seeds: Default::default(),
        written: 0,
        layout: Some(layout),
        stages,
        variants,
        definitions: BTreeMap::new(),
    })?;
    Ok(files)
}
