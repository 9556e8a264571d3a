//! The torch implementation of `train`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::train`.
use std::time::Instant;

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::models::{Classifier, ModelConfig, adapt_backbone_tensor};
use crate::nn::augment::Augment;
use crate::nn::checkpoint::{self, Initial};
use crate::nn::loss::Loss;
use crate::nn::optim::{Adam, AdamConfig, GradScaler};
use crate::nn::resume::{self, TrainingProgress};
use crate::nn::schedule::Schedule;
use crate::nn::shim::{self, HalfKind, SideStream};
use crate::nn::step::{
    GRAPH_WARMUP_STEPS, GraphedStep, StepOptions, Trainee, train_step, weights_to_channels_last,
};
use crate::nn::tensors::SplitTensors;
use crate::nn::{device, predict, weights};
use ablate_core::metrics::MetricRow;
use ablate_core::params::Params;
use ablate_core::stage::StageContext;
use ablate_stages::data::dataset::Dataset;
use ablate_stages::loss::LossConfig;
use ablate_stages::scoring::{macro_f1, score, score_at, tune_thresholds};

/// Everything that changes while training and goes into a checkpoint.
struct Trainer {
    vs: VarStore,
    model: Classifier,
    optimizer: Adam,
    scaler: Option<GradScaler>,
    best_weights: Vec<(String, Tensor)>,
    progress: TrainingProgress,
}

impl Trainer {
    fn checkpoint_tensors(&self) -> Vec<(String, Tensor)> {
        let mut tensors: Vec<(String, Tensor)> = weights::named_variables(&self.vs)
            .into_iter()
            .map(|(n, t)| (format!("model.{n}"), t))
            .collect();
        tensors.extend(
            self.best_weights.iter().map(|(n, t)| (format!("best.{n}"), t.shallow_clone())),
        );
        tensors.extend(self.optimizer.state());
        if let Some(scaler) = &self.scaler {
            tensors.extend(scaler.state());
        }
        tensors
    }

    /// Continues from the workspace's checkpoint when it fits; returns what was done.
    fn resume(
        &mut self,
        workspace: &std::path::Path,
        epochs: u32,
    ) -> anyhow::Result<Option<String>> {
        let checkpoint = match resume::read(workspace) {
            Ok(Some(checkpoint)) => checkpoint,
            Ok(None) => return Ok(None),
            Err(error) => {
                return Ok(Some(format!("unreadable checkpoint ignored ({error:#})")));
            }
        };
        if checkpoint.progress.epoch > epochs {
            return Ok(Some(format!(
                "checkpoint of epoch {} is past epochs = {epochs}; starting over",
                checkpoint.progress.epoch
            )));
        }
        let source = resume::path(workspace).display().to_string();
        let report = weights::load_into(
            &self.vs,
            checkpoint.with_prefix("model."),
            &[""],
            &source,
            &|_, _, _| None,
        )?;
        report.check_strict()?;
        self.optimizer.load_state(&checkpoint.tensors)?;
        if let Some(scaler) = &mut self.scaler {
            scaler.load_state(&checkpoint.tensors)?;
        }
        self.best_weights = checkpoint
            .with_prefix("best.")
            .into_iter()
            .map(|(n, t)| (n, t.to_device(self.vs.device())))
            .collect();
        self.progress = checkpoint.progress;
        Ok(Some(format!("continued from epoch {}", self.progress.epoch)))
    }

    fn keep_as_best(&mut self) {
        self.best_weights = weights::named_variables(&self.vs)
            .into_iter()
            .map(|(n, t)| (n, t.detach().copy()))
            .collect();
    }

    fn restore_best(&self) {
        tch::no_grad(|| {
            let variables = self.vs.variables();
            for (name, value) in &self.best_weights {
                variables[name].shallow_clone().copy_(value);
            }
        });
    }
}

fn precision(p: &Params) -> Option<HalfKind> {
    match p.str("precision") {
        "bf16" => Some(HalfKind::BFloat16),
        "fp16" => Some(HalfKind::Float16),
        _ => None,
    }
}

