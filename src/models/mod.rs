//! Model definitions, one file per architecture, and the classifier that joins a backbone to
//! the study's head. Parameters live under `backbone.*` and `classifier.*`, as in the
//! reference's `TransferModel`, so checkpoints are plain state dicts PyTorch can load.
pub mod head;
pub mod resnet18;

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::Tensor;

use head::Head;

/// A network that turns images into a feature map.
pub trait Backbone: Send {
    /// The final feature map, B×C×h×w (attention and GradCAM work on it).
    fn features(&self, x: &Tensor, train: bool) -> Tensor;
    fn feature_channels(&self) -> i64;
}

/// Everything needed to rebuild a trained model; saved beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub backbone: String,
    pub labels: Vec<String>,
    pub head_hidden: i64,
    pub dropout: f64,
    pub image_size: usize,
}

pub struct Classifier {
    backbone: Box<dyn Backbone>,
    head: Head,
}

impl Classifier {
    pub fn new(root: &nn::Path, config: &ModelConfig) -> anyhow::Result<Self> {
        let backbone: Box<dyn Backbone> = match config.backbone.as_str() {
            "resnet18" => Box::new(resnet18::ResNet18::new(&(root / "backbone"))),
            other => anyhow::bail!("unknown backbone `{other}` (known: {})", crate::stages::train::BACKBONES.join(", ")),
        };
        let head = Head::new(
            &(root / "classifier"),
            backbone.feature_channels(),
            config.head_hidden,
            config.labels.len() as i64,
            config.dropout,
        );
        Ok(Classifier { backbone, head })
    }

    /// Logits, B×labels.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let features = self.backbone.features(x, train);
        let pooled = features.adaptive_avg_pool2d([1, 1]).flatten(1, -1);
        self.head.forward_t(&pooled, train)
    }
}
