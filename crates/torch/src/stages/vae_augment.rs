//! The torch implementation of `vae_augment`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::vae_augment`.
use anyhow::Context;
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use crate::models::vae::{self, ConvVae};
use crate::nn::optim::{Adam, AdamConfig};
use crate::nn::tensors::{SplitTensors, to_unit};
use crate::nn::{device, shim};
use ablate_core::metrics::MetricRow;
use ablate_core::stage::StageContext;
use ablate_stages::data::dataset::{Dataset, Split};
use ablate_stages::vae_augment::{VaeAugmentParams, quotas, sample_grid, single_label_rows};

/// How each VAE is trained.
pub(super) struct Training {
    pub epochs: u32,
    pub batch_size: i64,
    pub lr: f64,
}

/// The seed of the VAE of the label in column `label`.
fn label_seed(seed: i64, label: usize) -> i64 {
    seed.wrapping_mul(1_000_003).wrapping_add(label as i64)
}

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = VaeAugmentParams::decode(ctx.params);
    let device = device::to_tch(ctx.device())?;
    shim::set_deterministic(p.deterministic)?;
    let dataset = Dataset::read(ctx.input("data"))?;
    let split_name = p.split.as_str();
    let split = dataset.split(split_name).context("`split`")?;
    let n_labels = dataset.label_names.len();
    let positives = split.positives(n_labels);
    let quotas = quotas(&dataset.label_names, &positives, p.labels.as_deref())?;
    let training = Training { epochs: p.epochs, batch_size: p.batch_size, lr: p.lr };
    let tensors = SplitTensors::new(&dataset, split, device);

    let sources: Vec<Vec<i64>> =
        quotas.iter().map(|q| single_label_rows(&split.labels, n_labels, q.label)).collect();
    if let Some((quota, _)) = quotas.iter().zip(&sources).find(|(_, rows)| rows.is_empty()) {
        let label = &dataset.label_names[quota.label];
        anyhow::bail!(
            "`labels`: no image of split `{split_name}` has `{label}` as its only label, so there is nothing to train its VAE on"
        );
    }

    let mut augmented = split.clone();
    let mut report = Vec::new();
    for (quota, rows) in quotas.iter().zip(&sources) {
        let label = &dataset.label_names[quota.label];
        tch::manual_seed(label_seed(p.seed, quota.label));
        let vs = VarStore::new(device);
        let model = ConvVae::new(&vs.root(), dataset.size, p.latent_dim)?;
        let images = tensors.gather(&Tensor::from_slice(rows).to_device(device));
        let task = ctx.progress.task(format!("vae {label}"), u64::from(training.epochs));
        let losses = fit(&vs, &model, &images, &training, |epoch, loss| {
            task.message(format!("epoch {epoch} loss {loss:.2}"));
            task.inc(1);
        })?;
        let generated = generate(&model, quota.count as i64, training.batch_size)?;
        task.finish(format!(
            "{} images, loss {:.2} → {:.2}; {} generated",
            rows.len(),
            losses[0],
            losses[losses.len() - 1],
            quota.count
        ));

        let shown = generated.len().min(p.grid * 3 * dataset.size * dataset.size);
        let grid_path = ctx.out_dir.join(format!("samples_{label}.png"));
        sample_grid(&generated[..shown], dataset.size)
            .save(&grid_path)
            .with_context(|| format!("cannot write {}", grid_path.display()))?;
        for (epoch, loss) in (1..).zip(&losses) {
            ctx.metric(
                MetricRow::new("vae_loss", *loss).split(split_name).epoch(epoch).class(label),
            );
        }
        ctx.metric(MetricRow::new("generated", quota.count as f64).split(split_name).class(label));
        augmented.ids.extend((0..quota.count).map(|i| format!("{label}_vae_{i}.png")));
        augmented.images.extend(generated);
        augmented.labels.extend(
            (0..quota.count).flat_map(|_| (0..n_labels).map(|c| u8::from(c == quota.label))),
        );
        report.push(format!(
            "{label} {} → {} (+{})",
            positives[quota.label],
            positives[quota.label] + quota.count,
            quota.count
        ));
    }

    let splits: Vec<Split> = dataset
        .splits
        .iter()
        .map(|s| if s.name == split_name { augmented.clone() } else { s.clone() })
        .collect();
    Dataset { label_names: dataset.label_names.clone(), size: dataset.size, splits }
        .write(&ctx.out_dir)?;
    ctx.set_summary(if report.is_empty() {
        format!("{split_name}: labels already balanced, nothing generated")
    } else {
        format!("{split_name} {} → {}: {}", split.len(), augmented.len(), report.join(", "))
    });
    Ok(())
}

