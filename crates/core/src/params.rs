//! Stage parameters: what each stage kind declares, and how YAML values are checked against it.
//!
//! A kind declares its parameters as [`ParamSpec`]s (name, type, default, doc). Validation
//! rejects unknown names (with a "did you mean"), wrong types and out-of-range values, then fills
//! in defaults, so that the canonical parameters — and therefore cache keys — are the same
//! whether a value was written out or defaulted. Numbers are normalised (`1e-4` = `0.0001`, an
//! integer given for a float is a float). A parameter marked `unkeyed` (a data root, say) is
//! available to the stage but left out of its key: moving a dataset must not invalidate results
//! computed from identical file contents.
//!
//! Stage kinds decode their validated parameters once into a typed struct (see
//! [`check_decoder`], which keeps the table and the struct from drifting apart); a choice among
//! names is an enum declared with [`choice!`](crate::choice), whose names feed the table.
use serde_json::{Map, Value as Json};

use super::diagnostic::{Diagnostic, Location, did_you_mean};
use super::yaml::{Node, Value};

#[derive(Debug, Clone, Copy)]
pub enum ParamType {
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
    },
    Bool,
    /// `true`, `false` or an integer in `0..=max`: `false` is 0 and `true` is 1, and those two
    /// counts are keyed as the booleans (a parameter that was a flag keeps its keys when it
    /// becomes a count).
    CountOrBool {
        max: i64,
    },
    Str,
    /// Exactly `digits` hexadecimal digits, either case (a digest such as a sha256).
    Hex {
        digits: usize,
    },
    Path,
    Choice(&'static [&'static str]),
    StrList,
    /// A list whose entries are strings, or one-entry mappings whose key is one of the tags and
    /// whose value is a string (`[scripts/fit.py, {module: mypkg}]`); in the key as written.
    TaggedStrList(&'static [&'static str]),
    /// A command line: a list of strings, numbers and booleans taken as the text they are
    /// written as (`--lr, ${lr}` with a float `lr`).
    Args,
    FloatList {
        min: f64,
        max: f64,
    },
    /// A mapping of names to scalars (strings, numbers, booleans), in the key as canonical JSON.
    Scalars,
}

#[derive(Debug, Clone, Copy)]
pub enum ParamDefault {
    Required,
    /// Optional: left out (or `null`) means "not set", read with `Params::opt_*`.
    Absent,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'static str),
    StrList(&'static [&'static str]),
    /// An empty [`ParamType::Scalars`] mapping.
    NoScalars,
}

#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    pub default: ParamDefault,
    pub doc: &'static str,
    pub keyed: bool,
}

impl ParamSpec {
    pub const fn new(
        name: &'static str,
        ty: ParamType,
        default: ParamDefault,
        doc: &'static str,
    ) -> Self {
        ParamSpec { name, ty, default, doc, keyed: true }
    }

    /// The parameter reaches the stage but not its cache key.
    pub const fn unkeyed(mut self) -> Self {
        self.keyed = false;
        self
    }

    pub fn type_description(&self) -> String {
        match self.ty {
            ParamType::Int { min, max } => format!("an integer in {min}..={max}"),
            ParamType::Float { min, max } => format!("a number in [{min}, {max}]"),
            ParamType::Bool => "true or false".into(),
            ParamType::CountOrBool { max } => format!("true, false or an integer in 0..={max}"),
            ParamType::Str => "a string".into(),
            ParamType::Hex { digits } => format!("{digits} hexadecimal digits"),
            ParamType::Path => "a path".into(),
            ParamType::Choice(options) => format!("one of {}", options.join(", ")),
            ParamType::StrList => "a list of strings".into(),
            ParamType::TaggedStrList(tags) => {
                let tags: Vec<String> = tags.iter().map(|t| format!("{{{t}: …}}")).collect();
                format!("a list of strings and {}", tags.join(", "))
            }
            ParamType::Args => "a list of strings (numbers and booleans as text)".into(),
            ParamType::FloatList { min, max } => format!("a list of numbers in [{min}, {max}]"),
            ParamType::Scalars => "a mapping of names to strings, numbers or booleans".into(),
        }
    }

