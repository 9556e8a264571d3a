//! Adam and AdamW over a model's trainable variables with libtorch's fused kernel, and the
//! dynamic loss scaling of fp16 training (PyTorch's `GradScaler`).
//!
//! The optimizer keeps its state (first and second moments and step count per parameter) as
//! named tensors, so that an epoch checkpoint holds everything needed to continue bit for bit.
//! Parameters without a gradient in a step are left alone, as PyTorch does.
use std::collections::HashMap;

use tch::nn::VarStore;
use tch::{Kind, Tensor};

use super::shim::{self, AdamStep};

#[derive(Debug, Clone, Copy)]
pub struct AdamConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW (decoupled weight decay) instead of Adam's L2 penalty.
    pub decoupled: bool,
}

struct Slot {
    name: String,
    param: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    step: Tensor,
}

pub struct Adam {
    slots: Vec<Slot>,
    config: AdamConfig,
}

const PREFIXES: [&str; 3] = ["adam.exp_avg.", "adam.exp_avg_sq.", "adam.step."];

impl Adam {
    /// Optimises every variable of `vs` that requires a gradient (frozen ones are left out).
    pub fn new(vs: &VarStore, config: AdamConfig) -> Adam {
        let mut variables: Vec<(String, Tensor)> =
            vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        variables.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = variables
            .into_iter()
            .map(|(name, param)| Slot {
                exp_avg: param.zeros_like(),
                exp_avg_sq: param.zeros_like(),
                step: Tensor::zeros([], (Kind::Float, param.device())),
                name,
                param,
            })
            .collect();
        Adam { slots, config }
    }

    pub fn params(&self) -> Vec<Tensor> {
        self.slots.iter().map(|s| s.param.shallow_clone()).collect()
    }

    pub fn clear_grads(&self) -> anyhow::Result<()> {
        shim::clear_grads(&self.params())
    }

    /// One step at learning rate `lr`, skipped where `found_inf` is non-zero.
    pub fn step(&mut self, lr: f64, found_inf: Option<&Tensor>) -> anyhow::Result<()> {
        let live: Vec<&Slot> = self.slots.iter().filter(|s| s.param.grad().defined()).collect();
        if live.is_empty() {
            return Ok(());
        }
        let pick =
            |f: fn(&Slot) -> &Tensor| live.iter().map(|s| f(s).shallow_clone()).collect::<Vec<_>>();
        let step = AdamStep {
            lr,
            beta1: self.config.beta1,
            beta2: self.config.beta2,
            weight_decay: self.config.weight_decay,
            eps: self.config.eps,
            decoupled: self.config.decoupled,
        };
        shim::fused_adam(
            &pick(|s| &s.param),
            &pick(|s| &s.exp_avg),
            &pick(|s| &s.exp_avg_sq),
            &pick(|s| &s.step),
            step,
            found_inf,
        )
    }

    /// The optimizer state as named tensors (`adam.exp_avg.<param>`, …).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(self.slots.len() * 3);
        for slot in &self.slots {
            for (prefix, tensor) in
                PREFIXES.iter().zip([&slot.exp_avg, &slot.exp_avg_sq, &slot.step])
            {
                out.push((format!("{prefix}{}", slot.name), tensor.shallow_clone()));
            }
        }
        out
    }

    /// Restores what [`Adam::state`] saved; every parameter must be there.
    pub fn load_state(&mut self, saved: &HashMap<String, Tensor>) -> anyhow::Result<()> {
        tch::no_grad(|| {
            for slot in &mut self.slots {
                for (prefix, tensor) in
                    PREFIXES.iter().zip([&mut slot.exp_avg, &mut slot.exp_avg_sq, &mut slot.step])
                {
                    let name = format!("{prefix}{}", slot.name);
                    let value = saved
                        .get(&name)
                        .ok_or_else(|| anyhow::anyhow!("checkpoint lacks `{name}`"))?;
                    tensor.copy_(value);
                }
            }
            Ok(())
        })
    }
}

/// Dynamic loss scaling for fp16: PyTorch's `GradScaler` defaults (initial scale 2^16, ×2 after
/// 2000 steps without overflow, ×0.5 and the step skipped after an overflow).
pub struct GradScaler {
    scale: Tensor,
    growth_tracker: Tensor,
    found_inf: Tensor,
}

