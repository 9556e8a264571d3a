//! Runs a command stage's program and makes sure nothing of it outlives the stage.
//!
//! The program leads a process group of its own, so that a timeout, an interrupted `ablate`
//! (Ctrl-C, SIGTERM: [`kill_running`]) and the end of the stage reach whatever it started. It
//! is also asked to die with the thread that started it (`PR_SET_PDEATHSIG`), which waits for
//! it for the whole stage: a `kill -9` of `ablate` takes the program with it (what the program
//! starts itself is left to its own handling of SIGKILL's absence). Its standard output and
//! error go to `log.txt` in the staging folder, beside `out/`: kept with a published result,
//! and quoted in the error when the program fails.
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::CommandParams;
use ablate_core::stage::StageContext;

/// How often a running program is looked at.
const POLL: Duration = Duration::from_millis(20);
/// How long a program has between SIGTERM and SIGKILL when it timed out.
const GRACE: Duration = Duration::from_secs(5);
/// Lines of the log quoted when the program fails.
const TAIL_LINES: usize = 20;

/// Process groups of the programs running now; `None` once `ablate` is interrupted.
static RUNNING: Mutex<Option<Vec<i32>>> = Mutex::new(Some(Vec::new()));

/// Kills every running program's process group, and any started later: an interrupted
/// `ablate` calls this on its way out, and its stages must not report the programs' deaths
/// as failures meanwhile.
pub fn kill_running() {
    let running = RUNNING.lock().expect("running programs").take();
    for group in running.into_iter().flatten() {
        kill_group(group, libc::SIGKILL);
    }
}

/// Runs the stage's program to its end; how long it ran, or an error with the log's tail.
pub(super) fn run(
    program: &Path,
    p: &CommandParams,
    ctx: &StageContext,
    staging: &Path,
) -> anyhow::Result<Duration> {
    let scratch = staging.join("run");
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    let vars = staging.join("vars.json");
    std::fs::write(&vars, serde_json::to_vec(&p.vars)?)?;
    let log_path = staging.join("log.txt");
    let log =
        File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut command = Command::new(program);
    command
        .args(&p.run[1..])
        .current_dir(&scratch)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    environment(&mut command, ctx, &vars)?;
    command.process_group(0);
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the request took effect.
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    let shown = p.run.join(" ");
    let started = Instant::now();
    let child = command.spawn().with_context(|| format!("cannot start `{shown}`"))?;
    let (status, timed_out) = wait(child, p.timeout)?;
    let seconds = started.elapsed();
    let _ = std::fs::remove_dir_all(&scratch);
    let _ = std::fs::remove_file(&vars);
    let why = match (timed_out, status.code()) {
        (false, Some(0)) => return Ok(seconds),
        (true, _) => format!(
            "timed out after {:.1}s (timeout: {}s); its process group was killed",
            seconds.as_secs_f64(),
            p.timeout.map_or(0.0, |t| t.as_secs_f64())
        ),
        (false, Some(code)) => format!("exited with status {code}"),
        (false, None) => format!("was killed ({status})"),
    };
    bail!("`{shown}` {why}; the last lines of its output:\n{}", tail(&log_path))
}

/// The stage's environment (see the module doc of `command`), then the pipeline's `env`.
fn environment(command: &mut Command, ctx: &StageContext, vars: &Path) -> anyhow::Result<()> {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ABLATE_INPUT_") {
            command.env_remove(name);
        }
    }
    let absolute = |path: &Path| std::path::absolute(path).context("cannot resolve a path");
    command.env("ABLATE_OUT", absolute(&ctx.out_dir)?);
    for (role, dir) in &ctx.inputs {
        command.env(format!("ABLATE_INPUT_{}", role.to_uppercase()), absolute(dir)?);
    }
    command.env("ABLATE_VARS", absolute(vars)?).env("ABLATE_STAGE", ctx.stage);
    // A GPU stage sees its GPUs alone, the first as cuda:0; a CPU stage sees none.
    let inherited = std::env::var("CUDA_VISIBLE_DEVICES").ok();
    let visible = visible_gpus(&ctx.devices, inherited.as_deref());
    let device = if visible.is_empty() { "cpu" } else { "cuda:0" };
    command.env("ABLATE_DEVICE", device).env("CUDA_VISIBLE_DEVICES", visible.join(","));
    for (name, value) in &CommandParams::decode(ctx.params).env {
        command.env(name, value);
    }
    Ok(())
}

