//! Stage fingerprints: what decides whether a stage must run, and why it must.
//!
//! A stage's cache key is the blake3 hash of its [`Fingerprint`], which holds:
//!
//! - the stage **kind** and its **implementation version** (bumped when the code computes
//!   something different);
//! - its **parameters**, validated, defaults filled in and canonically ordered, so equivalent
//!   spellings (`1e-4`, `0.0001`) give one key; parameters declared unkeyed (data roots) are out;
//! - for each input role, the upstream stage's **output digest** — not its key, and not its
//!   name. Chaining on content gives early cutoff: when an upstream stage re-runs and
//!   reproduces identical bytes, its consumers keep their keys and stay cached (as in Bazel and
//!   DVC); leaving names out means a stage's key does not depend on which variants of a grid
//!   run, nor on how their instances are named;
//! - the content digest of every **external file** it reads (CSV rows, images), never mtimes;
//! - the digest of the output of its **key command**, if its kind declares one (a command
//!   stage's `key_cmd`, e.g. `pip freeze`: the environment beyond the files it names; see
//!   `key_commands`). The field is left out of the hashed JSON when empty, so the keys of
//!   stages without one are what they were before key commands existed;
//! - a **toolchain** fingerprint: ablate's version, and for device stages the libtorch version,
//!   device kind and precision.
//!
//! A stage with a workspace (state kept between runs, e.g. training checkpoints) gets a second
//! key, [`Fingerprint::workspace_key`], computed the same way but without the parameters it may
//! extend (raising `epochs` continues training from the last checkpoint).
//!
//! The fingerprint is stored with each result, so when a key changes [`explain`] can say which
//! component changed as a list of [`DirtyReason`]s (`params.lr: 0.001 → 0.0001`,
//! `upstream data changed`, `input file images/train/1_left.jpg changed`, …). The outputs of
//! key commands are kept in the cache by their digest (`Store::key_output`), so that a changed
//! one is explained by its changed lines (`torch==2.10.0 → torch==2.11.0`).
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::line_diff::{self, LineChange};

/// Hex blake3 digest identifying a stage result (or a workspace): the hash of a
/// [`Fingerprint`]. Recorded as a plain string; read as `str` wherever a path or a lookup
/// needs one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StageKey(String);

impl StageKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key of the concatenation of `parts`.
    fn of(parts: &[&[u8]]) -> StageKey {
        let mut hasher = blake3::Hasher::new();
        for part in parts {
            hasher.update(part);
        }
        StageKey(hasher.finalize().to_hex().to_string())
    }
}

impl std::ops::Deref for StageKey {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for StageKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for StageKey {
    fn as_ref(&self) -> &std::path::Path {
        self.0.as_ref()
    }
}

impl From<String> for StageKey {
    fn from(key: String) -> StageKey {
        StageKey(key)
    }
}

impl From<&str> for StageKey {
    fn from(key: &str) -> StageKey {
        StageKey(key.to_string())
    }
}

impl PartialEq<&str> for StageKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for StageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub kind: String,
    pub version: u32,
    pub params: serde_json::Map<String, Json>,
    /// Input role → upstream stage and the digest of its output.
    pub upstream: BTreeMap<String, Upstream>,
    /// External file label → content digest.
    pub files: BTreeMap<String, String>,
    /// Key command (`stage::KeyCommand::label`) → digest of its output.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<String, String>,
    pub toolchain: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upstream {
    pub stage: String,
    /// `None` while the upstream stage has yet to run: the key is not known until it has.
    pub output: Option<String>,
}

impl Fingerprint {
    /// The cache key, or `None` while an upstream output is still unknown. The upstream
    /// stages enter it by role and output digest only (see the module doc).
    pub fn key(&self) -> Option<StageKey> {
        FingerprintRef::from(self).key()
    }

