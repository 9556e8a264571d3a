//! Learning rate per optimizer step: an optional linear warm-up, then constant or cosine decay
//! to zero at the last step (as timm's and PyTorch's cosine schedules without restarts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    pub base_lr: f64,
    pub warmup_steps: u64,
    /// Decay over the steps after the warm-up; `None`: constant.
    pub cosine_steps: Option<u64>,
}

impl LrSchedule {
    /// The learning rate of step `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            return self.base_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        match self.cosine_steps {
            None => self.base_lr,
            Some(total) => {
                let progress = (step - self.warmup_steps) as f64 / total.max(1) as f64;
                self.base_lr * 0.5 * (1.0 + (std::f64::consts::PI * progress.min(1.0)).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine() {
        let s = LrSchedule { base_lr: 1.0, warmup_steps: 4, cosine_steps: Some(10) };
        assert_eq!(s.lr(0), 0.25);
        assert_eq!(s.lr(3), 1.0);
        assert_eq!(s.lr(4), 1.0);
        assert!((s.lr(9) - 0.5).abs() < 1e-12);
        assert!(s.lr(14) < 1e-12);
        let constant = LrSchedule { base_lr: 0.1, warmup_steps: 0, cosine_steps: None };
        assert_eq!(constant.lr(1000), 0.1);
    }
}
