//! The torch implementation of `gradcam`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::gradcam`.

use std::path::Path;

use tch::{Kind, Tensor};

use crate::nn::gradcam::{Selection, class_activation_maps, normalise, overlay};
use crate::nn::tensors::{SplitTensors, denormalize, normalize, to_unit};
use crate::nn::{checkpoint, device, weights};
use ablate_core::stage::StageContext;
use ablate_stages::data::dataset::{Dataset, Split};
use ablate_stages::gradcam::*;

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = GradcamParams::decode(ctx.params);
    let device = device::to_tch(ctx.device())?;
    let (config, mut vs, model) = checkpoint::load(ctx.input("model"), device)?;
    vs.freeze();
    let dataset = Dataset::read(ctx.input("data"))?;
    let split_name = p.split.as_str();
    let split = dataset.split(split_name)?;
    let rows = chosen_rows(split, &p.ids, p.count)?;
    let threshold = p.threshold;
    let selection = match p.classes {
        Classes::All => Selection::All,
        Classes::Predicted => Selection::Predicted { threshold },
    };
    let labels = &config.labels;
    let n_labels = labels.len() as i64;
    let row_index =
        Tensor::from_slice(&rows.iter().map(|&r| r as i64).collect::<Vec<_>>()).to_device(device);
    let images = SplitTensors::new(&dataset, split, device).gather(&row_index);
    let ids: Vec<&str> = rows.iter().map(|&r| split.ids[r].as_str()).collect();
    let overlay_dir = ctx.out_dir.join(OVERLAY_DIR);
    std::fs::create_dir_all(&overlay_dir)?;

    let (mut maps, mut probabilities, mut selected) = (Vec::new(), Vec::new(), Vec::new());
    let mut overlay_files = Vec::new();
    const BATCH: i64 = 16;
    let mut start = 0;
    while start < rows.len() as i64 {
        let len = BATCH.min(rows.len() as i64 - start);
        let x = normalize(&to_unit(&images.narrow(0, start, len)));
        let pass = class_activation_maps(&model, &x, selection)?;
        let batch_maps = pass.maps.detach();
        let (h, w) = (batch_maps.size()[2], batch_maps.size()[3]);
        let pictures = overlay(
            &readable(&denormalize(&x)).repeat_interleave_self_int(n_labels, 0, None),
            &normalise(&batch_maps).view([len * n_labels, h, w]),
            p.opacity,
        );
        let pixels = to_rgb_bytes(&pictures);
        let flags =
            Vec::<bool>::try_from(pass.selected.flatten(0, -1).to_device(tch::Device::Cpu))?;
        let side = dataset.size as u32 * zoom(dataset.size);
        let batch_ids = &ids[start as usize..(start + len) as usize];
        for (position, label, name) in
            save_overlays(&overlay_dir, &pixels, &flags, batch_ids, labels, side)?
        {
            overlay_files.push((start as usize + position, label, name));
        }
        maps.push(batch_maps);
        probabilities.push(pass.logits.detach().sigmoid().to_kind(Kind::Float));
        selected.push(pass.selected.to_kind(Kind::Uint8));
        start += len;
    }
    let maps = Tensor::cat(&maps, 0);
    let probabilities = Tensor::cat(&probabilities, 0);
    let metadata = (MAPS_INDEX_KEY, serde_json::json!({"ids": ids, "labels": labels}).to_string());
    let arrays = vec![
        ("maps".to_string(), maps.shallow_clone()),
        ("probabilities".to_string(), probabilities.shallow_clone()),
        ("selected".to_string(), Tensor::cat(&selected, 0)),
    ];
    weights::write(&ctx.out_dir.join(MAPS_FILE), &arrays, Some(metadata))?;

    let (h, w) = (maps.size()[2], maps.size()[3]);
    let probabilities =
        Vec::<f32>::try_from(probabilities.flatten(0, -1).to_device(tch::Device::Cpu))?;
    let overlays =
        index_overlays(&dataset, split, &rows, labels, &probabilities, &overlay_files, threshold);
    let index = Index {
        split: split_name.to_string(),
        images: rows.len(),
        backbone: config.arch.backbone.clone(),
        attention: serde_json::to_value(config.arch.attention)?
            .as_str()
            .unwrap_or_default()
            .to_string(),
        map_size: (h, w),
        opacity: p.opacity,
        threshold,
        overlays,
    };
    index.write(&ctx.out_dir)?;
    let mut summary = format!(
        "{split_name}: {} overlays of {} images ({} labels) on {h}×{w} maps → {INDEX_PAGE}",
        overlay_files.len(),
        rows.len(),
        p.classes
    );
    if h * w == 1 {
        summary += &format!(
            "; warning: the feature map is 1×1 at {0}×{0} px, so every overlay is one colour \
             (use larger images)",
            dataset.size
        );
    }
    ctx.set_summary(summary);
    Ok(())
}

