//! `extends: base.yaml`: a pipeline file that is another one at another budget.
//!
//! The base (a path relative to the extending file's folder) is read and composed first (a base
//! may extend another; a cycle is an error), then the extending file's keys are laid over it:
//! - `name` and `description` are the extending file's own: a base's never carry over, so the
//!   results are stored under the extending pipeline's name (its file's stem by default);
//! - `vars` and `stages` merge recursively: where both files give a mapping under the same name,
//!   the extending file's entries replace or join the base's key by key; any other value (a
//!   scalar, a list) replaces the base's whole;
//! - `grid` merges key by key: `factors` factor by factor (an extending file's factor replaces
//!   the base's; a level it lists by name only takes the base's definition of that level), and
//!   `exclude`, `only`, `baseline`, `seeds` and `design` each as a whole.
//!
//! Levels the composed grid no longer has are dropped from the *base's* `when` and `exclude`
//! selectors; a base stage whose `when` then selects nothing, and a base `exclude` entry that can
//! no longer match, go with them (the base asked for variants the extension left out). The
//! extending file's own selectors are checked as ever. Every node keeps its file and position,
//! so an error names the file it came from, and each stage's [`StageOrigin`] says which file
//! defines it and what the extending file changed.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::pipeline::StageOrigin;
use crate::yaml::{self, Key, Node, Value};

/// Bases deeper than this are refused (a chain that long is a mistake, not a design).
const MAX_DEPTH: usize = 8;

/// A pipeline file's text, kept so that the pipeline can be loaded again as it was read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// The composed pipeline tree, the base files it read, and where each stage comes from.
pub(super) struct Composed {
    pub root: Node,
    pub bases: Vec<SourceFile>,
    pub origins: BTreeMap<String, StageOrigin>,
}

/// Resolves `root`'s `extends` chain, reading base files through `read`.
pub(super) fn compose(
    path: &Path,
    root: Node,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
) -> Result<Composed, Diagnostic> {
    let mut bases = Vec::new();
    let root = resolve(path, root, read, &mut bases, &mut vec![key_of(path)])?;
    let origins = root.origins;
    Ok(Composed { root: root.node, bases, origins })
}

struct Resolved {
    node: Node,
    origins: BTreeMap<String, StageOrigin>,
}

fn key_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn resolve(
    path: &Path,
    mut root: Node,
    read: &mut dyn FnMut(&Path) -> std::io::Result<String>,
    bases: &mut Vec<SourceFile>,
    chain: &mut Vec<PathBuf>,
) -> Result<Resolved, Diagnostic> {
    let Some(extends) = take(&mut root, "extends") else {
        return Ok(Resolved { origins: own_origins(&root, path), node: root });
    };
    let relative = extends.expect_str("`extends`")?;
    let base_path = path.parent().unwrap_or(Path::new("")).join(relative);
    let key = key_of(&base_path);
    if chain.contains(&key) {
        return Err(Diagnostic::new(format!(
            "`extends: {relative}` makes a cycle: {} extends itself",
            base_path.display()
        ))
        .at(&extends.location));
    }
    if chain.len() >= MAX_DEPTH {
        return Err(Diagnostic::new(format!("`extends` goes deeper than {MAX_DEPTH} files"))
            .at(&extends.location));
    }
    let text = read(&base_path).map_err(|e| {
        Diagnostic::new(format!("cannot read base pipeline {}: {e}", base_path.display()))
            .at(&extends.location)
            .hint("`extends` is a path relative to this file's folder")
    })?;
    let base_root = yaml::parse(&base_path, &text)?;
    base_root.expect_map("a pipeline file")?;
    bases.push(SourceFile { path: base_path.clone(), text });
    chain.push(key);
    let base = resolve(&base_path, base_root, read, bases, chain)?;
    chain.pop();
    Ok(overlay(base, root, path))
}

fn own_origins(root: &Node, path: &Path) -> BTreeMap<String, StageOrigin> {
    let stages = root.get("stages").and_then(Node::as_map).unwrap_or_default();
    stages
        .iter()
        .map(|(key, _)| {
            let origin = StageOrigin { file: path.to_path_buf(), changed_by: None };
            (key.name.clone(), origin)
        })
        .collect()
}

/// Lays the extending file `top` over the composed `base`.
fn overlay(base: Resolved, top: Node, path: &Path) -> Resolved {
    let Resolved { node: mut merged, mut origins } = base;
    take(&mut merged, "name");
    take(&mut merged, "description");
    let Value::Map(top_entries) = top.value else { unreachable!("checked to be a mapping") };
    for (key, node) in top_entries {
        match key.name.as_str() {
            "stages" => {
                for (stage, _) in node.as_map().unwrap_or_default() {
                    origins
                        .entry(stage.name.clone())
                        .and_modify(|o| o.changed_by = Some(path.to_path_buf()))
                        .or_insert(StageOrigin { file: path.to_path_buf(), changed_by: None });
                }
                merge_into(&mut merged, key, node, merge_deep);
            }
            "vars" => merge_into(&mut merged, key, node, merge_deep),
            "grid" => merge_into(&mut merged, key, node, merge_grid),
            _ => set(&mut merged, key, node),
        }
    }
    let dropped = prune(&mut merged, path);
    origins.retain(|stage, _| !dropped.contains(stage));
    Resolved { node: merged, origins }
}

fn merge_into(parent: &mut Node, key: Key, node: Node, merge: fn(&mut Node, Node)) {
    match entry_mut(parent, &key.name) {
        Some(existing) => merge(existing, node),
        None => set(parent, key, node),
    }
}

