//! Dataset splits as tensors resident on the training device.
use tch::{Device, Kind, Tensor};

use crate::data::dataset::{Dataset, Split};

/// ImageNet statistics, as the study normalises every model's input.
pub const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
pub const STD: [f64; 3] = [0.229, 0.224, 0.225];

pub struct SplitTensors {
    /// uint8, N×3×H×W.
    pub images: Tensor,
    /// float, N×labels.
    pub labels: Tensor,
    pub len: i64,
}

impl SplitTensors {
    pub fn new(dataset: &Dataset, split: &Split, device: Device) -> Self {
        let n = split.len() as i64;
        let size = dataset.size as i64;
        let images = Tensor::from_slice(&split.images).view([n, 3, size, size]).to_device(device);
        let labels = Tensor::from_slice(&split.labels)
            .view([n, dataset.label_names.len() as i64])
            .to_kind(Kind::Float)
            .to_device(device);
        SplitTensors { images, labels, len: n }
    }
}

/// uint8 images → floats in [0, 1].
pub fn to_unit(images: &Tensor) -> Tensor {
    images.to_kind(Kind::Float) / 255.0
}

/// Floats in [0, 1] → normalised network input.
pub fn normalize(x: &Tensor) -> Tensor {
    let device = x.device();
    let mean = Tensor::from_slice(&MEAN).to_kind(Kind::Float).view([1, 3, 1, 1]).to_device(device);
    let std = Tensor::from_slice(&STD).to_kind(Kind::Float).view([1, 3, 1, 1]).to_device(device);
    (x - mean) / std
}
