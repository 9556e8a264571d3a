//! The architectures ablate builds: one row per backbone, and the attention blocks.
//!
//! A row names the backbone, the library whose parameter names it mirrors (so that its weights
//! load by name, both ways), its family with the configuration that sizes it, the input side
//! its source's weights were made for (ViT and Swin are built for that side; their position
//! tables are resampled for others), the prefix of the classifier its source library puts on
//! top (dropped when weights are loaded), and the source library's default stochastic-depth
//! rate. The torch side builds a family's network from the configuration (`ablate_torch::
//! models::build_backbone`): adding a backbone of a known family is one row here.

/// A family of networks and what sizes one member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    ResNet18,
    EfficientNetB0,
    /// timm's `_gen_efficientnet_lite`: Lite0's stages, output channels times
    /// `channel_multiplier` (rounded to multiples of 8), the repeats of every stage but the
    /// first and last times `depth_multiplier` (rounded up).
    EfficientNetLite {
        channel_multiplier: f64,
        depth_multiplier: f64,
    },
    /// A ViT with 16-pixel patches and 12 blocks of width `dim`.
    Vit {
        dim: i64,
        heads: i64,
    },
    /// A Swin transformer with 4-pixel patches, window 7 and these blocks per stage.
    Swin {
        depths: [usize; 4],
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackboneInfo {
    pub name: &'static str,
    /// The library and model whose parameter names this one has.
    pub mirrors: &'static str,
    pub family: Family,
    /// Side of the images its source's weights were trained at.
    pub native_size: i64,
    /// Prefix of the source library's classifier, e.g. `fc.`.
    pub classifier_prefix: &'static str,
    /// The source library's default stochastic-depth rate.
    pub drop_path: f64,
}

const fn row(
    name: &'static str,
    mirrors: &'static str,
    family: Family,
    native_size: i64,
    classifier_prefix: &'static str,
    drop_path: f64,
) -> BackboneInfo {
    BackboneInfo { name, mirrors, family, native_size, classifier_prefix, drop_path }
}

const fn lite(channel_multiplier: f64, depth_multiplier: f64) -> Family {
    Family::EfficientNetLite { channel_multiplier, depth_multiplier }
}

/// Every backbone, in the order `ablate models` lists them.
#[rustfmt::skip]
pub const BACKBONES: &[BackboneInfo] = &[
    row("resnet18", "torchvision resnet18", Family::ResNet18, 224, "fc.", 0.0),
    row("efficientnet_b0", "torchvision efficientnet_b0", Family::EfficientNetB0, 224, "classifier.", 0.2),
    row("efficientnet_lite0", "timm tf_efficientnet_lite0", lite(1.0, 1.0), 224, "classifier.", 0.0),
    row("efficientnet_lite1", "timm tf_efficientnet_lite1", lite(1.0, 1.1), 240, "classifier.", 0.0),
    row("efficientnet_lite2", "timm tf_efficientnet_lite2", lite(1.1, 1.2), 260, "classifier.", 0.0),
    row("vit_tiny_patch16_224", "timm vit_tiny_patch16_224", Family::Vit { dim: 192, heads: 3 }, 224, "head.", 0.0),
    row("vit_small_patch16_224", "timm vit_small_patch16_224", Family::Vit { dim: 384, heads: 6 }, 224, "head.", 0.0),
    row("vit_base_patch16_224", "timm vit_base_patch16_224", Family::Vit { dim: 768, heads: 12 }, 224, "head.", 0.0),
    row("swin_tiny_patch4_window7_224", "timm swin_tiny_patch4_window7_224", Family::Swin { depths: [2, 2, 6, 2] }, 224, "head.", 0.1),
    row("swin_small_patch4_window7_224", "timm swin_small_patch4_window7_224", Family::Swin { depths: [2, 2, 18, 2] }, 224, "head.", 0.1),
];

/// The backbones' names, for the `arch` parameter of `backbone`.
pub const BACKBONE_NAMES: &[&str] = &{
    let mut names = [""; BACKBONES.len()];
    let mut i = 0;
    while i < BACKBONES.len() {
        names[i] = BACKBONES[i].name;
        i += 1;
    }
    names
};

/// The row of the backbone called `name`.
pub fn backbone(name: &str) -> anyhow::Result<&'static BackboneInfo> {
    BACKBONES.iter().find(|b| b.name == name).ok_or_else(|| {
        anyhow::anyhow!("unknown backbone `{name}` (known: {})", BACKBONE_NAMES.join(", "))
    })
}

ablate_core::choice! {
    /// The block between a backbone's feature map and the head.
    #[derive(Default, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum AttentionKind {
        #[default]
        None = "none",
        /// Squeeze-excitation.
        Se = "se",
        /// Spatial multi-head self-attention over the map's cells.
        Mha = "mha",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_listed() {
        assert_eq!(BACKBONE_NAMES.len(), BACKBONES.len());
        for (i, name) in BACKBONE_NAMES.iter().enumerate() {
            assert!(!BACKBONE_NAMES[..i].contains(name), "{name} twice");
            assert_eq!(backbone(name).unwrap().name, *name);
        }
        assert!(backbone("resnet50").unwrap_err().to_string().contains("known: resnet18, "));
    }
}
