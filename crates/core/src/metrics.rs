//! Metrics in long format, one Parquet file per stage result.
//!
//! Columns: `pipeline`, `stage`, `stage_key`, `split`, `epoch`, `class`, `metric`, `value`,
//! `timestamp` (UTC, microseconds). One row per number: pandas, polars and DuckDB read the files
//! as they are, and results of many runs concatenate without schema juggling.
use std::fs::File;
use std::path::Path;

use anyhow::Context;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::columns::{self, Column};

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

pub fn write_parquet(path: &Path, source: &MetricSource, rows: &[MetricRow]) -> anyhow::Result<()> {
    let n = rows.len();
    let repeat = |name, value| Column::text(name, vec![Some(value); n], false);
    let columns = [
        repeat("pipeline", source.pipeline),
        repeat("stage", source.stage),
        repeat("stage_key", source.stage_key),
        Column::text("split", rows.iter().map(|r| r.split.as_deref()).collect(), true),
        Column::u32("epoch", rows.iter().map(|r| r.epoch).collect(), true),
        Column::text("class", rows.iter().map(|r| r.class.as_deref()).collect(), true),
        Column::text("metric", rows.iter().map(|r| Some(r.metric.as_str())).collect(), false),
        Column::f64("value", rows.iter().map(|r| r.value).collect()),
        Column::timestamp("timestamp", vec![source.timestamp_micros; n]),
    ];
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    columns::write(file, &columns).with_context(|| format!("cannot write {}", path.display()))
}

pub fn read_parquet(path: &Path) -> anyhow::Result<Vec<StoredMetric>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = SerializedFileReader::new(file)
        .with_context(|| format!("{} is not a Parquet file", path.display()))?;
    let mut out = Vec::new();
    for row in reader.get_row_iter(None)? {
        let row = row.with_context(|| format!("{}: unreadable row", path.display()))?;
        let mut metric = StoredMetric {
            pipeline: String::new(),
            stage: String::new(),
            stage_key: String::new(),
            row: MetricRow::new("", 0.0),
            timestamp_micros: 0,
        };
        let mut seen = 0;
        for (name, field) in row.get_column_iter() {
            let text = || match field {
                Field::Str(s) => Ok(Some(s.clone())),
                Field::Null => Ok(None),
                other => anyhow::bail!("column `{name}` is not text: {other}"),
            };
            let required = || text()?.with_context(|| format!("column `{name}` has a null"));
            match (name.as_str(), field) {
                ("pipeline", _) => metric.pipeline = required()?,
                ("stage", _) => metric.stage = required()?,
                ("stage_key", _) => metric.stage_key = required()?,
                ("split", _) => metric.row.split = text()?,
                ("class", _) => metric.row.class = text()?,
                ("metric", _) => metric.row.metric = required()?,
                ("epoch", Field::UInt(e)) => metric.row.epoch = Some(*e),
                ("epoch", Field::Null) => metric.row.epoch = None,
                ("value", Field::Double(v)) => metric.row.value = *v,
                ("timestamp", Field::TimestampMicros(t)) => metric.timestamp_micros = *t,
                ("epoch" | "value" | "timestamp", other) => {
                    anyhow::bail!("{}: column `{name}` holds {other}", path.display())
                }
                _ => continue,
            }
            seen += 1;
        }
        if seen != 9 {
            anyhow::bail!("{}: a metrics file has 9 columns, this row {seen}", path.display());
        }
        out.push(metric);
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
