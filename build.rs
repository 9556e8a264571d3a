//! Links libtorch into the targets that use it so that CUDA is really there at run time.
//!
//! Only the `ablate-torch` worker (and the parity example and torch tests) link libtorch; the
//! `ablate` binary does not use the `ablate-torch` crate, so nothing of libtorch reaches it.
//! torch-sys links `libtorch_cpu` and friends, but with `--as-needed` the linker drops
//! `libtorch_cuda` (nothing references it by symbol) and the binary silently has no CUDA: we
//! force it in, and add an rpath so that the binaries run without `LD_LIBRARY_PATH`.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Ok(root) = std::env::var("LIBTORCH") else { return };
    let lib = Path::new(&root).join("lib");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        let force = "-Wl,--no-as-needed,-ltorch_cuda,--as-needed";
        println!("cargo:rustc-link-arg-bin=ablate-torch={force}");
        println!("cargo:rustc-link-arg-examples={force}");
    }
}
