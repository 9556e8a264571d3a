//! Results read back from the cache: comparison tables (`ablate compare`) and plots
//! (`ablate plot`). Only manifests, refs and stored metrics are read; nothing is recomputed.
pub mod collect;
pub mod compare;
pub mod format;
pub mod plot;
pub mod significance;
pub mod stats;
