//! `ablate report`: one self-contained HTML page about an ablation grid.
//!
//! The page is rendered from a [`Report`], plain serialisable data that the caller fills from the
//! store (manifests, refs, `metrics.parquet`, run records); nothing here reads files or the
//! network. Everything the page needs is inline: the stylesheet (`style.css`), a small sorting
//! script (`sort.js`), charts as SVG (`crate::chart`), the stage graph laid out here
//! (`graph.rs`) and GradCAM overlays as base64 `data:` URIs. Every text is HTML-escaped.
//!
//! Sections, in order: header and summary, comparison table, per-class F1 heat map, learning
//! curves, confusion counts, GradCAM gallery, stage graph, provenance. An empty section says so.
//!
//! Variants are referred to across sections by [`Comparison::row_name`], the display name of a
//! row of the comparison table (e.g. `model=resnet18,loss=focal`); colours follow the rows'
//! order.
use ablate_core::fingerprint::StageKey;
use ablate_core::run_record::Environment as RunEnvironment;
use serde::{Deserialize, Serialize};

mod figures;
mod graph;
mod html;
mod summary;
mod tables;
#[cfg(test)]
mod tests;

/// Everything the report shows. Sections whose data is empty render a sentence saying so; in
/// JSON every field may be left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// Page title, e.g. `paper: transfer learning for retinal disease`.
    pub title: String,
    /// When the report was generated, as the page should show it (RFC 3339 recommended).
    pub generated_at: String,
    /// The generating program, e.g. `ablate 0.9.0 (3f2a1c7)`; empty to leave out.
    pub generator: String,
    /// The pipelines the report covers.
    pub pipelines: Vec<Pipeline>,
    /// The comparison table: one row per variant, seeds pooled.
    pub comparison: Comparison,
    /// Per-class F1 heat maps (usually one per evaluation split).
    pub heat_maps: Vec<HeatMap>,
    /// Learning curves, one chart each (usually validation macro-F1 and training loss).
    pub curves: Vec<CurveSet>,
    /// Confusion counts per variant and evaluation split.
    pub confusion: Vec<Confusion>,
    /// GradCAM overlays, one entry per `gradcam` stage instance.
    pub gradcam: Vec<GradcamStage>,
    /// The stage graph of the (merged) pipeline.
    pub graph: Graph,
    /// Per variant: the stage instances it used and where they ran.
    pub provenance: Vec<Provenance>,
}

/// A pipeline file the results come from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pipeline {
    /// The pipeline's name (`name:` in the YAML, else the file's stem).
    pub name: String,
    /// The file as given on the command line or recorded in the manifest.
    pub file: String,
    /// Content digest of the file (hex blake3); shown shortened, in full on hover.
    pub digest: String,
}

/// The comparison table, as `ablate compare` computes it: its columns, rows and cells with
/// their statistics against the baseline.
pub use crate::compare::{Column, Comparison, Row};
/// One metric of one variant, seeds pooled, and its comparison with the baseline: the cell of
/// `ablate compare`.
pub use crate::significance::Cell;

/// A heat map of one per-class metric: variants × labels.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeatMap {
    /// Caption, e.g. `offsite_test: F1 per class (mean over seeds)`.
    pub title: String,
    /// Class labels, the columns.
    pub labels: Vec<String>,
    pub rows: Vec<HeatRow>,
    /// Colour scale `[low, high]`; `None`: the values' range, rounded out to 0.05.
    pub domain: Option<(f64, f64)>,
}

/// One variant's values in a [`HeatMap`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeatRow {
    /// A row name ([`Comparison::row_name`]).
    pub variant: String,
    /// One per label: mean over seeds; `None` where missing.
    pub means: Vec<Option<f64>>,
    /// One per label (or empty): standard deviation over seeds, printed under the mean.
    pub stds: Vec<Option<f64>>,
}

/// One chart of learning curves: a per-epoch metric for every variant and seed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CurveSet {
    /// Chart title, e.g. `Validation macro-F1`.
    pub title: String,
    /// Y axis label with unit, e.g. `macro-F1 (0–1)`, `BCE loss per sample`.
    pub y_label: String,
    /// X axis label, normally `epoch`.
    pub x_label: String,
    pub variants: Vec<VariantCurves>,
}

/// One variant's curves: one series per seed; the chart draws their mean and min–max band.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VariantCurves {
    /// A row name ([`Comparison::row_name`]).
    pub variant: String,
    pub seeds: Vec<SeedCurve>,
}

/// One seed's series of `(epoch, value)`, epochs ascending (1-based as `ablate` reports them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeedCurve {
    pub seed: String,
    pub points: Vec<(f64, f64)>,
}

