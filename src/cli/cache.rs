//! `ablate status`, `ablate gc` and `ablate verify`: the cache itself.
use std::path::Path;
use std::process::ExitCode;

use ablate_core::disk::{disk_usage, human_size, parse_size};
use ablate_core::gc::{self, Garbage, Protected};
use ablate_core::key_commands::KeyOutputs;
use ablate_core::plan;
use ablate_core::spec::PipelineSource;
use ablate_core::store::Store;

use super::{exit, pipeline_names};
use crate::session::{Access, Session};
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
    /// Keep the results of each pipeline's N most recent runs, whatever their overrides.
    #[arg(long, value_name = "N", default_value_t = gc::RECENT_RUNS)]
    keep_runs: usize,
    /// Remove only what brings the cache under SIZE (e.g. 20G): least recently used
    /// workspaces of completed trainings first, then unreachable results, then results only
    /// recent runs keep; never what the current pipelines' refs name.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_size: Option<u64>,
}

impl Gc {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let names = pipeline_names(&self.pipelines)?;
        collect(&store, cache, &names, self.keep_runs, self.max_size, self.apply)?;
        Ok(ExitCode::SUCCESS)
    }
}

/// Finds what gc removes (all garbage, or what meets `max_size`), removes it with `apply`, and
/// says what it removed (or would) and what it keeps.
pub(super) fn collect(
    store: &Store,
    cache: &Path,
    names: &[String],
    keep_runs: usize,
    max_size: Option<u64>,
    apply: bool,
) -> anyhow::Result<()> {
    let protected = as_written(store, cache, names)?;
    let collection = gc::find(store, names, keep_runs, &protected)?;
    let chosen = match max_size {
        Some(budget) => {
            let total = disk_usage(store.root());
            let (chosen, after) = collection.within(total, budget);
            println!(
                "cache {}: {} of a {} budget; {} after removing what follows",
                store.root().display(),
                human_size(total),
                human_size(budget),
                human_size(after)
            );
            chosen
        }
        None => collection.garbage,
    };
    if apply {
        gc::remove(store, &chosen)?;
    }
    print_garbage(&chosen, apply);
    for (by, results, bytes) in &collection.kept {
        println!("kept {results} results ({}) of {by}", human_size(*bytes));
    }
    Ok(())
}

/// The cached results each kept pipeline's file plans to as written (no overrides), on each
/// device kind its recent runs used: never collected, whatever the last run's overrides were.
fn as_written(store: &Store, cache: &Path, names: &[String]) -> anyhow::Result<Vec<Protected>> {
    let runs = store.runs()?;
    let mut protected = Vec::new();
    for manifest in store.manifests()? {
        if !names.is_empty() && !names.contains(&manifest.pipeline) {
            continue;
        }
        let file = Path::new(&manifest.file);
        let Ok(source) = PipelineSource::read(file, &[]) else { continue };
        let mut kinds: Vec<&str> = runs
            .iter()
            .filter(|r| r.pipeline == manifest.pipeline && !r.device.is_empty())
            .map(|r| r.device.as_str())
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        if kinds.is_empty() {
            kinds.push("cpu");
        }
        for kind in kinds {
            // A file that no longer loads protects nothing; its refs and runs still do.
            let opened = Session::open(cache, &source, kind, Access::Plan, &KeyOutputs::default());
            let Ok(session) = opened else { continue };
            let by = format!("{} as written", file.display());
            let cached = session.plan()?.into_iter().filter(|p| p.status == plan::Status::Cached);
            for planned in cached {
                let key = planned.key.expect("cached stages have keys");
                protected.push(Protected { key, by: by.clone() });
            }
        }
    }
    Ok(protected)
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
        if report.metrics_unchecked > 0 {
            println!(
                "{} results were written before metrics had digests: their metrics.parquet is not checked",
                report.metrics_unchecked
            );
        }
        Ok(exit(report.corrupt.is_empty() || self.repair))
    }
}
