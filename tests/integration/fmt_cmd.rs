//! `stetho fmt`: the canonical layout of a commented rule, `--check`,
//! untouched canonical files, findings, and idempotence over the shipped
//! library and the SigmaHQ corpus.

use std::path::{Path, PathBuf};

use crate::common::{copy_dir, project_copy, root, stetho, stetho_in};

/// A temporary folder holding a copy of `tests/fmt/NAME`.
fn with_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::copy(root().join("tests/fmt").join(name), &path).expect("copy fixture");
    (dir, path)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

fn fmt_in(dir: &Path, args: &[&str]) -> crate::common::Run {
    let mut all = vec!["--no-config", "fmt"];
    all.extend_from_slice(args);
    stetho_in(dir, &all)
}

#[test]
fn a_commented_rule_gets_the_canonical_layout_and_keeps_every_comment() {
    let (dir, path) = with_fixture("commented.yml");
    let run = fmt_in(dir.path(), &["commented.yml"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "formatted commented.yml\n");
    assert_eq!(
        read(&path),
        read(&root().join("tests/fmt/commented.formatted.yml"))
    );
    // Formatting formatted output changes nothing.
    let again = fmt_in(dir.path(), &["--check", "commented.yml"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert_eq!(again.stdout, "");
}

#[test]
fn check_lists_what_would_change_writes_nothing_and_exits_1() {
    let (dir, path) = with_fixture("commented.yml");
    let before = read(&path);
    let run = fmt_in(dir.path(), &["--check", "commented.yml"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "would reformat commented.yml\n");
    assert_eq!(read(&path), before);
    let diff = fmt_in(dir.path(), &["--check", "--diff", "commented.yml"]);
    assert_eq!(diff.code, 1);
    insta::assert_snapshot!("fmt_check_diff", diff.stdout);
    let json = fmt_in(dir.path(), &["--check", "--format", "json", "."]);
    assert_eq!(json.code, 1);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(
        report["files"],
        serde_json::json!([{"path": "commented.yml", "status": "would-change", "changed": true}])
    );
    // --diff only makes sense with --check.
    assert_eq!(fmt_in(dir.path(), &["--diff", "."]).code, 2);
}

#[test]
fn a_canonical_file_is_not_rewritten() {
    let (dir, path) = with_fixture("commented.formatted.yml");
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(old))
        .expect("set mtime");
    let run = fmt_in(dir.path(), &["."]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout, "");
    let mtime = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(mtime, old);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary files left: {names:?}");
}

#[test]
fn a_file_that_does_not_parse_is_a_finding_and_is_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "title: x\ndetection: [sel\n").expect("write");
    let run = fmt_in(dir.path(), &["bad.yml"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("STH001"), "{}", run.stdout);
    assert!(run.stdout.contains("bad.yml:3:1"), "{}", run.stdout);
    assert_eq!(read(&bad), "title: x\ndetection: [sel\n");
    // A missing path is a usage error.
    assert_eq!(fmt_in(dir.path(), &["missing.yml"]).code, 2);
}

#[test]
fn constructs_it_will_not_rewrite_are_warnings_and_the_file_stays() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = "title: x\ndescription: |2\n   indented first line\ndetection:\n  sel:\n    a: b\n  condition: sel\n";
    let path = dir.path().join("indicator.yml");
    std::fs::write(&path, text).expect("write");
    let anchors = dir.path().join("anchors.yml");
    let anchored = "title: &t x\ndetection:\n  sel:\n    a: *t\n  condition: sel\n";
    std::fs::write(&anchors, anchored).expect("write");
    let run = fmt_in(dir.path(), &["."]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("FMT001") && run.stdout.contains("indentation indicator"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("not formatted: YAML anchors"),
        "{}",
        run.stdout
    );
    assert_eq!(read(&path), text);
    assert_eq!(read(&anchors), anchored);
}

#[test]
fn the_shipped_library_is_formatted() {
    let run = stetho(&["fmt", "--check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

/// Format a copy of `folders` (relative to the repository), then require
/// that nothing failed, that a second run changes nothing and that the
/// rules still validate.
fn formats_idempotently(folders: &[&str], config: bool) {
    let dir = if config {
        project_copy()
    } else {
        tempfile::tempdir().expect("temp dir")
    };
    for folder in folders {
        copy_dir(&root().join(folder), &dir.path().join(folder));
    }
    let mut args = vec!["fmt"];
    if !config {
        args.insert(0, "--no-config");
    }
    args.extend_from_slice(folders);
    let first = stetho_in(dir.path(), &args);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(!first.stdout.contains("FMT00"), "{}", first.stdout);
    args.push("--check");
    let second = stetho_in(dir.path(), &args);
    assert_eq!(second.code, 0, "not idempotent:\n{}", second.stdout);
    // The formatted rules are as valid as before.
    let mut validate = if config {
        vec!["validate"]
    } else {
        vec!["--no-config", "validate"]
    };
    validate.extend_from_slice(folders);
    let valid = stetho_in(dir.path(), &validate);
    assert_eq!(valid.code, 0, "{}", valid.stdout);
}

#[test]
fn formatting_the_shipped_library_is_idempotent_and_rules_still_validate() {
    formats_idempotently(&["detections"], true);
}

#[test]
fn formatting_the_sigmahq_corpus_is_idempotent() {
    formats_idempotently(
        &[
            "tests/corpus/sigmahq/rules",
            "tests/corpus/sigmahq/rules-compliance",
            "tests/corpus/sigmahq/rules-emerging-threats",
            "tests/corpus/sigmahq/rules-placeholder",
            "tests/corpus/sigmahq/rules-threat-hunting",
        ],
        false,
    );
}

/// `stetho fmt ARGS` with `input` on standard input.
fn fmt_stdin(input: &[u8], args: &[&str]) -> crate::common::Run {
    let args: Vec<&str> = std::iter::once("fmt").chain(args.iter().copied()).collect();
    crate::common::stetho_with_stdin(&args, input)
}

#[test]
fn crlf_files_are_formatted_and_keep_their_line_endings() {
    let crlf = |text: String| text.replace('\n', "\r\n");
    let (_dir, path) = with_fixture("commented.yml");
    std::fs::write(&path, crlf(read(&path))).expect("write");
    let run = fmt_in(path.parent().expect("folder"), &["."]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let expected = crlf(read(&root().join("tests/fmt/commented.formatted.yml")));
    assert_eq!(read(&path), expected);
    // Mixed line endings are left alone, with the place named.
    let mixed = format!("{expected}# a comment on a line that ends in LF\n");
    std::fs::write(&path, &mixed).expect("write");
    let run = fmt_in(path.parent().expect("folder"), &["."]);
    assert!(
        run.stdout.contains("FMT001") && run.stdout.contains("mixed line endings"),
        "{}",
        run.stdout
    );
    assert_eq!(read(&path), mixed);
}

#[test]
fn standard_input_is_formatted_to_standard_output() {
    let input = read(&root().join("tests/fmt/commented.yml"));
    let run = fmt_stdin(input.as_bytes(), &["-"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        read(&root().join("tests/fmt/commented.formatted.yml"))
    );
    // --check: the diff on stdout, exit 1; nothing to change: exit 0.
    let check = fmt_stdin(input.as_bytes(), &["--check", "--diff", "-"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(
        check.stdout.starts_with("--- <stdin>\n+++ <stdin>\n"),
        "{}",
        check.stdout
    );
    let canonical = fmt_stdin(run.stdout.as_bytes(), &["--check", "-"]);
    assert_eq!(canonical.code, 0, "{}", canonical.stderr);
    // A refused construct comes back unchanged, with the warning on stderr.
    let refused =
        "title: x\ndescription: |2\n   indented\ndetection:\n  sel:\n    a: b\n  condition: sel\n";
    let run = fmt_stdin(refused.as_bytes(), &["-"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, refused));
    assert!(run.stderr.contains("FMT001"), "{}", run.stderr);
    // Text that does not parse: no output, the error located, exit 1.
    let run = fmt_stdin(b"title: [\n", &["-"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    assert!(run.stderr.contains("<stdin>:2:1"), "{}", run.stderr);
    let run = fmt_stdin(b"", &["-", "detections"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
