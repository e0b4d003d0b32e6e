//! Running the real `stetho` binary from the repository root.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The output of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `stetho ARGS` from the repository root with `input` on standard input.
pub fn stetho_with_stdin(args: &[&str], input: &[u8]) -> Run {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_stetho"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stetho");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    finished(args, child.wait_with_output().expect("wait"))
}

pub fn stetho_in(dir: &Path, args: &[&str]) -> Run {
    stetho_with_env(dir, args, &[])
}

/// `stetho_in` with extra environment variables.
pub fn stetho_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_stetho"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run stetho");
    finished(args, output)
}

/// A finished run, which must not have panicked.
fn finished(args: &[&str], output: std::process::Output) -> Run {
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "stetho panicked on {args:?}:\n{}",
        run.stderr
    );
    run
}

/// Output in JSON Lines, one value per line.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON value per line"))
        .collect()
}

pub fn stetho(args: &[&str]) -> Run {
    stetho_in(&root(), args)
}

/// `validate --format json` output as compact, reviewable lines.
pub fn diagnostics_digest(json: &str) -> String {
    let value: serde_json::Value =
        serde_json::from_str(json).expect("validate --format json prints JSON");
    let mut lines = Vec::new();
    for d in value["diagnostics"].as_array().expect("diagnostics array") {
        let at = match (d["line"].as_u64(), d["column"].as_u64()) {
            (Some(l), Some(c)) => format!("{l}:{c}"),
            _ => "-".to_string(),
        };
        let file = d["file"]
            .as_str()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        lines.push(format!(
            "{} {} {file}:{at} {}",
            d["severity"].as_str().unwrap_or(""),
            d["code"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or("")
        ));
    }
    lines.join("\n")
}

/// Copy a folder tree (test projects are built from the shipped one).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A copy of the shipped project (rules, fixtures, lists, playbooks, config)
/// in a temporary folder, to edit in a test.
pub fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = root();
    for sub in ["detections", "playbooks", "lists", "test-events"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    std::fs::copy(root.join("stetho.toml"), dir.path().join("stetho.toml")).expect("copy config");
    dir
}