/// Trains `model` (its variables in `vs`) on uint8 images N×3×S×S; returns the loss of
/// each epoch (sum over the epoch / N), also handed to `on_epoch` as it comes.
pub(super) fn fit(
    vs: &VarStore,
    model: &ConvVae,
    images: &Tensor,
    training: &Training,
    mut on_epoch: impl FnMut(u32, f64),
) -> anyhow::Result<Vec<f64>> {
    let n = images.size()[0];
    let config =
        AdamConfig { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: false };
    let mut optimizer = Adam::new(vs, config);
    let batch_size = training.batch_size;
    let mut losses = Vec::new();
    for epoch in 1..=training.epochs {
        let order = Tensor::randperm(n, (Kind::Int64, images.device()));
        let mut sum = Tensor::zeros([], (Kind::Float, images.device()));
        for start in (0..n).step_by(batch_size as usize) {
            let x = to_unit(
                &images.index_select(0, &order.narrow(0, start, batch_size.min(n - start))),
            );
            optimizer.clear_grads()?;
            let (reconstruction, mu, logvar) = model.forward(&x);
            let loss = vae::loss(&reconstruction, &x, &mu, &logvar);
            loss.backward();
            optimizer.step(training.lr, None)?;
            sum += loss.detach();
        }
        let loss = f64::try_from(sum)? / n as f64;
        if !loss.is_finite() {
            anyhow::bail!(
                "the VAE's loss is {loss} in epoch {epoch}: training diverged; lower the learning rate (lr = {})",
                training.lr
            );
        }
        on_epoch(epoch, loss);
        losses.push(loss);
    }
    Ok(losses)
}

/// `count` images from the prior as uint8 N×3×S×S bytes, rounded as torchvision's
/// `save_image` (×255 + 0.5, clamped, truncated).
fn generate(model: &ConvVae, count: i64, batch_size: i64) -> anyhow::Result<Vec<u8>> {
    let _guard = tch::no_grad_guard();
    let mut bytes = Vec::new();
    for start in (0..count).step_by(batch_size as usize) {
        let images = model.sample(batch_size.min(count - start));
        let quantised = (images * 255.0 + 0.5)
            .clamp(0.0, 255.0)
            .to_kind(Kind::Uint8)
            .to_device(tch::Device::Cpu);
        bytes.extend(Vec::<u8>::try_from(quantised.flatten(0, -1))?);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use tch::Device;

    /// Held by every test that seeds torch's global generator (tests share the process).
    static GENERATOR: Mutex<()> = Mutex::new(());

    /// Eight dark 32-px images with blurred blobs of random colour and place.
    fn tiny_images() -> Tensor {
        tch::manual_seed(3);
        let small = Tensor::rand([8, 3, 4, 4], (Kind::Float, Device::Cpu));
        let smooth = small.upsample_bilinear2d([32, 32], false, None, None);
        (smooth * 80.0).to_kind(Kind::Uint8)
    }

    #[test]
    fn the_vae_loss_decreases_on_tiny_data() {
        let _generator = GENERATOR.lock().unwrap();
        let images = tiny_images();
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let model = ConvVae::new(&vs.root(), 32, 16).unwrap();
        let training = Training { epochs: 8, batch_size: 2, lr: 1e-3 };
        let mut seen = Vec::new();
        let losses =
            fit(&vs, &model, &images, &training, |epoch, loss| seen.push((epoch, loss))).unwrap();
        eprintln!("VAE loss per epoch: {losses:?}");
        assert_eq!(seen, (1..).zip(losses.iter().copied()).collect::<Vec<_>>());
        assert!(losses.iter().all(|l| l.is_finite() && *l > 0.0), "{losses:?}");
        assert!(losses[7] < 0.5 * losses[0], "the loss did not fall: {losses:?}");
    }

    #[test]
    fn training_and_sampling_are_deterministic_given_the_seed() {
        let _generator = GENERATOR.lock().unwrap();
        let images = tiny_images();
        let run = || {
            tch::manual_seed(label_seed(5, 1));
            let vs = VarStore::new(Device::Cpu);
            let model = ConvVae::new(&vs.root(), 32, 8).unwrap();
            let training = Training { epochs: 2, batch_size: 3, lr: 1e-3 };
            let losses = fit(&vs, &model, &images, &training, |_, _| {}).unwrap();
            (losses, generate(&model, 5, 2).unwrap())
        };
        let (first, second) = (run(), run());
        assert_eq!(first.1.len(), 5 * 3 * 32 * 32);
        assert_eq!(first.0, second.0, "losses differ");
        assert!(first.1 == second.1, "generated images differ");
    }
}
