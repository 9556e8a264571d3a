//! Building blocks shared by the architectures, with PyTorch's parameter names and semantics.
//!
//! Freezing is a property of the parameters, not of the code: a frozen tensor has
//! `requires_grad == false`. A [`BatchNorm`] whose affine weight is frozen therefore also stops
//! updating its running statistics and normalises with them, as `module.eval()` would in PyTorch
//! (the reference froze with `requires_grad` alone and let the statistics drift).
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

/// Kaiming normal over fan-out with the ReLU gain, torchvision's convolution initialisation.
pub const KAIMING_FAN_OUT: Init = Init::Kaiming {
    dist: nn::init::NormalOrUniform::Normal,
    fan: nn::init::FanInOut::FanOut,
    non_linearity: nn::init::NonLinearity::ReLU,
};

/// How a convolution pads its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Padding {
    /// The same number of zeros on every side, as PyTorch's `padding=p`.
    Symmetric(i64),
    /// TensorFlow's "SAME": output side = ceil(input / stride), the odd zero going right and
    /// bottom (timm's `Conv2dSame` for the `tf_` models).
    TfSame,
}

/// A 2-D convolution (`weight`, optional `bias`) with PyTorch layout.
#[derive(Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    kernel: i64,
    stride: i64,
    padding: Padding,
    groups: i64,
}

/// The shape of a [`Conv2d`].
#[derive(Debug, Clone, Copy)]
pub struct ConvSpec {
    pub c_in: i64,
    pub c_out: i64,
    pub kernel: i64,
    pub stride: i64,
    pub padding: Padding,
    pub groups: i64,
    pub bias: bool,
}

impl ConvSpec {
    /// A bias-free k×k convolution with PyTorch's `(k - 1) / 2` padding.
    pub fn new(c_in: i64, c_out: i64, kernel: i64) -> Self {
        ConvSpec {
            c_in,
            c_out,
            kernel,
            stride: 1,
            padding: Padding::Symmetric((kernel - 1) / 2),
            groups: 1,
            bias: false,
        }
    }
    pub fn stride(self, stride: i64) -> Self {
        ConvSpec { stride, ..self }
    }
    pub fn padding(self, padding: Padding) -> Self {
        ConvSpec { padding, ..self }
    }
    /// One group per channel.
    pub fn depthwise(self) -> Self {
        ConvSpec { groups: self.c_in, ..self }
    }
    pub fn bias(self) -> Self {
        ConvSpec { bias: true, ..self }
    }
}

impl Conv2d {
    /// A convolution with `init` weights and a zero bias (torchvision's and timm's CNN init).
    pub fn new(path: nn::Path, spec: ConvSpec, init: Init) -> Self {
        Self::build(path, spec, init, Init::Const(0.0))
    }

    /// A convolution initialised as PyTorch's `nn.Conv2d` default: weight and bias uniform over
    /// ±1/√fan-in (Kaiming uniform with a = √5).
    pub fn pytorch_default(path: nn::Path, spec: ConvSpec) -> Self {
        let uniform = pytorch_uniform(spec.c_in / spec.groups * spec.kernel * spec.kernel);
        Self::build(path, spec, uniform, uniform)
    }

    fn build(path: nn::Path, spec: ConvSpec, weight_init: Init, bias_init: Init) -> Self {
        let ConvSpec { c_in, c_out, kernel, stride, padding, groups, bias } = spec;
        let weight = path.var("weight", &[c_out, c_in / groups, kernel, kernel], weight_init);
        let bias = bias.then(|| path.var("bias", &[c_out], bias_init));
        Conv2d { weight, bias, kernel, stride, padding, groups }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let (x, padding) = match self.padding {
            Padding::Symmetric(p) => (x.shallow_clone(), p),
            // Stride 1 and an odd kernel: "SAME" is symmetric and the convolution pads itself
            // (as timm does), without a padded copy of the input.
            Padding::TfSame if self.stride == 1 && self.kernel % 2 == 1 => {
                (x.shallow_clone(), self.kernel / 2)
            }
            Padding::TfSame => (tf_same_pad(x, self.kernel, self.stride), 0),
        };
        x.conv2d(&self.weight, self.bias.as_ref(), [self.stride], [padding], [1], self.groups)
    }
}

