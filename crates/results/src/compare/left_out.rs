//! What a comparison leaves out, and says under the table: variants (or seeds) of the chosen
//! pipelines without results, and results of an earlier configuration (shown marked with
//! `--stale`, else left out), one note per variant.
use ablate_core::grid::Levels;

use super::filter::{Filter, keeps_seed};
use super::{NotRun, Row, StaleNote};
use crate::collect::{Collected, Stale};

/// Adds a stale result of the variant with `levels` to the notes, one note per variant.
pub(super) fn note_stale(
    notes: &mut Vec<StaleNote>,
    pipeline: &str,
    levels: &Levels,
    stale: &Stale,
    shown: bool,
) {
    let variant_levels: Levels = levels.without_seed();
    let variant = variant_levels.name();
    let seed = levels.seed().map(str::to_string);
    let at = notes.iter().position(|n| n.pipeline == pipeline && n.variant == variant);
    let note = match at {
        Some(at) => &mut notes[at],
        None => {
            notes.push(StaleNote {
                pipeline: pipeline.to_string(),
                variant,
                seeds: Vec::new(),
                written: 0,
                overrides: Vec::new(),
                shown,
            });
            notes.last_mut().expect("just pushed")
        }
    };
    if let Some(seed) = seed
        && !note.seeds.contains(&seed)
    {
        note.seeds.push(seed);
    }
    if stale.written >= note.written {
        note.written = stale.written;
        note.overrides = stale.overrides.clone();
    }
}

/// The variants (and seeds) of the chosen pipelines with no result, as the rows would show them.
pub(super) fn not_run(
    collected: &Collected,
    rows: &[Row],
    seed_filters: &[&Filter],
    row_filters: &[&Filter],
    stale_notes: &mut Vec<StaleNote>,
) -> Vec<NotRun> {
    let mut not_run: Vec<NotRun> = Vec::new();
    for missing in collected.missing.iter().filter(|m| keeps_seed(seed_filters, &m.levels)) {
        let levels: Levels = missing.levels.without_seed();
        let probe = Row {
            pipeline: missing.pipeline.clone(),
            levels: levels.clone(),
            seeds: Vec::new(),
            n: 0,
            cells: Vec::new(),
            stale: false,
        };
        if !row_filters.iter().filter(|f| !f.is_on_value()).all(|f| f.keeps(&probe)) {
            continue;
        }
        if let Some(stale) = missing.stale() {
            note_stale(stale_notes, &missing.pipeline, &missing.levels, stale, false);
            continue;
        }
        let variant = levels.name();
        let has_results = rows
            .iter()
            .any(|r| r.pipeline == missing.pipeline && r.levels.without_seed() == levels);
        let seed = missing.levels.seed().map(str::to_string);
        let at =
            not_run.iter().position(|n| n.pipeline == missing.pipeline && n.variant == variant);
        let entry = match at {
            Some(at) => &mut not_run[at],
            None => {
                not_run.push(NotRun {
                    pipeline: missing.pipeline.clone(),
                    variant,
                    seeds: Vec::new(),
                });
                not_run.last_mut().expect("just pushed")
            }
        };
        if has_results && let Some(seed) = seed {
            entry.seeds.push(seed);
        }
    }
    not_run
}
