//! The dataset artifact that `load` and `synthetic` produce and training stages consume.
//!
//! `dataset.safetensors` holds, per split, `images.<split>` (uint8, N×3×H×W, RGB, decoded and
//! resized once) and `labels.<split>` (uint8 0/1, N×labels); `dataset.json` holds the label
//! names, the image size, the split order and each split's image ids. uint8 keeps it 4× smaller
//! than floats; conversion and normalisation happen on the training device. Both files are
//! byte-for-byte deterministic, so re-creating an identical dataset keeps downstream keys.
use std::path::Path;

use anyhow::{Context, bail};
use safetensors::tensor::{Dtype, SafeTensors, TensorView, serialize_to_file};
use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "dataset.safetensors";
pub const INDEX_NAME: &str = "dataset.json";
const FORMAT: &str = "ablate-dataset-1";

/// Everything but the pixels and labels.
#[derive(Serialize, Deserialize)]
struct Index {
    format: String,
    label_names: Vec<String>,
    size: usize,
    /// Split names in order, each with its ids in row order.
    splits: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub name: String,
    pub ids: Vec<String>,
    /// N×3×size×size, RGB.
    pub images: Vec<u8>,
    /// N×labels, 0 or 1.
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Positives per label, for a split with `n_labels` labels.
    pub fn positives(&self, n_labels: usize) -> Vec<usize> {
        positives(&self.labels, n_labels)
    }
}

/// Positives per label in row-major N×`n_labels` 0/1 targets.
pub fn positives(targets: &[u8], n_labels: usize) -> Vec<usize> {
    (0..n_labels)
        .map(|c| targets.iter().skip(c).step_by(n_labels).filter(|&&y| y == 1).count())
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub label_names: Vec<String>,
    pub size: usize,
    pub splits: Vec<Split>,
}

impl Dataset {
    pub fn split(&self, name: &str) -> anyhow::Result<&Split> {
        self.splits.iter().find(|s| s.name == name).with_context(|| {
            let names: Vec<&str> = self.splits.iter().map(|s| s.name.as_str()).collect();
            format!("dataset has no split `{name}` (it has: {})", names.join(", "))
        })
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        let index = Index {
            format: FORMAT.into(),
            label_names: self.label_names.clone(),
            size: self.size,
            splits: self.splits.iter().map(|s| (s.name.clone(), s.ids.clone())).collect(),
        };
        std::fs::write(dir.join(INDEX_NAME), serde_json::to_vec(&index)?)?;
        let mut tensors = Vec::new();
        for split in &self.splits {
            let n = split.len();
            let image_shape = vec![n, 3, self.size, self.size];
            tensors.push((
                format!("images.{}", split.name),
                TensorView::new(Dtype::U8, image_shape, &split.images)?,
            ));
            let label_shape = vec![n, self.label_names.len()];
            tensors.push((
                format!("labels.{}", split.name),
                TensorView::new(Dtype::U8, label_shape, &split.labels)?,
            ));
        }
        let path = dir.join(FILE_NAME);
        serialize_to_file(tensors, None, &path)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn read(dir: &Path) -> anyhow::Result<Dataset> {
        let index_path = dir.join(INDEX_NAME);
        let index: Index = serde_json::from_slice(
            &std::fs::read(&index_path)
                .with_context(|| format!("cannot read {}", index_path.display()))?,
        )
        .with_context(|| format!("{} is not an ablate dataset index", index_path.display()))?;
        if index.format != FORMAT {
            bail!("{}: unknown dataset format `{}`", index_path.display(), index.format);
        }
        let path = dir.join(FILE_NAME);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let tensors = SafeTensors::deserialize(&bytes)
            .with_context(|| format!("{} is not a safetensors file", path.display()))?;
        let mut splits = Vec::new();
        for (name, ids) in index.splits {
            let images = tensors
                .tensor(&format!("images.{name}"))
                .with_context(|| format!("{}: no images of `{name}`", path.display()))?;
            let labels = tensors
                .tensor(&format!("labels.{name}"))
                .with_context(|| format!("{}: no labels of `{name}`", path.display()))?;
            if images.shape() != [ids.len(), 3, index.size, index.size]
                || labels.shape() != [ids.len(), index.label_names.len()]
            {
                bail!("{}: split `{name}` has inconsistent shapes", path.display());
            }
            splits.push(Split {
                name,
                ids,
                images: images.data().to_vec(),
                labels: labels.data().to_vec(),
            });
        }
        Ok(Dataset { label_names: index.label_names, size: index.size, splits })
    }
}

/// The ids and 0/1 labels of one split, with the dataset's label names.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitLabels {
    pub label_names: Vec<String>,
    pub ids: Vec<String>,
    /// N×labels, 0 or 1.
    pub labels: Vec<u8>,
}

/// Where a tensor lies in a safetensors file, as its header says.
#[derive(Deserialize)]
struct TensorEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (u64, u64),
}

/// The labels of `split` of the dataset in `dir`, read without its images: the safetensors
/// header (an 8-byte little-endian length, then JSON) says where the labels lie.
pub fn read_split_labels(dir: &Path, split: &str) -> anyhow::Result<SplitLabels> {
    use std::io::{Read, Seek, SeekFrom};
    let index_path = dir.join(INDEX_NAME);
    let index: Index = serde_json::from_slice(
        &std::fs::read(&index_path)
            .with_context(|| format!("cannot read {}", index_path.display()))?,
    )
    .with_context(|| format!("{} is not an ablate dataset index", index_path.display()))?;
    let Some((_, ids)) = index.splits.into_iter().find(|(name, _)| name == split) else {
        bail!("{}: no split `{split}`", index_path.display());
    };
    let path = dir.join(FILE_NAME);
    let mut file =
        std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut length = [0u8; 8];
    file.read_exact(&mut length)?;
    let length = u64::from_le_bytes(length);
    let mut header = vec![0u8; usize::try_from(length)?];
    file.read_exact(&mut header)?;
    let mut header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let entry = header
        .remove(&format!("labels.{split}"))
        .with_context(|| format!("{}: no labels of `{split}`", path.display()))?;
    let entry: TensorEntry = serde_json::from_value(entry)?;
    if entry.dtype != "U8" || entry.shape != [ids.len(), index.label_names.len()] {
        bail!("{}: the labels of `{split}` have an inconsistent shape", path.display());
    }
    let (start, end) = entry.data_offsets;
    let mut labels = vec![0u8; usize::try_from(end.saturating_sub(start))?];
    file.seek(SeekFrom::Start(8 + length + start))?;
    file.read_exact(&mut labels)?;
    Ok(SplitLabels { label_names: index.label_names, ids, labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let dataset = Dataset {
            label_names: vec!["D".into(), "G".into()],
            size: 2,
            splits: vec![Split {
                name: "train".into(),
                ids: vec!["a.jpg".into()],
                images: (0..12).collect(),
                labels: vec![1, 0],
            }],
        };
        dataset.write(dir.path()).unwrap();
        assert_eq!(Dataset::read(dir.path()).unwrap(), dataset);
        let labels = read_split_labels(dir.path(), "train").unwrap();
        assert_eq!((labels.ids, labels.labels), (vec!["a.jpg".to_string()], vec![1, 0]));
        assert!(read_split_labels(dir.path(), "val").is_err());
        assert_eq!(dataset.splits[0].positives(2), vec![1, 0]);
        assert!(dataset.split("val").unwrap_err().to_string().contains("no split `val`"));
    }
}
