//! `command`: any program as a stage ("bring your own code"), with the caching, early cutoff,
//! grids, plans and executors of every other stage.
//!
//! `run` is an argv (no shell). The program runs with its working directory a scratch folder in
//! the stage's staging folder, and finds everything through its environment: `ABLATE_OUT` (the
//! empty folder to write results into), `ABLATE_INPUT_<ROLE>` per input (an upstream output
//! folder, read-only by convention; roles are the pipeline's own, see `names::NameKind::Role`),
//! `ABLATE_VARS` (a JSON file of `vars`), `ABLATE_DEVICE` and `ABLATE_STAGE`, plus `env`. A
//! CPU stage sees no GPU (`CUDA_VISIBLE_DEVICES` empty); with `device: true` it takes a device
//! slot like a training, and on `cuda:N` sees that GPU alone, as `cuda:0`; with `device: N` it
//! takes a slot on each of N devices at once and sees those N GPUs, the first as `cuda:0`
//! (`ABLATE_DEVICE`), so that it may start `torchrun --nproc-per-node N` (see `process`).
//!
//! Its key holds the parameters (argv, `vars`, `env`, `device`, `key_cmd`; not `timeout`), the
//! content of every `deps` entry (folders recursively, without `__pycache__` and hidden
//! entries; the stat cache saves re-reading them; a `{module: name}` entry is the files of a
//! Python module where the stage's interpreter finds it, see `modules`) and of the program
//! `run[0]` names (on PATH: the interpreter), the output of `key_cmd` (e.g. `pip freeze`: the
//! environment beyond `deps`, run once per `ablate` invocation; see `ablate_core::key_commands`),
//! and the upstream output digests. Exit 0 publishes `ABLATE_OUT`; its `metrics.jsonl` becomes
//! the stage's metrics (see `metrics`) and leaves the folder, so that timings written there do
//! not defeat early cutoff. Anything else fails the stage with the last lines of its output,
//! which is kept beside the result as `log.txt` (`process`).
mod metrics;
mod modules;
mod process;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde_json::{Map, Value as Json};

use ablate_core::params::{
    Item, ParamDefault as D, ParamProblem, ParamSpec, ParamType as T, Params,
};
use ablate_core::stage::{
    InputFile, InputSpec, KeyCommand, KindInfo, Resource, StageContext, StageKind, Workspace,
};

pub use process::kill_running;

pub struct CommandKind;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "run",
        T::Args,
        D::Required,
        "the program and its arguments, e.g. [python3, \"${pipeline_dir}/fit.py\"] (no shell)",
    ),
    ParamSpec::new(
        "deps",
        T::TaggedStrList(&["module"]),
        D::StrList(&[]),
        "files and folders whose content enters the key (the program's code); {module: name}: a Python module's files, where the stage's interpreter finds them",
    ),
    ParamSpec::new(
        "key_cmd",
        T::Args,
        D::Absent,
        "a command whose output enters the key, e.g. [python3, -m, pip, freeze]: the environment beyond `deps` (run once per ablate invocation)",
    ),
    ParamSpec::new(
        "vars",
        T::Scalars,
        D::NoScalars,
        "free-form variables, handed over as the JSON file $ABLATE_VARS",
    ),
    ParamSpec::new("env", T::Scalars, D::NoScalars, "extra environment variables"),
    ParamSpec::new(
        "device",
        T::CountOrBool { max: 64 },
        D::Bool(false),
        "take a device slot (a GPU: CUDA_VISIBLE_DEVICES) like a training; N: a slot on each of N devices, all seen (torchrun)",
    ),
    ParamSpec::new(
        "timeout",
        T::Float { min: 0.001, max: 1e9 },
        D::Absent,
        "seconds after which its process group is killed and the stage fails",
    )
    .unkeyed(),
];

const INFO: KindInfo = KindInfo {
    kind: "command",
    version: 1,
    doc: "run any program as a stage (see the README's \"Bring your own code\")",
    params: PARAMS,
    inputs: &[InputSpec::any("an upstream stage, whose output folder is $ABLATE_INPUT_<ROLE>")],
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

/// `command`'s parameters, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandParams {
    pub run: Vec<String>,
    pub deps: Vec<Dep>,
    pub key_cmd: Option<Vec<String>>,
    pub vars: Map<String, Json>,
    /// Names and values; numbers and booleans as they are written in JSON.
    pub env: Vec<(String, String)>,
    /// How many devices it takes; 0 for a CPU stage.
    pub device: u32,
    pub timeout: Option<Duration>,
}

/// An entry of `deps`.
#[derive(Debug, Clone, PartialEq)]
pub enum Dep {
    /// A file, or a folder and everything in it.
    Path(PathBuf),
    /// `{module: name}`: a Python module's files, where the stage's interpreter finds them.
    Module(String),
}

