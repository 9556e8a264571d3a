//! EfficientNet-B0 with torchvision's layout, names and behaviour (`features.0` stem,
//! `features.1`–`features.7` MBConv stages as `features.S.B.block.K`, `features.8` 1×1 head
//! convolution): BatchNorm eps 1e-5 and momentum 0.1, SiLU, squeeze-excitation with
//! max(1, in/4) channels (`fc1`, `fc2`), stochastic depth rising linearly to `drop_path` over the
//! 16 blocks on residual blocks only. Initialisation as torchvision (Kaiming normal fan-out,
//! zero biases). torchvision's own Dropout + Linear classifier is not built.
use tch::Tensor;
use tch::nn;

use super::layers::{
    Activation, BatchNorm, Conv2d, ConvBnAct, ConvSpec, KAIMING_FAN_OUT, drop_path,
};
use super::{Backbone, Features};

const EPS: f64 = 1e-5;
const FEATURES: i64 = 1280;
/// (expand ratio, kernel, stride, input channels, output channels, blocks) per stage.
const STAGES: [(i64, i64, i64, i64, i64, usize); 7] = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
];

/// torchvision's `Conv2dNormActivation`: convolution `.0`, BatchNorm `.1`, then `act`.
fn conv_bn(path: &nn::Path, spec: ConvSpec, act: Activation) -> ConvBnAct {
    ConvBnAct {
        conv: Conv2d::new(path / "0", spec, KAIMING_FAN_OUT),
        bn: BatchNorm::new(path / "1", spec.c_out, EPS),
        act,
    }
}

struct SqueezeExcitation {
    fc1: Conv2d,
    fc2: Conv2d,
}

impl SqueezeExcitation {
    fn new(path: &nn::Path, channels: i64, squeeze: i64) -> Self {
        SqueezeExcitation {
            fc1: Conv2d::new(
                path / "fc1",
                ConvSpec::new(channels, squeeze, 1).bias(),
                KAIMING_FAN_OUT,
            ),
            fc2: Conv2d::new(
                path / "fc2",
                ConvSpec::new(squeeze, channels, 1).bias(),
                KAIMING_FAN_OUT,
            ),
        }
    }

    fn forward(&self, x: &Tensor) -> Tensor {
        let scale =
            self.fc2.forward(&self.fc1.forward(&x.adaptive_avg_pool2d([1, 1])).silu()).sigmoid();
        x * scale
    }
}

struct MBConv {
    expand: Option<ConvBnAct>,
    depthwise: ConvBnAct,
    se: SqueezeExcitation,
    project: ConvBnAct,
    residual: bool,
    drop_path: f64,
}

impl MBConv {
    fn new(
        path: &nn::Path,
        expand_ratio: i64,
        kernel: i64,
        stride: i64,
        c_in: i64,
        c_out: i64,
        drop_path: f64,
    ) -> Self {
        let block = path / "block";
        let expanded = c_in * expand_ratio;
        let mut index = 0;
        let mut next = || {
            index += 1;
            &block / (index - 1)
        };
        let expand = (expanded != c_in)
            .then(|| conv_bn(&next(), ConvSpec::new(c_in, expanded, 1), Activation::Silu));
        let depthwise = conv_bn(
            &next(),
            ConvSpec::new(expanded, expanded, kernel).stride(stride).depthwise(),
            Activation::Silu,
        );
        let se = SqueezeExcitation::new(&next(), expanded, (c_in / 4).max(1));
        let project = conv_bn(&next(), ConvSpec::new(expanded, c_out, 1), Activation::Identity);
        MBConv { expand, depthwise, se, project, residual: stride == 1 && c_in == c_out, drop_path }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut y = match &self.expand {
            Some(expand) => expand.forward_t(x, train),
            None => x.shallow_clone(),
        };
        y = self.depthwise.forward_t(&y, train);
        y = self.project.forward_t(&self.se.forward(&y), train);
        if self.residual { drop_path(&y, self.drop_path, train) + x } else { y }
    }
}

pub struct EfficientNetB0 {
    stem: ConvBnAct,
    blocks: Vec<MBConv>,
    head: ConvBnAct,
}

impl EfficientNetB0 {
    pub fn new(path: &nn::Path, drop_path_rate: f64) -> Self {
        let features = path / "features";
        let total: usize = STAGES.iter().map(|s| s.5).sum();
        let mut blocks = Vec::with_capacity(total);
        for (s, &(expand, kernel, stride, c_in, c_out, n)) in STAGES.iter().enumerate() {
            for b in 0..n {
                let rate = drop_path_rate * blocks.len() as f64 / total as f64;
                let (c_in, stride) = if b == 0 { (c_in, stride) } else { (c_out, 1) };
                blocks.push(MBConv::new(
                    &(&features / (s + 1) / b),
                    expand,
                    kernel,
                    stride,
                    c_in,
                    c_out,
                    rate,
                ));
            }
        }
        EfficientNetB0 {
            stem: conv_bn(&(&features / 0), ConvSpec::new(3, 32, 3).stride(2), Activation::Silu),
            blocks,
            head: conv_bn(&(&features / 8), ConvSpec::new(320, FEATURES, 1), Activation::Silu),
        }
    }
}

impl Backbone for EfficientNetB0 {
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
