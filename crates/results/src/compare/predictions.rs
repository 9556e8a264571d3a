//! The stored predictions behind a comparison's cells, for the statistics that re-score them
//! (the bootstrap, DeLong's test): per result of an `evaluate` or `score` stage, its
//! `predictions.csv` put in the order of its split's images, with the split's labels and the
//! result's decision thresholds (`scores.json`). The labels come from the dataset the result
//! read (its `data` input), found among the snapshot's results by output digest, as the report's
//! confusion counts find it. Results of the same split of the same dataset share one image set,
//! so that one draw of images serves them all.
//!
//! A result without predictions (a `train` stage, a command stage's own metrics) or whose
//! predictions cannot be matched to its split says why; its cells keep their t statistics.
use std::collections::{BTreeMap, HashMap};

use ablate_core::store::Entry;
use ablate_stages::SCORED_KINDS;
use ablate_stages::data::dataset::{SplitLabels, read_split_labels};
use ablate_stages::evaluate::Scores;
use ablate_stages::predictions::Predictions;
use ablate_stages::ranking::{Ranked, Undefined};
use anyhow::{Context, bail};
use rayon::prelude::*;

use crate::collect::StageResult;

/// One label of a result's predictions, over its split's images in the split's order.
pub(super) struct ScoredLabel {
    pub(super) name: String,
    pub(super) scores: Vec<f32>,
    pub(super) truth: Vec<u8>,
    /// The images decided at the label's threshold, by outcome.
    pub(super) decided: Decided,
    /// The images ranked by score once, or why the label's AUROC and AP are undefined.
    pub(super) ranked: Result<Ranked, Undefined>,
}

/// The images of one label by outcome at its threshold (a probability above it predicts the
/// label), so that a replicate counts each outcome by summing its images' weights.
pub(super) struct Decided {
    pub(super) true_positives: Vec<u32>,
    pub(super) false_positives: Vec<u32>,
    pub(super) false_negatives: Vec<u32>,
}

impl ScoredLabel {
    pub(super) fn new(name: &str, scores: Vec<f32>, truth: Vec<u8>, threshold: f32) -> ScoredLabel {
        let mut decided = Decided {
            true_positives: Vec::new(),
            false_positives: Vec::new(),
            false_negatives: Vec::new(),
        };
        for (image, (&p, &y)) in scores.iter().zip(&truth).enumerate() {
            let images = match (p > threshold, y == 1) {
                (true, true) => &mut decided.true_positives,
                (true, false) => &mut decided.false_positives,
                (false, true) => &mut decided.false_negatives,
                (false, false) => continue,
            };
            images.push(image as u32);
        }
        ScoredLabel {
            name: name.to_string(),
            ranked: Ranked::new(&scores, &truth),
            scores,
            truth,
            decided,
        }
    }
}

/// One result's predictions.
pub(super) struct Scored {
    /// The stage instance, to name it in messages.
    pub(super) instance: String,
    /// Its image set, an index into [`Loaded::image_sets`].
    pub(super) images: usize,
    /// Its split's name.
    pub(super) split: String,
    pub(super) labels: Vec<ScoredLabel>,
}

impl Scored {
    pub(super) fn label(&self, name: &str) -> Option<usize> {
        self.labels.iter().position(|l| l.name == name)
    }
}

/// The predictions of the results a comparison re-scores.
pub(super) struct Loaded {
    /// Per image set (a split of a dataset), its number of images.
    pub(super) image_sets: Vec<usize>,
    /// Per result asked for (by its index among the compared results): its predictions, or why
    /// there are none.
    pub(super) results: HashMap<usize, Result<Scored, String>>,
}

/// The predictions of `wanted` (indices into `results`), their datasets among `snapshot`.
pub(super) fn load(results: &[StageResult], snapshot: &[StageResult], wanted: &[usize]) -> Loaded {
    let outputs: HashMap<&str, &Entry> =
        snapshot.iter().map(|r| (r.entry.record.output.as_str(), &*r.entry)).collect();
    let read: Vec<(usize, anyhow::Result<Read>)> =
        wanted.par_iter().map(|&i| (i, read(&results[i], &outputs))).collect();
    let mut labels_of: HashMap<(String, String), anyhow::Result<SplitLabels>> = HashMap::new();
    let mut sets: BTreeMap<(String, String), usize> = BTreeMap::new();
    for read in read.iter().filter_map(|(_, read)| read.as_ref().ok()) {
        let key = (read.dataset.record.output.clone(), read.scores.split.clone());
        labels_of
            .entry(key.clone())
            .or_insert_with(|| read_split_labels(&read.dataset.out_dir(), &read.scores.split));
        let next = sets.len();
        sets.entry(key).or_insert(next);
    }
    let mut image_sets = vec![0; sets.len()];
    let mut loaded = HashMap::new();
    for (i, read) in read {
        let scored = read.and_then(|read| {
            let key = (read.dataset.record.output.clone(), read.scores.split.clone());
            let labels = labels_of[&key].as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
            image_sets[sets[&key]] = labels.ids.len();
            align(read, labels, sets[&key], &results[i].instance)
        });
        let why = |e: anyhow::Error| format!("{}: {e:#}", results[i].instance);
        loaded.insert(i, scored.map_err(why));
    }
    Loaded { image_sets, results: loaded }
}

/// What one result stored, and the dataset it read.
struct Read {
    scores: Scores,
    predictions: Predictions,
    dataset: Entry,
}

fn read(result: &StageResult, outputs: &HashMap<&str, &Entry>) -> anyhow::Result<Read> {
    if !SCORED_KINDS.contains(&result.kind.as_str()) {
        bail!(
            "`{}` is a `{}` stage, which stores no predictions.csv to re-score",
            result.template,
            result.kind
        );
    }
    let out = result.entry.out_dir();
    let scores = Scores::read(&out)?;
    let predictions = Predictions::read(&out)?;
    let data =
        result.entry.record.fingerprint.upstream.get("data").context("it has no data input")?;
    let Some(dataset) = data.output.as_deref().and_then(|output| outputs.get(output)) else {
        bail!("the dataset it read is no longer {}'s latest result", data.stage);
    };
    Ok(Read { scores, predictions, dataset: (*dataset).clone() })
}

/// `read`'s predictions in the order of the split's images.
fn align(read: Read, split: &SplitLabels, images: usize, instance: &str) -> anyhow::Result<Scored> {
    let Read { scores, predictions, .. } = read;
    let truth = predictions.truth(split, &scores.split)?;
    let position: HashMap<&str, usize> =
        split.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    // `truth` accepted the ids: each is one of the split's, and every image has one.
    let rows: Vec<usize> = predictions.ids.iter().map(|id| position[id.as_str()]).collect();
    let n_labels = predictions.labels.len();
    let labels = predictions
        .labels
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let mut scores_in_order = vec![0.0f32; rows.len()];
            let mut truth_in_order = vec![0u8; rows.len()];
            for (r, &image) in rows.iter().enumerate() {
                scores_in_order[image] = predictions.probabilities[r * n_labels + c];
                truth_in_order[image] = truth[r * n_labels + c];
            }
            Ok(ScoredLabel::new(name, scores_in_order, truth_in_order, scores.threshold(name)?))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Scored { instance: instance.to_string(), images, split: scores.split, labels })
}
