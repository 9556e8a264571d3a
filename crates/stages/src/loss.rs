//! `loss`: the training loss, configured from the labels of the training split it will serve.
//!
//! Every supported loss is one formula over each (sample, label) element, with logit x,
//! target y, p = σ(x):
//!
//! ```text
//! loss = mean over B×C of  α_t · (1 − p_t)^γ · −[w_c · y · log p + (1 − y) · log(1 − p)]
//! p_t = p·y + (1 − p)(1 − y)        α_t = α·y + (1 − α)(1 − y), or 1 without α
//! ```
//!
//! - `bce`: γ = 0, no α, w_c = `pos_weight` (1 when unset);
//! - `focal`: γ and optional α as given, w_c = `pos_weight`;
//! - `class_balanced`: γ = 0, w_c from the effective number of samples (Cui et al. 2019):
//!   w_c = (1 − β) / (1 − β^n_c), n_c the positives of label c in the training split (at
//!   least 1), scaled so that the weights sum to the number of labels. They weight the positive
//!   term, as the study did ("per-class positive weights").
//!
//! The stage runs on the CPU, reads its `data` input's training split and writes `loss.json`
//! ([`LossConfig`]). Because the weights come from the data actually used, an augmented
//! training set changes them; a parameter that does not matter for the chosen function (γ for
//! `bce`) is dropped from the output, so changing it leaves `train` cached (early cutoff).
use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::data::dataset::{Dataset, positives};
use ablate_core::params::{Choice, ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputSpec, KindInfo, Resource, StageContext, StageKind, Workspace};

pub const CONFIG_FILE: &str = "loss.json";

/// The output of the stage: everything `train` needs to compute the loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossConfig {
    pub function: String,
    pub labels: Vec<String>,
    pub gamma: f64,
    pub alpha: Option<f64>,
    /// w_c of the positive term, one per label; `None` means 1 for every label.
    pub pos_weight: Option<Vec<f64>>,
    /// Positives per label in the training split, and its size (for the record).
    pub positives: Vec<usize>,
    pub samples: usize,
}

impl LossConfig {
    /// Plain binary cross-entropy, what `train` uses without a `loss` input.
    pub fn bce(labels: &[String]) -> Self {
        LossConfig {
            function: "bce".into(),
            labels: labels.to_vec(),
            gamma: 0.0,
            alpha: None,
            pos_weight: None,
            positives: Vec::new(),
            samples: 0,
        }
    }

    pub fn read(dir: &std::path::Path) -> anyhow::Result<LossConfig> {
        let path = dir.join(CONFIG_FILE);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a loss configuration", path.display()))
    }

    pub fn describe(&self) -> String {
        let mut text = self.function.clone();
        if self.gamma != 0.0 {
            text += &format!(" γ={}", self.gamma);
        }
        if let Some(alpha) = self.alpha {
            text += &format!(" α={alpha}");
        }
        if let Some(weights) = &self.pos_weight {
            let shown: Vec<String> =
                self.labels.iter().zip(weights).map(|(l, w)| format!("{l} {w:.4}")).collect();
            text += &format!(", positive weights {}", shown.join(", "));
        }
        text
    }
}

/// Class-balanced weights from positive counts (see the module doc).
pub fn class_balanced_weights(positives: &[usize], beta: f64) -> Vec<f64> {
    let raw: Vec<f64> =
        positives.iter().map(|&n| (1.0 - beta) / (1.0 - beta.powi(n.max(1) as i32))).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|w| w / total * positives.len() as f64).collect()
}

pub struct LossKind;

ablate_core::choice! {
    /// The loss functions of the study's Task 2.
    pub enum LossFunction { Bce = "bce", Focal = "focal", ClassBalanced = "class_balanced" }
}

/// `loss`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct LossParams {
    pub function: LossFunction,
    pub gamma: f64,
    pub alpha: Option<f64>,
    pub beta: f64,
    pub pos_weight: Option<Vec<f64>>,
    pub split: String,
}

impl LossParams {
    pub fn decode(p: &Params) -> LossParams {
        LossParams {
            function: p.choice("function"),
            gamma: p.float("gamma"),
            alpha: p.opt_float("alpha"),
            beta: p.float("beta"),
            pos_weight: p.opt_float_list("pos_weight"),
            split: p.str("split").to_string(),
        }
    }
}

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("function", T::Choice(LossFunction::NAMES), D::Str("bce"), "the loss function"),
    ParamSpec::new(
        "gamma",
        T::Float { min: 0.0, max: 10.0 },
        D::Float(2.0),
        "focal: focusing exponent γ",
    ),
    ParamSpec::new(
        "alpha",
        T::Float { min: 0.0, max: 1.0 },
        D::Absent,
        "focal: weight α of positives (1 − α of negatives); unset: none",
    ),
    ParamSpec::new(
        "beta",
        T::Float { min: 0.0, max: 0.999_999 },
        D::Float(0.999),
        "class_balanced: β of the effective number of samples",
    ),
    ParamSpec::new(
        "pos_weight",
        T::FloatList { min: 0.0, max: 1e6 },
        D::Absent,
        "bce, focal: weight of the positive term, one per label",
    ),
    ParamSpec::new("split", T::Str, D::Str("train"), "the training split whose labels are counted"),
];