    /// The key of the stage's workspace (see `stage::Workspace`): the cache key of this
    /// fingerprint without the parameters a later run may raise and continue from.
    pub fn workspace_key(&self, extendable: &[&str]) -> Option<StageKey> {
        FingerprintRef::from(self).workspace_key(extendable)
    }
}

/// A [`Fingerprint`] borrowed from what it is made of (a stage's spec, the outputs of its
/// upstream stages, the toolchain): its keys without the copies an owned fingerprint holds. A
/// plan computes the keys of thousands of stages, and an owned fingerprint only of those whose
/// last result it explains (see [`why_dirty`]).
#[derive(Debug, Clone)]
pub struct FingerprintRef<'a> {
    kind: &'a str,
    version: u32,
    /// The keyed parameters.
    params: Vec<(&'a str, &'a Json)>,
    /// Sorted by input role.
    upstream: Vec<UpstreamRef<'a>>,
    files: Cow<'a, BTreeMap<String, String>>,
    commands: &'a BTreeMap<String, String>,
    toolchain: &'a BTreeMap<String, String>,
    /// Written on first use by the key and the workspace key; `None` while an upstream output
    /// is unknown.
    canonical: OnceCell<Option<Canonical<'a>>>,
}

/// A fingerprint's canonical JSON (see [`FingerprintRef::canonical`]) and where its kind and
/// each parameter's entry are in it: the workspace key hashes the same bytes with another kind
/// and without some entries, instead of writing them again.
#[derive(Debug, Clone)]
struct Canonical<'a> {
    json: Vec<u8>,
    /// The kind, a JSON string.
    kind: Range<usize>,
    /// Each parameter's entry, `"name":value,`, in the order written.
    params: Vec<(&'a str, Range<usize>)>,
}

/// An input of a [`FingerprintRef`].
#[derive(Debug, Clone, Copy)]
pub struct UpstreamRef<'a> {
    pub role: &'a str,
    pub stage: &'a str,
    /// `None` while the upstream stage has yet to run.
    pub output: Option<&'a str>,
}

impl<'a> From<&'a Fingerprint> for FingerprintRef<'a> {
    fn from(f: &'a Fingerprint) -> FingerprintRef<'a> {
        let upstream = f.upstream.iter().map(|(role, u)| UpstreamRef {
            role,
            stage: &u.stage,
            output: u.output.as_deref(),
        });
        FingerprintRef::new(
            &f.kind,
            f.version,
            f.params.iter().map(|(name, value)| (name.as_str(), value)).collect(),
            upstream.collect(),
            Cow::Borrowed(&f.files),
            &f.commands,
            &f.toolchain,
        )
    }
}

