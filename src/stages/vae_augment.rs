//! `vae_augment`: balances a training split with images drawn from one VAE per minority label
//! (the study's Task 4a, reference-spec §5).
//!
//! The positives per label are counted in the input's training split. Every chosen label
//! (`labels`, or by default every label with fewer positives than the most frequent one) gets
//! max_count − count new images, so afterwards each chosen label has exactly as many positives
//! as the most frequent label. The images come from a convolutional VAE (`models::vae`) trained
//! on that label's images — those whose only positive label it is, so that the synthetic images,
//! which carry that label alone, look like what their label says (the reference trained on
//! multi-label images too and labelled every sample single-label, bug 11). Training follows the
//! reference: images in [0, 1] without augmentation, Adam, mini-batches from a shuffle per
//! epoch, loss = squared error + KL summed, reported per epoch as the epoch's sum divided by the
//! number of images (`vae_loss`, one row per label and epoch). Samples are decoded from z ~
//! N(0, I) and rounded to 8 bits as the reference's PNGs were.
//!
//! The output is a dataset like `load`'s: the training split holds the original rows in order,
//! then the synthetic rows label by label (ids `<label>_vae_<i>.png`, that label 1, others 0);
//! every other split passes through unchanged. `samples_<label>.png` shows the first generated
//! images of each label. Each label's VAE is seeded from `seed` and the label's position, so
//! the result depends on the seed alone and a label's images do not change when other labels
//! are added to `labels`.
//!
//! Class-balanced loss weights computed from the augmented split are all 1 (the reference's
//! "class-balanced" runs on VAE data were plain BCE, bug 2); a `loss` stage fed the original
//! dataset keeps the real counts.

use anyhow::Context;

use crate::core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use crate::core::stage::{InputSpec, KindInfo, Resource, Workspace};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "labels",
        T::StrList,
        D::Absent,
        "labels to balance, one VAE each; unset: every label with fewer positives than the most frequent",
    ),
    ParamSpec::new(
        "split",
        T::Str,
        D::Str("train"),
        "the split to augment; the others pass through unchanged",
    ),
    ParamSpec::new("epochs", T::Int { min: 1, max: 10_000 }, D::Int(30), "VAE training epochs"),
    ParamSpec::new("batch_size", T::Int { min: 1, max: 65_536 }, D::Int(16), "VAE mini-batch size"),
    ParamSpec::new(
        "lr",
        T::Float { min: 0.0, max: 10.0 },
        D::Float(1e-4),
        "Adam learning rate of the VAE",
    ),
    ParamSpec::new(
        "latent_dim",
        T::Int { min: 1, max: 65_536 },
        D::Int(128),
        "size of the VAE's latent code",
    ),
    ParamSpec::new(
        "seed",
        T::Int { min: 0, max: i64::MAX },
        D::Int(0),
        "seed of initialisation, shuffling, reparameterisation and sampling",
    ),
    ParamSpec::new(
        "deterministic",
        T::Bool,
        D::Bool(false),
        "deterministic algorithms only (GPU; slower)",
    ),
    ParamSpec::new(
        "grid",
        T::Int { min: 1, max: 1024 },
        D::Int(16),
        "generated images per label shown in samples_<label>.png",
    ),
];

pub const INFO: KindInfo = KindInfo {
    kind: "vae_augment",
    version: 1,
    doc: "balance the training labels with images from one VAE per minority label",
    params: PARAMS,
    inputs: &[InputSpec::required("data", "the dataset to augment, from `load` or `synthetic`")],
    resource: Resource::Device,
    workspace: Workspace::None,
};

/// How many images to generate for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// The label's column.
    pub label: usize,
    pub count: usize,
}

/// The quota of every label to balance: `chosen` (the `labels` parameter) or, when unset, every
/// label with fewer positives than the most frequent one, in column order. A quota brings the
/// label's positives up to the most frequent label's.
pub fn quotas(
    label_names: &[String],
    positives: &[usize],
    chosen: Option<&[String]>,
) -> anyhow::Result<Vec<Quota>> {
    let target = positives.iter().copied().max().unwrap_or(0);
    let columns: Vec<usize> = match chosen {
        None => (0..label_names.len()).filter(|&c| positives[c] < target).collect(),
        Some([]) => anyhow::bail!(
            "`labels` is empty; leave it out to balance every label with fewer positives than the most frequent"
        ),
        Some(names) => {
            let mut columns = Vec::new();
            for name in names {
                let column = label_names.iter().position(|l| l == name).with_context(|| {
                    format!(
                        "`labels`: the dataset has no label `{name}` (it has: {})",
                        label_names.join(", ")
                    )
                })?;
                if columns.contains(&column) {
                    anyhow::bail!("`labels` names `{name}` twice");
                }
                if positives[column] == target {
                    anyhow::bail!(
                        "`labels`: `{name}` has {target} positives, as many as the most frequent label, so there is nothing to balance"
                    );
                }
                columns.push(column);
            }
            columns
        }
    };
    Ok(columns.into_iter().map(|label| Quota { label, count: target - positives[label] }).collect())
}

/// Rows of row-major N×`n_labels` 0/1 targets whose only positive label is `label`.
pub fn single_label_rows(targets: &[u8], n_labels: usize, label: usize) -> Vec<i64> {
    let rows = targets.chunks_exact(n_labels).enumerate();
    rows.filter(|(_, row)| row.iter().enumerate().all(|(c, &y)| y == u8::from(c == label)))
        .map(|(i, _)| i as i64)
        .collect()
}

