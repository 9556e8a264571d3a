//! Ablation grids: factors with levels, expanded into variants of one pipeline.
//!
//! ```yaml
//! grid:
//!   factors:
//!     backbone: [resnet18, efficientnet_b0]      # levels; each sets the variable `backbone`
//!     loss:                                      # level → the variables it sets
//!       bce: {loss_function: bce}
//!       focal: {loss_function: focal, gamma: 2.0}
//!     attention: [none, se, mha]
//!   design: full                                 # or one_at_a_time (needs `baseline`)
//!   baseline: {backbone: resnet18, loss: bce, attention: none}
//!   exclude:                                     # variants matching every entry are dropped
//!     - {backbone: efficientnet_b0, attention: mha}
//!   only: {backbone: resnet18}                   # optional: keep just the matching variants
//!   seeds: 3                                     # replicate axis: 0, 1, 2 (or a list); sets `seed`
//! stages:
//!   head: {kind: train, when: {task: [head_only]}, ...}   # exists only in matching variants
//! ```
//!
//! Each variant is named by its levels (`backbone=resnet18,loss=focal,seed=1`) and sees the
//! pipeline's `vars` overridden by its levels' variables. The stages of every variant are
//! interpolated and validated, then merged: two variants' instances of a stage are one stage
//! when kind, parameters and (recursively) inputs are identical, so shared upstream stages run
//! once. A stage with several instances is named by the levels that tell them apart
//! (`train[backbone=resnet18,seed=1]`, see `spec::naming`); one shared by all variants keeps its
//! name.
mod extra_seeds;
mod levels;

use std::collections::HashMap;

pub use extra_seeds::{ExtraSeeds, VariantSeeds};
pub use levels::Levels;

use super::diagnostic::{Diagnostic, Location};
use super::names::{self, NameKind};
use super::params::Choice;
use super::yaml::{Key, Node, Value};

/// A factor or `seed`, with one level per variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// (factor, level) in declaration order, then `seed` when seeds are given.
    pub levels: Levels,
}

impl Variant {
    pub fn name(&self) -> String {
        self.levels.name()
    }

    pub fn level(&self, factor: &str) -> Option<&str> {
        self.levels.level(factor)
    }
}

struct Level {
    name: String,
    vars: Vec<(Key, Node)>,
}

struct Factor {
    name: String,
    /// Of its key in the file.
    location: Location,
    levels: Vec<Level>,
    /// Level name → its index in `levels`: a grid of 100,000 variants looks up a level of
    /// each factor for each variant.
    index: HashMap<String, usize>,
}

impl Factor {
    fn level(&self, name: &str) -> Option<&Level> {
        self.index.get(name).map(|&i| &self.levels[i])
    }
}

/// A set of variants given as factor → allowed levels (`when:`, `exclude:` entries).
#[derive(Debug, Clone)]
pub struct Selector(Vec<(String, Vec<String>)>);

impl Selector {
    /// The factors it names.
    pub fn factors(&self) -> Vec<String> {
        self.0.iter().map(|(factor, _)| factor.clone()).collect()
    }

    pub fn matches(&self, variant: &Variant) -> bool {
        self.0.iter().all(|(factor, levels)| {
            variant.level(factor).is_some_and(|l| levels.iter().any(|x| x == l))
        })
    }
}

pub struct Grid {
    factors: Vec<Factor>,
    seeds: Vec<i64>,
    /// Every variant of the grid, `only` or not.
    variants: Vec<Variant>,
    baseline: Option<Selector>,
    /// The slice a run is limited to (`grid.only`).
    only: Option<Selector>,
    /// Seeds single variants run beyond `seeds` (see `extra_seeds`).
    extra: ExtraSeeds,
    /// Extra seeds that expand no variant, left out.
    pub warnings: Vec<String>,
}

/// The factors of a grid with their levels in declaration order (`seed` last, when given), and
/// its baseline: what comparisons of its results are laid out by.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    pub factors: Vec<(String, Vec<String>)>,
    /// Levels of the baseline variant, when `grid.baseline` names one level per factor it lists.
    pub baseline: Option<Levels>,
}

const GRID_KEYS: &[&str] = &["factors", "design", "baseline", "exclude", "only", "seeds"];
pub const SEED: &str = "seed";