impl<'a> FingerprintRef<'a> {
    /// The fingerprint of these parts: `params`, the keyed parameters, in any order;
    /// `upstream` sorted by role, as a [`Fingerprint`]'s map holds them.
    pub fn new(
        kind: &'a str,
        version: u32,
        params: Vec<(&'a str, &'a Json)>,
        upstream: Vec<UpstreamRef<'a>>,
        files: Cow<'a, BTreeMap<String, String>>,
        commands: &'a BTreeMap<String, String>,
        toolchain: &'a BTreeMap<String, String>,
    ) -> FingerprintRef<'a> {
        let canonical = OnceCell::new();
        FingerprintRef { kind, version, params, upstream, files, commands, toolchain, canonical }
    }

    /// See [`Fingerprint::key`].
    pub fn key(&self) -> Option<StageKey> {
        self.canonical().map(|c| StageKey::of(&[&c.json]))
    }

    /// See [`Fingerprint::workspace_key`]: the canonical JSON with `kind/workspace` for the
    /// kind and without the entries of `extendable`.
    pub fn workspace_key(&self, extendable: &[&str]) -> Option<StageKey> {
        let Canonical { json, kind, params } = self.canonical()?;
        let mut workspace_kind = Vec::new();
        write_json_str(&mut workspace_kind, &format!("{}/workspace", self.kind));
        let mut parts = vec![&json[..kind.start], &workspace_kind[..]];
        let mut at = kind.end;
        for (_, entry) in params.iter().filter(|(name, _)| extendable.contains(name)) {
            parts.push(&json[at..entry.start]);
            at = entry.end;
        }
        parts.push(&json[at..]);
        Some(StageKey::of(&parts))
    }

    /// The owned fingerprint, as results record it.
    pub fn to_fingerprint(&self) -> Fingerprint {
        let upstream = self.upstream.iter().map(|u| {
            let output = u.output.map(str::to_string);
            (u.role.to_string(), Upstream { stage: u.stage.to_string(), output })
        });
        Fingerprint {
            kind: self.kind.to_string(),
            version: self.version,
            params: self.params.iter().map(|&(name, value)| (name.into(), value.clone())).collect(),
            upstream: upstream.collect(),
            files: self.files.clone().into_owned(),
            commands: self.commands.clone(),
            toolchain: self.toolchain.clone(),
        }
    }

    /// What the keys hash: the canonical JSON of the fingerprint with each upstream stage
    /// replaced by its output digest, the fields in sorted order as `write_canonical` writes
    /// any object, written into one buffer (a load's thousands of file digests are not copied
    /// into a JSON value first; blake3 is fastest on large updates).
    fn canonical(&self) -> Option<&Canonical<'a>> {
        self.canonical.get_or_init(|| self.write_canonical()).as_ref()
    }

    fn write_canonical(&self) -> Option<Canonical<'a>> {
        if self.upstream.iter().any(|u| u.output.is_none()) {
            return None;
        }
        let mut out = Vec::with_capacity(4096);
        let string = write_json_str;
        let field = |out: &mut Vec<u8>, name: &str| {
            string(out, name);
            out.extend_from_slice(b":");
        };
        let strings = |out: &mut Vec<u8>, map: &BTreeMap<String, String>| {
            out.extend_from_slice(b"{");
            for (key, value) in map {
                string(out, key);
                out.extend_from_slice(b":");
                string(out, value);
                out.extend_from_slice(b",");
            }
            out.extend_from_slice(b"},");
        };
        out.extend_from_slice(b"{");
        if !self.commands.is_empty() {
            field(&mut out, "commands");
            strings(&mut out, self.commands);
        }
        field(&mut out, "files");
        strings(&mut out, &self.files);
        field(&mut out, "kind");
        let kind_start = out.len();
        string(&mut out, self.kind);
        let kind = kind_start..out.len();
        out.extend_from_slice(b",");
        field(&mut out, "params");
        let params = write_canonical_entries(self.params.iter().copied(), &mut out);
        out.extend_from_slice(b",");
        field(&mut out, "toolchain");
        strings(&mut out, self.toolchain);
        field(&mut out, "upstream");
        out.extend_from_slice(b"{");
        for upstream in &self.upstream {
            string(&mut out, upstream.role);
            out.extend_from_slice(b":");
            string(&mut out, upstream.output.expect("checked above"));
            out.extend_from_slice(b",");
        }
        out.extend_from_slice(b"},");
        field(&mut out, "version");
        out.extend_from_slice(self.version.to_string().as_bytes());
        out.extend_from_slice(b",}");
        Some(Canonical { json: out, kind, params })
    }
}

/// Writes JSON for the key, object keys sorted whatever serde_json's map order is.
fn write_canonical(value: &Json, out: &mut Vec<u8>) {
    match value {
        Json::Object(map) => {
            write_canonical_entries(map.iter().map(|(key, value)| (key.as_str(), value)), out);
        }
        Json::Array(items) => {
            out.extend_from_slice(b"[");
            for item in items {
                write_canonical(item, out);
                out.extend_from_slice(b",");
            }
            out.extend_from_slice(b"]");
        }
        Json::String(text) => write_json_str(out, text),
        scalar => {
            serde_json::to_writer(&mut *out, scalar).expect("JSON values serialise");
        }
    }
}