const INFO: KindInfo = KindInfo {
    kind: "loss",
    version: 1,
    doc: "configure the training loss (bce, focal, class-balanced) from the training labels",
    params: PARAMS,
    inputs: &[InputSpec::required("data", "the dataset `train` will train on")],
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

impl StageKind for LossKind {
    fn info(&self) -> &'static KindInfo {
        &INFO
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        let p = LossParams::decode(ctx.params);
        let dataset = Dataset::read(ctx.input("data"))?;
        let split = dataset.split(&p.split)?;
        let config = configure(&p, &dataset.label_names, &split.labels)?;
        std::fs::write(ctx.out_dir.join(CONFIG_FILE), serde_json::to_vec_pretty(&config)?)?;
        let counts: Vec<String> = config.positives.iter().map(usize::to_string).collect();
        ctx.set_summary(format!(
            "{} (positives {} of {})",
            config.describe(),
            counts.join("/"),
            config.samples
        ));
        Ok(())
    }
}

/// The configuration for `p` given the training split's row-major N×labels 0/1 targets.
pub fn configure(p: &LossParams, labels: &[String], targets: &[u8]) -> anyhow::Result<LossConfig> {
    let n_labels = labels.len();
    let samples = targets.len() / n_labels.max(1);
    let positives = positives(targets, n_labels);
    let given = p.pos_weight.clone();
    if let Some(weights) = &given
        && weights.len() != n_labels
    {
        anyhow::bail!(
            "`pos_weight` has {} values but the dataset has {n_labels} labels ({})",
            weights.len(),
            labels.join(", ")
        );
    }
    let (gamma, alpha, pos_weight) = match p.function {
        LossFunction::Bce => (0.0, None, given),
        LossFunction::Focal => (p.gamma, p.alpha, given),
        LossFunction::ClassBalanced => {
            if given.is_some() {
                anyhow::bail!(
                    "`pos_weight` cannot be combined with `function: class_balanced`, which computes its own"
                );
            }
            (0.0, None, Some(class_balanced_weights(&positives, p.beta)))
        }
    };
    Ok(LossConfig {
        function: p.function.to_string(),
        labels: labels.to_vec(),
        gamma,
        alpha,
        pos_weight,
        positives,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ablate_core::yaml;
    use std::path::Path;

    fn params(text: &str) -> LossParams {
        let node = yaml::parse(Path::new("p.yaml"), text).unwrap();
        LossParams::decode(&Params::validate(PARAMS, Some(&node), "loss").unwrap())
    }

    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(PARAMS, "", LossParams::decode);
    }

    fn labels() -> Vec<String> {
        vec!["D".into(), "G".into(), "A".into()]
    }

    #[test]
    fn class_balanced_weights_of_the_study() {
        let weights = class_balanced_weights(&[517, 163, 142], 0.999);
        let expected = [0.4456, 1.1958, 1.3586];
        for (w, e) in weights.iter().zip(expected) {
            assert!((w - e).abs() < 5e-5, "{weights:?}");
        }
        assert!((weights.iter().sum::<f64>() - 3.0).abs() < 1e-12);
        assert_eq!(class_balanced_weights(&[517, 517, 517], 0.999), vec![1.0, 1.0, 1.0]);
    }

    #[test]
    fn counts_come_from_the_targets() {
        // 4 samples × 3 labels: D positive 3 times, G once, A never (clipped to 1 for the weight).
        let targets = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0];
        let config =
            configure(&params("function: class_balanced\nbeta: 0.5"), &labels(), &targets).unwrap();
        assert_eq!(config.positives, vec![3, 1, 0]);
        assert_eq!(config.samples, 4);
        // raw (1−β)/(1−β^n): n=3 → 0.5/0.875, n=1 → 1, n=0 (as 1) → 1; scaled to sum 3.
        let raw = [0.5 / 0.875, 1.0, 1.0];
        let total: f64 = raw.iter().sum();
        for (w, r) in config.pos_weight.unwrap().iter().zip(raw) {
            assert!((w - r * 3.0 / total).abs() < 1e-12);
        }
    }

    #[test]
    fn unused_parameters_do_not_reach_the_output() {
        let targets = [1, 0, 0];
        let a = configure(&params("function: bce\ngamma: 1.0"), &labels(), &targets).unwrap();
        let b = configure(&params("function: bce\ngamma: 3.0"), &labels(), &targets).unwrap();
        assert_eq!(a, b);
        let focal =
            configure(&params("function: focal\ngamma: 1.0\nalpha: 0.5"), &labels(), &targets)
                .unwrap();
        assert_eq!((focal.gamma, focal.alpha), (1.0, Some(0.5)));
    }

    #[test]
    fn wrong_pos_weight_is_an_error() {
        let error = configure(&params("pos_weight: [1, 2]"), &labels(), &[0, 0, 0]).unwrap_err();
        assert!(
            error.to_string().contains("`pos_weight` has 2 values but the dataset has 3 labels"),
            "{error}"
        );
        let error = configure(
            &params("function: class_balanced\npos_weight: [1, 2, 3]"),
            &labels(),
            &[0, 0, 0],
        )
        .unwrap_err();
        assert!(error.to_string().contains("cannot be combined"), "{error}");
    }
}
