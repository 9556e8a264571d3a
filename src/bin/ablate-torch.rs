//! The device worker: runs one device stage described by a job file (see `ablate::worker`).
fn main() {
    let Some(job) = std::env::args_os().nth(1) else {
        eprintln!("usage: ablate-torch JOB.json  (started by `ablate run`, not by hand)");
        std::process::exit(2);
    };
    let registry = ablate::stages::registry();
    let code = ablate::worker::serve(std::path::Path::new(&job), &registry, ablate::stages::execute_on_device);
    std::process::exit(code);
}
