//! Datasets: the cached artifact format, ODIR-style folders, and the synthetic fundus painter.
pub mod dataset;
pub mod odir;
pub mod synthetic_fundus;