/// The seed of epoch `epoch`'s shuffling, augmentation and dropout.
fn epoch_seed(seed: i64, epoch: u32) -> i64 {
    seed.wrapping_mul(1_000_003).wrapping_add(i64::from(epoch))
}

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = ctx.params;
    let device = device::to_tch(ctx.device())?;
    shim::set_deterministic(p.bool("deterministic"))?;
    let dataset = Dataset::read(ctx.input("data"))?;
    let train = SplitTensors::new(&dataset, dataset.split(p.str("train_split"))?, device);
    let val_split = dataset.split(p.str("val_split"))?;
    let val = SplitTensors::new(&dataset, val_split, device);
    let loss_config = match ctx.optional_input("loss") {
        Some(dir) => LossConfig::read(dir)?,
        None => LossConfig::bce(&dataset.label_names),
    };
    if loss_config.labels != dataset.label_names {
        anyhow::bail!(
            "the loss was configured for labels {} but the dataset has {}",
            loss_config.labels.join(","),
            dataset.label_names.join(",")
        );
    }
    let initial = checkpoint::read_initial(ctx.input("model"))?;
    let config = ModelConfig {
        arch: initial.arch.clone(),
        labels: dataset.label_names.clone(),
        head_hidden: p.int("head_hidden"),
        dropout: p.float("dropout"),
        image_size: dataset.size,
    };
    let seed = p.int("seed");
    tch::manual_seed(seed);
    let vs = VarStore::new(device);
    let model = Classifier::new(&vs.root(), &config)?;
    let start = initialise(&vs, &model, initial, p.str("take"), &config.labels)?;
    let frozen = freeze(&vs, p.str("freeze"))?;
    let channels_last = p.bool("channels_last");
    if channels_last {
        weights_to_channels_last(&vs)?;
    }
    let optimizer = Adam::new(
        &vs,
        AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: p.float("weight_decay"),
            decoupled: p.str("optimizer") == "adamw",
        },
    );
    let half = precision(p);
    let scaler = (half == Some(HalfKind::Float16)).then(|| GradScaler::new(device));
    let mut trainer = Trainer {
        vs,
        model,
        optimizer,
        scaler,
        best_weights: Vec::new(),
        progress: TrainingProgress::default(),
    };

    let (epochs, batch_size) = (p.int("epochs") as u32, p.int("batch_size"));
    let batches = (train.len + batch_size - 1) / batch_size;
    let warmup_steps = (p.float("warmup_epochs") * batches as f64).round() as u64;
    let total_steps = u64::from(epochs) * batches as u64;
    let schedule = Schedule {
        base_lr: p.float("lr"),
        warmup_steps,
        cosine_steps: (p.str("schedule") == "cosine")
            .then(|| total_steps.saturating_sub(warmup_steps)),
    };
    let workspace = ctx.workspace().to_path_buf();
    let resumed = trainer.resume(&workspace, epochs)?;
    if let Some(note) = &resumed {
        ctx.progress.line(&format!("  {}: {note}", ctx.stage));
    }
    let loss = Loss::new(&loss_config, device);
    let cam_weight = p.float("cam_weight");
    let step_options = StepOptions {
        augment: Augment { flips: p.bool("flips"), degrees: p.float("rotation") },
        channels_last,
        half,
        cam_weight,
    };
    let labels = &config.labels;
    if cam_weight > 0.0
        && !trainer
            .vs
            .variables()
            .iter()
            .any(|(name, t)| name.starts_with("backbone.") && t.requires_grad())
    {
        anyhow::bail!(
            "`cam_weight` is {cam_weight} but the backbone is frozen (freeze = {}): the GradCAM regulariser has nothing to train",
            p.str("freeze")
        );
    }
    let graph_blocker = graph_blocker(p, device, warmup_steps);
    let graphed_training = p.bool("cuda_graph") && graph_blocker.is_none();
    let _side_stream = graphed_training.then(|| SideStream::enter(device)).transpose()?;
    let mut graphed: Option<GraphedStep> = None;
    let mut eager_steps = 0;
    let (train_split, val_name) = (p.str("train_split"), p.str("val_split"));
    let mut checkpointed = trainer.progress.epoch;
    let mut last_checkpoint = Instant::now();

    while trainer.progress.epoch < epochs && !trainer.progress.stopped_early {
        let epoch = trainer.progress.epoch + 1;
        tch::manual_seed(epoch_seed(seed, epoch));
        let started = Instant::now();
        let task = ctx.progress.task(format!("epoch {epoch}/{epochs}"), batches as u64);
        let order = Tensor::randperm(train.len, (Kind::Int64, device));
        let mut loss_sum = Tensor::zeros([], (Kind::Float, device));
        let mut cam_loss_sum = Tensor::zeros([], (Kind::Float, device));
        for b in 0..batches {
            let index = order.narrow(0, b * batch_size, batch_size.min(train.len - b * batch_size));
            let images = train.gather(&index);
            let labels = train.labels.index_select(0, &index);
            let lr = schedule.lr(trainer.progress.step);
            let mut trainee = Trainee {
                model: &trainer.model,
                optimizer: &mut trainer.optimizer,
                scaler: trainer.scaler.as_mut(),
                loss: &loss,
                options: &step_options,
            };
            let losses = if let Some(step) = graphed.as_ref().filter(|step| step.fits(&images)) {
                step.run(&images, &labels)?
            } else if graphed_training
                && graphed.is_none()
                && eager_steps >= GRAPH_WARMUP_STEPS
                && index.size()[0] == batch_size
            {
                graphed.insert(GraphedStep::capture(&mut trainee, &images, &labels, lr)?).losses()
            } else {
                eager_steps += 1;
                train_step(&mut trainee, &images, &labels, lr)?
            };
            trainer.progress.step += 1;
            let count = index.size()[0] as f64;
            loss_sum += losses.task * count;
            if let Some(cam) = losses.cam {
                cam_loss_sum += cam * count;
            }
            task.inc(1);
        }
        let train_loss = f64::try_from(loss_sum)? / train.len as f64;
        let cam_loss = (cam_weight > 0.0)
            .then(|| f64::try_from(cam_loss_sum))
            .transpose()?
            .map(|sum| sum / train.len as f64);
        if !train_loss.is_finite() || !cam_loss.unwrap_or(0.0).is_finite() {
            let kept = match checkpointed {
                0 => "no epoch had completed, so no checkpoint is kept".to_string(),
                k => format!("the checkpoint of epoch {k} is kept in {}", workspace.display()),
            };
            let precision = match half {
                Some(_) => format!(" or train in fp32 (precision = {})", p.str("precision")),
                None => String::new(),
            };
            let cam = cam_loss.map(|c| format!(" (GradCAM loss {c})")).unwrap_or_default();
            anyhow::bail!(
                "training loss is {train_loss}{cam} in epoch {epoch}: training diverged; lower the learning rate (lr = {}){precision}; {kept}",
                p.float("lr")
            );
        }
        let seconds = started.elapsed().as_secs_f64();
        let probabilities = predict::probabilities(&trainer.model, &val, batch_size);
        let scores = score(&probabilities, &val_split.labels, labels.len(), 0.5);
        let val_f1 = macro_f1(&scores);
        let improved = trainer.progress.best_epoch == 0 || val_f1 > trainer.progress.best_macro_f1;
        task.finish(format!(
            "loss {train_loss:.4}{}  val macro-F1 {val_f1:.4}{}  {:.0} img/s",
            cam_loss.map(|c| format!("  cam {c:.4}")).unwrap_or_default(),
            if improved { " *" } else { "" },
            train.len as f64 / seconds
        ));
        let rows = &mut trainer.progress.metrics;
        rows.push(MetricRow::new("loss", train_loss).split(train_split).epoch(epoch));
        if let Some(cam_loss) = cam_loss {
            rows.push(MetricRow::new("cam_loss", cam_loss).split(train_split).epoch(epoch));
        }
        rows.push(
            MetricRow::new("images_per_second", train.len as f64 / seconds)
                .split(train_split)
                .epoch(epoch),
        );
        rows.push(
            MetricRow::new("lr", schedule.lr(trainer.progress.step.saturating_sub(1)))
                .split(train_split)
                .epoch(epoch),
        );
        rows.push(MetricRow::new("macro_f1", val_f1).split(val_name).epoch(epoch));
        for (label, s) in labels.iter().zip(&scores) {
            rows.push(MetricRow::new("f1", s.f1).split(val_name).epoch(epoch).class(label));
        }
        if improved {
            trainer.keep_as_best();
            trainer.progress.best_epoch = epoch;
            trainer.progress.best_macro_f1 = val_f1;
        }
        if let Some(patience) = p.opt_int("patience")
            && i64::from(epoch - trainer.progress.best_epoch) >= patience
        {
            trainer.progress.stopped_early = true;
        }
        trainer.progress.epoch = epoch;
        let last = epoch == epochs || trainer.progress.stopped_early;
        if last || last_checkpoint.elapsed().as_secs_f64() >= p.float("checkpoint_seconds") {
            resume::write(&workspace, &trainer.progress, &trainer.checkpoint_tensors())?;
            checkpointed = epoch;
            last_checkpoint = Instant::now();
        }
    }

    trainer.restore_best();
    checkpoint::save(&ctx.out_dir, &config, &trainer.vs)?;
    let progress = &trainer.progress;
    for row in &progress.metrics {
        ctx.metric(row.clone());
    }
    ctx.metric(MetricRow::new("best_epoch", f64::from(progress.best_epoch)).split(val_name));
    ctx.metric(MetricRow::new("best_macro_f1", progress.best_macro_f1).split(val_name));
    ctx.metric(MetricRow::new("epochs_run", f64::from(progress.epoch)).split(train_split));
    let mut summary = format!(
        "{start}{frozen}; {}; best epoch {}/{}: val macro-F1 {:.4}",
        loss_config.describe(),
        progress.best_epoch,
        progress.epoch,
        progress.best_macro_f1
    );
    if cam_weight > 0.0 {
        summary += &format!("; GradCAM {} × {cam_weight}", p.str("cam_target"));
    }
    match (p.bool("cuda_graph"), graph_blocker) {
        (true, None) => summary += "; CUDA graph",
        (true, Some(why)) => summary += &format!("; eager, no CUDA graph: {why}"),
        (false, _) => {}
    }
    if progress.stopped_early {
        summary += &format!(" (stopped early after epoch {})", progress.epoch);
    }
    if let Some(note) = resumed {
        summary += &format!("; {note}");
    }
    if p.bool("tune_thresholds") {
        let probabilities = predict::probabilities(&trainer.model, &val, batch_size);
        let thresholds = tune_thresholds(&probabilities, &val_split.labels, labels.len());
        let tuned = score_at(&probabilities, &val_split.labels, &thresholds);
        for ((label, t), s) in labels.iter().zip(&thresholds).zip(&tuned) {
            ctx.metric(MetricRow::new("threshold", f64::from(*t)).split(val_name).class(label));
            ctx.metric(MetricRow::new("tuned_f1", s.f1).split(val_name).class(label));
        }
        ctx.metric(MetricRow::new("tuned_macro_f1", macro_f1(&tuned)).split(val_name));
        checkpoint::write_thresholds(&ctx.out_dir, labels, &thresholds, val_name)?;
        summary += &format!(
            "; tuned thresholds {:?} (val macro-F1 {:.4}, optimistic)",
            thresholds,
            macro_f1(&tuned)
        );
    }
    ctx.set_summary(summary);
    Ok(())
}

