//! The torch implementation of `train`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::train`.
//!
//! `execute` reads the inputs, builds the learner (`nn::learner`), continues from the
//! workspace's checkpoint when there is one, then runs epochs: [`Trainer::run_epoch`] trains
//! on one permutation of the training split, [`Trainer::record_epoch`] validates, keeps the
//! best weights and writes a checkpoint when due. The best epoch's weights are the output, and
//! [`Trainer::finish`] writes the last checkpoint, which shares them with the output.
use std::path::{Path, PathBuf};
use std::time::Instant;

use ablate_core::metrics::MetricRow;
use ablate_core::stage::StageContext;
use ablate_stages::data::dataset::Dataset;
use ablate_stages::loss::LossConfig;
use ablate_stages::metric;
use ablate_stages::scoring::{macro_f1, score, score_at, tune_thresholds};
use ablate_stages::train::{Freeze, Precision, Schedule, Take, TrainParams};
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::models::{Classifier, ModelConfig, adapt_backbone_tensor};
use crate::nn::augment::Augment;
use crate::nn::checkpoint::{self, Initial};
use crate::nn::learner::{Learner, Settings};
use crate::nn::loss::Loss;
use crate::nn::resume::{self, TrainingProgress};
use crate::nn::schedule::LrSchedule;
use crate::nn::shim::{self, SideStream};
use crate::nn::step::{GRAPH_WARMUP_STEPS, GraphedStep, StepLosses, train_step};
use crate::nn::tensors::SplitTensors;
use crate::nn::{device, predict, weights};

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = TrainParams::decode(ctx.params);
    let device = device::to_tch(ctx.device())?;
    shim::set_deterministic(p.deterministic)?;
    let dataset = Dataset::read(ctx.input("data"))?;
    let val_split = dataset.split(&p.val_split)?;
    let data = Data {
        train: SplitTensors::new(&dataset, dataset.split(&p.train_split)?, device),
        val: SplitTensors::new(&dataset, val_split, device),
        val_truth: val_split.labels.clone(),
        labels: dataset.label_names.clone(),
    };
    let loss_config = read_loss(ctx.optional_input("loss"), &dataset)?;
    let initial = checkpoint::read_initial(ctx.input("model"))?;
    let config = ModelConfig {
        arch: initial.arch.clone(),
        labels: dataset.label_names.clone(),
        head_hidden: p.head_hidden,
        dropout: p.dropout,
        image_size: dataset.size,
    };
    tch::manual_seed(p.seed);
    let settings = Settings {
        precision: p.precision,
        channels_last: p.channels_last,
        optimizer: p.optimizer,
        weight_decay: p.weight_decay,
        augment: Augment { flips: p.flips, degrees: p.rotation },
        cam_weight: p.cam_weight,
    };
    let (learner, (start, frozen)) = Learner::build(&config, device, &settings, |vs, model| {
        let start = initialise(vs, model, initial, p.take, &config.labels)?;
        Ok((start, freeze(vs, &p.freeze)?))
    })?;
    if p.cam_weight > 0.0 && !backbone_trains(&learner.vs) {
        anyhow::bail!(
            "`cam_weight` is {} but the backbone is frozen (freeze = {}): the GradCAM regulariser has nothing to train",
            p.cam_weight,
            p.freeze
        );
    }

    let batches = (data.train.len + p.batch_size - 1) / p.batch_size;
    let schedule = lr_schedule(&p, batches);
    let warmup_steps = schedule.warmup_steps;
    let mut trainer = Trainer {
        learner,
        loss: Loss::new(&loss_config, device),
        schedule,
        best_weights: Vec::new(),
        progress: TrainingProgress::default(),
        workspace: ctx.workspace().to_path_buf(),
        graph: GraphPolicy::new(&p, device, warmup_steps),
        checkpointed: 0,
        last_checkpoint: Instant::now(),
    };
    let resumed = trainer.resume(p.epochs)?;
    if let Some(note) = &resumed {
        ctx.progress.line(&format!("  {}: {note}", ctx.stage));
    }
    let _side_stream = trainer.graph.wanted().then(|| SideStream::enter(device)).transpose()?;
    while trainer.progress.epoch < p.epochs && !trainer.progress.stopped_early {
        let epoch = trainer.progress.epoch + 1;
        let task = ctx.progress.task(format!("epoch {}/{}", epoch, p.epochs), batches as u64);
        let losses = trainer.run_epoch(&p, epoch, &data, || task.inc(1))?;
        task.finish(trainer.record_epoch(&p, epoch, losses, &data)?);
        ctx.progress.unit_done(ctx.stage);
    }

    let model_file = checkpoint::save(&ctx.out_dir, &config, &trainer.best_weights)?;
    trainer.finish(&model_file)?;
    trainer.restore_best();
    let progress = &trainer.progress;
    for row in &progress.metrics {
        ctx.metric(row.clone());
    }
    let (train_split, val_name) = (p.train_split.as_str(), p.val_split.as_str());
    ctx.metric(MetricRow::new(metric::BEST_EPOCH, f64::from(progress.best_epoch)).split(val_name));
    ctx.metric(MetricRow::new(metric::BEST_MACRO_F1, progress.best_macro_f1).split(val_name));
    ctx.metric(MetricRow::new(metric::EPOCHS_RUN, f64::from(progress.epoch)).split(train_split));
    let mut summary = format!(
        "{start}{frozen}; {}; best epoch {}/{}: val macro-F1 {:.4}",
        loss_config.describe(),
        progress.best_epoch,
        progress.epoch,
        progress.best_macro_f1
    );
    if p.cam_weight > 0.0 {
        summary += &format!("; GradCAM {} × {}", p.cam_target, p.cam_weight);
    }
    summary += &trainer.graph.summary();
    if progress.stopped_early {
        summary += &format!(" (stopped early after epoch {})", progress.epoch);
    }
    if let Some(note) = resumed {
        summary += &format!("; {note}");
    }
    if p.tune_thresholds {
        summary += &tune_on_validation(ctx, &trainer, &data, &p)?;
    }
    ctx.set_summary(summary);
    Ok(())
}