impl Grid {
    /// The grid of `node`, its variants given `extra` seeds beyond the grid's.
    pub fn parse(node: &Node, extra: &ExtraSeeds) -> Result<Grid, Diagnostic> {
        super::yaml::check_keys(node, GRID_KEYS, "`grid`")?;
        let factors = parse_factors(node)?;
        let seeds = parse_seeds(node.get("seeds"))?;
        let mut grid = Grid {
            factors,
            seeds,
            variants: Vec::new(),
            baseline: None,
            only: None,
            extra: ExtraSeeds::default(),
            warnings: Vec::new(),
        };
        let baseline =
            node.get("baseline").map(|n| grid.selector(n, "`grid.baseline`")).transpose()?;
        let points = match Design::parse(node.get("design"))? {
            Design::Full => grid.full_factorial(),
            Design::OneAtATime => {
                let location =
                    node.get("design").map(|n| n.location.clone()).unwrap_or(node.location.clone());
                let baseline = baseline.as_ref().ok_or_else(|| {
                    Diagnostic::new(
                        "`design: one_at_a_time` needs a `baseline` with a level of every factor",
                    )
                    .at(&location)
                })?;
                grid.one_at_a_time(baseline, &location)?
            }
        };
        let exclusions = match node.get("exclude") {
            None => Vec::new(),
            Some(Node { value: Value::Seq(items), .. }) => items
                .iter()
                .map(|item| grid.selector(item, "an `exclude` entry"))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(Diagnostic::new(format!(
                    "`grid.exclude` must be a list, found {}",
                    other.type_name()
                ))
                .at(&other.location));
            }
        };
        let only = node.get("only").map(|n| grid.selector(n, "`grid.only`")).transpose()?;
        grid.baseline = baseline;
        grid.warnings = extra_seeds::unmatched(extra, !grid.seeds.is_empty(), &points);
        if !grid.seeds.is_empty() {
            grid.extra = extra.clone();
        }
        let kept: Vec<Variant> = grid
            .with_seeds(points)
            .filter(|variant| !exclusions.iter().any(|e| e.matches(variant)))
            .collect();
        if kept.is_empty() {
            return Err(
                Diagnostic::new("the grid's `exclude` entries leave no variant").at(&node.location)
            );
        }
        if let Some(only) = &only
            && !kept.iter().any(|variant| only.matches(variant))
        {
            let at = &node.get("only").expect("present").location;
            return Err(
                Diagnostic::new("the grid's `only` leaves no variant (after `exclude`)").at(at)
            );
        }
        grid.only = only;
        grid.variants = kept;
        Ok(grid)
    }

    /// Each point of the design once per seed (once without seeds), its extra seeds after the
    /// grid's, seeds last: an `exclude` or `only` entry may name seeds (`{task: "1.1", seed:
    /// [1, 2]}`).
    fn with_seeds(
        &self,
        points: Vec<Vec<(String, String)>>,
    ) -> impl Iterator<Item = Variant> + use<'_> {
        points.into_iter().flat_map(move |levels| {
            let seeds: Vec<Option<i64>> = if self.seeds.is_empty() {
                vec![None]
            } else {
                let extra = self.extra.of(&levels).iter().filter(|s| !self.seeds.contains(s));
                self.seeds.iter().chain(extra).copied().map(Some).collect()
            };
            seeds
                .iter()
                .map(|seed| {
                    let mut levels = levels.clone();
                    levels.extend(seed.map(|s| (SEED.to_string(), s.to_string())));
                    Variant { levels: levels.into() }
                })
                .collect::<Vec<_>>()
        })
    }

    /// Every variant of the grid; a run of a slice runs those [`Grid::selects`].
    pub fn variants(&self) -> &[Variant] {
        &self.variants
    }

    /// The extra seeds the variants were given (none without `seeds`).
    pub fn extra_seeds(&self) -> &ExtraSeeds {
        &self.extra
    }

    /// Whether `variant` is in the slice a run is limited to (`grid.only`; all without one).
    pub fn selects(&self, variant: &Variant) -> bool {
        self.only.as_ref().is_none_or(|only| only.matches(variant))
    }

    /// The variables each factor's levels set, by factor (for checks of their use).
    pub fn level_variables(&self) -> impl Iterator<Item = (&str, &str, &Key)> {
        self.factors.iter().flat_map(|f| {
            f.levels.iter().flat_map(move |l| {
                l.vars.iter().map(move |(key, _)| (f.name.as_str(), l.name.as_str(), key))
            })
        })
    }

    /// Pairs of levels of one factor that set the same variables to the same values (setting
    /// nothing included), with the factor: `(factor, level, earlier level, where)`.
    pub fn alike_levels(&self) -> Vec<(&str, &str, &str, &Location)> {
        let same = |a: &Level, b: &Level| {
            a.vars.len() == b.vars.len()
                && a.vars.iter().all(|(key, value)| {
                    b.vars.iter().any(|(k, v)| k.name == key.name && v.value == value.value)
                })
        };
        let mut alike = Vec::new();
        for factor in &self.factors {
            for (i, level) in factor.levels.iter().enumerate() {
                if let Some(earlier) = factor.levels[..i].iter().find(|e| same(e, level)) {
                    alike.push((
                        factor.name.as_str(),
                        level.name.as_str(),
                        earlier.name.as_str(),
                        &factor.location,
                    ));
                }
            }
        }
        alike
    }

    pub fn layout(&self) -> Layout {
        let mut factors: Vec<(String, Vec<String>)> = self
            .factors
            .iter()
            .map(|f| (f.name.clone(), f.levels.iter().map(|l| l.name.clone()).collect()))
            .collect();
        if !self.seeds.is_empty() {
            let mut extra: Vec<i64> =
                self.extra.all_seeds().filter(|s| !self.seeds.contains(s)).collect();
            extra.sort_unstable();
            extra.dedup();
            let seeds = self.seeds.iter().chain(&extra).map(|s| s.to_string()).collect();
            factors.push((SEED.to_string(), seeds));
        }
        let baseline = self.baseline.as_ref().and_then(|selector| {
            selector
                .0
                .iter()
                .map(|(factor, levels)| {
                    (levels.len() == 1).then(|| (factor.clone(), levels[0].clone()))
                })
                .collect()
        });
        Layout { factors, baseline }
    }

    /// The variables a variant sets: its levels' variables, and `seed`.
    pub fn vars_of(&self, variant: &Variant, at: &Location) -> Vec<(Key, Node)> {
        let mut vars = Vec::new();
        for factor in &self.factors {
            let level =
                variant.level(&factor.name).expect("every variant has a level of every factor");
            let level = factor.level(level).expect("levels come from the factor");
            vars.extend(level.vars.iter().cloned());
        }
        if let Some(seed) = variant.level(SEED) {
            let value = Value::Int(seed.parse().expect("seeds are integers"));
            vars.push((
                Key { name: SEED.into(), location: at.clone() },
                Node { value, location: at.clone() },
            ));
        }
        vars
    }

    /// Reads `{factor: level or [levels]}`, checking names against the grid.
    pub fn selector(&self, node: &Node, what: &str) -> Result<Selector, Diagnostic> {
        let mut entries = Vec::new();
        for (key, value) in node.expect_map(what)? {
            let levels: Vec<String> = match &value.value {
                Value::Seq(items) => items.iter().map(level_name).collect::<Result<_, _>>()?,
                _ => vec![level_name(value)?],
            };
            if key.name == SEED && !self.seeds.is_empty() {
                // Seeds are not checked against the list, which `--set grid.seeds=N` may shorten.
                if let Some(bad) = levels.iter().find(|l| l.parse::<i64>().is_err()) {
                    return Err(Diagnostic::new(format!("{what}: seed `{bad}` is not an integer"))
                        .at(&value.location));
                }
                entries.push((key.name.clone(), levels));
                continue;
            }
            let known: Vec<String> = {
                let factor = self.factors.iter().find(|f| f.name == key.name).ok_or_else(|| {
                    let names: Vec<&str> = self.factors.iter().map(|f| f.name.as_str()).collect();
                    Diagnostic::new(format!("{what} names unknown factor `{}`", key.name))
                        .at(&key.location)
                        .hint(format!("factors: {}", names.join(", ")))
                })?;
                factor.levels.iter().map(|l| l.name.clone()).collect()
            };
            if let Some(unknown) = levels.iter().find(|l| !known.contains(l)) {
                return Err(Diagnostic::new(format!(
                    "{what}: `{}` has no level `{unknown}`",
                    key.name
                ))
                .at(&value.location)
                .hint(format!("levels: {}", known.join(", "))));
            }
            entries.push((key.name.clone(), levels));
        }
        Ok(Selector(entries))
    }

    fn full_factorial(&self) -> Vec<Vec<(String, String)>> {
        let mut points = vec![Vec::new()];
        for factor in &self.factors {
            points = points
                .into_iter()
                .flat_map(|point: Vec<(String, String)>| {
                    factor.levels.iter().map(move |level| {
                        let mut next = point.clone();
                        next.push((factor.name.clone(), level.name.clone()));
                        next
                    })
                })
                .collect();
        }
        points
    }

    /// The baseline, and each other level of each factor with the rest at the baseline.
    fn one_at_a_time(
        &self,
        baseline: &Selector,
        at: &Location,
    ) -> Result<Vec<Vec<(String, String)>>, Diagnostic> {
        let mut base = Vec::new();
        for factor in &self.factors {
            match baseline.0.iter().find(|(f, _)| *f == factor.name) {
                Some((_, levels)) if levels.len() == 1 => {
                    base.push((factor.name.clone(), levels[0].clone()))
                }
                _ => {
                    return Err(Diagnostic::new(format!(
                        "`grid.baseline` needs exactly one level of factor `{}`",
                        factor.name
                    ))
                    .at(at));
                }
            }
        }
        let mut points = vec![base.clone()];
        for (i, factor) in self.factors.iter().enumerate() {
            for level in factor.levels.iter().filter(|l| l.name != base[i].1) {
                let mut point = base.clone();
                point[i].1 = level.name.clone();
                points.push(point);
            }
        }
        Ok(points)
    }
}

