//! `ablate kinds`, `ablate models` and `ablate bench`: what the tool offers and how fast it is.
use std::process::ExitCode;

use ablate_stages::bench::BenchOptions;
use ablate_stages::registry;
use ablate_stages::worker::run_worker_command;

pub(super) fn kinds() -> anyhow::Result<ExitCode> {
    let registry = registry();
    for name in registry.names() {
        let kind = registry.get(name).expect("listed kinds exist");
        println!("{name} — {}", kind.info().doc);
        for input in kind.info().inputs {
            println!("    input  {:<18} {}", input.role, input.doc);
        }
        for param in kind.info().params {
            println!(
                "    param  {:<18} {} ({}; default: {})",
                param.name,
                param.doc,
                param.type_description(),
                param.default_description()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(super) struct Models {
    /// Print JSON objects {name, kind, params, channels, native_size, mirrors}.
    #[arg(long)]
    json: bool,
}

impl Models {
    pub(super) fn execute(&self) -> anyhow::Result<ExitCode> {
        let args: &[&str] = if self.json { &["models", "--json"] } else { &["models"] };
        run_worker_command(args)
    }
}

pub(super) fn bench(options: &BenchOptions) -> anyhow::Result<ExitCode> {
    options.validate()?;
    run_worker_command(&["bench", &serde_json::to_string(options)?])
}