/// Tunes each label's threshold on validation for the kept model, records them (metrics and
/// beside the model) with the scores at them; returns what the summary says of them.
fn tune_on_validation(
    ctx: &mut StageContext,
    trainer: &Trainer,
    data: &Data,
    p: &TrainParams,
) -> anyhow::Result<String> {
    let (labels, val_name) = (&data.labels, p.val_split.as_str());
    let probabilities = predict::probabilities(&trainer.learner.model, &data.val, p.batch_size);
    let thresholds = tune_thresholds(&probabilities, &data.val_truth, labels.len());
    let tuned = score_at(&probabilities, &data.val_truth, &thresholds);
    for ((label, t), s) in labels.iter().zip(&thresholds).zip(&tuned) {
        ctx.metric(MetricRow::new(metric::THRESHOLD, f64::from(*t)).split(val_name).class(label));
        ctx.metric(MetricRow::new(metric::TUNED_F1, s.f1).split(val_name).class(label));
    }
    ctx.metric(MetricRow::new(metric::TUNED_MACRO_F1, macro_f1(&tuned)).split(val_name));
    checkpoint::write_thresholds(&ctx.out_dir, labels, &thresholds, val_name)?;
    Ok(format!(
        "; tuned thresholds {:?} (val macro-F1 {:.4}, optimistic)",
        thresholds,
        macro_f1(&tuned)
    ))
}

/// The learning rate per step of a training of `batches` steps per epoch: warm-up over
/// `warmup_epochs`, then constant or cosine down to the last step.
fn lr_schedule(p: &TrainParams, batches: i64) -> LrSchedule {
    let warmup_steps = (p.warmup_epochs * batches as f64).round() as u64;
    let total_steps = u64::from(p.epochs) * batches as u64;
    LrSchedule {
        base_lr: p.lr,
        warmup_steps,
        cosine_steps: (p.schedule == Schedule::Cosine)
            .then(|| total_steps.saturating_sub(warmup_steps)),
    }
}

/// The loss of the `loss` input, or BCE without one; it must know the dataset's labels.
fn read_loss(dir: Option<&Path>, dataset: &Dataset) -> anyhow::Result<LossConfig> {
    let config = match dir {
        Some(dir) => LossConfig::read(dir)?,
        None => LossConfig::bce(&dataset.label_names),
    };
    if config.labels != dataset.label_names {
        anyhow::bail!(
            "the loss was configured for labels {} but the dataset has {}",
            config.labels.join(","),
            dataset.label_names.join(",")
        );
    }
    Ok(config)
}

