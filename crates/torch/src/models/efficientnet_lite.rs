//! EfficientNet-Lite0, -Lite1 and -Lite2 with timm's `tf_efficientnet_lite{0,1,2}` layout, names
//! and behaviour, so the converted ImageNet weights (`scripts/import-lite-weights.py`; Lite0's is
//! `../shared/weights/tf_efficientnet_lite0.in1k.safetensors`) load strictly: `conv_stem` +
//! `bn1`, `blocks.S.B.*` (a depthwise-separable block, then inverted residuals without
//! squeeze-excitation), `conv_head` + `bn2`. TensorFlow ports use BatchNorm eps 1e-3 and "SAME"
//! padding (asymmetric for the strided convolutions), and ReLU6. Residual blocks use stochastic
//! depth rising linearly to `drop_path` (timm's default is 0). Initialisation as timm's
//! `_init_weight_goog`. The ImageNet classifier is not built.
//!
//! The members are one network scaled by a [`Scale`], as timm's `_gen_efficientnet_lite`
//! scales Lite0's stages: every stage's output channels times the channel multiplier, rounded to
//! a multiple of 8 (`round_channels`); the repeats of stages 1–5 times the depth multiplier,
//! rounded up (`decode_arch_def` with `fix_first_last=True` and the default `depth_trunc='ceil'`).
//! The stem (32 channels), the head (1280), and the single blocks of the first and last stage are
//! not scaled. Lite1 is Lite0 deepened to 21 blocks; Lite2 is Lite1 widened.
use tch::Tensor;
use tch::nn::{self, Init};

use super::layers::{Activation, BatchNorm, Conv2d, ConvBnAct, ConvSpec, Padding, drop_path};
use super::{Backbone, Features};

const EPS: f64 = 1e-3;
const STEM: i64 = 32;
const FEATURES: i64 = 1280;
/// Channel counts are rounded to multiples of this (timm's `make_divisible` default).
const DIVISOR: i64 = 8;

/// (repeats, kernel, stride, expand ratio, output channels) of a stage; stage 0 is the
/// depthwise-separable block.
pub type Stage = (usize, i64, i64, i64, i64);

/// Lite0's stages, timm's `arch_def` (`ds_r1_k3_s1_e1_c16`, `ir_r2_k3_s2_e6_c24`, …): the
/// unscaled network.
const LITE0_STAGES: [Stage; 7] = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
];

/// How a member of the family scales Lite0 (the catalog's `Family::EfficientNetLite`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Scales every stage's output channels, not the stem's or the head's.
    pub channel_multiplier: f64,
    /// Scales the repeats of every stage but the first and the last.
    pub depth_multiplier: f64,
}

impl Scale {
    /// The stages as timm builds them for this member.
    pub fn stages(&self) -> [Stage; 7] {
        let last = LITE0_STAGES.len() - 1;
        let mut stages = LITE0_STAGES;
        for (s, stage) in stages.iter_mut().enumerate() {
            if s != 0 && s != last {
                stage.0 = (stage.0 as f64 * self.depth_multiplier).ceil() as usize;
            }
            stage.4 = make_divisible(stage.4 as f64 * self.channel_multiplier);
        }
        stages
    }
}

/// timm's `make_divisible(v, 8)`: the nearest multiple of 8 (halves rounding up), at least 8, and
/// 8 more when that falls below 90 % of `v`.
fn make_divisible(v: f64) -> i64 {
    let rounded = ((v + DIVISOR as f64 / 2.0) as i64 / DIVISOR * DIVISOR).max(DIVISOR);
    if (rounded as f64) < 0.9 * v { rounded + DIVISOR } else { rounded }
}

/// A "SAME"-padded convolution initialised as timm's `_init_weight_goog`: normal with
/// variance 2 / (k² · out / groups).
fn conv(path: nn::Path, spec: ConvSpec) -> Conv2d {
    let fan_out = spec.kernel * spec.kernel * spec.c_out / spec.groups;
    Conv2d::new(
        path,
        spec.padding(Padding::TfSame),
        Init::Randn { mean: 0.0, stdev: (2.0 / fan_out as f64).sqrt() },
    )
}

/// `conv_name` → `bn_name` → ReLU6 when `act`.
fn conv_bn(
    path: &nn::Path,
    conv_name: &str,
    bn_name: &str,
    spec: ConvSpec,
    act: bool,
) -> ConvBnAct {
    let act = if act { Activation::Relu6 } else { Activation::Identity };
    ConvBnAct {
        conv: conv(path / conv_name, spec),
        bn: BatchNorm::new(path / bn_name, spec.c_out, EPS),
        act,
    }
}

/// A depthwise-separable block (`conv_dw`, `bn1`, `conv_pw`, `bn2`) or an inverted residual
/// (`conv_pw`, `bn1`, `conv_dw`, `bn2`, `conv_pwl`, `bn3`): the layers in order.
struct Block {
    layers: Vec<ConvBnAct>,
    residual: bool,
    drop_path: f64,
}

impl Block {
    fn depthwise_separable(
        path: &nn::Path,
        c_in: i64,
        c_out: i64,
        kernel: i64,
        stride: i64,
        drop_path: f64,
    ) -> Self {
        let layers = vec![
            conv_bn(
                path,
                "conv_dw",
                "bn1",
                ConvSpec::new(c_in, c_in, kernel).stride(stride).depthwise(),
                true,
            ),
            conv_bn(path, "conv_pw", "bn2", ConvSpec::new(c_in, c_out, 1), false),
        ];
        Block { layers, residual: stride == 1 && c_in == c_out, drop_path }
    }

