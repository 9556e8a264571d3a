//! Pipeline files: YAML in, validated stage list out.
//!
//! ```yaml
//! name: quickstart            # optional; defaults to the file's stem
//! vars: {size: 64}            # referenced as ${size} anywhere in `stages`
//! stages:
//!   data:  {kind: synthetic, params: {size: ${size}}}
//!   train: {kind: train, inputs: {data: data}, params: {epochs: 8}}
//! ```
//!
//! Processing order: parse (with positions) → apply `--set path=value` overrides → expand the
//! `grid` into variants, if any (see `grid`) → per variant, drop the stages its `when` excludes,
//! interpolate `${var}` (a scalar that is exactly `${var}` takes the variable's type; `$${`
//! escapes) and validate kinds, parameters and input references → merge identical stage
//! instances across variants → build the DAG (cycles rejected). Every problem found is reported
//! with file, line, column and a hint before anything runs.
mod extends;
mod instances;
mod naming;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use super::overrides::factor_assignment;
pub use extends::SourceFile;
use instances::Templates;

use super::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use super::grid::{ExtraSeeds, Grid, Levels, SEED, Variant};
use super::names::{self, NameKind};
use super::overrides::{TOP_LEVEL_KEYS, apply_override};
use super::params::Params;
use super::pipeline::{Pipeline, StageSpec};
use super::stage::Registry;
use super::vars::{self, Vars};
use super::yaml::{self, Key, Node, Value, check_keys};

const STAGE_KEYS: &[&str] = &["kind", "inputs", "params", "when"];

/// Reads, overrides, interpolates and validates the pipeline at `path`.
pub fn load(
    path: &Path,
    overrides: &[String],
    registry: &Registry,
) -> Result<Pipeline, Diagnostics> {
    PipelineSource::read(path, overrides)?.load(registry)
}

/// A pipeline file's text as read, with the files it extends and the overrides given for it:
/// enough to load the same pipeline again later, after the files have changed (a queued Slurm
/// job does).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PipelineSource {
    /// As given; names the pipeline by default and sets `${pipeline_dir}`.
    pub path: PathBuf,
    pub text: String,
    pub overrides: Vec<String>,
    /// The files its `extends` chain reads, as read with it.
    #[serde(default)]
    pub bases: Vec<SourceFile>,
    /// Seeds single variants run beyond the grid's (see `grid::ExtraSeeds`).
    #[serde(default, skip_serializing_if = "ExtraSeeds::is_empty")]
    pub extra_seeds: ExtraSeeds,
}

impl PipelineSource {
    pub fn read(path: &Path, overrides: &[String]) -> Result<PipelineSource, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(format!(
                "cannot read pipeline file {}: {e}",
                path.display()
            ))])
        })?;
        let bases = match yaml::parse(path, &text) {
            Ok(root) if root.as_map().is_some() => {
                extends::compose(path, root, &mut read_file).map_err(one)?.bases
            }
            _ => Vec::new(),
        };
        Ok(PipelineSource {
            path: path.to_path_buf(),
            text,
            overrides: overrides.to_vec(),
            bases,
            extra_seeds: ExtraSeeds::default(),
        })
    }

    pub fn load(&self, registry: &Registry) -> Result<Pipeline, Diagnostics> {
        let mut recorded = |path: &Path| match self.bases.iter().find(|b| b.path == path) {
            Some(base) => Ok(base.text.clone()),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not among the files recorded with the pipeline",
            )),
        };
        let given = Given { overrides: &self.overrides, extra_seeds: &self.extra_seeds };
        parse_extending(&self.path, &self.text, &mut recorded, &given, registry)
    }
}

