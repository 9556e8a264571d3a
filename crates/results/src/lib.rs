//! What stored results say, read from the cache alone (ablate-results): comparison tables with
//! their statistics (`compare` on `collect`, `significance` on `stats`, written by `format`),
//! the tidy table of every metric (`tidy`) and of the bootstrap replicates' spread (`spread`), learning curves (`curves`), plots (`plot`), the HTML report (`gather` fills it,
//! `report` renders it), where a stage's output is (`output`), and which variants get more seeds
//! in a round of `run --until-ci` (`seeds_on_demand`). Only manifests, refs and
//! stored results are read; nothing is recomputed. The command line (`ablate compare`, …) is
//! the binary's; nothing here parses arguments or asks the terminal.
mod chart;
pub mod collect;
pub mod compare;
pub mod curves;
pub mod format;
pub mod gather;
pub mod output;
pub mod plot;
pub mod report;
pub mod seeds_on_demand;
pub mod significance;
pub mod spread;
mod stats;
pub mod tidy;
