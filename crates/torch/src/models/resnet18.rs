//! ResNet18 with torchvision's layout and parameter names (`conv1`, `bn1`,
//! `layer{1..4}.{0,1}.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}`), so torchvision state
//! dicts map one to one. Initialisation as torchvision: Kaiming normal (fan-out, ReLU) for
//! convolutions, BatchNorm weight 1 and bias 0 (eps 1e-5, momentum 0.1). The `fc` layer is not
//! built: the classifier head replaces it.
use tch::Tensor;
use tch::nn;

use super::layers::{Activation, BatchNorm, Conv2d, ConvBnAct, ConvSpec, KAIMING_FAN_OUT};
use super::{Backbone, Features};

const FEATURES: i64 = 512;

fn conv_bn(path: &nn::Path, conv: &str, bn: &str, spec: ConvSpec, act: Activation) -> ConvBnAct {
    ConvBnAct {
        conv: Conv2d::new(path / conv, spec, KAIMING_FAN_OUT),
        bn: BatchNorm::new(path / bn, spec.c_out, 1e-5),
        act,
    }
}

struct BasicBlock {
    first: ConvBnAct,
    second: ConvBnAct,
    downsample: Option<ConvBnAct>,
}

impl BasicBlock {
    fn new(path: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            conv_bn(
                &(path / "downsample"),
                "0",
                "1",
                ConvSpec::new(c_in, c_out, 1).stride(stride),
                Activation::Identity,
            )
        });
        BasicBlock {
            first: conv_bn(
                path,
                "conv1",
                "bn1",
                ConvSpec::new(c_in, c_out, 3).stride(stride),
                Activation::Relu,
            ),
            second: conv_bn(
                path,
                "conv2",
                "bn2",
                ConvSpec::new(c_out, c_out, 3),
                Activation::Identity,
            ),
            downsample,
        }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let out = self.second.forward_t(&self.first.forward_t(x, train), train);
        let shortcut = match &self.downsample {
            Some(downsample) => downsample.forward_t(x, train),
            None => x.shallow_clone(),
        };
        (out + shortcut).relu()
    }
}

pub struct ResNet18 {
    stem: ConvBnAct,
    blocks: Vec<BasicBlock>,
}

impl ResNet18 {
    pub fn new(path: &nn::Path) -> Self {
        let stem =
            conv_bn(path, "conv1", "bn1", ConvSpec::new(3, 64, 7).stride(2), Activation::Relu);
        let mut c_in = 64;
        let mut blocks = Vec::new();
        for (i, width) in [64, 128, 256, 512].into_iter().enumerate() {
            let layer = path / format!("layer{}", i + 1);
            let stride = if i == 0 { 1 } else { 2 };
            blocks.push(BasicBlock::new(&(&layer / 0), c_in, width, stride));
            blocks.push(BasicBlock::new(&(&layer / 1), width, width, 1));
            c_in = width;
        }
        ResNet18 { stem, blocks }
    }
}

impl Backbone for ResNet18 {
    fn forward_t(&self, x: &Tensor, train: bool) -> Features {
        let mut x = self.stem.forward_t(x, train).max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for block in &self.blocks {
            x = block.forward_t(&x, train);
        }
        Features::map(x)
    }

    fn channels(&self) -> i64 {
        FEATURES
    }
}
