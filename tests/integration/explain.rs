//! `stetho explain`: the logic tree, marked against one event.

use crate::common::stetho;

#[test]
fn explains_a_near_miss_event() {
    let run = stetho(&[
        "explain",
        "detections/ehr/break_glass_restricted_record_without_care_relationship.yml",
        "--event",
        "test-events/ehr/break_glass_restricted_record_without_care_relationship_near_miss.ndjson:3",
        "--target",
        "kql",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn explains_a_plain_sigma_rule_and_a_missing_field() {
    let run = stetho(&[
        "explain",
        "--no-config",
        "tests/replay/whoami_sigma.yml",
        "--event",
        "tests/replay/sigma_events.json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("result: "), "{}", run.stdout);
    let bad = stetho(&[
        "explain",
        "--no-config",
        "tests/replay/whoami_sigma.yml",
        "--event",
        "missing.ndjson:2",
    ]);
    assert_eq!(bad.code, 2);
}

/// Explain reads a table-shaped event as replay does: the empty command
/// line is no value, so `|neq` (which implies `|exists`) does not hold.
#[test]
fn an_empty_column_is_explained_as_no_value() {
    let explain = |line: u32| {
        stetho(&[
            "explain",
            "--no-config",
            "tests/replay/command_line_neq.yml",
            "--event",
            &format!("tests/replay/defender_empty_columns.ndjson:{line}"),
        ])
    };
    let empty = explain(2);
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty.stdout.contains("✓ ProcessCommandLine is empty"),
        "{}",
        empty.stdout
    );
    assert!(
        empty.stdout.contains("result: no match"),
        "{}",
        empty.stdout
    );
    let tail = explain(3);
    assert!(tail.stdout.contains("result: MATCH"), "{}", tail.stdout);
}
