//! From a grid's variants to one stage list: each variant keeps the stages its `when` selects,
//! interpolated with its variables and validated, and instances of a stage that are equal
//! across variants (kind, parameters, and inputs compared through their upstream instances)
//! become one stage, named by `naming::instance_names`.
//!
//! A stage is interpolated and validated once per distinct instance, not once per variant: an
//! instance remembers the definitions of the variables its interpolation resolved (directly or
//! through other variables), and a variant whose definitions of those variables are the same
//! gets the instance as it is, since interpolation reads nothing else. A 102-variant grid of 15
//! stages validates a few dozen instances instead of some 1,500 stages.
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use super::{naming, validate_stage};
use crate::diagnostic::Diagnostic;
use crate::grid::{Grid, Selector, Variant};
use crate::pipeline::{StageSpec, VariantSpec};
use crate::stage::Registry;
use crate::vars::Vars;
use crate::yaml::{Key, Node, Value};

/// A stage of the file as the variants see it.
pub(super) struct Template<'a> {
    key: &'a Key,
    /// The stage's entry without `when`.
    node: Node,
    /// Its `when`, parsed once; `None`: every variant has the stage.
    when: Option<Selector>,
    instances: Vec<Instance>,
    /// The lists of variables its instances resolved (usually one list for all), and by list
    /// and the hash of their definitions, the instances: a variant finds its instance by hash
    /// instead of comparing with every instance (a grid of 10,000 variants has as many).
    resolved: Vec<Vec<String>>,
    by_definitions: HashMap<(usize, u64), Vec<usize>>,
}

/// A stage interpolated and validated for the variants whose variables it used are the same.
struct Instance {
    /// Each variable interpolation resolved, with its definition (`None`: undefined).
    definitions: Vec<(String, Option<Node>)>,
    spec: StageSpec,
    /// Of kind and parameters, the part of the stage's identity that is its own.
    digest: blake3::Hash,
}

/// Per variant, each stage it has: (index of the stage in the file, index of its instance).
pub(super) type VariantStages = Vec<(usize, usize)>;

/// The stages of the file, instantiated variant by variant.
pub(super) struct Templates<'a> {
    stages: Vec<Template<'a>>,
    names: Vec<&'a str>,
}