/// What the program's `CUDA_VISIBLE_DEVICES` lists for the stage's `devices` (`cuda:N`, as
/// ablate and libtorch number the GPUs `ablate` sees): the entries of `ablate`'s own
/// `CUDA_VISIBLE_DEVICES` at those positions when it has one (a Slurm job's GPUs, say, which
/// CUDA numbers from 0), else the numbers themselves; none for the CPU.
fn visible_gpus(devices: &[String], inherited: Option<&str>) -> Vec<String> {
    let inherited: Vec<&str> = inherited.unwrap_or_default().split(',').map(str::trim).collect();
    let inherited = if inherited == [""] { &[][..] } else { &inherited[..] };
    devices
        .iter()
        .filter_map(|device| device.strip_prefix("cuda:"))
        .map(|index| {
            let entry = index.parse::<usize>().ok().and_then(|i| inherited.get(i));
            entry.map_or_else(|| index.to_string(), |entry| entry.to_string())
        })
        .collect()
}

/// Waits for the program, killing its group at the timeout; its status and whether it timed
/// out. Whatever is left of its group afterwards is killed.
fn wait(mut child: Child, timeout: Option<Duration>) -> anyhow::Result<(ExitStatus, bool)> {
    let group = child.id() as i32;
    match RUNNING.lock().expect("running programs").as_mut() {
        Some(running) => running.push(group),
        None => kill_group(group, libc::SIGKILL),
    }
    let started = Instant::now();
    let ended = (|| loop {
        if let Some(status) = child.try_wait()? {
            return Ok::<_, std::io::Error>((status, false));
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            kill_group(group, libc::SIGTERM);
            let grace = Instant::now();
            while grace.elapsed() < GRACE {
                if let Some(status) = child.try_wait()? {
                    return Ok((status, true));
                }
                std::thread::sleep(POLL);
            }
            kill_group(group, libc::SIGKILL);
            return Ok((child.wait()?, true));
        }
        std::thread::sleep(POLL);
    })();
    kill_group(group, libc::SIGKILL);
    match RUNNING.lock().expect("running programs").as_mut() {
        Some(running) => running.retain(|&g| g != group),
        // `ablate` is exiting: what this stage would report is not the program's doing.
        None => loop {
            std::thread::park();
        },
    }
    ended.context("waiting for the program")
}

fn kill_group(group: i32, signal: libc::c_int) {
    // SAFETY: a plain system call; a group that no longer exists is ESRCH, ignored.
    unsafe {
        libc::killpg(group, signal);
    }
}

/// The last lines of the log, indented and prefixed as quoted output.
fn tail(log: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(log) {
        let length = file.metadata().map_or(0, |m| m.len());
        let _ = file.seek(SeekFrom::Start(length.saturating_sub(64 * 1024)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return "    | (no output)".to_string();
    }
    let shown = &lines[lines.len().saturating_sub(TAIL_LINES)..];
    shown.iter().map(|l| format!("    | {l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpus_are_seen_as_ablate_numbers_them_through_its_own_visible_devices() {
        let devices = |list: &[&str]| list.iter().map(|d| d.to_string()).collect::<Vec<_>>();
        assert_eq!(visible_gpus(&devices(&["cuda:0", "cuda:2"]), None), ["0", "2"]);
        assert_eq!(visible_gpus(&devices(&["cuda:0", "cuda:2"]), Some("")), ["0", "2"]);
        assert_eq!(visible_gpus(&devices(&["cuda:0", "cuda:2"]), Some("4,5, 6")), ["4", "6"]);
        assert_eq!(visible_gpus(&devices(&["cuda:1"]), Some("GPU-a1,GPU-b2")), ["GPU-b2"]);
        assert!(visible_gpus(&devices(&["cpu"]), Some("0")).is_empty());
        assert!(visible_gpus(&[], None).is_empty());
    }
}
