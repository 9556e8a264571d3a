//! The names of the metrics the built-in stages write (`MetricRow::metric`) and the results
//! read: one constant each, so that a writer and its readers cannot drift apart. Command stages
//! name their own metrics; [`higher_is_better`] covers those too.

/// Macro-averaged F1 over the labels (per epoch on validation, finally on each evaluated split).
pub const MACRO_F1: &str = "macro_f1";
/// Per-label F1, precision and recall (rows with a class).
pub const F1: &str = "f1";
pub const PRECISION: &str = "precision";
pub const RECALL: &str = "recall";
/// Per-label area under the ROC curve and average precision (rows with a class), and their
/// means over the labels where they are defined: threshold-free (see `ranking`).
pub const AUROC: &str = "auroc";
pub const AVERAGE_PRECISION: &str = "average_precision";
pub const MACRO_AUROC: &str = "macro_auroc";
pub const MACRO_AVERAGE_PRECISION: &str = "macro_average_precision";
/// The same at the thresholds tuned on validation that the model carries.
pub const TUNED_MACRO_F1: &str = "tuned_macro_f1";
pub const TUNED_F1: &str = "tuned_f1";
pub const TUNED_PRECISION: &str = "tuned_precision";
pub const TUNED_RECALL: &str = "tuned_recall";
/// A tuned per-label decision threshold.
pub const THRESHOLD: &str = "threshold";
/// The training loss per sample, per epoch, on the training split.
pub const LOSS: &str = "loss";
/// The GradCAM-guidance loss per sample, per epoch, on the training split.
pub const CAM_LOSS: &str = "cam_loss";
/// The learning rate of an epoch.
pub const LR: &str = "lr";
pub const IMAGES_PER_SECOND: &str = "images_per_second";
/// The epoch whose model a training kept, its validation macro-F1, and the epochs it ran.
pub const BEST_EPOCH: &str = "best_epoch";
pub const BEST_MACRO_F1: &str = "best_macro_f1";
pub const EPOCHS_RUN: &str = "epochs_run";

/// Whether a larger value of `metric` is better: not for losses (the built-in ones, and any
/// metric a command stage names `…loss…`), yes for every score.
pub fn higher_is_better(metric: &str) -> bool {
    !matches!(metric, LOSS | CAM_LOSS) && !metric.contains(LOSS)
}
