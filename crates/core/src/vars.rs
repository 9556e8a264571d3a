//! Pipeline variables: `vars:` of the file, overridden by a grid variant's levels, plus the
//! built-in `pipeline_dir` (the pipeline file's folder, absolute), resolved on demand (variables may use variables; cycles are
//! reported). A scalar that is exactly `${var}` takes the variable's type; `${var}` inside a
//! string is spliced in as text; `$${` escapes.
use std::path::Path;
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Location, Source, did_you_mean};
use super::yaml::{Key, Node, Value};

/// `vars:` plus the built-in `pipeline_dir`, resolved on demand (variables may use variables).
pub(crate) struct Vars {
    entries: Vec<(Key, Node)>,
    /// The variables resolved so far (used by the stages, directly or through variables).
    used: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// The built-in `pipeline_dir` of the pipeline file at `path`: its folder, absolute (a command
/// stage's program runs in its staging folder, not here).
pub(crate) fn pipeline_dir(path: &Path) -> Node {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let location = Location {
        source: Arc::new(Source { name: path.into(), text: String::new() }),
        line: 1,
        column: 1,
    };
    Node { value: Value::Str(dir.display().to_string()), location }
}

impl Vars {
    /// `vars:` of the file, overridden by `levels` (a grid variant's variables);
    /// `pipeline_dir` from [`pipeline_dir`].
    pub(crate) fn new(
        node: Option<&Node>,
        pipeline_dir: &Node,
        levels: Vec<(Key, Node)>,
    ) -> Result<Self, Diagnostic> {
        let mut entries = match node {
            Some(node) if node.value != Value::Null => node.expect_map("`vars`")?.to_vec(),
            _ => Vec::new(),
        };
        for (key, value) in levels {
            match entries.iter_mut().find(|(k, _)| k.name == key.name) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        }
        let key = Key { name: "pipeline_dir".into(), location: pipeline_dir.location.clone() };
        entries.push((key, pipeline_dir.clone()));
        Ok(Vars { entries, used: Default::default() })
    }

    /// The variables resolved since the last call, directly or through other variables.
    pub(crate) fn take_used(&self) -> std::collections::BTreeSet<String> {
        self.used.take()
    }

    /// The definition of a variable, before interpolation; `None` when it is not defined.
    pub(crate) fn definition(&self, name: &str) -> Option<&Node> {
        self.entries.iter().find(|(k, _)| k.name == name).map(|(_, node)| node)
    }

    fn resolve(
        &self,
        name: &str,
        at: &Location,
        resolving: &mut Vec<String>,
    ) -> Result<Node, Diagnostic> {
        if resolving.iter().any(|n| n == name) {
            return Err(Diagnostic::new(format!(
                "variable cycle: {} → {name}",
                resolving.join(" → ")
            ))
            .at(at));
        }
        self.used.borrow_mut().insert(name.to_string());
        let Some(node) = self.definition(name) else {
            let names = self.entries.iter().map(|(k, _)| k.name.as_str());
            let mut d = Diagnostic::new(format!("unknown variable `{name}`")).at(at);
            d = match did_you_mean(name, names) {
                Some(close) => d.hint(format!("did you mean `{close}`?")),
                None => d.hint("define it under `vars:` or pass `--set vars.NAME=VALUE`"),
            };
            return Err(d);
        };
        let mut node = node.clone();
        resolving.push(name.to_string());
        self.interpolate(&mut node, resolving)?;
        resolving.pop();
        Ok(node)
    }

    pub(crate) fn interpolate(
        &self,
        node: &mut Node,
        resolving: &mut Vec<String>,
    ) -> Result<(), Diagnostic> {
        match &mut node.value {
            Value::Seq(items) => items.iter_mut().try_for_each(|n| self.interpolate(n, resolving)),
            Value::Map(entries) => {
                entries.iter_mut().try_for_each(|(_, n)| self.interpolate(n, resolving))
            }
            Value::Str(text) if text.contains('$') => {
                let whole = text.strip_prefix("${").and_then(|t| t.strip_suffix('}'));
                if let Some(name) = whole.filter(|n| !n.contains(['$', '{', '}'])) {
                    let resolved = self.resolve(name, &node.location, resolving)?;
                    node.value = resolved.value;
                    return Ok(());
                }
                let substituted = self.substitute(text, &node.location, resolving)?;
                node.value = Value::Str(substituted);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn substitute(
        &self,
        text: &str,
        at: &Location,
        resolving: &mut Vec<String>,
    ) -> Result<String, Diagnostic> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('$') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            if let Some(escaped) = after.strip_prefix("${") {
                out.push_str("${");
                rest = escaped;
            } else if let Some(body) = after.strip_prefix('{') {
                let end = body
                    .find('}')
                    .ok_or_else(|| Diagnostic::new(format!("unclosed `${{` in `{text}`")).at(at))?;
                let value = self.resolve(&body[..end], at, resolving)?;
                match value.value {
                    Value::Str(s) => out.push_str(&s),
                    Value::Int(i) => out.push_str(&i.to_string()),
                    Value::Float(f) => out.push_str(&f.to_string()),
                    Value::Bool(b) => out.push_str(&b.to_string()),
                    _ => {
                        return Err(Diagnostic::new(format!(
                            "variable `{}` is {} and cannot be spliced into a string",
                            &body[..end],
                            value.type_name()
                        ))
                        .at(at));
                    }
                }
                rest = &body[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}