/// Loads what the input model provides (per `take`) into the freshly initialised model;
/// returns a description for the summary.
fn initialise(
    vs: &VarStore,
    model: &Classifier,
    initial: Initial,
    take: &str,
    labels: &[String],
) -> anyhow::Result<String> {
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
    let adapt = |name: &str, t: &Tensor, shape: &[i64]| {
        adapt_backbone_tensor(model.backbone(), name, t, shape)
    };
    let report = weights::load_into(vs, tensors, &[], "the input model", &adapt)?;
    if !report.unexpected.is_empty() || !report.mismatched.is_empty() {
        anyhow::bail!("{report}");
    }
    Ok(format!("{} tensors from the input model", report.loaded))
}

/// Why the step cannot be replayed as a CUDA graph, if it cannot.
fn graph_blocker(p: &Params, device: tch::Device, warmup_steps: u64) -> Option<&'static str> {
    if !device.is_cuda() {
        Some("the device is not a GPU")
    } else if p.str("schedule") != "constant" || warmup_steps > 0 {
        Some("the learning rate changes during training")
    } else if p.float("cam_weight") > 0.0 {
        Some("the GradCAM regulariser is on")
    } else {
        None
    }
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
        let matching: Vec<&Tensor> =
            variables.iter().filter(|(n, _)| n.starts_with(prefix)).map(|(_, t)| t).collect();
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
