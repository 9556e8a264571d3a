//! Weights by name, between safetensors files and a model's variables.
//!
//! Loading compares the file's tensors with the model's variables and sorts every name into a
//! [`LoadReport`]: loaded, adapted (a shape the architecture converts, e.g. ViT position
//! embeddings for another image size), missing from the file, unexpected in the file, or of the
//! wrong shape. Strict loading fails on anything but loaded and adapted, naming the tensors and
//! the file. Files are written with PyTorch state-dict names and an optional string metadata
//! map, so `safetensors.torch.load_file` + `load_state_dict` read them back.
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use anyhow::Context;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tch::{Kind, Tensor};

/// Reads every tensor of a safetensors file (on the CPU, in its stored dtype).
pub fn read(path: &Path) -> anyhow::Result<Vec<(String, Tensor)>> {
    Ok(read_with_metadata(path)?.0)
}

/// Named tensors, as a state dict lists them.
pub type NamedTensors = Vec<(String, Tensor)>;

/// Converts a tensor of another shape (name, tensor, wanted shape) when it can.
pub type Adapt<'a> = &'a dyn Fn(&str, &Tensor, &[i64]) -> Option<Tensor>;

/// Every tensor of a safetensors file, sorted by name, and its string metadata.
pub fn read_with_metadata(path: &Path) -> anyhow::Result<(NamedTensors, HashMap<String, String>)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read weights {}", path.display()))?;
    let not_safetensors = || format!("{} is not a safetensors file", path.display());
    let (_, metadata) = SafeTensors::read_metadata(&bytes).with_context(not_safetensors)?;
    let file = SafeTensors::deserialize(&bytes).with_context(not_safetensors)?;
    let mut tensors = Vec::with_capacity(file.len());
    for (name, view) in file.tensors() {
        let tensor =
            to_tensor(&view).with_context(|| format!("tensor `{name}` in {}", path.display()))?;
        tensors.push((name, tensor));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((tensors, metadata.metadata().clone().unwrap_or_default()))
}

/// The dtypes both sides know, paired.
const DTYPES: [(Dtype, Kind); 8] = [
    (Dtype::F32, Kind::Float),
    (Dtype::F16, Kind::Half),
    (Dtype::BF16, Kind::BFloat16),
    (Dtype::F64, Kind::Double),
    (Dtype::I64, Kind::Int64),
    (Dtype::I32, Kind::Int),
    (Dtype::U8, Kind::Uint8),
    (Dtype::BOOL, Kind::Bool),
];

fn to_tensor(view: &TensorView) -> anyhow::Result<Tensor> {
    let Some(&(_, kind)) = DTYPES.iter().find(|(d, _)| *d == view.dtype()) else {
        anyhow::bail!("unsupported dtype {:?}", view.dtype());
    };
    let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
    Ok(Tensor::f_from_data_size(view.data(), &shape, kind)?)
}