/// Writes `text` as serde_json writes a string, byte for byte; one that needs no escape (a
/// control character, a quote or a backslash), as nearly all do, is copied at once instead of
/// byte by byte. (The test folds over every byte instead of stopping at the first: the
/// compiler turns that loop into vector instructions.)
fn write_json_str(out: &mut Vec<u8>, text: &str) {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    if text.bytes().fold(false, |any, b| any | escaped(b)) {
        serde_json::to_writer(&mut *out, text).expect("strings serialise");
    } else {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// An object of these entries, in sorted order; returns where each entry (`"name":value,`)
/// is.
fn write_canonical_entries<'a>(
    entries: impl Iterator<Item = (&'a str, &'a Json)>,
    out: &mut Vec<u8>,
) -> Vec<(&'a str, Range<usize>)> {
    let mut entries: Vec<_> = entries.collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    out.extend_from_slice(b"{");
    let mut written = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let start = out.len();
        write_json_str(out, key);
        out.extend_from_slice(b":");
        write_canonical(value, out);
        out.extend_from_slice(b",");
        written.push((key, start..out.len()));
    }
    out.extend_from_slice(b"}");
    written
}

/// Why a stage must run.
#[derive(Debug, Clone, PartialEq)]
pub enum DirtyReason {
    /// No earlier result of this stage is known.
    NeverRun,
    KindChanged {
        from: String,
        to: String,
    },
    ImplementationChanged {
        from: u32,
        to: u32,
    },
    ParamChanged {
        name: String,
        from: Option<Json>,
        to: Option<Json>,
    },
    /// The upstream stage produced different output than last time.
    UpstreamChanged {
        role: String,
        stage: String,
    },
    /// The input now comes from a different stage.
    UpstreamRewired {
        role: String,
        from: String,
        to: String,
    },
    /// The upstream stage runs first; this one runs unless the upstream output comes out identical.
    UpstreamPending {
        stage: String,
    },
    InputFileChanged {
        label: String,
    },
    InputFileAdded {
        label: String,
    },
    InputFileRemoved {
        label: String,
    },
    /// The output of a key command changed; `changes` lists its changed lines when both
    /// outputs are kept in the cache (empty when they are not).
    KeyOutputChanged {
        command: String,
        changes: Vec<LineChange>,
    },
    KeyCommandAdded {
        command: String,
    },
    KeyCommandRemoved {
        command: String,
    },
    ToolchainChanged {
        name: String,
        from: Option<String>,
        to: Option<String>,
    },
    /// The same key was computed before, but its result is no longer in the cache.
    ResultMissing,
    /// A workspace left by an earlier run lets the stage continue, e.g. from `epoch 3`.
    Continues {
        from: String,
    },
    /// A parameter it could continue from was raised, but the workspace is gone (`gc`).
    StartsOver,
}

