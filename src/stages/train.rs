//! `train`: fits a classifier on a dataset's training split and keeps its best epoch.
//!
//! The model comes from its `model` input: an initial model (`backbone`, `attention`) or a
//! trained one, to fine-tune further (`take: all`, e.g. the study's Task 1.2 → 1.3) or to reuse
//! only its backbone (`take: backbone`, e.g. pre-training on the eight ODIR labels). Whatever the
//! input does not provide — the head, a new attention block, a randomly initialised backbone —
//! is drawn from `seed`. `freeze` fixes the backbone or name prefixes; frozen BatchNorm layers
//! keep their running statistics (see `models::layers`).
//!
//! Adam on binary cross-entropy over the labels; mini-batches drawn from a seeded permutation of
//! the split resident on the device; flips and rotation applied on the device; after every epoch
//! the validation macro-F1 (threshold 0.5) is measured and the weights of the best epoch (strictly
//! better than all before) are kept. Per-epoch loss and validation scores go to the metrics.

use crate::core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use crate::core::stage::{InputSpec, KindInfo, Resource};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("take", T::Choice(&["all", "backbone"]), D::Str("all"), "what to take from the input model"),
    ParamSpec::new("freeze", T::Str, D::Str("none"), "`none`, `backbone`, or comma-separated parameter name prefixes to keep fixed"),
    ParamSpec::new("epochs", T::Int { min: 1, max: 10_000 }, D::Int(25), "training epochs"),
    ParamSpec::new("batch_size", T::Int { min: 1, max: 65_536 }, D::Int(32), "mini-batch size"),
    ParamSpec::new("lr", T::Float { min: 0.0, max: 10.0 }, D::Float(1e-3), "Adam learning rate"),
    ParamSpec::new("seed", T::Int { min: 0, max: i64::MAX }, D::Int(0), "seed of initialisation, shuffling and augmentation"),
    ParamSpec::new("flips", T::Bool, D::Bool(true), "random horizontal and vertical flips"),
    ParamSpec::new("rotation", T::Float { min: 0.0, max: 180.0 }, D::Float(15.0), "random rotation range in degrees (0: off)"),
    ParamSpec::new("head_hidden", T::Int { min: 1, max: 65_536 }, D::Int(512), "hidden width of the classifier head"),
    ParamSpec::new("dropout", T::Float { min: 0.0, max: 1.0 }, D::Float(0.5), "dropout before the last layer"),
    ParamSpec::new("train_split", T::Str, D::Str("train"), "split to train on"),
    ParamSpec::new("val_split", T::Str, D::Str("val"), "split that selects the best epoch"),
];

pub const INFO: KindInfo = KindInfo {
    kind: "train",
    version: 2,
    doc: "train a classifier; keep the epoch with the best validation macro-F1",
    params: PARAMS,
    inputs: &[
        InputSpec { role: "data", doc: "a dataset from `load` or `synthetic`" },
        InputSpec { role: "model", doc: "the model to start from: `backbone`, `attention` or `train`" },
    ],
    resource: Resource::Device,
};

#[cfg(feature = "torch")]
pub use on_device::execute;

/// The torch implementation, run in the `ablate-torch` worker.
#[cfg(feature = "torch")]
mod on_device {
    use crate::core::stage::StageContext;
    use std::time::Instant;
    use tch::nn::{OptimizerConfig, VarStore};
    use tch::{Kind, Reduction, Tensor};
    use crate::core::metrics::MetricRow;
    use crate::data::dataset::Dataset;
    use crate::models::{Classifier, ModelConfig, adapt_backbone_tensor};
    use crate::nn::augment::Augment;
    use crate::nn::tensors::{SplitTensors, normalize, to_unit};
    use crate::nn::checkpoint::{self, Initial};
    use crate::nn::{device, predict, weights};
    use crate::scoring::{macro_f1, score};

    /// Weights of the best epoch so far, kept on the device.
    struct BestEpoch {
        epoch: u32,
        macro_f1: f64,
        weights: Vec<(String, Tensor)>,
    }

    pub fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
        let p = ctx.params;
        let device = device::to_tch(ctx.device())?;
        let dataset = Dataset::read(ctx.input("data"))?;
        let train = SplitTensors::new(&dataset, dataset.split(p.str("train_split"))?, device);
        let val_split = dataset.split(p.str("val_split"))?;
        let val = SplitTensors::new(&dataset, val_split, device);
        let initial = checkpoint::read_initial(ctx.input("model"))?;
        let config = ModelConfig {
            arch: initial.arch.clone(),
            labels: dataset.label_names.clone(),
            head_hidden: p.int("head_hidden"),
            dropout: p.float("dropout"),
            image_size: dataset.size,
        };
        tch::manual_seed(p.int("seed"));
        let vs = VarStore::new(device);
        let model = Classifier::new(&vs.root(), &config)?;
        let start = initialise(&vs, &model, initial, p.str("take"), &config.labels)?;
        let frozen = freeze(&vs, p.str("freeze"))?;
        let mut optimizer = tch::nn::Adam::default().build(&vs, p.float("lr"))?;
        let augment = Augment { flips: p.bool("flips"), degrees: p.float("rotation") };
        let (epochs, batch_size) = (p.int("epochs") as u32, p.int("batch_size"));
        let batches = (train.len + batch_size - 1) / batch_size;