impl CommandParams {
    pub fn decode(p: &Params) -> CommandParams {
        let text = |value: &Json| value.as_str().map_or_else(|| value.to_string(), String::from);
        let dep = |(tag, text): (Option<String>, String)| match tag.as_deref() {
            None => Dep::Path(PathBuf::from(text)),
            Some("module") => Dep::Module(text),
            Some(other) => unreachable!("`deps` declares no tag `{other}`"),
        };
        CommandParams {
            run: p.str_list("run"),
            deps: p.tagged_str_list("deps").into_iter().map(dep).collect(),
            key_cmd: p.opt_str_list("key_cmd"),
            vars: p.scalars("vars").clone(),
            env: p.scalars("env").iter().map(|(k, v)| (k.clone(), text(v))).collect(),
            device: p.count("device"),
            timeout: p.opt_float("timeout").map(Duration::from_secs_f64),
        }
    }

    /// The modules among `deps`, with their positions in it.
    fn modules(&self) -> Vec<(usize, &str)> {
        let mut modules = Vec::new();
        for (i, dep) in self.deps.iter().enumerate() {
            if let Dep::Module(name) = dep {
                modules.push((i, name.as_str()));
            }
        }
        modules
    }

    /// The modules of `deps` where the stage's interpreter finds them (see `modules`), in the
    /// order of [`CommandParams::modules`]; none and no interpreter without modules.
    fn found_modules(&self) -> Result<Vec<modules::Found>, String> {
        let names: Vec<String> = self.modules().iter().map(|(_, name)| name.to_string()).collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let interpreter = modules::interpreter(&self.run[0])?;
        modules::find(&interpreter, &self.env, &names)
    }
}

impl StageKind for CommandKind {
    fn info(&self) -> &'static KindInfo {
        &INFO
    }

    fn resource(&self, params: &Params) -> Resource {
        NonZeroU32::new(CommandParams::decode(params).device)
            .map_or(Resource::Cpu, Resource::Devices)
    }

    fn check(&self, params: &Params) -> Vec<ParamProblem> {
        let p = CommandParams::decode(params);
        let mut problems = Vec::new();
        match p.run.first() {
            None => problems.push(ParamProblem::new("run", None, "`run` is empty").hint(
                "name the program and its arguments, e.g. [python3, \"${pipeline_dir}/fit.py\"]",
            )),
            Some(program) => {
                if let Err(error) = Program::find(program) {
                    problems.push(ParamProblem::new("run", Some(Item::Index(0)), error));
                }
            }
        }
        for (i, dep) in p.deps.iter().enumerate() {
            if let Dep::Path(dep) = dep
                && !dep.exists()
            {
                problems.push(
                    ParamProblem::new(
                        "deps",
                        Some(Item::Index(i)),
                        format!("deps entry {} does not exist", dep.display()),
                    )
                    .hint("relative paths are read from the current folder; `${pipeline_dir}/…` names one beside the pipeline file"),
                );
            }
        }
        if !p.run.is_empty() {
            problems.extend(module_problems(&p));
        }
        match p.key_cmd.as_deref().map(<[String]>::first) {
            None => {}
            Some(None) => problems.push(ParamProblem::new("key_cmd", None, "`key_cmd` is empty").hint(
                "name a program whose output describes the environment, e.g. [python3, -m, pip, freeze]",
            )),
            Some(Some(program)) => {
                if let Err(error) = Program::find(program) {
                    problems.push(ParamProblem::new("key_cmd", Some(Item::Index(0)), error));
                }
            }
        }
        for (name, _) in &p.env {
            if let Err(why) = env_name(name) {
                problems.push(ParamProblem::new("env", Some(Item::Key(name.clone())), why));
            }
        }
        problems
    }

    fn input_files(&self, params: &Params) -> anyhow::Result<Vec<InputFile>> {
        let p = CommandParams::decode(params);
        let mut files = Vec::new();
        let found = p.found_modules().map_err(anyhow::Error::msg)?;
        for dep in &p.deps {
            match dep {
                Dep::Path(path) => {
                    deps_files(path, &|shown| format!("deps file {shown}"), &mut files)
                        .with_context(|| format!("cannot read deps entry {}", path.display()))?;
                }
                Dep::Module(name) => {
                    let module = found.iter().find(|m| m.name == *name).expect("found above");
                    let label = |shown: &str| format!("deps module {name} ({shown})");
                    let paths = module.paths.as_ref().map_err(|why| anyhow::anyhow!("{why}"))?;
                    for path in paths {
                        deps_files(path, &label, &mut files).with_context(|| {
                            format!("cannot read module {name} at {}", path.display())
                        })?;
                    }
                }
            }
        }
        let program = Program::find(&p.run[0]).map_err(anyhow::Error::msg)?;
        files.push(program.input_file());
        Ok(files)
    }

    fn key_command(&self, params: &Params) -> Option<KeyCommand> {
        CommandParams::decode(params).key_cmd.map(|argv| KeyCommand { argv })
    }

    fn run(&self, ctx: &mut StageContext) -> anyhow::Result<()> {
        let p = CommandParams::decode(ctx.params);
        let program = Program::find(&p.run[0]).map_err(anyhow::Error::msg)?;
        let staging = ctx.out_dir.parent().context("the output folder has a parent")?.to_path_buf();
        let ran = process::run(&program.path, &p, ctx, &staging)?;
        let rows = metrics::take(&ctx.out_dir)?;
        let n = rows.len();
        for row in rows {
            ctx.metric(row);
        }
        let shown: Vec<String> = p.run.iter().take(2).map(|arg| short(arg)).collect();
        ctx.set_summary(format!(
            "`{}` exited 0 after {:.1}s; metric rows: {n}",
            shown.join(" "),
            ran.as_secs_f64()
        ));
        Ok(())
    }
}

