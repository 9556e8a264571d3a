//! `ablate compare`, `ablate plot`, `ablate report`, `ablate metrics` and `ablate out`: what
//! stored results say, read from the cache alone.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ablate_core::grid::Levels;
use ablate_core::invalid;
use ablate_core::store::Store;
use anyhow::Context;

use super::pipeline_names;
use super::terminal::terminal_width;
use ablate_results::collect::{Selection, Stages, collect};
use ablate_results::format::{self, Format};
use ablate_results::output::output_folder;
use ablate_results::significance::{Adjustment, Bootstrap, Interval, PairedTest, Settings};
use ablate_results::spread::SpreadTable;
use ablate_results::tidy::{Table, TableFormat, Tidy};
use ablate_results::{compare, gather, plot, report};

/// Which stored results a command reads, and how it lays them out.
#[derive(clap::Args)]
struct ResultArgs {
    /// Pipelines, by name or file (default: every pipeline run with the cache).
    pipelines: Vec<String>,
    /// Stages of the pipeline file to read (default: the `evaluate` stages, else `train`).
    #[arg(long = "stage", value_delimiter = ',')]
    stages: Vec<String>,
    /// Metrics to show (repeat or separate with commas); default macro_f1, macro_auroc,
    /// macro_average_precision and per-class f1 (those stored).
    #[arg(long = "metric", value_delimiter = ',')]
    metrics: Vec<String>,
    /// Splits to show (repeat or separate with commas); default all.
    #[arg(long = "split", value_delimiter = ',')]
    splits: Vec<String>,
    /// Keep rows where `factor=level[,level]`, `factor!=level` or `column>number` (also >=,
    /// <, <=, =, != on the mean); repeat to combine.
    #[arg(long = "where", value_name = "CONDITION")]
    filters: Vec<String>,
    /// Sort by a column (best first) or a factor (in declaration order).
    #[arg(long)]
    sort: Option<String>,
    /// Reverse the order of the rows.
    #[arg(long)]
    reverse: bool,
    /// The row Δ is computed against, as `factor=level,...` (default: the grid's baseline).
    #[arg(long)]
    baseline: Option<String>,
    /// Also show results made under an earlier configuration than the pipeline's last run
    /// (another parameter, a failed or sliced run left them), marked †; without, they are left
    /// out and named below the table.
    #[arg(long)]
    stale: bool,
}

impl ResultArgs {
    fn options(&self) -> anyhow::Result<compare::Options> {
        Ok(compare::Options {
            metrics: self.metrics.clone(),
            splits: self.splits.clone(),
            baseline: self.baseline.as_deref().map(parse_levels).transpose()?,
            filters: self.filters.clone(),
            sort: self.sort.clone(),
            reverse: self.reverse,
            stale: self.stale,
            ..compare::Options::default()
        })
    }

    fn compare(
        &self,
        store: &Store,
        names: &[String],
        options: &compare::Options,
    ) -> anyhow::Result<compare::Comparison> {
        comparison(store, names, &self.stages, self.stale, options)
    }
}

/// The comparison of the results of `stages` (default: the evaluations) of the pipelines
/// `names`, re-scoring the stored predictions where `options` ask; `stale`: with the results
/// of earlier configurations.
pub(super) fn comparison(
    store: &Store,
    names: &[String],
    stages: &[String],
    stale: bool,
    options: &compare::Options,
) -> anyhow::Result<compare::Comparison> {
    let stages = Stages::Named(stages);
    if options.settings.reads_predictions() {
        let snapshot = collect(store, &Selection { pipelines: names, stages: Stages::All, stale })?;
        return compare::compare_in(&snapshot, &stages, options);
    }
    let collected = collect(store, &Selection { pipelines: names, stages, stale })?;
    compare::compare(&collected, options)
}