/// A grid of channel-first uint8 RGB images of side `size`, as torchvision's `make_grid`
/// (up to 8 per row, 2-pixel black padding).
pub fn sample_grid(images: &[u8], size: usize) -> image::RgbImage {
    const PAD: usize = 2;
    let plane = size * size;
    let count = images.len() / (3 * plane);
    let columns = count.clamp(1, 8);
    let rows = count.div_ceil(columns).max(1);
    let (width, height) = (columns * (size + PAD) + PAD, rows * (size + PAD) + PAD);
    let mut grid = image::RgbImage::new(width as u32, height as u32);
    for (i, chw) in images.chunks_exact(3 * plane).enumerate() {
        let (left, top) = (PAD + (i % columns) * (size + PAD), PAD + (i / columns) * (size + PAD));
        for p in 0..plane {
            let pixel = image::Rgb([chw[p], chw[plane + p], chw[2 * plane + p]]);
            grid.put_pixel((left + p % size) as u32, (top + p / size) as u32, pixel);
        }
    }
    grid
}

#[cfg(feature = "torch")]
pub use on_device::execute;

/// The torch implementation, run in the `ablate-torch` worker.
#[cfg(feature = "torch")]
mod on_device {
    use anyhow::Context;
    use tch::nn::VarStore;
    use tch::{Kind, Tensor};

    use super::{quotas, sample_grid, single_label_rows};
    use crate::core::metrics::MetricRow;
    use crate::core::stage::StageContext;
    use crate::data::dataset::{Dataset, Split};
    use crate::models::vae::{self, ConvVae};
    use crate::nn::optim::{Adam, AdamConfig};
    use crate::nn::tensors::{SplitTensors, to_unit};
    use crate::nn::{device, shim};

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

    pub fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
        let p = ctx.params;
        let device = device::to_tch(ctx.device())?;
        shim::set_deterministic(p.bool("deterministic"))?;
        let dataset = Dataset::read(ctx.input("data"))?;
        let split_name = p.str("split");
        let split = dataset.split(split_name).context("`split`")?;
        let n_labels = dataset.label_names.len();
        let positives = split.positives(n_labels);
        let chosen = p.opt_str_list("labels");
        let quotas = quotas(&dataset.label_names, &positives, chosen.as_deref())?;
        let training = Training {
            epochs: p.int("epochs") as u32,
            batch_size: p.int("batch_size"),
            lr: p.float("lr"),
        };
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
            tch::manual_seed(label_seed(p.int("seed"), quota.label));
            let vs = VarStore::new(device);
            let model = ConvVae::new(&vs.root(), dataset.size, p.int("latent_dim"))?;
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

            let shown = generated.len().min(p.usize("grid") * 3 * dataset.size * dataset.size);
            let grid_path = ctx.out_dir.join(format!("samples_{label}.png"));
            sample_grid(&generated[..shown], dataset.size)
                .save(&grid_path)
                .with_context(|| format!("cannot write {}", grid_path.display()))?;
            for (epoch, loss) in (1..).zip(&losses) {
                ctx.metric(
                    MetricRow::new("vae_loss", *loss).split(split_name).epoch(epoch).class(label),
                );
            }
            ctx.metric(
                MetricRow::new("generated", quota.count as f64).split(split_name).class(label),
            );
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
                fit(&vs, &model, &images, &training, |epoch, loss| seen.push((epoch, loss)))
                    .unwrap();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["D", "G", "A"].map(String::from).to_vec()
    }

    fn chosen(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn quotas_bring_every_chosen_label_to_the_most_frequent_count() {
        let study = [517, 163, 142];
        assert_eq!(
            quotas(&names(), &study, None).unwrap(),
            vec![Quota { label: 1, count: 354 }, Quota { label: 2, count: 375 }]
        );
        assert_eq!(
            quotas(&names(), &study, Some(&chosen(&["A"]))).unwrap(),
            vec![Quota { label: 2, count: 375 }]
        );
        assert_eq!(
            quotas(&names(), &[4, 9, 1], Some(&chosen(&["A", "D"]))).unwrap(),
            vec![Quota { label: 2, count: 8 }, Quota { label: 0, count: 5 }]
        );
        assert!(quotas(&names(), &[5, 5, 5], None).unwrap().is_empty());
    }

    #[test]
    fn bad_labels_are_errors_naming_the_field() {
        let error = |labels: &[&str]| {
            quotas(&names(), &[517, 163, 142], Some(&chosen(labels))).unwrap_err().to_string()
        };
        assert!(error(&["X"]).contains("`labels`: the dataset has no label `X` (it has: D, G, A)"));
        assert!(error(&["G", "G"]).contains("`labels` names `G` twice"));
        assert!(
            error(&["D"])
                .contains("`labels`: `D` has 517 positives, as many as the most frequent label")
        );
        assert!(error(&[]).contains("`labels` is empty"));
    }

    #[test]
    fn single_label_rows_skip_multi_label_and_other_images() {
        // rows: G only, G+A, A only, none, G only
        let targets = [0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        assert_eq!(single_label_rows(&targets, 3, 1), vec![0, 4]);
        assert_eq!(single_label_rows(&targets, 3, 2), vec![2]);
    }

    #[test]
    fn the_grid_places_images_row_by_row() {
        // ten 2-px images, image i filled with value i: 8 columns, 2 rows.
        let images: Vec<u8> = (0..10u8).flat_map(|i| std::iter::repeat_n(i, 3 * 4)).collect();
        let grid = sample_grid(&images, 2);
        assert_eq!(grid.dimensions(), (8 * 4 + 2, 2 * 4 + 2));
        assert_eq!(grid.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(grid.get_pixel(2 + 3 * 4, 2).0, [3, 3, 3]);
        assert_eq!(grid.get_pixel(2 + 4 + 1, 2 + 4 + 1).0, [9, 9, 9]);
    }
}
