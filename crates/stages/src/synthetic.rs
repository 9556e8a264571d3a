//! `synthetic`: a built-in dataset of fundus-like images with visibly drawn D/G/A signs.
//!
//! Same layout as `load` (splits train, val, offsite_test, onsite_test), deterministic from
//! `seed`, so the quickstart and the tests run on a fresh machine without any download. Each
//! label is drawn independently with the prevalence below (about that of the study's data).
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::data::dataset::{Dataset, Split};
use crate::data::synthetic_fundus::paint_fundus;
use crate::load::to_channel_first;
use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{KindInfo, Resource, StageContext, StageKind, Workspace};

pub struct SyntheticKind;

pub const LABELS: [&str; 3] = ["D", "G", "A"];
const PREVALENCE: [f64; 3] = [0.5, 0.3, 0.3];
const SPLITS: [&str; 4] = ["train", "val", "offsite_test", "onsite_test"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("seed", T::Int { min: 0, max: i64::MAX }, D::Int(0), "generator seed"),
    ParamSpec::new("size", T::Int { min: 16, max: 1024 }, D::Int(64), "image side in pixels"),
    ParamSpec::new("train", T::Int { min: 1, max: 100_000 }, D::Int(600), "training images"),
    ParamSpec::new("val", T::Int { min: 1, max: 100_000 }, D::Int(150), "validation images"),
    ParamSpec::new(
        "offsite_test",
        T::Int { min: 1, max: 100_000 },
        D::Int(150),
        "off-site test images",
    ),
    ParamSpec::new(
        "onsite_test",
        T::Int { min: 1, max: 100_000 },
        D::Int(150),
        "on-site test images",
    ),
];

/// `synthetic`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticParams {
    pub seed: u64,
    pub size: usize,
    /// Images per split, in the order of `SPLITS`.
    pub counts: [usize; 4],
}

impl SyntheticParams {
    pub fn decode(p: &Params) -> SyntheticParams {
        SyntheticParams {
            seed: p.int("seed") as u64,
            size: p.usize("size"),
            counts: SPLITS.map(|split| p.usize(split)),
        }
    }
}

const INFO: KindInfo = KindInfo {
    kind: "synthetic",
    version: 1,
    doc: "generate fundus-like images whose D/G/A labels are visibly drawn",
    params: PARAMS,
    inputs: &[],
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

impl StageKind for SyntheticKind {
    fn info(&self) -> &'static KindInfo {
        &INFO
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        let SyntheticParams { seed, size, counts } = SyntheticParams::decode(ctx.params);
        let mut splits = Vec::new();
        for (split_index, (name, count)) in SPLITS.iter().zip(counts).enumerate() {
            let task = ctx.progress.task(format!("paint {name}"), count as u64);
            let samples: Vec<([u8; 3], Vec<u8>)> = (0..count)
                .into_par_iter()
                .map(|i| {
                    let image_seed = seed
                        ^ ((split_index as u64) << 56)
                        ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let mut rng = ChaCha8Rng::seed_from_u64(image_seed);
                    let labels = PREVALENCE.map(|p| rng.random_bool(p));
                    let image = paint_fundus(size as u32, labels, image_seed);
                    task.inc(1);
                    (labels.map(u8::from), to_channel_first(image.as_raw(), size))
                })
                .collect();
            task.finish(format!("{count} images at {size}×{size}"));
            splits.push(Split {
                name: name.to_string(),
                ids: (0..count).map(|i| format!("{name}_{i:05}.png")).collect(),
                labels: samples.iter().flat_map(|(labels, _)| *labels).collect(),
                images: samples.into_iter().flat_map(|(_, pixels)| pixels).collect(),
            });
        }
        let counts: Vec<String> =
            splits.iter().map(|s| format!("{} {}", s.name, s.len())).collect();
        Dataset { label_names: LABELS.map(String::from).to_vec(), size, splits }
            .write(&ctx.out_dir)?;
        ctx.set_summary(format!("synthetic images: {}", counts.join(", ")));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "", super::SyntheticParams::decode);
    }
}
