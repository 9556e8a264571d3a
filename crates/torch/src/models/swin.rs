//! Swin Transformer with timm's `swin_{tiny,small}_patch4_window7_224` layout and names
//! (`patch_embed.{proj,norm}`, `layers.S.downsample.{norm,reduction}` at the start of stages
//! 1–3, `layers.S.blocks.B.{norm1,attn.{qkv,proj,relative_position_bias_table},norm2,mlp.*}`,
//! `norm`) and timm ≥ 0.9 behaviour at any image size divisible by 32:
//! - a block's window is min(7, feature side) and its shift (odd blocks) is window / 2, or 0
//!   when the feature map fits in one window;
//! - the block rolls the normalised tokens by −shift, pads them with zeros at the bottom and
//!   right to a multiple of the window, attends within windows (relative position bias, plus
//!   −100 between tokens from different regions of the shifted, padded map), crops and rolls
//!   back;
//! - LayerNorm eps 1e-5, exact GELU, stochastic depth rising linearly to `drop_path` (timm's
//!   default 0.1) over all blocks.
//!
//! The feature map is the output of the final norm (B×C×h×w); pooled features are its mean.
use tch::nn::{self, Init};
use tch::{Kind, Tensor};

use super::layers::{Conv2d, ConvSpec, Padding, drop_path, layer_norm};
use super::transformer::{Mlp, SelfAttention, linear};
use super::{Backbone, Features};

const PATCH: i64 = 4;
const WINDOW: i64 = 7;
const EMBED: i64 = 96;
const EPS: f64 = 1e-5;
const HEADS: [i64; 4] = [3, 6, 12, 24];

/// timm's `get_relative_position_index` for a window × window window.
fn relative_position_index(window: i64, device: tch::Device) -> Tensor {
    let coords = Tensor::arange(window * window, (Kind::Int64, device));
    let (rows, cols) = (coords.divide_scalar_mode(window, "floor"), coords.remainder(window));
    let dr = rows.unsqueeze(1) - rows.unsqueeze(0) + (window - 1);
    let dc = cols.unsqueeze(1) - cols.unsqueeze(0) + (window - 1);
    dr * (2 * window - 1) + dc
}

/// timm's `window_partition`: B×H×W×C → (B·windows)×(window²)×C.
fn partition(x: &Tensor, window: i64) -> Tensor {
    let (b, h, w, c) = x.size4().expect("B×H×W×C");
    x.reshape([b, h / window, window, w / window, window, c]).permute([0, 1, 3, 2, 4, 5]).reshape([
        -1,
        window * window,
        c,
    ])
}

/// timm's `window_reverse`.
fn reverse(windows: &Tensor, window: i64, h: i64, w: i64) -> Tensor {
    let c = windows.size()[2];
    windows
        .reshape([-1, h / window, w / window, window, window, c])
        .permute([0, 1, 3, 2, 4, 5])
        .reshape([-1, h, w, c])
}

/// The shifted-window mask of timm's `get_attn_mask` for a padded `h`×`w` map: windows×N×N with
/// 0 within a region and −100 across regions.
fn shift_mask(h: i64, w: i64, window: i64, shift: i64, device: tch::Device) -> Tensor {
    let region = |size: i64, i: i64| {
        if i < size - window {
            0.0
        } else if i < size - shift {
            1.0
        } else {
            2.0
        }
    };
    let labels: Vec<f32> = (0..h)
        .flat_map(|i| (0..w).map(move |j| (region(h, i) * 3.0 + region(w, j)) as f32))
        .collect();
    let image = Tensor::from_slice(&labels).reshape([1, h, w, 1]).to_device(device);
    let windows = partition(&image, window).squeeze_dim(-1);
    let difference = windows.unsqueeze(1) - windows.unsqueeze(2);
    Tensor::zeros_like(&difference).masked_fill(&difference.ne(0.0), -100.0)
}

struct Block {
    norm1: nn::LayerNorm,
    attn: SelfAttention,
    relative_position_bias_table: Tensor,
    relative_position_index: Tensor,
    norm2: nn::LayerNorm,
    mlp: Mlp,
    window: i64,
    shift: i64,
    /// Shifted-window mask for this block's padded resolution (shifted blocks only).
    mask: Option<Tensor>,
    drop_path: f64,
    heads: i64,
}

impl Block {
    fn new(
        path: &nn::Path,
        dim: i64,
        heads: i64,
        resolution: i64,
        shifted: bool,
        drop_path: f64,
    ) -> Self {
        let window = WINDOW.min(resolution);
        let shift = if shifted && resolution > window { window / 2 } else { 0 };
        let attn = path / "attn";
        let table = attn.var(
            "relative_position_bias_table",
            &[(2 * window - 1) * (2 * window - 1), heads],
            Init::Randn { mean: 0.0, stdev: 0.02 },
        );
        let padded = (resolution + window - 1) / window * window;
        Block {
            norm1: layer_norm(path / "norm1", dim, EPS),
            attn: SelfAttention::new(&attn, dim, heads),
            relative_position_bias_table: table,
            relative_position_index: relative_position_index(window, path.device()),
            norm2: layer_norm(path / "norm2", dim, EPS),
            mlp: Mlp::new(&(path / "mlp"), dim, 4 * dim),
            window,
            shift,
            mask: (shift > 0).then(|| shift_mask(padded, padded, window, shift, path.device())),
            drop_path,
            heads,
        }
    }

