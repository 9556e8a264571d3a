//! Fills the HTML report's [`Report`] from the cache alone, as `compare` reads it: the
//! comparison (rows, cells and statistics of `ablate compare`) and its per-class heat maps,
//! learning curves from each variant's final training, confusion counts recounted from each
//! evaluation's predictions, the `gradcam` stages' overlays, the stage graph and each
//! variant's provenance. Only the variants the comparison shows appear. What cannot be read
//! (a result gone from the cache, a file of an unexpected shape) is left out with a warning.
mod confusion;
mod curves;
mod gradcam;
mod lineage;
mod table;
mod variants;

use ablate_core::clock::{format_time, unix_seconds};
use ablate_core::store::Store;
use ablate_stages::WorkerKind;

use super::collect::{Selection, StageResult, Stages, collect};
use super::compare::{self, compare_in};
use super::report::{CurveSet, Pipeline, Report};
use lineage::Lineage;
use variants::Variants;

/// How the report heads what evaluation stage `template` measured on `split`: the split,
/// prefixed with the stage (`natural:offsite_test`) where another stage of `measured` (stage,
/// split pairs) measured a split of that name, as `compare` names such columns.
fn split_heading<'a>(
    template: &str,
    split: &str,
    mut measured: impl Iterator<Item = (&'a str, &'a str)>,
) -> String {
    if measured.any(|(t, s)| s == split && t != template) {
        format!("{template}:{split}")
    } else {
        split.to_string()
    }
}

/// The learning curves of the comparison's rows from their final `trainings`, per series.
pub(crate) fn curve_sets(
    comparison: &compare::Comparison,
    trainings: &[StageResult],
) -> Vec<CurveSet> {
    curves::curves(trainings, &Variants::new(comparison))
}

/// The report of `pipelines` (names; empty: every pipeline run with the cache), comparing
/// `stages` (empty: the evaluations) with `options`, and the warnings of what was left out;
/// `generator` names the program that writes it (`ablate 0.1.0 (3f2a1c7d9e0b)`).
pub fn report(
    store: &Store,
    pipelines: &[String],
    stages: &[String],
    options: &compare::Options,
    generator: &str,
) -> anyhow::Result<(Report, Vec<String>)> {
    let snapshot =
        collect(store, &Selection { pipelines, stages: Stages::All, stale: options.stale })?;
    let comparison = compare_in(&snapshot, &Stages::Named(stages), options)?;
    let variants = Variants::new(&comparison);
    let manifests: Vec<_> = snapshot
        .manifests
        .iter()
        .filter(|m| comparison.pipelines.contains(&m.pipeline))
        .cloned()
        .collect();
    let mut warnings = Vec::new();
    let trainings = snapshot.results_of(&Stages::FinalTraining)?;
    let evaluations = snapshot.results_of(&Stages::Scored)?;
    let gradcams = snapshot.results_of(&Stages::Kind(WorkerKind::Gradcam))?;
    let lineage = Lineage::new(&manifests, &snapshot.runs, &snapshot.results);
    let report = Report {
        title: format!("Ablation report: {}", comparison.pipelines.join(", ")),
        generated_at: format!("{} UTC", format_time(unix_seconds())),
        generator: generator.to_string(),
        pipelines: manifests
            .iter()
            .map(|m| Pipeline {
                name: m.pipeline.clone(),
                file: m.file.clone(),
                digest: m.file_digest.clone(),
            })
            .collect(),
        heat_maps: table::heat_maps(&comparison, &variants),
        curves: curves::curves(&trainings, &variants),
        confusion: confusion::confusion(&evaluations, &snapshot.results, &variants, &mut warnings),
        gradcam: gradcam::gradcam(&manifests, &gradcams, &variants, &mut warnings),
        graph: lineage.graph(),
        provenance: lineage.provenance(&variants),
        comparison,
    };
    Ok((report, warnings))
}
