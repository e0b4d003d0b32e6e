//! `stetho fixture import` and `stetho fixture scrub`: console exports
//! become fixtures the rules replay, and recordings lose their identifiers
//! without changing what the rules see.
//!
//! Data files live in `tests/fixture-tools/`. Recordings that must hold
//! real-looking NHS numbers are templates (`*.in`) whose placeholders are
//! filled at run time, so no such number is ever committed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::{root, stetho, stetho_in};

fn data(name: &str) -> PathBuf {
    root().join("tests/fixture-tools").join(name)
}

fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A checksum-valid NHS number outside the 999 test range, made here so
/// that none is written in the repository.
fn real_looking(seed: u32) -> String {
    let mut serial = seed;
    loop {
        let mut digits = [4u8, 8, 5, 0, 0, 0, 0, 0, 0, 0];
        for (i, d) in digits[3..9].iter_mut().enumerate() {
            *d = ((serial / 10u32.pow(5 - i as u32)) % 10) as u8;
        }
        let sum: u32 = digits[..9]
            .iter()
            .zip((2..=10).rev())
            .map(|(d, w)| u32::from(*d) * w)
            .sum();
        let check = (11 - sum % 11) % 11;
        if check != 10 {
            digits[9] = check as u8;
            if stetho::eval::nhs::is_valid(&digits) {
                return digits.iter().map(|d| char::from(b'0' + d)).collect();
            }
        }
        serial += 1;
    }
}

/// A template with its `{{NHS_*}}` placeholders filled, written to `dir`.
fn fill(template: &str, dir: &Path, name: &str) -> (PathBuf, Vec<String>) {
    let numbers: Vec<String> = [17, 4242, 90_001, 123_456]
        .iter()
        .map(|s| real_looking(*s))
        .collect();
    let grouped = |n: &str, sep: char| format!("{}{sep}{}{sep}{}", &n[..3], &n[3..6], &n[6..]);
    let text = std::fs::read_to_string(data(template))
        .expect("template")
        .replace("{{NHS_A}}", &numbers[0])
        .replace("{{NHS_B_SPACED}}", &grouped(&numbers[1], ' '))
        .replace("{{NHS_C_HYPHEN}}", &grouped(&numbers[2], '-'))
        .replace("{{NHS_D}}", &numbers[3]);
    assert!(
        !text.contains("{{NHS"),
        "unfilled placeholder in {template}"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write recording");
    (path, numbers)
}

fn real_numbers_in(text: &str) -> usize {
    stetho::eval::nhs::real_looking(text).len()
}

/// (rule id, event index) of every hit of `rules` on `events`.
fn hits(rules: &str, events: &Path) -> BTreeSet<(String, u64)> {
    let run = stetho(&["replay", "--rules", rules, "--format", "jsonl", arg(events)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            (
                v["rule_id"].as_str().expect("rule_id").to_string(),
                v["index"].as_u64().expect("index"),
            )
        })
        .collect()
}

fn header(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let first = text.lines().next().expect("header line");
    serde_json::from_str(first).expect("header is JSON")
}

const VSS: &str = "9d9dc299-61ab-4f9f-ba84-95148431ff9d";
const MFA_FATIGUE: &str = "2e10f6c8-1106-4767-8950-589a059f28a6";
const BREAK_GLASS: &str = "6aa3f368-7e2f-411e-98dc-97203f8e482f";

#[test]
fn defender_csv_export_imports_and_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("vss.ndjson");
    let export = data("defender_process_export.csv");
    let run = stetho(&["fixture", "import", arg(&export), "--out", arg(&out)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "--out writes the file, not stdout");
    assert!(
        run.stderr
            .contains("imported 4 events from tests/fixture-tools/defender_process_export.csv as defender_xdr.DeviceProcessEvents"),
        "{}",
        run.stderr
    );
    let h = &header(&out)["stetho_fixture"];
    assert_eq!(h["schema"], "defender_xdr.DeviceProcessEvents");
    assert_eq!(h["logsource"]["category"], "process_creation");
    assert_eq!(
        h["description"],
        "Imported from defender_process_export.csv"
    );
    let text = std::fs::read_to_string(&out).expect("read");
    let events: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).expect("event"))
        .collect();
    assert_eq!(events.len(), 4);
    // Typed by the DeviceProcessEvents columns; empty cells left out.
    assert_eq!(events[0]["Timestamp"], "2025-03-14T02:13:45.123456700Z");
    assert_eq!(events[0]["ProcessId"], 4412);
    assert_eq!(events[0]["IsProcessRemoteSession"], false);
    assert!(events[0].get("AccountUpn").is_none());
    assert_eq!(events[2]["IsProcessRemoteSession"], true);
    assert_eq!(
        events[2]["ProcessCommandLine"],
        "powershell.exe -c \"Get-WmiObject Win32_ShadowCopy |\n ForEach-Object { $_.Delete() }\""
    );
    assert_eq!(
        events[1]["AdditionalFields"],
        "{\"IsElevated\":true,\"Parent\":\"cmd.exe\"}"
    );
    let found = hits("detections/ransomware", &out);
    let expected: BTreeSet<(String, u64)> = (0..3).map(|i| (VSS.to_string(), i)).collect();
    assert_eq!(found, expected);
    // Same input, same bytes; and stdout by default.
    let again = stetho(&["fixture", "import", arg(&export)]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, text);
}

