//! A YAML tree that remembers where every node came from.
//!
//! Pipeline validation must point at the offending line and column, which generic
//! deserialisers forget. We build our own small tree from the parser's marked events.
//! Scalars are typed by the YAML 1.2 core schema (plain `true`, `12`, `1e-4` are bool, int,
//! float; quoted scalars are always strings). Untrusted input is bounded: nesting depth and the
//! number of nodes (aliases are expanded, so an alias "billion laughs" hits the node budget) are
//! capped, and duplicate keys are errors.
use std::path::Path;
use std::sync::Arc;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diagnostic::{Diagnostic, Location, Source, did_you_mean};

pub const MAX_DEPTH: usize = 64;
pub const MAX_NODES: usize = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub location: Location,
}

impl Node {
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
    }

    /// Expects a mapping; names what was found instead.
    pub fn expect_map(&self, what: &str) -> Result<&[(Key, Node)], Diagnostic> {
        self.as_map().ok_or_else(|| {
            Diagnostic::new(format!("{what} must be a mapping, found {}", self.type_name()))
                .at(&self.location)
        })
    }

    /// Expects a string; names what was found instead.
    pub fn expect_str(&self, what: &str) -> Result<&str, Diagnostic> {
        self.as_str().ok_or_else(|| {
            Diagnostic::new(format!("{what} must be a string, found {}", self.type_name()))
                .at(&self.location)
        })
    }
}

/// Parses one YAML document from `text`, naming `name` in diagnostics.
pub fn parse(name: &Path, text: &str) -> Result<Node, Diagnostic> {
    // A byte-order mark some editors write is not part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let source = Arc::new(Source { name: name.to_path_buf(), text: text.to_string() });
    TreeBuilder::new(source).build(text)
}

/// Typed value of a scalar as YAML 1.2's core schema reads it.
pub fn scalar_value(text: &str, plain: bool) -> Result<Value, String> {
    if !plain {
        return Ok(Value::Str(text.to_string()));
    }
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | "+.inf" | ".Inf" | "+.Inf" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" => Value::Float(f64::NAN),
        _ if looks_like_int(text) => match text.parse::<i64>() {
            Ok(int) => Value::Int(int),
            Err(_) => return Err(format!("integer `{text}` is out of range")),
        },
        _ if looks_like_float(text) => match text.parse::<f64>() {
            Ok(float) if float.is_finite() => Value::Float(float),
            _ => return Err(format!("number `{text}` is out of range")),
        },
        _ => Value::Str(text.to_string()),
    })
}

