//! Model definitions, one file per architecture, and the classifier that joins a backbone, an
//! optional attention block and the study's head. Parameters live under `backbone.*` (with
//! torchvision's or timm's names below it), `attention.*` and `classifier.*`, as in the
//! reference's `TransferModel`, so checkpoints are plain state dicts PyTorch can load.
pub mod attention;
pub mod efficientnet_b0;
pub mod efficientnet_lite;
pub mod head;
pub mod layers;
pub mod listing;
pub mod resnet18;
pub mod swin;
pub mod transformer;
pub mod vae;
pub mod vit;

use serde::{Deserialize, Serialize};
use tch::Tensor;
use tch::nn;

use ablate_stages::catalog::{self, AttentionKind, Family};
use attention::Attention;
use head::Head;

/// What a backbone computes from a batch of images.
pub struct Features {
    /// The final feature map, B×C×h×w (attention and GradCAM work on it).
    pub map: Tensor,
    /// A pooled class token (ViT), used instead of the map's mean when there is no attention.
    pub token: Option<Tensor>,
}

impl Features {
    pub fn map(map: Tensor) -> Self {
        Features { map, token: None }
    }
}

/// A network that turns images into features.
pub trait Backbone: Send {
    fn forward_t(&self, x: &Tensor, train: bool) -> Features;
    /// Channels of the feature map.
    fn channels(&self) -> i64;
    /// Converts a checkpoint tensor whose shape differs from the model's (`shape`) when the
    /// architecture knows how, e.g. ViT position embeddings made for another image size.
    fn adapt(&self, _name: &str, _tensor: &Tensor, _shape: &[i64]) -> Option<Tensor> {
        None
    }
}

/// [`Backbone::adapt`] for a tensor named as in a classifier's state dict (`backbone.<name>`).
pub fn adapt_backbone_tensor(
    backbone: &dyn Backbone,
    name: &str,
    tensor: &Tensor,
    shape: &[i64],
) -> Option<Tensor> {
    backbone.adapt(name.strip_prefix("backbone.")?, tensor, shape)
}

/// The network between the images and the head: which backbone, which attention block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    pub backbone: String,
    #[serde(default)]
    pub attention: AttentionKind,
    #[serde(default = "default_se_reduction")]
    pub se_reduction: i64,
    #[serde(default = "default_mha_heads")]
    pub mha_heads: i64,
    /// Stochastic-depth rate; `None` takes the backbone library's default.
    #[serde(default)]
    pub drop_path: Option<f64>,
}

fn default_se_reduction() -> i64 {
    16
}

fn default_mha_heads() -> i64 {
    8
}

impl Architecture {
    pub fn new(backbone: &str) -> Self {
        Architecture {
            backbone: backbone.to_string(),
            attention: AttentionKind::None,
            se_reduction: default_se_reduction(),
            mha_heads: default_mha_heads(),
            drop_path: None,
        }
    }

    /// The stochastic-depth rate in effect: the configured one, else the default of the library
    /// whose model this is (see `catalog`).
    pub fn drop_path_rate(&self) -> anyhow::Result<f64> {
        Ok(self.drop_path.unwrap_or(catalog::backbone(&self.backbone)?.drop_path))
    }
}

/// Builds the backbone `arch.backbone` (a row of `catalog::BACKBONES`) under `path` for square
/// images of side `image_size`.
pub fn build_backbone(
    path: &nn::Path,
    arch: &Architecture,
    image_size: i64,
) -> anyhow::Result<Box<dyn Backbone>> {
    let rate = arch.drop_path_rate()?;
    Ok(match catalog::backbone(&arch.backbone)?.family {
        Family::ResNet18 => Box::new(resnet18::ResNet18::new(path)),
        Family::EfficientNetB0 => Box::new(efficientnet_b0::EfficientNetB0::new(path, rate)),
        Family::EfficientNetLite { channel_multiplier, depth_multiplier } => {
            let scale = efficientnet_lite::Scale { channel_multiplier, depth_multiplier };
            Box::new(efficientnet_lite::EfficientNetLite::new(path, scale, rate))
        }
        Family::Vit { dim, heads } => {
            Box::new(vit::VisionTransformer::new(path, dim, heads, image_size, rate)?)
        }
        Family::Swin { depths } => {
            Box::new(swin::SwinTransformer::new(path, depths, image_size, rate)?)
        }
    })
}

/// Everything needed to rebuild a classifier; saved beside its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(flatten)]
    pub arch: Architecture,
    pub labels: Vec<String>,
    pub head_hidden: i64,
    pub dropout: f64,
    pub image_size: usize,
}

pub struct Classifier {
    backbone: Box<dyn Backbone>,
    attention: Option<Attention>,
    head: Head,
}

impl Classifier {
    pub fn new(root: &nn::Path, config: &ModelConfig) -> anyhow::Result<Self> {
        let arch = &config.arch;
        let backbone = build_backbone(&(root / "backbone"), arch, config.image_size as i64)?;
        let channels = backbone.channels();
        let attention = Attention::new(
            &(root / "attention"),
            arch.attention,
            channels,
            arch.se_reduction,
            arch.mha_heads,
        )?;
        let head = Head::new(
            &(root / "classifier"),
            channels,
            config.head_hidden,
            config.labels.len() as i64,
            config.dropout,
        );
        Ok(Classifier { backbone, attention, head })
    }

    pub fn backbone(&self) -> &dyn Backbone {
        self.backbone.as_ref()
    }

    /// Logits, B×labels.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        self.logits_t(&self.features_t(x, train), train)
    }

    pub fn features_t(&self, x: &Tensor, train: bool) -> Features {
        self.backbone.forward_t(x, train)
    }

    /// Logits, B×labels, from the backbone's features (GradCAM differentiates them with
    /// respect to the feature map).
    pub fn logits_t(&self, features: &Features, train: bool) -> Tensor {
        let pooled = match (&self.attention, &features.token) {
            (None, Some(token)) => token.shallow_clone(),
            (None, None) => features.map.mean_dim([2, 3].as_slice(), false, None),
            (Some(attention), _) => {
                attention.forward(&features.map).mean_dim([2, 3].as_slice(), false, None)
            }
        };
        self.head.forward_t(&pooled, train)
    }

    /// Whether the logits are computed from the feature map; not so for a ViT without an
    /// attention block, whose head reads the class token.
    pub fn reads_feature_map(&self, features: &Features) -> bool {
        self.attention.is_some() || features.token.is_none()
    }
}
