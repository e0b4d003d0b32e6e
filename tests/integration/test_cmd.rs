//! `stetho test`: expectations over the shipped library and edited copies.

use crate::common::{project_copy, stetho, stetho_in};

#[test]
fn the_shipped_library_passes() {
    let run = stetho(&["test"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.trim_end().ends_with("8 passed, 0 failed"),
        "{}",
        run.stdout
    );
    let json = stetho(&["test", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    for key in [
        "rules",
        "fixtures",
        "cases",
        "passed",
        "failed",
        "snapshot_changes",
        "results",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert_eq!(value["failed"], 0);
    assert_eq!(value["rules"], 8);
}

#[test]
fn a_rule_edited_to_miss_its_attack_fails() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    // Drop the vssadmin needle: the positive fixture's vssadmin lines no longer hit.
    let broken = text.replace("'shadows'", "'shadowz'");
    assert_ne!(text, broken, "fixture rule changed");
    std::fs::write(&rule, broken).expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("FAIL  Volume Shadow Copy Deletion"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("volume_shadow_copy_deletion_tp.ndjson: expected 13 hits, got"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_rule_edited_to_fire_on_its_near_miss_fails() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/ehr/break_glass_restricted_record_without_care_relationship.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    let condition = text
        .lines()
        .find(|l| l.trim_start().starts_with("condition:"))
        .expect("condition")
        .to_string();
    std::fs::write(&rule, text.replace(&condition, "    condition: 1 of them")).expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("near_miss.ndjson: expected no match"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_fixture_and_a_rule_without_positive_test_fail() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/rmm/unsanctioned_rmm_tool_execution.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    std::fs::write(
        &rule,
        text.replace("unsanctioned_rmm_tool_execution_tp.ndjson", "gone.ndjson"),
    )
    .expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("gone.ndjson: fixture"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("does not exist"), "{}", run.stdout);

    let only_negative = text.replace("hits: 9", "expect: no-match");
    std::fs::write(
        &rule,
        only_negative.replace(
            "unsanctioned_rmm_tool_execution_tp.ndjson",
            "rmm/unsanctioned_rmm_tool_execution_near_miss.ndjson",
        ),
    )
    .expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("no positive test"), "{}", run.stdout);
}

#[test]
fn fixtures_with_real_looking_nhs_numbers_are_refused() {
    let dir = project_copy();
    let fixture = dir
        .path()
        .join("test-events/exfiltration/nhs_numbers_in_command_line_tp.ndjson");
    let text = std::fs::read_to_string(&fixture).expect("read");
    // 943 476 5919 is checksum-valid and outside the never-issued 999 range.
    let leaked = text.replacen(
        "\"DeviceName\"",
        "\"Note\":\"patient 943 476 5919\",\"DeviceName\"",
        1,
    );
    assert_ne!(leaked, text);
    std::fs::write(&fixture, leaked).expect("write");

    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("refused: line 2 holds a checksum-valid NHS number"),
        "{}",
        run.stdout
    );

    let run = stetho_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("\"code\": \"STH400\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("*******919"), "{}", run.stdout);
    // The identifier itself is never repeated in a report.
    assert!(
        !run.stdout.contains("943 476 5919") && !run.stdout.contains("9434765919"),
        "{}",
        run.stdout
    );
    let human = stetho_in(dir.path(), &["validate"]);
    assert!(human.stdout.contains("*** *** ****"), "{}", human.stdout);
    assert!(!human.stdout.contains("943 476 5919"), "{}", human.stdout);
}