impl fmt::Display for DirtyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Json>| v.as_ref().map_or("(unset)".to_string(), show_value);
        let show_str = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".into());
        match self {
            DirtyReason::NeverRun => write!(f, "never run"),
            DirtyReason::KindChanged { from, to } => write!(f, "kind: {from} → {to}"),
            DirtyReason::ImplementationChanged { from, to } => {
                write!(f, "implementation changed (version {from} → {to})")
            }
            DirtyReason::ParamChanged { name, from, to } => {
                write!(f, "params.{name}: {} → {}", show(from), show(to))
            }
            DirtyReason::UpstreamChanged { stage, .. } => write!(f, "upstream {stage} changed"),
            DirtyReason::UpstreamRewired { role, from, to } => {
                write!(f, "input {role}: {from} → {to}")
            }
            DirtyReason::UpstreamPending { stage } => write!(f, "upstream {stage} runs first"),
            DirtyReason::InputFileChanged { label } => write!(f, "{} changed", input_file(label)),
            DirtyReason::InputFileAdded { label } => write!(f, "{} added", input_file(label)),
            DirtyReason::InputFileRemoved { label } => write!(f, "{} removed", input_file(label)),
            DirtyReason::KeyOutputChanged { command, changes } => {
                write!(f, "key_cmd `{command}` output changed")?;
                let shown: Vec<String> =
                    changes.iter().take(KEY_CHANGES_SHOWN).map(|c| c.to_string()).collect();
                if !shown.is_empty() {
                    write!(f, ": {}", shown.join(", "))?;
                }
                match changes.len().saturating_sub(KEY_CHANGES_SHOWN) {
                    0 => Ok(()),
                    1 => write!(f, ", … and 1 more line"),
                    hidden => write!(f, ", … and {hidden} more lines"),
                }
            }
            DirtyReason::KeyCommandAdded { command } => write!(f, "key_cmd `{command}` added"),
            DirtyReason::KeyCommandRemoved { command } => write!(f, "key_cmd `{command}` removed"),
            DirtyReason::ToolchainChanged { name, from, to } => {
                write!(f, "toolchain changed ({name}: {} → {})", show_str(from), show_str(to))
            }
            DirtyReason::ResultMissing => write!(f, "result no longer in the cache"),
            DirtyReason::Continues { from } => write!(f, "continues from {from}"),
            DirtyReason::StartsOver => {
                write!(f, "starts over: the workspace it would continue from was removed")
            }
        }
    }
}

/// Numbers as Python prints them (`0.0001`, `2e-05`), the notation users of the study know.
fn show_value(value: &Json) -> String {
    match value.as_f64() {
        Some(float) if value.is_f64() && float != 0.0 && float.is_finite() => {
            let exponent = float.abs().log10().floor() as i32;
            if (-4..16).contains(&exponent) {
                value.to_string()
            } else {
                let scientific = format!("{float:e}");
                let (mantissa, exp) = scientific.split_once('e').expect("scientific notation");
                let exp: i32 = exp.parse().expect("integer exponent");
                format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
            }
        }
        _ => value.to_string(),
    }
}

/// How many file changes are listed one by one before they are summarised.
const FILE_REASONS_SHOWN: usize = 5;
/// How many changed lines of a key command's output are shown.
const KEY_CHANGES_SHOWN: usize = 3;

