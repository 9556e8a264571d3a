//! `predictions.csv`: a model's probabilities on a split, one row per image (`id`, then
//! `p_<label>` per label), as `evaluate` writes it and as a user's own stage writes it for
//! `score` (`ablate_io.py`'s `write_predictions`). [`Predictions::read`] refuses what cannot be
//! scored, naming the file and line: a probability outside [0, 1] or not a number, an id twice,
//! a row of the wrong width; [`Predictions::truth`] refuses ids the split lacks and names the
//! split's images the file lacks.
use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};

use crate::data::dataset::SplitLabels;

/// The file's name in a stage's output.
pub const FILE: &str = "predictions.csv";

#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    pub labels: Vec<String>,
    pub ids: Vec<String>,
    /// Row-major, one row per id and one column per label.
    pub probabilities: Vec<f32>,
}

impl Predictions {
    /// Writes `predictions.csv` into `dir`, probabilities with six decimals.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let mut csv = csv::Writer::from_path(dir.join(FILE))?;
        let header = self.labels.iter().map(|l| format!("p_{l}"));
        csv.write_record(std::iter::once("id".to_string()).chain(header))?;
        for (id, row) in self.ids.iter().zip(self.probabilities.chunks(self.labels.len())) {
            csv.write_record(
                std::iter::once(id.clone()).chain(row.iter().map(|p| format!("{p:.6}"))),
            )?;
        }
        Ok(csv.flush()?)
    }

    /// Reads `predictions.csv` from `dir`.
    pub fn read(dir: &Path) -> anyhow::Result<Predictions> {
        let path = dir.join(FILE);
        let mut reader = csv::Reader::from_path(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let header = reader.headers().with_context(|| format!("{}: no header", path.display()))?;
        if header.get(0) != Some("id") {
            bail!(
                "{}:1: the first column must be `id` (then `p_<label>` per label)",
                path.display()
            );
        }
        let labels = header
            .iter()
            .skip(1)
            .map(|column| match column.strip_prefix("p_") {
                Some(label) if !label.is_empty() => Ok(label.to_string()),
                _ => bail!("{}:1: column `{column}` is not `p_<label>`", path.display()),
            })
            .collect::<anyhow::Result<Vec<String>>>()?;
        if labels.is_empty() {
            bail!("{}:1: no `p_<label>` column", path.display());
        }
        let mut predictions = Predictions { labels, ids: Vec::new(), probabilities: Vec::new() };
        let mut seen: HashMap<String, u64> = HashMap::new();
        for record in reader.records() {
            let record = record.with_context(|| format!("cannot read {}", path.display()))?;
            let line = record.position().map_or(0, |p| p.line());
            let at = || format!("{}:{line}", path.display());
            if record.len() != predictions.labels.len() + 1 {
                bail!(
                    "{}: {} fields, the header has {}",
                    at(),
                    record.len(),
                    predictions.labels.len() + 1
                );
            }
            let id = record[0].to_string();
            if let Some(first) = seen.insert(id.clone(), line) {
                bail!("{}: image {id} again (first on line {first})", at());
            }
            for (label, field) in predictions.labels.iter().zip(record.iter().skip(1)) {
                let p: f32 = field
                    .trim()
                    .parse()
                    .ok()
                    .filter(|p: &f32| (0.0..=1.0).contains(p))
                    .with_context(|| {
                        format!(
                            "{}: p_{label} of image {id} is `{field}`, not a probability in [0, 1]",
                            at()
                        )
                    })?;
                predictions.probabilities.push(p);
            }
            predictions.ids.push(id);
        }
        Ok(predictions)
    }

    /// The split's 0/1 labels in the order of these predictions' rows and label columns, or
    /// why they cannot be matched: a label the split lacks, an image it lacks, or (named, up
    /// to five) images of the split without a prediction.
    pub fn truth(&self, split: &SplitLabels, split_name: &str) -> anyhow::Result<Vec<u8>> {
        let columns: Vec<usize> = self
            .labels
            .iter()
            .map(|label| {
                split.label_names.iter().position(|l| l == label).with_context(|| {
                    format!(
                        "label {label} is not one of the dataset's ({})",
                        split.label_names.join(", ")
                    )
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let rows: HashMap<&str, usize> =
            split.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let n = split.label_names.len();
        let mut truth = Vec::with_capacity(self.probabilities.len());
        for id in &self.ids {
            let row = *rows.get(id.as_str()).with_context(|| {
                format!("image {id} is not in split `{split_name}` ({} images)", split.ids.len())
            })?;
            truth.extend(columns.iter().map(|&c| split.labels[row * n + c]));
        }
        if self.ids.len() < split.ids.len() {
            let predicted: std::collections::HashSet<&str> =
                self.ids.iter().map(String::as_str).collect();
            let missing: Vec<&str> =
                split.ids.iter().map(String::as_str).filter(|id| !predicted.contains(id)).collect();
            bail!(
                "{} of the {} images of split `{split_name}` have no prediction: {}{}",
                missing.len(),
                split.ids.len(),
                missing[..missing.len().min(5)].join(", "),
                if missing.len() > 5 { ", …" } else { "" }
            );
        }
        Ok(truth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split() -> SplitLabels {
        SplitLabels {
            label_names: vec!["D".into(), "G".into()],
            ids: vec!["a".into(), "b".into()],
            labels: vec![1, 0, 0, 1],
        }
    }

    fn read(text: &str) -> anyhow::Result<Predictions> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        Predictions::read(dir.path())
    }

    #[test]
    fn round_trips_and_aligns_to_the_split() {
        let dir = tempfile::tempdir().unwrap();
        let written = Predictions {
            labels: vec!["G".into(), "D".into()],
            ids: vec!["b".into(), "a".into()],
            probabilities: vec![0.75, 0.25, 0.5, 1.0],
        };
        written.write(dir.path()).unwrap();
        let read = Predictions::read(dir.path()).unwrap();
        assert_eq!(read, written);
        assert_eq!(read.truth(&split(), "test").unwrap(), vec![1, 0, 0, 1]);
    }

    #[test]
    fn what_cannot_be_scored_is_refused_with_its_line() {
        let error = |text: &str| format!("{:#}", read(text).unwrap_err());
        assert!(
            error("id,p_D\na,0.5\nb,1.5\n").contains("predictions.csv:3: p_D of image b is `1.5`")
        );
        assert!(error("id,p_D\na,NaN\n").contains(":2: p_D of image a is `NaN`"));
        assert!(error("id,p_D\na,0.1\na,0.2\n").contains(":3: image a again (first on line 2)"));
        assert!(error("image,p_D\n").contains(":1: the first column must be `id`"));
        assert!(error("id,D\n").contains(":1: column `D` is not `p_<label>`"));
        let foreign = read("id,p_D\nz,0.1\n").unwrap().truth(&split(), "test").unwrap_err();
        assert!(foreign.to_string().contains("image z is not in split `test`"), "{foreign}");
        let missing = read("id,p_D\na,0.1\n").unwrap().truth(&split(), "test").unwrap_err();
        assert!(
            missing.to_string().contains("1 of the 2 images of split `test` have no prediction: b")
        );
        let label = read("id,p_X\na,0.1\n").unwrap().truth(&split(), "test").unwrap_err();
        assert!(label.to_string().contains("label X is not one of the dataset's (D, G)"));
    }
}
