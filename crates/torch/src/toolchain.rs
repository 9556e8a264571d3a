//! `ablate-torch toolchain`: the versions of what this binary computes with, as JSON, for the
//! cache keys of device stages (`ablate`'s `toolchain` module asks once per worker binary).
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Versions {
    /// The libtorch this binary was built against (and loads, through its rpath).
    pub libtorch: &'static str,
    /// The CUDA runtime and cuDNN libtorch was built with, e.g. 13000 and 91200; `None` for
    /// a CPU-only libtorch.
    pub cuda_runtime: Option<i64>,
    pub cudnn: Option<i64>,
}

pub fn versions() -> Versions {
    // A CPU-only libtorch throws where the CUDA hooks are missing.
    let ask = |f: fn() -> i64| std::panic::catch_unwind(f).ok().filter(|&v| v > 0);
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (cuda_runtime, cudnn) = (ask(tch::utils::version_cudart), ask(tch::utils::version_cudnn));
    std::panic::set_hook(quiet);
    Versions { libtorch: env!("ABLATE_LIBTORCH_VERSION"), cuda_runtime, cudnn }
}
