//! Probabilities of a model on a whole split, batched, in evaluation mode without gradients.
//!
//! A [`Predictor`] is what `evaluate` and `export` apply: one trained model, or an ensemble's
//! members, whose probabilities are averaged (`nn::ensemble`). With test-time augmentation the
//! probabilities of each image's flipped views are averaged too.
use std::path::Path;

use ablate_stages::data::dataset::Dataset;
use ablate_stages::prediction::{Decision, Tta};
use ablate_stages::predictions::Predictions;
use tch::nn::VarStore;
use tch::{Kind, Tensor};

use super::tensors::{SplitTensors, normalize, to_unit};
use super::{checkpoint, ensemble};
use crate::models::{Classifier, ModelConfig};

/// Row-major N×labels sigmoid probabilities. The last batch is padded to `batch_size` (its
/// extra rows dropped), so that every forward has one shape: cuDNN then tunes its algorithms
/// for one shape only, and in evaluation mode rows do not affect each other.
pub fn probabilities(model: &Classifier, split: &SplitTensors, batch_size: i64) -> Vec<f32> {
    probabilities_of(&[model], split, batch_size, Tta::None)
}

/// The mean probabilities of `models` over the views `tta` asks for (see [`probabilities`]).
fn probabilities_of(
    models: &[&Classifier],
    split: &SplitTensors,
    batch_size: i64,
    tta: Tta,
) -> Vec<f32> {
    let _guard = tch::no_grad_guard();
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < split.len {
        let len = batch_size.min(split.len - start);
        let mut images = split.rows(start, len);
        if len < batch_size && split.len > batch_size {
            let padding = images.narrow(0, 0, 1).expand([batch_size - len, -1, -1, -1], false);
            images = Tensor::cat(&[&images, &padding], 0);
        }
        let x = normalize(&to_unit(&images));
        let views = views(&x, tta);
        let mut sum: Option<Tensor> = None;
        for model in models {
            for view in &views {
                let p = model.forward_t(view, false).sigmoid().to_kind(Kind::Float);
                sum = Some(match sum {
                    Some(sum) => sum + p,
                    None => p,
                });
            }
        }
        let count = (models.len() * views.len()) as f64;
        chunks.push((sum.expect("at least one model and view") / count).narrow(0, 0, len));
        start += len;
    }
    let all = Tensor::cat(&chunks, 0).to_device(tch::Device::Cpu).contiguous();
    Vec::<f32>::try_from(all.flatten(0, -1)).expect("float tensor converts")
}

/// The views of a batch (B×3×H×W) that test-time augmentation averages.
fn views(x: &Tensor, tta: Tta) -> Vec<Tensor> {
    match tta {
        Tta::None => vec![x.shallow_clone()],
        Tta::Flips => vec![x.shallow_clone(), x.flip([3]), x.flip([2]), x.flip([2, 3])],
    }
}

/// One trained model, or the members of an ensemble, with the labels they predict.
pub struct Predictor {
    /// Each member's configuration, variables and network.
    members: Vec<(ModelConfig, VarStore, Classifier)>,
}

impl Predictor {
    /// The trained model or ensemble saved in `dir`, on `device`.
    pub fn load(dir: &Path, device: tch::Device) -> anyhow::Result<Predictor> {
        let members = match ensemble::members(dir)? {
            Some(members) => members
                .iter()
                .map(|member| checkpoint::load(member, device))
                .collect::<anyhow::Result<Vec<_>>>()?,
            None => vec![checkpoint::load(dir, device)?],
        };
        Ok(Predictor { members })
    }

    /// The labels every member predicts.
    pub fn labels(&self) -> &[String] {
        &self.members[0].0.labels
    }

    /// Mean probabilities over the members (and views) on `split`, N×labels row-major.
    pub fn probabilities(&self, split: &SplitTensors, batch_size: i64, tta: Tta) -> Vec<f32> {
        let models: Vec<&Classifier> = self.members.iter().map(|(_, _, m)| m).collect();
        probabilities_of(&models, split, batch_size, tta)
    }
}

/// A model's probabilities on one split of a dataset, with the split's true labels (0/1, in
/// the predictions' row and label order).
pub struct SplitPredictions {
    pub predictions: Predictions,
    pub truth: Vec<u8>,
}

/// The per-label thresholds `decision` asks for: `threshold` for every label, or the tuned ones
/// the model in `model_dir` carries (an error when it carries none).
pub fn decision_thresholds(
    model_dir: &Path,
    labels: &[String],
    threshold: f32,
    decision: Decision,
) -> anyhow::Result<Vec<f32>> {
    match decision {
        Decision::Fixed => Ok(vec![threshold; labels.len()]),
        Decision::Tuned => checkpoint::thresholds_for(model_dir, labels)?
            .map(|tuned| tuned.thresholds)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "`decision: tuned` but the model in {} carries no tuned thresholds; train it \
                     (or the ensemble) with `tune_thresholds: true`",
                    model_dir.display()
                )
            }),
    }
}