/// Writes `tensors` (any device) with one metadata entry (key, text), atomically. One: the
/// safetensors header lists metadata in hash order, and outputs must be byte-identical when
/// their content is.
pub fn write(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: Option<(&str, String)>,
) -> anyhow::Result<()> {
    let cpu: Vec<(String, Tensor, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            let t = t.detach().to_device(tch::Device::Cpu).contiguous();
            let numel = t.numel();
            let mut bytes = vec![0u8; numel * t.kind().elt_size_in_bytes()];
            t.f_copy_data_u8(&mut bytes, numel)?;
            Ok((name.clone(), t, bytes))
        })
        .collect::<anyhow::Result<_>>()?;
    let views = cpu
        .iter()
        .map(|(name, t, bytes)| {
            let Some(&(dtype, _)) = DTYPES.iter().find(|(_, k)| *k == t.kind()) else {
                anyhow::bail!("cannot store tensor `{name}` of kind {:?}", t.kind());
            };
            let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
            Ok((name.as_str(), TensorView::new(dtype, shape, bytes)?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let metadata = metadata.map(|(key, text)| HashMap::from([(key.to_string(), text)]));
    let bytes = safetensors::tensor::serialize(views, metadata)?;
    ablate_core::store::write_atomically(path, &bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// How each tensor of a load went.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub source: String,
    pub loaded: usize,
    /// (name, file shape, model shape) converted by the architecture.
    pub adapted: Vec<(String, Vec<i64>, Vec<i64>)>,
    /// In the model (within the loaded scope), not in the file.
    pub missing: Vec<String>,
    /// In the file, not in the model.
    pub unexpected: Vec<String>,
    /// (name, file shape, model shape).
    pub mismatched: Vec<(String, Vec<i64>, Vec<i64>)>,
}

impl LoadReport {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatched.is_empty()
    }

    /// An error naming every problem when the load was not clean.
    pub fn check_strict(&self) -> anyhow::Result<()> {
        if self.is_clean() { Ok(()) } else { anyhow::bail!("weights do not fit the model: {self}") }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} tensors loaded", self.source, self.loaded)?;
        for (name, from, to) in &self.adapted {
            write!(f, "; `{name}` adapted {from:?} → {to:?}")?;
        }
        let list = |names: &[String]| {
            let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
            let more = if names.len() > 8 {
                format!(" and {} more", names.len() - 8)
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        if !self.missing.is_empty() {
            write!(f, "; {} missing from the file: {}", self.missing.len(), list(&self.missing))?;
        }
        if !self.unexpected.is_empty() {
            write!(
                f,
                "; {} unexpected (not in the model): {}",
                self.unexpected.len(),
                list(&self.unexpected)
            )?;
        }
        for (name, file, model) in self.mismatched.iter().take(8) {
            write!(f, "; `{name}` has shape {file:?} in the file but {model:?} in the model")?;
        }
        if self.mismatched.len() > 8 {
            write!(f, "; {} more of the wrong shape", self.mismatched.len() - 8)?;
        }
        Ok(())
    }
}

/// Copies `tensors` into the variables of `vs` with the same names. Only variables whose name
/// starts with one of `scope` count as missing when absent. `adapt` converts a tensor of another
/// shape when it can.
pub fn load_into(
    vs: &tch::nn::VarStore,
    tensors: Vec<(String, Tensor)>,
    scope: &[&str],
    source: &str,
    adapt: Adapt<'_>,
) -> anyhow::Result<LoadReport> {
    let variables: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let mut report = LoadReport { source: source.to_string(), ..Default::default() };
    let mut seen = std::collections::BTreeSet::new();
    tch::no_grad(|| -> anyhow::Result<()> {
        for (name, tensor) in tensors {
            let Some(variable) = variables.get(&name) else {
                report.unexpected.push(name);
                continue;
            };
            seen.insert(name.clone());
            let (from, to) = (tensor.size(), variable.size());
            let value = if from == to {
                tensor
            } else if tensor.numel() == 1 && to.iter().product::<i64>() == 1 {
                // A scalar stored as [1] (legacy PyTorch `num_batches_tracked`) or as [].
                tensor.reshape(to.as_slice())
            } else if let Some(adapted) = adapt(&name, &tensor, &to).filter(|t| t.size() == to) {
                report.adapted.push((name.clone(), from, to));
                adapted
            } else {
                report.mismatched.push((name, from, to));
                continue;
            };
            variable
                .shallow_clone()
                .f_copy_(&value.to_kind(variable.kind()).to_device(variable.device()))?;
            report.loaded += 1;
        }
        Ok(())
    })?;
    report.missing = variables
        .keys()
        .filter(|n| !seen.contains(*n) && scope.iter().any(|s| n.starts_with(s)))
        .cloned()
        .collect();
    Ok(report)
}

/// The model's variables, named, for saving.
pub fn named_variables(vs: &tch::nn::VarStore) -> Vec<(String, Tensor)> {
    let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    variables
}
