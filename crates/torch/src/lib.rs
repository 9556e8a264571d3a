//! The libtorch side of `ablate`: model architectures (`models`, one file each), training and
//! prediction helpers (`nn`), the implementations of the device stages (`stages`, one file per
//! kind, declared in `ablate_stages`), and `ablate bench`'s measurement (`bench`). Only the
//! `ablate-torch` worker binary links this crate.
pub mod bench;
pub mod models;
pub mod nn;
pub mod stages;
pub mod toolchain;
pub mod worker_main;
