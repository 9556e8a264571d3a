//! The Rust half of the numeric parity check against torchvision and timm
//! (`scripts/parity/parity.sh` runs both halves).
//!
//! `parity [--device D] CASES OUT`: for every `CASES/<case>.safetensors` written by
//! `scripts/parity/make_cases.py` (reference weights, `__input__`, `__target__`, and the model
//! configuration in the metadata), builds our model, loads the weights strictly, and writes
//! `OUT/<case>.safetensors` with the evaluation-mode `__logits__`, the training-mode BCE
//! `__loss__` and its `__grad__.<name>` for every parameter.
//!
//! `parity [--device D] --lite-imagenet WEIGHTS INPUT OUT`: EfficientNet-Lite0, -Lite1 or -Lite2
//! (INPUT's `variant` metadata, as `scripts/parity/lite_top5.py` writes it; lite0 when absent)
//! with its ImageNet classifier, loaded strictly from timm's weights, on INPUT's `__input__`;
//! writes `__logits__`.
use std::path::{Path, PathBuf};

use ablate_torch::models::layers::linear;
use ablate_torch::models::{Architecture, Classifier, ModelConfig, build_backbone};
use ablate_torch::nn::weights;
use anyhow::Context;
use tch::nn::VarStore;
use tch::{Device, Reduction, Tensor};

fn tensor<'a>(
    tensors: &'a [(String, Tensor)],
    name: &str,
    file: &Path,
) -> anyhow::Result<&'a Tensor> {
    tensors
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .with_context(|| format!("{} has no `{name}`", file.display()))
}

fn run_case(case: &Path, out: &Path, device: Device) -> anyhow::Result<()> {
    let (tensors, metadata) = weights::read_with_metadata(case)?;
    let config: ModelConfig =
        serde_json::from_str(metadata.get("config").context("no `config` metadata")?)?;
    let (model_tensors, extra): (Vec<_>, Vec<_>) =
        tensors.into_iter().partition(|(n, _)| !n.starts_with("__"));
    let vs = VarStore::new(device);
    let model = Classifier::new(&vs.root(), &config)?;
    weights::load_into(&vs, model_tensors, &[""], &case.display().to_string(), &|_, _, _| None)?
        .check_strict()?;
    let input = tensor(&extra, "__input__", case)?.to_device(device);
    let target = tensor(&extra, "__target__", case)?.to_device(device);
    let logits = tch::no_grad(|| model.forward_t(&input, false));
    let loss = model.forward_t(&input, true).binary_cross_entropy_with_logits::<Tensor>(
        &target,
        None,
        None,
        Reduction::Mean,
    );
    loss.backward();
    let mut results =
        vec![("__logits__".to_string(), logits), ("__loss__".to_string(), loss.detach())];
    for (name, variable) in weights::named_variables(&vs) {
        if variable.requires_grad() {
            results.push((format!("__grad__.{name}"), variable.grad()));
        }
    }
    weights::write(out, &results, None)
}

fn run_lite(
    weights_file: &Path,
    input_file: &Path,
    out: &Path,
    device: Device,
) -> anyhow::Result<()> {
    let (inputs, metadata) = weights::read_with_metadata(input_file)?;
    let variant = metadata.get("variant").map_or("lite0", String::as_str);
    let arch = Architecture::new(&format!("efficientnet_{variant}"));
    let native = ablate_stages::catalog::backbone(&arch.backbone)?.native_size;
    let vs = VarStore::new(device);
    let backbone = build_backbone(&vs.root(), &arch, native)?;
    let classifier = linear(vs.root() / "classifier", backbone.channels(), 1000);
    let report = weights::load_into(
        &vs,
        weights::read(weights_file)?,
        &[""],
        &weights_file.display().to_string(),
        &|_, _, _| None,
    )?;
    report.check_strict()?;
    println!("{report}");
    let input = tensor(&inputs, "__input__", input_file)?.to_device(device);
    let logits = tch::no_grad(|| {
        backbone
            .forward_t(&input, false)
            .map
            .mean_dim([2, 3].as_slice(), false, None)
            .apply(&classifier)
    });
    let top5 = logits.topk(5, 1, true, true).1;
    for i in 0..top5.size()[0] {
        println!("image {i}: top-5 {:?}", Vec::<i64>::try_from(top5.get(i))?);
    }
    weights::write(out, &[("__logits__".to_string(), logits)], None)
}

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut device = Device::Cpu;
    if let Some(i) = args.iter().position(|a| a == "--device") {
        device = match args.get(i + 1).map(String::as_str) {
            Some("cuda") => {
                // The references are fp32 on the CPU; TF32 convolutions differ from them by ~1e-3.
                ablate_torch::nn::shim::set_tf32(false)?;
                Device::Cuda(0)
            }
            Some("cpu") => Device::Cpu,
            other => anyhow::bail!("--device takes cpu or cuda, not {other:?}"),
        };
        args.drain(i..i + 2);
    }
    if args.first().is_some_and(|a| a == "--lite-imagenet") {
        let [_, weights_file, input, out] = args.as_slice() else {
            anyhow::bail!("usage: parity [--device D] --lite-imagenet WEIGHTS INPUT OUT");
        };
        std::fs::create_dir_all(Path::new(out).parent().unwrap_or(Path::new(".")))?;
        return run_lite(Path::new(weights_file), Path::new(input), Path::new(out), device);
    }
    let [cases, out] = args.as_slice() else {
        anyhow::bail!("usage: parity [--device D] CASES OUT");
    };
    std::fs::create_dir_all(out)?;
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(cases)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "safetensors"));
    files.sort();
    let mut failed = 0;
    for case in files {
        let name = case.file_name().expect("a file").to_owned();
        match run_case(&case, &Path::new(out).join(&name), device) {
            Ok(()) => println!("{}: done", name.to_string_lossy()),
            Err(error) => {
                failed += 1;
                println!("{}: FAILED {error:#}", name.to_string_lossy());
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} cases failed");
    }
    Ok(())
}
