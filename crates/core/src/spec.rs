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
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use super::grid::{self, Grid, Variant};
use super::names::{self, NameKind};
use super::overrides::{TOP_LEVEL_KEYS, apply_override};
use super::params::Params;
use super::pipeline::{Pipeline, StageSpec, VariantSpec};
use super::stage::Registry;
use super::vars::Vars;
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

/// A pipeline file's text as read, with the overrides given for it: enough to load the same
/// pipeline again later, after the file has changed (a queued Slurm job does).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PipelineSource {
    /// As given; names the pipeline by default and sets `${pipeline_dir}`.
    pub path: PathBuf,
    pub text: String,
    pub overrides: Vec<String>,
}

impl PipelineSource {
    pub fn read(path: &Path, overrides: &[String]) -> Result<PipelineSource, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(format!(
                "cannot read pipeline file {}: {e}",
                path.display()
            ))])
        })?;
        Ok(PipelineSource { path: path.to_path_buf(), text, overrides: overrides.to_vec() })
    }

    pub fn load(&self, registry: &Registry) -> Result<Pipeline, Diagnostics> {
        parse(&self.path, &self.text, &self.overrides, registry)
    }
}

pub fn parse(
    path: &Path,
    text: &str,
    overrides: &[String],
    registry: &Registry,
) -> Result<Pipeline, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let mut root = yaml::parse(path, text).map_err(one)?;
    if root.value == Value::Null {
        root.value = Value::Map(Vec::new());
    }
    root.expect_map("a pipeline file").map_err(one)?;
    for assignment in overrides {
        apply_override(&mut root, assignment).map_err(one)?;
    }
    check_keys(&root, TOP_LEVEL_KEYS, "pipeline file").map_err(one)?;

    let stages_node = root
        .get("stages")
        .ok_or_else(|| one(Diagnostic::new("pipeline has no `stages`").at(&root.location)))?;
    let entries = stages_node.expect_map("`stages`").map_err(one)?;
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
    let grid = root.get("grid").map(Grid::parse).transpose().map_err(one)?;
    let ungridded = [Variant { levels: Vec::new() }];
    let variants = grid.as_ref().map_or(&ungridded[..], |g| g.variants());
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut per_variant = Vec::with_capacity(variants.len());
    let mut used = std::collections::BTreeSet::new();
    for variant in variants {
        let level_vars =
            grid.as_ref().map(|g| g.vars_of(variant, &root.location)).unwrap_or_default();
        let vars = Vars::new(root.get("vars"), path, level_vars).map_err(one)?;
        match variant_stages(stages_node, &vars, grid.as_ref(), variant, registry) {
            Ok(specs) => per_variant.push(specs),
            Err(errors) => {
                for error in errors {
                    if !diagnostics.iter().any(|d| same_diagnostic(d, &error)) {
                        diagnostics.push(error);
                    }
                }
            }
        }
        used.extend(vars.used());
    }
    if !diagnostics.is_empty() {
        return Err(Diagnostics(diagnostics));
    }
    let order: Vec<&str> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
    if let Some(grid) = &grid {
        check_use(grid, &used, entries, &per_variant).map_err(Diagnostics)?;
    }
    let warnings = grid.as_ref().map(|g| shadowed_overrides(g, overrides)).unwrap_or_default();
    let when: BTreeMap<String, Vec<String>> = entries
        .iter()
        .filter_map(|(key, node)| {
            let factors = node.get("when")?.as_map()?.iter().map(|(f, _)| f.name.clone());
            Some((key.name.clone(), factors.collect()))
        })
        .collect();
    let (stages, variant_specs) = merge(&order, variants, per_variant, &when);
    let variants = if grid.is_some() { variant_specs } else { Vec::new() };
    let layout = grid.as_ref().map(Grid::layout);
    let mut pipeline = Pipeline {
        name,
        path: path.to_path_buf(),
        text_digest: blake3::hash(text.as_bytes()).to_hex().to_string(),
        overrides: overrides.to_vec(),
        stages,
        variants,
        layout,
        whole: None,
        warnings,
    };
    if let Some(grid) = grid.as_ref().filter(|g| !g.variants().iter().all(|v| g.selects(v))) {
        pipeline = pipeline.slice(|variant| grid.selects(variant));
    }
    super::dag::Dag::new(&pipeline).map_err(one)?;
    Ok(pipeline)
}