        let mut best: Option<BestEpoch> = None;
        for epoch in 1..=epochs {
            let started = Instant::now();
            let task = ctx.progress.task(format!("epoch {epoch}/{epochs}"), batches as u64);
            let order = Tensor::randperm(train.len, (Kind::Int64, device));
            let mut loss_sum = Tensor::zeros([], (Kind::Float, device));
            for b in 0..batches {
                let index = order.narrow(0, b * batch_size, batch_size.min(train.len - b * batch_size));
                let x = normalize(&augment.apply(&to_unit(&train.images.index_select(0, &index))));
                let y = train.labels.index_select(0, &index);
                let loss = model.forward_t(&x, true).binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::Mean);
                optimizer.backward_step(&loss);
                loss_sum += loss.detach() * index.size()[0] as f64;
                task.inc(1);
            }
            let train_loss = f64::try_from(loss_sum)? / train.len as f64;
            if !train_loss.is_finite() {
                anyhow::bail!("training loss is {train_loss} at epoch {epoch}; lower the learning rate (lr = {})", p.float("lr"));
            }
            let seconds = started.elapsed().as_secs_f64();
            let probabilities = predict::probabilities(&model, &val, batch_size.max(64));
            let scores = score(&probabilities, &val_split.labels, config.labels.len(), 0.5);
            let val_f1 = macro_f1(&scores);
            let improved = best.as_ref().is_none_or(|b| val_f1 > b.macro_f1);
            task.finish(format!(
                "loss {train_loss:.4}  val macro-F1 {val_f1:.4}{}  {:.0} img/s",
                if improved { " *" } else { "" },
                train.len as f64 / seconds
            ));
            ctx.metric(MetricRow::new("loss", train_loss).split(p.str("train_split")).epoch(epoch));
            ctx.metric(MetricRow::new("images_per_second", train.len as f64 / seconds).split(p.str("train_split")).epoch(epoch));
            ctx.metric(MetricRow::new("macro_f1", val_f1).split(p.str("val_split")).epoch(epoch));
            for (label, s) in config.labels.iter().zip(&scores) {
                ctx.metric(MetricRow::new("f1", s.f1).split(p.str("val_split")).epoch(epoch).class(label));
            }
            if improved {
                let weights = vs.variables().into_iter().map(|(name, t)| (name, t.detach().copy())).collect();
                best = Some(BestEpoch { epoch, macro_f1: val_f1, weights });
            }
        }
        let BestEpoch { epoch: best_epoch, macro_f1: best_f1, weights } = best.expect("at least one epoch");
        tch::no_grad(|| {
            let variables = vs.variables();
            for (name, value) in &weights {
                variables[name].shallow_clone().copy_(value);
            }
        });
        checkpoint::save(&ctx.out_dir, &config, &vs)?;
        ctx.metric(MetricRow::new("best_epoch", best_epoch as f64).split(p.str("val_split")));
        ctx.metric(MetricRow::new("best_macro_f1", best_f1).split(p.str("val_split")));
        ctx.set_summary(format!("{start}{frozen}; best epoch {best_epoch}/{epochs}: val macro-F1 {best_f1:.4}"));
        Ok(())
    }

    /// Loads what the input model provides (per `take`) into the freshly initialised model;
    /// returns a description for the summary.
    fn initialise(vs: &VarStore, model: &Classifier, initial: Initial, take: &str, labels: &[String]) -> anyhow::Result<String> {
        let mut tensors = initial.weights;
        match (take, &initial.labels) {
            ("backbone", _) => tensors.retain(|(name, _)| name.starts_with("backbone.")),
            (_, Some(theirs)) if theirs != labels => anyhow::bail!(
                "the input model predicts {} ({}) but the dataset has {} ({}); set `take: backbone` to reuse only its backbone",
                theirs.len(),
                theirs.join(","),
                labels.len(),
                labels.join(",")
            ),
            _ => {}
        }
        if tensors.is_empty() {
            return Ok(format!("{}: random initialisation", initial.arch.backbone));
        }
        let adapt = |name: &str, t: &Tensor, shape: &[i64]| adapt_backbone_tensor(model.backbone(), name, t, shape);
        let report = weights::load_into(vs, tensors, &[], "the input model", &adapt)?;
        if !report.unexpected.is_empty() || !report.mismatched.is_empty() {
            anyhow::bail!("{report}");
        }
        Ok(format!("{} tensors from the input model", report.loaded))
    }

    /// Applies `freeze` (see the kind's doc); returns a description for the summary.
    fn freeze(vs: &VarStore, spec: &str) -> anyhow::Result<String> {
        let prefixes: Vec<&str> = match spec.trim() {
            "none" | "" => return Ok(String::new()),
            "backbone" => vec!["backbone."],
            list => list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
        };
        let variables = vs.variables();
        let mut frozen = 0;
        for prefix in &prefixes {
            let matching: Vec<&Tensor> = variables.iter().filter(|(n, _)| n.starts_with(prefix)).map(|(_, t)| t).collect();
            if matching.is_empty() {
                anyhow::bail!("`freeze`: no parameter name starts with `{prefix}`");
            }
            for tensor in matching {
                if tensor.requires_grad() {
                    let _ = tensor.shallow_clone().set_requires_grad(false);
                    frozen += 1;
                }
            }
        }
        Ok(format!("; {frozen} tensors frozen ({})", prefixes.join(", ")))
    }
}