/// Lists what differs between the fingerprint of the last result and the current one;
/// `key_output` reads a key command's output by its digest, where it is kept.
pub fn explain(
    old: &Fingerprint,
    new: &Fingerprint,
    key_output: &dyn Fn(&str) -> Option<String>,
) -> Vec<DirtyReason> {
    let mut reasons = Vec::new();
    if old.kind != new.kind {
        reasons.push(DirtyReason::KindChanged { from: old.kind.clone(), to: new.kind.clone() });
    } else if old.version != new.version {
        reasons.push(DirtyReason::ImplementationChanged { from: old.version, to: new.version });
    }
    for name in union(old.params.keys(), new.params.keys()) {
        param_changes(name, old.params.get(name), new.params.get(name), &mut reasons);
    }
    for (role, upstream) in &new.upstream {
        match old.upstream.get(role) {
            Some(before) if before.stage != upstream.stage => {
                reasons.push(DirtyReason::UpstreamRewired {
                    role: role.clone(),
                    from: before.stage.clone(),
                    to: upstream.stage.clone(),
                })
            }
            _ if upstream.output.is_none() => {
                reasons.push(DirtyReason::UpstreamPending { stage: upstream.stage.clone() })
            }
            Some(before) if before.output != upstream.output => {
                reasons.push(DirtyReason::UpstreamChanged {
                    role: role.clone(),
                    stage: upstream.stage.clone(),
                })
            }
            _ => {}
        }
    }
    let mut file_reasons = Vec::new();
    for label in union(old.files.keys(), new.files.keys()) {
        match (old.files.get(label), new.files.get(label)) {
            (Some(a), Some(b)) if a != b => {
                file_reasons.push(DirtyReason::InputFileChanged { label: label.clone() })
            }
            (None, Some(_)) => {
                file_reasons.push(DirtyReason::InputFileAdded { label: label.clone() })
            }
            (Some(_), None) => {
                file_reasons.push(DirtyReason::InputFileRemoved { label: label.clone() })
            }
            _ => {}
        }
    }
    let hidden = file_reasons.len().saturating_sub(FILE_REASONS_SHOWN);
    file_reasons.truncate(FILE_REASONS_SHOWN);
    reasons.extend(file_reasons);
    if hidden > 0 {
        reasons
            .push(DirtyReason::InputFileChanged { label: format!("… and {hidden} more files") });
    }
    for command in union(old.commands.keys(), new.commands.keys()) {
        let command = command.clone();
        match (old.commands.get(&command), new.commands.get(&command)) {
            (Some(a), Some(b)) if a != b => {
                let changes = match (key_output(a), key_output(b)) {
                    (Some(a), Some(b)) => line_diff::changes(&a, &b),
                    _ => Vec::new(),
                };
                reasons.push(DirtyReason::KeyOutputChanged { command, changes })
            }
            (None, Some(_)) => reasons.push(DirtyReason::KeyCommandAdded { command }),
            (Some(_), None) => reasons.push(DirtyReason::KeyCommandRemoved { command }),
            _ => {}
        }
    }
    for name in union(old.toolchain.keys(), new.toolchain.keys()) {
        let (from, to) = (old.toolchain.get(name), new.toolchain.get(name));
        if from != to {
            reasons.push(DirtyReason::ToolchainChanged {
                name: name.clone(),
                from: from.cloned(),
                to: to.cloned(),
            });
        }
    }
    reasons
}

/// The change of parameter `name`; a mapping (e.g. a command stage's `vars`) entry by entry,
/// so that the reason names the entry (`params.vars.lr: 0.001 → 0.0003`).
fn param_changes(
    name: &str,
    from: Option<&Json>,
    to: Option<&Json>,
    reasons: &mut Vec<DirtyReason>,
) {
    match (from, to) {
        (Some(Json::Object(a)), Some(Json::Object(b))) => {
            for key in union(a.keys(), b.keys()) {
                param_changes(&format!("{name}.{key}"), a.get(key), b.get(key), reasons);
            }
        }
        _ if from != to => reasons.push(DirtyReason::ParamChanged {
            name: name.to_string(),
            from: from.cloned(),
            to: to.cloned(),
        }),
        _ => {}
    }
}

/// An input file's label as explanations show it: a phrase (`deps file scripts/fit.py`) as it
/// is, a path as `input file <path>` (see `stage::InputFile`).
fn input_file(label: &str) -> String {
    match label.split_once(' ') {
        Some((word, _)) if !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase()) => {
            label.to_string()
        }
        _ => format!("input file {label}"),
    }
}

/// What is known of a stage's last result, for [`why_dirty`].
#[derive(Debug, Clone)]
pub enum Previous {
    /// The stage never completed.
    None,
    /// It completed with `key`, whose result is no longer in the cache.
    Gone {
        key: StageKey,
    },
    Result {
        key: StageKey,
        fingerprint: Fingerprint,
    },
}

/// Why a stage whose key is `key` (`None` while an upstream stage must run first) and whose
/// fingerprint is `now` must run, given its last result (`key_output`: see [`explain`]).
pub fn why_dirty(
    previous: &Previous,
    key: Option<&str>,
    now: &FingerprintRef,
    key_output: &dyn Fn(&str) -> Option<String>,
) -> Vec<DirtyReason> {
    match previous {
        Previous::None => vec![DirtyReason::NeverRun],
        Previous::Gone { key: last } | Previous::Result { key: last, .. }
            if key == Some(&**last) =>
        {
            vec![DirtyReason::ResultMissing]
        }
        Previous::Gone { .. } => vec![DirtyReason::NeverRun],
        Previous::Result { fingerprint, .. } => {
            let reasons = explain(fingerprint, &now.to_fingerprint(), key_output);
            if reasons.is_empty() { vec![DirtyReason::ResultMissing] } else { reasons }
        }
    }
}

