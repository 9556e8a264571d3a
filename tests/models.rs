//! Every architecture at a tiny size on the CPU: builds with every attention block, runs
//! forward and backward, round-trips its weights through safetensors; plus strict loading,
//! ViT position-embedding resampling, freezing, and the shared EfficientNet-Lite0 weights.

use std::path::Path;

use ablate_stages::catalog::AttentionKind;
use ablate_stages::catalog::BACKBONE_NAMES as BACKBONES;
use ablate_torch::models::{Architecture, Classifier, ModelConfig};
use ablate_torch::nn::weights;
use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Kind, Reduction, Tensor};

const SIZE: i64 = 32;

fn config(backbone: &str, attention: AttentionKind) -> ModelConfig {
    let mut arch = Architecture::new(backbone);
    arch.attention = attention;
    arch.mha_heads = 4;
    ModelConfig {
        arch,
        labels: vec!["D".into(), "G".into(), "A".into()],
        head_hidden: 16,
        dropout: 0.5,
        image_size: SIZE as usize,
    }
}

fn build(config: &ModelConfig, seed: i64) -> (VarStore, Classifier) {
    tch::manual_seed(seed);
    let vs = VarStore::new(Device::Cpu);
    let model = Classifier::new(&vs.root(), config).unwrap();
    (vs, model)
}

fn batch() -> (Tensor, Tensor) {
    tch::manual_seed(7);
    (
        Tensor::randn([2, 3, SIZE, SIZE], (Kind::Float, Device::Cpu)),
        Tensor::from_slice(&[1f32, 0., 0., 0., 1., 1.]).view([2, 3]),
    )
}

fn check_architecture(backbone: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = batch();
    for attention in [AttentionKind::None, AttentionKind::Se, AttentionKind::Mha] {
        let config = config(backbone, attention);
        let (vs, model) = build(&config, 1);
        let logits = model.forward_t(&x, true);
        assert_eq!(logits.size(), [2, 3], "{backbone} + {attention:?}");
        logits
            .binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::Mean)
            .backward();
        let without_grad: Vec<String> = weights::named_variables(&vs)
            .into_iter()
            .filter(|(_, t)| t.requires_grad() && !t.grad().defined())
            .map(|(n, _)| n)
            .collect();
        assert!(
            without_grad.is_empty(),
            "{backbone} + {attention:?}: no gradient for {without_grad:?}"
        );

        let file = dir.path().join("w.safetensors");
        weights::write(&file, &weights::named_variables(&vs), None).unwrap();
        let (copy_vs, copy) = build(&config, 2);
        let report =
            weights::load_into(&copy_vs, weights::read(&file).unwrap(), &[""], "w", &|_, _, _| {
                None
            })
            .unwrap();
        report.check_strict().unwrap();
        let (a, b) = tch::no_grad(|| (model.forward_t(&x, false), copy.forward_t(&x, false)));
        assert!(
            a.allclose(&b, 1e-6, 1e-6, false),
            "{backbone} + {attention:?}: outputs differ after a round trip"
        );
    }
}

#[test]
fn resnet18() {
    check_architecture("resnet18");
}

#[test]
fn efficientnet_b0() {
    check_architecture("efficientnet_b0");
}

#[test]
fn efficientnet_lite0() {
    check_architecture("efficientnet_lite0");
}

#[test]
fn vision_transformers() {
    for name in BACKBONES.iter().filter(|n| n.starts_with("vit_")) {
        check_architecture(name);
    }
}

#[test]
fn swin_transformers() {
    for name in BACKBONES.iter().filter(|n| n.starts_with("swin_")) {
        check_architecture(name);
    }
}

