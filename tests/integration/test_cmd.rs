//! `stetho test`: expectations over the shipped library and edited copies.

use crate::common::{copy_dir, project_copy, root, stetho, stetho_in};

#[test]
fn the_shipped_library_passes() {
    let run = stetho(&["test"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.trim_end().ends_with("41 passed, 0 failed"),
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
    assert_eq!(value["rules"], 41);
}

#[test]
fn a_rule_edited_to_miss_its_attack_fails() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    // Drop the vssadmin needle: the positive fixture's vssadmin lines no longer hit.
    let broken = text.replace("- shadows\n", "- shadowz\n");
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
    // The lost hits show up as a snapshot diff.
    assert!(run.stdout.contains("snapshot changed"), "{}", run.stdout);
    assert!(run.stdout.contains("-    - line: 2"), "{}", run.stdout);
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

/// The shipped fixture that NHS number rules are tested on, and its text
/// with a real-looking NHS number added on line 2: 943 476 5919 is
/// checksum-valid and outside the never-issued 999 range.
fn fixture_with_leaked_nhs_number(project: &std::path::Path) -> (std::path::PathBuf, String) {
    let fixture = project.join("test-events/exfiltration/nhs_numbers_in_command_line_tp.ndjson");
    let text = std::fs::read_to_string(&fixture).expect("read");
    let leaked = text.replacen(
        "\"DeviceName\"",
        "\"Note\":\"patient 943 476 5919\",\"DeviceName\"",
        1,
    );
    assert_ne!(leaked, text);
    (fixture, leaked)
}

/// `stetho test` refuses the leaked fixture at its line 2.
fn assert_test_refuses_line_2(project: &std::path::Path) {
    let run = stetho_in(project, &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("refused: line 2 holds a checksum-valid NHS number"),
        "{}",
        run.stdout
    );
}

#[test]
fn fixtures_with_real_looking_nhs_numbers_are_refused() {
    let dir = project_copy();
    let (fixture, leaked) = fixture_with_leaked_nhs_number(dir.path());
    std::fs::write(&fixture, leaked).expect("write");
    assert_test_refuses_line_2(dir.path());

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

#[test]
fn gzipped_fixtures_are_checked_for_nhs_numbers_as_they_are_replayed() {
    use std::io::Write as _;
    let dir = project_copy();
    let (plain, leaked) = fixture_with_leaked_nhs_number(dir.path());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(leaked.as_bytes()).expect("compress");
    std::fs::write(
        plain.with_extension("ndjson.gz"),
        gz.finish().expect("compress"),
    )
    .expect("write");
    std::fs::remove_file(&plain).expect("remove");
    let rule = dir
        .path()
        .join("detections/exfiltration/nhs_numbers_in_command_line.yml");
    let yaml = std::fs::read_to_string(&rule).expect("read");
    std::fs::write(
        &rule,
        yaml.replace(
            "nhs_numbers_in_command_line_tp.ndjson",
            "nhs_numbers_in_command_line_tp.ndjson.gz",
        ),
    )
    .expect("write");

    assert_test_refuses_line_2(dir.path());
    let run = stetho_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let found: Vec<_> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "STH400")
        .collect();
    assert_eq!(found.len(), 1, "{}", run.stdout);
    assert_eq!(
        found[0]["file"],
        "test-events/exfiltration/nhs_numbers_in_command_line_tp.ndjson.gz"
    );
    assert_eq!(found[0]["line"], 2);
    let second_line = leaked.lines().nth(1).expect("two lines");
    let column = second_line[..second_line.find("943 476").expect("leaked")]
        .chars()
        .count()
        + 1;
    assert_eq!(found[0]["column"], column);
    assert!(!run.stdout.contains("943 476 5919"), "{}", run.stdout);
}

#[test]
fn rules_and_value_lists_with_real_looking_nhs_numbers_are_refused() {
    let dir = project_copy();
    let list = dir.path().join("lists/approved_integration_binaries.txt");
    let text = std::fs::read_to_string(&list).expect("read");
    std::fs::write(
        &list,
        format!("{text}# patient 943 476 5919 asked for this\n"),
    )
    .expect("write");
    let rule = dir
        .path()
        .join("detections/exfiltration/nhs_numbers_in_command_line.yml");
    let yaml = std::fs::read_to_string(&rule).expect("read");
    let leaked = yaml.replacen("(9990000018)", "(9434765919)", 1);
    assert_ne!(leaked, yaml);
    std::fs::write(&rule, leaked).expect("write");

    let run = stetho_in(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let found: Vec<(String, String)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "STH403")
        .map(|d| {
            (
                d["file"].as_str().unwrap_or_default().to_string(),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(found.len(), 2, "{}", run.stdout);
    assert_eq!(
        found[0].0,
        "detections/exfiltration/nhs_numbers_in_command_line.yml"
    );
    assert!(found[0].1.starts_with("rule file holds"), "{}", found[0].1);
    assert_eq!(found[1].0, "lists/approved_integration_binaries.txt");
    assert!(found[1].1.starts_with("value list holds"), "{}", found[1].1);
    let human = stetho_in(dir.path(), &["validate"]);
    for out in [&run.stdout, &human.stdout] {
        assert!(
            !out.contains("9434765919") && !out.contains("943 476 5919"),
            "{out}"
        );
    }
    assert!(human.stdout.contains("(**********)"), "{}", human.stdout);
}

/// Another diagnostic on the line of a real-looking NHS number shows the
/// line masked too: its snippet would otherwise print the number.
#[test]
fn other_diagnostics_on_the_line_of_an_nhs_number_show_it_masked() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let yaml = std::fs::read_to_string(&rule).expect("read");
    let leaked = yaml.replacen(
        "        - FolderPath|endswith: \\vssadmin.exe\n",
        "        - FolderPath|endswith: \\vssadmin.exe\n        - FolderPath|endwith: '9434765919'\n",
        1,
    );
    assert_ne!(leaked, yaml);
    std::fs::write(&rule, leaked).expect("write");
    let run = stetho_in(dir.path(), &["validate", "detections/ransomware"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    // The unknown modifier is reported on the number's line, with a snippet.
    assert!(run.stdout.contains("endwith"), "{}", run.stdout);
    assert!(run.stdout.contains("STH403"), "{}", run.stdout);
    assert!(!run.stdout.contains("9434765919"), "{}", run.stdout);
    assert!(run.stdout.contains("'**********'"), "{}", run.stdout);
}

/// A copy of the small plain-Sigma project in tests/harness/project.
fn harness_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&root().join("tests/harness/project"), dir.path());
    dir
}

/// Output with the run's own numbers kept and nothing machine-specific.
fn digest(text: &str) -> String {
    text.replace('\\', "/")
}

#[test]
fn harness_reports_in_every_format() {
    let dir = harness_project();
    let human = stetho_in(dir.path(), &["test"]);
    assert_eq!(human.code, 0, "{}", human.stdout);
    insta::assert_snapshot!("harness_human", digest(&human.stdout));
    let json = stetho_in(dir.path(), &["test", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stdout);
    insta::assert_snapshot!("harness_json", digest(&json.stdout));
    let junit = stetho_in(dir.path(), &["test", "--format", "junit"]);
    assert_eq!(junit.code, 0, "{}", junit.stdout);
    insta::assert_snapshot!("harness_junit", digest(&junit.stdout));
}

#[test]
fn headers_come_from_folders_sidecars_and_first_lines() {
    let dir = harness_project();
    let run = stetho_in(dir.path(), &["test", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let results = value["results"].as_array().expect("results");
    let dns = results
        .iter()
        .find(|r| r["title"] == "Long DNS Query to a Paste Domain")
        .expect("dns rule");
    // Its only case lives in the fixture's first-line header.
    assert_eq!(dns["cases"][0]["from_header"], true);
    assert_eq!(dns["cases"][0]["hit_lines"], serde_json::json!([3]));
    let whoami = results
        .iter()
        .find(|r| r["title"] == "Whoami Execution")
        .expect("whoami rule");
    // The folder default gives recon.ndjson its log source: the sweep covers
    // every process_creation fixture (4), not the DNS one it merely names.
    assert_eq!(whoami["fixtures"], 4);
    let warnings: Vec<&str> = whoami["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter_map(|c| c["warning"].as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("unrelated negative case"));
    // The near miss names the selection the event satisfied.
    let near = &whoami["cases"][1]["near_miss"];
    assert_eq!(near["satisfied"][0]["name"], "selection_img");
    assert_eq!(near["of"], 2);
    // Wrong log source: a warning under `sigma`, an error under `healthcare`.
    assert_eq!(whoami["problems"][0]["severity"], "warning");
    let strict = stetho_in(
        dir.path(),
        &[
            "test",
            "--profile",
            "healthcare",
            "--id",
            "Whoami Execution",
        ],
    );
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(
        strict
            .stdout
            .contains("error: dns/queries.ndjson records windows/dns_query"),
        "{}",
        strict.stdout
    );
}

#[test]
fn a_rule_edited_to_fire_on_the_baseline_fails() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/rmm/unsanctioned_rmm_tool_execution.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    // Sanctioned TeamViewer installs are filtered out by path; drop the
    // filter and the baseline's managed PACS-vendor TeamViewer fires.
    let condition = text
        .lines()
        .find(|l| l.trim_start().starts_with("condition:"))
        .expect("condition")
        .to_string();
    std::fs::write(&rule, text.replace(&condition, "    condition: 1 of sel_*")).expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("fires on benign fixture baseline/endpoint_process_creation.ndjson"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_new_hit_is_a_snapshot_change_until_accepted() {
    let dir = project_copy();
    let source = dir
        .path()
        .join("test-events/ransomware/volume_shadow_copy_deletion_tp.ndjson");
    let incoming = dir.path().join("test-events/incoming/recording.ndjson");
    std::fs::create_dir_all(incoming.parent().expect("parent")).expect("mkdir");
    std::fs::copy(&source, &incoming).expect("copy");

    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("+  \"incoming/recording.ndjson\":"),
        "{}",
        run.stdout
    );
    let json = stetho_in(dir.path(), &["test", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert!(value["snapshot_changes"].as_u64() >= Some(1));

    let accept = stetho_in(dir.path(), &["test", "--accept"]);
    assert_eq!(accept.code, 0, "{}", accept.stdout);
    let again = stetho_in(dir.path(), &["test"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let snapshot = std::fs::read_to_string(
        dir.path()
            .join("test-events/.snapshots/9d9dc299-61ab-4f9f-ba84-95148431ff9d.snap.yml"),
    )
    .expect("snapshot");
    assert!(snapshot.contains("\"incoming/recording.ndjson\":"));
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("test-events/.snapshots"))
        .expect("list")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_corrupted_snapshot_is_a_located_error() {
    let dir = project_copy();
    let path = dir
        .path()
        .join("test-events/.snapshots/9d9dc299-61ab-4f9f-ba84-95148431ff9d.snap.yml");
    let text = std::fs::read_to_string(&path).expect("snapshot");
    std::fs::write(&path, text.replacen("line: 3", "line: three", 1)).expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("snapshot unreadable: "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(".snap.yml:14:7: a hit needs `line: N`"),
        "{}",
        run.stdout
    );
    let accept = stetho_in(dir.path(), &["test", "--accept"]);
    assert_eq!(accept.code, 0, "{}", accept.stdout);
    assert_eq!(std::fs::read_to_string(&path).expect("rewritten"), text);
}

#[test]
fn orphan_snapshots_fail_until_removed() {
    let dir = project_copy();
    let orphan = dir
        .path()
        .join("test-events/.snapshots/00000000-0000-4000-8000-000000000000.snap.yml");
    std::fs::write(&orphan, "rule: gone\ntitle: gone\nhits: {}\n").expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("orphan snapshot"), "{}", run.stdout);
    // Testing a subset of the rules cannot tell orphans from the rest.
    let subset = stetho_in(dir.path(), &["test", "detections/ehr"]);
    assert_eq!(subset.code, 0, "{}", subset.stdout);
    let accept = stetho_in(dir.path(), &["test", "--accept"]);
    assert_eq!(accept.code, 0, "{}", accept.stdout);
    assert!(accept.stdout.contains("removed orphan snapshot"));
    assert!(!orphan.exists());
}

#[test]
fn rules_can_be_picked_by_id_and_tag() {
    let run = stetho(&["test", "--tag", "attack.t1490"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.trim_end().ends_with("2 passed, 0 failed"),
        "{}",
        run.stdout
    );
    let run = stetho(&[
        "test",
        "--id",
        "dd4cfa86-23fa-4f40-adc6-0e6591f9303a",
        "--id",
        "LSASS Memory Dump via LOLBin or Dumping Tool",
    ]);
    assert!(
        run.stdout.trim_end().ends_with("2 passed, 0 failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn invalid_fixture_headers_fail_with_their_position() {
    let dir = harness_project();
    std::fs::write(
        dir.path().join("test-events/endpoint/quiet.fixture.yml"),
        "description: Ordinary desktop activity.\nbenign: yes please\n",
    )
    .expect("write");
    let run = stetho_in(dir.path(), &["test"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        digest(&run.stdout).contains("test-events/endpoint/quiet.fixture.yml:2:9:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[STH401]"), "{}", run.stdout);
}