/// Applies the trained model or ensemble in `model_dir` on `device` to `split` of the dataset
/// in `data_dir`. A model may predict more labels than the dataset has (e.g. one trained on
/// the eight ODIR labels, evaluated on D, G, A): its outputs for the dataset's labels are taken
/// by name.
pub fn predict_split(
    model_dir: &Path,
    data_dir: &Path,
    split: &str,
    device: tch::Device,
    tta: Tta,
) -> anyhow::Result<SplitPredictions> {
    let predictor = Predictor::load(model_dir, device)?;
    let dataset = Dataset::read(data_dir)?;
    let labels = predictor.labels();
    let columns = dataset
        .label_names
        .iter()
        .map(|label| labels.iter().position(|l| l == label))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the model predicts {labels:?} but the dataset has labels {:?}",
                dataset.label_names
            )
        })?;
    let split = dataset.split(split)?;
    let tensors = SplitTensors::new(&dataset, split, device);
    let all = predictor.probabilities(&tensors, 128, tta);
    let probabilities =
        all.chunks(labels.len()).flat_map(|row| columns.iter().map(|&c| row[c])).collect();
    Ok(SplitPredictions {
        predictions: Predictions {
            labels: dataset.label_names.clone(),
            ids: split.ids.clone(),
            probabilities,
        },
        truth: split.labels.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Architecture, ModelConfig};

    #[test]
    fn a_padded_last_batch_gives_the_probabilities_of_one_batch() {
        let (_vs, model) = model(0);
        let images = Tensor::randint(256, [5, 3, 32, 32], (Kind::Uint8, tch::Device::Cpu));
        let labels = Tensor::zeros([5, 2], (Kind::Float, tch::Device::Cpu));
        let split = SplitTensors::placed(
            images.shallow_clone(),
            labels.shallow_clone(),
            tch::Device::Cpu,
            true,
        );
        let (whole, padded) = (probabilities(&model, &split, 5), probabilities(&model, &split, 2));
        assert_eq!(padded.len(), 10);
        assert!(
            whole.iter().zip(&padded).all(|(a, b)| (a - b).abs() < 1e-5),
            "{whole:?} vs {padded:?}"
        );
        let on_host = SplitTensors::placed(images, labels, tch::Device::Cpu, false);
        assert_eq!(
            probabilities(&model, &on_host, 2),
            padded,
            "a split kept on the host gives the same batches"
        );
    }

    /// A small ResNet18 classifier drawn from `seed`.
    fn model(seed: i64) -> (tch::nn::VarStore, Classifier) {
        tch::manual_seed(seed);
        let config = ModelConfig {
            arch: Architecture::new("resnet18"),
            labels: vec!["D".into(), "G".into()],
            head_hidden: 8,
            dropout: 0.5,
            image_size: 32,
        };
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let model = Classifier::new(&vs.root(), &config).unwrap();
        (vs, model)
    }

    fn split(images: Tensor) -> SplitTensors {
        let labels = Tensor::zeros([images.size()[0], 2], (Kind::Float, tch::Device::Cpu));
        SplitTensors::placed(images, labels, tch::Device::Cpu, true)
    }

    #[test]
    fn flips_change_nothing_for_images_their_flips_leave_unchanged() {
        let (_vs, model) = model(1);
        let quarter = Tensor::randint(256, [4, 3, 16, 16], (Kind::Uint8, tch::Device::Cpu));
        let half = Tensor::cat(&[&quarter, &quarter.flip([3])], 3);
        let symmetric = Tensor::cat(&[&half, &half.flip([2])], 2);
        let plain = probabilities_of(&[&model], &split(symmetric.copy()), 4, Tta::None);
        let averaged = probabilities_of(&[&model], &split(symmetric), 4, Tta::Flips);
        assert!(plain.iter().zip(&averaged).all(|(a, b)| (a - b).abs() < 1e-5));
        let lopsided = Tensor::cat(&[&half, &half], 2);
        let plain = probabilities_of(&[&model], &split(lopsided.copy()), 4, Tta::None);
        let averaged = probabilities_of(&[&model], &split(lopsided), 4, Tta::Flips);
        assert!(plain.iter().zip(&averaged).any(|(a, b)| (a - b).abs() > 1e-4), "views differ");
    }

    #[test]
    fn an_ensemble_averages_its_members() {
        let (_a, first) = model(1);
        let (_b, second) = model(2);
        let images = Tensor::randint(256, [3, 3, 32, 32], (Kind::Uint8, tch::Device::Cpu));
        let one = probabilities_of(&[&first], &split(images.copy()), 3, Tta::None);
        let two = probabilities_of(&[&second], &split(images.copy()), 3, Tta::None);
        let both = probabilities_of(&[&first, &second], &split(images), 3, Tta::None);
        for ((a, b), mean) in one.iter().zip(&two).zip(&both) {
            assert!(((a + b) / 2.0 - mean).abs() < 1e-6);
        }
    }
}