/// Every variable a grid level sets must be used by some variant's stages, and every stage of
/// the file must be in some variant: anything else is a typo or a `when` that selects nothing.
fn check_use(
    grid: &Grid,
    used: &std::collections::BTreeSet<String>,
    entries: &[(Key, Node)],
    per_variant: &[Vec<StageSpec>],
) -> Result<(), Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    for (factor, level, key) in grid.level_variables() {
        // A factor's own variable (`f: [a, b]`) may serve `when` alone.
        if key.name == factor {
            continue;
        }
        if !used.contains(&key.name)
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
                .hint(
                    match did_you_mean(&key.name, used.iter().map(String::as_str)) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("use it as `${{{}}}` in a stage, or remove it", key.name),
                    },
                ),
            );
        }
    }
    for (key, _) in entries {
        if !per_variant.iter().any(|specs| specs.iter().any(|s| s.name == key.name)) {
            diagnostics.push(
                Diagnostic::new(format!(
                    "stage `{}` is in no variant: its `when` selects none of the grid's variants",
                    key.name
                ))
                .at(&key.location)
                .hint("widen its `when`, or remove the stage"),
            );
        }
    }
    if diagnostics.is_empty() { Ok(()) } else { Err(diagnostics) }
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

/// The stages of one variant, interpolated with its variables and validated; stages its
/// `when` leaves out are dropped.
fn variant_stages(
    stages: &Node,
    vars: &Vars,
    grid: Option<&Grid>,
    variant: &Variant,
    registry: &Registry,
) -> Result<Vec<StageSpec>, Vec<Diagnostic>> {
    let entries = stages.expect_map("`stages`").map_err(|d| vec![d])?;
    let mut kept: Vec<(Key, Node)> = Vec::new();
    let mut left_out: Vec<&str> = Vec::new();
    for (key, node) in entries {
        let mut node = node.clone();
        if let Some(when) = take_entry(&mut node, "when") {
            let grid = grid.ok_or_else(|| {
                vec![
                    Diagnostic::new(
                        "`when` selects variants of a `grid`, and the pipeline has none",
                    )
                    .at(&when.location),
                ]
            })?;
            if !grid.selector(&when, "`when`").map_err(|d| vec![d])?.matches(variant) {
                left_out.push(&key.name);
                continue;
            }
        }
        vars.interpolate(&mut node, &mut Vec::new()).map_err(|d| vec![d])?;
        kept.push((key.clone(), node));
    }
    // Stages left out still count as known here, so that reading one gets the message below.
    let names: Vec<&str> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
    let mut diagnostics = Vec::new();
    let mut specs = Vec::new();
    for (key, node) in &kept {
        match validate_stage(key, node, &names, registry) {
            Ok(spec) => specs.push(spec),
            Err(mut errors) => diagnostics.append(&mut errors),
        }
    }
    for spec in &specs {
        for upstream in spec.inputs.values().filter(|u| left_out.contains(&u.as_str())) {
            diagnostics.push(
                Diagnostic::new(format!(
                    "stage `{}` reads stage `{upstream}`, which variant `{}` leaves out (its `when`)",
                    spec.name,
                    variant.name()
                ))
                .at(&spec.location)
                .hint(format!("give `{}` a matching `when`, or widen the one of `{upstream}`", spec.name)),
            );
        }
    }
    if diagnostics.is_empty() { Ok(specs) } else { Err(diagnostics) }
}

fn take_entry(node: &mut Node, name: &str) -> Option<Node> {
    let Value::Map(entries) = &mut node.value else { return None };
    let index = entries.iter().position(|(k, _)| k.name == name)?;
    Some(entries.remove(index).1)
}

