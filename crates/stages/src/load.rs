//! `load`: an ODIR-style folder → the cached dataset artifact.
//!
//! Reads `<split><csv_suffix>.csv` and `images/<split>/<id>` for each split, decodes and resizes
//! every image once (in parallel) to `size`×`size` RGB with a bilinear, antialiased filter (as
//! PIL's `Resize`), and stores uint8 tensors with labels and ids. The key covers the content of
//! every CSV and image read, not the folder's location.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use image::ImageDecoder;
use image::imageops::FilterType;
use rayon::prelude::*;

use crate::data::dataset::{Dataset, Split};
use crate::data::odir::{DataRoot, Table, read_table};
use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputFile, KindInfo, Resource, StageContext, StageKind, Workspace};

pub struct LoadKind;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "root",
        T::Path,
        D::Required,
        "dataset folder with <split>.csv and images/<split>/",
    )
    .unkeyed(),
    ParamSpec::new(
        "roots",
        T::Scalars,
        D::NoScalars,
        "per-split folders instead of `root`, e.g. {train: ../shared/data/fundus}",
    )
    .unkeyed(),
    ParamSpec::new(
        "image_root",
        T::Path,
        D::Str(""),
        "take every split's images from this dataset folder's images/<split>/ (the same ids, e.g. at a higher resolution); empty: from the split's own folder",
    )
    .unkeyed(),
    ParamSpec::new(
        "splits",
        T::StrList,
        D::StrList(&["train", "val", "offsite_test", "onsite_test"]),
        "splits to load",
    ),
    ParamSpec::new(
        "size",
        T::Int { min: 8, max: 2048 },
        D::Int(256),
        "side of the square images after resizing",
    ),
    ParamSpec::new(
        "csv_suffix",
        T::Str,
        D::Str(""),
        "CSV name suffix, e.g. `_odir8` for the eight ODIR labels",
    ),
    ParamSpec::new(
        "limit",
        T::Int { min: 0, max: 1_000_000 },
        D::Int(0),
        "keep the first N rows per split (0: all)",
    ),
];

/// `load`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadParams {
    pub root: PathBuf,
    /// Split → the folder it comes from, where not `root`.
    pub roots: BTreeMap<String, PathBuf>,
    /// Where the images come from, where not the split's own folder.
    pub image_root: Option<PathBuf>,
    pub splits: Vec<String>,
    pub size: usize,
    pub csv_suffix: String,
    /// Rows kept per split; 0: all.
    pub limit: usize,
}

impl LoadParams {
    pub fn decode(p: &Params) -> LoadParams {
        LoadParams {
            root: PathBuf::from(p.str("root")),
            roots: p
                .scalars("roots")
                .iter()
                .map(|(split, root)| {
                    let root = root.as_str().map_or_else(|| root.to_string(), String::from);
                    (split.clone(), PathBuf::from(root))
                })
                .collect(),
            image_root: Some(p.str("image_root")).filter(|r| !r.is_empty()).map(PathBuf::from),
            splits: p.str_list("splits"),
            size: p.usize("size"),
            csv_suffix: p.str("csv_suffix").to_string(),
            limit: p.usize("limit"),
        }
    }

    /// Each split with the folder its images come from and its table, in order.
    fn tables(&self) -> anyhow::Result<Vec<(String, DataRoot, Table)>> {
        if let Some(unknown) = self.roots.keys().find(|s| !self.splits.contains(s)) {
            anyhow::bail!(
                "`roots` names split `{unknown}`, which `splits` does not list ({})",
                self.splits.join(", ")
            );
        }
        self.splits
            .iter()
            .map(|split| {
                let root = DataRoot::open(self.roots.get(split).unwrap_or(&self.root))?;
                let table = read_table(&root.csv(split, &self.csv_suffix), self.limit)?;
                let images = match &self.image_root {
                    Some(images) => DataRoot::open(images)?,
                    None => root,
                };
                Ok((split.clone(), images, table))
            })
            .collect()
    }
}