fn tf_same_pad(x: &Tensor, kernel: i64, stride: i64) -> Tensor {
    let pad = |size: i64| (((size + stride - 1) / stride - 1) * stride + kernel - size).max(0);
    let size = x.size();
    let (pad_h, pad_w) = (pad(size[2]), pad(size[3]));
    if pad_h == 0 && pad_w == 0 {
        return x.shallow_clone();
    }
    x.constant_pad_nd([pad_w / 2, pad_w - pad_w / 2, pad_h / 2, pad_h - pad_h / 2])
}

/// BatchNorm2d with PyTorch's names, including the `num_batches_tracked` buffer so that state
/// dicts round-trip (it is carried, not advanced: with a fixed momentum it affects nothing).
#[derive(Debug)]
pub struct BatchNorm {
    inner: nn::BatchNorm,
}

impl BatchNorm {
    pub fn new(path: nn::Path, channels: i64, eps: f64) -> Self {
        let config = nn::BatchNormConfig {
            eps,
            momentum: 0.1,
            ws_init: Init::Const(1.0),
            bs_init: Init::Const(0.0),
            ..Default::default()
        };
        let inner = nn::batch_norm2d(&path, channels, config);
        let _ =
            path.add("num_batches_tracked", Tensor::zeros([], (Kind::Int64, path.device())), false);
        BatchNorm { inner }
    }

    /// Batch statistics (updating the running ones) in training unless frozen; running
    /// statistics otherwise.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let frozen = self.inner.ws.as_ref().is_some_and(|w| !w.requires_grad());
        x.apply_t(&self.inner, train && !frozen)
    }
}

/// `nn.Linear` with PyTorch's default initialisation: weight and bias uniform over ±1/√fan-in
/// (tch's own default draws the weight from a wider range).
pub fn linear(path: nn::Path, c_in: i64, c_out: i64) -> nn::Linear {
    let uniform = pytorch_uniform(c_in);
    nn::linear(
        path,
        c_in,
        c_out,
        nn::LinearConfig { ws_init: uniform, bs_init: Some(uniform), bias: true },
    )
}

/// Uniform over ±1/√fan-in, PyTorch's default for Linear and convolution parameters.
pub fn pytorch_uniform(fan_in: i64) -> Init {
    let bound = 1.0 / (fan_in as f64).sqrt();
    Init::Uniform { lo: -bound, up: bound }
}

/// `nn.LayerNorm` over the last dimension (weight 1, bias 0).
pub fn layer_norm(path: nn::Path, channels: i64, eps: f64) -> nn::LayerNorm {
    nn::layer_norm(path, vec![channels], nn::LayerNormConfig { eps, ..Default::default() })
}

/// Stochastic depth in "row" mode (torchvision's `StochasticDepth`, timm's `DropPath`): in
/// training, each sample's residual branch is dropped with probability `p` and survivors are
/// scaled by 1/(1 − p).
pub fn drop_path(x: &Tensor, p: f64, train: bool) -> Tensor {
    if !train || p == 0.0 {
        return x.shallow_clone();
    }
    let keep = 1.0 - p;
    let mut shape = vec![1i64; x.dim()];
    shape[0] = x.size()[0];
    let mask = Tensor::empty(shape.as_slice(), (x.kind(), x.device())).bernoulli_float_(keep);
    x * (mask / keep)
}

/// The activations the CNNs use after a normalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    Relu6,
    Silu,
}

impl Activation {
    pub fn apply(self, x: Tensor) -> Tensor {
        match self {
            Activation::Identity => x,
            Activation::Relu => x.relu(),
            Activation::Relu6 => x.relu6(),
            Activation::Silu => x.silu(),
        }
    }
}

/// Convolution → BatchNorm → activation, whatever the names of its parts.
#[derive(Debug)]
pub struct ConvBnAct {
    pub conv: Conv2d,
    pub bn: BatchNorm,
    pub act: Activation,
}

impl ConvBnAct {
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.act.apply(self.bn.forward_t(&self.conv.forward(x), train))
    }
}
