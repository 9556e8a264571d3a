//! Links libtorch into the targets that use it so that CUDA is really there at run time.
//!
//! Only the `ablate-torch` worker (and the parity example and torch tests) link libtorch; the
//! `ablate` binary does not use the `ablate-torch` crate, so nothing of libtorch reaches it.
//! torch-sys links `libtorch_cpu` and friends, but with `--as-needed` the linker drops
//! `libtorch_cuda` (nothing references it by symbol) and the binary silently has no CUDA: we
//! force it in, and add an rpath so that the binaries run without `LD_LIBRARY_PATH`. The
//! libtorch version is recorded for the toolchain fingerprint of cache keys.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Ok(root) = std::env::var("LIBTORCH") else {
        println!("cargo:rustc-env=ABLATE_LIBTORCH_VERSION=unknown");
        return;
    };
    let lib = Path::new(&root).join("lib");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        let force = "-Wl,--no-as-needed,-ltorch_cuda,--as-needed";
        println!("cargo:rustc-link-arg-bin=ablate-torch={force}");
        println!("cargo:rustc-link-arg-examples={force}");
    }
    let version_file = Path::new(&root).join("version.py");
    println!("cargo:rerun-if-changed={}", version_file.display());
    let version = std::fs::read_to_string(&version_file)
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("__version__ = "))
                .map(|v| v.trim().trim_matches('\'').to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=ABLATE_LIBTORCH_VERSION={version}");
}