#[test]
fn sentinel_csv_export_with_utc_headers_and_us_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("signins.ndjson");
    let run = stetho(&[
        "fixture",
        "import",
        arg(&data("sentinel_signins_export.csv")),
        "--out",
        arg(&out),
        "--description",
        "Push-bombing of one account",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let h = &header(&out)["stetho_fixture"];
    assert_eq!(h["schema"], "sentinel.SigninLogs");
    assert_eq!(h["description"], "Push-bombing of one account");
    let text = std::fs::read_to_string(&out).expect("read");
    let first: serde_json::Value =
        serde_json::from_str(text.lines().nth(1).expect("event")).expect("JSON");
    assert_eq!(first["TimeGenerated"], "2025-03-14T23:41:05.000Z");
    assert_eq!(
        first["Status"]["additionalDetails"],
        "MFA denied; user declined the authentication"
    );
    assert_eq!(first["IsInteractive"], true);
    assert_eq!(
        first["ResultType"], "500121",
        "ResultType is a string column"
    );
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("event")).expect("JSON");
    assert_eq!(last["TimeGenerated"], "2025-03-15T00:01:00.250Z");
    assert!(
        last.get("ResultDescription").is_none(),
        "empty cell left out"
    );
    // Five denials in ten minutes for one user: the correlation fires.
    let found = hits("detections/identity", &out);
    assert_eq!(found, [(MFA_FATIGUE.to_string(), 4)].into());
}

#[test]
fn json_export_of_a_healthcare_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("ehr.ndjson");
    let run = stetho(&[
        "fixture",
        "import",
        arg(&data("ehr_access_export.json")),
        "-o",
        arg(&out),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        header(&out)["stetho_fixture"]["schema"],
        "healthcare.EhrAccess_CL"
    );
    let text = std::fs::read_to_string(&out).expect("read");
    let second: serde_json::Value =
        serde_json::from_str(text.lines().nth(2).expect("event")).expect("JSON");
    // Text values of typed columns are converted like CSV cells.
    assert_eq!(second["patient_flags"], serde_json::json!(["staff"]));
    assert_eq!(second["access_break_glass"], true);
    assert_eq!(second["access_record_count"], 1);
    let found = hits("detections/ehr", &out);
    assert_eq!(
        found,
        [(BREAK_GLASS.to_string(), 0), (BREAK_GLASS.to_string(), 1)].into()
    );
}

