//! `--set path=value` overrides, applied to the parsed YAML before anything else.
use std::path::Path;

use super::diagnostic::Diagnostic;
use super::yaml::{self, Key, Node, Value};

/// The top-level keys a full override path may start with.
pub(crate) const TOP_LEVEL_KEYS: &[&str] = &["name", "description", "vars", "grid", "stages"];

/// `--factor name=a,b,c` as the `--set` that adds (or replaces) the factor:
/// `grid.factors.name=[a, b, c]`, so that it is parsed and checked like a factor of the file.
pub fn factor_assignment(factor: &str) -> Result<String, Diagnostic> {
    let hint = "for example --factor lr=1e-4,3e-4,1e-3";
    let (name, levels) = factor.split_once('=').ok_or_else(|| {
        Diagnostic::new(format!("--factor `{factor}` is not of the form name=level,level,…"))
            .hint(hint)
    })?;
    let levels: Vec<&str> = levels.split(',').map(str::trim).collect();
    if name.is_empty() || name.contains('.') || levels.iter().any(|l| l.is_empty()) {
        return Err(Diagnostic::new(format!(
            "--factor `{factor}`: a factor name and its levels, separated by commas, are needed"
        ))
        .hint(hint));
    }
    Ok(format!("grid.factors.{name}=[{}]", levels.join(", ")))
}

/// Applies one `--set path=value` to the parsed file.
///
/// `path` is a dotted path from the top (`stages.train.params.lr`), or a shorthand: a variable
/// name (`size` = `vars.size`) or `stage.param…` (`train.lr` = `stages.train.params.lr`,
/// `fit.vars.lr` = `stages.fit.params.vars.lr`).
pub(crate) fn apply_override(root: &mut Node, assignment: &str) -> Result<(), Diagnostic> {
    let (path, value_text) = assignment.split_once('=').ok_or_else(|| {
        Diagnostic::new(format!("--set `{assignment}` is not of the form path=value"))
            .hint("for example --set train.lr=2e-5 or --set vars.size=32")
    })?;
    let value = yaml::parse(Path::new("--set"), value_text)
        .map_err(|d| Diagnostic::new(format!("--set `{assignment}`: {}", d.message)))?;
    let value = Node { value: value.value, location: value.location };
    let segments: Vec<&str> = path.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(Diagnostic::new(format!("--set `{assignment}`: empty segment in `{path}`")));
    }
    let first = segments[0];
    let is_var = root.get("vars").and_then(|v| v.get(first)).is_some();
    let is_stage = root.get("stages").and_then(|s| s.get(first)).is_some();
    let full: Vec<&str> = if TOP_LEVEL_KEYS.contains(&first) {
        segments
    } else if is_var && segments.len() == 1 {
        vec!["vars", first]
    } else if is_stage && segments.len() >= 2 {
        ["stages", first, "params"].into_iter().chain(segments[1..].iter().copied()).collect()
    } else {
        return Err(Diagnostic::new(format!(
            "--set `{assignment}`: `{first}` is neither a variable nor a stage"
        ))
        .hint("use a full path such as stages.train.params.lr"));
    };
    let mut node = root;
    for segment in &full[..full.len() - 1] {
        node = child_map(node, segment, assignment)?;
    }
    let last = full[full.len() - 1];
    let Value::Map(entries) = &mut node.value else { unreachable!("child_map ensures a mapping") };
    match entries.iter_mut().find(|(k, _)| k.name == last) {
        Some((_, existing)) => *existing = value,
        None => {
            entries.push((Key { name: last.to_string(), location: value.location.clone() }, value))
        }
    }
    Ok(())
}

fn child_map<'a>(
    node: &'a mut Node,
    segment: &str,
    assignment: &str,
) -> Result<&'a mut Node, Diagnostic> {
    if node.value == Value::Null {
        node.value = Value::Map(Vec::new());
    }
    let location = node.location.clone();
    let type_name = node.type_name();
    let Value::Map(entries) = &mut node.value else {
        return Err(Diagnostic::new(format!(
            "--set `{assignment}`: `{segment}` is inside {type_name}"
        ))
        .at(&location));
    };
    let index = match entries.iter().position(|(k, _)| k.name == segment) {
        Some(index) => index,
        None => {
            let key = Key { name: segment.to_string(), location: location.clone() };
            entries.push((key, Node { value: Value::Map(Vec::new()), location }));
            entries.len() - 1
        }
    };
    let child = &mut entries[index].1;
    if child.value == Value::Null {
        child.value = Value::Map(Vec::new());
    }
    if child.as_map().is_none() {
        return Err(Diagnostic::new(format!(
            "--set `{assignment}`: `{segment}` is {}, not a mapping",
            child.type_name()
        ))
        .at(&child.location));
    }
    Ok(child)
}
