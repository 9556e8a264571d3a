//! The transformer parts timm's ViT and Swin share: packed-`qkv` self-attention with an optional
//! additive bias (Swin's relative positions and shifted-window mask), and the GELU MLP. Linear
//! layers are initialised as timm's `init_weights_vit_timm` (normal, std 0.02; zero bias).
use tch::Tensor;
use tch::nn::{self, Init};

/// timm's `init_weights_vit_timm` for Linear layers: truncated normal (std 0.02), zero bias.
pub fn linear(path: nn::Path, c_in: i64, c_out: i64, bias: bool) -> nn::Linear {
    let config = nn::LinearConfig {
        ws_init: Init::Randn { mean: 0.0, stdev: 0.02 },
        bs_init: Some(Init::Const(0.0)),
        bias,
    };
    nn::linear(path, c_in, c_out, config)
}

/// Multi-head self-attention with one packed `qkv` projection, as timm's `Attention`.
pub struct SelfAttention {
    qkv: nn::Linear,
    proj: nn::Linear,
    heads: i64,
}

impl SelfAttention {
    pub fn new(path: &nn::Path, dim: i64, heads: i64) -> Self {
        SelfAttention {
            qkv: linear(path / "qkv", dim, 3 * dim, true),
            proj: linear(path / "proj", dim, dim, true),
            heads,
        }
    }

    /// `x`: B×N×D tokens; `bias`: an additive attention mask broadcastable to B×heads×N×N.
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>) -> Tensor {
        let (b, n, d) = x.size3().expect("tokens are B×N×D");
        let qkv = x
            .apply(&self.qkv)
            .reshape([b, n, 3, self.heads, d / self.heads])
            .permute([2, 0, 3, 1, 4]);
        let (q, k, v) = (qkv.get(0), qkv.get(1), qkv.get(2));
        let out = Tensor::scaled_dot_product_attention(&q, &k, &v, bias, 0.0, false, None, false);
        out.transpose(1, 2).reshape([b, n, d]).apply(&self.proj)
    }
}

/// timm's `Mlp`: fc1 → exact GELU → fc2.
pub struct Mlp {
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Mlp {
    pub fn new(path: &nn::Path, dim: i64, hidden: i64) -> Self {
        Mlp {
            fc1: linear(path / "fc1", dim, hidden, true),
            fc2: linear(path / "fc2", hidden, dim, true),
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        x.apply(&self.fc1).gelu("none").apply(&self.fc2)
    }
}