#[test]
fn import_refuses_real_looking_nhs_numbers_unless_scrubbed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (export, numbers) = fill("ehr_access_export.csv.in", dir.path(), "ehr.csv");
    let out = dir.path().join("ehr.ndjson");
    let run = stetho(&["fixture", "import", arg(&export), "--out", arg(&out)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!out.exists(), "nothing written");
    let masked = format!("*******{}", &numbers[0][7..]);
    assert!(
        run.stderr.contains(&format!(
            "ehr.csv:2: a checksum-valid NHS number outside the 999 test range ({masked})"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--scrub"), "{}", run.stderr);
    for n in &numbers {
        assert!(!run.stderr.contains(n.as_str()), "numbers are masked");
    }
    let run = stetho(&[
        "fixture",
        "import",
        arg(&export),
        "--scrub",
        "--out",
        arg(&out),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("scrubbed 3 events: 2 NHS numbers"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(&out).expect("read");
    assert_eq!(real_numbers_in(&text), 0);
    assert_eq!(
        hits("detections/ehr", &out),
        [(BREAK_GLASS.to_string(), 0), (BREAK_GLASS.to_string(), 1)].into()
    );
}

#[test]
fn scrub_replaces_identifiers_deterministically_and_keeps_hits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (recording, numbers) = fill("recording.ndjson.in", dir.path(), "recording.ndjson");
    let original = std::fs::read_to_string(&recording).expect("read");
    assert!(real_numbers_in(&original) > 0);
    let out = dir.path().join("scrubbed.ndjson");
    // A fixed rule set, so the library's growth cannot change what is kept.
    let rule_set = "detections/ransomware/volume_shadow_copy_deletion.yml,detections/exfiltration/nhs_numbers_in_command_line.yml,detections/rmm/unsanctioned_rmm_tool_execution.yml";
    let rules = ["--rules", rule_set];
    let scrub = |extra: &[&str]| {
        let mut args = vec!["fixture", "scrub", arg(&recording), "--out", arg(&out)];
        args.extend_from_slice(&rules);
        args.extend_from_slice(extra);
        stetho(&args)
    };
    let run = scrub(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("scrubbed 7 events: 4 NHS numbers, 3 e-mails, 3 IPs,"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("kept fields the rules test: ")
            && run.stderr.contains("ProcessCommandLine"),
        "{}",
        run.stderr
    );
    let scrubbed = std::fs::read_to_string(&out).expect("read");
    assert_eq!(real_numbers_in(&scrubbed), 0);
    for n in &numbers {
        assert!(!scrubbed.contains(&n[3..]), "no trace of {n}");
    }
    for gone in [
        "clerk.example11",
        "Clerk.Example11",
        "nurse.example01",
        "Nurse Example01",
        "ops.lead@",
        "1.1.1.1",
        "8.8.8.8",
        "2606:4700",
    ] {
        assert!(!scrubbed.contains(gone), "{gone} survived:\n{scrubbed}");
    }
    // The header stays; e-mails keep their domain; names found in name
    // fields are replaced inside other text too, spelling case preserved.
    assert_eq!(scrubbed.lines().next(), original.lines().next());
    assert!(scrubbed.contains("\"AccountUpn\":\"user-1@nhs.net\""));
    assert!(scrubbed.contains("\"InitiatingProcessAccountName\":\"Account-1\""));
    assert!(
        scrubbed.contains("\\\"Operator\\\":\\\"person-1\\\""),
        "{scrubbed}"
    );
    // DeviceName is tested by a rule, so host names stay as they are.
    assert!(run.stderr.contains("DeviceName"), "{}", run.stderr);
    assert!(scrubbed.contains("\"DeviceName\":\"fs01.trust.example\""));
    // Byte-identical on a second run.
    let second = stetho(&["fixture", "scrub", arg(&recording), "--rules", rule_set]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(second.stdout, scrubbed);
    // What `stetho test` checks is unchanged: the same rules hit the same events.
    let before = hits(rule_set, &recording);
    assert!(before.iter().any(|(r, _)| r == VSS), "{before:?}");
    assert!(before.len() >= 2, "{before:?}");
    assert_eq!(hits(rule_set, &out), before);
    // In place.
    let run = stetho(&[
        "fixture",
        "scrub",
        arg(&recording),
        "--in-place",
        "--rules",
        rule_set,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&recording).expect("read"), scrubbed);
}

#[test]
fn scrub_refuses_when_rule_hits_would_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.ndjson");
    let rule = data("exact_upn_rule.yml");
    let recording = data("signin_recording.ndjson");
    let args = [
        "--no-config",
        "fixture",
        "scrub",
        arg(&recording),
        "--rules",
        arg(&rule),
        "--out",
        arg(&out),
    ];
    let run = stetho_in(dir.path(), &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!out.exists(), "nothing written");
    assert!(
        run.stderr.contains(
            "rule `5b0c7f4e-2a61-4f1e-9d3b-8c7a6e5d4c3b` hits event 0 (line 2) before scrubbing, not after"
        ),
        "{}",
        run.stderr
    );
    // --keep leaves the field as it is: the check passes.
    let mut keep = args.to_vec();
    keep.extend(["--keep", "UserPrincipalName"]);
    let run = stetho_in(dir.path(), &keep);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_file(&out).expect("remove");
    // --force writes anyway.
    let mut force = args.to_vec();
    force.push("--force");
    let run = stetho_in(dir.path(), &force);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("written anyway"), "{}", run.stderr);
    assert!(
        std::fs::read_to_string(&out)
            .expect("read")
            .contains("user-1@nhs.net")
    );
}

#[test]
fn scrub_without_rules_skips_the_self_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = stetho_in(
        dir.path(),
        &[
            "--no-config",
            "fixture",
            "scrub",
            arg(&data("signin_recording.ndjson")),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("self-check skipped"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("\"UserPrincipalName\":\"user-1@nhs.net\"")
    );
}

#[test]
fn usage_and_format_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let existing = dir.path().join("exists.ndjson");
    std::fs::write(&existing, "{}\n").expect("write");
    let export = data("defender_process_export.csv");
    let unknown = data("unknown_columns_export.csv");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["fixture", "import", arg(&export), "--out", arg(&existing)],
            "use --force to overwrite",
        ),
        (
            vec![
                "fixture",
                "import",
                arg(&export),
                "--schema",
                "defender_xdr.NoSuchTable",
            ],
            "pipeline `defender_xdr` has no table `NoSuchTable`",
        ),
        (
            vec!["fixture", "import", arg(&export), "--schema", "sigma"],
            "--schema must name a table",
        ),
        (
            vec!["fixture", "import", arg(&unknown)],
            "name the table with --schema",
        ),
        (
            vec!["fixture", "import", "tests/fixture-tools/missing.csv"],
            "missing.csv",
        ),
        (
            vec!["fixture", "scrub", arg(&export)],
            "defender_process_export.csv:1: not a JSON object",
        ),
        (
            vec!["fixture", "scrub", "-", "--in-place"],
            "--in-place needs a file",
        ),
    ];
    for (args, message) in cases {
        let run = stetho(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    assert_eq!(std::fs::read_to_string(&existing).expect("read"), "{}\n");
}