    /// Relative position bias, plus the shift mask when there is one: broadcastable to
    /// (B·windows)×heads×N×N.
    fn attention_bias(&self, batch: i64, kind: Kind) -> Tensor {
        let n = self.window * self.window;
        let bias = self
            .relative_position_bias_table
            .index_select(0, &self.relative_position_index.view([-1]));
        let bias = bias.view([n, n, self.heads]).permute([2, 0, 1]).unsqueeze(0).to_kind(kind);
        match &self.mask {
            None => bias,
            Some(mask) => {
                let windows = mask.size()[0];
                let mask = mask
                    .view([1, windows, 1, n, n])
                    .expand([batch, windows, self.heads, n, n], false);
                bias + mask.reshape([-1, self.heads, n, n]).to_kind(kind)
            }
        }
    }

    fn window_attention(&self, x: &Tensor) -> Tensor {
        let (b, h, w, _) = x.size4().expect("B×H×W×C");
        let shifted = if self.shift > 0 {
            x.roll([-self.shift, -self.shift], [1, 2])
        } else {
            x.shallow_clone()
        };
        let pad = |size: i64| (self.window - size % self.window) % self.window;
        let padded = shifted.constant_pad_nd([0, 0, 0, pad(w), 0, pad(h)]);
        let (hp, wp) = (h + pad(h), w + pad(w));
        let windows = self
            .attn
            .forward(&partition(&padded, self.window), Some(&self.attention_bias(b, x.kind())));
        let out = reverse(&windows, self.window, hp, wp).narrow(1, 0, h).narrow(2, 0, w);
        if self.shift > 0 { out.roll([self.shift, self.shift], [1, 2]) } else { out }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let x = x + drop_path(&self.window_attention(&x.apply(&self.norm1)), self.drop_path, train);
        let mlp = self.mlp.forward(&x.apply(&self.norm2));
        &x + drop_path(&mlp, self.drop_path, train)
    }
}

/// timm's `PatchMerging`: each 2×2 neighbourhood's channels concatenated (top-left,
/// bottom-left, top-right, bottom-right), normalised and projected to twice the width.
struct PatchMerging {
    norm: nn::LayerNorm,
    reduction: nn::Linear,
}

impl PatchMerging {
    fn forward(&self, x: &Tensor) -> Tensor {
        let (b, h, w, c) = x.size4().expect("B×H×W×C");
        let x = x.constant_pad_nd([0, 0, 0, w % 2, 0, h % 2]);
        let (h, w) = ((h + 1) / 2, (w + 1) / 2);
        let x = x.reshape([b, h, 2, w, 2, c]).permute([0, 1, 3, 4, 2, 5]).flatten(3, -1);
        x.apply(&self.norm).apply(&self.reduction)
    }
}

struct Stage {
    downsample: Option<PatchMerging>,
    blocks: Vec<Block>,
}

pub struct SwinTransformer {
    patch_embed: Conv2d,
    patch_norm: nn::LayerNorm,
    stages: Vec<Stage>,
    norm: nn::LayerNorm,
    channels: i64,
}

impl SwinTransformer {
    pub fn new(
        path: &nn::Path,
        depths: [usize; 4],
        image_size: i64,
        drop_path_rate: f64,
    ) -> anyhow::Result<Self> {
        if image_size % (PATCH * 8) != 0 {
            anyhow::bail!("Swin needs an image size divisible by {}, not {image_size}", PATCH * 8);
        }
        let total: usize = depths.iter().sum();
        let rate =
            |i: usize| if total > 1 { drop_path_rate * i as f64 / (total - 1) as f64 } else { 0.0 };
        let spec =
            ConvSpec::new(3, EMBED, PATCH).stride(PATCH).padding(Padding::Symmetric(0)).bias();
        let patch_embed = Conv2d::pytorch_default(path / "patch_embed" / "proj", spec);
        let mut resolution = image_size / PATCH;
        let mut dim = EMBED;
        let mut index = 0;
        let mut stages = Vec::new();
        for (s, &depth) in depths.iter().enumerate() {
            let stage = path / "layers" / s;
            let downsample = (s > 0).then(|| {
                let merge = &stage / "downsample";
                let merging = PatchMerging {
                    norm: layer_norm(&merge / "norm", 4 * dim, EPS),
                    reduction: linear(&merge / "reduction", 4 * dim, 2 * dim, false),
                };
                dim *= 2;
                resolution = (resolution + 1) / 2;
                merging
            });
            let blocks = (0..depth)
                .map(|b| {
                    index += 1;
                    Block::new(
                        &(&stage / "blocks" / b),
                        dim,
                        HEADS[s],
                        resolution,
                        b % 2 == 1,
                        rate(index - 1),
                    )
                })
                .collect();
            stages.push(Stage { downsample, blocks });
        }
        Ok(SwinTransformer {
            patch_embed,
            patch_norm: layer_norm(path / "patch_embed" / "norm", EMBED, EPS),
            stages,
            norm: layer_norm(path / "norm", dim, EPS),
            channels: dim,
        })
    }
}

impl Backbone for SwinTransformer {
    fn forward_t(&self, x: &Tensor, train: bool) -> Features {
        let mut x = self.patch_embed.forward(x).permute([0, 2, 3, 1]).apply(&self.patch_norm);
        for stage in &self.stages {
            if let Some(merge) = &stage.downsample {
                x = merge.forward(&x);
            }
            for block in &stage.blocks {
                x = block.forward_t(&x, train);
            }
        }
        Features::map(x.apply(&self.norm).permute([0, 3, 1, 2]))
    }

    fn channels(&self) -> i64 {
        self.channels
    }
}
