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

/// The per-channel statistics as 1×3×1×1 tensors on `device`, copied there once per thread
/// (a copy per batch would make the host wait for the device).
fn statistics(device: Device) -> (Tensor, Tensor) {
    thread_local! {
        static ON_DEVICE: std::cell::RefCell<Vec<(Device, Tensor, Tensor)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    ON_DEVICE.with_borrow_mut(|cached| {
        if let Some((_, mean, std)) = cached.iter().find(|(d, _, _)| *d == device) {
            return (mean.shallow_clone(), std.shallow_clone());
        }
        let column = |values: &[f64; 3]| Tensor::from_slice(values).to_kind(Kind::Float).view([1, 3, 1, 1]).to_device(device);
        let (mean, std) = (column(&MEAN), column(&STD));
        cached.push((device, mean.shallow_clone(), std.shallow_clone()));
        (mean, std)
    })
}

/// Floats in [0, 1] → normalised network input.
pub fn normalize(x: &Tensor) -> Tensor {
    let (mean, std) = statistics(x.device());
    (x - mean) / std
}

/// Normalised network input → floats in [0, 1], the inverse of [`normalize`].
pub fn denormalize(x: &Tensor) -> Tensor {
    let (mean, std) = statistics(x.device());
    (x * std + mean).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denormalize_inverts_normalize() {
        let x = Tensor::rand([2, 3, 4, 4], (Kind::Float, Device::Cpu));
        let back = denormalize(&normalize(&x));
        assert!(f64::try_from((back - &x).abs().max()).unwrap() < 1e-6);
    }
}