fn backbone_trains(vs: &VarStore) -> bool {
    vs.variables().iter().any(|(name, t)| name.starts_with("backbone.") && t.requires_grad())
}

/// The seed of epoch `epoch`'s shuffling, augmentation and dropout.
fn epoch_seed(seed: i64, epoch: u32) -> i64 {
    seed.wrapping_mul(1_000_003).wrapping_add(i64::from(epoch))
}

/// The splits a training reads, on its device, and the labels they have.
struct Data {
    train: SplitTensors,
    val: SplitTensors,
    /// The validation split's true labels, N×labels 0/1.
    val_truth: Vec<u8>,
    labels: Vec<String>,
}

/// The losses of one epoch, summed on the device over its images.
struct EpochLosses {
    task: Tensor,
    cam: Tensor,
    seconds: f64,
}

/// A training in progress: the learner and everything a checkpoint holds or needs.
struct Trainer {
    learner: Learner,
    loss: Loss,
    schedule: LrSchedule,
    best_weights: Vec<(String, Tensor)>,
    progress: TrainingProgress,
    workspace: PathBuf,
    graph: GraphPolicy,
    /// The epoch of the last checkpoint written (0: none).
    checkpointed: u32,
    last_checkpoint: Instant,
}

impl Trainer {
    /// Trains on one permutation of the training split, drawn from the epoch's seed;
    /// `batch_done` is called after each batch.
    fn run_epoch(
        &mut self,
        p: &TrainParams,
        epoch: u32,
        data: &Data,
        batch_done: impl Fn(),
    ) -> anyhow::Result<EpochLosses> {
        let started = Instant::now();
        let (train, device) = (&data.train, self.learner.vs.device());
        tch::manual_seed(epoch_seed(p.seed, epoch));
        let order = Tensor::randperm(train.len, (Kind::Int64, device));
        let mut task = Tensor::zeros([], (Kind::Float, device));
        let mut cam = Tensor::zeros([], (Kind::Float, device));
        for start in (0..train.len).step_by(p.batch_size as usize) {
            let index = order.narrow(0, start, p.batch_size.min(train.len - start));
            let count = index.size()[0];
            let images = train.gather(&index);
            let labels = train.labels.index_select(0, &index);
            let lr = self.schedule.lr(self.progress.step);
            let full = count == p.batch_size;
            let losses =
                self.graph.step(&mut self.learner, &self.loss, &images, &labels, lr, full)?;
            self.progress.step += 1;
            task += losses.task * count as f64;
            if let Some(batch_cam) = losses.cam {
                cam += batch_cam * count as f64;
            }
            batch_done();
        }
        Ok(EpochLosses { task, cam, seconds: started.elapsed().as_secs_f64() })
    }

