//! Progress display: bars on a terminal, plain lines otherwise (logs, CI, pipes).
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bars: MultiProgress,
    interactive: bool,
}

/// One unit of long work (an epoch's batches, a folder of images).
pub struct Task {
    bars: MultiProgress,
    bar: ProgressBar,
    label: String,
    interactive: bool,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        let interactive = std::io::stderr().is_terminal();
        let target =
            if interactive { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        Progress { bars: MultiProgress::with_draw_target(target), interactive }
    }

    /// A line of output that does not tear the bars.
    pub fn line(&self, text: &str) {
        if self.interactive {
            let _ = self.bars.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    pub fn task(&self, label: impl Into<String>, total: u64) -> Task {
        let label = label.into();
        let bar = self.bars.add(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(label.clone());
        if self.interactive {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        Task { bars: self.bars.clone(), bar, label, interactive: self.interactive }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

impl Task {
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    pub fn message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }

    /// Ends the task; off a terminal, its closing message becomes one plain line.
    pub fn finish(self, message: impl Into<String>) {
        let message = message.into();
        if self.interactive {
            self.bar.finish_and_clear();
            self.bars.remove(&self.bar);
            let _ = self.bars.println(format!("{:>12} {message}", self.label));
        } else {
            eprintln!("{:>12} {message}", self.label);
        }
    }
}
