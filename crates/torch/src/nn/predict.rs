//! Probabilities of a model on a whole split, batched, in evaluation mode without gradients.
use std::path::Path;

use ablate_stages::data::dataset::Dataset;
use tch::{Kind, Tensor};

use super::tensors::{SplitTensors, normalize, to_unit};
use crate::models::Classifier;

/// Row-major N×labels sigmoid probabilities. The last batch is padded to `batch_size` (its
/// extra rows dropped), so that every forward has one shape: cuDNN then tunes its algorithms
/// for one shape only, and in evaluation mode rows do not affect each other.
pub fn probabilities(model: &Classifier, split: &SplitTensors, batch_size: i64) -> Vec<f32> {
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
        chunks.push(model.forward_t(&x, false).sigmoid().narrow(0, 0, len));
        start += len;
    }
    let all = Tensor::cat(&chunks, 0).to_kind(Kind::Float).to_device(tch::Device::Cpu).contiguous();
    Vec::<f32>::try_from(all.flatten(0, -1)).expect("float tensor converts")
}

/// A model's probabilities on one split of a dataset, with the split's ids and true labels.
pub struct Predictions {
    pub labels: Vec<String>,
    pub ids: Vec<String>,
    pub truth: Vec<u8>,
    pub probabilities: Vec<f32>,
}

/// Applies the trained model in `model_dir` on `device` to `split` of the dataset in
/// `data_dir`. A model may predict more labels than the dataset has (e.g. one trained on the
/// eight ODIR labels, evaluated on D, G, A): its outputs for the dataset's labels are taken by
/// name.
pub fn predict_split(
    model_dir: &Path,
    data_dir: &Path,
    split: &str,
    device: tch::Device,
) -> anyhow::Result<Predictions> {
    let (config, _vs, model) = super::checkpoint::load(model_dir, device)?;
    let dataset = Dataset::read(data_dir)?;
    let columns = dataset
        .label_names
        .iter()
        .map(|label| config.labels.iter().position(|l| l == label))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the model predicts {:?} but the dataset has labels {:?}",
                config.labels,
                dataset.label_names
            )
        })?;
    let split = dataset.split(split)?;
    let tensors = SplitTensors::new(&dataset, split, device);
    let all = probabilities(&model, &tensors, 128);
    let probabilities =
        all.chunks(config.labels.len()).flat_map(|row| columns.iter().map(|&c| row[c])).collect();
    Ok(Predictions {
        labels: dataset.label_names.clone(),
        ids: split.ids.clone(),
        truth: split.labels.clone(),
        probabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{Architecture, ModelConfig};

    #[test]
    fn a_padded_last_batch_gives_the_probabilities_of_one_batch() {
        tch::manual_seed(0);
        let config = ModelConfig {
            arch: Architecture::new("resnet18"),
            labels: vec!["D".into(), "G".into()],
            head_hidden: 8,
            dropout: 0.5,
            image_size: 32,
        };
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let model = Classifier::new(&vs.root(), &config).unwrap();
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
}
