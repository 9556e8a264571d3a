//! The remote cache (`--remote`, `push`, `pull`) against real servers: Debian's nginx with its
//! WebDAV module, and `rclone serve webdav`, which writes uploads in place, each started by
//! `scripts/remote-cache-server.sh` on a free port in the test's own folder. Without them the
//! tests say why and pass, unless ABLATE_REQUIRE_REMOTE is set (CI sets it).
mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Workspace, text};
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/remote-cache-server.sh");

/// `data` writes numbers (and a file in a folder); `fit[lr=…]` counts them and reports a
/// metric, so that `compare` has rows. Outputs are the same on every machine.
const PIPELINE: &str = r#"
name: share
grid: {factors: {lr: ["0.1", "0.2"]}}
stages:
  data:
    kind: command
    params:
      run: [sh, -c, 'seq 1 ${n} > "$ABLATE_OUT/numbers.txt"; mkdir "$ABLATE_OUT/sub"; echo one > "$ABLATE_OUT/sub/a.txt"']
  fit:
    kind: command
    inputs: {data: data}
    params:
      run: [sh, -c, 'wc -l < "$ABLATE_INPUT_DATA/numbers.txt" > "$ABLATE_OUT/count.txt"; printf "{\"split\": \"val\", \"metric\": \"macro_f1\", \"value\": %s}\n" "$LR" > "$ABLATE_OUT/metrics.jsonl"']
      env: {LR: "${lr}"}
vars: {n: 30000}
"#;

/// A server of the project's script, stopped when dropped.
struct Server {
    dir: tempfile::TempDir,
    port: u16,
}

impl Server {
    /// nginx (or rclone with `rclone`), with basic authentication when `auth` is given; `None`
    /// (the test is skipped) when it cannot start and ABLATE_REQUIRE_REMOTE is not set.
    fn start(rclone: bool, auth: Option<&str>) -> Option<Server> {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut args =
            vec!["start".to_string(), dir.path().display().to_string(), port.to_string()];
        if rclone {
            args.push("--rclone".into());
        }
        if let Some(auth) = auth {
            args.extend(["--auth".into(), auth.into()]);
        }
        let started = Command::new(SCRIPT).args(&args).output().expect("bash runs");
        if started.status.success() {
            return Some(Server { dir, port });
        }
        let why = format!("the remote cache server did not start: {}", text(&started));
        assert!(
            std::env::var_os("ABLATE_REQUIRE_REMOTE").is_none(),
            "ABLATE_REQUIRE_REMOTE is set, but {why}"
        );
        eprintln!(
            "skipped: {why}; `scripts/remote-cache-server.sh install` (as root) installs nginx and rclone"
        );
        None
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/team", self.port)
    }

    /// Where the server keeps what it stores under the URL's prefix.
    fn data(&self) -> PathBuf {
        self.dir.path().join("data/team")
    }

    /// The stored objects under `cas/` or `ac/` (no temporary uploads).
    fn objects(&self, folder: &str) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.data().join(folder)) else { return Vec::new() };
        let mut found: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        found.retain(|p| !p.to_string_lossy().contains(".upload-"));
        found.sort();
        found
    }

    /// The archive the record of `key` names.
    fn blob_of(&self, key: &str) -> PathBuf {
        let record: Value =
            serde_json::from_slice(&std::fs::read(self.data().join("ac").join(key)).unwrap())
                .unwrap();
        self.data().join("cas").join(record["archive"]["digest"].as_str().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new(SCRIPT).arg("stop").arg(self.dir.path()).output();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("p.yaml", PIPELINE);
    ws
}

/// `ablate --cache CACHE args…` in the workspace.
fn ablate(ws: &Workspace, cache: &str, args: &[&str]) -> Output {
    ws.command(&[&["--cache", cache][..], args].concat()).output().unwrap()
}

/// Runs the pipeline on `cache` with `extra` arguments; it must succeed. Returns its output.
fn run(ws: &Workspace, cache: &str, extra: &[&str]) -> String {
    let output = ablate(ws, cache, &[&["run", "p.yaml", "--device", "cpu"][..], extra].concat());
    assert!(output.status.success(), "run failed:\n{}", text(&output));
    text(&output)
}

/// `N ran, N cached` and so on of a run's last line.
fn counts(output: &str) -> String {
    let line = output.lines().find(|l| l.starts_with("share: ")).unwrap_or_default();
    line.trim_start_matches("share: ").split(" in ").next().unwrap().to_string()
}

/// Every file of every entry of a cache (`out/` only with `outputs`), relative to `entries/`,
/// with the digest of its bytes.
fn entries(ws: &Workspace, cache: &str, outputs: bool) -> Vec<(PathBuf, String)> {
    let root = ws.path(cache).join("entries");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.retain(|(path, _)| {
        !outputs || path.components().nth(1).is_some_and(|c| c.as_os_str() == "out")
    });
    files.sort();
    files
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<(PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, files);
        } else {
            let digest = blake3::hash(&std::fs::read(&path).unwrap()).to_hex().to_string();
            files.push((path.strip_prefix(root).unwrap().to_path_buf(), digest));
        }
    }
}

