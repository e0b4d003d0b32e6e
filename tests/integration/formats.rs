//! Output contracts (DESIGN.md §5) and exit codes.

use crate::common::{root, stetho};

#[test]
fn json_envelope_has_the_documented_shape() {
    let run = stetho(&[
        "validate",
        "--no-config",
        "--format",
        "json",
        "tests/invalid/sigma/wrong_types.yml",
    ]);
    assert_eq!(run.code, 1);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let keys: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["diagnostics", "errors", "files", "rules", "warnings"]
    );
    let first = &value["diagnostics"][0];
    for key in [
        "severity",
        "code",
        "message",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    assert_eq!(value["files"], 1);
    assert_eq!(value["errors"], 6);
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts() {
    let a = stetho(&[
        "validate",
        "--no-config",
        "--format",
        "json",
        "--jobs",
        "1",
        "tests/corpus/sigmahq/rules",
    ]);
    let b = stetho(&[
        "validate",
        "--no-config",
        "--format",
        "json",
        "--jobs",
        "2",
        "tests/corpus/sigmahq/rules",
    ]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(
        stetho(&["validate", "--no-config", "does/not/exist"]).code,
        2
    );
    assert_eq!(stetho(&["validate", "--format", "xml"]).code, 2);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("stetho.toml"),
        "[project]\nprofile = \"strict\"\n",
    )
    .expect("write");
    let run = crate::common::stetho_in(dir.path(), &["validate"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("stetho.toml"), "{}", run.stderr);
    let empty = tempfile::tempdir().expect("temp dir");
    assert_eq!(
        crate::common::stetho_in(empty.path(), &["validate", "--no-config"]).code,
        2
    );
}

/// Output that cannot be written in full is an I/O error, not a quiet
/// success with half a result: for compile, which streams its output, and
/// for a command that prints its report at once.
#[test]
fn a_full_disk_under_the_output_exits_2() {
    for args in [
        ["compile", "--no-config", "--format", "jsonl", "detections"],
        ["validate", "--no-config", "--format", "json", "detections"],
    ] {
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return; // a system without /dev/full
        };
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_stetho"))
            .args(args)
            .current_dir(crate::common::root())
            .stdout(full)
            .output()
            .expect("run stetho");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("writing the output"), "{args:?}: {stderr}");
    }
}

#[test]
fn lint_levels_in_config_change_severity() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("stetho.toml"),
        "[project]\nprofile = \"sigma\"\nrules = [\"r\"]\n[lints]\nSTH202 = \"warning\"\n",
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("r")).expect("mkdir");
    std::fs::copy(
        root().join("tests/invalid/sigma/bad_regex.yml"),
        dir.path().join("r/bad_regex.yml"),
    )
    .expect("copy");
    let run = crate::common::stetho_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("\"severity\": \"warning\""));
    std::fs::write(
        dir.path().join("stetho.toml"),
        "[lints]\nSTH999 = \"off\"\n",
    )
    .expect("write");
    assert_eq!(
        crate::common::stetho_in(dir.path(), &["validate", "r"]).code,
        2
    );
}

/// SARIF output must pass Microsoft's SARIF tooling, installed by the test
/// command into conformance/node_modules: the SARIF 2.1.0 JSON Schema that
/// ships with `@microsoft/sarif-multitool`, and the multitool's own
/// `validate` rules (no error-level finding).
#[test]
fn sarif_passes_the_sarif_multitool_validator() {
    let tool = root().join("conformance/node_modules/.bin/sarif-multitool");
    if !tool.exists() {
        assert!(
            std::env::var_os("STETHO_REQUIRE_CONFORMANCE").is_none(),
            "conformance tools are required but conformance/node_modules is missing"
        );
        eprintln!(
            "note: sarif-multitool not installed; run scripts/test.sh for the full conformance checks"
        );
        return;
    }
    let schema_path =
        root().join("conformance/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&schema_path).expect("SARIF schema shipped with the multitool"),
    )
    .expect("json");
    let validator = jsonschema::validator_for(&schema).expect("SARIF schema compiles");
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs = [
        vec![
            "validate",
            "--no-config",
            "--format",
            "sarif",
            "tests/invalid/sigma",
        ],
        vec![
            "validate",
            "--config",
            "tests/invalid/healthcare/stetho.toml",
            "--format",
            "sarif",
            "tests/invalid/healthcare",
        ],
    ];
    for (i, args) in inputs.iter().enumerate() {
        let run = stetho(args);
        assert_eq!(run.code, 1);
        let log: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
        let schema_errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            schema_errors.is_empty(),
            "SARIF schema errors: {schema_errors:#?}"
        );
        let sarif = dir.path().join(format!("run{i}.sarif"));
        std::fs::write(&sarif, &run.stdout).expect("write sarif");
        let report = dir.path().join(format!("run{i}.validation.sarif"));
        let status = std::process::Command::new(&tool)
            .args([
                "validate",
                sarif.to_str().expect("path"),
                "--output",
                report.to_str().expect("path"),
                "--log",
                "ForceOverwrite",
            ])
            .output()
            .expect("run sarif-multitool");
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stdout)
        );
        let validation: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).expect("validation output"))
                .expect("json");
        let errors: Vec<&serde_json::Value> = validation["runs"][0]["results"]
            .as_array()
            .map(|r| r.iter().filter(|x| x["level"] == "error").collect())
            .unwrap_or_default();
        assert!(errors.is_empty(), "SARIF validation errors: {errors:#?}");
        let results = run.stdout.matches("\"ruleId\"").count();
        assert!(results > 10, "expected findings in the SARIF log");
    }
}

#[test]
fn readme_lists_every_check() {
    let table = stetho(&["checks", "--format", "markdown"]).stdout;
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    assert!(
        readme.contains(table.trim_end()),
        "README's checks table is out of date; paste `stetho checks --format markdown`"
    );
}