fn level_name(node: &Node) -> Result<String, Diagnostic> {
    match &node.value {
        Value::Str(s) => Ok(s.clone()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(float_name(*f)),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Diagnostic::new(format!("a level must be a scalar, found {}", node.type_name()))
            .at(&node.location)),
    }
}

/// A float level's name: the shorter of its decimal and scientific forms (`1e-4`, not `0.0001`;
/// `0.5`, not `5e-1`).
fn float_name(f: f64) -> String {
    let (decimal, scientific) = (f.to_string(), format!("{f:e}"));
    if scientific.len() < decimal.len() { scientific } else { decimal }
}

/// A variable set by the levels of two factors would silently take the later one's value.
fn check_variables_set_once(factors: &[Factor]) -> Result<(), Diagnostic> {
    let mut setters: Vec<(&str, &str)> = Vec::new(); // variable, factor
    for factor in factors {
        for level in &factor.levels {
            for (key, _) in &level.vars {
                match setters.iter().find(|(var, _)| *var == key.name) {
                    Some((_, other)) if *other != factor.name => {
                        return Err(Diagnostic::new(format!(
                            "factors `{other}` and `{}` both set variable `{}`; a variant would take \
                             the value of whichever comes last",
                            factor.name, key.name
                        ))
                        .at(&key.location)
                        .hint("let one factor set it, or give the two variables different names"));
                    }
                    Some(_) => {}
                    None => setters.push((&key.name, &factor.name)),
                }
            }
        }
    }
    Ok(())
}

