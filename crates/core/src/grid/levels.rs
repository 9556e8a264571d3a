//! A variant's levels: (factor, level) pairs in declaration order, `seed` last when the grid
//! has seeds. A comparison's rows pool the seeds of a variant, so every reader of results asks
//! the same two questions of a result's levels, answered here once: which seed is it
//! ([`Levels::seed`]), and which variant ([`Levels::without_seed`]).
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};

use super::SEED;

/// (factor, level) pairs, as manifests record them (a JSON array of pairs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Levels(Vec<(String, String)>);

impl Levels {
    /// The level of `factor`, if the levels name it.
    pub fn level(&self, factor: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == factor).map(|(_, l)| l.as_str())
    }

    /// The seed, if the variant has one.
    pub fn seed(&self) -> Option<&str> {
        self.level(SEED)
    }

    /// The levels that name the variant: all but `seed`.
    pub fn without_seed(&self) -> Levels {
        self.0.iter().filter(|(f, _)| f != SEED).cloned().collect()
    }

    pub fn push(&mut self, factor: &str, level: &str) {
        self.0.push((factor.to_string(), level.to_string()));
    }

    /// `factor=level,factor=level`: how variants and their rows are named.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl Deref for Levels {
    type Target = [(String, String)];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> IntoIterator for &'a Levels {
    type Item = &'a (String, String);
    type IntoIter = std::slice::Iter<'a, (String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<(String, String)> for Levels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Levels {
        Levels(pairs.into_iter().collect())
    }
}

impl From<Vec<(String, String)>> for Levels {
    fn from(pairs: Vec<(String, String)>) -> Levels {
        Levels(pairs)
    }
}

impl fmt::Display for Levels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (factor, level)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{factor}={level}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(pairs: &[(&str, &str)]) -> Levels {
        pairs.iter().map(|(f, l)| (f.to_string(), l.to_string())).collect()
    }

    #[test]
    fn the_seed_is_split_off_the_variant() {
        let with_seed = levels(&[("loss", "focal"), ("seed", "2"), ("hidden", "32")]);
        assert_eq!(with_seed.seed(), Some("2"));
        assert_eq!(with_seed.without_seed(), levels(&[("loss", "focal"), ("hidden", "32")]));
        assert_eq!(with_seed.name(), "loss=focal,seed=2,hidden=32");
        assert_eq!(levels(&[]).name(), "");
        assert_eq!(levels(&[("loss", "bce")]).seed(), None);
    }

    #[test]
    fn levels_are_recorded_as_pairs() {
        let json = serde_json::to_string(&levels(&[("loss", "bce"), ("seed", "0")])).unwrap();
        assert_eq!(json, r#"[["loss","bce"],["seed","0"]]"#);
        assert_eq!(serde_json::from_str::<Levels>(&json).unwrap().seed(), Some("0"));
    }
}