fn read_file(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn one(d: Diagnostic) -> Diagnostics {
    Diagnostics(vec![d])
}

/// Parses a pipeline file's text; the files it extends are read from disk.
pub fn parse(
    path: &Path,
    text: &str,
    overrides: &[String],
    registry: &Registry,
) -> Result<Pipeline, Diagnostics> {
    let given = Given { overrides, extra_seeds: &ExtraSeeds::default() };
    parse_extending(path, text, &mut read_file, &given, registry)
}

/// What a pipeline is loaded with beside its files.
struct Given<'a> {
    overrides: &'a [String],
    extra_seeds: &'a ExtraSeeds,
}

fn parse_extending(
    path: &Path,
    text: &str,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
    given: &Given,
    registry: &Registry,
) -> Result<Pipeline, Diagnostics> {
    let overrides = given.overrides;
    let mut root = yaml::parse(path, text).map_err(one)?;
    if root.value == Value::Null {
        root.value = Value::Map(Vec::new());
    }
    root.expect_map("a pipeline file").map_err(one)?;
    let composed = extends::compose(path, root, read).map_err(one)?;
    let mut root = composed.root;
    for assignment in overrides {
        apply_override(&mut root, assignment).map_err(one)?;
    }
    check_keys(&root, TOP_LEVEL_KEYS, "pipeline file").map_err(one)?;

    let stages_node = root
        .get("stages")
        .ok_or_else(|| one(Diagnostic::new("pipeline has no `stages`").at(&root.location)))?;
    let entries = stages_node.expect_map("`stages`").map_err(one)?;
    if entries.is_empty() {
        return Err(one(Diagnostic::new("pipeline has no stages")
            .at(&stages_node.location)
            .hint("a pipeline runs at least one stage: `ablate kinds` lists them")));
    }
    let misnamed: Vec<Diagnostic> = entries
        .iter()
        .filter_map(|(key, _)| {
            names::check(NameKind::Stage, &key.name)
                .err()
                .map(|e| Diagnostic::new(e).at(&key.location))
        })
        .collect();
    if !misnamed.is_empty() {
        return Err(Diagnostics(misnamed));
    }
    let name = match root.get("name") {
        Some(node) => {
            let name = node.expect_str("`name`").map_err(one)?;
            names::check(NameKind::Pipeline, name)
                .map_err(|e| one(Diagnostic::new(e).at(&node.location)))?;
            name.to_string()
        }
        None => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
            let stem = stem.unwrap_or_default();
            names::check(NameKind::Pipeline, &stem).map_err(|e| {
                one(Diagnostic::new(format!("{e} (the pipeline is named after its file)"))
                    .hint("give it a `name:`"))
            })?;
            stem
        }
    };
    let grid = root.get("grid").map(|g| Grid::parse(g, given.extra_seeds));
    let grid = grid.transpose().map_err(one)?;
    let ungridded = [Variant { levels: Levels::default() }];
    let variants = grid.as_ref().map_or(&ungridded[..], |g| g.variants());
    let mut templates = Templates::new(entries, grid.as_ref()).map_err(one)?;
    let pipeline_dir = vars::pipeline_dir(path);
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut per_variant = Vec::with_capacity(variants.len());
    for variant in variants {
        let level_vars =
            grid.as_ref().map(|g| g.vars_of(variant, &root.location)).unwrap_or_default();
        let vars = Vars::new(root.get("vars"), &pipeline_dir, level_vars).map_err(one)?;
        match templates.instantiate(&vars, variant, registry) {
            Ok(stages) => per_variant.push(stages),
            Err(errors) => {
                for error in errors {
                    if !diagnostics.iter().any(|d| same_diagnostic(d, &error)) {
                        diagnostics.push(error);
                    }
                }
            }
        }
    }
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    if let Some(grid) = &grid {
        check_use(grid, &templates).map_err(Diagnostics)?;
    }
    let mut warnings = grid.as_ref().map(|g| shadowed_overrides(g, overrides)).unwrap_or_default();
    if let Some(grid) = &grid {
        warnings.extend(unused_seeds(grid, &templates));
        warnings.extend(grid.warnings.iter().cloned());
    }
    let (stages, variant_specs) = templates.merge(variants, &per_variant);
    let variants = if grid.is_some() { variant_specs } else { Vec::new() };
    let layout = grid.as_ref().map(Grid::layout);
    let mut pipeline = Pipeline {
        name,
        path: path.to_path_buf(),
        text_digest: text_digest(text, &composed.bases),
        overrides: overrides.to_vec(),
        extra_seeds: grid.as_ref().map(|g| g.extra_seeds().clone()).unwrap_or_default(),
        stages,
        variants,
        layout,
        whole: None,
        warnings,
        origins: if composed.bases.is_empty() { BTreeMap::new() } else { composed.origins },
        index: Default::default(),
    };
    if let Some(grid) = grid.as_ref().filter(|g| !g.variants().iter().all(|v| g.selects(v))) {
        pipeline = pipeline.slice(|variant| grid.selects(variant));
    }
    super::dag::Dag::new(&pipeline).map_err(one)?;
    Ok(pipeline)
}

