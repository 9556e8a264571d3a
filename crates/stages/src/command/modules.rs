//! `deps: [{module: mypkg}]`: a Python module in the key by its files, wherever the stage's
//! interpreter finds it (a helper package on PYTHONPATH, one installed in editable mode), so
//! that editing it makes the stage run again as editing a script does.
//!
//! The interpreter is `run[0]` when it is a Python (`python`, `python3`, `python3.11`, as found
//! on PATH: a virtual environment's stays one), else `python3`. It runs with the stage's `env`
//! (PYTHONPATH!) and asks `importlib.util.find_spec` for every module of the stage at once: a
//! package is its folder (each folder of a namespace package), a module its file, then digested
//! as a `deps` folder or file is. What Python puts first on `sys.path` for a script, the
//! script's own folder, is not searched: a module there is named as a path. Finding a submodule
//! (`mypkg.sub`) imports its parent packages, as the program would.
//!
//! Each distinct question (interpreter, environment, modules) is asked once per `ablate`
//! invocation: the answer is kept for the process, since a stage's parameters are checked and
//! then its files digested, and a grid asks the same for each of its instances. A stage without
//! modules starts no interpreter.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

use super::Program;
use ablate_core::probe;

/// Finds each module named on its command line; prints one answer per module, as JSON.
const FIND_SPEC: &str = r#"
import importlib.util, json, sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
answers = []
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception as error:
        answers.append({"error": f"{type(error).__name__}: {error}"})
        continue
    if spec is None:
        answers.append({"error": None})
    elif spec.submodule_search_locations:
        answers.append({"paths": list(spec.submodule_search_locations)})
    elif spec.has_location and spec.origin:
        answers.append({"paths": [spec.origin]})
    else:
        answers.append({"error": f"it has no files ({spec.origin})"})
print(json.dumps(answers))
"#;

/// A module of `deps` and where it was found: its folders or file, or why it was not.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Found {
    pub(super) name: String,
    pub(super) paths: Result<Vec<PathBuf>, String>,
}

/// What the interpreter printed for one module.
#[derive(Deserialize)]
struct Answer {
    paths: Option<Vec<PathBuf>>,
    /// Why `find_spec` failed; `null`: it found nothing.
    error: Option<String>,
}

/// The question that identifies an answer kept for the process.
type Question = (PathBuf, Vec<(String, String)>, Vec<String>);

static ANSWERS: Mutex<BTreeMap<Question, Result<Vec<Found>, String>>> = Mutex::new(BTreeMap::new());

/// The interpreter that finds a stage's modules: `run[0]` when it is a Python, else `python3`.
pub(super) fn interpreter(program: &str) -> Result<PathBuf, String> {
    let name = Path::new(program).file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let python = name
        .strip_prefix("python")
        .is_some_and(|version| version.chars().all(|c| c.is_ascii_digit() || c == '.'));
    let found = Program::find(if python { program } else { "python3" })
        .map_err(|e| format!("no interpreter finds the module: {e}"))?;
    Ok(found.path)
}

/// Where `interpreter`, with `env` on top of this process's environment, finds each of
/// `names`; an error when it cannot be asked.
pub(super) fn find(
    interpreter: &Path,
    env: &[(String, String)],
    names: &[String],
) -> Result<Vec<Found>, String> {
    let question = (interpreter.to_path_buf(), env.to_vec(), names.to_vec());
    // Held while the interpreter runs: the same question asked meanwhile waits for its answer.
    let mut answers = ANSWERS.lock().expect("module answers");
    answers.entry(question).or_insert_with(|| ask(interpreter, env, names)).clone()
}

fn ask(
    interpreter: &Path,
    env: &[(String, String)],
    names: &[String],
) -> Result<Vec<Found>, String> {
    let mut argv = vec![interpreter.display().to_string(), "-c".into(), FIND_SPEC.into()];
    argv.extend(names.iter().cloned());
    let shown = interpreter.display();
    let printed = probe::output(&argv, env, probe::TIMEOUT)
        .map_err(|why| format!("{shown}, asked where the modules are, {why}"))?;
    let answers: Vec<Answer> = serde_json::from_str(&printed)
        .map_err(|e| format!("{shown} did not say where the modules are ({e}): {printed}"))?;
    Ok(names
        .iter()
        .zip(answers)
        .map(|(name, answer)| Found {
            name: name.clone(),
            paths: match (answer.paths, answer.error) {
                (Some(paths), _) => Ok(paths),
                (None, None) => Err(format!("deps module `{name}` is not found by {shown}")),
                (None, Some(why)) => {
                    Err(format!("deps module `{name}` cannot be found by {shown}: {why}"))
                }
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_is_its_package_folder_or_its_file_where_pythonpath_says() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib/mypkg")).unwrap();
        std::fs::write(dir.path().join("lib/mypkg/__init__.py"), "").unwrap();
        std::fs::write(dir.path().join("lib/single.py"), "").unwrap();
        let python = interpreter("python3").unwrap();
        let env = [("PYTHONPATH".to_string(), dir.path().join("lib").display().to_string())];
        let names = ["mypkg", "single", "no_such_module_here", "json"].map(String::from);
        let found = find(&python, &env, &names).unwrap();
        let lib = dir.path().join("lib").canonicalize().unwrap();
        let canonical = |f: &Found| -> Vec<PathBuf> {
            f.paths.clone().unwrap().iter().map(|p| p.canonicalize().unwrap()).collect()
        };
        assert_eq!(canonical(&found[0]), [lib.join("mypkg")]);
        assert_eq!(canonical(&found[1]), [lib.join("single.py")]);
        let missing = found[2].paths.clone().unwrap_err();
        assert!(
            missing.starts_with("deps module `no_such_module_here` is not found by "),
            "{missing}"
        );
        assert!(found[3].paths.as_ref().unwrap()[0].ends_with("json"), "{found:?}");
        // Without PYTHONPATH, the package is not found.
        assert!(find(&python, &[], &names[..1]).unwrap()[0].paths.is_err());
        assert_eq!(interpreter("sh").unwrap(), python);
    }
}
