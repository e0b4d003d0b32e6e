//! `stetho replay`: inputs, schemas, output contract, robustness.

use std::io::Write;

use crate::common::{json_lines as jsonl, root, stetho, stetho_with_stdin};

#[test]
fn defender_shaped_fixture_through_the_pipeline() {
    let run = stetho(&[
        "replay",
        "--no-config",
        "--rules",
        "tests/replay/whoami_sigma.yml",
        "--format",
        "jsonl",
        "tests/replay/defender_process.ndjson",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hits = jsonl(&run.stdout);
    let lines: Vec<u64> = hits
        .iter()
        .map(|h| h["line"].as_u64().expect("line"))
        .collect();
    // Line 4 lacks the flag, line 5 is malformed, line 6 is another ActionType
    // (the pipeline's `where`), so only lines 2 and 3 hit; line 3 uses an em dash.
    assert_eq!(lines, vec![2, 3]);
    let keys: Vec<&str> = hits[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["file", "index", "line", "rule_id", "rule_title"]);
    assert_eq!(hits[0]["rule_id"], "3b1f8c2e-7d4a-4e5b-9c6d-0a1b2c3d4e5f");
    assert_eq!(hits[0]["index"], 0);
    assert!(
        run.stderr
            .contains("defender_process.ndjson:5: malformed event skipped"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("replayed 4 events"), "{}", run.stderr);
}

/// `stetho replay` of the whoami rule over Sigma-shaped events, as JSON
/// Lines; the inputs follow.
const WHOAMI_SIGMA: [&str; 8] = [
    "replay",
    "--no-config",
    "--rules",
    "tests/replay/whoami_sigma.yml",
    "--format",
    "jsonl",
    "--schema",
    "sigma",
];

#[test]
fn json_arrays_stdin_and_gzip() {
    let args = WHOAMI_SIGMA;
    let mut with_file = args.to_vec();
    with_file.push("tests/replay/sigma_events.json");
    let run = stetho(&with_file);
    let hits = jsonl(&run.stdout);
    assert_eq!(
        hits.iter()
            .map(|h| h["index"].as_u64().unwrap_or(99))
            .collect::<Vec<_>>(),
        vec![0, 2]
    );
    assert!(hits[0]["line"].is_null());

    let dir = tempfile::tempdir().expect("temp dir");
    let gz = dir.path().join("events.ndjson.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(b"{\"Image\":\"C:\\\\x\\\\whoami.exe\",\"CommandLine\":\"whoami /all\"}\n")
        .expect("write");
    encoder.finish().expect("finish");
    let mut with_gz = args.to_vec();
    let gz_path = gz.to_str().expect("utf-8");
    with_gz.push(gz_path);
    assert_eq!(jsonl(&stetho(&with_gz).stdout).len(), 1);

    let mut from_stdin = args.to_vec();
    from_stdin.push("-");
    let run = stetho_with_stdin(
        &from_stdin,
        b"{\"Image\":\"whoami.exe\",\"OriginalFileName\":\"whoami.exe\",\"CommandLine\":\"x /priv\"}\n",
    );
    assert_eq!(jsonl(&run.stdout).len(), 1);
}

#[test]
fn exports_saved_by_windows_tools_replay_as_plain_utf8() {
    let plain =
        std::fs::read_to_string(root().join("tests/replay/sigma_events.json")).expect("read");
    // The same events as NDJSON, one per line.
    let as_lines: String = plain
        .lines()
        .map(|l| l.trim().trim_end_matches(','))
        .filter(|l| l.starts_with('{'))
        .map(|l| format!("{l}\n"))
        .collect();
    let utf16 = |text: &str, big_endian: bool| -> Vec<u8> {
        let mut bytes = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in [
        ("array.json", plain.as_str()),
        ("lines.ndjson", as_lines.as_str()),
    ] {
        let write = |variant: &str, bytes: &[u8]| {
            std::fs::write(dir.path().join(format!("{variant}-{name}")), bytes).expect("write");
        };
        write("plain", text.as_bytes());
        write("bom", &[&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat());
        write("utf16le", &utf16(text, false));
        write("utf16be", &utf16(text, true));
    }
    let hits_of = |name: &str| -> Vec<(u64, u64)> {
        let path = dir.path().join(name);
        let mut args = WHOAMI_SIGMA.to_vec();
        args.push(path.to_str().expect("utf-8"));
        let run = stetho(&args);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(" 0 malformed"),
            "{name}: {}",
            run.stderr
        );
        jsonl(&run.stdout)
            .iter()
            .map(|h| {
                (
                    h["line"].as_u64().unwrap_or(0),
                    h["index"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    for base in ["array.json", "lines.ndjson"] {
        let expected = hits_of(&format!("plain-{base}"));
        assert_eq!(expected.len(), 2, "{base}");
        for variant in ["bom", "utf16le", "utf16be"] {
            assert_eq!(
                hits_of(&format!("{variant}-{base}")),
                expected,
                "{variant}-{base}"
            );
        }
    }
    // From standard input too.
    let bom_lines = [&[0xEF, 0xBB, 0xBF][..], as_lines.as_bytes()].concat();
    let mut args = WHOAMI_SIGMA.to_vec();
    args.push("-");
    let run = stetho_with_stdin(&args, &bom_lines);
    assert_eq!(jsonl(&run.stdout).len(), 2, "{}", run.stderr);
}

#[test]
fn shipped_fixtures_hit_as_their_rules_expect() {
    // Every positive fixture of the library hits, every near miss does not.
    for area in std::fs::read_dir(root().join("test-events"))
        .expect("test-events")
        .flatten()
    {
        for fixture in std::fs::read_dir(area.path()).expect("area").flatten() {
            let path = fixture.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            if !name.ends_with(".ndjson") {
                continue;
            }
            let run = stetho(&[
                "replay",
                "--rules",
                "detections",
                "--format",
                "jsonl",
                path.to_str().expect("utf-8"),
            ]);
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            let hits = jsonl(&run.stdout);
            let benign = area.file_name() == "baseline";
            if benign || name.ends_with("_near_miss.ndjson") {
                assert!(hits.is_empty(), "{name} hit: {hits:?}");
            } else {
                assert!(!hits.is_empty(), "{name} did not hit");
            }
        }
    }
}

#[test]
fn thread_count_does_not_change_output() {
    let base = [
        "replay",
        "--no-config",
        "--rules",
        "tests/corpus/sigmahq/rules",
        "--format",
        "jsonl",
        "--schema",
        "sigma",
    ];
    let mut one = vec!["--jobs", "1"];
    one.extend_from_slice(&base);
    one.push("tests/replay/sigma_events.json");
    let mut two = vec!["--jobs", "2"];
    two.extend_from_slice(&base);
    two.push("tests/replay/sigma_events.json");
    assert_eq!(stetho(&one).stdout, stetho(&two).stdout);
}

#[test]
fn bad_inputs_are_usage_errors() {
    let run = stetho(&[
        "replay",
        "--no-config",
        "--rules",
        "tests/replay/whoami_sigma.yml",
        "no/such/file.ndjson",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no/such/file.ndjson"), "{}", run.stderr);
    let run = stetho(&[
        "replay",
        "--no-config",
        "--rules",
        "tests/replay/whoami_sigma.yml",
        "--schema",
        "nope.Table",
        "tests/replay/sigma_events.json",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("unknown pipeline"), "{}", run.stderr);
}

/// Sysmon's `Details` (`DWORD (0x00000002)`) is computed from Defender's
/// value type and decimal data: only the row typed `Dword` matches (line 4
/// has the same data without a type), and the query computes the same.
#[test]
fn registry_values_are_computed_from_defender_columns() {
    let run = stetho(&[
        "replay",
        "--no-config",
        "--rules",
        "tests/replay/registry_dword_value.yml",
        "--format",
        "jsonl",
        "tests/replay/defender_registry.ndjson",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<u64> = jsonl(&run.stdout)
        .iter()
        .filter_map(|h| h["line"].as_u64())
        .collect();
    assert_eq!(lines, [6]);
    let kql = stetho(&[
        "compile",
        "--no-config",
        "tests/replay/registry_dword_value.yml",
    ]);
    assert_eq!(kql.code, 0, "{}", kql.stderr);
    assert!(
        kql.stdout
            .contains("| extend Details = case(RegistryValueType =~ 'Dword'"),
        "{}",
        kql.stdout
    );
}

/// Sysmon's `TargetObject` is computed from Defender's key and value-name
/// columns (short hives, CurrentControlSet), so a plain SigmaHQ registry
/// rule replays on Defender rows, and its compiled query reads the same.
#[test]
fn registry_paths_are_computed_from_defender_columns() {
    let run = stetho(&[
        "replay",
        "--no-config",
        "--rules",
        "tests/replay/registry_run_key.yml",
        "--format",
        "jsonl",
        "tests/replay/defender_registry.ndjson",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<u64> = jsonl(&run.stdout)
        .iter()
        .filter_map(|h| h["line"].as_u64())
        .collect();
    assert_eq!(lines, [2, 3]);
    let kql = stetho(&[
        "compile",
        "--no-config",
        "tests/replay/registry_run_key.yml",
    ]);
    assert_eq!(kql.code, 0, "{}", kql.stderr);
    assert!(
        kql.stdout
            .contains("| extend TargetObject = strcat(replace_regex("),
        "{}",
        kql.stdout
    );
    assert!(
        kql.stdout.contains("| project-away TargetObject"),
        "{}",
        kql.stdout
    );
}

/// `stetho replay` of `rules` over `fixture` (both under tests/replay/),
/// hits as JSON Lines.
fn replay_jsonl(rules: &str, fixture: &str) -> crate::common::Run {
    stetho(&[
        "replay",
        "--no-config",
        "--rules",
        &format!("tests/replay/{rules}"),
        "--format",
        "jsonl",
        &format!("tests/replay/{fixture}"),
    ])
}

/// Lines of `fixture` that `rule` (both under tests/replay/) hits.
fn replay_lines(rule: &str, fixture: &str) -> Vec<u64> {
    let run = replay_jsonl(rule, fixture);
    assert_eq!(run.code, 0, "{}", run.stderr);
    jsonl(&run.stdout)
        .iter()
        .filter_map(|h| h["line"].as_u64())
        .collect()
}

/// A Security-log logon rule (EventID 4624, numeric LogonType) reads
/// Defender's DeviceLogonEvents: EventID from the ActionType, LogonType from
/// its name. Near misses: a failed logon (4625), a RemoteInteractive logon
/// (10), another account. The query computes the same two fields.
#[test]
fn security_logons_replay_on_defender_logon_rows() {
    assert_eq!(
        replay_lines("security_network_logon.yml", "defender_logon.ndjson"),
        [2]
    );
    let kql = stetho(&[
        "compile",
        "--no-config",
        "tests/replay/security_network_logon.yml",
    ]);
    assert_eq!(kql.code, 0, "{}", kql.stderr);
    assert!(kql.stdout.starts_with("// "), "{}", kql.stdout);
    assert!(
        kql.stdout.contains("\nDeviceLogonEvents\n"),
        "{}",
        kql.stdout
    );
    assert!(
        kql.stdout
            .contains("| extend EventID = case(ActionType in~ (@'LogonSuccess'), @'4624'"),
        "{}",
        kql.stdout
    );
    // The computed logon type must not hide Defender's own LogonType column.
    assert!(
        kql.stdout
            .contains("| extend LogonType_sigma = case(LogonType in~ (@'Interactive'), @'2'"),
        "{}",
        kql.stdout
    );
}

/// A 4698 rule reads TaskName and TaskContent from DeviceEvents'
/// AdditionalFields, written as an object (line 2) or as JSON text (line 3);
/// an updated task (4702) and a task elsewhere do not match.
#[test]
fn security_scheduled_tasks_replay_on_defender_event_rows() {
    assert_eq!(
        replay_lines("security_task_created.yml", "defender_events.ndjson"),
        [2, 3]
    );
    let kql = stetho(&[
        "compile",
        "--no-config",
        "tests/replay/security_task_created.yml",
    ]);
    assert_eq!(kql.code, 0, "{}", kql.stderr);
    assert!(
        kql.stdout
            .contains("| extend TaskName = tostring(parse_json(AdditionalFields)['TaskName'])"),
        "{}",
        kql.stdout
    );
}

/// Sysmon's pipe names (`\name`) match Defender's (`\Device\NamedPipe\name`
/// inside AdditionalFields) once the device prefix is stripped.
#[test]
fn pipe_names_are_read_from_additional_fields() {
    assert_eq!(replay_lines("pipe_msse.yml", "defender_events.ndjson"), [6]);
    let kql = stetho(&["compile", "--no-config", "tests/replay/pipe_msse.yml"]);
    assert_eq!(kql.code, 0, "{}", kql.stderr);
    assert!(
        kql.stdout.contains(
            "| extend PipeName = replace_regex(tostring(parse_json(AdditionalFields)['PipeName'])"
        ),
        "{}",
        kql.stdout
    );
}

/// A Security rule whose EventIDs Defender keeps in two tables is a located
/// error naming them, never a query over one table that drops the other.
#[test]
fn security_rules_across_defender_tables_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = std::fs::read_to_string("tests/replay/security_network_logon.yml")
        .expect("rule")
        .replace("EventID: 4624", "EventID: [4624, 4698]");
    let path = dir.path().join("mixed.yml");
    std::fs::write(&path, rule).expect("write");
    let run = stetho(&["compile", "--no-config", path.to_str().expect("utf-8")]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("mixed.yml:1:1")
            && run
                .stderr
                .contains("EventIDs 4624 and 4698 are recorded in different tables"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_chained_correlation_may_sort_before_the_correlation_it_counts() {
    // a_repeated_bursts.yml counts `logon_burst`, defined in z_logon_burst.yml.
    let run = replay_jsonl("chained_across_files", "chained_across_files/events.ndjson");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hits = jsonl(&run.stdout);
    assert_eq!(hits.len(), 1, "{}", run.stdout);
    assert_eq!(hits[0]["rule_id"], "2b8e4c1a-9d3f-4a6e-8b7c-5d1e0f2a3b41");
    assert_eq!(hits[0]["line"], 4);
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
}

#[test]
fn correlations_in_a_cycle_are_reported_where_the_cycle_closes() {
    let run = replay_jsonl("correlation_cycle", "chained_across_files/events.ndjson");
    for at in ["cycle.yml:18:11", "cycle.yml:32:11"] {
        assert!(
            run.stderr.contains(&format!(
                "tests/replay/correlation_cycle/{at}: correlations name each other in a cycle"
            )),
            "{at}: {}",
            run.stderr
        );
    }
    // The detection rule itself still runs.
    assert_eq!(jsonl(&run.stdout).len(), 4, "{}", run.stdout);
    let validate = stetho(&["validate", "--no-config", "tests/replay/correlation_cycle"]);
    assert_eq!(validate.code, 1, "{}", validate.stderr);
    assert_eq!(
        validate.stdout.matches("STH313").count(),
        2,
        "{}",
        validate.stdout
    );
}

/// Presence on events in a Kusto table's shape is presence as the query
/// sees it: an empty string column is no value (`|exists` and `|neq`
/// compile to `isnotempty`), so neither rule hits the empty command line
/// (line 2) or the missing one (line 5). Found by the property test that
/// runs the compiled KQL over the same events.
#[test]
fn an_empty_column_of_a_table_shaped_event_is_no_value() {
    assert_eq!(
        replay_lines("command_line_neq.yml", "defender_empty_columns.ndjson"),
        [3]
    );
    assert_eq!(
        replay_lines("command_line_exists.yml", "defender_empty_columns.ndjson"),
        [3, 4]
    );
}
