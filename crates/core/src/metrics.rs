//! Metrics in long format, one Parquet file per stage result.
//!
//! Columns: `pipeline`, `stage`, `stage_key`, `split`, `epoch`, `class`, `metric`, `value`,
//! `timestamp` (UTC, microseconds). One row per number: pandas, polars and DuckDB read the files
//! as they are, and results of many runs concatenate without schema juggling.
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use arrow_array::{
    Array, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// One number a stage measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetricRow {
    pub split: Option<String>,
    pub epoch: Option<u32>,
    pub class: Option<String>,
    pub metric: String,
    pub value: f64,
}

impl MetricRow {
    pub fn new(metric: &str, value: f64) -> Self {
        MetricRow { split: None, epoch: None, class: None, metric: metric.into(), value }
    }

    pub fn split(mut self, split: &str) -> Self {
        self.split = Some(split.into());
        self
    }

    pub fn epoch(mut self, epoch: u32) -> Self {
        self.epoch = Some(epoch);
        self
    }

    pub fn class(mut self, class: &str) -> Self {
        self.class = Some(class.into());
        self
    }
}

/// Identifies the stage result the rows belong to.
pub struct MetricSource<'a> {
    pub pipeline: &'a str,
    pub stage: &'a str,
    pub stage_key: &'a str,
    pub timestamp_micros: i64,
}

/// A row as read back, with its source columns.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMetric {
    pub pipeline: String,
    pub stage: String,
    pub stage_key: String,
    pub row: MetricRow,
    pub timestamp_micros: i64,
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("pipeline", DataType::Utf8, false),
        Field::new("stage", DataType::Utf8, false),
        Field::new("stage_key", DataType::Utf8, false),
        Field::new("split", DataType::Utf8, true),
        Field::new("epoch", DataType::UInt32, true),
        Field::new("class", DataType::Utf8, true),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, false),
        Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

pub fn write_parquet(path: &Path, source: &MetricSource, rows: &[MetricRow]) -> anyhow::Result<()> {
    let n = rows.len();
    let repeat = |s: &str| Arc::new(StringArray::from(vec![s; n])) as Arc<dyn Array>;
    let columns: Vec<Arc<dyn Array>> = vec![
        repeat(source.pipeline),
        repeat(source.stage),
        repeat(source.stage_key),
        Arc::new(StringArray::from(rows.iter().map(|r| r.split.as_deref()).collect::<Vec<_>>())),
        Arc::new(UInt32Array::from(rows.iter().map(|r| r.epoch).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.class.as_deref()).collect::<Vec<_>>())),
        Arc::new(StringArray::from(rows.iter().map(|r| r.metric.as_str()).collect::<Vec<_>>())),
        Arc::new(Float64Array::from(rows.iter().map(|r| r.value).collect::<Vec<_>>())),
        Arc::new(
            TimestampMicrosecondArray::from(vec![source.timestamp_micros; n]).with_timezone("UTC"),
        ),
    ];
    let batch = RecordBatch::try_new(schema(), columns)?;
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = ArrowWriter::try_new(file, schema(), None)?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}

pub fn read_parquet(path: &Path) -> anyhow::Result<Vec<StoredMetric>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?
        .build()?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch?;
        let text = |name: &str| -> anyhow::Result<StringArray> {
            let column =
                batch.column_by_name(name).with_context(|| format!("no column `{name}`"))?;
            Ok(column
                .as_any()
                .downcast_ref::<StringArray>()
                .context("not a string column")?
                .clone())
        };
        let (pipeline, stage, key) = (text("pipeline")?, text("stage")?, text("stage_key")?);
        let (split, class, metric) = (text("split")?, text("class")?, text("metric")?);
        let epoch = batch.column_by_name("epoch").context("no column `epoch`")?;
        let epoch = epoch.as_any().downcast_ref::<UInt32Array>().context("epoch is not u32")?;
        let value = batch.column_by_name("value").context("no column `value`")?;
        let value = value.as_any().downcast_ref::<Float64Array>().context("value is not f64")?;
        let time = batch.column_by_name("timestamp").context("no column `timestamp`")?;
        let time =
            time.as_any().downcast_ref::<TimestampMicrosecondArray>().context("bad timestamp")?;
        let optional = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
        for i in 0..batch.num_rows() {
            out.push(StoredMetric {
                pipeline: pipeline.value(i).into(),
                stage: stage.value(i).into(),
                stage_key: key.value(i).into(),
                row: MetricRow {
                    split: optional(&split, i),
                    epoch: (!epoch.is_null(i)).then(|| epoch.value(i)),
                    class: optional(&class, i),
                    metric: metric.value(i).into(),
                    value: value.value(i),
                },
                timestamp_micros: time.value(i),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let rows = vec![
            MetricRow::new("loss", 0.5).split("train").epoch(1),
            MetricRow::new("f1", 0.75).split("val").class("D"),
        ];
        let source =
            MetricSource { pipeline: "v", stage: "train", stage_key: "k", timestamp_micros: 42 };
        write_parquet(&path, &source, &rows).unwrap();
        let back = read_parquet(&path).unwrap();
        assert_eq!(back.iter().map(|m| m.row.clone()).collect::<Vec<_>>(), rows);
        assert_eq!(back[1].pipeline, "v");
        assert_eq!(back[0].timestamp_micros, 42);
    }
}