fn verify(ws: &Workspace, cache: &str) {
    let verified = ablate(ws, cache, &["verify"]);
    assert!(verified.status.success(), "{}", text(&verified));
}

#[test]
fn a_remote_hit_gives_the_same_key_and_bytes_as_computing_it_and_a_local_hit_asks_nothing() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    assert_eq!(counts(&run(&ws, "a", &["--remote", &remote])), "3 ran, 0 cached");
    assert_eq!(server.objects("ac").len(), 3, "one record per result");
    assert_eq!(server.objects("cas").len(), 3, "one archive per result");

    let plan =
        ablate(&ws, "b", &["plan", "p.yaml", "--json", "--device", "cpu", "--remote", &remote]);
    let plan: Vec<Value> = serde_json::from_slice(&plan.stdout).unwrap();
    assert!(plan.iter().all(|s| s["status"] == "remote"), "{plan:?}");
    let shown =
        text(&ablate(&ws, "b", &["plan", "p.yaml", "--device", "cpu", "--remote", &remote]));
    assert!(shown.contains("3 stages: 0 cached, 3 on the remote, 0 to run"), "{shown}");

    let fetched = run(&ws, "b", &["--remote", &remote]);
    assert_eq!(counts(&fetched), "0 ran, 3 cached (3 fetched)", "{fetched}");
    run(&ws, "c", &[]);
    assert_eq!(
        entries(&ws, "b", false),
        entries(&ws, "a", false),
        "the entries of a, byte for byte"
    );
    assert_eq!(
        entries(&ws, "b", true),
        entries(&ws, "c", true),
        "same keys and outputs as computed"
    );
    verify(&ws, "b");
    let status = ablate(&ws, "b", &["status"]);
    assert!(text(&status).contains(&format!("remote {remote}: fetched 3 (")), "{}", text(&status));

    // Everything is here: no request, so a server that is gone goes unnoticed.
    drop(server);
    let again = run(&ws, "b", &["--remote", &remote]);
    assert!(!again.contains("warning"), "{again}");
    assert_eq!(counts(&again), "0 ran, 3 cached");
}

#[test]
fn pull_then_compare_on_a_fresh_cache_equals_compare_where_it_ran() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    run(&ws, "a", &[]);
    let pushed = ablate(&ws, "a", &["push", "--remote", &remote]);
    assert!(
        pushed.status.success() && text(&pushed).contains("3 of 3 results sent"),
        "{}",
        text(&pushed)
    );
    let again = ablate(&ws, "a", &["push", "share", "--remote", &remote]);
    assert!(text(&again).contains("0 of 3 results sent"), "{}", text(&again));

    let only = ablate(&ws, "b", &["pull", "p.yaml", "--stage", "fit", "--remote", &remote]);
    assert!(only.status.success(), "{}", text(&only));
    assert!(text(&only).contains("share: 2 results fetched, 0 here already"), "{}", text(&only));
    let pulled = ablate(&ws, "b", &["pull", "p.yaml", "--remote", &remote]);
    assert!(
        text(&pulled).contains("share: 1 results fetched, 2 here already"),
        "{}",
        text(&pulled)
    );

    let compare = |cache: &str| {
        let args =
            ["compare", "share", "--stage", "fit", "--metric", "macro_f1", "--format", "csv"];
        let shown = ablate(&ws, cache, &args);
        assert!(shown.status.success(), "{}", text(&shown));
        String::from_utf8(shown.stdout).unwrap()
    };
    assert_eq!(compare("b"), compare("a"));
    let out = ablate(&ws, "b", &["out", "p.yaml", "fit[lr=0.1]"]);
    let dir = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        std::fs::read_to_string(Path::new(dir.trim()).join("count.txt")).unwrap().trim(),
        "30000"
    );
    verify(&ws, "b");
}