fn looks_like_int(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn looks_like_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mantissa_ok = {
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        (!int.is_empty() || !frac.is_empty())
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    };
    let exponent_ok = exponent.is_none_or(looks_like_int);
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

enum Frame {
    Seq(Location, Vec<Node>, usize),
    Map(Location, Vec<(Key, Node)>, Option<Key>, usize),
}

struct TreeBuilder {
    source: Arc<Source>,
    anchors: Vec<(usize, Node)>,
    nodes: usize,
}

impl TreeBuilder {
    fn new(source: Arc<Source>) -> Self {
        TreeBuilder { source, anchors: Vec::new(), nodes: 0 }
    }

    fn location(&self, mark: &Marker) -> Location {
        Location { source: self.source.clone(), line: mark.line(), column: mark.col() + 1 }
    }

    fn build(mut self, text: &str) -> Result<Node, Diagnostic> {
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root: Option<Node> = None;
        loop {
            let (event, mark) = parser.next_token().map_err(|e| {
                Diagnostic::new(format!("malformed YAML: {}", e.info()))
                    .at(&self.location(e.marker()))
            })?;
            let location = self.location(&mark);
            let finished = match event {
                Event::StreamEnd => break,
                Event::DocumentStart if root.is_some() => {
                    return Err(Diagnostic::new("a pipeline file holds one YAML document")
                        .at(&location)
                        .hint("remove the second `---` document"));
                }
                Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => {
                    None
                }
                Event::Scalar(text, style, anchor, _) => {
                    let value = scalar_value(&text, style == TScalarStyle::Plain)
                        .map_err(|message| Diagnostic::new(message).at(&location))?;
                    Some(self.node(value, location, anchor)?)
                }
                Event::Alias(anchor) => {
                    let node = self
                        .anchors
                        .iter()
                        .rev()
                        .find(|(id, _)| *id == anchor)
                        .map(|(_, node)| node.clone())
                        .ok_or_else(|| {
                            Diagnostic::new("alias to an unknown anchor").at(&location)
                        })?;
                    self.count(count_nodes(&node), &location)?;
                    Some(node)
                }
                Event::SequenceStart(anchor, _) => {
                    self.open(&stack, &location)?;
                    stack.push(Frame::Seq(location, Vec::new(), anchor));
                    None
                }
                Event::MappingStart(anchor, _) => {
                    self.open(&stack, &location)?;
                    stack.push(Frame::Map(location, Vec::new(), None, anchor));
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                    Some(Frame::Seq(location, items, anchor)) => {
                        Some(self.node(Value::Seq(items), location, anchor)?)
                    }
                    Some(Frame::Map(location, entries, _, anchor)) => {
                        Some(self.node(Value::Map(merge_keys(entries)?), location, anchor)?)
                    }
                    None => None,
                },
            };
            if let Some(node) = finished {
                match stack.last_mut() {
                    None => root = Some(node),
                    Some(Frame::Seq(_, items, _)) => items.push(node),
                    Some(Frame::Map(_, entries, pending_key, _)) => match pending_key.take() {
                        Some(key) => entries.push((key, node)),
                        None => {
                            let name = match node.value {
                                Value::Str(s) => s,
                                Value::Int(i) => i.to_string(),
                                Value::Bool(b) => b.to_string(),
                                _ => {
                                    return Err(Diagnostic::new(format!(
                                        "mapping keys must be plain names, found {}",
                                        node.type_name()
                                    ))
                                    .at(&node.location));
                                }
                            };
                            if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == name) {
                                return Err(Diagnostic::new(format!("duplicate key `{name}`"))
                                    .at(&node.location)
                                    .hint(format!(
                                        "`{name}` is already set at line {}",
                                        first.location.line
                                    )));
                            }
                            *pending_key = Some(Key { name, location: node.location });
                        }
                    },
                }
            }
        }
        Ok(root.unwrap_or(Node {
            value: Value::Null,
            location: Location { source: self.source.clone(), line: 1, column: 1 },
        }))
    }

    fn open(&mut self, stack: &[Frame], location: &Location) -> Result<(), Diagnostic> {
        if stack.len() >= MAX_DEPTH {
            return Err(
                Diagnostic::new(format!("YAML nested deeper than {MAX_DEPTH} levels")).at(location)
            );
        }
        Ok(())
    }

    fn count(&mut self, nodes: usize, location: &Location) -> Result<(), Diagnostic> {
        self.nodes += nodes;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::new(format!(
                "YAML document expands to more than {MAX_NODES} nodes"
            ))
            .at(location)
            .hint("aliases are expanded; a chain of aliases can multiply the document's size"));
        }
        Ok(())
    }

    fn node(
        &mut self,
        value: Value,
        location: Location,
        anchor: usize,
    ) -> Result<Node, Diagnostic> {
        self.count(1, &location)?;
        let node = Node { value, location };
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        Ok(node)
    }
}

/// Resolves YAML's merge key: `<<: *anchor` (or a list of anchors) adds the entries of those
/// mappings that the mapping does not set itself; the first listed mapping wins over later ones.
fn merge_keys(entries: Vec<(Key, Node)>) -> Result<Vec<(Key, Node)>, Diagnostic> {
    let (merges, mut own): (Vec<_>, Vec<_>) =
        entries.into_iter().partition(|(k, _)| k.name == "<<");
    for (_, source) in merges {
        let sources = match source.value {
            Value::Seq(items) => items,
            _ => vec![source],
        };
        for source in sources {
            let Value::Map(inherited) = source.value else {
                return Err(Diagnostic::new(format!(
                    "`<<` merges mappings, found {}",
                    source.type_name()
                ))
                .at(&source.location)
                .hint("write `<<: *anchor` where `&anchor` names a mapping"));
            };
            for (key, value) in inherited {
                if !own.iter().any(|(k, _)| k.name == key.name) {
                    own.push((key, value));
                }
            }
        }
    }
    Ok(own)
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| 1 + count_nodes(v)).sum(),
        _ => 0,
    }
}