/// Confusion counts of one variant on one split, per label, summed over the variant's seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Confusion {
    /// A row name ([`Comparison::row_name`]).
    pub variant: String,
    /// The evaluation split, e.g. `offsite_test`; `stage:split` where two evaluation stages
    /// measured splits of this name.
    pub split: String,
    /// How many seeds' results are summed (distinct results, as [`Row::n`]).
    pub seeds: usize,
    /// The decision thresholds the counts use, described: `0.5`, or `tuned on validation`.
    pub threshold: String,
    pub labels: Vec<LabelCounts>,
}

/// True/false positives/negatives of one label (one-vs-rest, multi-label).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LabelCounts {
    pub label: String,
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub tn: u64,
}

/// The overlays of one `gradcam` stage instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GradcamStage {
    /// Stage instance name, e.g. `gradcam[model=resnet18,seed=0]`.
    pub instance: String,
    /// The row name ([`Comparison::row_name`]) it belongs to, when one.
    pub variant: Option<String>,
    /// The split the images come from.
    pub split: String,
    /// Threshold of the prediction shown beside the probability.
    pub threshold: f64,
    pub overlays: Vec<Overlay>,
}

/// One overlay: a class-specific GradCAM map over an image (`overlays/<image>_<label>.png`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Overlay {
    pub image_id: String,
    pub label: String,
    /// The model's probability of `label` for this image.
    pub probability: f64,
    /// Ground truth of `label` for this image.
    pub truth: bool,
    /// The PNG file's bytes, embedded as a `data:image/png;base64,` URI.
    pub png: Vec<u8>,
}

/// The stage graph: instances and their input edges.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// A stage instance in the graph.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Node {
    /// Instance name, unique, e.g. `train[model=resnet18,loss=focal,seed=1]`.
    pub name: String,
    /// Stage kind, e.g. `train`.
    pub kind: String,
    pub status: Status,
}

/// What happened to a stage in the latest run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Computed in the latest run.
    Ran,
    /// Reused from the cache.
    Cached,
    /// Failed.
    Failed,
    /// Not run because an upstream stage failed.
    Blocked,
    /// Never run / unknown.
    #[default]
    Pending,
}

/// An input edge: `from` feeds `to` (as input `role`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    /// Input role, e.g. `model`, `data`; shown on hover.
    pub role: Option<String>,
}

/// Where one variant's results come from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// A row name ([`Comparison::row_name`]).
    pub variant: String,
    /// Every stage instance any of its seeds used, upstream first.
    pub stages: Vec<StageProvenance>,
    /// The distinct environments its results were computed in (usually one).
    pub environments: Vec<Environment>,
}

/// One stage instance used by a variant.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StageProvenance {
    pub instance: String,
    pub kind: String,
    /// The result's cache key (hex); shown shortened, in full on hover.
    pub key: StageKey,
    /// Canonical parameters (defaults filled in), a JSON object.
    pub params: serde_json::Value,
}

/// The build and machine results were computed on (`None` where not recorded), and when.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    #[serde(flatten)]
    pub run: RunEnvironment,
    /// When the results were computed.
    pub when: Option<String>,
}

impl Default for Confusion {
    /// Threshold 0.5.
    fn default() -> Confusion {
        Confusion {
            variant: String::new(),
            split: String::new(),
            seeds: 0,
            threshold: "0.5".into(),
            labels: Vec::new(),
        }
    }
}

impl Default for GradcamStage {
    /// Threshold 0.5, `gradcam`'s default.
    fn default() -> GradcamStage {
        GradcamStage {
            instance: String::new(),
            variant: None,
            split: String::new(),
            threshold: 0.5,
            overlays: Vec::new(),
        }
    }
}

/// The report as one self-contained HTML document.
pub fn render(report: &Report) -> String {
    let palette = html::Palette::new(report);
    let mut page = String::with_capacity(1 << 16);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str(&format!("<title>{}</title>\n", html::escape(&page_title(report))));
    page.push_str("<style>\n");
    page.push_str(include_str!("style.css"));
    page.push_str(crate::chart::CSS);
    page.push_str(&figures::highlight_css(palette.len()));
    page.push_str(&graph::highlight_css(report.graph.nodes.len()));
    page.push_str("</style>\n</head>\n<body>\n<main>\n");
    page.push_str(&summary::header(report));
    page.push_str(&summary::summary(report));
    page.push_str(&tables::comparison(&report.comparison, &palette));
    page.push_str(&figures::heat_maps(&report.heat_maps, &palette));
    page.push_str(&figures::curves(&report.curves, &palette));
    page.push_str(&tables::confusion(&report.confusion, &report.comparison, &palette));
    page.push_str(&figures::gradcam(&report.gradcam));
    page.push_str(&graph::section(&report.graph));
    page.push_str(&tables::provenance(&report.provenance, &palette));
    page.push_str("</main>\n<script>\n");
    page.push_str(include_str!("sort.js"));
    page.push_str("</script>\n</body>\n</html>\n");
    page
}

fn page_title(report: &Report) -> String {
    if report.title.is_empty() { "Ablation report".to_string() } else { report.title.clone() }
}
