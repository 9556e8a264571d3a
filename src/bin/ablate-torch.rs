//! The torch worker, `ablate-torch`: the only binary that links libtorch (see
//! `ablate_torch::worker_main`).
fn main() {
    ablate_torch::worker_main::main();
}
