//! The classification head of the study: Linear(in, hidden) → ReLU → Dropout(p) →
//! Linear(hidden, labels), named `classifier.0` and `classifier.3` like the reference's
//! `nn.Sequential`, with PyTorch's default Linear initialisation.
use tch::Tensor;
use tch::nn;

use super::layers::linear;

pub struct Head {
    hidden: nn::Linear,
    output: nn::Linear,
    dropout: f64,
}

impl Head {
    pub fn new(path: &nn::Path, features: i64, hidden: i64, labels: i64, dropout: f64) -> Self {
        Head {
            hidden: linear(path / "0", features, hidden),
            output: linear(path / "3", hidden, labels),
            dropout,
        }
    }

    pub fn forward_t(&self, pooled: &Tensor, train: bool) -> Tensor {
        pooled.apply(&self.hidden).relu().dropout(self.dropout, train).apply(&self.output)
    }
}
