//! The dataset artifact that `load` and `synthetic` produce and training stages consume.
//!
//! One `dataset.safetensors` file: per split, `images.<split>` (uint8, N×3×H×W, RGB, decoded and
//! resized once) and `labels.<split>` (uint8 0/1, N×labels); metadata holds the label names, the
//! split order and each split's image ids. uint8 keeps it 4× smaller than floats; conversion and
//! normalisation happen on the training device. safetensors is read without torch.
use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use safetensors::tensor::{Dtype, SafeTensors, TensorView, serialize_to_file};

pub const FILE_NAME: &str = "dataset.safetensors";
const FORMAT: &str = "ablate-dataset-1";

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
        let mut metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("label_names".to_string(), serde_json::to_string(&self.label_names)?),
            ("size".to_string(), self.size.to_string()),
            ("splits".to_string(), serde_json::to_string(&self.splits.iter().map(|s| &s.name).collect::<Vec<_>>())?),
        ]);
        let mut tensors = Vec::new();
        for split in &self.splits {
            metadata.insert(format!("ids.{}", split.name), serde_json::to_string(&split.ids)?);
            let n = split.len();
            let image_shape = vec![n, 3, self.size, self.size];
            tensors.push((format!("images.{}", split.name), TensorView::new(Dtype::U8, image_shape, &split.images)?));
            let label_shape = vec![n, self.label_names.len()];
            tensors.push((format!("labels.{}", split.name), TensorView::new(Dtype::U8, label_shape, &split.labels)?));
        }
        let path = dir.join(FILE_NAME);
        serialize_to_file(tensors, Some(metadata), &path).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn read(dir: &Path) -> anyhow::Result<Dataset> {
        let path = dir.join(FILE_NAME);
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let context = || format!("{} is not an ablate dataset", path.display());
        let (_, header) = SafeTensors::read_metadata(&bytes).with_context(context)?;
        let metadata = header.metadata().clone().with_context(context)?;
        if metadata.get("format").map(String::as_str) != Some(FORMAT) {
            bail!("{}: unknown dataset format", path.display());
        }
        let field = |name: &str| metadata.get(name).with_context(|| format!("{}: no `{name}` metadata", path.display()));
        let label_names: Vec<String> = serde_json::from_str(field("label_names")?)?;
        let size: usize = field("size")?.parse()?;
        let split_names: Vec<String> = serde_json::from_str(field("splits")?)?;
        let tensors = SafeTensors::deserialize(&bytes).with_context(context)?;
        let mut splits = Vec::new();
        for name in split_names {
            let ids: Vec<String> = serde_json::from_str(field(&format!("ids.{name}"))?)?;
            let images = tensors.tensor(&format!("images.{name}")).with_context(context)?;
            let labels = tensors.tensor(&format!("labels.{name}")).with_context(context)?;
            if images.shape() != [ids.len(), 3, size, size] || labels.shape() != [ids.len(), label_names.len()] {
                bail!("{}: split `{name}` has inconsistent shapes", path.display());
            }
            splits.push(Split { name, ids, images: images.data().to_vec(), labels: labels.data().to_vec() });
        }
        Ok(Dataset { label_names, size, splits })
    }
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
        assert!(dataset.split("val").unwrap_err().to_string().contains("no split `val`"));
    }
}
