//! The training loss of a [`LossConfig`] on the device (formula in `stages::loss`), computed in
//! float32 whatever the precision of the logits.
use tch::{Device, Kind, Reduction, Tensor};

use ablate_stages::loss::LossConfig;

pub struct Loss {
    gamma: f64,
    alpha: Option<f64>,
    pos_weight: Option<Tensor>,
}

impl Loss {
    pub fn new(config: &LossConfig, device: Device) -> Loss {
        let pos_weight = config
            .pos_weight
            .as_ref()
            .map(|w| Tensor::from_slice(w).to_kind(Kind::Float).to_device(device));
        Loss { gamma: config.gamma, alpha: config.alpha, pos_weight }
    }

    /// Mean loss over the batch and labels; `targets` are 0/1 floats of the logits' shape.
    // `elements *= …` would run tch's in-place `mul_` on a tensor autograd tracks.
    #[allow(clippy::assign_op_pattern)]
    pub fn forward(&self, logits: &Tensor, targets: &Tensor) -> Tensor {
        let logits = logits.to_kind(Kind::Float);
        let mut elements = logits.binary_cross_entropy_with_logits(
            targets,
            None::<&Tensor>,
            self.pos_weight.as_ref(),
            Reduction::None,
        );
        if self.gamma != 0.0 {
            let p = logits.sigmoid();
            let p_t: Tensor = &p * targets + (1.0 - &p) * (1.0 - targets);
            let modulation: Tensor = 1.0 - p_t;
            elements = elements * modulation.pow_tensor_scalar(self.gamma);
        }
        if let Some(alpha) = self.alpha {
            elements = elements * (targets * alpha + (1.0 - targets) * (1.0 - alpha));
        }
        elements.mean(Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(gamma: f64, alpha: Option<f64>, pos_weight: Option<Vec<f64>>) -> LossConfig {
        LossConfig { gamma, alpha, pos_weight, ..LossConfig::bce(&["D".into(), "G".into()]) }
    }

    fn value(config: &LossConfig) -> f64 {
        let logits = Tensor::from_slice(&[2.0f32, -1.0, 0.0, 1.0]).view([2, 2]);
        let targets = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 1.0]).view([2, 2]);
        f64::try_from(Loss::new(config, Device::Cpu).forward(&logits, &targets)).unwrap()
    }

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// (logit, target) of the four elements above.
    const ELEMENTS: [(f64, f64); 4] = [(2.0, 1.0), (-1.0, 0.0), (0.0, 1.0), (1.0, 1.0)];

    /// −log p_t of each element, by hand.
    fn bce(x: f64, y: f64) -> f64 {
        let p = sigmoid(x);
        -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
    }

    #[test]
    fn bce_matches_hand_computation() {
        let expected = ELEMENTS.iter().map(|&(x, y)| bce(x, y)).sum::<f64>() / 4.0;
        assert!((value(&config(0.0, None, None)) - expected).abs() < 1e-6);
    }

    #[test]
    fn focal_matches_hand_computation() {
        let (gamma, alpha) = (2.0, 0.25);
        let expected = ELEMENTS
            .iter()
            .map(|&(x, y)| {
                let p_t = if y == 1.0 { sigmoid(x) } else { 1.0 - sigmoid(x) };
                let alpha_t = if y == 1.0 { alpha } else { 1.0 - alpha };
                alpha_t * (1.0 - p_t).powf(gamma) * bce(x, y)
            })
            .sum::<f64>()
            / 4.0;
        assert!((value(&config(gamma, Some(alpha), None)) - expected).abs() < 1e-6);
        // γ = 1, α = 0.5 (the study's main notebook) is half of (1 − p_t)·BCE.
        let half = ELEMENTS.iter().map(|&(x, y)| {
            let p_t = if y == 1.0 { sigmoid(x) } else { 1.0 - sigmoid(x) };
            0.5 * (1.0 - p_t) * bce(x, y)
        });
        assert!((value(&config(1.0, Some(0.5), None)) - half.sum::<f64>() / 4.0).abs() < 1e-6);
    }

    #[test]
    fn positive_weights_scale_only_positive_terms() {
        // Label D has weight 2, label G weight 3; the negative element (−1, 0) is unweighted.
        let weights = [2.0, 3.0, 2.0, 3.0];
        let expected = ELEMENTS
            .iter()
            .zip(weights)
            .map(|(&(x, y), w)| if y == 1.0 { w * bce(x, y) } else { bce(x, y) });
        let got = value(&config(0.0, None, Some(vec![2.0, 3.0])));
        assert!((got - expected.sum::<f64>() / 4.0).abs() < 1e-6, "{got}");
    }
}