#[test]
fn a_wrong_shape_fails_naming_the_tensor() {
    let (vs, _) = build(&config("resnet18", AttentionKind::None), 1);
    let mut tensors = weights::named_variables(&vs);
    let conv = tensors.iter_mut().find(|(n, _)| n == "backbone.layer2.0.conv1.weight").unwrap();
    conv.1 = Tensor::zeros([128, 64, 1, 1], (Kind::Float, Device::Cpu));
    tensors.retain(|(n, _)| n != "classifier.3.bias");
    tensors
        .push(("backbone.fc.weight".into(), Tensor::zeros([3, 512], (Kind::Float, Device::Cpu))));
    let report =
        weights::load_into(&vs, tensors, &[""], "ckpt.safetensors", &|_, _, _| None).unwrap();
    let message = report.check_strict().unwrap_err().to_string();
    assert!(message.contains("`backbone.layer2.0.conv1.weight` has shape [128, 64, 1, 1] in the file but [128, 64, 3, 3]"), "{message}");
    assert!(message.contains("1 missing from the file: classifier.3.bias"), "{message}");
    assert!(message.contains("1 unexpected (not in the model): backbone.fc.weight"), "{message}");
}

#[test]
fn vit_position_embeddings_are_resampled_for_another_image_size() {
    let mut at_224 = config("vit_tiny_patch16_224", AttentionKind::None);
    at_224.image_size = 224;
    let (vs224, _) = build(&at_224, 1);
    let mut at_32 = at_224.clone();
    at_32.image_size = 32;
    let (vs32, model32) = build(&at_32, 2);
    let adapt = |name: &str, t: &Tensor, shape: &[i64]| {
        ablate_torch::models::adapt_backbone_tensor(model32.backbone(), name, t, shape)
    };
    let report =
        weights::load_into(&vs32, weights::named_variables(&vs224), &[""], "224", &adapt).unwrap();
    report.check_strict().unwrap();
    assert_eq!(
        report.adapted,
        [("backbone.pos_embed".to_string(), vec![1, 197, 192], vec![1, 5, 192])]
    );
    // The class token's embedding is kept as it was.
    let (a, b) = (
        vs224.variables()["backbone.pos_embed"].get(0).get(0),
        vs32.variables()["backbone.pos_embed"].get(0).get(0),
    );
    assert!(a.allclose(&b, 0.0, 0.0, false));
}

#[test]
fn a_frozen_backbone_keeps_its_weights_and_batchnorm_statistics() {
    let (vs, model) = build(&config("resnet18", AttentionKind::None), 1);
    for (name, t) in vs.variables() {
        if name.starts_with("backbone.") && t.requires_grad() {
            let _ = t.shallow_clone().set_requires_grad(false);
        }
    }
    let before: Vec<(String, Tensor)> =
        weights::named_variables(&vs).into_iter().map(|(n, t)| (n, t.copy())).collect();
    let mut optimizer = tch::nn::Adam::default().build(&vs, 1e-2).unwrap();
    let (x, y) = batch();
    for _ in 0..2 {
        optimizer.backward_step(
            &model.forward_t(&x, true).binary_cross_entropy_with_logits::<Tensor>(
                &y,
                None,
                None,
                Reduction::Mean,
            ),
        );
    }
    let after = vs.variables();
    for (name, value) in before {
        let unchanged = after[&name].equal(&value);
        assert_eq!(unchanged, name.starts_with("backbone."), "{name}");
    }
}

#[test]
fn the_shared_lite0_imagenet_weights_load_strictly() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/weights/tf_efficientnet_lite0.in1k.safetensors");
    assert!(file.exists(), "the shared weights are missing at {}", file.display());
    let vs = VarStore::new(Device::Cpu);
    let lite0 = Architecture::new("efficientnet_lite0");
    let _lite0 = ablate_torch::models::build_backbone(&vs.root(), &lite0, 224).unwrap();
    let _classifier = ablate_torch::models::layers::linear(vs.root() / "classifier", 1280, 1000);
    let report =
        weights::load_into(&vs, weights::read(&file).unwrap(), &[""], "lite0", &|_, _, _| None)
            .unwrap();
    report.check_strict().unwrap();
    assert_eq!(report.loaded, 296);
}
