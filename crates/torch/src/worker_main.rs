//! The `ablate-torch` worker's command line: `--serve` runs the stages `ablate run` sends it
//! (see `ablate_stages::worker`), `models` prints the model catalog for `ablate models`,
//! `bench OPTIONS.json` measures for `ablate bench`, and `toolchain` prints the versions that
//! enter device stages' keys.
pub fn main() {
    keep_freed_memory();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "toolchain") {
        let versions = crate::toolchain::versions();
        println!("{}", serde_json::to_string(&versions).expect("versions serialise"));
        return;
    }
    if args.first().is_some_and(|a| a == "models") {
        let json = args.iter().any(|a| a == "--json");
        if let Err(error) = crate::models::listing::print(json) {
            eprintln!("error: {error:#}");
            std::process::exit(1);
        }
        return;
    }
    if args.first().is_some_and(|a| a == "bench") {
        if let Err(error) = bench(args.get(1)) {
            eprintln!("error: {error:#}");
            std::process::exit(1);
        }
        return;
    }
    if args.first().is_none_or(|a| a != ablate_stages::worker::SERVE) {
        eprintln!(
            "usage: ablate-torch {}  (started by `ablate run`, not by hand)",
            ablate_stages::worker::SERVE
        );
        std::process::exit(2);
    }
    let code = ablate_stages::worker::serve(crate::stages::execute_on_device);
    std::process::exit(code);
}

/// `ablate bench`: the options arrive as JSON from `ablate`, which parsed them.
fn bench(options: Option<&std::ffi::OsString>) -> anyhow::Result<()> {
    let options = options
        .and_then(|o| o.to_str())
        .ok_or_else(|| anyhow::anyhow!("usage: ablate-torch bench OPTIONS.json"))?;
    let options: ablate_stages::bench::BenchOptions = serde_json::from_str(options)?;
    let measurements = crate::bench::run(&options)?;
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_vec_pretty(&measurements)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Makes glibc's malloc keep what libtorch frees for the next allocation instead of handing it
/// back to the kernel. By default every block over 32 MiB is its own `mmap`, unmapped when
/// freed, so each training step's large activations (ResNet18's first feature map at 128 px
/// and batch 32 is 33.5 MB; at 256 px 134 MB) fault in and zero fresh pages again: on the CPU
/// about a tenth of a step went to page faults. Without `mmap` and with trimming off, freed
/// blocks stay in the heap and are reused; the worker's memory stays at its peak until it
/// exits, as the caching allocator keeps GPU memory.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters, under malloc's own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
