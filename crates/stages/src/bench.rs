//! `ablate bench`: steady-state training throughput of the model catalog's architectures.
//!
//! For each model × batch size × mode it times the training step that `train` runs
//! (`nn::step`: augmentation on the device, normalisation, forward, BCE loss, backward, fused
//! Adam) on random uint8 images resident on the device, after warm-up steps (which also let
//! cuDNN pick its algorithms): images per second as the median of `repeats` timings of
//! `steps` steps, each ended by a device synchronisation. A mode is a precision, `fp32`,
//! `bf16` or `fp16`, with `-cl` for channels-last and `-graph` for the step replayed as a CUDA
//! graph (`nn::step::GraphedStep`, captured after the warm-up). `scripts/bench/bench_torch.py` measures the
//! same step with PyTorch; docs/benchmarks.md has both on the GPU machine.

use std::path::PathBuf;

use ablate_core::params::Choice;
use serde::{Deserialize, Serialize};

use crate::train::Precision;

#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
pub struct BenchOptions {
    /// Architectures from `ablate models`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "resnet18,efficientnet_b0,vit_small_patch16_224"
    )]
    pub models: Vec<String>,
    #[arg(long, value_delimiter = ',', default_value = "32,128")]
    pub batch_sizes: Vec<i64>,
    /// Precisions: fp32, bf16 or fp16, each optionally followed by `-cl` (channels-last), then
    /// `-graph` (the step replayed as a CUDA graph).
    #[arg(long, value_delimiter = ',', default_value = "fp32,bf16-cl")]
    pub modes: Vec<String>,
    /// Image side in pixels.
    #[arg(long, default_value_t = 256)]
    pub size: i64,
    #[arg(long, default_value_t = 15)]
    pub warmup: u32,
    /// Steps per timing.
    #[arg(long, default_value_t = 30)]
    pub steps: u32,
    /// Timings per configuration; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: u32,
    /// auto, cpu, cuda or cuda:N (auto and cuda: the first GPU, when one is visible).
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Also write the measurements as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// A mode's precision and memory format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub precision: Precision,
    pub channels_last: bool,
    /// The step replayed as a CUDA graph.
    pub graph: bool,
}

impl std::str::FromStr for Mode {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Mode> {
        let (rest, graph) = match text.strip_suffix("-graph") {
            Some(rest) => (rest, true),
            None => (text, false),
        };
        let (name, channels_last) = match rest.strip_suffix("-cl") {
            Some(name) => (name, true),
            None => (rest, false),
        };
        let Some(precision) = Precision::from_name(name) else {
            let (last, others) = Precision::NAMES.split_last().expect("precisions");
            anyhow::bail!(
                "--modes: `{text}` is not {} or {last}, optionally followed by -cl, then -graph",
                others.join(", ")
            )
        };
        Ok(Mode { precision, channels_last, graph })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub model: String,
    pub batch_size: i64,
    pub mode: String,
    pub size: i64,
    pub device: String,
    pub images_per_second: f64,
    pub ms_per_step: f64,
    /// Every timing's images per second, in order.
    pub timings: Vec<f64>,
}

impl BenchOptions {
    /// Checks what can be checked without libtorch; the modes parsed.
    pub fn validate(&self) -> anyhow::Result<Vec<Mode>> {
        if self.batch_sizes.iter().any(|&b| b < 1)
            || self.size < 16
            || self.steps == 0
            || self.repeats == 0
        {
            anyhow::bail!("--batch-sizes, --size (≥ 16), --steps and --repeats must be positive");
        }
        self.modes.iter().map(|m| m.parse()).collect()
    }
}

/// The header of the table that [`Measurement::line`] continues.
pub fn header() -> String {
    format!("{:<28} {:>5} {:<8} {:>9} {:>9}", "model", "batch", "mode", "img/s", "ms/step")
}

impl Measurement {
    /// One line of the table under [`header`].
    pub fn line(&self) -> String {
        format!(
            "{:<28} {:>5} {:<8} {:>9.0} {:>9.2}",
            self.model, self.batch_size, self.mode, self.images_per_second, self.ms_per_step
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_mistakes_are_named() {
        assert_eq!(
            "bf16-cl".parse::<Mode>().unwrap(),
            Mode { precision: Precision::Bf16, channels_last: true, graph: false }
        );
        assert_eq!(
            "fp32".parse::<Mode>().unwrap(),
            Mode { precision: Precision::Fp32, channels_last: false, graph: false }
        );
        assert_eq!(
            "fp32-graph".parse::<Mode>().unwrap(),
            Mode { precision: Precision::Fp32, channels_last: false, graph: true }
        );
        assert!("int8".parse::<Mode>().unwrap_err().to_string().contains("`int8`"));
    }
}
