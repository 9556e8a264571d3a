//! `train`: fits a classifier on a dataset's training split and keeps its best epoch.
//!
//! The model comes from its `model` input: an initial model (`backbone`, `attention`) or a
//! trained one, to fine-tune further (`take: all`, e.g. the study's Task 1.2 → 1.3) or to reuse
//! only its backbone (`take: backbone`, e.g. pre-training on the eight ODIR labels). Whatever the
//! input does not provide — the head, a new attention block, a randomly initialised backbone —
//! is drawn from `seed`. `freeze` fixes the backbone or name prefixes; frozen BatchNorm layers
//! keep their running statistics (see `models::layers`).
//!
//! The loss comes from the optional `loss` input (`stages::loss`; binary cross-entropy without
//! it). Adam or AdamW (fused kernel) with an optional linear warm-up and cosine decay per step;
//! fp32, or bf16/fp16 autocast (fp16 with dynamic loss scaling); optionally channels-last, and
//! optionally the step replayed as a CUDA graph (`nn::step`; the partial last batch runs eagerly).
//! Mini-batches come from a permutation of the split resident on the device; flips and rotation
//! are applied there. After every epoch the validation macro-F1 at threshold 0.5 is measured;
//! the weights of the best epoch (strictly better than all before) are kept, and training stops
//! early after `patience` epochs without improvement. Optionally per-label thresholds are tuned
//! on validation and reported beside the 0.5 scores (`tuned_*` metrics, `thresholds.json`).
//!
//! With `cam_weight` > 0 a GradCAM regulariser joins the loss (`nn::gradcam`): for every
//! batch, the maps of each image's predicted labels are computed from the batch's own forward
//! (no second pass, so BatchNorm statistics are updated once, as without it; an evaluation-mode
//! pass let the regulariser exploit the running statistics), and `cam_target: entropy` adds
//! their mean normalised entropy (in [0, 1]) times `cam_weight`, which sharpens the maps. Its
//! unweighted value is reported per epoch as `cam_loss` beside `loss` (the task loss alone).
//! With `cam_weight: 0` training computes exactly what it did without the parameter.
//!
//! An epoch ends with a checkpoint in the stage's workspace (`nn::resume`) when
//! `checkpoint_seconds` have passed since the last one, and the last epoch always does (a
//! ResNet18 checkpoint is about 180 MB: one per epoch would cost a fast GPU run more time than
//! its training). Randomness is re-seeded per epoch from `seed`, so a run killed after the
//! checkpoint of epoch k continues at epoch k + 1 and ends with the same metrics as an
//! uninterrupted run (bit for bit on the CPU, and on a GPU with
//! `deterministic: true`). With a constant learning rate the workspace is shared by every
//! value of `epochs`, so raising it continues the cached run. A loss that is not finite stops
//! the stage with an error; the last good checkpoint stays.

use ablate_core::params::{Choice, ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputSpec, KindInfo, Resource, Workspace};

ablate_core::choice! {
    /// What `train` takes from its input model.
    pub enum Take { All = "all", Backbone = "backbone" }
}

ablate_core::choice! {
    /// Adam with L2 weight decay, or AdamW with decoupled weight decay.
    pub enum Optimizer { Adam = "adam", AdamW = "adamw" }
}

ablate_core::choice! {
    /// The learning rate after the warm-up.
    pub enum Schedule { Constant = "constant", Cosine = "cosine" }
}

ablate_core::choice! {
    /// The floating-point precision of the forward and backward passes (`bench` measures
    /// the same ones).
    pub enum Precision { Fp32 = "fp32", Bf16 = "bf16", Fp16 = "fp16" }
}

