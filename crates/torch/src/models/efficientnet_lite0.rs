//! EfficientNet-Lite0 with timm's `tf_efficientnet_lite0` layout, names and behaviour, so
//! `../shared/weights/tf_efficientnet_lite0.in1k.safetensors` loads strictly: `conv_stem` +
//! `bn1`, `blocks.S.B.*` (a depthwise-separable block, then inverted residuals without
//! squeeze-excitation), `conv_head` + `bn2`. TensorFlow ports use BatchNorm eps 1e-3 and "SAME"
//! padding (asymmetric for the strided convolutions), and ReLU6. Residual blocks use stochastic
//! depth rising linearly to `drop_path` (timm's default is 0). Initialisation as timm's
//! `_init_weight_goog`. The ImageNet classifier is not built.
use tch::Tensor;
use tch::nn::{self, Init};

use super::layers::{Activation, BatchNorm, Conv2d, ConvBnAct, ConvSpec, Padding, drop_path};
use super::{Backbone, Features};

const EPS: f64 = 1e-3;
const STEM: i64 = 32;
const FEATURES: i64 = 1280;
/// (repeats, kernel, stride, expand ratio, output channels) per stage; stage 0 is the
/// depthwise-separable block.
const STAGES: [(usize, i64, i64, i64, i64); 7] = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
];

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
        let mid = c_in * expand;
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

pub struct EfficientNetLite0 {
    stem: ConvBnAct,
    blocks: Vec<Block>,
    head: ConvBnAct,
}

impl EfficientNetLite0 {
    pub fn new(path: &nn::Path, drop_path_rate: f64) -> Self {
        let total: usize = STAGES.iter().map(|s| s.0).sum();
        let mut blocks = Vec::with_capacity(total);
        let mut c_in = STEM;
        for (s, &(repeats, kernel, stride, expand, c_out)) in STAGES.iter().enumerate() {
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
        EfficientNetLite0 {
            stem: conv_bn(path, "conv_stem", "bn1", ConvSpec::new(3, STEM, 3).stride(2), true),
            blocks,
            head: conv_bn(path, "conv_head", "bn2", ConvSpec::new(c_in, FEATURES, 1), true),
        }
    }
}

impl Backbone for EfficientNetLite0 {
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
