//! Links libtorch so that CUDA is really there at run time.
//!
//! Only the `ablate-torch` worker needs libtorch at run time. torch-sys links `libtorch_cpu` and friends, but with `--as-needed` the linker drops
//! `libtorch_cuda` (nothing references it by symbol) and the binary silently has no CUDA.
//! We force it in, add an rpath so the binary runs without `LD_LIBRARY_PATH`, and record the
//! libtorch version for the toolchain fingerprint of cache keys. With the torch feature it also
//! compiles `src/nn/shim.cpp`, the few libtorch functions tch does not expose (see
//! `compile_shim`).
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
        println!(
            "cargo:rustc-link-arg-bin=ablate-torch=-Wl,--no-as-needed,-ltorch_cuda,--as-needed"
        );
        println!("cargo:rustc-link-arg-examples=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
    if std::env::var_os("CARGO_FEATURE_TORCH").is_some() {
        compile_shim(Path::new(&root));
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

/// With a CUDA libtorch (and the CUDA headers its wheel brings), the shim's CUDA streams and
/// graphs are compiled in, and `c10_cuda`, which they call, is linked.
fn compile_shim(root: &Path) {
    println!("cargo:rerun-if-changed=src/nn/shim.cpp");
    // The CUDA runtime headers: the wheel's own set lacks `crt/`, Triton's (a torch dependency) is whole.
    let cuda_headers = ["../triton/backends/nvidia/include", "../nvidia/cu13/include"]
        .map(|dir| root.join(dir))
        .into_iter()
        .find(|dir| {
            dir.join("cuda_runtime_api.h").exists() && dir.join("crt/host_config.h").exists()
        });
    let mut build = cc::Build::new();
    if let Some(headers) = cuda_headers.filter(|_| root.join("lib/libtorch_cuda.so").exists()) {
        build.include(headers).define("ABLATE_CUDA", None);
        println!("cargo:rustc-link-lib=c10_cuda");
    }
    build
        .cpp(true)
        .file("src/nn/shim.cpp")
        .include(root.join("include"))
        .flag("-std=c++17")
        .flag("-D_GLIBCXX_USE_CXX11_ABI=1")
        .flag("-DGLOG_USE_GLOG_EXPORT")
        .flag_if_supported("-Wno-unused-parameter")
        .warnings(false)
        .compile("ablate_shim");
}
