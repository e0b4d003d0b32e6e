//! SigmaHQ compatibility: the 400 SigmaHQ rules copied into tests/corpus
//! (Detection Rule License, see its LICENSE files) validate under the plain
//! `sigma` profile with zero errors. A false positive here is a bug.

use crate::common::{diagnostics_digest, stetho};

fn validate(paths: &[&str]) -> serde_json::Value {
    let mut args = vec!["validate", "--no-config", "--format", "json"];
    args.extend_from_slice(paths);
    let run = stetho(&args);
    serde_json::from_str(&run.stdout).expect("json")
}

#[test]
fn every_sigmahq_rule_passes_with_zero_errors() {
    let report = validate(&[
        "tests/corpus/sigmahq/rules",
        "tests/corpus/sigmahq/rules-compliance",
        "tests/corpus/sigmahq/rules-emerging-threats",
        "tests/corpus/sigmahq/rules-placeholder",
        "tests/corpus/sigmahq/rules-threat-hunting",
    ]);
    assert_eq!(report["rules"], 400);
    let errors: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(
        errors.is_empty(),
        "false positives on SigmaHQ rules: {errors:#?}"
    );
}

#[test]
fn specification_examples_only_miss_their_base_rules() {
    // The spec's correlation and filter examples reference rules that are
    // not part of the examples; everything else about them is valid.
    let report = validate(&["tests/corpus/sigmahq/_sigma-specification"]);
    let text = serde_json::to_string(&report).expect("json");
    let digest = diagnostics_digest(&text);
    for line in digest.lines().filter(|l| l.starts_with("error")) {
        assert!(line.contains("STH310"), "{line}");
    }
    assert_eq!(report["rules"], 6);
}
