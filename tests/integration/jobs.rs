//! Parallelism never shows in the output: every command that uses the
//! thread pool prints byte-identical results with `--jobs 1` and with
//! more threads than the machine has cores (so the work really is split
//! and finished out of order).

use super::common::{project_copy, stetho, stetho_in};

/// Run `args` with one thread and with eight; both outputs must be equal.
fn same_output_whatever_the_jobs(args: &[&str]) {
    let with = |jobs: &str| {
        let mut full = vec!["--jobs", jobs];
        full.extend_from_slice(args);
        let run = stetho(&full);
        assert!(run.code == 0 || run.code == 1, "{args:?}: {}", run.stderr);
        (run.code, run.stdout)
    };
    let one = with("1");
    assert!(!one.1.is_empty(), "{args:?} printed nothing");
    assert_eq!(one, with("8"), "{args:?} differs between --jobs 1 and 8");
}

#[test]
fn validate_output_does_not_depend_on_jobs() {
    same_output_whatever_the_jobs(&["validate", "--format", "json"]);
    same_output_whatever_the_jobs(&["validate", "--format", "sarif", "tests/corpus/sigmahq"]);
}

#[test]
fn test_output_does_not_depend_on_jobs() {
    same_output_whatever_the_jobs(&["test", "--format", "json"]);
    same_output_whatever_the_jobs(&["test", "--format", "junit"]);
}

#[test]
fn replay_output_does_not_depend_on_jobs() {
    same_output_whatever_the_jobs(&[
        "replay",
        "--format",
        "jsonl",
        "--rules",
        "detections",
        "test-events",
    ]);
}

#[test]
fn compile_output_does_not_depend_on_jobs() {
    same_output_whatever_the_jobs(&["compile", "--format", "jsonl"]);
    same_output_whatever_the_jobs(&["compile", "--target", "sigma", "--lossy"]);
}

#[test]
fn build_folders_do_not_depend_on_jobs() {
    let one = project_copy();
    let eight = project_copy();
    for (dir, jobs) in [(&one, "1"), (&eight, "8")] {
        let run = stetho_in(dir.path(), &["--jobs", jobs, "build"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let index = |dir: &tempfile::TempDir| {
        std::fs::read(dir.path().join("dist/index.json")).expect("index.json")
    };
    // The index lists every artifact with its hash, so equal indexes mean
    // equal files.
    assert_eq!(index(&one), index(&eight));
}