    /// Validates after `epoch`, records its metrics, keeps the weights when they are the best
    /// so far, decides early stopping and writes a checkpoint when due; returns the progress
    /// line. A loss that is not finite is an error naming what is kept.
    fn record_epoch(
        &mut self,
        p: &TrainParams,
        epoch: u32,
        sums: EpochLosses,
        data: &Data,
    ) -> anyhow::Result<String> {
        let n = data.train.len as f64;
        let train_loss = f64::try_from(sums.task)? / n;
        let cam_loss =
            (p.cam_weight > 0.0).then(|| f64::try_from(sums.cam)).transpose()?.map(|sum| sum / n);
        if !train_loss.is_finite() || !cam_loss.unwrap_or(0.0).is_finite() {
            anyhow::bail!(self.divergence(p, epoch, train_loss, cam_loss));
        }
        let probabilities = predict::probabilities(&self.learner.model, &data.val, p.batch_size);
        let scores = score(&probabilities, &data.val_truth, data.labels.len(), 0.5);
        let val_f1 = macro_f1(&scores);
        let improved = self.progress.best_epoch == 0 || val_f1 > self.progress.best_macro_f1;
        let images_per_second = n / sums.seconds;
        let (train_split, val_split) = (p.train_split.as_str(), p.val_split.as_str());
        let rows = &mut self.progress.metrics;
        rows.push(MetricRow::new(metric::LOSS, train_loss).split(train_split).epoch(epoch));
        if let Some(cam_loss) = cam_loss {
            rows.push(MetricRow::new(metric::CAM_LOSS, cam_loss).split(train_split).epoch(epoch));
        }
        rows.push(
            MetricRow::new(metric::IMAGES_PER_SECOND, images_per_second)
                .split(train_split)
                .epoch(epoch),
        );
        let lr = self.schedule.lr(self.progress.step.saturating_sub(1));
        rows.push(MetricRow::new(metric::LR, lr).split(train_split).epoch(epoch));
        rows.push(MetricRow::new(metric::MACRO_F1, val_f1).split(val_split).epoch(epoch));
        for (label, s) in data.labels.iter().zip(&scores) {
            rows.push(MetricRow::new(metric::F1, s.f1).split(val_split).epoch(epoch).class(label));
        }
        if improved {
            self.keep_as_best();
            self.progress.best_epoch = epoch;
            self.progress.best_macro_f1 = val_f1;
        }
        if p.patience.is_some_and(|patience| epoch - self.progress.best_epoch >= patience) {
            self.progress.stopped_early = true;
        }
        self.progress.epoch = epoch;
        let last = epoch == p.epochs || self.progress.stopped_early;
        // The last epoch's checkpoint is written with the result (`finish`).
        if !last && self.last_checkpoint.elapsed().as_secs_f64() >= p.checkpoint_seconds {
            resume::write(&self.workspace, &self.progress, &self.checkpoint_tensors())?;
            self.checkpointed = epoch;
            self.last_checkpoint = Instant::now();
        }
        Ok(format!(
            "loss {train_loss:.4}{}  val macro-F1 {val_f1:.4}{}  {} img/s",
            cam_loss.map(|c| format!("  cam {c:.4}")).unwrap_or_default(),
            if improved { " *" } else { "" },
            three_figures(images_per_second),
        ))
    }

    /// The error of a loss that is not finite.
    fn divergence(&self, p: &TrainParams, epoch: u32, loss: f64, cam: Option<f64>) -> String {
        let kept = match self.checkpointed {
            0 => "no epoch had completed, so no checkpoint is kept".to_string(),
            k => format!("the checkpoint of epoch {k} is kept in {}", self.workspace.display()),
        };
        let precision = match p.precision {
            Precision::Fp32 => String::new(),
            other => format!(" or train in fp32 (precision = {other})"),
        };
        let cam = cam.map(|c| format!(" (GradCAM loss {c})")).unwrap_or_default();
        format!(
            "training loss is {loss}{cam} in epoch {epoch}: training diverged; lower the learning rate (lr = {}){precision}; {kept}",
            p.lr
        )
    }

    fn checkpoint_tensors(&self) -> Vec<(String, Tensor)> {
        let learner = &self.learner;
        let mut tensors: Vec<(String, Tensor)> = weights::named_variables(&learner.vs)
            .into_iter()
            .map(|(n, t)| (format!("model.{n}"), t))
            .collect();
        tensors.extend(
            self.best_weights.iter().map(|(n, t)| (format!("best.{n}"), t.shallow_clone())),
        );
        tensors.extend(learner.optimizer.state());
        if let Some(scaler) = &learner.scaler {
            tensors.extend(scaler.state());
        }
        tensors
    }

    /// Writes the checkpoint of the finished training, whose best weights are `model_file`.
    fn finish(&mut self, model_file: &Path) -> anyhow::Result<()> {
        let tensors = self.checkpoint_tensors();
        resume::write_finished(&self.workspace, &self.progress, &tensors, model_file)?;
        self.checkpointed = self.progress.epoch;
        Ok(())
    }

