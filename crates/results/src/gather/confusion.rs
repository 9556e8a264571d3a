//! Confusion counts (TP, FP, FN, TN per label) of each variant's evaluations, recounted from
//! what an evaluation stored: `scores.json` (split and decision thresholds) and `predictions.csv`
//! (a probability per image and label), against the labels of the dataset the evaluation read
//! (its `data` input: the collected result whose output digest its record names).
//! A label is predicted when its probability is above the label's threshold, as `evaluate`
//! scores it. Counts are summed over the variant's seeds, per evaluation stage and split: two
//! stages that evaluate splits of the same name (one test split of two datasets) are never
//! summed, and their tables are headed `stage:split` as `compare` names their columns.
use std::collections::HashMap;
use std::path::Path;

use ablate_core::fingerprint::StageKey;
use ablate_core::store::Entry;
use ablate_stages::data::dataset::{SplitLabels, read_split_labels};
use ablate_stages::evaluate::Scores;
use ablate_stages::predictions::Predictions;
use anyhow::{Context, bail};

use super::variants::Variants;
use crate::collect::StageResult;
use crate::report::{Confusion, LabelCounts};

/// The counts of `evaluations` (results of `evaluate` stages) per variant and split, their
/// datasets among `collected`; each evaluation that cannot be recounted is skipped with a
/// warning.
pub(super) fn confusion(
    evaluations: &[StageResult],
    collected: &[StageResult],
    variants: &Variants,
    warnings: &mut Vec<String>,
) -> Vec<Confusion> {
    let outputs: HashMap<&str, &Entry> =
        collected.iter().map(|r| (r.entry.record.output.as_str(), &*r.entry)).collect();
    let mut labels_of: HashMap<(StageKey, String), SplitLabels> = HashMap::new();
    // With the stage of the file and the instances summed.
    let mut counted: Vec<(Confusion, &str, Vec<String>)> = Vec::new();
    for result in evaluations {
        let Some(variant) = variants.name(&result.pipeline, &result.levels) else { continue };
        let recounted = recount(&result.entry, &outputs, &mut labels_of);
        let (split, threshold, labels) = match recounted {
            Ok(recounted) => recounted,
            Err(error) => {
                warnings.push(format!("no confusion counts of {}: {error:#}", result.instance));
                continue;
            }
        };
        let template = result.template.as_str();
        let at = counted
            .iter()
            .position(|(c, t, _)| c.variant == variant && c.split == split && *t == template);
        let (item, _, instances) = match at {
            Some(at) => &mut counted[at],
            None => {
                counted.push((
                    Confusion {
                        variant: variant.to_string(),
                        split,
                        seeds: 0,
                        threshold,
                        labels: Vec::new(),
                    },
                    template,
                    Vec::new(),
                ));
                counted.last_mut().expect("just pushed")
            }
        };
        if instances.contains(&result.instance) {
            continue; // a result several seeds share counts once
        }
        instances.push(result.instance.clone());
        item.seeds += 1;
        for counts in labels {
            match item.labels.iter_mut().find(|l| l.label == counts.label) {
                Some(sum) => {
                    sum.tp += counts.tp;
                    sum.fp += counts.fp;
                    sum.fn_ += counts.fn_;
                    sum.tn += counts.tn;
                }
                None => item.labels.push(counts),
            }
        }
    }
    let headings: Vec<String> = counted
        .iter()
        .map(|(c, t, _)| {
            let measured = counted.iter().map(|(c, t, _)| (*t, c.split.as_str()));
            super::split_heading(t, &c.split, measured)
        })
        .collect();
    counted.into_iter().zip(headings).map(|((c, _, _), split)| Confusion { split, ..c }).collect()
}

/// The split, thresholds (described) and per-label counts of one evaluation.
fn recount(
    entry: &Entry,
    outputs: &HashMap<&str, &Entry>,
    labels_of: &mut HashMap<(StageKey, String), SplitLabels>,
) -> anyhow::Result<(String, String, Vec<LabelCounts>)> {
    let out = entry.out_dir();
    let scores = Scores::read(&out)?;
    let data = entry.record.fingerprint.upstream.get("data").context("it has no data input")?;
    let Some(dataset) = data.output.as_deref().and_then(|output| outputs.get(output)) else {
        bail!("the dataset it read is no longer {}'s latest result", data.stage);
    };
    let truth = match labels_of.entry((dataset.record.key.clone(), scores.split.clone())) {
        std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
        std::collections::hash_map::Entry::Vacant(new) => {
            new.insert(read_split_labels(&dataset.out_dir(), &scores.split)?)
        }
    };
    let counts = count(&out, truth, &scores)?;
    Ok((scores.split.clone(), scores.describe_thresholds(), counts))
}

/// One-vs-rest counts per label of an evaluation's predictions (in `out`) against `truth`, at
/// the labels' decision thresholds, as `evaluate` decides: a probability strictly above the
/// threshold, in single precision.
fn count(out: &Path, truth: &SplitLabels, scores: &Scores) -> anyhow::Result<Vec<LabelCounts>> {
    let predictions = Predictions::read(out)?;
    let truth = predictions.truth(truth, &scores.split)?;
    let n_labels = predictions.labels.len();
    predictions
        .labels
        .iter()
        .enumerate()
        .map(|(c, label)| {
            let threshold = scores.threshold(label)?;
            let mut counts = LabelCounts { label: label.clone(), ..LabelCounts::default() };
            let rows = predictions.probabilities.chunks(n_labels).zip(truth.chunks(n_labels));
            for (p, y) in rows.map(|(p, y)| (p[c], y[c])) {
                match (p > threshold, y == 1) {
                    (true, true) => counts.tp += 1,
                    (true, false) => counts.fp += 1,
                    (false, true) => counts.fn_ += 1,
                    (false, false) => counts.tn += 1,
                }
            }
            Ok(counts)
        })
        .collect()
}
