//! A validated pipeline: its stage instances with their inputs and parameters, and its grid's
//! variants. `spec` builds it from YAML; the DAG, keys, plans and runs read it.
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

use super::diagnostic::Location;
use super::digest::FileDigests;
use super::grid::{self, Variant};
use super::params::Params;
use super::stage::Registry;

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub path: PathBuf,
    /// The blake3 digest of the file's text as read.
    pub text_digest: String,
    /// The `--set` overrides it was loaded with.
    pub overrides: Vec<String>,
    /// The seeds single variants of its grid run beyond the grid's (see `grid::ExtraSeeds`).
    pub extra_seeds: grid::ExtraSeeds,
    /// Stages in file order (a stage of a grid once per distinct instance).
    pub stages: Vec<StageSpec>,
    /// The variants of the pipeline's `grid`; empty without one.
    pub variants: Vec<VariantSpec>,
    /// The grid's factors, levels and baseline; `None` without a grid.
    pub layout: Option<grid::Layout>,
    /// The whole grid, when a run is limited to a slice of it (`grid.only`): recorded in the
    /// manifest, so that comparisons still see the results of the other variants.
    pub whole: Option<WholeGrid>,
    /// What is worth saying about the file but is no error (an override that changes nothing).
    pub warnings: Vec<String>,
    /// Stage name in the files → where it is defined, for a pipeline that `extends` another;
    /// empty otherwise.
    pub origins: BTreeMap<String, StageOrigin>,
    /// Instance name → its index in `stages`, built on first use (a grid of 10,000 stages is
    /// looked up by name at every step of planning and running).
    pub index: OnceLock<HashMap<String, usize>>,
}

/// The file that defines a stage of an extending pipeline, and the file that changed it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageOrigin {
    pub file: PathBuf,
    /// The extending file, when it changes the stage's definition.
    pub changed_by: Option<PathBuf>,
}

/// Every variant of a grid and every stage instance they use.
#[derive(Debug, Clone)]
pub struct WholeGrid {
    pub variants: Vec<VariantSpec>,
    pub stages: Vec<StageSpec>,
}

impl WholeGrid {
    /// Every instance's [`Pipeline::definition`].
    pub fn definitions(&self) -> BTreeMap<String, String> {
        definitions(&self.stages)
    }
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
    /// The content digest of every external file it reads (label → digest), once
    /// [`Pipeline::digest_inputs`] has read them; `None` before.
    pub files: Option<BTreeMap<String, String>>,
    /// The output digest of its key command, by the command's label (`key_commands`); empty
    /// without one, and before `KeyOutputs::apply`.
    pub commands: BTreeMap<String, String>,
}

impl Pipeline {
    pub fn stage(&self, name: &str) -> Option<&StageSpec> {
        let index = self.index.get_or_init(|| {
            self.stages.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect()
        });
        index.get(name).map(|&i| &self.stages[i])
    }

    /// What a stage instance is, whatever its upstream stages output: the blake3 digest of its
    /// kind, its keyed parameters, the content of the external files it reads (its data, a
    /// command's script; once [`Pipeline::digest_inputs`] has read them), the output of its key
    /// command (the environment `pip freeze` describes) and, by input role,
    /// the definitions of its upstream stages. Refs record it beside the key of each result, so
    /// that a result can be told to come from the configuration a manifest describes, or from
    /// an earlier one (a stale row: other parameters, or an edited script or dataset). Unlike
    /// the key, it is known before anything runs, also for stages a run never reaches.
    pub fn definition(&self, stage: &str) -> String {
        define(&|name| self.stage(name), stage, &mut HashMap::new())
    }

    /// Every instance's [`Pipeline::definition`], each upstream stage's computed once.
    pub fn definitions(&self) -> BTreeMap<String, String> {
        definitions(&self.stages)
    }