/// Merges the variants' stages into one stage list: instances of a stage with equal kind,
/// parameters and inputs (compared through their upstream instances) are one stage.
fn merge(
    order: &[&str],
    variants: &[Variant],
    per_variant: Vec<Vec<StageSpec>>,
    when: &BTreeMap<String, Vec<String>>,
) -> (Vec<StageSpec>, Vec<VariantSpec>) {
    struct Instance {
        spec: StageSpec,
        identity: String,
        variants: Vec<usize>,
    }
    let identities: Vec<BTreeMap<String, String>> =
        per_variant.iter().map(|specs| stage_identities(specs)).collect();
    let mut by_stage: BTreeMap<String, Vec<Instance>> = BTreeMap::new();
    for (v, specs) in per_variant.into_iter().enumerate() {
        for spec in specs {
            let identity = identities[v][&spec.name].clone();
            let instances = by_stage.entry(spec.name.clone()).or_default();
            match instances.iter_mut().find(|i| i.identity == identity) {
                Some(instance) => instance.variants.push(v),
                None => instances.push(Instance { spec, identity, variants: vec![v] }),
            }
        }
    }
    let mut names: BTreeMap<(String, String), String> = BTreeMap::new();
    for (stage, instances) in &by_stage {
        let groups: Vec<Vec<&Variant>> =
            instances.iter().map(|i| i.variants.iter().map(|&v| &variants[v]).collect()).collect();
        let params: Vec<&serde_json::Map<String, serde_json::Value>> =
            instances.iter().map(|i| i.spec.params.values()).collect();
        let when = when.get(stage).map_or(&[][..], Vec::as_slice);
        for (instance, name) in
            instances.iter().zip(grid::instance_names(stage, &groups, &params, when))
        {
            names.insert((stage.clone(), instance.identity.clone()), name);
        }
    }
    let mut stages = Vec::new();
    for stage in order {
        for instance in by_stage.remove(*stage).unwrap_or_default() {
            let first = instance.variants[0];
            let mut spec = instance.spec;
            for upstream in spec.inputs.values_mut() {
                let identity = &identities[first][upstream.as_str()];
                *upstream = names[&(upstream.clone(), identity.clone())].clone();
            }
            spec.name = names[&(spec.name.clone(), instance.identity)].clone();
            stages.push(spec);
        }
    }
    let variant_specs = variants
        .iter()
        .enumerate()
        .map(|(v, variant)| VariantSpec {
            variant: variant.clone(),
            stages: identities[v]
                .iter()
                .map(|(stage, id)| (stage.clone(), names[&(stage.clone(), id.clone())].clone()))
                .collect(),
        })
        .collect();
    (stages, variant_specs)
}

/// Per stage of one variant, a digest of its kind, parameters and (recursively) inputs.
fn stage_identities(specs: &[StageSpec]) -> BTreeMap<String, String> {
    fn visit(
        name: &str,
        specs: &[StageSpec],
        done: &mut BTreeMap<String, String>,
        stack: &mut Vec<String>,
    ) -> String {
        if let Some(id) = done.get(name) {
            return id.clone();
        }
        if stack.iter().any(|s| s == name) {
            return format!("cycle:{name}"); // reported by the DAG
        }
        let spec = specs.iter().find(|s| s.name == name).expect("validated input");
        stack.push(name.to_string());
        let inputs: Vec<(String, String)> = spec
            .inputs
            .iter()
            .map(|(role, upstream)| (role.clone(), visit(upstream, specs, done, stack)))
            .collect();
        stack.pop();
        // Within one parse only, so any deterministic encoding serves; written straight into
        // the hasher.
        let mut hasher = blake3::Hasher::new();
        serde_json::to_writer(&mut hasher, &(&spec.kind, spec.params.values(), &inputs))
            .expect("stage specs serialise");
        let id = hasher.finalize().to_hex().to_string();
        done.insert(name.to_string(), id.clone());
        id
    }
    let mut done = BTreeMap::new();
    for spec in specs {
        visit(&spec.name, specs, &mut done, &mut Vec::new());
    }
    done
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
}
