//! `vae_augment`: balances a training split with images drawn from one VAE per minority label
//! (the study's Task 4a, reference-spec §5).
//!
//! The positives per label are counted in the input's training split. Every chosen label
//! (`labels`, or by default every label with fewer positives than the most frequent one) gets
//! max_count − count new images, so afterwards each chosen label has exactly as many positives
//! as the most frequent label. The images come from a convolutional VAE (`models::vae`) trained
//! on that label's images — those whose only positive label it is, so that the synthetic images,
//! which carry that label alone, look like what their label says (the reference trained on
//! multi-label images too and labelled every sample single-label, bug 11). Training follows the
//! reference: images in [0, 1] without augmentation, Adam, mini-batches from a shuffle per
//! epoch, loss = squared error + KL summed, reported per epoch as the epoch's sum divided by the
//! number of images (`vae_loss`, one row per label and epoch). Samples are decoded from z ~
//! N(0, I) and rounded to 8 bits as the reference's PNGs were.
//!
//! The output is a dataset like `load`'s: the training split holds the original rows in order,
//! then the synthetic rows label by label (ids `<label>_vae_<i>.png`, that label 1, others 0);
//! every other split passes through unchanged. `samples_<label>.png` shows the first generated
//! images of each label. Each label's VAE is seeded from `seed` and the label's position, so
//! the result depends on the seed alone and a label's images do not change when other labels
//! are added to `labels`.
//!
//! Class-balanced loss weights computed from the augmented split are all 1 (the reference's
//! "class-balanced" runs on VAE data were plain BCE, bug 2); a `loss` stage fed the original
//! dataset keeps the real counts.

use anyhow::Context;

use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputSpec, KindInfo, Resource, Workspace};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "labels",
        T::StrList,
        D::Absent,
        "labels to balance, one VAE each; unset: every label with fewer positives than the most frequent",
    ),
    ParamSpec::new(
        "split",
        T::Str,
        D::Str("train"),
        "the split to augment; the others pass through unchanged",
    ),
    ParamSpec::new("epochs", T::Int { min: 1, max: 10_000 }, D::Int(30), "VAE training epochs"),
    ParamSpec::new("batch_size", T::Int { min: 1, max: 65_536 }, D::Int(16), "VAE mini-batch size"),
    ParamSpec::new(
        "lr",
        T::Float { min: 0.0, max: 10.0 },
        D::Float(1e-4),
        "Adam learning rate of the VAE",
    ),
    ParamSpec::new(
        "latent_dim",
        T::Int { min: 1, max: 65_536 },
        D::Int(128),
        "size of the VAE's latent code",
    ),
    ParamSpec::new(
        "seed",
        T::Int { min: 0, max: i64::MAX },
        D::Int(0),
        "seed of initialisation, shuffling, reparameterisation and sampling",
    ),
    ParamSpec::new(
        "deterministic",
        T::Bool,
        D::Bool(false),
        "deterministic algorithms only (GPU; slower)",
    ),
    ParamSpec::new(
        "grid",
        T::Int { min: 1, max: 1024 },
        D::Int(16),
        "generated images per label shown in samples_<label>.png",
    ),
];

pub const INFO: KindInfo = KindInfo {
    kind: "vae_augment",
    version: 1,
    doc: "balance the training labels with images from one VAE per minority label",
    params: PARAMS,
    inputs: &[InputSpec::required("data", "the dataset to augment, from `load` or `synthetic`")],
    resource: Resource::DEVICE,
    workspace: Workspace::None,
};

/// `vae_augment`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeAugmentParams {
    /// Labels to balance; `None`: every label with fewer positives than the most frequent.
    pub labels: Option<Vec<String>>,
    pub split: String,
    pub epochs: u32,
    pub batch_size: i64,
    pub lr: f64,
    pub latent_dim: i64,
    pub seed: i64,
    pub deterministic: bool,
    /// Images per label shown in `samples_<label>.png`.
    pub grid: usize,
}

impl VaeAugmentParams {
    pub fn decode(p: &Params) -> VaeAugmentParams {
        VaeAugmentParams {
            labels: p.opt_str_list("labels"),
            split: p.str("split").to_string(),
            epochs: p.u32("epochs"),
            batch_size: p.int("batch_size"),
            lr: p.float("lr"),
            latent_dim: p.int("latent_dim"),
            seed: p.int("seed"),
            deterministic: p.bool("deterministic"),
            grid: p.usize("grid"),
        }
    }
}

/// How many images to generate for one label.
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// The label's column.
    pub label: usize,
    pub count: usize,
}