ablate_core::choice! {
    /// What the GradCAM regulariser minimises.
    pub enum CamTarget { Entropy = "entropy" }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("take", T::Choice(Take::NAMES), D::Str("all"), "what to take from the input model"),
    ParamSpec::new("freeze", T::Str, D::Str("none"), "`none`, `backbone`, or comma-separated parameter name prefixes to keep fixed"),
    ParamSpec::new("epochs", T::Int { min: 1, max: 10_000 }, D::Int(25), "training epochs"),
    ParamSpec::new("batch_size", T::Int { min: 1, max: 65_536 }, D::Int(32), "mini-batch size"),
    ParamSpec::new("optimizer", T::Choice(Optimizer::NAMES), D::Str("adam"), "Adam (L2 weight decay) or AdamW (decoupled)"),
    ParamSpec::new("lr", T::Float { min: 0.0, max: 10.0 }, D::Float(1e-3), "learning rate"),
    ParamSpec::new("weight_decay", T::Float { min: 0.0, max: 10.0 }, D::Float(0.0), "weight decay"),
    ParamSpec::new("schedule", T::Choice(Schedule::NAMES), D::Str("constant"), "learning rate after the warm-up"),
    ParamSpec::new("warmup_epochs", T::Float { min: 0.0, max: 10_000.0 }, D::Float(0.0), "linear warm-up length in epochs"),
    ParamSpec::new("seed", T::Int { min: 0, max: i64::MAX }, D::Int(0), "seed of initialisation, shuffling, augmentation and dropout"),
    ParamSpec::new("member", T::Int { min: 0, max: 1_000_000 }, D::Int(0), "ensemble member: 0 trains with `seed`, k > 0 with a seed drawn from `seed` and k (members of one grid seed differ from each other and from other seeds' members)"),
    ParamSpec::new("deterministic", T::Bool, D::Bool(false), "deterministic algorithms only (GPU; slower)"),
    ParamSpec::new("precision", T::Choice(Precision::NAMES), D::Str("fp32"), "fp32, or mixed precision with bf16 or fp16 (loss-scaled)"),
    ParamSpec::new("channels_last", T::Bool, D::Bool(false), "channels-last memory format for images and convolution weights"),
    ParamSpec::new("cuda_graph", T::Bool, D::Bool(false), "replay the training step as a CUDA graph where it allows (CUDA, constant learning rate, no GradCAM regulariser); eager otherwise, as the summary says"),
    ParamSpec::new("flips", T::Bool, D::Bool(true), "random horizontal and vertical flips"),
    ParamSpec::new("rotation", T::Float { min: 0.0, max: 180.0 }, D::Float(15.0), "random rotation range in degrees (0: off)"),
    ParamSpec::new("head_hidden", T::Int { min: 1, max: 65_536 }, D::Int(512), "hidden width of the classifier head"),
    ParamSpec::new("dropout", T::Float { min: 0.0, max: 1.0 }, D::Float(0.5), "dropout before the last layer"),
    ParamSpec::new("patience", T::Int { min: 1, max: 10_000 }, D::Absent, "stop after this many epochs without a better validation macro-F1; unset: never"),
    ParamSpec::new("tune_thresholds", T::Bool, D::Bool(false), "also tune per-label thresholds on validation (reported beside the 0.5 scores)"),
    ParamSpec::new("cam_weight", T::Float { min: 0.0, max: 1000.0 }, D::Float(0.0), "weight of the GradCAM regulariser in the loss (0: off)"),
    ParamSpec::new("cam_target", T::Choice(CamTarget::NAMES), D::Str("entropy"), "what the GradCAM regulariser minimises: the normalised entropy of the predicted labels' maps (sharpens them)"),
    ParamSpec::new("train_split", T::Str, D::Str("train"), "split to train on"),
    ParamSpec::new("val_split", T::Str, D::Str("val"), "split that selects the best epoch"),
    ParamSpec::new("checkpoint_seconds", T::Float { min: 0.0, max: 1e9 }, D::Float(30.0), "training time between resumable checkpoints (one is always written after the last epoch; 0: after every epoch)").unkeyed(),
];

pub const INFO: KindInfo = KindInfo {
    kind: "train",
    version: 4,
    doc: "train a classifier; keep the epoch with the best validation macro-F1",
    params: PARAMS,
    inputs: &[
        InputSpec::required("data", "a dataset from `load` or `synthetic`"),
        InputSpec::required("model", "the model to start from: `backbone`, `attention` or `train`"),
        InputSpec::optional(
            "loss",
            "the loss from a `loss` stage (binary cross-entropy without it)",
        ),
    ],
    resource: Resource::DEVICE,
    workspace: Workspace::Resume { extend: &["epochs"], safe: epochs_extendable },
};

/// Raising `epochs` continues a run only when the learning rate does not depend on it.
fn epochs_extendable(params: &Params) -> bool {
    params.choice::<Schedule>("schedule") == Schedule::Constant
}