/// `grid.factors`: each a name (not `seed`) and its levels.
fn parse_factors(node: &Node) -> Result<Vec<Factor>, Diagnostic> {
    let factors_node = node
        .get("factors")
        .ok_or_else(|| Diagnostic::new("`grid` has no `factors`").at(&node.location))?;
    let mut factors = Vec::new();
    for (key, levels) in factors_node.expect_map("`grid.factors`")? {
        if key.name == SEED {
            return Err(
                Diagnostic::new("`seed` is not a factor; use `grid.seeds`").at(&key.location)
            );
        }
        names::check(NameKind::Factor, &key.name)
            .map_err(|e| Diagnostic::new(e).at(&key.location))?;
        factors.push(parse_factor(key, levels)?);
    }
    check_variables_set_once(&factors)?;
    Ok(factors)
}

/// `grid.seeds`: a count (seeds 0 to n − 1) or a list of seeds; none without.
fn parse_seeds(node: Option<&Node>) -> Result<Vec<i64>, Diagnostic> {
    match node {
        None => Ok(Vec::new()),
        Some(Node { value: Value::Int(n), location }) => {
            if !(1..=1000).contains(n) {
                return Err(Diagnostic::new(format!("`seeds: {n}` must be between 1 and 1000"))
                    .at(location));
            }
            Ok((0..*n).collect())
        }
        Some(Node { value: Value::Seq(items), .. }) => items
            .iter()
            .map(|item| match item.value {
                Value::Int(seed) if seed >= 0 => Ok(seed),
                _ => Err(Diagnostic::new(format!(
                    "a seed must be a non-negative integer, found {}",
                    item.type_name()
                ))
                .at(&item.location)),
            })
            .collect(),
        Some(other) => Err(Diagnostic::new(format!(
            "`seeds` must be a count or a list of integers, found {}",
            other.type_name()
        ))
        .at(&other.location)),
    }
}