const INFO: KindInfo = KindInfo {
    kind: "load",
    version: 1,
    doc: "decode and resize an ODIR-style image folder into a cached dataset",
    params: PARAMS,
    inputs: &[],
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

impl StageKind for LoadKind {
    fn info(&self) -> &'static KindInfo {
        &INFO
    }

    fn input_files(&self, params: &Params) -> anyhow::Result<Vec<InputFile>> {
        let p = LoadParams::decode(params);
        let mut files = Vec::new();
        for (split, root, table) in p.tables()? {
            let csv_name =
                table.csv.file_name().expect("csv has a name").to_string_lossy().into_owned();
            files.push(InputFile { label: csv_name, path: table.csv.clone() });
            let images = root.images(&split)?;
            for id in &table.ids {
                files.push(InputFile {
                    label: format!("images/{split}/{id}"),
                    path: images.image(id)?,
                });
            }
        }
        Ok(files)
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        let p = LoadParams::decode(ctx.params);
        let size = p.size;
        let tables = p.tables()?;
        let label_names = tables.first().map(|(_, _, t)| t.label_names.clone()).unwrap_or_default();
        let mut splits = Vec::new();
        for (split, root, table) in tables {
            if table.label_names != label_names {
                anyhow::bail!(
                    "{}: labels {:?} differ from the first split's {:?}",
                    table.csv.display(),
                    table.label_names,
                    label_names
                );
            }
            let task = ctx.progress.task(format!("load {split}"), table.ids.len() as u64);
            let folder = root.images(&split)?;
            let images: Vec<Vec<u8>> = table
                .ids
                .par_iter()
                .map(|id| {
                    let pixels = folder.image(id).and_then(|path| decode(&path, size));
                    task.inc(1);
                    pixels
                })
                .collect::<anyhow::Result<_>>()?;
            task.finish(format!("{} images at {size}×{size}", table.ids.len()));
            splits.push(Split {
                name: split,
                ids: table.ids,
                images: images.concat(),
                labels: table.labels,
            });
        }
        let summary: Vec<String> =
            splits.iter().map(|s| format!("{} {}", s.name, s.len())).collect();
        Dataset { label_names, size, splits }.write(&ctx.out_dir)?;
        ctx.set_summary(format!("images: {}", summary.join(", ")));
        Ok(())
    }
}

/// The largest image side `load` decodes: anything larger is refused from its header, before
/// its pixels are allocated (image's own allocation limit, 512 MiB, stays as a backstop).
const MAX_SIDE: u32 = 16384;

/// Decodes one image to size×size RGB, channel-first. Grayscale, RGBA and 16-bit images are
/// converted to 8-bit RGB (alpha dropped).
fn decode(path: &Path, size: usize) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::metadata(path)
        .with_context(|| format!("cannot open image {}", path.display()))?
        .len();
    if bytes == 0 {
        anyhow::bail!("image {} is empty (0 bytes)", path.display());
    }
    let decoder = image::ImageReader::open(path)
        .with_context(|| format!("cannot open image {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read image {}", path.display()))?
        .into_decoder()
        .with_context(|| format!("cannot decode image {}", path.display()))?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        anyhow::bail!(
            "image {} declares {width}×{height}, which exceeds the limit of {MAX_SIDE}×{MAX_SIDE}",
            path.display()
        );
    }
    let image = image::DynamicImage::from_decoder(decoder)
        .with_context(|| format!("cannot decode image {}", path.display()))?;
    if image.width() == 0 || image.height() == 0 {
        anyhow::bail!("image {} is empty", path.display());
    }
    let rgb = image.to_rgb8();
    let side = size as u32;
    let rgb = if rgb.dimensions() == (side, side) {
        rgb
    } else {
        image::imageops::resize(&rgb, side, side, FilterType::Triangle)
    };
    Ok(to_channel_first(rgb.as_raw(), size))
}

pub fn to_channel_first(hwc: &[u8], size: usize) -> Vec<u8> {
    let plane = size * size;
    let mut chw = vec![0u8; 3 * plane];
    for (i, pixel) in hwc.chunks_exact(3).enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = pixel[c];
        }
    }
    chw
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "root: data", super::LoadParams::decode);
    }
}