/// Rejects keys of the mapping `node` that are not `allowed`, with a "did you mean".
pub fn check_keys(node: &Node, allowed: &[&str], what: &str) -> Result<(), Diagnostic> {
    for (key, _) in node.expect_map(what)? {
        if !allowed.contains(&key.name.as_str()) {
            let hint = match did_you_mean(&key.name, allowed.iter().copied()) {
                Some(close) => format!("did you mean `{close}`? allowed: {}", allowed.join(", ")),
                None => format!("allowed: {}", allowed.join(", ")),
            };
            return Err(Diagnostic::new(format!("unknown key `{}` in {what}", key.name))
                .at(&key.location)
                .hint(hint));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Node, Diagnostic> {
        parse(Path::new("test.yaml"), text)
    }

    #[test]
    fn merge_keys_add_what_the_mapping_does_not_set() {
        let node = parse_str("a: &base {x: 1, y: 2}\nb: {<<: *base, y: 3, z: 4}\n").unwrap();
        let b = &node.as_map().unwrap()[1].1;
        let entries: Vec<(String, Value)> =
            b.as_map().unwrap().iter().map(|(k, v)| (k.name.clone(), v.value.clone())).collect();
        assert_eq!(
            entries,
            vec![
                ("y".into(), Value::Int(3)),
                ("z".into(), Value::Int(4)),
                ("x".into(), Value::Int(1))
            ]
        );
        let list = parse_str("a: &p {x: 1}\nc: &q {x: 2, w: 5}\nb: {<<: [*p, *q]}\n").unwrap();
        let b = &list.as_map().unwrap()[2].1;
        let names: Vec<(&str, &Value)> =
            b.as_map().unwrap().iter().map(|(k, v)| (k.name.as_str(), &v.value)).collect();
        assert_eq!(names, vec![("x", &Value::Int(1)), ("w", &Value::Int(5))]);
        let error = parse_str("b: {<<: 3}\n").unwrap_err();
        assert!(error.to_string().contains("`<<` merges mappings"), "{error}");
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let root = parse_str("a: 1\nb: 1e-4\nc: '1'\nd: true\ne: ~\nf: x1\ng: 0.5\n").unwrap();
        assert_eq!(root.get("a").unwrap().value, Value::Int(1));
        assert_eq!(root.get("b").unwrap().value, Value::Float(1e-4));
        assert_eq!(root.get("c").unwrap().value, Value::Str("1".into()));
        assert_eq!(root.get("d").unwrap().value, Value::Bool(true));
        assert_eq!(root.get("e").unwrap().value, Value::Null);
        assert_eq!(root.get("f").unwrap().value, Value::Str("x1".into()));
        assert_eq!(root.get("g").unwrap().value, Value::Float(0.5));
    }

    #[test]
    fn nodes_know_their_line_and_column() {
        let root = parse_str("stages:\n  train:\n    lr: 3\n").unwrap();
        let lr = root.get("stages").unwrap().get("train").unwrap().get("lr").unwrap();
        assert_eq!((lr.location.line, lr.location.column), (3, 9));
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        let err = parse_str("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("malformed YAML"), "{err}");
        assert!(err.location.is_some());
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let err = parse_str("a: 1\na: 2\n").unwrap_err();
        assert!(err.to_string().contains("duplicate key `a`"), "{err}");
        assert_eq!(err.location.unwrap().line, 2);
    }

    #[test]
    fn alias_bombs_hit_the_node_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_str(&text).unwrap_err();
        assert!(err.message.contains("more than"), "{err}");
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = parse_str(&text).unwrap_err();
        assert!(err.message.contains("nested deeper"), "{err}");
    }

    #[test]
    fn huge_numbers_are_errors() {
        let err = parse_str("a: 99999999999999999999999\n").unwrap_err();
        assert!(err.message.contains("out of range"), "{err}");
        assert!(parse_str("a: 1e999\n").is_err());
    }
}
