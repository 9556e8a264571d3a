//! `ablate metrics`: every stored metric row of the chosen pipelines' variants as one tidy
//! table, for pandas, polars and DuckDB.
//!
//! Columns: `pipeline, variant, <one per factor>, seed, stage, stage_key, split, epoch, class,
//! metric, value, stale`. Each variant contributes the metric rows of every stage it uses (`stage` is
//! the stage of the file, `stage_key` the result's cache key), so a result that several
//! variants share (the data, a pre-training) appears once per variant, beside that variant's
//! levels; factors a pipeline lacks are empty. Factor names never clash with the fixed columns
//! (`names::RESERVED_FACTORS`). Written as Parquet (strings, `seed` and `epoch` uint32, `value`
//! float64, `stale` boolean; see `ablate_core::columns`) or CSV. Results of an earlier
//! configuration than the pipeline's last run are left out unless asked for (`stale` true).
use std::fs::File;
use std::path::Path;

use ablate_core::columns::{self, Column};
use ablate_core::grid::SEED;
use anyhow::Context;

use super::collect::{Collected, factor_levels};

/// The file format of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Parquet,
    Csv,
}

/// One row of the table.
struct TidyRow<'a> {
    pipeline: &'a str,
    variant: String,
    /// One per factor of [`Table::factors`].
    levels: Vec<Option<&'a str>>,
    seed: Option<u32>,
    stage: &'a str,
    stage_key: &'a str,
    split: Option<&'a str>,
    epoch: Option<u32>,
    class: Option<&'a str>,
    metric: &'a str,
    value: f64,
    /// Made under an earlier configuration than the pipeline's last run (read with `--stale`).
    stale: bool,
}

/// The tidy table of what `collected` holds.
pub struct Table<'a> {
    factors: Vec<String>,
    rows: Vec<TidyRow<'a>>,
}

impl<'a> Table<'a> {
    pub fn new(collected: &'a Collected) -> Table<'a> {
        let factors: Vec<String> = factor_levels(&collected.manifests)
            .into_iter()
            .map(|(f, _)| f)
            .filter(|f| f != SEED)
            .collect();
        let mut rows = Vec::new();
        for result in &collected.results {
            let level = |factor: &str| {
                result.levels.iter().find(|(f, _)| f == factor).map(|(_, l)| l.as_str())
            };
            for metric in result.metrics.iter() {
                rows.push(TidyRow {
                    pipeline: &result.pipeline,
                    variant: result.levels.without_seed().name(),
                    levels: factors.iter().map(|f| level(f)).collect(),
                    seed: result.levels.seed().and_then(|s| s.parse().ok()),
                    stage: &result.template,
                    stage_key: result.key(),
                    split: metric.split.as_deref(),
                    epoch: metric.epoch,
                    class: metric.class.as_deref(),
                    metric: &metric.metric,
                    value: metric.value,
                    stale: result.stale.is_some(),
                });
            }
        }
        Table { factors, rows }
    }

    fn header(&self) -> Vec<String> {
        let mut header = vec!["pipeline".to_string(), "variant".to_string()];
        header.extend(self.factors.iter().cloned());
        header.extend(
            ["seed", "stage", "stage_key", "split", "epoch", "class", "metric", "value", "stale"]
                .map(String::from),
        );
        header
    }
}

/// A table `ablate metrics` writes, as Parquet or CSV.
pub trait Tidy {
    /// Its rows.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write_csv(&self, out: &mut dyn std::io::Write) -> anyhow::Result<()>;

    fn write_parquet(&self, file: File) -> anyhow::Result<()>;

    fn write(&self, path: &Path, format: TableFormat) -> anyhow::Result<()> {
        let mut file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        match format {
            TableFormat::Parquet => self.write_parquet(file),
            TableFormat::Csv => self.write_csv(&mut file),
        }
        .with_context(|| format!("cannot write {}", path.display()))
    }
}

impl Tidy for Table<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn write_csv(&self, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(self.header())?;
        let text = |v: Option<&str>| v.unwrap_or_default().to_string();
        for row in &self.rows {
            let mut record = vec![row.pipeline.to_string(), row.variant.clone()];
            record.extend(row.levels.iter().map(|l| text(*l)));
            record.extend([
                row.seed.map_or(String::new(), |s| s.to_string()),
                row.stage.to_string(),
                row.stage_key.to_string(),
                text(row.split),
                row.epoch.map_or(String::new(), |e| e.to_string()),
                text(row.class),
                row.metric.to_string(),
                row.value.to_string(),
                row.stale.to_string(),
            ]);
            writer.write_record(record)?;
        }
        writer.flush()?;
        Ok(())
    }

    fn write_parquet(&self, file: File) -> anyhow::Result<()> {
        let rows = self.rows.as_slice();
        let header = self.header();
        let mut columns = vec![
            text(&header[0], rows, |r| Some(r.pipeline), false),
            text(&header[1], rows, |r| Some(&r.variant), false),
        ];
        for (i, factor) in self.factors.iter().enumerate() {
            columns.push(text(factor, rows, |r| r.levels[i], true));
        }
        columns.extend([
            Column::u32("seed", rows.iter().map(|r| r.seed).collect(), true),
            text("stage", rows, |r| Some(r.stage), false),
            text("stage_key", rows, |r| Some(r.stage_key), false),
            text("split", rows, |r| r.split, true),
            Column::u32("epoch", rows.iter().map(|r| r.epoch).collect(), true),
            text("class", rows, |r| r.class, true),
            text("metric", rows, |r| Some(r.metric), false),
            Column::f64("value", rows.iter().map(|r| r.value).collect()),
            Column::bool("stale", rows.iter().map(|r| r.stale).collect()),
        ]);
        debug_assert_eq!(columns.iter().map(|c| c.name).collect::<Vec<_>>(), header);
        columns::write(file, &columns)
    }
}

/// A text column of `rows`.
fn text<'r>(
    name: &'r str,
    rows: &'r [TidyRow],
    of: impl Fn(&'r TidyRow) -> Option<&'r str>,
    nullable: bool,
) -> Column<'r> {
    Column::text(name, rows.iter().map(of).collect(), nullable)
}
