//! `ablate status`, `ablate gc` and `ablate verify`: the cache itself.
use std::path::Path;
use std::process::ExitCode;

use ablate_core::disk::human_size;
use ablate_core::gc::{self, Garbage};
use ablate_core::store::Store;

use super::{exit, pipeline_names};
use crate::slurm;

#[derive(clap::Args)]
pub(super) struct Status {
    /// How many recent runs to list.
    #[arg(long, default_value_t = 10)]
    last: usize,
}

impl Status {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        crate::status::print(&store, self.last)?;
        for submission in slurm::record::latest(&store, None)? {
            println!();
            slurm::follow::print_submission(&store, &submission);
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
pub(super) struct Gc {
    /// Keep only these pipelines' results, by name or file (default: every pipeline run with
    /// the cache); the others are forgotten.
    pipelines: Vec<String>,
    /// Remove what is listed; without it nothing is removed.
    #[arg(long)]
    apply: bool,
}

impl Gc {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let garbage = gc::find(&store, &pipeline_names(&self.pipelines)?)?;
        if self.apply {
            gc::remove(&store, &garbage)?;
        }
        print_garbage(&garbage, self.apply);
        Ok(ExitCode::SUCCESS)
    }
}

fn print_garbage(garbage: &[Garbage], applied: bool) {
    for item in garbage {
        let stage = item.stage.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
        println!("{:>10}  {}{stage}: {}", human_size(item.bytes), item.path.display(), item.why);
    }
    let total = human_size(garbage.iter().map(|g| g.bytes).sum());
    match (garbage.is_empty(), applied) {
        (true, _) => println!("nothing to remove"),
        (false, true) => println!("removed {} items, {total}", garbage.len()),
        (false, false) => println!(
            "{} items, {total}: a dry run; `ablate gc --apply` removes them",
            garbage.len()
        ),
    }
}

#[derive(clap::Args)]
pub(super) struct Verify {
    #[arg(long)]
    repair: bool,
}

impl Verify {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let report = store.verify_all()?;
        for (_, error) in &report.corrupt {
            println!("corrupt: {error:#}");
        }
        if self.repair {
            for (key, _) in &report.corrupt {
                store.quarantine(key)?;
            }
        }
        let what = if self.repair && !report.corrupt.is_empty() {
            ", set aside; the next run recomputes them"
        } else {
            ""
        };
        println!("{} results verified, {} corrupt{what}", report.verified, report.corrupt.len());
        Ok(exit(report.corrupt.is_empty() || self.repair))
    }
}