    /// The default as users write it: `required`, `unset`, or the value.
    pub fn default_description(&self) -> String {
        match self.default {
            ParamDefault::Required => "required".into(),
            ParamDefault::Absent => "unset".into(),
            ParamDefault::Str("") => "\"\"".into(),
            _ => {
                let value = self.default_value().expect("has a default");
                value.as_str().map_or_else(|| value.to_string(), String::from)
            }
        }
    }

    fn default_value(&self) -> Option<Json> {
        Some(match self.default {
            ParamDefault::Required => return None,
            ParamDefault::Absent => Json::Null,
            ParamDefault::Int(v) => Json::from(v),
            ParamDefault::Float(v) => Json::from(v),
            ParamDefault::Bool(v) => Json::from(v),
            ParamDefault::Str(v) => Json::from(v),
            ParamDefault::StrList(v) => Json::from(v.to_vec()),
            ParamDefault::NoScalars => Json::Object(Map::new()),
        })
    }

    fn coerce(&self, node: &Node) -> Result<Json, Diagnostic> {
        let wrong = || {
            Diagnostic::new(format!(
                "parameter `{}` must be {}, found {}",
                self.name,
                self.type_description(),
                describe(node)
            ))
            .at(&node.location)
        };
        match (&self.ty, &node.value) {
            (_, Value::Null) if matches!(self.default, ParamDefault::Absent) => Ok(Json::Null),
            (ParamType::Int { min, max }, Value::Int(v)) => {
                if v < min || v > max {
                    return Err(wrong());
                }
                Ok(Json::from(*v))
            }
            (ParamType::Float { min, max }, Value::Int(_) | Value::Float(_)) => {
                number_in(node, *min, *max).map(Json::from).ok_or_else(wrong)
            }
            (ParamType::FloatList { min, max }, Value::Seq(items)) => items
                .iter()
                .map(|item| number_in(item, *min, *max).map(Json::from).ok_or_else(wrong))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            (ParamType::Bool | ParamType::CountOrBool { .. }, Value::Bool(v)) => Ok(Json::from(*v)),
            (ParamType::CountOrBool { max }, Value::Int(v)) => match *v {
                0 | 1 => Ok(Json::from(*v == 1)),
                v if (2..=*max).contains(&v) => Ok(Json::from(v)),
                _ => Err(wrong()),
            },
            (ParamType::Str | ParamType::Path, Value::Str(v)) => Ok(Json::from(v.as_str())),
            (ParamType::Hex { digits }, Value::Str(v))
                if v.len() == *digits && v.chars().all(|c| c.is_ascii_hexdigit()) =>
            {
                Ok(Json::from(v.as_str()))
            }
            (ParamType::Choice(options), Value::Str(v)) => {
                if options.contains(&v.as_str()) {
                    Ok(Json::from(v.as_str()))
                } else {
                    let mut diagnostic = wrong();
                    if let Some(close) = did_you_mean(v, options.iter().copied()) {
                        diagnostic = diagnostic.hint(format!("did you mean `{close}`?"));
                    }
                    Err(diagnostic)
                }
            }
            (ParamType::StrList, Value::Seq(items)) => items
                .iter()
                .map(|item| item.as_str().map(Json::from).ok_or_else(wrong))
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            (ParamType::TaggedStrList(tags), Value::Seq(items)) => items
                .iter()
                .map(|item| match &item.value {
                    Value::Str(v) => Ok(Json::from(v.as_str())),
                    Value::Map(entries) => match &entries[..] {
                        [(tag, value)] if tags.contains(&tag.name.as_str()) => {
                            let text = value.as_str().ok_or_else(wrong)?;
                            Ok(serde_json::json!({ tag.name.as_str(): text }))
                        }
                        _ => Err(wrong()),
                    },
                    _ => Err(wrong()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            (ParamType::Args, Value::Seq(items)) => items
                .iter()
                .map(|item| match &item.value {
                    Value::Str(v) => Ok(Json::from(v.as_str())),
                    Value::Int(v) => Ok(Json::from(v.to_string())),
                    Value::Float(v) => Ok(Json::from(Json::from(*v).to_string())),
                    Value::Bool(v) => Ok(Json::from(v.to_string())),
                    _ => Err(wrong()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array),
            (ParamType::Scalars, Value::Map(entries)) => entries
                .iter()
                .map(|(key, value)| {
                    let json = match &value.value {
                        Value::Str(v) => Json::from(v.as_str()),
                        Value::Int(v) => Json::from(*v),
                        Value::Float(v) => Json::from(*v),
                        Value::Bool(v) => Json::from(*v),
                        _ => {
                            return Err(Diagnostic::new(format!(
                                "`{}.{}` must be a string, number or boolean, found {}",
                                self.name,
                                key.name,
                                describe(value)
                            ))
                            .at(&value.location));
                        }
                    };
                    Ok((key.name.clone(), json))
                })
                .collect::<Result<Map<_, _>, _>>()
                .map(Json::Object),
            _ => Err(wrong()),
        }
    }
}

/// The node's number when it is one in [min, max].
fn number_in(node: &Node, min: f64, max: f64) -> Option<f64> {
    let v = match node.value {
        Value::Int(i) => i as f64,
        Value::Float(f) => f,
        _ => return None,
    };
    (v >= min && v <= max).then_some(v)
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Int(v) => format!("{v}"),
        Value::Float(v) => format!("the float {v:?}"),
        Value::Bool(v) => format!("{v}"),
        Value::Str(v) => format!("`{v}`"),
        _ => node.type_name().to_string(),
    }
}

/// A problem a kind finds in validated parameters (`StageKind::check`); reported at the
/// position of the parameter, or of one of its items.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub param: &'static str,
    pub item: Option<Item>,
    pub message: String,
    pub hint: Option<String>,
}

/// Which part of a parameter a [`ParamProblem`] is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The list entry at this index.
    Index(usize),
    /// The mapping entry with this key.
    Key(String),
}

impl ParamProblem {
    pub fn new(param: &'static str, item: Option<Item>, message: impl Into<String>) -> Self {
        ParamProblem { param, item, message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The problem as a diagnostic at its position in `node` (the stage's `params:`, if any),
    /// else at `fallback` (the stage's name).
    pub fn diagnostic(&self, node: Option<&Node>, fallback: &Location) -> Diagnostic {
        let param = node.and_then(|n| n.get(self.param));
        let item = param.and_then(|p| match (&self.item, &p.value) {
            (Some(Item::Index(i)), Value::Seq(items)) => items.get(*i).map(|n| &n.location),
            (Some(Item::Key(k)), Value::Map(entries)) => {
                entries.iter().find(|(key, _)| key.name == *k).map(|(key, _)| &key.location)
            }
            _ => None,
        });
        let at = item.or(param.map(|p| &p.location)).or(node.map(|n| &n.location));
        let mut diagnostic = Diagnostic::new(self.message.clone()).at(at.unwrap_or(fallback));
        if let Some(hint) = &self.hint {
            diagnostic = diagnostic.hint(hint.clone());
        }
        diagnostic
    }
}

/// An enum whose variants are the names a [`ParamType::Choice`] parameter accepts; declare one
/// with [`choice!`](crate::choice).
pub trait Choice: Sized + Copy + 'static {
    /// Every accepted name, in declaration order (the parameter's `ParamType::Choice`).
    const NAMES: &'static [&'static str];
    /// Every variant, in declaration order.
    const ALL: &'static [Self];
    fn from_name(name: &str) -> Option<Self>;
    fn name(self) -> &'static str;
}

/// Declares an enum of named choices and implements [`Choice`] and `Display` for it:
///
/// ```
/// ablate_core::choice! {
///     /// How the learning rate evolves.
///     pub enum Schedule { Constant = "constant", Cosine = "cosine" }
/// }
/// use ablate_core::params::Choice;
/// assert_eq!(Schedule::NAMES, &["constant", "cosine"]);
/// assert_eq!(Schedule::from_name("cosine"), Some(Schedule::Cosine));
/// ```
#[macro_export]
macro_rules! choice {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $crate::params::Choice for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn from_name(name: &str) -> Option<Self> {
                match name { $($text => Some(Self::$variant),)+ _ => None }
            }
            fn name(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::params::Choice::name(*self))
            }
        }
    };
}

