//! Vision Transformer with timm's `vit_{tiny,small,base}_patch16_224` layout and names
//! (`patch_embed.proj`, `cls_token`, `pos_embed`, `blocks.N.{norm1,attn.qkv,attn.proj,norm2,
//! mlp.fc1,mlp.fc2}`, `norm`): pre-norm blocks with LayerNorm eps 1e-6, exact GELU, class-token
//! pooling after the final norm. Built for the pipeline's image size; a checkpoint made at
//! another size (224²) has its position embeddings resampled bicubically with antialiasing on
//! load, as timm's `resample_abs_pos_embed`. The feature map is the patch-token grid after the
//! final norm (B×D×g×g); stochastic depth rises linearly to `drop_path` over the blocks.
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

use super::layers::{drop_path, layer_norm};
use super::transformer::{Mlp, SelfAttention};
use super::{Backbone, Features};

const PATCH: i64 = 16;
const EPS: f64 = 1e-6;
const DEPTH: usize = 12;

struct Block {
    norm1: nn::LayerNorm,
    attn: SelfAttention,
    norm2: nn::LayerNorm,
    mlp: Mlp,
    drop_path: f64,
}

impl Block {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x =
            x + drop_path(&self.attn.forward(&x.apply(&self.norm1), None), self.drop_path, train);
        let mlp = self.mlp.forward(&x.apply(&self.norm2));
        &x + drop_path(&mlp, self.drop_path, train)
    }
}

pub struct VisionTransformer {
    patch_embed: super::layers::Conv2d,
    cls_token: Tensor,
    pos_embed: Tensor,
    blocks: Vec<Block>,
    norm: nn::LayerNorm,
    dim: i64,
}

impl VisionTransformer {
    pub fn new(
        path: &nn::Path,
        dim: i64,
        heads: i64,
        image_size: i64,
        drop_path_rate: f64,
    ) -> anyhow::Result<Self> {
        if image_size % PATCH != 0 {
            anyhow::bail!("ViT needs an image size divisible by {PATCH}, not {image_size}");
        }
        let grid = image_size / PATCH;
        let spec = super::layers::ConvSpec::new(3, dim, PATCH)
            .stride(PATCH)
            .padding(super::layers::Padding::Symmetric(0))
            .bias();
        let patch_embed =
            super::layers::Conv2d::pytorch_default(path / "patch_embed" / "proj", spec);
        let cls_token = path.var("cls_token", &[1, 1, dim], Init::Randn { mean: 0.0, stdev: 1e-6 });
        let pos_embed = path.var(
            "pos_embed",
            &[1, grid * grid + 1, dim],
            Init::Randn { mean: 0.0, stdev: 0.02 },
        );
        let blocks = (0..DEPTH)
            .map(|i| {
                let block = path / "blocks" / i;
                Block {
                    norm1: layer_norm(&block / "norm1", dim, EPS),
                    attn: SelfAttention::new(&(&block / "attn"), dim, heads),
                    norm2: layer_norm(&block / "norm2", dim, EPS),
                    mlp: Mlp::new(&(&block / "mlp"), dim, 4 * dim),
                    drop_path: drop_path_rate * i as f64 / (DEPTH - 1) as f64,
                }
            })
            .collect();
        Ok(VisionTransformer {
            patch_embed,
            cls_token,
            pos_embed,
            blocks,
            norm: layer_norm(path / "norm", dim, EPS),
            dim,
        })
    }
}

impl Backbone for VisionTransformer {
    fn forward_t(&self, x: &Tensor, train: bool) -> Features {
        let patches = self.patch_embed.forward(x);
        let (b, grid) = (patches.size()[0], patches.size()[2]);
        let tokens = patches.flatten(2, -1).transpose(1, 2);
        let mut x = Tensor::cat(&[self.cls_token.expand([b, 1, self.dim], false), tokens], 1)
            + &self.pos_embed;
        for block in &self.blocks {
            x = block.forward_t(&x, train);
        }
        let x = x.apply(&self.norm);
        let map = x.narrow(1, 1, grid * grid).transpose(1, 2).reshape([b, self.dim, grid, grid]);
        Features { map, token: Some(x.select(1, 0)) }
    }

    fn channels(&self) -> i64 {
        self.dim
    }

    fn adapt(&self, name: &str, tensor: &Tensor, shape: &[i64]) -> Option<Tensor> {
        (name == "pos_embed").then(|| resample_position_embeddings(tensor, shape))?
    }
}

/// Resamples a 1×(1+m²)×D position embedding to `shape` = 1×(1+n²)×D: the class token's entry
/// is kept, the m×m grid is resized bicubically (antialiased, as timm) to n×n.
fn resample_position_embeddings(tensor: &Tensor, shape: &[i64]) -> Option<Tensor> {
    let size = tensor.size();
    let side = |tokens: i64| {
        let s = ((tokens - 1) as f64).sqrt().round() as i64;
        (s * s == tokens - 1).then_some(s)
    };
    if size.len() != 3 || shape.len() != 3 || size[0] != 1 || size[2] != shape[2] {
        return None;
    }
    let (from, to) = (side(size[1])?, side(shape[1])?);
    let dim = size[2];
    let grid = tensor
        .narrow(1, 1, from * from)
        .reshape([1, from, from, dim])
        .permute([0, 3, 1, 2])
        .to_kind(Kind::Float);
    let resized = grid.internal_upsample_bicubic2d_aa([to, to], false, None, None);
    let resized = resized.permute([0, 2, 3, 1]).reshape([1, to * to, dim]).to_kind(tensor.kind());
    Some(Tensor::cat(&[tensor.narrow(1, 0, 1), resized], 1))
}