/// Saves the overlays `flags` selects of one batch (`pixels`: its images × labels, row-major,
/// each `side`² RGB) as `<image>_<label>.png`; returns each one's position in the batch, its
/// label's index and its file name.
fn save_overlays(
    dir: &Path,
    pixels: &[u8],
    flags: &[bool],
    ids: &[&str],
    labels: &[String],
    side: u32,
) -> anyhow::Result<Vec<(usize, usize, String)>> {
    let mut saved = Vec::new();
    let picture_bytes = pixels.len() / flags.len();
    for (k, (flag, bytes)) in flags.iter().zip(pixels.chunks(picture_bytes)).enumerate() {
        if !flag {
            continue;
        }
        let (position, label) = (k / labels.len(), k % labels.len());
        let name = format!("{}_{}.png", file_stem(ids[position]), file_stem(&labels[label]));
        let picture = image::RgbImage::from_raw(side, side, bytes.to_vec())
            .expect("overlay has the image's size");
        picture.save(dir.join(&name))?;
        saved.push((position, label, name));
    }
    Ok(saved)
}

/// The index's entry of each overlay saved: its image, label, probability (`probabilities`:
/// the chosen rows × labels) and ground truth, where the dataset has the label.
fn index_overlays(
    dataset: &Dataset,
    split: &Split,
    rows: &[usize],
    labels: &[String],
    probabilities: &[f32],
    saved: &[(usize, usize, String)],
    threshold: f64,
) -> Vec<IndexOverlay> {
    let truth_columns: Vec<Option<usize>> =
        labels.iter().map(|l| dataset.label_names.iter().position(|d| d == l)).collect();
    saved
        .iter()
        .map(|(position, label, name)| {
            let row = rows[*position];
            let probability = f64::from(probabilities[position * labels.len() + label]);
            let truth = truth_columns[*label]
                .map(|column| split.labels[row * dataset.label_names.len() + column] == 1);
            IndexOverlay {
                file: format!("{OVERLAY_DIR}/{name}"),
                image: split.ids[row].clone(),
                label: labels[*label].clone(),
                predicted: probability > threshold,
                probability,
                truth,
            }
        })
        .collect()
}

/// Overlays are drawn at least this many pixels wide, whatever the images' size.
const READABLE_SIDE: usize = 224;

/// The whole factor by which images of side `side` are enlarged for their overlays.
fn zoom(side: usize) -> u32 {
    READABLE_SIDE.div_ceil(side.max(1)).max(1) as u32
}

/// Images (B×3×S×S) enlarged to a readable size, pixels kept square and sharp.
fn readable(images: &Tensor) -> Tensor {
    let side = images.size()[3];
    let k = i64::from(zoom(side as usize));
    if k == 1 {
        images.shallow_clone()
    } else {
        images.upsample_nearest2d([side * k, side * k], None, None)
    }
}

/// The split's rows of `ids`, or its first `count` rows when `ids` is empty.
fn chosen_rows(split: &Split, ids: &[String], count: usize) -> anyhow::Result<Vec<usize>> {
    if ids.is_empty() {
        return Ok((0..count.min(split.len())).collect());
    }
    ids.iter()
        .map(|id| {
            split.ids.iter().position(|known| known == id).ok_or_else(|| {
                let examples: Vec<&str> = split.ids.iter().take(3).map(String::as_str).collect();
                anyhow::anyhow!(
                    "`ids`: split `{}` has no image `{id}` (its ids look like {})",
                    split.name,
                    examples.join(", ")
                )
            })
        })
        .collect()
}

/// B×3×H×W floats in [0, 1] → B·H·W·3 bytes, row-major RGB per picture.
fn to_rgb_bytes(pictures: &Tensor) -> Vec<u8> {
    let bytes = (pictures * 255.0)
        .round()
        .clamp(0.0, 255.0)
        .to_kind(Kind::Uint8)
        .permute([0, 2, 3, 1])
        .contiguous();
    Vec::<u8>::try_from(bytes.flatten(0, -1).to_device(tch::Device::Cpu))
        .expect("uint8 tensor converts")
}

/// An id or label without its extension, safe as part of a file name.
fn file_stem(name: &str) -> String {
    let stem = std::path::Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or(name);
    stem.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}