/// What keeps the modules of `deps` from being found, at each module's entry.
fn module_problems(p: &CommandParams) -> Vec<ParamProblem> {
    let problem = |i: usize, message: String| {
        ParamProblem::new("deps", Some(Item::Index(i)), message).hint(
            "a module is found as the program imports it: through PYTHONPATH (set it in `env`) and the interpreter's site-packages, not beside the script (name such a file as a path)",
        )
    };
    match p.found_modules() {
        Ok(found) => p
            .modules()
            .into_iter()
            .zip(found)
            .filter_map(|((i, _), module)| module.paths.err().map(|why| problem(i, why)))
            .collect(),
        Err(why) => p.modules().into_iter().map(|(i, _)| problem(i, why.clone())).collect(),
    }
}

/// The file name of a path-like argument, else the argument.
fn short(arg: &str) -> String {
    match Path::new(arg).file_name() {
        Some(name) if arg.contains('/') => name.to_string_lossy().into_owned(),
        _ => arg.to_string(),
    }
}

/// An environment variable the pipeline may set: a name the shell accepts, none that ablate
/// sets itself.
fn env_name(name: &str) -> Result<(), String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "`{name}` is not an environment variable name (letters, digits and `_`, not starting with a digit)"
        ));
    }
    if name.starts_with("ABLATE_") || name == "CUDA_VISIBLE_DEVICES" {
        return Err(format!("`{name}` is set by ablate for every command stage"));
    }
    Ok(())
}

/// The program `run[0]` names: on PATH (an interpreter such as `python3`), or a path.
struct Program {
    /// What is started (on PATH, as found there: a virtual environment's `python` stays one).
    path: PathBuf,
    label: String,
}

impl Program {
    fn find(name: &str) -> Result<Program, String> {
        if name.contains('/') {
            let path = std::path::absolute(name).map_err(|e| format!("program {name}: {e}"))?;
            if !path.is_file() {
                return Err(format!("program {name} does not exist"));
            }
            return Ok(Program { label: format!("program {}", shown(&path)), path });
        }
        let path = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(name))
            .find(|path| is_executable(path))
            .ok_or_else(|| format!("program `{name}` is not on PATH"))?;
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        Ok(Program { label: format!("interpreter {}", real.display()), path })
    }

    fn input_file(&self) -> InputFile {
        InputFile { label: self.label.clone(), path: self.path.clone() }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A path as labels show it: relative to the current folder when inside it.
fn shown(path: &Path) -> String {
    let here = std::env::current_dir().ok();
    let relative = here.as_deref().and_then(|here| path.strip_prefix(here).ok());
    relative.unwrap_or(path).display().to_string()
}

/// The files of a `deps` entry: the file, or every file under the folder, in name order,
/// without `__pycache__` and hidden entries (what an interpreter or an editor leaves there);
/// each labelled by `label` from its path as labels show it.
fn deps_files(
    entry: &Path,
    label: &dyn Fn(&str) -> String,
    files: &mut Vec<InputFile>,
) -> std::io::Result<()> {
    let path = std::path::absolute(entry)?;
    if !std::fs::metadata(&path)?.is_dir() {
        files.push(InputFile { label: label(&shown(&path)), path });
        return Ok(());
    }
    let mut children: Vec<_> = std::fs::read_dir(&path)?.collect::<Result<_, _>>()?;
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let name = child.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "__pycache__" {
            continue;
        }
        deps_files(&child.path(), label, files)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoder_reads_every_parameter() {
        ablate_core::params::check_decoder(super::PARAMS, "run: [sh]", CommandParams::decode);
    }

    #[test]
    fn environment_names_are_checked() {
        assert!(env_name("OMP_NUM_THREADS").is_ok());
        assert!(env_name("1X").unwrap_err().contains("not an environment variable name"));
        assert!(env_name("A-B").is_err());
        assert!(env_name("ABLATE_OUT").unwrap_err().contains("set by ablate"));
    }

    #[test]
    fn folders_list_their_files_without_caches() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["lib/a.py", "lib/sub/b.py", "lib/__pycache__/a.pyc", "lib/.swp"] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let mut files = Vec::new();
        deps_files(&dir.path().join("lib"), &|shown| format!("deps file {shown}"), &mut files)
            .unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.label.rsplit('/').next().unwrap()).collect();
        assert_eq!(names, ["a.py", "b.py"]);
        assert!(files[0].label.starts_with("deps file "), "{}", files[0].label);
    }
}