#[test]
fn a_flipped_byte_is_detected_and_computed_here() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    run(&ws, "a", &["--remote", &remote]);
    let data = ws_ref(&ws, "a", "data");
    let blob = server.blob_of(&data);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[2000] ^= 1;
    std::fs::write(&blob, bytes).unwrap();

    let output = run(&ws, "b", &["--remote", &remote]);
    assert!(output.contains(&format!("the result {data} on {remote} is not valid")), "{output}");
    assert_eq!(counts(&output), "1 ran, 2 cached (2 fetched)", "{output}");
    assert_eq!(entries(&ws, "b", true), entries(&ws, "a", true));
    verify(&ws, "b");
}

#[test]
fn a_record_that_lies_about_its_output_is_discarded() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    run(&ws, "a", &["--remote", &remote]);
    let data = ws_ref(&ws, "a", "data");
    let path = server.data().join("ac").join(&data);
    let mut record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    record["record"]["output"] = "0".repeat(64).into();
    std::fs::write(&path, serde_json::to_vec(&record).unwrap()).unwrap();

    // Its output digest names no result: the stages downstream are computed too.
    let output = run(&ws, "b", &["--remote", &remote]);
    assert!(
        output
            .contains(&format!("the result {data} on {remote} is not valid (its output digest is")),
        "{output}"
    );
    assert_eq!(counts(&output), "1 ran, 2 cached (2 fetched)", "{output}");
    verify(&ws, "b");
}

#[test]
fn a_record_without_its_archive_is_a_miss() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    run(&ws, "a", &["--remote", &remote]);
    for blob in server.objects("cas") {
        std::fs::remove_file(blob).unwrap();
    }
    let output = run(&ws, "b", &["--remote", &remote]);
    assert!(!output.contains("warning"), "a miss is no error: {output}");
    assert_eq!(counts(&output), "3 ran, 0 cached");
}

#[test]
fn read_mode_never_uploads_and_write_mode_never_fetches() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    run(&ws, "a", &["--remote", &remote, "--remote-mode", "read"]);
    assert!(server.objects("ac").is_empty() && server.objects("cas").is_empty());
    run(&ws, "a2", &["--remote", &remote, "--remote-mode", "write"]);
    assert_eq!(server.objects("ac").len(), 3);
    assert_eq!(
        counts(&run(&ws, "b", &["--remote", &remote, "--remote-mode", "write"])),
        "3 ran, 0 cached"
    );
}

