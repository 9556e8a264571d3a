//! A command stage's metrics: `ABLATE_OUT/metrics.jsonl`, one JSON object per line,
//! `{"split": …, "metric": …, "value": …, "epoch": …, "class": …}` (all but `metric` and
//! `value` optional), become the stage's metrics in the long format of every stage. The file
//! leaves the output folder (metrics such as timings differ from run to run, and must not make
//! the output differ: early cutoff), and a line that is not such an object fails the stage.
use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

use ablate_core::metrics::MetricRow;

pub(super) const FILE: &str = "metrics.jsonl";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    split: Option<String>,
    metric: String,
    value: f64,
    epoch: Option<u32>,
    class: Option<String>,
}

/// The rows of `out/metrics.jsonl`, which is removed; none when there is no such file.
pub(super) fn take(out: &Path) -> anyhow::Result<Vec<MetricRow>> {
    let path = out.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(format!("cannot read {FILE}")),
    };
    let rows = parse(&text)?;
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(rows)
}

/// What a metric row measures: (split, epoch, class, metric).
type Identity = (Option<String>, Option<u32>, Option<String>, String);

fn parse(text: &str) -> anyhow::Result<Vec<MetricRow>> {
    let mut rows = Vec::new();
    // The line that gave each number: one each, or `compare` would have to pick one of two.
    let mut seen: HashMap<Identity, usize> = HashMap::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Line = serde_json::from_str(line).with_context(|| {
            format!(
                "{FILE} line {}: `{}` is not {{\"split\", \"metric\", \"value\", \"epoch\", \"class\"}} (metric and value required)",
                n + 1,
                line.chars().take(120).collect::<String>()
            )
        })?;
        if row.metric.is_empty() {
            bail!("{FILE} line {}: `metric` is empty", n + 1);
        }
        let identity = (row.split.clone(), row.epoch, row.class.clone(), row.metric.clone());
        if let Some(first) = seen.insert(identity, n + 1) {
            bail!(
                "{FILE} line {}: a second value of metric `{}`{}{}{} (line {first} gave one already)",
                n + 1,
                row.metric,
                row.split.as_deref().map(|s| format!(" on split `{s}`")).unwrap_or_default(),
                row.class.as_deref().map(|c| format!(" for class `{c}`")).unwrap_or_default(),
                row.epoch.map(|e| format!(" at epoch {e}")).unwrap_or_default(),
            );
        }
        rows.push(MetricRow {
            split: row.split,
            epoch: row.epoch,
            class: row.class,
            metric: row.metric,
            value: row.value,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_rows_and_a_bad_line_is_named() {
        let rows = parse(
            "{\"split\": \"val\", \"metric\": \"f1\", \"value\": 0.5, \"epoch\": 2, \"class\": \"D\"}\n\n{\"metric\": \"seconds\", \"value\": 3}\n",
        )
        .unwrap();
        assert_eq!(rows[0], MetricRow::new("f1", 0.5).split("val").epoch(2).class("D"));
        assert_eq!(rows[1], MetricRow::new("seconds", 3.0));
        for bad in [
            "{\"metric\": \"x\"}",
            "{\"metric\": \"x\", \"value\": 1, \"epoch\": -1}",
            "x",
            "{\"metric\": \"x\", \"value\": 1, \"seed\": 1}",
        ] {
            let error = format!(
                "{:#}",
                parse(&format!("{{\"metric\": \"a\", \"value\": 1}}\n{bad}\n")).unwrap_err()
            );
            assert!(error.starts_with("metrics.jsonl line 2:"), "{error}");
        }
    }

    #[test]
    fn a_second_value_of_the_same_number_is_refused_naming_both_lines() {
        let text = "{\"split\": \"offsite_test\", \"metric\": \"macro_f1\", \"value\": 0.2422}\n{\"split\": \"val\", \"metric\": \"macro_f1\", \"value\": 0.5}\n{\"split\": \"offsite_test\", \"metric\": \"macro_f1\", \"value\": 0.99}\n";
        let error = format!("{:#}", parse(text).unwrap_err());
        assert!(
            error.starts_with(
                "metrics.jsonl line 3: a second value of metric `macro_f1` on split `offsite_test`"
            ) && error.contains("line 1 gave one already"),
            "{error}"
        );
        // The same metric per epoch or per class is no duplicate.
        let per_epoch = "{\"metric\": \"loss\", \"value\": 1, \"epoch\": 1}\n{\"metric\": \"loss\", \"value\": 0.5, \"epoch\": 2}\n";
        assert_eq!(parse(per_epoch).unwrap().len(), 2);
    }
}
