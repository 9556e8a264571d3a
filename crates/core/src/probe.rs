//! Short programs run while planning, whose standard output a key needs: a command stage's
//! `key_cmd` (`pip freeze`, see `key_commands`), and the interpreter that finds where a `deps`
//! module lives.
//!
//! Planning must stay fast and must end: a probe gets [`TIMEOUT`], then it is killed, and an
//! output larger than [`MAX_OUTPUT`] is refused (a probe describes an environment in a few
//! kilobytes; more is a mistake, such as a command that prints a whole tree). A probe stays in
//! `ablate`'s process group, so that Ctrl-C at the terminal stops it with `ablate`; a timeout
//! kills the probe itself, and what it started is left to end with its output pipe.
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a probe may run.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// The most a probe may print (bytes of standard output).
pub const MAX_OUTPUT: usize = 1 << 20;
/// Lines of its standard error quoted when a probe fails.
const TAIL_LINES: usize = 10;
/// How often a running probe is looked at.
const POLL: Duration = Duration::from_millis(5);

/// Runs `argv` (no shell) in the current folder with `env` on top of this process's
/// environment, with no input; its standard output as text, or why there is none (exit
/// status, timeout, size, with the tail of its standard error).
pub fn output(
    argv: &[String],
    env: &[(String, String)],
    timeout: Duration,
) -> Result<String, String> {
    let (program, args) = argv.split_first().ok_or("no program to run")?;
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
    // Each pipe is read to its end on a thread of its own, so that a probe that fills one
    // while the other is unread does not block.
    let (tx, rx) = mpsc::channel();
    for (is_stdout, pipe) in [
        (true, child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
        (false, child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
    ] {
        let tx = tx.clone();
        let mut pipe = pipe.expect("piped");
        thread::spawn(move || {
            let mut kept = Vec::new();
            let limit = if is_stdout { MAX_OUTPUT + 1 } else { 64 * 1024 };
            let mut buffer = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
            }
            let _ = tx.send((is_stdout, kept));
        });
    }
    drop(tx);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?} and was killed"));
            }
            Ok(None) => thread::sleep(POLL),
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let left = timeout.saturating_sub(started.elapsed()).max(Duration::from_secs(1));
        match rx.recv_timeout(left) {
            Ok((true, bytes)) => stdout = bytes,
            Ok((false, bytes)) => stderr = bytes,
            Err(_) => return Err("exited, but what it started keeps its output open".into()),
        }
    }
    let tail = || {
        let text = String::from_utf8_lossy(&stderr);
        let lines: Vec<&str> = text.lines().collect();
        let shown = &lines[lines.len().saturating_sub(TAIL_LINES)..];
        shown.iter().map(|l| format!("\n    | {l}")).collect::<String>()
    };
    if !status.success() {
        let why = match status.code() {
            Some(code) => format!("exited with status {code}"),
            None => format!("was killed ({status})"),
        };
        return Err(format!("{why}{}", tail()));
    }
    if stdout.len() > MAX_OUTPUT {
        return Err(format!(
            "printed more than {} KiB: a probe describes an environment in a few lines",
            MAX_OUTPUT / 1024
        ));
    }
    String::from_utf8(stdout).map_err(|_| format!("printed bytes that are not UTF-8{}", tail()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn a_probe_gives_its_output_or_says_why_not() {
        let env = [("WHO".to_string(), "probe".to_string())];
        assert_eq!(output(&sh("echo $WHO; echo noise >&2"), &env, TIMEOUT).unwrap(), "probe\n");
        let failed = output(&sh("echo out; echo oops >&2; exit 3"), &[], TIMEOUT).unwrap_err();
        assert_eq!(failed, "exited with status 3\n    | oops");
        let started = Instant::now();
        let slow = output(&sh("sleep 30"), &[], Duration::from_millis(200)).unwrap_err();
        assert_eq!(slow, "timed out after 200ms and was killed");
        assert!(started.elapsed() < Duration::from_secs(10));
        let big = output(&sh("head -c 2000000 /dev/zero"), &[], TIMEOUT).unwrap_err();
        assert!(big.starts_with("printed more than 1024 KiB"), "{big}");
        let missing = output(&["no-such-program-here".into()], &[], TIMEOUT).unwrap_err();
        assert!(missing.starts_with("cannot start `no-such-program-here`"), "{missing}");
    }
}
