//! Results read back from the cache: comparison tables with their statistics (`ablate
//! compare`), plots (`ablate plot`), the tidy table of every metric (`ablate metrics`) and
//! where a stage's output is (`ablate out`). Only manifests, refs and stored results are read;
//! nothing is recomputed.
pub mod collect;
pub mod compare;
pub mod format;
pub mod gather;
pub mod output;
pub mod plot;
pub mod report;
pub mod significance;
pub mod stats;
pub mod tidy;
