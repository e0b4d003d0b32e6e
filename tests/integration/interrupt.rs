//! Interrupting a run that writes files (SIGINT from Ctrl-C, SIGKILL from a
//! CI timeout) at many points must leave every output either as it was or
//! as a complete run writes it, never a partial file. After SIGINT no
//! temporaries are left behind either.
//!
//! The kill points are spread evenly over the length of an uninterrupted
//! run (measured first), so the test does not depend on the machine's
//! speed: it asserts what is on disk, never how long anything took.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::common::{copy_dir, project_copy, stetho_in};

/// How many interrupted runs per command.
const KILL_POINTS: u32 = 8;

/// Every file under `dir`, relative path -> content (missing dir: empty).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside").to_path_buf();
                files.insert(relative, std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// Names that only a crashed or interrupted writer leaves behind.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") || name.contains(".tmp-") || name.contains(".old-") {
                found.push(entry.path());
            }
            if entry.path().is_dir() {
                stack.push(entry.path());
            }
        }
    }
    found
}

/// Run `args` in `dir`, sending `signal` after `delay`; returns the exit
/// status code (None when killed by a signal).
fn run_and_signal(dir: &Path, args: &[&str], delay: Duration, signal: &str) -> Option<i32> {
    let child = Command::new(env!("CARGO_BIN_EXE_stetho"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn stetho");
    std::thread::sleep(delay);
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    output.status.code()
}

/// A fresh copy of the prepared template project.
fn fresh(template: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(template, dir.path());
    dir
}

/// Interrupt `args` at KILL_POINTS points, alternating SIGINT and SIGKILL,
/// and check that every file under `output` (relative to the project) is
/// the old or the new version, and that the set of files is the old set or
/// the new set, or (where `per_file` allows) a mix of whole files.
fn interrupt_everywhere(prepare: &dyn Fn(&Path), args: &[&str], output: &str, per_file: bool) {
    let template = project_copy();
    prepare(template.path());
    let before = tree(&template.path().join(output));
    let (after, length) = {
        let project = fresh(template.path());
        let start = Instant::now();
        let run = stetho_in(project.path(), args);
        let length = start.elapsed();
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        (tree(&project.path().join(output)), length)
    };
    assert_ne!(before, after, "the command must change {output}");
    for point in 0..KILL_POINTS {
        let delay = length.mul_f64(f64::from(point) / f64::from(KILL_POINTS));
        let signal = if point % 2 == 0 { "-INT" } else { "-KILL" };
        let project = fresh(template.path());
        let code = run_and_signal(project.path(), args, delay, signal);
        let now = tree(&project.path().join(output));
        if per_file {
            // SIGKILL cannot be cleaned up after: it may leave a hidden
            // temporary (`.NAME.PID.tmp`) beside the outputs, never a
            // partial output file, until the next run sweeps it. SIGINT
            // leaves none (both checked below).
            let temporary = |path: &Path| {
                let name = path
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                name.starts_with('.') && name.ends_with(".tmp")
            };
            for (path, content) in now
                .iter()
                .filter(|(p, _)| signal == "-INT" || !temporary(p))
            {
                assert!(
                    before.get(path) == Some(content) || after.get(path) == Some(content),
                    "{signal} after {delay:?}: {} is neither the old nor the new file",
                    path.display()
                );
            }
        } else {
            assert!(
                now == before || now == after,
                "{signal} after {delay:?}: {output} is neither the old nor the new build"
            );
        }
        if per_file && signal == "-KILL" {
            // The next run that writes the folder clears what the killed
            // one left, and ends with the new files.
            let rerun = stetho_in(project.path(), args);
            assert!(rerun.code == 0 || rerun.code == 1, "{}", rerun.stderr);
            let left = temporaries(project.path());
            assert!(
                left.is_empty(),
                "a run after SIGKILL at {delay:?} left {left:?}"
            );
            assert_eq!(tree(&project.path().join(output)), after);
        }
        if signal == "-INT" {
            // Killed outright only if the signal came before the handler
            // was installed, with the first temporary: nothing written yet.
            assert!(
                matches!(code, Some(130 | 0 | 1)) || (code.is_none() && now == before),
                "SIGINT after {delay:?}: exit code {code:?}"
            );
            let left = temporaries(project.path());
            assert!(left.is_empty(), "SIGINT after {delay:?} left {left:?}");
        }
    }
}

#[test]
fn interrupted_accept_leaves_each_snapshot_old_or_new() {
    // Old state: every snapshot stale (an extra hit that no longer exists
    // would be as good; a stale header line is the simplest real change).
    let prepare = |dir: &Path| {
        let snapshots = dir.join("test-events/.snapshots");
        for entry in std::fs::read_dir(&snapshots).expect("snapshots").flatten() {
            std::fs::remove_file(entry.path()).expect("remove");
        }
    };
    interrupt_everywhere(
        &prepare,
        &["test", "--accept", "--jobs", "1"],
        "test-events/.snapshots",
        true,
    );
}

#[test]
fn interrupted_compile_out_leaves_each_file_old_or_new() {
    let prepare = |dir: &Path| {
        let out = dir.join("out");
        std::fs::create_dir_all(&out).expect("mkdir");
        // Stand-ins for the files a previous compile wrote.
        for entry in std::fs::read_dir(dir.join("detections"))
            .expect("detections")
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            std::fs::write(out.join(format!("{name}.old")), "old\n").expect("write");
        }
    };
    interrupt_everywhere(
        &prepare,
        &["compile", "--target", "sentinel", "--out", "out"],
        "out",
        true,
    );
}

#[test]
fn interrupted_build_leaves_the_old_dist_or_the_new_one() {
    let prepare = |dir: &Path| {
        let run = stetho_in(dir, &["build", "--frequency", "3h"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    interrupt_everywhere(&prepare, &["build"], "dist", false);
}