/// How cells are summarised and compared with the baseline (see `results::significance`).
#[derive(clap::Args)]
struct StatisticsArgs {
    /// Confidence level of the intervals of each mean and each Δ; 0 hides them.
    #[arg(long, default_value_t = 0.95)]
    ci: f64,
    /// What the intervals of each mean and each Δ, and Δ's p-value, account for: the seeds (t)
    /// or the seeds and the test images (a hierarchical bootstrap that re-scores the stored
    /// predictions).
    #[arg(long, value_enum, default_value = "t")]
    interval: IntervalArg,
    /// The test of rows that ran the same seeds as the baseline (other rows: Welch's t-test)
    /// [default: t; with --interval bootstrap, the bootstrap's].
    #[arg(long, value_enum)]
    test: Option<PairedTestArg>,
    #[command(flatten)]
    bootstrap: BootstrapArgs,
    /// How p-values are adjusted across the rows of the table.
    #[arg(long, value_enum, default_value = "holm")]
    adjust: AdjustmentArg,
    /// Significance level of the adjusted p-values.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
}

impl StatisticsArgs {
    fn apply(&self, options: &mut compare::Options) -> anyhow::Result<()> {
        let ci = match self.ci {
            0.0 => None,
            level if level > 0.0 && level < 1.0 => Some(level),
            level => invalid!(
                "--ci {level}: a confidence level is between 0 and 1 (0.95 for 95%), or 0 to hide the intervals"
            ),
        };
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            invalid!("--alpha {}: a significance level is between 0 and 1 (e.g. 0.05)", self.alpha);
        }
        let interval = Interval::from(self.interval);
        let paired_test = match (interval, self.test) {
            (Interval::Bootstrap, Some(test @ (PairedTestArg::T | PairedTestArg::Wilcoxon))) => {
                invalid!(
                    "--test {}: with --interval bootstrap, Δ is tested by the bootstrap (--test delong tests AUROC columns by DeLong's test instead)",
                    if matches!(test, PairedTestArg::T) { "t" } else { "wilcoxon" }
                )
            }
            (_, test) => test.map_or(PairedTest::T, PairedTest::from),
        };
        options.settings = Settings {
            ci,
            paired_test,
            adjustment: self.adjust.into(),
            alpha: self.alpha,
            seeds_needed: false,
            interval,
            bootstrap: self.bootstrap.settings()?,
        };
        Ok(())
    }
}

/// The bootstrap's size and seed.
#[derive(clap::Args)]
struct BootstrapArgs {
    /// Bootstrap replicates (--interval bootstrap).
    #[arg(long = "bootstrap", value_name = "B", default_value_t = Bootstrap::default().replicates)]
    replicates: u32,
    /// The seed of the bootstrap's draws: the same seed gives the same intervals.
    #[arg(long, default_value_t = Bootstrap::default().seed)]
    seed: u64,
}

impl BootstrapArgs {
    fn settings(&self) -> anyhow::Result<Bootstrap> {
        if self.replicates < MIN_REPLICATES {
            invalid!(
                "--bootstrap {}: a percentile interval needs at least {MIN_REPLICATES} replicates (2000 by default)",
                self.replicates
            );
        }
        Ok(Bootstrap { replicates: self.replicates, seed: self.seed })
    }
}

/// The fewest replicates `--bootstrap` takes.
const MIN_REPLICATES: u32 = 100;

#[derive(clap::Args)]
pub(super) struct Compare {
    #[command(flatten)]
    results: ResultArgs,
    #[command(flatten)]
    statistics: StatisticsArgs,
    /// Per row, the seeds that would detect its Δ with 80% power at --alpha.
    #[arg(long)]
    seeds_needed: bool,
    /// One row per variant and seed instead of pooling the seeds.
    #[arg(long)]
    per_seed: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: FormatArg,
}