/// The digest of the file's text, and of the texts of the files it extends.
fn text_digest(text: &str, bases: &[SourceFile]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(text.as_bytes());
    for base in bases {
        hasher.update(base.path.as_os_str().as_encoded_bytes());
        hasher.update(&[0]);
        hasher.update(base.text.as_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// Every variable a grid level sets must be used by some variant's stages, and every stage of
/// the file must be in some variant: anything else is a typo or a `when` that selects nothing.
fn check_use(grid: &Grid, templates: &Templates) -> Result<(), Vec<Diagnostic>> {
    let used = templates.used_variables();
    let mut diagnostics = Vec::new();
    for (factor, level, key) in grid.level_variables() {
        // A factor's own variable (`f: [a, b]`) may serve `when` alone.
        if key.name == factor {
            continue;
        }
        if !used.contains(key.name.as_str())
            && !diagnostics
                .iter()
                .any(|d: &Diagnostic| d.message.contains(&format!("`{}`", key.name)))
        {
            diagnostics.push(
                Diagnostic::new(format!(
                    "level `{level}` of factor `{factor}` sets variable `{}`, which no stage uses",
                    key.name
                ))
                .at(&key.location)
                .hint(match did_you_mean(&key.name, used.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("use it as `${{{}}}` in a stage, or remove it", key.name),
                }),
            );
        }
    }
    let told_apart = templates.when_factors();
    for (factor, level, earlier, location) in grid.alike_levels() {
        if !told_apart.contains(factor) {
            diagnostics.push(
                Diagnostic::new(format!(
                    "levels `{earlier}` and `{level}` of factor `{factor}` set the same values, and \
                     no stage's `when` tells them apart: their variants would be identical"
                ))
                .at(location)
                .hint("give each level its own values, or remove one"),
            );
        }
    }
    for key in templates.unused() {
        diagnostics.push(
            Diagnostic::new(format!(
                "stage `{}` is in no variant: its `when` selects none of the grid's variants",
                key.name
            ))
            .at(&key.location)
            .hint("widen its `when`, or remove the stage"),
        );
    }
    if diagnostics.is_empty() { Ok(()) } else { Err(diagnostics) }
}

/// Seeds that no stage reads: every seed of a variant shares one result, so its n is 1.
fn unused_seeds(grid: &Grid, templates: &Templates) -> Option<String> {
    let layout = grid.layout();
    let seeds = layout.factors.iter().find(|(f, _)| f == SEED).map_or(0, |(_, l)| l.len());
    (seeds > 1 && !templates.used_variables().contains(SEED)).then(|| {
        format!(
            "`grid.seeds` gives {seeds} seeds, but no stage uses `${{seed}}`: every seed shares one \
             result (n = 1); pass `seed: ${{seed}}` to the stages that draw random numbers"
        )
    })
}

/// Overrides of a variable that every level of a factor sets: the levels win, so the
/// override changes nothing.
fn shadowed_overrides(grid: &Grid, overrides: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    for assignment in overrides {
        let Some((path, _)) = assignment.split_once('=') else { continue };
        let variable = path.strip_prefix("vars.").unwrap_or(path);
        if variable.contains('.') {
            continue;
        }
        let layout = grid.layout();
        for (factor, levels) in &layout.factors {
            let setting: std::collections::BTreeSet<&str> = grid
                .level_variables()
                .filter(|(f, _, key)| f == factor && key.name == variable)
                .map(|(_, level, _)| level)
                .collect();
            if !levels.is_empty() && setting.len() == levels.len() {
                warnings.push(format!(
                    "--set `{assignment}` changes nothing: every level of factor `{factor}` sets \
                     `{variable}`, and levels override `vars`"
                ));
            }
        }
    }
    warnings
}

fn same_diagnostic(a: &Diagnostic, b: &Diagnostic) -> bool {
    let at = |d: &Diagnostic| d.location.as_ref().map(|l| (l.line, l.column));
    a.message == b.message && at(a) == at(b)
}

fn validate_stage(
    key: &Key,
    node: &Node,
    stage_names: &[&str],
    registry: &Registry,
) -> Result<StageSpec, Vec<Diagnostic>> {
    let what = format!("stage `{}`", key.name);
    check_keys(node, STAGE_KEYS, &what).map_err(|d| vec![d])?;
    let kind_node = node
        .get("kind")
        .ok_or_else(|| vec![Diagnostic::new(format!("{what} has no `kind`")).at(&key.location)])?;
    let kind_name = kind_node.expect_str("`kind`").map_err(|d| vec![d])?;
    let kind = registry.get(kind_name).ok_or_else(|| {
        let known: Vec<&str> = registry.names().collect();
        let hint = match did_you_mean(kind_name, known.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? known kinds: {}", known.join(", ")),
            None => format!("known kinds: {}", known.join(", ")),
        };
        vec![
            Diagnostic::new(format!("unknown stage kind `{kind_name}`"))
                .at(&kind_node.location)
                .hint(hint),
        ]
    })?;

    let mut diagnostics = Vec::new();
    let mut inputs = BTreeMap::new();
    let declared: Vec<&str> = kind.info().inputs.iter().map(|i| i.role).collect();
    let any_role = kind.info().inputs.iter().any(|i| i.is_any());
    let input_entries = match node.get("inputs") {
        Some(n) => n.expect_map("`inputs`").map_err(|d| vec![d])?,
        None => &[][..],
    };
    for (role, target) in input_entries {
        if any_role {
            if let Err(error) = names::check(NameKind::Role, &role.name) {
                diagnostics.push(Diagnostic::new(error).at(&role.location).hint(format!(
                    "`{kind_name}` hands each input to its program as $ABLATE_INPUT_<ROLE>"
                )));
                continue;
            }
        } else if !declared.contains(&role.name.as_str()) {
            let hint = if declared.is_empty() {
                format!("`{kind_name}` takes no inputs")
            } else {
                format!("`{kind_name}` takes: {}", declared.join(", "))
            };
            diagnostics.push(
                Diagnostic::new(format!("unknown input `{}` for kind `{kind_name}`", role.name))
                    .at(&role.location)
                    .hint(hint),
            );
            continue;
        }
        match target.expect_str("an input") {
            Err(d) => diagnostics.push(d),
            Ok(upstream) if !stage_names.contains(&upstream) => {
                let mut d = Diagnostic::new(format!(
                    "input `{}` refers to unknown stage `{upstream}`",
                    role.name
                ))
                .at(&target.location);
                if let Some(close) = did_you_mean(upstream, stage_names.iter().copied()) {
                    d = d.hint(format!("did you mean `{close}`?"));
                }
                diagnostics.push(d);
            }
            Ok(upstream) => {
                inputs.insert(role.name.clone(), upstream.to_string());
            }
        }
    }
    for input in kind.info().inputs.iter().filter(|i| !i.optional) {
        if !input_entries.iter().any(|(role, _)| role.name == input.role) {
            diagnostics.push(
                Diagnostic::new(format!(
                    "{what} is missing input `{}` ({})",
                    input.role, input.doc
                ))
                .at(&key.location)
                .hint(format!("add `inputs: {{{}: <stage>}}`", input.role)),
            );
        }
    }
    let params_node = node.get("params");
    let params = Params::validate(kind.info().params, params_node, kind_name).and_then(|params| {
        let problems = kind.check(&params);
        if problems.is_empty() {
            Ok(params)
        } else {
            Err(problems.iter().map(|p| p.diagnostic(params_node, &key.location)).collect())
        }
    });
    match params {
        Ok(params) if diagnostics.is_empty() => Ok(StageSpec {
            name: key.name.clone(),
            kind: kind_name.to_string(),
            inputs,
            params,
            location: key.location.clone(),
            files: None,
            commands: BTreeMap::new(),
        }),
        Ok(_) => Err(diagnostics),
        Err(mut errors) => {
            diagnostics.append(&mut errors);
            Err(diagnostics)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{ParamDefault, ParamSpec, ParamType};
    use crate::stage::{InputSpec, KindInfo, Resource, StageContext, StageKind, Workspace};

    struct Fake;

    const FAKE: KindInfo = KindInfo {
        kind: "fake",
        version: 1,
        doc: "a kind for tests",
        params: &[
            ParamSpec::new(
                "n",
                ParamType::Int { min: 0, max: 100 },
                ParamDefault::Int(1),
                "a number",
            ),
            ParamSpec::new("name", ParamType::Str, ParamDefault::Str(""), "a name"),
        ],
        inputs: &[],
        resource: Resource::Cpu,
        workspace: Workspace::None,
    };

    impl StageKind for Fake {
        fn info(&self) -> &'static KindInfo {
            &FAKE
        }

        fn run(&self, _: &mut StageContext) -> anyhow::Result<()> {
            Ok(())
        }
    }

    struct Consumer;

    const CONSUMER: KindInfo = KindInfo {
        kind: "consumer",
        version: 1,
        doc: "takes an input",
        params: &[],
        inputs: &[InputSpec::required("x", "anything")],
        resource: Resource::Cpu,
        workspace: Workspace::None,
    };

    impl StageKind for Consumer {
        fn info(&self) -> &'static KindInfo {
            &CONSUMER
        }

        fn run(&self, _: &mut StageContext) -> anyhow::Result<()> {
            Ok(())
        }
    }

    fn load(text: &str, overrides: &[&str]) -> Result<Pipeline, Diagnostics> {
        let registry = Registry::default().with(Fake).with(Consumer);
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        parse(Path::new("dir/p.yaml"), text, &overrides, &registry)
    }

    fn params(pipeline: &Pipeline, stage: &str) -> serde_json::Value {
        serde_json::Value::Object(pipeline.stage(stage).unwrap().params.keyed())
    }

    const TEXT: &str = "vars: {n: 3, who: world, greeting: 'hi ${who}'}\nstages:\n  a:\n    kind: fake\n    params: {n: '${n}', name: '${greeting}, $${literal} ${pipeline_dir}'}\n";

    #[test]
    fn variables_keep_their_type_or_splice_into_strings() {
        let pipeline = load(TEXT, &[]).unwrap();
        let dir = std::path::absolute("dir").unwrap();
        assert_eq!(
            params(&pipeline, "a"),
            serde_json::json!({"n": 3, "name": format!("hi world, ${{literal}} {}", dir.display())})
        );
        assert_eq!(pipeline.name, "p");
    }

    #[test]
    fn overrides_take_full_paths_and_shorthands() {
        assert_eq!(params(&load(TEXT, &["n=7"]).unwrap(), "a")["n"], 7);
        assert_eq!(params(&load(TEXT, &["a.n=8"]).unwrap(), "a")["n"], 8);
        assert_eq!(params(&load(TEXT, &["stages.a.params.n=9"]).unwrap(), "a")["n"], 9);
        assert_eq!(
            params(&load(TEXT, &["who=you"]).unwrap(), "a")["name"],
            format!("hi you, ${{literal}} {}", std::path::absolute("dir").unwrap().display())
        );
        let err = load(TEXT, &["a.n=999"]).unwrap_err().to_string();
        assert!(err.contains("must be an integer in 0..=100, found 999"), "{err}");
        assert!(load(TEXT, &["n"]).unwrap_err().to_string().contains("not of the form path=value"));
    }

    #[test]
    fn variable_cycles_are_reported() {
        let err = load(
            "vars: {a: '${b}', b: '${a}'}\nstages:\n  s: {kind: fake, params: {name: '${a}'}}\n",
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("variable cycle: a → b → a"), "{err}");
    }

    #[test]
    fn a_factor_whose_levels_are_alike_only_multiplies_identical_variants() {
        let stage = "stages:\n  s: {kind: fake, params: {n: '${n}'}}\n";
        let same =
            format!("grid: {{factors: {{m: {{a: {{n: 1}}, b: {{n: 2}}, c: {{n: 1}}}}}}}}\n{stage}");
        let err = load(&same, &[]).unwrap_err().to_string();
        assert!(err.contains("levels `a` and `c` of factor `m` set the same values"), "{err}");
        let nothing = "grid: {factors: {m: {a: , b: }}}\nstages:\n  s: {kind: fake}\n";
        let err = load(nothing, &[]).unwrap_err().to_string();
        assert!(err.contains("levels `a` and `b` of factor `m`"), "{err}");
        let told_apart = format!("{nothing}  t: {{kind: fake, when: {{m: [b]}}}}\n");
        assert_eq!(load(&told_apart, &[]).unwrap().variants.len(), 2);
    }

    #[test]
    fn a_factor_from_the_command_line_is_checked_like_the_file_s() {
        let stage = "stages:\n  s: {kind: fake, params: {name: 'lr ${lr}'}}\n";
        let factor = factor_assignment("lr=1e-4, 3e-4,0.5").unwrap();
        assert_eq!(factor, "grid.factors.lr=[1e-4, 3e-4, 0.5]");
        let pipeline = load(stage, &[&factor]).unwrap();
        let names: Vec<String> = pipeline.variants.iter().map(|v| v.variant.name()).collect();
        assert_eq!(names, ["lr=1e-4", "lr=3e-4", "lr=0.5"]);
        assert_eq!(params(&pipeline, "s[lr=1e-4]")["name"], "lr 0.0001");
        for bad in ["lr", "lr=", "lr=1,,2", "=1,2", "a.b=1"] {
            assert!(factor_assignment(bad).is_err(), "{bad}");
        }
        let twice = factor_assignment("lr=1,1").unwrap();
        let err = load(stage, &[&twice]).unwrap_err().to_string();
        assert!(err.contains("factor `lr` lists level `1` twice"), "{err}");
    }

    #[test]
    fn all_problems_are_reported_together() {
        let err = load("stages:\n  a: {kind: fake, params: {m: 1}}\n  b: {kind: consumer}\n", &[])
            .unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
    }

    #[test]
    fn unknown_top_level_keys_get_a_hint() {
        let err = load("stage:\n  a: {kind: fake}\n", &[]).unwrap_err().to_string();
        assert!(
            err.contains("unknown key `stage`") && err.contains("did you mean `stages`?"),
            "{err}"
        );
    }

    const GRID: &str = "grid: {factors: {k: [1, 2]}, seeds: 2}\nstages:\n  a: {kind: fake, params: {name: shared}}\n  b: {kind: consumer, inputs: {x: a}}\n  c: {kind: fake, params: {n: '${k}'}}\n  d: {kind: consumer, inputs: {x: c}, when: {k: 2}}\n  e: {kind: fake, params: {n: '${seed}'}, when: {k: 2}}\n";

    #[test]
    fn a_grid_expands_into_variants_that_share_identical_stages() {
        let pipeline = load(GRID, &[]).unwrap();
        let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c[k=1]", "c[k=2]", "d", "e[k=2,seed=0]", "e[k=2,seed=1]"]);
        assert_eq!(pipeline.stage("d").unwrap().inputs["x"], "c[k=2]");
        let variants: Vec<String> = pipeline.variants.iter().map(|v| v.variant.name()).collect();
        assert_eq!(variants, ["k=1,seed=0", "k=1,seed=1", "k=2,seed=0", "k=2,seed=1"]);
        let last = &pipeline.variants[3].stages;
        assert_eq!((last["c"].as_str(), last["e"].as_str()), ("c[k=2]", "e[k=2,seed=1]"));
        assert!(!pipeline.variants[0].stages.contains_key("d"));
    }

    #[test]
    fn variants_share_an_instance_only_when_every_variable_it_resolved_is_the_same() {
        // `c` reads `k` only through `label`, and `label` is set per level of `m` for one
        // level of `k`: each variant must see its own chain of definitions.
        let text = "vars: {label: 'k${k}'}\ngrid:\n  factors:\n    k: [1, 2]\n    m: {x: {}, y: {label: fixed}}\nstages:\n  c: {kind: fake, params: {name: '${label}'}}\n";
        let pipeline = load(text, &[]).unwrap();
        let name = |variant: usize| {
            let instance = &pipeline.variants[variant].stages["c"];
            params(&pipeline, instance)["name"].as_str().unwrap().to_string()
        };
        let names: Vec<String> = (0..4).map(name).collect();
        assert_eq!(names, ["k1", "fixed", "k2", "fixed"]);
        assert_eq!(pipeline.stages.len(), 3, "k1, k2 and fixed");
    }

    #[test]
    fn a_stage_reading_one_that_when_leaves_out_is_an_error() {
        let text = GRID.replace(
            "when: {k: 2}}\n  e",
            "when: {k: 1}}\n  f: {kind: consumer, inputs: {x: d}}\n  e",
        );
        let err = load(&text, &[]).unwrap_err().to_string();
        assert!(
            err.contains("stage `f` reads stage `d`, which variant `k=2,seed=0` leaves out"),
            "{err}"
        );
        let err = load("stages:\n  a: {kind: fake, when: {k: 1}}\n", &[]).unwrap_err().to_string();
        assert!(err.contains("`when` selects variants of a `grid`"), "{err}");
    }

    const BASE: &str = "name: base\nvars: {n: 1, who: base}\ngrid:\n  factors:\n    m: {small: {n: 2}, big: {n: 3}, huge: {n: 4}}\n    k: [a, b]\n  exclude: [{m: huge, k: b}]\n  baseline: {m: small, k: a}\nstages:\n  a: {kind: fake, params: {n: '${n}', name: '${who}'}}\n  b: {kind: consumer, inputs: {x: a}, when: {m: [huge]}}\n  c: {kind: fake, params: {name: '${k}'}, when: {m: [small, huge], k: [a]}}\n";

    /// Writes `files` into a fresh folder and loads the first one through `PipelineSource`.
    fn load_files(files: &[(&str, &str)]) -> Result<(tempfile::TempDir, Pipeline), Diagnostics> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let registry = Registry::default().with(Fake).with(Consumer);
        let pipeline = PipelineSource::read(&dir.path().join(files[0].0), &[])?.load(&registry)?;
        Ok((dir, pipeline))
    }

    #[test]
    fn an_extending_file_picks_levels_overrides_vars_and_drops_what_its_grid_leaves_out() {
        let child = "extends: base.yaml\nvars: {who: child}\ngrid:\n  factors: {m: [small, big]}\n  baseline: {m: big, k: a}\nstages:\n  a: {params: {name: 'child ${who}'}}\n";
        let (_dir, pipeline) = load_files(&[("child.yaml", child), ("base.yaml", BASE)]).unwrap();
        assert_eq!(pipeline.name, "child", "a base's name never carries over");
        let variants: Vec<String> = pipeline.variants.iter().map(|v| v.variant.name()).collect();
        assert_eq!(variants, ["m=small,k=a", "m=small,k=b", "m=big,k=a", "m=big,k=b"]);
        let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a[m=small]", "a[m=big]", "c"], "b selected only `huge`");
        assert_eq!(
            params(&pipeline, "a[m=big]"),
            serde_json::json!({"n": 3, "name": "child child"})
        );
        let origin = |stage: &str| {
            let o = &pipeline.origins[stage];
            let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
            (name(&o.file), o.changed_by.as_deref().map(name))
        };
        assert_eq!(origin("a"), ("base.yaml".into(), Some("child.yaml".into())));
        assert_eq!(origin("c"), ("base.yaml".into(), None));
        assert!(!pipeline.origins.contains_key("b"));
        assert_eq!(pipeline.layout.unwrap().baseline.unwrap()[0].1, "big");
    }

    #[test]
    fn the_extending_files_own_selectors_are_checked_as_ever() {
        let child = "extends: base.yaml\ngrid:\n  factors: {m: [small]}\n  baseline: {m: small, k: a}\nstages:\n  c: {when: {m: [big]}}\n";
        let err = load_files(&[("child.yaml", child), ("base.yaml", BASE)]).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("`m` has no level `big`") && err.contains("child.yaml:6"), "{err}");
        // The base's baseline names a level the extension dropped: the base's line is named.
        let child = "extends: base.yaml\ngrid:\n  factors: {m: [big]}\n";
        let err = load_files(&[("child.yaml", child), ("base.yaml", BASE)]).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("has no level `small`") && err.contains("base.yaml:8"), "{err}");
    }

    #[test]
    fn extends_cycles_and_missing_bases_are_errors_naming_the_line() {
        let err = load_files(&[("a.yaml", "extends: b.yaml\n"), ("b.yaml", "extends: a.yaml\n")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("makes a cycle") && err.contains("b.yaml:1"), "{err}");
        let err = load_files(&[("a.yaml", "extends: nowhere.yaml\nstages: {}\n")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read base pipeline") && err.contains("a.yaml:1"), "{err}");
    }

    #[test]
    fn a_loaded_source_keeps_the_base_it_was_read_with() {
        let dir = tempfile::tempdir().unwrap();
        let (child, base) = (dir.path().join("child.yaml"), dir.path().join("base.yaml"));
        std::fs::write(&child, "extends: base.yaml\nvars: {n: 5}\n").unwrap();
        std::fs::write(&base, "stages:\n  a: {kind: fake, params: {n: '${n}'}}\n").unwrap();
        let source = PipelineSource::read(&child, &[]).unwrap();
        std::fs::write(&base, "stages:\n  z: {kind: fake}\n").unwrap();
        let registry = Registry::default().with(Fake).with(Consumer);
        let pipeline = source.load(&registry).unwrap();
        assert_eq!(params(&pipeline, "a")["n"], 5);
        let now = PipelineSource::read(&child, &[]).unwrap().load(&registry).unwrap();
        assert_ne!(now.text_digest, pipeline.text_digest, "the base's text is part of the digest");
    }

    #[test]
    fn a_pipeline_without_stages_is_refused() {
        let err = load("stages: {}\n", &[]).unwrap_err().to_string();
        assert!(err.contains("pipeline has no stages") && err.contains("p.yaml:1"), "{err}");
    }
}