    fn inverted_residual(
        path: &nn::Path,
        c_in: i64,
        c_out: i64,
        kernel: i64,
        stride: i64,
        expand: i64,
        drop_path: f64,
    ) -> Self {
        // timm's `make_divisible(in_chs * exp_ratio)`; c_in · expand for every Lite variant
        let mid = make_divisible((c_in * expand) as f64);
        let layers = vec![
            conv_bn(path, "conv_pw", "bn1", ConvSpec::new(c_in, mid, 1), true),
            conv_bn(
                path,
                "conv_dw",
                "bn2",
                ConvSpec::new(mid, mid, kernel).stride(stride).depthwise(),
                true,
            ),
            conv_bn(path, "conv_pwl", "bn3", ConvSpec::new(mid, c_out, 1), false),
        ];
        Block { layers, residual: stride == 1 && c_in == c_out, drop_path }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let y = self.layers.iter().fold(x.shallow_clone(), |y, layer| layer.forward_t(&y, train));
        if self.residual { drop_path(&y, self.drop_path, train) + x } else { y }
    }
}

pub struct EfficientNetLite {
    stem: ConvBnAct,
    blocks: Vec<Block>,
    head: ConvBnAct,
}

impl EfficientNetLite {
    pub fn new(path: &nn::Path, scale: Scale, drop_path_rate: f64) -> Self {
        let stages = scale.stages();
        let total: usize = stages.iter().map(|s| s.0).sum();
        let mut blocks = Vec::with_capacity(total);
        let mut c_in = STEM;
        for (s, &(repeats, kernel, stride, expand, c_out)) in stages.iter().enumerate() {
            for b in 0..repeats {
                let rate = drop_path_rate * blocks.len() as f64 / total as f64;
                let stride = if b == 0 { stride } else { 1 };
                let block_path = path / "blocks" / s / b;
                blocks.push(if s == 0 {
                    Block::depthwise_separable(&block_path, c_in, c_out, kernel, stride, rate)
                } else {
                    Block::inverted_residual(&block_path, c_in, c_out, kernel, stride, expand, rate)
                });
                c_in = c_out;
            }
        }
        EfficientNetLite {
            stem: conv_bn(path, "conv_stem", "bn1", ConvSpec::new(3, STEM, 3).stride(2), true),
            blocks,
            head: conv_bn(path, "conv_head", "bn2", ConvSpec::new(c_in, FEATURES, 1), true),
        }
    }
}

impl Backbone for EfficientNetLite {
    fn forward_t(&self, x: &Tensor, train: bool) -> Features {
        let mut x = self.stem.forward_t(x, train);
        for block in &self.blocks {
            x = block.forward_t(&x, train);
        }
        Features::map(self.head.forward_t(&x, train))
    }

    fn channels(&self) -> i64 {
        FEATURES
    }
}

#[cfg(test)]
mod tests {
    use ablate_stages::catalog::{Family, backbone};
    use tch::Device;
    use tch::nn::VarStore;

    use super::*;

    /// The scale and native side of the catalog's backbone `name`.
    fn member(name: &str) -> (Scale, i64) {
        let info = backbone(name).unwrap();
        match info.family {
            Family::EfficientNetLite { channel_multiplier, depth_multiplier } => {
                (Scale { channel_multiplier, depth_multiplier }, info.native_size)
            }
            other => panic!("{name} is {other:?}"),
        }
    }

    #[test]
    fn stages_are_timms() {
        // timm 1.0.31 `tf_efficientnet_lite{0,1,2}`, read off the built models
        assert_eq!(member("efficientnet_lite0").0.stages(), LITE0_STAGES);
        assert_eq!(
            member("efficientnet_lite1").0.stages(),
            [
                (1, 3, 1, 1, 16),
                (3, 3, 2, 6, 24),
                (3, 5, 2, 6, 40),
                (4, 3, 2, 6, 80),
                (4, 5, 1, 6, 112),
                (5, 5, 2, 6, 192),
                (1, 3, 1, 6, 320),
            ]
        );
        assert_eq!(
            member("efficientnet_lite2").0.stages(),
            [
                (1, 3, 1, 1, 16),
                (3, 3, 2, 6, 24),
                (3, 5, 2, 6, 48),
                (4, 3, 2, 6, 88),
                (4, 5, 1, 6, 120),
                (5, 5, 2, 6, 208),
                (1, 3, 1, 6, 352),
            ]
        );
    }

    #[test]
    fn parameters_and_state_tensors_are_timms() {
        // (config, parameters without the classifier, state tensors without the classifier:
        // timm's state_dict() minus `classifier.weight` and `classifier.bias`)
        for (name, params, tensors) in [
            ("efficientnet_lite0", 3_371_008, 294),
            ("efficientnet_lite1", 4_135_680, 384),
            ("efficientnet_lite2", 4_811_072, 384),
        ] {
            let (scale, side) = member(name);
            let vs = VarStore::new(Device::Cpu);
            let lite = EfficientNetLite::new(&vs.root(), scale, 0.0);
            let trainable: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
            assert_eq!(trainable, params, "{name}");
            assert_eq!(vs.variables().len(), tensors, "{name}");
            let x = Tensor::zeros([1, 3, side, side], (tch::Kind::Float, Device::Cpu));
            let map = tch::no_grad(|| lite.forward_t(&x, false)).map;
            // 224 → 7, 240 → 8, 260 → 9 (ceil(side / 32) with "SAME" padding)
            assert_eq!(map.size(), [1, FEATURES, (side + 31) / 32, (side + 31) / 32]);
        }
    }
}
