//! The torch side of `ablate bench` (see the parent module), run in `ablate-torch`.
use std::time::Instant;

use tch::{Device, Kind, Tensor};

use ablate_stages::bench::{BenchOptions, Measurement, Mode, header};
use ablate_stages::loss::LossConfig;
use ablate_stages::train::Optimizer;

use crate::models::{Architecture, ModelConfig};
use crate::nn::augment::Augment;
use crate::nn::learner::{Learner, Settings};
use crate::nn::loss::Loss;
use crate::nn::shim::{self, SideStream};
use crate::nn::step::{GRAPH_WARMUP_STEPS, GraphedStep, train_step};

const LABELS: [&str; 3] = ["D", "G", "A"];
/// Distinct images drawn from per batch size unit, so batches differ as in training.
const POOL_BATCHES: i64 = 4;
const LR: f64 = 1e-4;

/// Runs every configuration, printing each line as it is measured; returns them all.
pub fn run(options: &BenchOptions) -> anyhow::Result<Vec<Measurement>> {
    let modes = options.validate()?;
    let device_name = ablate_stages::device::resolve(&options.device)?.swap_remove(0);
    let device = crate::nn::device::to_tch(&device_name)?;
    if !device.is_cuda() && modes.iter().any(|m| m.graph) {
        anyhow::bail!("--modes: the -graph modes need a CUDA device, not {device_name}");
    }
    shim::set_deterministic(false)?;
    let mut measurements = Vec::new();
    println!("{}", header());
    for model in &options.models {
        for &batch_size in &options.batch_sizes {
            for (mode, mode_name) in modes.iter().zip(&options.modes) {
                let timings = time_steps(options, model, batch_size, *mode, device)?;
                let images_per_second = median(&timings);
                let measurement = Measurement {
                    model: model.clone(),
                    batch_size,
                    mode: mode_name.clone(),
                    size: options.size,
                    device: device_name.clone(),
                    images_per_second,
                    ms_per_step: 1000.0 * batch_size as f64 / images_per_second,
                    timings,
                };
                println!("{}", measurement.line());
                measurements.push(measurement);
            }
        }
    }
    Ok(measurements)
}

/// Images per second of each timing of one configuration.
fn time_steps(
    options: &BenchOptions,
    model: &str,
    batch_size: i64,
    mode: Mode,
    device: Device,
) -> anyhow::Result<Vec<f64>> {
    tch::manual_seed(0);
    let labels: Vec<String> = LABELS.iter().map(|l| l.to_string()).collect();
    let config = ModelConfig {
        arch: Architecture::new(model),
        labels: labels.clone(),
        head_hidden: 512,
        dropout: 0.5,
        image_size: options.size as usize,
    };
    let settings = Settings {
        precision: mode.precision,
        channels_last: mode.channels_last,
        optimizer: Optimizer::Adam,
        weight_decay: 0.0,
        augment: Augment { flips: true, degrees: 15.0 },
        cam_weight: 0.0,
    };
    let (mut learner, ()) = Learner::build(&config, device, &settings, |_, _| Ok(()))?;
    let loss = Loss::new(&LossConfig::bce(&labels), device);
    let pool = batch_size * POOL_BATCHES;
    let images = Tensor::randint(256, [pool, 3, options.size, options.size], (Kind::Uint8, device));
    let targets = Tensor::randint(2, [pool, LABELS.len() as i64], (Kind::Float, device));
    let _side_stream = mode.graph.then(|| SideStream::enter(device)).transpose()?;
    let batch = || {
        let index = Tensor::randint(pool, [batch_size], (Kind::Int64, device));
        (images.index_select(0, &index), targets.index_select(0, &index))
    };
    let mut trainee = learner.trainee(&loss);
    for _ in 0..options.warmup.max(if mode.graph { GRAPH_WARMUP_STEPS } else { 0 }) {
        let (x, y) = batch();
        train_step(&mut trainee, &x, &y, LR)?;
    }
    let graphed = match mode.graph {
        true => {
            let (x, y) = batch();
            Some(GraphedStep::capture(&mut trainee, &x, &y, LR)?)
        }
        false => None,
    };
    let mut step = || -> anyhow::Result<()> {
        let (x, y) = batch();
        match &graphed {
            Some(graphed) => graphed.run(&x, &y)?,
            None => train_step(&mut trainee, &x, &y, LR)?,
        };
        Ok(())
    };
    synchronize(device);
    let mut timings = Vec::new();
    for _ in 0..options.repeats {
        let started = Instant::now();
        for _ in 0..options.steps {
            step()?;
        }
        synchronize(device);
        timings
            .push((batch_size * i64::from(options.steps)) as f64 / started.elapsed().as_secs_f64());
    }
    Ok(timings)
}

fn synchronize(device: Device) {
    if let Device::Cuda(index) = device {
        tch::Cuda::synchronize(index as i64);
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}
