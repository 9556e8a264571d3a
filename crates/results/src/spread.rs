//! `ablate metrics --bootstrap-summary`: the bootstrap replicates of a comparison's re-scored
//! cells, summarised per variant and column, as one tidy table for plots of one's own (a
//! variant's distribution as a box or violin from the quantiles, Δ's beside it).
//!
//! Columns: `pipeline, variant, <one per factor>, stage, split, class, metric, of` (`mean`: the
//! variant's mean over seeds; `delta`: minus the baseline's), then `replicates` (where the metric
//! was defined), `undefined` (replicates left out), `mean` and `sd` of the replicates (sd: the
//! bootstrap standard error) and their quantiles `q0.025` … `q0.975`. Only cells the bootstrap
//! re-scored appear; Parquet (strings, counts uint32, statistics float64) or CSV, as `metrics`.
use std::fs::File;

use ablate_core::columns::{self, Column};

use super::compare::Comparison;
use super::significance::{QUANTILES, Spread};
use super::tidy::Tidy;

/// One statistic of one cell.
struct SpreadRow<'a> {
    pipeline: &'a str,
    variant: String,
    levels: Vec<Option<&'a str>>,
    stage: &'a str,
    split: Option<&'a str>,
    class: Option<&'a str>,
    metric: &'a str,
    of: &'static str,
    spread: &'a Spread,
}

/// The replicates' summaries of a comparison.
pub struct SpreadTable<'a> {
    factors: &'a [String],
    rows: Vec<SpreadRow<'a>>,
}

impl<'a> SpreadTable<'a> {
    pub fn new(comparison: &'a Comparison) -> SpreadTable<'a> {
        let mut rows = Vec::new();
        for row in &comparison.rows {
            for (column, cell) in comparison.columns.iter().zip(&row.cells) {
                let Some(cell) = cell else { continue };
                let spreads = [("mean", &cell.replicates), ("delta", &cell.delta_replicates)];
                for (of, spread) in spreads {
                    let Some(spread) = spread else { continue };
                    rows.push(SpreadRow {
                        pipeline: &row.pipeline,
                        variant: row.name(),
                        levels: comparison.factors.iter().map(|f| row.level(f)).collect(),
                        stage: &column.template,
                        split: column.split.as_deref(),
                        class: column.class.as_deref(),
                        metric: &column.metric,
                        of,
                        spread,
                    });
                }
            }
        }
        SpreadTable { factors: &comparison.factors, rows }
    }

    fn header(&self) -> Vec<String> {
        let mut header = vec!["pipeline".to_string(), "variant".to_string()];
        header.extend(self.factors.iter().cloned());
        header.extend(
            ["stage", "split", "class", "metric", "of", "replicates", "undefined", "mean", "sd"]
                .map(String::from),
        );
        header.extend(QUANTILES.iter().map(|q| format!("q{q}")));
        header
    }
}

impl<'a> Tidy for SpreadTable<'a> {
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
                row.stage.to_string(),
                text(row.split),
                text(row.class),
                row.metric.to_string(),
                row.of.to_string(),
                row.spread.replicates.to_string(),
                row.spread.undefined.to_string(),
                row.spread.mean.to_string(),
                row.spread.sd.to_string(),
            ]);
            record.extend(row.spread.quantiles.iter().map(f64::to_string));
            writer.write_record(record)?;
        }
        writer.flush()?;
        Ok(())
    }

    fn write_parquet(&self, file: File) -> anyhow::Result<()> {
        let rows = self.rows.as_slice();
        let header = self.header();
        let text = |name: &'a str, of: &dyn Fn(&SpreadRow<'a>) -> Option<&'a str>, nullable| {
            Column::text(name, rows.iter().map(of).collect(), nullable)
        };
        let count = |name: &'a str, of: fn(&Spread) -> usize| {
            Column::u32(
                name,
                rows.iter().map(|r| u32::try_from(of(r.spread)).ok()).collect(),
                false,
            )
        };
        let mut columns = vec![
            text("pipeline", &|r| Some(r.pipeline), false),
            Column::text("variant", rows.iter().map(|r| Some(r.variant.as_str())).collect(), false),
        ];
        for (i, factor) in self.factors.iter().enumerate() {
            columns.push(text(factor, &|r| r.levels[i], true));
        }
        columns.extend([
            text("stage", &|r| Some(r.stage), false),
            text("split", &|r| r.split, true),
            text("class", &|r| r.class, true),
            text("metric", &|r| Some(r.metric), false),
            text("of", &|r| Some(r.of), false),
            count("replicates", |s| s.replicates),
            count("undefined", |s| s.undefined),
            Column::f64("mean", rows.iter().map(|r| r.spread.mean).collect()),
            Column::f64("sd", rows.iter().map(|r| r.spread.sd).collect()),
        ]);
        for (q, name) in header[header.len() - QUANTILES.len()..].iter().enumerate() {
            columns.push(Column::f64(name, rows.iter().map(|r| r.spread.quantiles[q]).collect()));
        }
        debug_assert_eq!(columns.iter().map(|c| c.name).collect::<Vec<_>>(), header);
        columns::write(file, &columns)
    }
}