#[test]
fn a_server_that_is_down_or_stalls_costs_one_warning_and_the_run_finishes_here() {
    let ws = workspace();
    let down = format!("http://127.0.0.1:{}/cache", free_port());
    let output = run(&ws, "a", &["--remote", &down]);
    assert_eq!(output.matches("warning: remote cache: cannot reach").count(), 1, "{output}");
    assert_eq!(counts(&output), "3 ran, 0 cached");
    let status = text(&ablate(&ws, "a", &["status"]));
    assert!(
        status.contains(&format!("remote {down}: fetched 0"))
            && status.contains("going on without it"),
        "{status}"
    );

    // A server that takes the connection and never answers: bounded by the timeout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stalled = format!("http://{}/cache", listener.local_addr().unwrap());
    let started = Instant::now();
    let output = ws
        .command(&["--cache", "b", "run", "p.yaml", "--device", "cpu", "--remote", &stalled])
        .env("ABLATE_REMOTE_TIMEOUT", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(text(&output).matches("warning: remote cache:").count(), 1, "{}", text(&output));
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    drop(listener);
}

#[test]
fn a_denied_request_says_so_and_credentials_stay_out_of_logs_and_records() {
    let Some(server) = Server::start(false, Some("ann:s3cret-pw")) else { return };
    let ws = workspace();
    let remote = server.url();
    let output = run(&ws, "a", &["--remote", &remote]);
    assert!(
        output.contains(&format!("{remote}/ac/"))
            && output.contains("refused access (401 Unauthorized)"),
        "{output}"
    );
    assert_eq!(counts(&output), "3 ran, 0 cached");

    let with_password = remote.replace("http://", "http://ann:s3cret-pw@");
    let sent = run(&ws, "b", &["--remote", &with_password]);
    assert!(!sent.contains("warning"), "{sent}");
    assert_eq!(server.objects("ac").len(), 3);
    // A netrc file names the machine's user and password as well.
    ws.write("netrc", "machine 127.0.0.1\n  login ann\n  password s3cret-pw\n");
    let fetched = ws
        .command(&["--cache", "c", "run", "p.yaml", "--device", "cpu", "--remote", &remote])
        .env("ABLATE_NETRC", ws.path("netrc"))
        .output()
        .unwrap();
    assert_eq!(counts(&text(&fetched)), "0 ran, 3 cached (3 fetched)", "{}", text(&fetched));
    for cache in ["a", "b", "c"] {
        let status = text(&ablate(&ws, cache, &["status"]));
        assert!(!status.contains("s3cret"), "{status}");
        let found = Command::new("grep")
            .args(["-r", "-l", "s3cret", cache])
            .current_dir(ws.dir.path())
            .output()
            .unwrap();
        assert!(found.stdout.is_empty(), "the password is in {}", text(&found));
    }
    assert!(!text(&fetched).contains("s3cret") && !sent.contains("s3cret"));
}

#[test]
fn two_caches_racing_on_one_server_end_with_one_valid_record_per_key() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    let remote = server.url();
    // 15 MB of numbers: both compute `data` and send its archive at the same time, and the
    // second `MOVE` of the archive (or of a record) meets the first's (412).
    let run = ["run", "p.yaml", "--device", "cpu", "--remote", &remote, "--set", "n=2000000"];
    let racers: Vec<_> = ["a", "b"]
        .iter()
        .map(|cache| {
            ws.command(&[&["--cache", cache][..], &run].concat())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for racer in racers {
        let output = racer.wait_with_output().unwrap();
        assert!(output.status.success() && !text(&output).contains("warning"), "{}", text(&output));
    }
    assert_eq!(server.objects("ac").len(), 3);
    let fetched = ablate(&ws, "c", &run);
    assert_eq!(counts(&text(&fetched)), "0 ran, 3 cached (3 fetched)", "{}", text(&fetched));
    verify(&ws, "c");
}

#[test]
fn on_rclone_a_killed_upload_never_shows_and_a_half_written_archive_is_caught() {
    let Some(server) = Server::start(true, None) else { return };
    let ws = workspace();
    let remote = server.url();
    // 40 MB of numbers: the upload of `data` lasts long enough to be killed halfway.
    let mut uploading = ws
        .command(&[
            "--cache",
            "a",
            "run",
            "p.yaml",
            "--device",
            "cpu",
            "--remote",
            &remote,
            "--set",
            "n=6000000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // The archive of `data` on its way, under its temporary name (the others are small).
    let temporary = loop {
        let found = std::fs::read_dir(server.data().join("cas")).ok().and_then(|entries| {
            entries.flatten().map(|e| e.path()).find(|p| {
                p.to_string_lossy().contains(".upload-")
                    && p.metadata().is_ok_and(|m| m.len() > 1_000_000)
            })
        });
        if let Some(found) = found {
            break found;
        }
        assert!(
            uploading.try_wait().unwrap().is_none(),
            "the run ended before its upload was seen"
        );
        assert!(started.elapsed() < Duration::from_secs(120), "no upload began");
        std::thread::sleep(Duration::from_millis(2));
    };
    uploading.kill().unwrap();
    uploading.wait().unwrap();
    assert!(temporary.exists(), "rclone shows the upload in place, under its temporary name");
    // What is under a final name is whole, and no record names the killed upload.
    for blob in server.objects("cas") {
        let digest = blake3::hash(&std::fs::read(&blob).unwrap()).to_hex().to_string();
        assert_eq!(blob.file_name().unwrap().to_string_lossy(), digest);
    }
    assert!(!server.data().join("ac").join(ws_ref(&ws, "a", "data")).exists());
    let output = run(&ws, "b", &["--remote", &remote, "--set", "n=6000000"]);
    assert!(!output.contains("warning"), "{output}");
    // `data` is computed again (its `fit`s may have been sent before the kill: their records
    // are whole, and they are fetched).
    assert!(output.contains("▶ data (command)"), "{output}");

    // An archive cut short under its final name, as a writer that uploads in place leaves it.
    let blob = server.blob_of(&ws_ref(&ws, "b", "data"));
    let bytes = std::fs::read(&blob).unwrap();
    std::fs::write(&blob, &bytes[..bytes.len() / 2]).unwrap();
    let output = run(&ws, "c", &["--remote", &remote, "--set", "n=6000000"]);
    // rclone announces the archive's old size and sends the bytes there are: a download cut
    // short, whose unpacked files are discarded.
    let data = ws_ref(&ws, "b", "data");
    assert!(output.contains(&format!("the result {data} on {remote} is not valid (")), "{output}");
    assert_eq!(counts(&output), "1 ran, 2 cached (2 fetched)", "{output}");
    verify(&ws, "c");
}

/// The key of `stage` of `share` in `cache`.
fn ws_ref(ws: &Workspace, cache: &str, stage: &str) -> String {
    let file = ablate_core::names::file_name;
    let path = ws.path(cache).join("refs").join(file("share")).join(file(stage));
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["key"].as_str().unwrap().to_string()
}

#[test]
fn a_bad_remote_url_or_none_is_refused_before_anything_runs() {
    let ws = workspace();
    for (url, says) in [
        ("ftp://host/cache", "must start with http:// or https://, not ftp://"),
        ("http:///cache", "names no host"),
    ] {
        let output = ablate(&ws, "a", &["run", "p.yaml", "--remote", url]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains(says), "{}", text(&output));
    }
    assert!(!ws.path("a").exists(), "nothing ran");
    let output = ablate(&ws, "a", &["pull", "p.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("`ablate pull` needs a remote cache: --remote URL or ABLATE_REMOTE")
    );
}

/// A training of one epoch, extendable by `--set epochs=N` (the backbone frozen, so that its
/// workspace holds Adam's moments of the head alone).
const TRAINING: &str = r#"
name: resume
vars: {epochs: 1}
stages:
  data:
    kind: synthetic
    params: {size: 16, train: 16, val: 8, offsite_test: 8, onsite_test: 4}
  model:
    kind: backbone
    params: {arch: resnet18}
  train:
    kind: train
    inputs: {data: data, model: model}
    params: {epochs: "${epochs}", batch_size: 8, freeze: backbone}
"#;

#[test]
fn remote_workspaces_let_another_machine_continue_a_training() {
    let Some(server) = Server::start(false, None) else { return };
    let ws = workspace();
    ws.write("resume.yaml", TRAINING);
    let remote = server.url();
    let train = |cache: &str, args: &[&str]| {
        let run = [&["run", "resume.yaml", "--device", "cpu", "--remote", &remote][..], args];
        let output = ablate(&ws, cache, &run.concat());
        assert!(output.status.success(), "run failed:\n{}", text(&output));
        text(&output)
    };
    train("a", &["--remote-workspaces"]);
    assert_eq!(server.objects("ws").len(), 1, "the training's workspace is sent");

    // Another machine raises epochs: it fetches the checkpoint and trains the second epoch only.
    let continued = train("b", &["--remote-workspaces", "--set", "epochs=2"]);
    assert!(continued.contains("⇣ train workspace fetched"), "{continued}");
    assert!(continued.contains("continues from"), "{continued}");
    let epoch = |output: &str, n: &str| output.contains(&format!("   epoch {n} "));
    assert!(epoch(&continued, "2/2") && !epoch(&continued, "1/2"), "{continued}");
    // Its newer checkpoint replaces the remote's, which a third machine continues from.
    let third = train("c", &["--remote-workspaces", "--set", "epochs=3"]);
    assert!(epoch(&third, "3/3") && !epoch(&third, "2/3"), "{third}");

    // Without the flag, workspaces stay on their machine: a fourth starts over.
    let alone = train("d", &["--set", "epochs=4", "--remote-mode", "read"]);
    assert!(!alone.contains("workspace fetched") && epoch(&alone, "1/4"), "{alone}");

    // A workspace archive changed on the server is refused, and the training starts over.
    let pointer: Value =
        serde_json::from_slice(&std::fs::read(&server.objects("ws")[0]).unwrap()).unwrap();
    let archive = server.data().join("cas").join(pointer["archive"]["digest"].as_str().unwrap());
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes[600] ^= 1;
    std::fs::write(&archive, bytes).unwrap();
    let refused =
        train("e", &["--remote-workspaces", "--set", "epochs=4", "--remote-mode", "read"]);
    assert!(refused.contains("is not usable"), "{refused}");
    assert!(refused.contains("epoch 1/4"), "{refused}");
    let ablate_no_remote =
        ws.command(&["--cache", "f", "run", "resume.yaml", "--remote-workspaces"]);
    let output = {
        let mut c = ablate_no_remote;
        c.env_remove("ABLATE_REMOTE").output().unwrap()
    };
    assert!(!output.status.success());
    assert!(text(&output).contains("--remote-workspaces shares workspaces through a remote cache"));
}