impl Compare {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let mut options = self.results.options()?;
        self.statistics.apply(&mut options)?;
        options.settings.seeds_needed = self.seeds_needed;
        options.per_seed = self.per_seed;
        let store = Store::existing(cache)?;
        let names = pipeline_names(&self.results.pipelines)?;
        let comparison = self.results.compare(&store, &names, &options)?;
        print!("{}", format::render(&comparison, self.format.into(), terminal_width())?);
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
pub(super) struct Plot {
    #[command(flatten)]
    results: ResultArgs,
    /// Colour variants by this factor (default: the first that varies); the next factors that
    /// vary get markers and dashes.
    #[arg(long)]
    by: Option<String>,
    /// The training stage whose curves to draw (default: each variant's last `train`).
    #[arg(long)]
    curves_stage: Option<String>,
    /// Folder for the figures (each as SVG and PNG).
    #[arg(long, default_value = "plots")]
    out: PathBuf,
}

impl Plot {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let names = pipeline_names(&self.results.pipelines)?;
        let comparison = self.results.compare(&store, &names, &self.results.options()?)?;
        let styling = plot::Styling::new(&comparison, self.by.as_deref())?;
        let named = self.curves_stage.iter().cloned().collect::<Vec<_>>();
        let stages = if named.is_empty() { Stages::FinalTraining } else { Stages::Named(&named) };
        let trainings =
            collect(&store, &Selection { pipelines: &names, stages, stale: self.results.stale })?
                .results;
        let out = &self.out;
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
        let curves = plot::curves(&comparison, &trainings, &styling, out)?;
        let bars = plot::bars(&comparison, &styling, out)?;
        for path in curves.iter().chain(&bars) {
            println!("{}", path.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
pub(super) struct Report {
    #[command(flatten)]
    results: ResultArgs,
    #[command(flatten)]
    statistics: StatisticsArgs,
    /// The HTML file to write.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
}

impl Report {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let mut options = self.results.options()?;
        self.statistics.apply(&mut options)?;
        let store = Store::existing(cache)?;
        let names = pipeline_names(&self.results.pipelines)?;
        let generator = crate::environment::generator();
        let (report, warnings) =
            gather::report(&store, &names, &self.results.stages, &options, &generator)?;
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        let page = report::render(&report);
        std::fs::write(&self.out, &page)
            .with_context(|| format!("cannot write {}", self.out.display()))?;
        println!("{} ({} kB)", self.out.display(), page.len().div_ceil(1024));
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
pub(super) struct Metrics {
    /// Pipelines, by name or file (default: every pipeline run with the cache).
    pipelines: Vec<String>,
    /// File format [default: csv when --out ends with .csv, else parquet].
    #[arg(long, value_enum)]
    format: Option<TableFormatArg>,
    /// The file to write [default: metrics.parquet; CSV without --out goes to standard output].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the results of an earlier configuration than the pipeline's last run, with
    /// `stale` true (default: left out, and named on standard error).
    #[arg(long)]
    stale: bool,
    /// Instead of the stored metrics, the bootstrap replicates of each variant's evaluations
    /// (`compare --interval bootstrap`'s default columns), summarised per variant and column:
    /// replicates, mean, sd and quantiles of the mean and of Δ against the baseline.
    #[arg(long)]
    bootstrap_summary: bool,
    #[command(flatten)]
    bootstrap: BootstrapArgs,
}

impl Metrics {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let names = pipeline_names(&self.pipelines)?;
        let collected = collect(
            &store,
            &Selection { pipelines: &names, stages: Stages::All, stale: self.stale },
        )?;
        if self.bootstrap_summary {
            let settings = Settings {
                interval: Interval::Bootstrap,
                bootstrap: self.bootstrap.settings()?,
                ..Settings::default()
            };
            let options = compare::Options { settings, stale: self.stale, ..Default::default() };
            let comparison = compare::compare_in(&collected, &Stages::Named(&[]), &options)?;
            return self.write(&SpreadTable::new(&comparison), "replicate summaries");
        }
        let stale: Vec<String> = collected
            .missing
            .iter()
            .filter(|m| m.stale().is_some())
            .map(|m| format!("{}: {}", m.pipeline, m.levels.name()))
            .collect();
        if !stale.is_empty() {
            eprintln!(
                "left out as stale (made under an earlier configuration than the last run's; --stale writes them): {}",
                stale.join("; ")
            );
        }
        self.write(&Table::new(&collected), "metric rows")
    }

    /// Writes `table` (its rows are `rows`) where and as asked.
    fn write(&self, table: &dyn Tidy, rows: &str) -> anyhow::Result<ExitCode> {
        let csv_named =
            self.out.as_ref().is_some_and(|o| o.extension().is_some_and(|e| e == "csv"));
        let format = self.format.map(TableFormat::from).unwrap_or(if csv_named {
            TableFormat::Csv
        } else {
            TableFormat::Parquet
        });
        let out = match (&self.out, format) {
            (Some(out), _) => out.clone(),
            (None, TableFormat::Csv) => {
                table.write_csv(&mut std::io::stdout().lock())?;
                return Ok(ExitCode::SUCCESS);
            }
            (None, TableFormat::Parquet) => PathBuf::from("metrics.parquet"),
        };
        table.write(&out, format)?;
        println!("{} {rows} → {}", table.len(), out.display());
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(clap::Args)]
pub(super) struct Out {
    /// The pipeline, by name or file.
    pipeline: String,
    /// A stage instance (`export[model=resnet18,seed=0]`), or a stage of the file that has one.
    stage: String,
}

impl Out {
    pub(super) fn execute(&self, cache: &Path) -> anyhow::Result<ExitCode> {
        let store = Store::existing(cache)?;
        let name = pipeline_names(std::slice::from_ref(&self.pipeline))?.remove(0);
        println!("{}", output_folder(&store, &name, &self.stage)?.display());
        Ok(ExitCode::SUCCESS)
    }
}

/// `factor=level,factor=level`.
fn parse_levels(text: &str) -> anyhow::Result<Levels> {
    text.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((factor, level)) => Ok((factor.trim().to_string(), level.trim().to_string())),
            None => invalid!("`{pair}` in `{text}` is not `factor=level`"),
        })
        .collect()
}

/// A command-line mirror of an enum of the results crate, which knows no clap: clap parses the
/// mirror (its variants' doc comments are the help), `From` gives the results' value.
macro_rules! mirror {
    ($(#[$meta:meta])* $name:ident => $target:ident { $($(#[$doc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, clap::ValueEnum)]
        pub(super) enum $name {
            $($(#[$doc])* $variant),+
        }

        impl From<$name> for $target {
            fn from(value: $name) -> $target {
                match value {
                    $($name::$variant => $target::$variant),+
                }
            }
        }
    };
}

mirror! {
    /// `compare --format`.
    FormatArg => Format { Table, Markdown, Csv, Json }
}

mirror! {
    /// `metrics --format`.
    TableFormatArg => TableFormat { Parquet, Csv }
}

mirror! {
    /// `--test`: the test of two rows that ran the same seeds.
    PairedTestArg => PairedTest {
        /// The paired t-test.
        T,
        /// The Wilcoxon signed-rank test (needs 6 pairs at alpha 0.05).
        Wilcoxon,
        /// For per-label AUROC columns, DeLong's test on the test images, the seeds pooled
        /// (reads the stored predictions; other columns: as without it).
        #[value(name = "delong")]
        DeLong,
    }
}

mirror! {
    /// `--interval`: what the intervals and Δ's test account for.
    IntervalArg => Interval {
        /// Seeds: t-intervals over the seeds' values, and t-tests (or --test).
        T,
        /// Seeds and test images: a hierarchical bootstrap that re-scores the stored
        /// predictions, B = --bootstrap replicates from --seed.
        Bootstrap,
    }
}

mirror! {
    /// `--adjust`: how the p-values of a column are adjusted for testing many rows.
    AdjustmentArg => Adjustment {
        /// Holm's step-down method (controls the family-wise error rate).
        Holm,
        /// Benjamini–Hochberg (controls the false discovery rate).
        Bh,
        /// No adjustment.
        None,
    }
}
