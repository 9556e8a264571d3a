//! Dataset splits as tensors on the training device: decoded once by `load`, copied to the GPU
//! once per stage, and batched there by index. A split the GPU cannot hold (its copy fails)
//! stays in pinned host memory instead, and each batch is gathered there and copied over.
use tch::{Device, Kind, Tensor};

use ablate_stages::data::dataset::{Dataset, Split};

/// ImageNet statistics, as the study normalises every model's input.
pub const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
pub const STD: [f64; 3] = [0.229, 0.224, 0.225];

pub struct SplitTensors {
    /// uint8, N×3×H×W: on `device`, or in host memory when not `resident`.
    images: Tensor,
    /// float, N×labels, on `device`.
    pub labels: Tensor,
    pub len: i64,
    device: Device,
    resident: bool,
}

impl SplitTensors {
    pub fn new(dataset: &Dataset, split: &Split, device: Device) -> Self {
        let n = split.len() as i64;
        let size = dataset.size as i64;
        let host = Tensor::from_slice(&split.images).view([n, 3, size, size]);
        let labels = Tensor::from_slice(&split.labels)
            .view([n, dataset.label_names.len() as i64])
            .to_kind(Kind::Float);
        let labels = labels.to_device(device);
        match host.f_to_device(device) {
            Ok(images) => SplitTensors::placed(images, labels, device, true),
            Err(_) => SplitTensors::placed(host.pin_memory(device), labels, device, false),
        }
    }

    /// A split from tensors already placed: `images` on `device` when `resident`, else on the host.
    pub fn placed(images: Tensor, labels: Tensor, device: Device, resident: bool) -> Self {
        SplitTensors { len: images.size()[0], images, labels, device, resident }
    }

    /// The images at `index` (int64 on `device`), on `device`.
    pub fn gather(&self, index: &Tensor) -> Tensor {
        match self.resident {
            true => self.images.index_select(0, index),
            false => self
                .images
                .index_select(0, &index.to_device(self.images.device()))
                .to_device(self.device),
        }
    }

    /// `len` images from `start`, on `device`.
    pub fn rows(&self, start: i64, len: i64) -> Tensor {
        self.images.narrow(0, start, len).to_device(self.device)
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
        let column = |values: &[f64; 3]| {
            Tensor::from_slice(values).to_kind(Kind::Float).view([1, 3, 1, 1]).to_device(device)
        };
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