    /// Reads the content digest of every external file each stage reads (of the whole grid too,
    /// where a run is limited to a slice), for the stages' definitions and keys. A stage whose
    /// files cannot be read keeps `files` unset: its key, computed when it is about to run,
    /// fails it with the reason, as it fails no other stage.
    pub fn digest_inputs(&mut self, registry: &Registry, digests: &FileDigests) {
        let files = |spec: &StageSpec| -> Option<BTreeMap<String, String>> {
            let kind = registry.get(&spec.kind).expect("kinds are validated");
            digests.digest_all(&kind.input_files(&spec.params).ok()?).ok()
        };
        for spec in &mut self.stages {
            spec.files = files(spec);
        }
        if let Some(whole) = &mut self.whole {
            let sliced: HashMap<&str, &Option<BTreeMap<String, String>>> =
                self.stages.iter().map(|s| (s.name.as_str(), &s.files)).collect();
            for spec in &mut whole.stages {
                spec.files = match sliced.get(spec.name.as_str()) {
                    Some(files) => (*files).clone(),
                    None => files(spec),
                };
            }
        }
    }

    /// The pipeline file's absolute path, as manifests record it.
    pub fn file(&self) -> String {
        std::fs::canonicalize(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }

    /// The pipeline limited to the variants `keep` selects and the stage instances they use;
    /// the whole grid is kept in `whole`.
    pub fn slice(self, keep: impl Fn(&Variant) -> bool) -> Pipeline {
        let whole = WholeGrid { variants: self.variants.clone(), stages: self.stages.clone() };
        let variants: Vec<VariantSpec> =
            self.variants.into_iter().filter(|v| keep(&v.variant)).collect();
        let used: std::collections::BTreeSet<&String> =
            variants.iter().flat_map(|v| v.stages.values()).collect();
        let stages = self.stages.into_iter().filter(|s| used.contains(&s.name)).collect();
        Pipeline { stages, variants, whole: Some(whole), index: OnceLock::new(), ..self }
    }
}

/// Every instance's definition (see [`Pipeline::definition`]), each computed once.
fn definitions(stages: &[StageSpec]) -> BTreeMap<String, String> {
    let by_name: HashMap<&str, &StageSpec> = stages.iter().map(|s| (s.name.as_str(), s)).collect();
    let lookup = |name: &str| by_name.get(name).copied();
    let mut known = HashMap::new();
    stages.iter().map(|s| (s.name.clone(), define(&lookup, &s.name, &mut known))).collect()
}

/// The definition of `stage`, its stages found by `lookup`, those already defined in `known`.
fn define<'a>(
    lookup: &impl Fn(&str) -> Option<&'a StageSpec>,
    stage: &str,
    known: &mut HashMap<String, String>,
) -> String {
    if let Some(definition) = known.get(stage) {
        return definition.clone();
    }
    let mut hasher = blake3::Hasher::new();
    if let Some(spec) = lookup(stage) {
        hasher.update(spec.kind.as_bytes());
        hasher.update(&[0]);
        hasher.update(serde_json::Value::Object(spec.params.keyed()).to_string().as_bytes());
        for (role, upstream) in &spec.inputs {
            hasher.update(&[0]);
            hasher.update(role.as_bytes());
            hasher.update(&[0]);
            hasher.update(define(lookup, upstream, known).as_bytes());
        }
        // Stages that read no file (and have no key command) keep the definitions they had
        // before files (and key commands) entered them.
        for (label, digest) in spec.files.iter().flatten() {
            hasher.update(&[1]);
            hasher.update(label.as_bytes());
            hasher.update(&[0]);
            hasher.update(digest.as_bytes());
        }
        for (command, digest) in &spec.commands {
            hasher.update(&[2]);
            hasher.update(command.as_bytes());
            hasher.update(&[0]);
            hasher.update(digest.as_bytes());
        }
    }
    let definition = hasher.finalize().to_hex().to_string();
    known.insert(stage.to_string(), definition.clone());
    definition
}
