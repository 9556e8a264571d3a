//! `ablate plan` and `ablate dag`: what a run would do, and the stage graph.
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use ablate_core::dag::Dag;
use ablate_core::diagnostic::Diagnostics;
use ablate_core::pipeline::StageOrigin;
use ablate_core::plan::{LevelSummary, PlannedStage, Status, by_factor};
use ablate_core::spec;
use ablate_stages::registry;
use clap::ValueEnum;

use super::PipelineArgs;
use super::share::RemoteArgs;
use crate::session::Access;

#[derive(clap::Args)]
pub(super) struct Plan {
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Print a JSON list of {stage, kind, key, status, reasons}.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

impl Plan {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let (session, _) = self.pipeline.open(cache, Access::Plan)?;
        let remote = self.remote.open()?;
        let planned = session.plan_with_remote(remote.as_ref())?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&planned)?);
        } else {
            // One write per buffer, not per line: a grid lists thousands of stages.
            let mut out = BufWriter::new(std::io::stdout().lock());
            print_origins(&mut out, &session.pipeline.origins)?;
            print_plan(&mut out, &planned, &by_factor(&session.pipeline, &planned))?;
            out.flush()?;
        }
        // The process ends here: freeing thousands of stage specs and stat-cache entries one
        // by one would add a millisecond to a command that takes thirty.
        std::mem::forget((session, planned));
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
pub(super) struct DagCommand {
    #[command(flatten)]
    pipeline: PipelineArgs,
    #[arg(long, value_enum, default_value = "dot")]
    format: DagFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum DagFormat {
    Dot,
    Mermaid,
}

impl DagCommand {
    pub(super) fn execute(&self) -> anyhow::Result<ExitCode> {
        let registry = registry();
        let spec = spec::load(&self.pipeline.pipeline, &self.pipeline.set, &registry)?;
        let dag = Dag::new(&spec).map_err(|d| Diagnostics(vec![d]))?;
        print!(
            "{}",
            match self.format {
                DagFormat::Dot => dag.to_dot(&spec),
                DagFormat::Mermaid => dag.to_mermaid(&spec),
            }
        );
        Ok(ExitCode::SUCCESS)
    }
}

/// For a pipeline that `extends` another: which file defines each stage, and which file
/// changed it.
fn print_origins(
    out: &mut impl Write,
    origins: &BTreeMap<String, StageOrigin>,
) -> std::io::Result<()> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (stage, origin) in origins {
        let from = match &origin.changed_by {
            None => format!("from {}", origin.file.display()),
            Some(by) => format!("from {}, changed in {}", origin.file.display(), by.display()),
        };
        match groups.iter_mut().find(|(f, _)| *f == from) {
            Some((_, stages)) => stages.push(stage),
            None => groups.push((from, vec![stage])),
        }
    }
    for (from, stages) in &groups {
        writeln!(out, "stages {from}: {}", stages.join(", "))?;
    }
    if !groups.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

/// For a grid, the summary by factor and then only the stages that run; else every stage.
fn print_plan(
    out: &mut impl Write,
    planned: &[PlannedStage],
    levels: &[LevelSummary],
) -> std::io::Result<()> {
    if !levels.is_empty() {
        let factor_width = levels.iter().map(|l| l.factor.len()).max().unwrap_or(0).max(6);
        let level_width = levels.iter().map(|l| l.level.len()).max().unwrap_or(0).max(5);
        writeln!(
            out,
            "{:<factor_width$}  {:<level_width$}  variants  cached  to run",
            "factor", "level"
        )?;
        for l in levels {
            writeln!(
                out,
                "{:<factor_width$}  {:<level_width$}  {:>8}  {:>6}  {:>6}",
                l.factor, l.level, l.variants, l.cached, l.to_run
            )?;
        }
        writeln!(out)?;
    }
    let listed: Vec<&PlannedStage> =
        planned.iter().filter(|p| levels.is_empty() || p.status != Status::Cached).collect();
    if !listed.is_empty() {
        let width = listed.iter().map(|p| p.stage.len()).max().unwrap_or(5).max(5);
        let kind_width = listed.iter().map(|p| p.kind.len()).max().unwrap_or(4).max(4);
        writeln!(out, "{:<width$}  {:<kind_width$}  {:<6}  why", "stage", "kind", "status")?;
        for p in listed {
            let status = match (p.status, p.if_upstream_changes) {
                (Status::Cached, _) => "cached",
                (Status::Remote, _) => "remote",
                (Status::Run, false) => "run",
                (Status::Run, true) => "run?",
            };
            let reasons: Vec<String> = p.reasons.iter().map(|r| r.to_string()).collect();
            writeln!(
                out,
                "{:<width$}  {:<kind_width$}  {status:<6}  {}",
                p.stage,
                p.kind,
                reasons.join("; ")
            )?;
        }
    }
    let to_run = planned.iter().filter(|p| p.status == Status::Run).count();
    let remote = planned.iter().filter(|p| p.status == Status::Remote).count();
    let maybe = planned.iter().filter(|p| p.if_upstream_changes).count();
    let maybe = match maybe {
        0 => String::new(),
        n => format!(
            " ({} for certain, {n} marked run? only if an upstream output changes)",
            to_run - n
        ),
    };
    let note = if levels.is_empty() {
        ""
    } else {
        " (cached stages are not listed; --json lists every stage)"
    };
    let on_remote = if remote > 0 { format!(", {remote} on the remote") } else { String::new() };
    writeln!(
        out,
        "{} stages: {} cached{on_remote}, {to_run} to run{maybe}{note}",
        planned.len(),
        planned.len() - to_run - remote
    )
}
