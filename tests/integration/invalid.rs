//! The broken-rule suite: one file (or folder) per failure mode, each with a
//! snapshot of its exact diagnostics. None may panic; each must exit 1 or 2.

use std::io::Write;

use crate::common::{diagnostics_digest, root, stetho};

fn entries(folder: &str) -> Vec<String> {
    let dir = root().join(folder);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("suite folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || !n.contains('.'))
        .filter(|n| !matches!(n.as_str(), "playbooks" | "lists"))
        .collect();
    names.sort();
    names
}

#[test]
fn sigma_profile_suite() {
    let names = entries("tests/invalid/sigma");
    assert!(names.len() >= 15, "suite shrank: {names:?}");
    for name in names {
        let path = format!("tests/invalid/sigma/{name}");
        let run = stetho(&["validate", "--no-config", "--format", "json", &path]);
        assert!(matches!(run.code, 1 | 2), "{name} exited {}", run.code);
        let digest = format!("exit {}\n{}", run.code, diagnostics_digest(&run.stdout));
        insta::assert_snapshot!(format!("sigma__{}", name.trim_end_matches(".yml")), digest);
    }
}

#[test]
fn healthcare_profile_suite() {
    let config = "tests/invalid/healthcare/stetho.toml";
    for name in entries("tests/invalid/healthcare") {
        let path = format!("tests/invalid/healthcare/{name}");
        let run = stetho(&["validate", "--config", config, "--format", "json", &path]);
        let digest = format!("exit {}\n{}", run.code, diagnostics_digest(&run.stdout));
        if name == "valid.yml" {
            assert_eq!(run.code, 0, "{digest}");
        } else {
            assert!(matches!(run.code, 1 | 2), "{name} exited {}", run.code);
        }
        insta::assert_snapshot!(
            format!("healthcare__{}", name.trim_end_matches(".yml")),
            digest
        );
    }
}

#[test]
fn a_50_megabyte_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.yml");
    let mut file = std::fs::File::create(&path).expect("create");
    let line = format!("# {}\n", "x".repeat(1021));
    for _ in 0..(50 * 1024) {
        file.write_all(line.as_bytes()).expect("write");
    }
    drop(file);
    let run = stetho(&[
        "validate",
        "--no-config",
        "--format",
        "json",
        path.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(run.code, 1);
    let digest = diagnostics_digest(&run.stdout);
    assert!(
        digest.contains("error STH003 huge.yml:- file is 52428800 bytes"),
        "{digest}"
    );
}
