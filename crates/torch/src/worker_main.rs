//! The `ablate-torch` worker's command line: `--serve` runs the stages `ablate run` sends it
//! (see `ablate_stages::worker`), `models` prints the model catalog for `ablate models`,
//! `bench OPTIONS.json` measures for `ablate bench`, and `toolchain` prints the versions that
//! enter device stages' keys.
pub fn main() {
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
