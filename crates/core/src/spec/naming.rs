//! Names of a stage's instances. A stage with one instance keeps its name; otherwise each
//! instance is named by the factors constant within it and varying between instances, and those
//! its `when` selects on (so that an instance says which variants it belongs to):
//! `train[backbone=resnet18,seed=1]`. Instances that would still share a name get all their
//! constant levels (a factor they are spread over lists its levels: `lever=baseline+tta`), then
//! the fewest parameters that tell them apart, and a `#n` suffix as the last resort.
//!
//! Every step is linear in the number of instances (maps, not pairwise comparisons): a grid of
//! 10,000 variants names its per-variant stages as fast as it expands them.
use std::collections::{HashMap, HashSet};

use crate::grid::Variant;
use crate::params::Params;

/// The names of `instances` (each the variants sharing one instance of `stage`), in order.
pub(super) fn instance_names(
    stage: &str,
    instances: &[Vec<&Variant>],
    params: &[&Params],
    when: &[String],
) -> Vec<String> {
    if instances.len() == 1 {
        return vec![stage.to_string()];
    }
    let naming = Naming::new(stage, instances, when);
    let mut names: Vec<String> =
        (0..instances.len()).map(|i| naming.format(naming.shown_levels(i))).collect();
    for group in collisions(&names) {
        for i in group {
            names[i] = naming.format(naming.all_levels(i));
        }
    }
    for group in collisions(&names) {
        let named: Vec<String> =
            group.iter().map(|&i| naming.with_parameters(i, &group, params)).collect();
        for (i, name) in group.into_iter().zip(named) {
            names[i] = name;
        }
    }
    number_repeats(&mut names);
    names
}

/// What naming needs to know of all instances at once, computed once.
struct Naming<'a> {
    stage: &'a str,
    instances: &'a [Vec<&'a Variant>],
    /// Per instance, the (factor, level) pairs every one of its variants has.
    constants: Vec<Vec<&'a (String, String)>>,
    /// Factors named in short names: constant in every instance, varying or selected by `when`.
    shown: HashSet<&'a str>,
    /// (factor, level) pairs constant in every instance: they tell none apart.
    everywhere: HashSet<(&'a str, &'a str)>,
    /// Factors constant in at least one instance.
    told: HashSet<&'a str>,
}

