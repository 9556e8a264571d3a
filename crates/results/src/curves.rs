//! Learning curves: the per-epoch rows of a training's result as (epoch, value) series, the one
//! extraction that `plot` and the report draw from. Two series: validation macro-F1 and the
//! training loss.
//!
//! A result's training split is the split its per-epoch `loss` is measured on (`train` writes
//! it on its `train_split`, whatever that is named; a command stage on the split it names): rows
//! on that split are training rows, rows on any other split validation rows. A result without
//! a per-epoch loss has no training split, and every row of it is a validation row.
use ablate_stages::metric;

use crate::collect::StageResult;

/// A per-epoch series of a training's metrics.
pub struct Series {
    pub title: &'static str,
    pub y_label: &'static str,
    pub metric: &'static str,
    /// Whether it is measured on the training split (the loss) or another (validation).
    pub on_training: bool,
}

pub const VALIDATION_MACRO_F1: Series = Series {
    title: "Validation macro-F1",
    y_label: "macro-F1 (0–1)",
    metric: metric::MACRO_F1,
    on_training: false,
};

pub const TRAINING_LOSS: Series = Series {
    title: "Training loss",
    y_label: "loss per sample",
    metric: metric::LOSS,
    on_training: true,
};

/// The series every learning-curve chart shows, in order.
pub const SERIES: [Series; 2] = [VALIDATION_MACRO_F1, TRAINING_LOSS];

impl Series {
    /// The series' points in `result`, by epoch (the rows of one epoch in stored order).
    pub fn points(&self, result: &StageResult) -> Vec<(f64, f64)> {
        let training = training_split(result);
        let mut points: Vec<(f64, f64)> = result
            .metrics
            .iter()
            .filter(|m| m.metric == self.metric && m.class.is_none())
            .filter(|m| (training.is_some() && m.split.as_deref() == training) == self.on_training)
            .filter_map(|m| Some((f64::from(m.epoch?), m.value)))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }
}

/// The split of the result's per-epoch training loss, if it has one.
fn training_split(result: &StageResult) -> Option<&str> {
    let loss = |m: &&ablate_core::metrics::MetricRow| {
        m.metric == metric::LOSS && m.epoch.is_some() && m.class.is_none()
    };
    result.metrics.iter().find(loss).and_then(|m| m.split.as_deref())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ablate_core::fingerprint::Fingerprint;
    use ablate_core::metrics::MetricRow;
    use ablate_core::store::{Entry, Record};

    use super::*;

    fn training(rows: Vec<MetricRow>) -> StageResult {
        StageResult {
            pipeline: "p".into(),
            levels: Vec::new().into(),
            template: "train".into(),
            instance: "train".into(),
            kind: "train".into(),
            entry: Arc::new(Entry {
                dir: "k".into(),
                record: Record {
                    key: "k".into(),
                    pipeline: "p".into(),
                    stage: "train".into(),
                    fingerprint: Fingerprint {
                        kind: "train".into(),
                        version: 1,
                        params: Default::default(),
                        upstream: Default::default(),
                        files: Default::default(),
                        commands: Default::default(),
                        toolchain: Default::default(),
                    },
                    output: String::new(),
                    metrics: None,
                    created: 0,
                    seconds: 0.0,
                    summary: None,
                },
            }),
            metrics: Arc::new(rows),
            stale: None,
            recorded: 0,
        }
    }

    #[test]
    fn the_training_split_is_where_the_loss_is_whatever_its_name() {
        let result = training(vec![
            MetricRow::new("loss", 0.9).split("fit").epoch(2),
            MetricRow::new("loss", 1.2).split("fit").epoch(1),
            MetricRow::new("macro_f1", 0.3).split("fit").epoch(1),
            MetricRow::new("macro_f1", 0.4).split("holdout").epoch(1),
            MetricRow::new("macro_f1", 0.5).split("holdout").epoch(2),
            MetricRow::new("f1", 0.7).split("holdout").epoch(2).class("D"),
            MetricRow::new("macro_f1", 0.45).split("holdout"),
        ]);
        assert_eq!(TRAINING_LOSS.points(&result), [(1.0, 1.2), (2.0, 0.9)]);
        assert_eq!(VALIDATION_MACRO_F1.points(&result), [(1.0, 0.4), (2.0, 0.5)]);
    }

    #[test]
    fn without_a_loss_every_row_is_validation() {
        let result = training(vec![MetricRow::new("macro_f1", 0.4).split("train").epoch(1)]);
        assert!(TRAINING_LOSS.points(&result).is_empty());
        assert_eq!(VALIDATION_MACRO_F1.points(&result), [(1.0, 0.4)]);
    }
}