/// Mappings merge key by key, recursively; anything else replaces.
fn merge_deep(base: &mut Node, top: Node) {
    if base.as_map().is_none() || top.as_map().is_none() {
        *base = top;
        return;
    }
    let Value::Map(entries) = top.value else { unreachable!() };
    for (key, node) in entries {
        merge_into(base, key, node, merge_deep);
    }
}

/// `grid`: key by key, `factors` factor by factor.
fn merge_grid(base: &mut Node, top: Node) {
    let (Some(_), Some(_)) = (base.as_map(), top.as_map()) else {
        *base = top;
        return;
    };
    let Value::Map(entries) = top.value else { unreachable!() };
    for (key, node) in entries {
        if key.name != "factors" {
            set(base, key, node);
            continue;
        }
        let Some(base_factors) = entry_mut(base, "factors").filter(|f| f.as_map().is_some()) else {
            set(base, key, node);
            continue;
        };
        let Value::Map(factors) = node.value else {
            *base_factors = node;
            continue;
        };
        for (factor, levels) in factors {
            let picked = pick_levels(&factor, base_factors.get(&factor.name), levels);
            set(base_factors, factor, picked);
        }
    }
}

/// An extending factor given as a list whose names include levels the base defines as a
/// mapping: those levels with the base's definitions, in the extending file's order (a name the
/// base does not define is a plain level that sets the factor's variable, as in a list).
fn pick_levels(factor: &Key, base: Option<&Node>, top: Node) -> Node {
    let (Some(defined), Value::Seq(items)) = (base.and_then(Node::as_map), &top.value) else {
        return top;
    };
    let definition = |name: &str| defined.iter().find(|(k, _)| k.name == name).map(|(_, n)| n);
    let names: Option<Vec<String>> = items.iter().map(level_name).collect();
    let Some(names) = names.filter(|names| names.iter().any(|n| definition(n).is_some())) else {
        return top;
    };
    let entries = names
        .into_iter()
        .zip(items)
        .map(|(name, item)| {
            let node = definition(&name).cloned().unwrap_or_else(|| Node {
                value: Value::Map(vec![(factor.clone(), item.clone())]),
                location: item.location.clone(),
            });
            (Key { name, location: item.location.clone() }, node)
        })
        .collect();
    Node { value: Value::Map(entries), location: top.location }
}

fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Drops the levels the composed grid lacks from the base's selectors (the nodes that do not
/// come from `top`), and the base's stages and `exclude` entries that can then match nothing.
/// Returns the names of the dropped stages.
fn prune(root: &mut Node, top: &Path) -> BTreeSet<String> {
    let Some(levels) = grid_levels(root) else { return BTreeSet::new() };
    let inherited = |node: &Node| node.location.source.name != top;
    let mut dropped = BTreeSet::new();
    if let Some(Value::Map(stages)) = entry_mut(root, "stages").map(|s| &mut s.value) {
        stages.retain_mut(|(key, stage)| {
            let keep = entry_mut(stage, "when")
                .is_none_or(|when| prune_selector(when, &levels, &inherited));
            if !keep {
                dropped.insert(key.name.clone());
            }
            keep
        });
    }
    if let Some(grid) = entry_mut(root, "grid")
        && let Some(Value::Seq(entries)) = entry_mut(grid, "exclude").map(|e| &mut e.value)
    {
        entries.retain_mut(|entry| prune_selector(entry, &levels, &inherited));
    }
    dropped
}

/// Whether the selector can still match after dropping unknown levels from its inherited lists.
fn prune_selector(
    selector: &mut Node,
    levels: &BTreeMap<String, BTreeSet<String>>,
    inherited: &dyn Fn(&Node) -> bool,
) -> bool {
    let Value::Map(entries) = &mut selector.value else { return true };
    let mut can_match = true;
    for (factor, wanted) in entries.iter_mut() {
        let Some(known) = levels.get(&factor.name) else { continue };
        let is_known = |n: &Node| level_name(n).is_some_and(|name| known.contains(&name));
        if let Value::Seq(items) = &mut wanted.value {
            items.retain(|item| !inherited(item) || is_known(item));
            can_match &= !items.is_empty();
        } else if inherited(wanted) && !is_known(wanted) {
            can_match = false;
        }
    }
    can_match
}

fn level_name(node: &Node) -> Option<String> {
    node.as_str().map(str::to_string).or_else(|| scalar_text(node))
}

/// Factor → its level names, from the composed `grid.factors`.
fn grid_levels(root: &Node) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let factors = root.get("grid")?.get("factors")?.as_map()?;
    Some(
        factors
            .iter()
            .map(|(factor, levels)| {
                let names = match &levels.value {
                    Value::Map(entries) => entries.iter().map(|(k, _)| k.name.clone()).collect(),
                    Value::Seq(items) => items.iter().filter_map(level_name).collect(),
                    _ => BTreeSet::new(),
                };
                (factor.name.clone(), names)
            })
            .collect(),
    )
}

fn take(node: &mut Node, key: &str) -> Option<Node> {
    let Value::Map(entries) = &mut node.value else { return None };
    let index = entries.iter().position(|(k, _)| k.name == key)?;
    Some(entries.remove(index).1)
}

fn entry_mut<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    let Value::Map(entries) = &mut node.value else { return None };
    entries.iter_mut().find(|(k, _)| k.name == key).map(|(_, v)| v)
}

/// Replaces the entry named like `key`, or appends it.
fn set(node: &mut Node, key: Key, value: Node) {
    let Value::Map(entries) = &mut node.value else { return };
    match entries.iter_mut().find(|(k, _)| k.name == key.name) {
        Some((_, existing)) => *existing = value,
        None => entries.push((key, value)),
    }
}