impl<'a> Templates<'a> {
    /// The file's `stages` entries; `when` is parsed here, and needs a grid.
    pub(super) fn new(
        entries: &'a [(Key, Node)],
        grid: Option<&Grid>,
    ) -> Result<Templates<'a>, Diagnostic> {
        let mut stages = Vec::with_capacity(entries.len());
        for (key, node) in entries {
            let mut node = node.clone();
            let when = match take_entry(&mut node, "when") {
                None => None,
                Some(when) => {
                    let grid = grid.ok_or_else(|| {
                        Diagnostic::new(
                            "`when` selects variants of a `grid`, and the pipeline has none",
                        )
                        .at(&when.location)
                    })?;
                    Some(grid.selector(&when, "`when`")?)
                }
            };
            stages.push(Template {
                key,
                node,
                when,
                instances: Vec::new(),
                resolved: Vec::new(),
                by_definitions: HashMap::new(),
            });
        }
        let names = entries.iter().map(|(k, _)| k.name.as_str()).collect();
        Ok(Templates { stages, names })
    }

    /// The stages of one variant: those its `when` keeps, interpolated with `vars` and
    /// validated (or an instance already made for the same variables).
    pub(super) fn instantiate(
        &mut self,
        vars: &Vars,
        variant: &Variant,
        registry: &Registry,
    ) -> Result<VariantStages, Vec<Diagnostic>> {
        let mut chosen = Vec::new();
        let mut left_out: Vec<&str> = Vec::new();
        let mut diagnostics = Vec::new();
        for (s, template) in self.stages.iter_mut().enumerate() {
            if template.when.as_ref().is_some_and(|selector| !selector.matches(variant)) {
                left_out.push(&template.key.name);
                continue;
            }
            let same = |i: &Instance| {
                i.definitions.iter().all(|(name, d)| vars.definition(name) == d.as_ref())
            };
            let found = template.resolved.iter().enumerate().find_map(|(list, names)| {
                let hash = definitions_hash(names.iter().map(|name| vars.definition(name)));
                let candidates = template.by_definitions.get(&(list, hash))?;
                candidates.iter().copied().find(|&i| same(&template.instances[i]))
            });
            if let Some(i) = found {
                chosen.push((s, i));
                continue;
            }
            let mut node = template.node.clone();
            vars.interpolate(&mut node, &mut Vec::new()).map_err(|d| vec![d])?;
            let definitions: Vec<(String, Option<Node>)> = vars
                .take_used()
                .into_iter()
                .map(|name| {
                    let definition = vars.definition(&name).cloned();
                    (name, definition)
                })
                .collect();
            match validate_stage(template.key, &node, &self.names, registry) {
                Ok(spec) => {
                    let names: Vec<String> = definitions.iter().map(|(n, _)| n.clone()).collect();
                    let hash = definitions_hash(definitions.iter().map(|(_, d)| d.as_ref()));
                    let list = match template.resolved.iter().position(|l| *l == names) {
                        Some(list) => list,
                        None => {
                            template.resolved.push(names);
                            template.resolved.len() - 1
                        }
                    };
                    let digest = own_digest(&spec);
                    template.instances.push(Instance { definitions, spec, digest });
                    let index = template.instances.len() - 1;
                    template.by_definitions.entry((list, hash)).or_default().push(index);
                    chosen.push((s, index));
                }
                Err(mut errors) => diagnostics.append(&mut errors),
            }
        }
        for &(s, i) in &chosen {
            let spec = &self.stages[s].instances[i].spec;
            for upstream in spec.inputs.values().filter(|u| left_out.contains(&u.as_str())) {
                diagnostics.push(
                    Diagnostic::new(format!(
                        "stage `{}` reads stage `{upstream}`, which variant `{}` leaves out (its `when`)",
                        spec.name,
                        variant.name()
                    ))
                    .at(&spec.location)
                    .hint(format!(
                        "give `{}` a matching `when`, or widen the one of `{upstream}`",
                        spec.name
                    )),
                );
            }
        }
        if diagnostics.is_empty() { Ok(chosen) } else { Err(diagnostics) }
    }

    /// The variables some instance's interpolation resolved.
    pub(super) fn used_variables(&self) -> BTreeSet<&str> {
        let instances = self.stages.iter().flat_map(|t| &t.instances);
        instances.flat_map(|i| i.definitions.iter().map(|(name, _)| name.as_str())).collect()
    }

    /// The factors some stage's `when` names: their levels tell variants apart whatever the
    /// levels set.
    pub(super) fn when_factors(&self) -> HashSet<String> {
        let whens = self.stages.iter().filter_map(|t| t.when.as_ref());
        whens.flat_map(Selector::factors).collect()
    }

    /// The stages no variant has (their `when` selects none).
    pub(super) fn unused(&self) -> impl Iterator<Item = &Key> {
        self.stages.iter().filter(|t| t.instances.is_empty()).map(|t| t.key)
    }

    /// One stage list for all variants, instances named, and each variant's stages by those
    /// names. The instances' specs become the stages: moved, not copied, except where one
    /// instance becomes several stages (its inputs differ between variants).
    pub(super) fn merge(
        self,
        variants: &[Variant],
        per_variant: &[VariantStages],
    ) -> (Vec<StageSpec>, Vec<VariantSpec>) {
        let identities: Vec<Vec<Option<blake3::Hash>>> =
            per_variant.iter().map(|stages| self.identities(stages)).collect();
        let mut by_stage: Vec<Vec<Merged>> = self.stages.iter().map(|_| Vec::new()).collect();
        // Per stage, identity → its index in `by_stage`.
        let mut position: Vec<HashMap<blake3::Hash, usize>> =
            self.stages.iter().map(|_| HashMap::new()).collect();
        for (v, stages) in per_variant.iter().enumerate() {
            for &(s, instance) in stages {
                let identity = identities[v][s].expect("a chosen stage has an identity");
                match position[s].get(&identity) {
                    Some(&m) => by_stage[s][m].variants.push(v),
                    None => {
                        position[s].insert(identity, by_stage[s].len());
                        by_stage[s].push(Merged { identity, instance, variants: vec![v] });
                    }
                }
            }
        }
        let names: Vec<Vec<String>> = by_stage
            .iter()
            .zip(&self.stages)
            .map(|(merged, template)| {
                let groups: Vec<Vec<&Variant>> = merged
                    .iter()
                    .map(|m| m.variants.iter().map(|&v| &variants[v]).collect())
                    .collect();
                let params: Vec<_> =
                    merged.iter().map(|m| &template.instances[m.instance].spec.params).collect();
                let when = template.when.as_ref().map(Selector::factors).unwrap_or_default();
                naming::instance_names(&template.key.name, &groups, &params, &when)
            })
            .collect();
        let name_of =
            |s: usize, identity: blake3::Hash| -> &str { &names[s][position[s][&identity]] };
        let Templates { stages: templates, names: file_names } = self;
        let mut specs = Handout::new(templates, &by_stage);
        let mut stages = Vec::new();
        for (s, merged) in by_stage.iter().enumerate() {
            for m in merged {
                let first = &identities[m.variants[0]];
                let mut spec = specs.take(s, m.instance);
                for upstream in spec.inputs.values_mut() {
                    let u = index_of(&file_names, upstream);
                    *upstream = name_of(u, first[u].expect("an input is chosen")).to_string();
                }
                spec.name = name_of(s, m.identity).to_string();
                stages.push(spec);
            }
        }
        let variant_specs = variants
            .iter()
            .zip(per_variant)
            .zip(&identities)
            .map(|((variant, chosen), identities)| {
                let mut stages: BTreeMap<String, String> = BTreeMap::new();
                for &(s, _) in chosen {
                    let name = name_of(s, identities[s].expect("chosen"));
                    stages.insert(file_names[s].to_string(), name.to_string());
                }
                VariantSpec { variant: variant.clone(), stages }
            })
            .collect();
        (stages, variant_specs)
    }

    /// Per stage of the file (`None`: not in the variant), a digest of its kind, parameters
    /// and, recursively, its inputs.
    fn identities(&self, chosen: &VariantStages) -> Vec<Option<blake3::Hash>> {
        fn visit(
            t: &Templates,
            s: usize,
            chosen: &VariantStages,
            done: &mut Vec<Option<blake3::Hash>>,
            stack: &mut Vec<usize>,
        ) -> blake3::Hash {
            if let Some(identity) = done[s] {
                return identity;
            }
            if stack.contains(&s) {
                // Reported by the DAG.
                return blake3::hash(format!("cycle:{}", t.names[s]).as_bytes());
            }
            let (_, i) = chosen.iter().find(|(c, _)| *c == s).expect("validated input");
            let instance = &t.stages[s].instances[*i];
            stack.push(s);
            let mut hasher = blake3::Hasher::new();
            hasher.update(instance.digest.as_bytes());
            for (role, upstream) in &instance.spec.inputs {
                let upstream = visit(t, index_of(&t.names, upstream), chosen, done, stack);
                hasher.update(role.as_bytes()).update(&[0]).update(upstream.as_bytes());
            }
            stack.pop();
            let identity = hasher.finalize();
            done[s] = Some(identity);
            identity
        }
        let mut done = vec![None; self.stages.len()];
        for &(s, _) in chosen {
            visit(self, s, chosen, &mut done, &mut Vec::new());
        }
        done
    }
}

