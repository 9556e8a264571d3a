//! `ablate metrics`: every stored metric row of the chosen pipelines' variants as one tidy
//! table, for pandas, polars and DuckDB.
//!
//! Columns: `pipeline, variant, <one per factor>, seed, stage, stage_key, split, epoch, class,
//! metric, value`. Each variant contributes the metric rows of every stage it uses (`stage` is
//! the stage of the file, `stage_key` the result's cache key), so a result that several
//! variants share (the data, a pre-training) appears once per variant, beside that variant's
//! levels; factors a pipeline lacks are empty. Factor names never clash with the fixed columns
//! (`names::RESERVED_FACTORS`). Written as Parquet (Arrow types: strings, `epoch` uint32,
//! `value` float64) or CSV.
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use ablate_core::grid::{SEED, levels_name};
use anyhow::Context;
use arrow_array::{Array, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;

use super::collect::{Collected, factor_levels};

/// The file format of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
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
    seed: Option<&'a str>,
    stage: &'a str,
    stage_key: &'a str,
    split: Option<&'a str>,
    epoch: Option<u32>,
    class: Option<&'a str>,
    metric: &'a str,
    value: f64,
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
                    variant: levels_name(&result.row_levels()),
                    levels: factors.iter().map(|f| level(f)).collect(),
                    seed: result.seed(),
                    stage: &result.template,
                    stage_key: &result.key,
                    split: metric.split.as_deref(),
                    epoch: metric.epoch,
                    class: metric.class.as_deref(),
                    metric: &metric.metric,
                    value: metric.value,
                });
            }
        }
        Table { factors, rows }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn header(&self) -> Vec<String> {
        let mut header = vec!["pipeline".to_string(), "variant".to_string()];
        header.extend(self.factors.iter().cloned());
        header.extend(
            ["seed", "stage", "stage_key", "split", "epoch", "class", "metric", "value"]
                .map(String::from),
        );
        header
    }

    pub fn write(&self, path: &Path, format: TableFormat) -> anyhow::Result<()> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        match format {
            TableFormat::Parquet => self.write_parquet(file),
            TableFormat::Csv => self.write_csv(file),
        }
        .with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn write_csv(&self, out: impl std::io::Write) -> anyhow::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(self.header())?;
        let text = |v: Option<&str>| v.unwrap_or_default().to_string();
        for row in &self.rows {
            let mut record = vec![row.pipeline.to_string(), row.variant.clone()];
            record.extend(row.levels.iter().map(|l| text(*l)));
            record.extend([
                text(row.seed),
                row.stage.to_string(),
                row.stage_key.to_string(),
                text(row.split),
                row.epoch.map_or(String::new(), |e| e.to_string()),
                text(row.class),
                row.metric.to_string(),
                row.value.to_string(),
            ]);
            writer.write_record(record)?;
        }
        writer.flush()?;
        Ok(())
    }

    fn write_parquet(&self, file: File) -> anyhow::Result<()> {
        let rows = self.rows.as_slice();
        let header = self.header();
        let mut fields = Vec::new();
        let mut columns: Vec<Arc<dyn Array>> = Vec::new();
        let mut add = |name: &str, column: Arc<dyn Array>, nullable: bool| {
            fields.push(Field::new(name, column.data_type().clone(), nullable));
            columns.push(column);
        };
        add(&header[0], strings(rows, |r| Some(r.pipeline)), false);
        add(&header[1], strings(rows, |r| Some(&r.variant)), false);
        for (i, factor) in self.factors.iter().enumerate() {
            add(factor, strings(rows, |r| r.levels[i]), true);
        }
        add("seed", strings(rows, |r| r.seed), true);
        add("stage", strings(rows, |r| Some(r.stage)), false);
        add("stage_key", strings(rows, |r| Some(r.stage_key)), false);
        add("split", strings(rows, |r| r.split), true);
        let epochs: Vec<Option<u32>> = self.rows.iter().map(|r| r.epoch).collect();
        add("epoch", Arc::new(UInt32Array::from(epochs)), true);
        add("class", strings(rows, |r| r.class), true);
        add("metric", strings(rows, |r| Some(r.metric)), false);
        let values: Vec<f64> = self.rows.iter().map(|r| r.value).collect();
        add("value", Arc::new(Float64Array::from(values)), false);
        debug_assert_eq!(fields.iter().map(|f| f.name().clone()).collect::<Vec<_>>(), header);
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        let mut writer = ArrowWriter::try_new(file, schema, None)?;
        writer.write(&batch)?;
        writer.close()?;
        Ok(())
    }
}

/// A string column of `rows`.
fn strings<'r>(rows: &'r [TidyRow], of: impl Fn(&'r TidyRow) -> Option<&'r str>) -> Arc<dyn Array> {
    Arc::new(StringArray::from(rows.iter().map(of).collect::<Vec<_>>()))
}