fn union<'a>(
    a: impl Iterator<Item = &'a String>,
    b: impl Iterator<Item = &'a String>,
) -> Vec<&'a String> {
    let mut all: Vec<&String> = a.chain(b).collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint() -> Fingerprint {
        let mut params = serde_json::Map::new();
        params.insert("lr".into(), Json::from(1e-3));
        Fingerprint {
            kind: "train".into(),
            version: 1,
            params,
            upstream: BTreeMap::from([(
                "data".into(),
                Upstream { stage: "load".into(), output: Some("aa".into()) },
            )]),
            files: BTreeMap::from([("images/1.jpg".into(), "d1".into())]),
            commands: BTreeMap::new(),
            toolchain: BTreeMap::from([("device".into(), "cpu".into())]),
        }
    }

    /// The keys of existing caches stay valid: the key is the canonical JSON of the whole
    /// fingerprint with upstream stages replaced by their outputs, however it is written.
    #[test]
    fn the_key_hashes_the_canonical_json_of_the_fingerprint() {
        let mut f = fingerprint();
        f.params.insert("name \"quoted\" ü".into(), serde_json::json!({"b": [1, 2.5], "a": null}));
        f.files.insert("images/a b\n.jpg".into(), "d2".into());
        f.upstream
            .insert("model".into(), Upstream { stage: "m".into(), output: Some("cc".into()) });
        for commands in [BTreeMap::new(), BTreeMap::from([("pip freeze".into(), "e1".into())])] {
            f.commands = commands;
            let mut json = serde_json::to_value(&f).unwrap();
            json["upstream"] = serde_json::json!({"data": "aa", "model": "cc"});
            let mut canonical = Vec::new();
            write_canonical(&json, &mut canonical);
            assert_eq!(f.key().unwrap().as_str(), blake3::hash(&canonical).to_hex().to_string());
        }
        // The key this fingerprint has always had: a change here re-keys every cache.
        assert_eq!(
            fingerprint().key().unwrap(),
            "ae6547235be4287f413c03fa8c57e5cd45db381f9e22651819a0616862cbce85"
        );
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in
            ["", "plain", "ü → 1e-4", "quo\"te", "back\\slash", "tab\tnew\nline\u{1}", "\u{7f}"]
        {
            let mut out = Vec::new();
            write_json_str(&mut out, text);
            assert_eq!(out, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn a_workspace_key_is_the_key_of_the_fingerprint_without_its_extendable_parameters() {
        let mut f = fingerprint();
        f.params.insert("epochs".into(), Json::from(3));
        f.params.insert("a".into(), serde_json::json!({"b": [1, "x,y"], "a": null}));
        f.params.insert("z".into(), Json::from("last"));
        for extendable in [&["epochs"][..], &["a", "z"], &["lr", "epochs", "z"], &[]] {
            let mut reduced = f.clone();
            reduced.params.retain(|name, _| !extendable.contains(&name.as_str()));
            reduced.kind = "train/workspace".into();
            assert_eq!(f.workspace_key(extendable), reduced.key(), "{extendable:?}");
        }
    }

    #[test]
    fn every_component_changes_the_key() {
        let base = fingerprint();
        let key = base.key().unwrap();
        let mut changes: Vec<Fingerprint> = Vec::new();
        let mut f = base.clone();
        f.version = 2;
        changes.push(f);
        let mut f = base.clone();
        f.params.insert("lr".into(), Json::from(1e-4));
        changes.push(f);
        let mut f = base.clone();
        f.upstream.get_mut("data").unwrap().output = Some("bb".into());
        changes.push(f);
        let mut f = base.clone();
        f.files.insert("images/1.jpg".into(), "d2".into());
        changes.push(f);
        let mut f = base.clone();
        f.toolchain.insert("device".into(), "cuda".into());
        changes.push(f);
        let mut f = base.clone();
        f.commands.insert("pip freeze".into(), "e1".into());
        changes.push(f.clone());
        f.commands.insert("pip freeze".into(), "e2".into());
        changes.push(f);
        for changed in changes {
            assert_ne!(changed.key().unwrap(), key);
            assert_eq!(explain(&base, &changed, &|_| None).len(), 1);
        }
    }

    #[test]
    fn the_upstream_stage_s_name_is_not_part_of_the_key() {
        let base = fingerprint();
        let mut renamed = base.clone();
        renamed.upstream.get_mut("data").unwrap().stage = "load[size=64]".into();
        assert_eq!(renamed.key(), base.key());
        assert_eq!(renamed.workspace_key(&[]), base.workspace_key(&[]));
    }

    #[test]
    fn reasons_read_like_the_change() {
        let old = fingerprint();
        let mut new = fingerprint();
        new.params.insert("lr".into(), Json::from(2e-5));
        new.files.insert("images/1.jpg".into(), "d2".into());
        new.upstream.get_mut("data").unwrap().output = None;
        let reasons: Vec<String> =
            explain(&old, &new, &|_| None).iter().map(|r| r.to_string()).collect();
        assert_eq!(
            reasons,
            vec![
                "params.lr: 0.001 → 2e-05",
                "upstream load runs first",
                "input file images/1.jpg changed"
            ]
        );
        assert_eq!(new.key(), None);
    }

    #[test]
    fn mappings_are_explained_entry_by_entry_and_phrases_read_as_they_are() {
        let mut old = fingerprint();
        old.params.insert("vars".into(), serde_json::json!({"lr": 0.001, "arch": "a"}));
        old.files.insert("deps file scripts/fit.py".into(), "d1".into());
        let mut new = old.clone();
        new.params.insert("vars".into(), serde_json::json!({"lr": 0.0003, "arch": "a", "n": 1}));
        new.files.insert("deps file scripts/fit.py".into(), "d2".into());
        let reasons: Vec<String> =
            explain(&old, &new, &|_| None).iter().map(|r| r.to_string()).collect();
        assert_eq!(
            reasons,
            vec![
                "params.vars.lr: 0.001 → 0.0003",
                "params.vars.n: (unset) → 1",
                "deps file scripts/fit.py changed"
            ]
        );
    }

    #[test]
    fn a_changed_key_output_is_explained_by_its_changed_lines_where_both_are_kept() {
        let mut old = fingerprint();
        old.commands.insert("python3 -m pip freeze".into(), "e1".into());
        let mut new = old.clone();
        new.commands.insert("python3 -m pip freeze".into(), "e2".into());
        let kept = |digest: &str| match digest {
            "e1" => Some("a==1\nb==1\nc==1\nd==1\ntorch==2.10.0\n".to_string()),
            "e2" => Some("torch==2.11.0\nb==2\nc==2\nd==2\ne==1\n".to_string()),
            _ => None,
        };
        let shown = |new: &Fingerprint, f: &dyn Fn(&str) -> Option<String>| -> Vec<String> {
            explain(&old, new, f).iter().map(|r| r.to_string()).collect()
        };
        assert_eq!(
            shown(&new, &kept),
            ["key_cmd `python3 -m pip freeze` output changed: torch==2.10.0 → torch==2.11.0, \
                 b==1 → b==2, c==1 → c==2, … and 3 more lines"]
        );
        assert_eq!(shown(&new, &|_| None), ["key_cmd `python3 -m pip freeze` output changed"]);
        new.commands.clear();
        assert_eq!(shown(&new, &kept), ["key_cmd `python3 -m pip freeze` removed"]);
    }
}
