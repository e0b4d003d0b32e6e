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
