//! Seeds on demand: seeds that single variants of a grid run beyond the grid's `seeds`.
//!
//! `ablate run P --until-ci WIDTH` gives the variants whose Δ interval is too wide the next seed
//! numbers (see `ablate_results::seeds_on_demand`) without editing the pipeline file: it
//! records them in the cache (`refs/<pipeline>/extra-seeds.json`, this struct as JSON), and
//! every later `run`, `plan` and `--until-ci` of the pipeline with that cache expands the grid
//! with them, so that the seeds that exist stay part of the pipeline (cached, they cost
//! nothing; after a change of the pipeline they run again like every other seed). Run records
//! and manifests name them beside the variants they expand into, so `compare` sees every seed.
//!
//! A variant is named by its levels without `seed`, matched whatever their order; an entry
//! that names a variant the grid no longer has, or a grid without `seeds`, is left out with a
//! warning ([`unmatched`]).
use serde::{Deserialize, Serialize};

use super::Levels;

/// Per variant, the seeds it runs beyond the grid's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExtraSeeds(Vec<VariantSeeds>);

/// One variant's extra seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantSeeds {
    /// The variant's levels, without `seed`.
    pub levels: Levels,
    /// Ascending.
    pub seeds: Vec<i64>,
}

impl ExtraSeeds {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The extra seeds of the variant whose levels (without `seed`) are `levels`.
    pub fn of(&self, levels: &[(String, String)]) -> &[i64] {
        let found = self.0.iter().find(|v| same_variant(&v.levels, levels));
        found.map_or(&[], |v| v.seeds.as_slice())
    }

    /// Adds `seeds` to the variant's extra seeds (those it has already stay once).
    pub fn add(&mut self, levels: &Levels, seeds: &[i64]) {
        let index = match self.0.iter().position(|v| same_variant(&v.levels, levels)) {
            Some(index) => index,
            None => {
                self.0.push(VariantSeeds { levels: levels.without_seed(), seeds: Vec::new() });
                self.0.len() - 1
            }
        };
        let known = &mut self.0[index].seeds;
        known.extend(seeds);
        known.sort_unstable();
        known.dedup();
    }

    /// Every seed some variant runs beyond the grid's.
    pub fn all_seeds(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().flat_map(|v| v.seeds.iter().copied())
    }

    /// `loss=focal: 3, 4; loss=se: 3`, as notes and records name them.
    pub fn describe(&self) -> String {
        let variants: Vec<String> = self
            .0
            .iter()
            .map(|v| {
                let seeds: Vec<String> = v.seeds.iter().map(i64::to_string).collect();
                format!("{}: {}", v.levels, seeds.join(", "))
            })
            .collect();
        variants.join("; ")
    }
}

/// Whether two variants' levels are the same pairs, in whatever order.
fn same_variant(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let b: Vec<&(String, String)> = b.iter().filter(|(f, _)| f != super::SEED).collect();
    let a: Vec<&(String, String)> = a.iter().filter(|(f, _)| f != super::SEED).collect();
    a.len() == b.len() && a.iter().all(|pair| b.contains(pair))
}

/// The warnings for entries of `extra` that expand no variant: the grid has no `seeds`, or no
/// variant of `points` (each a variant's levels without `seed`) is the one named.
pub(super) fn unmatched(
    extra: &ExtraSeeds,
    has_seeds: bool,
    points: &[Vec<(String, String)>],
) -> Vec<String> {
    if extra.is_empty() {
        return Vec::new();
    }
    if !has_seeds {
        return vec![format!(
            "the grid has no `seeds`: the extra seeds recorded by --until-ci ({}) are left out",
            extra.describe()
        )];
    }
    extra
        .0
        .iter()
        .filter(|v| !points.iter().any(|p| same_variant(&v.levels, p)))
        .map(|v| {
            format!(
                "the grid has no variant {} now: its extra seeds recorded by --until-ci are left out",
                v.levels
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(pairs: &[(&str, &str)]) -> Levels {
        pairs.iter().map(|(f, l)| (f.to_string(), l.to_string())).collect()
    }

    #[test]
    fn seeds_are_added_once_in_order_to_the_variant_whatever_the_order_of_its_levels() {
        let mut extra = ExtraSeeds::default();
        extra.add(&levels(&[("a", "x"), ("b", "1")]), &[4, 3]);
        extra.add(&levels(&[("b", "1"), ("a", "x"), ("seed", "0")]), &[3, 5]);
        extra.add(&levels(&[("a", "y"), ("b", "1")]), &[3]);
        assert_eq!(extra.of(&levels(&[("b", "1"), ("a", "x")])), [3, 4, 5]);
        assert_eq!(extra.of(&levels(&[("a", "z"), ("b", "1")])), [] as [i64; 0]);
        assert_eq!(extra.describe(), "a=x,b=1: 3, 4, 5; a=y,b=1: 3");
        let json = serde_json::to_string(&extra).unwrap();
        assert!(json.starts_with(r#"[{"levels":[["a","x"],["b","1"]],"seeds":[3,4,5]}"#), "{json}");
        assert_eq!(serde_json::from_str::<ExtraSeeds>(&json).unwrap(), extra);
    }

    #[test]
    fn entries_that_expand_no_variant_are_named() {
        let mut extra = ExtraSeeds::default();
        extra.add(&levels(&[("a", "x")]), &[2]);
        extra.add(&levels(&[("a", "gone")]), &[2]);
        let points = vec![vec![("a".to_string(), "x".to_string())]];
        let warnings = unmatched(&extra, true, &points);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("no variant a=gone"), "{warnings:?}");
        assert!(unmatched(&extra, false, &points)[0].contains("the grid has no `seeds`"));
        assert!(unmatched(&ExtraSeeds::default(), false, &points).is_empty());
    }
}