/// Which parameters `freeze` keeps fixed.
#[derive(Debug, Clone, PartialEq)]
pub enum Freeze {
    None,
    Backbone,
    /// Parameters whose names start with one of these.
    Prefixes(Vec<String>),
}

impl Freeze {
    fn parse(text: &str) -> Freeze {
        match text.trim() {
            "none" | "" => Freeze::None,
            "backbone" => Freeze::Backbone,
            list => Freeze::Prefixes(
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            ),
        }
    }

    /// The name prefixes kept fixed.
    pub fn prefixes(&self) -> Vec<&str> {
        match self {
            Freeze::None => Vec::new(),
            Freeze::Backbone => vec!["backbone."],
            Freeze::Prefixes(prefixes) => prefixes.iter().map(String::as_str).collect(),
        }
    }
}

impl std::fmt::Display for Freeze {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Freeze::None => f.write_str("none"),
            Freeze::Backbone => f.write_str("backbone"),
            Freeze::Prefixes(prefixes) => f.write_str(&prefixes.join(",")),
        }
    }
}

/// `train`'s parameters, decoded (see the table above for their meaning).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    pub take: Take,
    pub freeze: Freeze,
    pub epochs: u32,
    pub batch_size: i64,
    pub optimizer: Optimizer,
    pub lr: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    pub warmup_epochs: f64,
    /// The seed the training draws from: `seed`, or the ensemble member's (see [`member_seed`]).
    pub seed: i64,
    pub deterministic: bool,
    pub precision: Precision,
    pub channels_last: bool,
    pub cuda_graph: bool,
    pub flips: bool,
    pub rotation: f64,
    pub head_hidden: i64,
    pub dropout: f64,
    pub patience: Option<u32>,
    pub tune_thresholds: bool,
    pub cam_weight: f64,
    pub cam_target: CamTarget,
    pub train_split: String,
    pub val_split: String,
    pub checkpoint_seconds: f64,
}

impl TrainParams {
    pub fn decode(p: &Params) -> TrainParams {
        TrainParams {
            take: p.choice("take"),
            freeze: Freeze::parse(p.str("freeze")),
            epochs: p.u32("epochs"),
            batch_size: p.int("batch_size"),
            optimizer: p.choice("optimizer"),
            lr: p.float("lr"),
            weight_decay: p.float("weight_decay"),
            schedule: p.choice("schedule"),
            warmup_epochs: p.float("warmup_epochs"),
            seed: member_seed(p.int("seed"), p.int("member")),
            deterministic: p.bool("deterministic"),
            precision: p.choice("precision"),
            channels_last: p.bool("channels_last"),
            cuda_graph: p.bool("cuda_graph"),
            flips: p.bool("flips"),
            rotation: p.float("rotation"),
            head_hidden: p.int("head_hidden"),
            dropout: p.float("dropout"),
            patience: p.opt_int("patience").map(|n| n as u32),
            tune_thresholds: p.bool("tune_thresholds"),
            cam_weight: p.float("cam_weight"),
            cam_target: p.choice("cam_target"),
            train_split: p.str("train_split").to_string(),
            val_split: p.str("val_split").to_string(),
            checkpoint_seconds: p.float("checkpoint_seconds"),
        }
    }
}

/// Member 0 trains with `seed` itself; member k > 0 with a seed mixed from both (SplitMix64's
/// finaliser), non-negative as libtorch's seeds are.
pub fn member_seed(seed: i64, member: i64) -> i64 {
    if member == 0 {
        return seed;
    }
    let mut z = (seed as u64) ^ (member as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 1) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_draw_distinct_seeds() {
        assert_eq!(member_seed(7, 0), 7);
        let seeds: std::collections::BTreeSet<i64> =
            (0..3).flat_map(|seed| (0..3).map(move |m| member_seed(seed, m))).collect();
        assert_eq!(seeds.len(), 9);
        assert!(seeds.iter().all(|s| *s >= 0));
    }

    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(PARAMS, "", TrainParams::decode);
    }

    #[test]
    fn freeze_takes_a_keyword_or_prefixes() {
        assert_eq!(Freeze::parse("none").prefixes(), Vec::<&str>::new());
        assert_eq!(Freeze::parse("backbone").prefixes(), ["backbone."]);
        assert_eq!(
            Freeze::parse(" backbone.layer1, attention. ,").prefixes(),
            ["backbone.layer1", "attention."]
        );
    }
}