/// Validated parameters of one stage, every declared parameter present, sorted by name (the
/// order of a JSON object's keys, and of keys' parameters). A list, not a map: a grid holds
/// the parameters of tens of thousands of instances, and looks each up by name rarely.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    values: Vec<Param>,
}

/// One parameter's validated value.
#[derive(Debug, Clone, PartialEq)]
struct Param {
    name: &'static str,
    /// Whether it enters the cache key (see [`ParamSpec::unkeyed`]).
    keyed: bool,
    value: Json,
}

impl Params {
    /// Checks `node` (the stage's `params:` mapping, if any) against `specs`.
    pub fn validate(
        specs: &[ParamSpec],
        node: Option<&Node>,
        kind: &str,
    ) -> Result<Params, Vec<Diagnostic>> {
        let mut diagnostics = Vec::new();
        // By the index of their spec.
        let mut given: Vec<Option<Json>> = vec![None; specs.len()];
        let entries = match node {
            None => &[][..],
            Some(node) if node.value == Value::Null => &[][..],
            Some(node) => match node.expect_map("`params`") {
                Ok(entries) => entries,
                Err(diagnostic) => return Err(vec![diagnostic]),
            },
        };
        for (key, value) in entries {
            match specs.iter().position(|spec| spec.name == key.name) {
                Some(i) => match specs[i].coerce(value) {
                    Ok(json) => given[i] = Some(json),
                    Err(diagnostic) => diagnostics.push(diagnostic),
                },
                None => {
                    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                    let hint = match did_you_mean(&key.name, names.iter().copied()) {
                        Some(close) => {
                            format!("did you mean `{close}`? `{kind}` takes: {}", names.join(", "))
                        }
                        None => format!("`{kind}` takes: {}", names.join(", ")),
                    };
                    diagnostics.push(
                        Diagnostic::new(format!(
                            "unknown parameter `{}` for kind `{kind}`",
                            key.name
                        ))
                        .at(&key.location)
                        .hint(hint),
                    );
                }
            }
        }
        let mut values = Vec::with_capacity(specs.len());
        for (spec, given) in specs.iter().zip(given) {
            match given.or_else(|| spec.default_value()) {
                Some(value) => values.push(Param { name: spec.name, keyed: spec.keyed, value }),
                None => {
                    let mut diagnostic = Diagnostic::new(format!(
                        "missing required parameter `{}` ({})",
                        spec.name, spec.doc
                    ));
                    if let Some(node) = node {
                        diagnostic = diagnostic.at(&node.location);
                    }
                    diagnostics.push(diagnostic);
                }
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        Ok(Params::sorted(values))
    }

    fn sorted(mut values: Vec<Param>) -> Params {
        values.sort_unstable_by_key(|p| p.name);
        Params { values }
    }

    /// Rebuilds parameters that were validated elsewhere (in the parent of a worker process):
    /// those of `specs` that `values` has.
    pub fn from_values(specs: &[ParamSpec], mut values: Map<String, Json>) -> Params {
        let values = specs
            .iter()
            .filter_map(|spec| {
                let value = values.remove(spec.name)?;
                Some(Param { name: spec.name, keyed: spec.keyed, value })
            })
            .collect();
        Params::sorted(values)
    }

    /// The parameters a result recorded (its keyed ones), the declared default filled in for
    /// every other: what a reader of stored results decodes, whatever was added since.
    pub fn recorded(specs: &[ParamSpec], recorded: &Map<String, Json>) -> Params {
        let values = specs
            .iter()
            .filter_map(|spec| {
                let value = recorded.get(spec.name).cloned().or_else(|| spec.default_value())?;
                Some(Param { name: spec.name, keyed: spec.keyed, value })
            })
            .collect();
        Params::sorted(values)
    }

    /// Every parameter and its value, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Json)> {
        self.values.iter().map(|p| (p.name, &p.value))
    }

    /// Every parameter, as a JSON object.
    pub fn to_map(&self) -> Map<String, Json> {
        self.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
    }

    /// The parameters that enter the cache key, in canonical (sorted) order.
    pub fn keyed(&self) -> Map<String, Json> {
        self.keyed_values().map(|(name, value)| (name.to_string(), value.clone())).collect()
    }

    /// The parameters that enter the cache key and their values, by name.
    pub fn keyed_values(&self) -> impl Iterator<Item = (&'static str, &Json)> {
        self.values.iter().filter(|p| p.keyed).map(|p| (p.name, &p.value))
    }

    /// The value of parameter `name`, if it is one.
    pub fn value(&self, name: &str) -> Option<&Json> {
        let found = self.values.binary_search_by(|p| p.name.cmp(name));
        found.ok().map(|i| &self.values[i].value)
    }

    pub fn int(&self, name: &str) -> i64 {
        self.get(name).as_i64().unwrap_or_else(|| panic!("parameter `{name}` is not an integer"))
    }

    pub fn usize(&self, name: &str) -> usize {
        usize::try_from(self.int(name)).unwrap_or_else(|_| panic!("parameter `{name}` is negative"))
    }

    pub fn float(&self, name: &str) -> f64 {
        self.get(name).as_f64().unwrap_or_else(|| panic!("parameter `{name}` is not a number"))
    }

    pub fn bool(&self, name: &str) -> bool {
        self.get(name).as_bool().unwrap_or_else(|| panic!("parameter `{name}` is not a boolean"))
    }

    /// A [`ParamType::CountOrBool`] parameter as its count.
    pub fn count(&self, name: &str) -> u32 {
        match self.get(name) {
            Json::Bool(flag) => u32::from(*flag),
            value => value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or_else(|| panic!("parameter `{name}` is not a count")),
        }
    }

    pub fn str(&self, name: &str) -> &str {
        self.get(name).as_str().unwrap_or_else(|| panic!("parameter `{name}` is not a string"))
    }

    /// A [`ParamType::Choice`] parameter as its enum.
    pub fn choice<C: Choice>(&self, name: &str) -> C {
        let text = self.str(name);
        C::from_name(text).unwrap_or_else(|| panic!("parameter `{name}` is `{text}`, not a choice"))
    }

    /// An integer parameter whose range is within `u32`.
    pub fn u32(&self, name: &str) -> u32 {
        u32::try_from(self.int(name)).unwrap_or_else(|_| panic!("parameter `{name}` exceeds u32"))
    }

    /// An optional integer ([`ParamDefault::Absent`]); `None` when not set.
    pub fn opt_int(&self, name: &str) -> Option<i64> {
        let value = self.get(name);
        (!value.is_null()).then(|| self.int(name))
    }

    /// An optional number ([`ParamDefault::Absent`]); `None` when not set.
    pub fn opt_float(&self, name: &str) -> Option<f64> {
        let value = self.get(name);
        (!value.is_null()).then(|| self.float(name))
    }

    /// An optional string ([`ParamDefault::Absent`]); `None` when not set.
    pub fn opt_str(&self, name: &str) -> Option<&str> {
        let value = self.get(name);
        (!value.is_null()).then(|| self.str(name))
    }

    /// An optional list of numbers ([`ParamDefault::Absent`]); `None` when not set.
    pub fn opt_float_list(&self, name: &str) -> Option<Vec<f64>> {
        let value = self.get(name);
        let list = value.as_array()?;
        Some(
            list.iter()
                .map(|v| {
                    v.as_f64()
                        .unwrap_or_else(|| panic!("parameter `{name}` is not a list of numbers"))
                })
                .collect(),
        )
    }

    /// An optional list of strings ([`ParamDefault::Absent`]); `None` when not set.
    pub fn opt_str_list(&self, name: &str) -> Option<Vec<String>> {
        let value = self.get(name);
        (!value.is_null()).then(|| self.str_list(name))
    }

    /// A [`ParamType::Scalars`] parameter.
    pub fn scalars(&self, name: &str) -> &Map<String, Json> {
        self.get(name).as_object().unwrap_or_else(|| panic!("parameter `{name}` is not a mapping"))
    }

    pub fn str_list(&self, name: &str) -> Vec<String> {
        let list =
            self.get(name).as_array().unwrap_or_else(|| panic!("parameter `{name}` is not a list"));
        list.iter().filter_map(|v| v.as_str().map(String::from)).collect()
    }

    /// A [`ParamType::TaggedStrList`] parameter: each entry's tag (`None` for a plain string)
    /// and text.
    pub fn tagged_str_list(&self, name: &str) -> Vec<(Option<String>, String)> {
        let list =
            self.get(name).as_array().unwrap_or_else(|| panic!("parameter `{name}` is not a list"));
        list.iter()
            .map(|entry| match entry {
                Json::String(text) => (None, text.clone()),
                Json::Object(tagged) => {
                    let (tag, text) = tagged.iter().next().expect("one entry per tagged item");
                    (Some(tag.clone()), text.as_str().unwrap_or_default().to_string())
                }
                _ => panic!("parameter `{name}` is not a list of strings and tagged strings"),
            })
            .collect()
    }

    /// Panics on undeclared names: stages only read what they declared, and validation filled it.
    fn get(&self, name: &str) -> &Json {
        READ.with(|read| {
            if let Some(read) = read.borrow_mut().as_mut() {
                read.push(name.to_string());
            }
        });
        self.value(name).unwrap_or_else(|| panic!("parameter `{name}` is not declared"))
    }
}

/// Checks a kind's decoder against its table, for the kind's unit test: `decode` must accept the
/// defaults (with `required`, YAML giving the parameters without one), and must read every
/// declared parameter, so that the table and the typed struct cannot drift apart. Panics naming
/// the parameters the decoder ignores.
pub fn check_decoder<T>(specs: &[ParamSpec], required: &str, decode: fn(&Params) -> T) {
    let node = super::yaml::parse(std::path::Path::new("required"), required).expect("YAML");
    let node = (node.value != Value::Null).then_some(node);
    let params = Params::validate(specs, node.as_ref(), "kind")
        .unwrap_or_else(|e| panic!("the defaults do not validate: {e:?}"));
    READ.with(|read| *read.borrow_mut() = Some(Vec::new()));
    decode(&params);
    let read = READ.with(|read| read.borrow_mut().take()).unwrap_or_default();
    let ignored: Vec<&str> =
        specs.iter().map(|s| s.name).filter(|n| !read.iter().any(|r| r == n)).collect();
    assert!(ignored.is_empty(), "the decoder does not read {ignored:?}");
}

thread_local! {
    /// The parameters read on this thread while [`check_decoder`] watches.
    static READ: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use std::path::Path;

    const SPECS: &[ParamSpec] = &[
        ParamSpec::new(
            "lr",
            ParamType::Float { min: 0.0, max: 10.0 },
            ParamDefault::Float(1e-3),
            "learning rate",
        ),
        ParamSpec::new(
            "epochs",
            ParamType::Int { min: 1, max: 100 },
            ParamDefault::Int(5),
            "epochs",
        ),
        ParamSpec::new("root", ParamType::Path, ParamDefault::Str("."), "data root").unkeyed(),
    ];

    fn params(text: &str) -> Result<Params, Vec<Diagnostic>> {
        let node = yaml::parse(Path::new("p.yaml"), text).unwrap();
        Params::validate(SPECS, Some(&node), "train")
    }

    #[test]
    fn defaults_fill_in_and_numbers_normalise() {
        let written = params("lr: 0.001\nepochs: 5\n").unwrap();
        let defaulted = params("{}").unwrap();
        assert_eq!(written.keyed(), defaulted.keyed());
        assert_eq!(params("lr: 1").unwrap().float("lr"), 1.0);
    }

    #[test]
    fn unkeyed_parameters_stay_out_of_the_key() {
        let p = params("root: /data\n").unwrap();
        assert_eq!(p.str("root"), "/data");
        assert!(!p.keyed().contains_key("root"));
    }

    #[test]
    fn unknown_names_get_a_hint() {
        let errors = params("lrr: 0.1\n").unwrap_err();
        assert!(errors[0].message.contains("unknown parameter `lrr`"));
        assert!(errors[0].hint.as_deref().unwrap().contains("did you mean `lr`"));
        assert_eq!(errors[0].location.as_ref().unwrap().line, 1);
    }

    #[test]
    fn wrong_types_and_ranges_are_rejected() {
        let errors = params("epochs: 1.5\nlr: -1\n").unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].message.contains("must be an integer"), "{}", errors[0]);
        assert!(errors[1].message.contains("must be a number in"), "{}", errors[1]);
    }

    #[test]
    fn a_mapping_of_scalars_keeps_scalars_and_locates_the_rest() {
        let specs = [ParamSpec::new("vars", ParamType::Scalars, ParamDefault::NoScalars, "vars")];
        let parse = |text: &str| {
            let node = yaml::parse(Path::new("p.yaml"), text).unwrap();
            Params::validate(&specs, Some(&node), "command")
        };
        let p = parse("vars: {lr: 1e-3, arch: convnext, deep: true, n: 3}\n").unwrap();
        assert_eq!(
            Json::Object(p.scalars("vars").clone()),
            serde_json::json!({"arch": "convnext", "deep": true, "lr": 0.001, "n": 3})
        );
        assert!(parse("{}").unwrap().scalars("vars").is_empty());
        let args = [ParamSpec::new("run", ParamType::Args, ParamDefault::Required, "argv")];
        let node = yaml::parse(Path::new("p.yaml"), "run: [fit, --lr, 1e-4, -n, 3, true]").unwrap();
        let run = Params::validate(&args, Some(&node), "command").unwrap().str_list("run");
        assert_eq!(run, ["fit", "--lr", "0.0001", "-n", "3", "true"]);
        let errors = parse("vars:\n  lr: [1, 2]\n").unwrap_err();
        assert!(errors[0].message.contains("`vars.lr` must be a string, number or boolean"));
        assert_eq!(errors[0].location.as_ref().unwrap().line, 2);
    }

    #[test]
    fn counts_key_their_flags_as_booleans_and_tagged_lists_keep_their_tags() {
        let specs = [
            ParamSpec::new(
                "device",
                ParamType::CountOrBool { max: 64 },
                ParamDefault::Bool(false),
                "d",
            ),
            ParamSpec::new(
                "deps",
                ParamType::TaggedStrList(&["module"]),
                ParamDefault::StrList(&[]),
                "deps",
            ),
        ];
        let parse = |text: &str| {
            let node = yaml::parse(Path::new("p.yaml"), text).unwrap();
            Params::validate(&specs, Some(&node), "command")
        };
        for (written, keyed, count) in [
            ("true", serde_json::json!(true), 1),
            ("1", serde_json::json!(true), 1),
            ("0", serde_json::json!(false), 0),
            ("4", serde_json::json!(4), 4),
        ] {
            let p = parse(&format!("device: {written}")).unwrap();
            assert_eq!(
                (p.keyed()["device"].clone(), p.count("device")),
                (keyed, count),
                "{written}"
            );
        }
        for bad in ["-1", "65", "2.5", "two"] {
            let errors = parse(&format!("device: {bad}")).unwrap_err();
            assert!(errors[0].message.contains("true, false or an integer in 0..=64"), "{bad}");
        }
        let p = parse("deps: [a.py, {module: mypkg}]").unwrap();
        assert_eq!(p.keyed()["deps"], serde_json::json!(["a.py", {"module": "mypkg"}]));
        assert_eq!(
            p.tagged_str_list("deps"),
            [(None, "a.py".to_string()), (Some("module".to_string()), "mypkg".to_string())]
        );
        for bad in ["[{modul: x}]", "[{module: x, other: y}]", "[{module: [x]}]", "[1]"] {
            let errors = parse(&format!("deps: {bad}")).unwrap_err();
            assert!(
                errors[0].message.contains("a list of strings and {module: …}"),
                "{bad}: {errors:?}"
            );
        }
    }
}
