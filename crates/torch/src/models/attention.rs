//! Attention blocks applied to a backbone's final feature map (the study's Task 3,
//! `../shared/seeds/reference-spec.md` §2.3), named under `attention.`:
//! - squeeze-excitation: channel gates σ(fc2(ReLU(fc1(mean over h, w)))) with max(C / r, 4)
//!   hidden units (`fc1`, `fc2`, PyTorch Linear init);
//! - spatial multi-head self-attention over the h·w positions: pre-LayerNorm (`norm`, eps 1e-5),
//!   `nn.MultiheadAttention` (`mha.in_proj_weight`, `mha.in_proj_bias`, `mha.out_proj`; Xavier
//!   uniform input projection, zero biases) and a residual connection; no positional encoding,
//!   no MLP, as the reference.
use ablate_stages::catalog::AttentionKind;
use tch::Tensor;
use tch::nn::{self, Init};

use super::layers::{layer_norm, linear, pytorch_uniform};

pub enum Attention {
    SqueezeExcitation {
        fc1: nn::Linear,
        fc2: nn::Linear,
    },
    SpatialSelfAttention {
        norm: nn::LayerNorm,
        in_proj_weight: Tensor,
        in_proj_bias: Tensor,
        out_proj: nn::Linear,
        heads: i64,
    },
}

impl Attention {
    /// The block for `kind` on `channels` channels, or `None` for [`AttentionKind::None`].
    pub fn new(
        path: &nn::Path,
        kind: AttentionKind,
        channels: i64,
        se_reduction: i64,
        mha_heads: i64,
    ) -> anyhow::Result<Option<Self>> {
        Ok(match kind {
            AttentionKind::None => None,
            AttentionKind::Se => {
                let hidden = (channels / se_reduction).max(4);
                Some(Attention::SqueezeExcitation {
                    fc1: linear(path / "fc1", channels, hidden),
                    fc2: linear(path / "fc2", hidden, channels),
                })
            }
            AttentionKind::Mha => {
                if mha_heads < 1 || channels % mha_heads != 0 {
                    anyhow::bail!(
                        "attention heads ({mha_heads}) must divide the feature channels ({channels})"
                    );
                }
                let mha = path / "mha";
                let bound = (6.0 / (channels + 3 * channels) as f64).sqrt();
                let in_proj_weight = mha.var(
                    "in_proj_weight",
                    &[3 * channels, channels],
                    Init::Uniform { lo: -bound, up: bound },
                );
                let in_proj_bias = mha.zeros("in_proj_bias", &[3 * channels]);
                let out_config = nn::LinearConfig {
                    ws_init: pytorch_uniform(channels),
                    bs_init: Some(Init::Const(0.0)),
                    bias: true,
                };
                let out_proj = nn::linear(&mha / "out_proj", channels, channels, out_config);
                Some(Attention::SpatialSelfAttention {
                    norm: layer_norm(path / "norm", channels, 1e-5),
                    in_proj_weight,
                    in_proj_bias,
                    out_proj,
                    heads: mha_heads,
                })
            }
        })
    }

    /// B×C×h×w → B×C×h×w.
    pub fn forward(&self, map: &Tensor) -> Tensor {
        match self {
            Attention::SqueezeExcitation { fc1, fc2 } => {
                let gates = map
                    .mean_dim([2, 3].as_slice(), false, None)
                    .apply(fc1)
                    .relu()
                    .apply(fc2)
                    .sigmoid();
                map * gates.unsqueeze(-1).unsqueeze(-1)
            }
            Attention::SpatialSelfAttention {
                norm,
                in_proj_weight,
                in_proj_bias,
                out_proj,
                heads,
            } => {
                let (b, c, h, w) = map.size4().expect("feature map is B×C×h×w");
                let tokens = map.flatten(2, -1).transpose(1, 2);
                let qkv = tokens.apply(norm).linear(in_proj_weight, Some(in_proj_bias));
                let split = |i: i64| {
                    qkv.narrow(2, i * c, c).reshape([b, h * w, *heads, c / heads]).transpose(1, 2)
                };
                let attended = Tensor::scaled_dot_product_attention(
                    &split(0),
                    &split(1),
                    &split(2),
                    None::<Tensor>,
                    0.0,
                    false,
                    None,
                    false,
                );
                let attended = attended.transpose(1, 2).reshape([b, h * w, c]).apply(out_proj);
                (tokens + attended).transpose(1, 2).reshape([b, c, h, w])
            }
        }
    }
}
