//! `ablate status`: recent runs recorded in the store, and what the cache holds.
use std::fs;

use ablate_core::disk::{human_size, size_of};
use ablate_core::run_record::Outcome;
use ablate_core::store::Store;

pub fn print(store: &Store, last: usize) -> anyhow::Result<()> {
    let runs = store.runs()?;
    let entries = fs::read_dir(store.entries_dir())?.flatten().count();
    println!(
        "cache {}: {entries} results, {}",
        store.root().display(),
        human_size(size_of(store.root()))
    );
    if runs.is_empty() {
        println!("no runs yet");
    }
    for run in runs.iter().rev().take(last) {
        let count = |f: fn(&Outcome) -> bool| run.stages.iter().filter(|(_, o)| f(o)).count();
        let ran = count(|o| matches!(o, Outcome::Ran { .. }));
        let cached = count(|o| matches!(o, Outcome::Cached { .. }));
        let failed = count(|o| matches!(o, Outcome::Failed { .. }));
        let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
        let state = if failed + skipped > 0 { "FAILED" } else { "ok" };
        println!(
            "{}  {:<20} {state:<6} {ran} ran, {cached} cached, {failed} failed, {skipped} skipped  ({:.1}s)",
            format_time(run.started),
            run.pipeline,
            run.seconds
        );
        for (stage, outcome) in &run.stages {
            if let Outcome::Failed { error } = outcome {
                println!("    {stage}: {}", error.lines().next().unwrap_or_default());
            }
        }
    }
    Ok(())
}

/// UTC `YYYY-MM-DD HH:MM:SS` from Unix seconds.
pub fn format_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_times() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00:00");
        assert_eq!(super::format_time(1_764_102_600), "2025-11-25 20:30:00");
    }
}