const GROWTH: f64 = 2.0;
const BACKOFF: f64 = 0.5;
const GROWTH_INTERVAL: i64 = 2000;

impl GradScaler {
    pub fn new(device: tch::Device) -> GradScaler {
        GradScaler {
            scale: Tensor::full([], 65536.0, (Kind::Float, device)),
            growth_tracker: Tensor::zeros([], (Kind::Int, device)),
            found_inf: Tensor::zeros([], (Kind::Float, device)),
        }
    }

    pub fn scale(&self, loss: &Tensor) -> Tensor {
        loss * &self.scale
    }

    /// Unscales the gradients, steps the optimizer unless one overflowed, updates the scale.
    pub fn step(&mut self, optimizer: &mut Adam, lr: f64) -> anyhow::Result<()> {
        let _ = self.found_inf.zero_();
        let live: Vec<Tensor> =
            optimizer.params().into_iter().filter(|p| p.grad().defined()).collect();
        shim::unscale_grads(&live, &self.found_inf, &self.scale.reciprocal())?;
        optimizer.step(lr, Some(&self.found_inf))?;
        shim::update_scale(
            &self.scale,
            &self.growth_tracker,
            &self.found_inf,
            GROWTH,
            BACKOFF,
            GROWTH_INTERVAL,
        )
    }

    pub fn state(&self) -> Vec<(String, Tensor)> {
        vec![
            ("scaler.scale".into(), self.scale.shallow_clone()),
            ("scaler.growth_tracker".into(), self.growth_tracker.shallow_clone()),
        ]
    }

    pub fn load_state(&mut self, saved: &HashMap<String, Tensor>) -> anyhow::Result<()> {
        for (name, tensor) in
            [("scaler.scale", &mut self.scale), ("scaler.growth_tracker", &mut self.growth_tracker)]
        {
            let value =
                saved.get(name).ok_or_else(|| anyhow::anyhow!("checkpoint lacks `{name}`"))?;
            tensor.copy_(value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;
    use tch::nn::Init;

    /// One parameter, gradient g = 2·p (loss p²), compared with Adam written out by hand.
    fn run(decoupled: bool, weight_decay: f64) -> (f64, f64) {
        let vs = VarStore::new(Device::Cpu);
        let p = vs.root().var("w", &[1], Init::Const(1.0));
        let config = AdamConfig { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay, decoupled };
        let mut adam = Adam::new(&vs, config);
        let (lr, mut x, mut m, mut v) = (0.1, 1.0f64, 0.0, 0.0);
        for t in 1..=3 {
            adam.clear_grads().unwrap();
            (&p * &p).sum(Kind::Float).backward();
            adam.step(lr, None).unwrap();
            let mut g = 2.0 * x;
            if decoupled {
                x *= 1.0 - lr * weight_decay;
            } else {
                g += weight_decay * x;
            }
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            let (m_hat, v_hat) = (m / (1.0 - 0.9f64.powi(t)), v / (1.0 - 0.999f64.powi(t)));
            x -= lr * m_hat / (v_hat.sqrt() + 1e-8);
        }
        (f64::try_from(p.sum(Kind::Float)).unwrap(), x)
    }

    #[test]
    fn adam_and_adamw_match_the_update_rule() {
        for (decoupled, weight_decay) in [(false, 0.0), (false, 0.1), (true, 0.1)] {
            let (got, expected) = run(decoupled, weight_decay);
            assert!((got - expected).abs() < 1e-6, "decoupled {decoupled}: {got} vs {expected}");
        }
    }

    #[test]
    fn an_overflow_skips_the_step_and_backs_off() {
        let vs = VarStore::new(Device::Cpu);
        let p = vs.root().var("w", &[1], Init::Const(1.0));
        let config =
            AdamConfig { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decoupled: false };
        let mut adam = Adam::new(&vs, config);
        let mut scaler = GradScaler::new(Device::Cpu);
        scaler.scale(&(&p * f64::INFINITY).sum(Kind::Float)).backward();
        scaler.step(&mut adam, 0.1).unwrap();
        assert_eq!(f64::try_from(p.sum(Kind::Float)).unwrap(), 1.0);
        assert_eq!(f64::try_from(&scaler.scale).unwrap(), 32768.0);
    }
}