impl<'a> Naming<'a> {
    fn new(stage: &'a str, instances: &'a [Vec<&'a Variant>], when: &[String]) -> Naming<'a> {
        let constants: Vec<Vec<&(String, String)>> = instances
            .iter()
            .map(|variants| {
                variants[0]
                    .levels
                    .iter()
                    .filter(|(f, l)| variants.iter().all(|v| v.level(f) == Some(l.as_str())))
                    .collect()
            })
            .collect();
        let mut count: HashMap<(&str, &str), usize> = HashMap::new();
        for (f, l) in constants.iter().flatten() {
            *count.entry((f.as_str(), l.as_str())).or_default() += 1;
        }
        let everywhere =
            count.iter().filter(|&(_, &n)| n == instances.len()).map(|(&pair, _)| pair).collect();
        let told = count.keys().map(|&(f, _)| f).collect();
        let shown = instances[0][0]
            .levels
            .iter()
            .map(|(f, _)| f.as_str())
            .filter(|f| {
                let mut levels = constants
                    .iter()
                    .map(|c| c.iter().find(|(g, _)| g == f).map(|(_, l)| l.as_str()));
                let Some(Some(first)) = levels.next() else { return false };
                let mut varies = false;
                for level in levels {
                    match level {
                        None => return false,
                        Some(level) => varies |= level != first,
                    }
                }
                varies || when.iter().any(|w| w == f)
            })
            .collect();
        Naming { stage, instances, constants, shown, everywhere, told }
    }

    fn format(&self, parts: Vec<String>) -> String {
        format!("{}[{}]", self.stage, parts.join(","))
    }

    /// The short name's parts: the shown factors' levels.
    fn shown_levels(&self, i: usize) -> Vec<String> {
        self.constants[i]
            .iter()
            .filter(|(f, _)| self.shown.contains(f.as_str()))
            .map(|(f, l)| format!("{f}={l}"))
            .collect()
    }

    /// Every level that tells the instance from some other, in the factors' order; a factor
    /// the instance is spread over lists its levels when another instance has one of it.
    fn all_levels(&self, i: usize) -> Vec<String> {
        let constant = &self.constants[i];
        self.instances[i][0]
            .levels
            .iter()
            .filter_map(|(f, _)| match constant.iter().find(|(g, _)| g == f) {
                Some((_, l)) if self.everywhere.contains(&(f.as_str(), l.as_str())) => None,
                Some((_, l)) => Some(format!("{f}={l}")),
                None if self.told.contains(f.as_str()) => {
                    Some(format!("{f}={}", self.served(i, f)))
                }
                None => None,
            })
            .collect()
    }

    /// The levels of `factor` among the instance's variants, in order: `baseline+tta`.
    fn served(&self, i: usize, factor: &str) -> String {
        let mut levels: Vec<&str> = Vec::new();
        for variant in &self.instances[i] {
            if let Some(level) = variant.level(factor).filter(|l| !levels.contains(l)) {
                levels.push(level);
            }
        }
        levels.join("+")
    }

    /// All levels, then the fewest parameters, in the stage's order, that tell the instance
    /// from the rest of `group` (the instances sharing its name).
    fn with_parameters(&self, i: usize, group: &[usize], params: &[&Params]) -> String {
        let differing: Vec<(&str, &serde_json::Value)> = params[i]
            .iter()
            .filter(|&(key, value)| group.iter().any(|&j| params[j].value(key) != Some(value)))
            .collect();
        let telling = (1..=differing.len())
            .find(|&n| {
                let values: Vec<Vec<Option<&serde_json::Value>>> = group
                    .iter()
                    .map(|&j| differing[..n].iter().map(|(k, _)| params[j].value(k)).collect())
                    .collect();
                (0..values.len()).all(|a| !values[a + 1..].contains(&values[a]))
            })
            .unwrap_or(differing.len());
        let mut parts = self.all_levels(i);
        for (key, value) in &differing[..telling] {
            parts.push(format!(
                "{key}={}",
                value.as_str().map_or_else(|| value.to_string(), String::from)
            ));
        }
        self.format(parts)
    }
}

/// Groups of two or more indices whose names are equal, in order of first appearance.
fn collisions(names: &[String]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let g = *group_of.entry(name).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups.retain(|group| group.len() > 1);
    groups
}

/// The second and later of equal names get `#2`, `#3`, …
fn number_repeats(names: &mut [String]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names.iter_mut() {
        let count = seen.entry(name.clone()).or_default();
        *count += 1;
        if *count > 1 {
            *name = format!("{name}#{count}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{ParamDefault, ParamSpec, ParamType};

    const LOSS: &[ParamSpec] = &[
        ParamSpec::new("function", ParamType::Str, ParamDefault::Str("bce"), "the loss"),
        ParamSpec::new(
            "beta",
            ParamType::Float { min: 0.0, max: 1.0 },
            ParamDefault::Float(0.9),
            "its beta",
        ),
    ];

    #[test]
    fn instances_are_named_by_the_levels_that_tell_them_apart() {
        let v = |levels: &[(&str, &str)]| Variant {
            levels: levels.iter().map(|(f, l)| (f.to_string(), l.to_string())).collect(),
        };
        let (a, b, c, d) = (
            v(&[("att", "none"), ("heads", "4")]),
            v(&[("att", "none"), ("heads", "8")]),
            v(&[("att", "mha"), ("heads", "4")]),
            v(&[("att", "mha"), ("heads", "8")]),
        );
        let params = Params::default();
        let names =
            instance_names("attention", &[vec![&a, &b], vec![&c], vec![&d]], &[&params; 3], &[]);
        assert_eq!(
            names,
            ["attention[att=none]", "attention[att=mha,heads=4]", "attention[att=mha,heads=8]"]
        );
        assert_eq!(instance_names("load", &[vec![&a, &b, &c, &d]], &[&params], &[]), ["load"]);
        // Neither instance has a level of its own: the differing parameter names them.
        let loss =
            |json: serde_json::Value| Params::from_values(LOSS, json.as_object().unwrap().clone());
        let bce = loss(serde_json::json!({"function": "bce", "beta": 0.9}));
        let balanced = loss(serde_json::json!({"function": "class_balanced", "beta": 0.9}));
        let names = instance_names("loss", &[vec![&a, &d], vec![&b, &c]], &[&bce, &balanced], &[]);
        assert_eq!(names, ["loss[function=bce]", "loss[function=class_balanced]"]);
    }
}