crate::choice! {
    /// Which points of the factors' product a grid runs.
    enum Design {
        /// Every combination of levels.
        Full = "full",
        /// The baseline, and each other level of one factor at a time, the rest at baseline.
        OneAtATime = "one_at_a_time",
    }
}

impl Design {
    /// `grid.design`; `full` when absent.
    fn parse(node: Option<&Node>) -> Result<Design, Diagnostic> {
        let Some(node) = node else { return Ok(Design::Full) };
        let name = node.expect_str("`grid.design`")?;
        Design::from_name(name).ok_or_else(|| {
            Diagnostic::new(format!("unknown grid design `{name}`"))
                .at(&node.location)
                .hint("use `full` or `one_at_a_time`")
        })
    }
}

/// `[a, b]` (each level sets the variable named like the factor), or `{level: value}` (sets
/// that variable to `value`), or `{level: {var: value, ...}}` (sets those variables).
fn parse_factor(key: &Key, node: &Node) -> Result<Factor, Diagnostic> {
    let as_var = |value: &Node| vec![(key.clone(), value.clone())];
    let levels: Vec<Level> = match &node.value {
        Value::Seq(items) => items
            .iter()
            .map(|item| Ok(Level { name: level_name(item)?, vars: as_var(item) }))
            .collect::<Result<_, _>>()?,
        Value::Map(entries) => entries
            .iter()
            .map(|(level, value)| {
                let vars = match &value.value {
                    Value::Map(vars) => vars.clone(),
                    Value::Null => Vec::new(),
                    _ => as_var(value),
                };
                Level { name: level.name.clone(), vars }
            })
            .collect(),
        _ => {
            return Err(Diagnostic::new(format!(
                "factor `{}` must list its levels, found {}",
                key.name,
                node.type_name()
            ))
            .at(&node.location));
        }
    };
    if levels.is_empty() {
        return Err(
            Diagnostic::new(format!("factor `{}` has no levels", key.name)).at(&node.location)
        );
    }
    let mut index = HashMap::with_capacity(levels.len());
    for (i, level) in levels.iter().enumerate() {
        if index.insert(level.name.clone(), i).is_some() {
            return Err(Diagnostic::new(format!(
                "factor `{}` lists level `{}` twice",
                key.name, level.name
            ))
            .at(&node.location));
        }
        if let Err(error) = names::check(NameKind::Level, &level.name) {
            return Err(
                Diagnostic::new(format!("factor `{}`: {error}", key.name)).at(&node.location)
            );
        }
    }
    Ok(Factor { name: key.name.clone(), location: key.location.clone(), levels, index })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use std::path::Path;

    fn grid(text: &str) -> Result<Grid, Diagnostic> {
        Grid::parse(&yaml::parse(Path::new("g.yaml"), text).unwrap(), &ExtraSeeds::default())
    }

    /// The variants a run of the grid runs.
    fn names(g: &Grid) -> Vec<String> {
        g.variants().iter().filter(|v| g.selects(v)).map(Variant::name).collect()
    }

    #[test]
    fn full_factorial_with_seeds_and_exclusions() {
        let g = grid("factors: {a: [x, y], b: [1, 2]}\nseeds: 2\nexclude: [{a: y, b: 2}]").unwrap();
        assert_eq!(
            names(&g),
            [
                "a=x,b=1,seed=0",
                "a=x,b=1,seed=1",
                "a=x,b=2,seed=0",
                "a=x,b=2,seed=1",
                "a=y,b=1,seed=0",
                "a=y,b=1,seed=1"
            ]
        );
    }

    #[test]
    fn extra_seeds_expand_their_variant_only_and_enter_the_layout() {
        let node = yaml::parse(Path::new("g.yaml"), "factors: {a: [x, y]}\nseeds: 2").unwrap();
        let mut extra = ExtraSeeds::default();
        extra.add(&vec![("a".to_string(), "y".to_string())].into(), &[1, 3, 2]);
        let g = Grid::parse(&node, &extra).unwrap();
        assert_eq!(
            names(&g),
            ["a=x,seed=0", "a=x,seed=1", "a=y,seed=0", "a=y,seed=1", "a=y,seed=2", "a=y,seed=3"]
        );
        assert_eq!(g.layout().factors[1].1, ["0", "1", "2", "3"]);
        assert!(g.warnings.is_empty());
        extra.add(&vec![("a".to_string(), "z".to_string())].into(), &[2]);
        let g = Grid::parse(&node, &extra).unwrap();
        assert_eq!(g.warnings.len(), 1, "{:?}", g.warnings);
    }

    #[test]
    fn only_keeps_the_matching_variants() {
        let g =
            grid("factors: {a: [x, y, z], b: [1, 2]}\nexclude: [{a: z, b: 2}]\nonly: {a: [y, z]}")
                .unwrap();
        assert_eq!(names(&g), ["a=y,b=1", "a=y,b=2", "a=z,b=1"]);
    }

    #[test]
    fn exclude_and_only_may_name_seeds() {
        let g = grid("factors: {a: [x, y]}\nseeds: 3\nexclude: [{a: y, seed: [1, 2]}]").unwrap();
        assert_eq!(names(&g), ["a=x,seed=0", "a=x,seed=1", "a=x,seed=2", "a=y,seed=0"]);
        let g = grid("factors: {a: [x, y]}\nseeds: 2\nonly: {seed: 1}").unwrap();
        let selected: Vec<String> =
            g.variants().iter().filter(|v| g.selects(v)).map(Variant::name).collect();
        assert_eq!(selected, ["a=x,seed=1", "a=y,seed=1"]);
    }

    #[test]
    fn one_at_a_time_varies_each_factor_from_the_baseline() {
        let g = grid(
            "factors: {a: [x, y, z], b: [1, 2]}\ndesign: one_at_a_time\nbaseline: {a: x, b: 1}",
        )
        .unwrap();
        assert_eq!(names(&g), ["a=x,b=1", "a=y,b=1", "a=z,b=1", "a=x,b=2"]);
    }

    #[test]
    fn levels_set_variables() {
        let g = grid("factors:\n  loss: {plain: {fn: bce}, focal: {fn: focal, gamma: 2}}\n  lr: {small: 0.0001}").unwrap();
        let at = Location {
            source: std::sync::Arc::new(crate::diagnostic::Source {
                name: "x".into(),
                text: String::new(),
            }),
            line: 1,
            column: 1,
        };
        let vars = g.vars_of(&g.variants()[1], &at);
        let names: Vec<&str> = vars.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(names, ["fn", "gamma", "lr"]);
    }

    #[test]
    fn mistakes_are_named() {
        let e = grid("factors: {a: [x]}\nexclude: [{b: x}]").err().unwrap();
        assert!(e.message.contains("unknown factor `b`"), "{e}");
        let e = grid("factors: {a: [x]}\nexclude: [{a: q}]").err().unwrap();
        assert!(e.message.contains("has no level `q`"), "{e}");
        let e = grid("factors: {a: [x, y]}\ndesign: one_at_a_time").err().unwrap();
        assert!(e.message.contains("needs a `baseline`"), "{e}");
        let e = grid("factors: {a: [x]}\nexclude: [{a: x}]").err().unwrap();
        assert!(e.message.contains("leave no variant"), "{}", e.message);
        let e = grid("factors: {a: [x, y]}\nonly: {a: z}").err().unwrap();
        assert!(e.message.contains("`grid.only`: `a` has no level `z`"), "{}", e.message);
    }
}
