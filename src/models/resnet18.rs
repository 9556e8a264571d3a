//! ResNet18 with torchvision's layout and parameter names (`conv1`, `bn1`,
//! `layer{1..4}.{0,1}.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}`), so torchvision state
//! dicts map one to one. Initialisation as torchvision: Kaiming normal (fan-out, ReLU) for
//! convolutions, BatchNorm weight 1 and bias 0 (eps 1e-5, momentum 0.1). The `fc` layer is not
//! built: the classifier head replaces it, and `features` exposes the last feature map.
use tch::nn;
use tch::Tensor;

use super::Backbone;

const CONV_INIT: nn::Init = nn::Init::Kaiming {
    dist: nn::init::NormalOrUniform::Normal,
    fan: nn::init::FanInOut::FanOut,
    non_linearity: nn::init::NonLinearity::ReLU,
};

fn conv(path: nn::Path, c_in: i64, c_out: i64, kernel: i64, stride: i64, padding: i64) -> nn::Conv2D {
    let config = nn::ConvConfig { stride, padding, bias: false, ws_init: CONV_INIT, ..Default::default() };
    nn::conv2d(path, c_in, c_out, kernel, config)
}

fn batch_norm(path: nn::Path, channels: i64) -> nn::BatchNorm {
    nn::batch_norm2d(path, channels, Default::default())
}

struct BasicBlock {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    conv2: nn::Conv2D,
    bn2: nn::BatchNorm,
    downsample: Option<(nn::Conv2D, nn::BatchNorm)>,
}

impl BasicBlock {
    fn new(path: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            let ds = path / "downsample";
            (conv(&ds / "0", c_in, c_out, 1, stride, 0), batch_norm(&ds / "1", c_out))
        });
        BasicBlock {
            conv1: conv(path / "conv1", c_in, c_out, 3, stride, 1),
            bn1: batch_norm(path / "bn1", c_out),
            conv2: conv(path / "conv2", c_out, c_out, 3, 1, 1),
            bn2: batch_norm(path / "bn2", c_out),
            downsample,
        }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let out = x.apply(&self.conv1).apply_t(&self.bn1, train).relu();
        let out = out.apply(&self.conv2).apply_t(&self.bn2, train);
        let shortcut = match &self.downsample {
            Some((conv, bn)) => x.apply(conv).apply_t(bn, train),
            None => x.shallow_clone(),
        };
        (out + shortcut).relu()
    }
}

pub struct ResNet18 {
    conv1: nn::Conv2D,
    bn1: nn::BatchNorm,
    layers: Vec<Vec<BasicBlock>>,
}

impl ResNet18 {
    pub const FEATURES: i64 = 512;

    pub fn new(path: &nn::Path) -> Self {
        let widths = [64, 128, 256, 512];
        let mut c_in = 64;
        let layers = widths
            .iter()
            .enumerate()
            .map(|(i, &width)| {
                let layer = path / format!("layer{}", i + 1);
                let stride = if i == 0 { 1 } else { 2 };
                let blocks = vec![
                    BasicBlock::new(&(&layer / "0"), c_in, width, stride),
                    BasicBlock::new(&(&layer / "1"), width, width, 1),
                ];
                c_in = width;
                blocks
            })
            .collect();
        ResNet18 { conv1: conv(path / "conv1", 3, 64, 7, 2, 3), bn1: batch_norm(path / "bn1", 64), layers }
    }
}

impl Backbone for ResNet18 {
    fn features(&self, x: &Tensor, train: bool) -> Tensor {
        let mut x = x.apply(&self.conv1).apply_t(&self.bn1, train).relu().max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        for block in self.layers.iter().flatten() {
            x = block.forward_t(&x, train);
        }
        x
    }

    fn feature_channels(&self) -> i64 {
        Self::FEATURES
    }
}
