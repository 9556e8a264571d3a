//! Records the git commit the binaries are built from (`ABLATE_COMMIT`, for run records'
//! provenance), and links libtorch into the targets that use it so that CUDA is really there at
//! run time.
//!
//! The commit comes from `git rev-parse HEAD` when the source is a git checkout (none
//! otherwise); the script runs again when HEAD or the branch it points to moves.
//!
//! Only the `ablate-torch` worker (and the parity example and torch tests) link libtorch; the
//! `ablate` binary does not use the `ablate-torch` crate, so nothing of libtorch reaches it.
//! torch-sys links `libtorch_cpu` and friends, but with `--as-needed` the linker drops
//! `libtorch_cuda` (nothing references it by symbol) and the binary silently has no CUDA: we
//! force it in, and add an rpath so that the binaries run without `LD_LIBRARY_PATH`.
use std::path::Path;
use std::process::Command;

fn main() {
    record_commit();
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

/// `ABLATE_COMMIT` from git, and the git files whose change means another commit.
fn record_commit() {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        (output.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]) else { return };
    println!("cargo:rustc-env=ABLATE_COMMIT={commit}");
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}
