//! The torch worker: runs one stage described by a job file (see `ablate::worker`), or prints
//! the model catalog for `ablate models`.
fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "models") {
        let json = args.iter().any(|a| a == "--json");
        if let Err(error) = ablate::models::catalog::print(json) {
            eprintln!("error: {error:#}");
            std::process::exit(1);
        }
        return;
    }
    let Some(job) = args.first() else {
        eprintln!("usage: ablate-torch JOB.json  (started by `ablate run`, not by hand)");
        std::process::exit(2);
    };
    let registry = ablate::stages::registry();
    let code = ablate::worker::serve(std::path::Path::new(job), &registry, ablate::stages::execute_on_device);
    std::process::exit(code);
}
