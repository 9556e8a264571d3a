//! Compiles `src/nn/shim.cpp`, the few libtorch functions tch does not expose (see
//! `compile_shim`), adds an rpath to libtorch so that this crate's tests run without
//! `LD_LIBRARY_PATH`, and records libtorch's version (`toolchain`).
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=src/nn/shim.cpp");
    let root = std::env::var("LIBTORCH").expect("LIBTORCH names the libtorch folder (make does)");
    let root = Path::new(&root);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", root.join("lib").display());
    compile_shim(root);
    let version_file = root.join("version.py");
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
    // The CUDA runtime headers: the wheel's own set lacks `crt/`, Triton's (a torch dependency)
    // is whole.
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