    /// Continues from the workspace's checkpoint when it fits; returns what was done.
    fn resume(&mut self, epochs: u32) -> anyhow::Result<Option<String>> {
        let checkpoint = match resume::read(&self.workspace) {
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
        let source = resume::path(&self.workspace).display().to_string();
        let learner = &mut self.learner;
        let model = checkpoint.with_prefix("model.");
        let report = weights::load_into(&learner.vs, model, &[""], &source, &|_, _, _| None)?;
        report.check_strict()?;
        learner.optimizer.load_state(&checkpoint.tensors)?;
        if let Some(scaler) = &mut learner.scaler {
            scaler.load_state(&checkpoint.tensors)?;
        }
        let device = learner.vs.device();
        self.best_weights = checkpoint
            .with_prefix("best.")
            .into_iter()
            .map(|(n, t)| (n, t.to_device(device)))
            .collect();
        self.progress = checkpoint.progress;
        self.checkpointed = self.progress.epoch;
        Ok(Some(format!("continued from epoch {}", self.progress.epoch)))
    }

    fn keep_as_best(&mut self) {
        self.best_weights = weights::named_variables(&self.learner.vs)
            .into_iter()
            .map(|(n, t)| (n, t.detach().copy()))
            .collect();
    }

    fn restore_best(&self) {
        tch::no_grad(|| {
            let variables = self.learner.vs.variables();
            for (name, value) in &self.best_weights {
                variables[name].shallow_clone().copy_(value);
            }
        });
    }
}

/// Whether the step runs eagerly or is replayed as a CUDA graph (`nn::step::GraphedStep`):
/// asked for with `cuda_graph`, possible on a GPU with a constant learning rate and no GradCAM
/// regulariser; captured after a few eager steps, replayed for every full batch.
struct GraphPolicy {
    asked: bool,
    /// Why the step cannot be replayed, if it cannot.
    blocker: Option<&'static str>,
    graphed: Option<GraphedStep>,
    eager_steps: u32,
}

impl GraphPolicy {
    fn new(p: &TrainParams, device: tch::Device, warmup_steps: u64) -> GraphPolicy {
        let blocker = if !device.is_cuda() {
            Some("the device is not a GPU")
        } else if p.schedule != Schedule::Constant || warmup_steps > 0 {
            Some("the learning rate changes during training")
        } else if p.cam_weight > 0.0 {
            Some("the GradCAM regulariser is on")
        } else {
            None
        };
        GraphPolicy { asked: p.cuda_graph, blocker, graphed: None, eager_steps: 0 }
    }

    /// Whether steps will be replayed as a graph (which needs a side stream).
    fn wanted(&self) -> bool {
        self.asked && self.blocker.is_none()
    }

    /// One step on a batch; `full` when it has the batch size, which a graph needs.
    fn step(
        &mut self,
        learner: &mut Learner,
        loss: &Loss,
        images: &Tensor,
        labels: &Tensor,
        lr: f64,
        full: bool,
    ) -> anyhow::Result<StepLosses> {
        if let Some(step) = self.graphed.as_ref().filter(|step| step.fits(images)) {
            return step.run(images, labels);
        }
        let mut trainee = learner.trainee(loss);
        if self.wanted() && self.graphed.is_none() && self.eager_steps >= GRAPH_WARMUP_STEPS && full
        {
            let graphed = GraphedStep::capture(&mut trainee, images, labels, lr)?;
            return Ok(self.graphed.insert(graphed).losses());
        }
        self.eager_steps += 1;
        train_step(&mut trainee, images, labels, lr)
    }

    /// What the summary says of it.
    fn summary(&self) -> String {
        match (self.asked, self.blocker) {
            (true, None) => "; CUDA graph".into(),
            (true, Some(why)) => format!("; eager, no CUDA graph: {why}"),
            (false, _) => String::new(),
        }
    }
}

/// Loads what the input model provides (per `take`) into the freshly initialised model;
/// returns a description for the summary.
fn initialise(
    vs: &VarStore,
    model: &Classifier,
    initial: Initial,
    take: Take,
    labels: &[String],
) -> anyhow::Result<String> {
    let mut tensors = initial.weights;
    match (take, &initial.labels) {
        (Take::Backbone, _) => tensors.retain(|(name, _)| name.starts_with("backbone.")),
        (Take::All, Some(theirs)) if theirs != labels => anyhow::bail!(
            "the input model predicts {} ({}) but the dataset has {} ({}); set `take: backbone` to reuse only its backbone",
            theirs.len(),
            theirs.join(","),
            labels.len(),
            labels.join(",")
        ),
        (Take::All, _) => {}
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

/// Applies `freeze` (see the kind's doc); returns a description for the summary.
fn freeze(vs: &VarStore, freeze: &Freeze) -> anyhow::Result<String> {
    let prefixes = freeze.prefixes();
    if prefixes.is_empty() {
        return Ok(String::new());
    }
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

/// A rate to about three significant figures: `412`, `41.2`, `4.12`, `0.412`.
fn three_figures(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        v if v >= 1.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}
