//! A validated pipeline: its stage instances with their inputs and parameters, and its grid's
//! variants. `spec` builds it from YAML; the DAG, keys, plans and runs read it.
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::diagnostic::Location;
use super::grid::{self, Variant};
use super::params::Params;

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub path: PathBuf,
    /// Stages in file order (a stage of a grid once per distinct instance).
    pub stages: Vec<StageSpec>,
    /// The variants of the pipeline's `grid`; empty without one.
    pub variants: Vec<VariantSpec>,
    /// The grid's factors, levels and baseline; `None` without a grid.
    pub layout: Option<grid::Layout>,
}

/// One variant of a grid and the stage instances it consists of.
#[derive(Debug, Clone)]
pub struct VariantSpec {
    pub variant: Variant,
    /// Stage name in the file → the instance this variant uses.
    pub stages: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct StageSpec {
    pub name: String,
    pub kind: String,
    /// Input role → upstream stage name.
    pub inputs: BTreeMap<String, String>,
    pub params: Params,
    pub location: Location,
}

impl Pipeline {
    pub fn stage(&self, name: &str) -> Option<&StageSpec> {
        self.stages.iter().find(|s| s.name == name)
    }
}