/// The quota of every label to balance: `chosen` (the `labels` parameter) or, when unset, every
/// label with fewer positives than the most frequent one, in column order. A quota brings the
/// label's positives up to the most frequent label's.
pub fn quotas(
    label_names: &[String],
    positives: &[usize],
    chosen: Option<&[String]>,
) -> anyhow::Result<Vec<Quota>> {
    let target = positives.iter().copied().max().unwrap_or(0);
    let columns: Vec<usize> = match chosen {
        None => (0..label_names.len()).filter(|&c| positives[c] < target).collect(),
        Some([]) => anyhow::bail!(
            "`labels` is empty; leave it out to balance every label with fewer positives than the most frequent"
        ),
        Some(names) => {
            let mut columns = Vec::new();
            for name in names {
                let column = label_names.iter().position(|l| l == name).with_context(|| {
                    format!(
                        "`labels`: the dataset has no label `{name}` (it has: {})",
                        label_names.join(", ")
                    )
                })?;
                if columns.contains(&column) {
                    anyhow::bail!("`labels` names `{name}` twice");
                }
                if positives[column] == target {
                    anyhow::bail!(
                        "`labels`: `{name}` has {target} positives, as many as the most frequent label, so there is nothing to balance"
                    );
                }
                columns.push(column);
            }
            columns
        }
    };
    Ok(columns.into_iter().map(|label| Quota { label, count: target - positives[label] }).collect())
}

/// Rows of row-major N×`n_labels` 0/1 targets whose only positive label is `label`.
pub fn single_label_rows(targets: &[u8], n_labels: usize, label: usize) -> Vec<i64> {
    let rows = targets.chunks_exact(n_labels).enumerate();
    rows.filter(|(_, row)| row.iter().enumerate().all(|(c, &y)| y == u8::from(c == label)))
        .map(|(i, _)| i as i64)
        .collect()
}

/// A grid of channel-first uint8 RGB images of side `size`, as torchvision's `make_grid`
/// (up to 8 per row, 2-pixel black padding).
pub fn sample_grid(images: &[u8], size: usize) -> image::RgbImage {
    const PAD: usize = 2;
    let plane = size * size;
    let count = images.len() / (3 * plane);
    let columns = count.clamp(1, 8);
    let rows = count.div_ceil(columns).max(1);
    let (width, height) = (columns * (size + PAD) + PAD, rows * (size + PAD) + PAD);
    let mut grid = image::RgbImage::new(width as u32, height as u32);
    for (i, chw) in images.chunks_exact(3 * plane).enumerate() {
        let (left, top) = (PAD + (i % columns) * (size + PAD), PAD + (i / columns) * (size + PAD));
        for p in 0..plane {
            let pixel = image::Rgb([chw[p], chw[plane + p], chw[2 * plane + p]]);
            grid.put_pixel((left + p % size) as u32, (top + p / size) as u32, pixel);
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["D", "G", "A"].map(String::from).to_vec()
    }

    fn chosen(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(PARAMS, "", VaeAugmentParams::decode);
    }

    #[test]
    fn quotas_bring_every_chosen_label_to_the_most_frequent_count() {
        let study = [517, 163, 142];
        assert_eq!(
            quotas(&names(), &study, None).unwrap(),
            vec![Quota { label: 1, count: 354 }, Quota { label: 2, count: 375 }]
        );
        assert_eq!(
            quotas(&names(), &study, Some(&chosen(&["A"]))).unwrap(),
            vec![Quota { label: 2, count: 375 }]
        );
        assert_eq!(
            quotas(&names(), &[4, 9, 1], Some(&chosen(&["A", "D"]))).unwrap(),
            vec![Quota { label: 2, count: 8 }, Quota { label: 0, count: 5 }]
        );
        assert!(quotas(&names(), &[5, 5, 5], None).unwrap().is_empty());
    }

    #[test]
    fn bad_labels_are_errors_naming_the_field() {
        let error = |labels: &[&str]| {
            quotas(&names(), &[517, 163, 142], Some(&chosen(labels))).unwrap_err().to_string()
        };
        assert!(error(&["X"]).contains("`labels`: the dataset has no label `X` (it has: D, G, A)"));
        assert!(error(&["G", "G"]).contains("`labels` names `G` twice"));
        assert!(
            error(&["D"])
                .contains("`labels`: `D` has 517 positives, as many as the most frequent label")
        );
        assert!(error(&[]).contains("`labels` is empty"));
    }

    #[test]
    fn single_label_rows_skip_multi_label_and_other_images() {
        // rows: G only, G+A, A only, none, G only
        let targets = [0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0];
        assert_eq!(single_label_rows(&targets, 3, 1), vec![0, 4]);
        assert_eq!(single_label_rows(&targets, 3, 2), vec![2]);
    }

    #[test]
    fn the_grid_places_images_row_by_row() {
        // ten 2-px images, image i filled with value i: 8 columns, 2 rows.
        let images: Vec<u8> = (0..10u8).flat_map(|i| std::iter::repeat_n(i, 3 * 4)).collect();
        let grid = sample_grid(&images, 2);
        assert_eq!(grid.dimensions(), (8 * 4 + 2, 2 * 4 + 2));
        assert_eq!(grid.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(grid.get_pixel(2 + 3 * 4, 2).0, [3, 3, 3]);
        assert_eq!(grid.get_pixel(2 + 4 + 1, 2 + 4 + 1).0, [9, 9, 9]);
    }
}