/// The instances of a stage equal across variants: one stage of the pipeline.
struct Merged {
    identity: blake3::Hash,
    instance: usize,
    variants: Vec<usize>,
}

/// The specs of a stage's instances, handed to the stages they become: each a clone but at
/// its last use, when it is moved (a grid's instances mostly become one stage each).
struct Handout {
    /// Per stage of the file, per instance: how many stages it has yet to become, its spec.
    specs: Vec<Vec<(usize, Option<StageSpec>)>>,
}

impl Handout {
    /// The instances of `templates`, each to become a stage per entry of `merged` naming it.
    fn new(templates: Vec<Template>, merged: &[Vec<Merged>]) -> Handout {
        let mut specs: Vec<Vec<(usize, Option<StageSpec>)>> = templates
            .into_iter()
            .map(|t| t.instances.into_iter().map(|i| (0, Some(i.spec))).collect())
            .collect();
        for (s, merged) in merged.iter().enumerate() {
            for m in merged {
                specs[s][m.instance].0 += 1;
            }
        }
        Handout { specs }
    }

    fn take(&mut self, s: usize, instance: usize) -> StageSpec {
        let (left, spec) = &mut self.specs[s][instance];
        *left -= 1;
        let spec = if *left == 0 { spec.take() } else { spec.clone() };
        spec.expect("an instance becomes as many stages as were counted")
    }
}

/// The index of `stage` among the file's stage names.
fn index_of(names: &[&str], stage: &str) -> usize {
    names.iter().position(|n| *n == stage).expect("validated input")
}

/// Within one parse only, so any deterministic encoding serves: the kind, then each parameter's
/// name and JSON value after a NUL (which neither holds), hashed at once (blake3 is slow on
/// many small updates).
fn own_digest(spec: &StageSpec) -> blake3::Hash {
    let mut bytes = Vec::with_capacity(1024);
    bytes.extend_from_slice(spec.kind.as_bytes());
    for (name, value) in spec.params.iter() {
        bytes.push(0);
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        serde_json::to_writer(&mut bytes, value).expect("JSON values serialise");
    }
    blake3::hash(&bytes)
}

fn take_entry(node: &mut Node, name: &str) -> Option<Node> {
    let Value::Map(entries) = &mut node.value else { return None };
    let index = entries.iter().position(|(k, _)| k.name == name)?;
    Some(entries.remove(index).1)
}

/// A hash of variables' definitions consistent with their equality (values and where they are
/// written), for looking instances up.
fn definitions_hash<'n>(definitions: impl Iterator<Item = Option<&'n Node>>) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for definition in definitions {
        match definition {
            None => 0u8.hash(&mut hasher),
            Some(node) => hash_node(node, &mut hasher),
        }
    }
    hasher.finish()
}

fn hash_node(node: &Node, hasher: &mut impl Hasher) {
    (node.location.line, node.location.column).hash(hasher);
    node.location.source.name.hash(hasher);
    match &node.value {
        Value::Null => 1u8.hash(hasher),
        Value::Bool(b) => (2u8, b).hash(hasher),
        Value::Int(i) => (3u8, i).hash(hasher),
        Value::Float(f) => (4u8, f.to_bits()).hash(hasher),
        Value::Str(s) => (5u8, s).hash(hasher),
        Value::Seq(items) => {
            (6u8, items.len()).hash(hasher);
            items.iter().for_each(|item| hash_node(item, hasher));
        }
        Value::Map(entries) => {
            (7u8, entries.len()).hash(hasher);
            for (key, value) in entries {
                key.name.hash(hasher);
                hash_node(value, hasher);
            }
        }
    }
}
