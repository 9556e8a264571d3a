//! The names users give — pipelines, stages, grid factors and their levels — and the file
//! names they become in the cache.
//!
//! A name is 1 to 64 characters. Stage and factor names are identifiers (letters, digits, `_`
//! and `-`), so that `--set stage.param=…`, `--stage` lists and instance names such as
//! `train[model=resnet18,seed=1]` can always be read back; level and pipeline names may also
//! hold `.` and `+` (levels such as `1.2` or `1e-4`). Every name starts with a letter, digit
//! or `_`. A few factor names are reserved for the columns results are laid out with. The
//! input roles of a kind that takes any role (see `stage::InputSpec::any`) are lower-case
//! letters, digits and `_`, so that each upper-cased is an environment variable's name of its
//! own (`ABLATE_INPUT_<ROLE>`).
//!
//! [`file_name`] maps any name (instance names included) to a file name injectively (a
//! readable part and a digest of the whole name), whatever its length or case, so that two
//! names never share a ref and no name escapes its folder.

/// What a name names; each kind has its own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Pipeline,
    Stage,
    Factor,
    Level,
    /// An input role chosen by the pipeline (kinds that take any role).
    Role,
}

pub const MAX_LENGTH: usize = 64;

/// Factor names that would clash with the columns of `compare` and `metrics`.
pub const RESERVED_FACTORS: &[&str] = &[
    "seed",
    "n",
    "pipeline",
    "variant",
    "stage",
    "stage_key",
    "split",
    "metric",
    "class",
    "epoch",
    "value",
    "stale",
];

impl NameKind {
    fn what(self) -> &'static str {
        match self {
            NameKind::Pipeline => "pipeline name",
            NameKind::Stage => "stage name",
            NameKind::Factor => "factor name",
            NameKind::Level => "level name",
            NameKind::Role => "input role",
        }
    }

    fn allows(self, c: char) -> bool {
        if self == NameKind::Role {
            return c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        }
        c.is_ascii_alphanumeric()
            || c == '_'
            || c == '-'
            || (matches!(self, NameKind::Pipeline | NameKind::Level) && (c == '.' || c == '+'))
    }

    fn rule(self) -> &'static str {
        match self {
            NameKind::Stage | NameKind::Factor => "letters, digits, `_` and `-`",
            NameKind::Pipeline | NameKind::Level => "letters, digits, `_`, `-`, `.` and `+`",
            NameKind::Role => "lower-case letters, digits and `_`",
        }
    }
}

/// Checks `name` against the rule of `kind`; the error says what is wrong and the rule.
pub fn check(kind: NameKind, name: &str) -> Result<(), String> {
    let what = kind.what();
    let rule = format!(
        "{what}s are 1 to {MAX_LENGTH} characters: {}, starting with a letter, digit or `_`",
        kind.rule()
    );
    if name.is_empty() {
        return Err(format!("the {what} is empty; {rule}"));
    }
    if name.chars().count() > MAX_LENGTH {
        return Err(format!(
            "{what} `{}…` is longer than {MAX_LENGTH} characters; {rule}",
            prefix(name)
        ));
    }
    if let Some(bad) = name.chars().find(|&c| !kind.allows(c)) {
        return Err(format!("{what} `{name}` contains `{}`; {rule}", bad.escape_default()));
    }
    if name.starts_with(['-', '.', '+']) {
        return Err(format!("{what} `{name}` starts with `{}`; {rule}", &name[..1]));
    }
    if kind == NameKind::Factor && RESERVED_FACTORS.contains(&name) {
        return Err(format!(
            "`{name}` is reserved and cannot name a factor (reserved: {})",
            RESERVED_FACTORS.join(", ")
        ));
    }
    Ok(())
}

fn prefix(name: &str) -> String {
    name.chars().take(20).collect()
}

/// A file name for `name`: its characters that are safe in file names (others as `_`), at
/// most 80 bytes of them, then `~` and 16 hex digits of the name's blake3 digest. Two
/// different names give two different file names (up to a digest collision).
pub fn file_name(name: &str) -> String {
    let mut readable = String::new();
    for c in name.chars() {
        let safe = c.is_ascii_alphanumeric() || "_-.+=,[]#".contains(c);
        let c = if safe { c } else { '_' };
        if readable.len() + c.len_utf8() > 80 {
            break;
        }
        readable.push(c);
    }
    if readable.starts_with('.') {
        readable.replace_range(..1, "_");
    }
    let digest = blake3::hash(name.as_bytes()).to_hex();
    format!("{readable}~{}", &digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_their_kind_s_rule() {
        for ok in ["train", "fit_2", "4c-se", "A"] {
            check(NameKind::Stage, ok).unwrap();
        }
        for ok in ["1.2", "1e-4", "lite0_imagenet", "x+y"] {
            check(NameKind::Level, ok).unwrap();
        }
        let error = check(NameKind::Stage, "e[1]").unwrap_err();
        assert!(error.contains("stage name `e[1]` contains `[`"), "{error}");
        assert!(check(NameKind::Stage, "a.b").unwrap_err().contains("contains `.`"));
        assert!(check(NameKind::Pipeline, ".").unwrap_err().contains("starts with `.`"));
        assert!(check(NameKind::Pipeline, "p q").unwrap_err().contains("contains ` `"));
        assert!(check(NameKind::Level, "").unwrap_err().contains("is empty"));
        assert!(check(NameKind::Factor, "n").unwrap_err().contains("reserved"));
        assert!(check(NameKind::Stage, &"x".repeat(65)).unwrap_err().contains("longer than 64"));
        check(NameKind::Role, "data_2").unwrap();
        assert!(
            check(NameKind::Role, "my-data")
                .unwrap_err()
                .contains("input role `my-data` contains `-`")
        );
        assert!(check(NameKind::Role, "Data").unwrap_err().contains("contains `D`"));
    }

    #[test]
    fn file_names_are_distinct_bounded_and_stay_in_their_folder() {
        let names = ["e[1]", "e_1_", "e 1 ", "E[1]", ".", "..", "p q", "p_q"];
        let files: Vec<String> = names.iter().map(|n| file_name(n)).collect();
        for (i, f) in files.iter().enumerate() {
            assert!(!files[..i].contains(f), "{f} twice");
            assert!(!f.starts_with('.') && !f.contains('/'), "{f}");
        }
        let long = file_name(&"x".repeat(300));
        assert!(long.len() <= 80 + 17, "{long}");
        assert_eq!(file_name("train[seed=1]"), file_name("train[seed=1]"));
        assert!(file_name("train[seed=1]").starts_with("train[seed=1]~"));
    }
}
