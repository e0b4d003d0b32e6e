//! `stetho compile`: every query parses and binds in Microsoft's own Kusto
//! parser (`@kusto/language-service-next`, run by conformance/kql-check.js)
//! against the Defender XDR and Sentinel table schemas.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::{json_lines as records, project_copy, root, stetho, stetho_in};

/// The parser, when the test command has installed it.
fn kql_check() -> Option<PathBuf> {
    let package = root().join("conformance/node_modules/@kusto/language-service-next");
    if !package.exists() {
        assert!(
            std::env::var_os("STETHO_REQUIRE_CONFORMANCE").is_none(),
            "conformance tools are required but @kusto/language-service-next is missing"
        );
        eprintln!("note: Kusto parser not installed; run scripts/test.sh for the KQL checks");
        return None;
    }
    Some(root().join("conformance/kql-check.js"))
}

/// The schema file for a pipeline's queries: Sentinel workspaces also hold
/// the healthcare custom tables, so their schema is merged in.
fn schema_for(pipeline: &str, dir: &std::path::Path) -> PathBuf {
    let kusto = root().join("schemas/kusto");
    match pipeline {
        "defender_xdr" => kusto.join("defender-xdr-schema.json"),
        _ => {
            let read = |name: &str| -> serde_json::Value {
                serde_json::from_str(&std::fs::read_to_string(kusto.join(name)).expect("schema"))
                    .expect("json")
            };
            let mut sentinel = read("sentinel-schema.json");
            let healthcare = read("healthcare-schema.json");
            let tables = sentinel["tables"].as_array_mut().expect("tables");
            tables.extend(
                healthcare["tables"]
                    .as_array()
                    .expect("tables")
                    .iter()
                    .cloned(),
            );
            let path = dir.join("sentinel-with-healthcare.json");
            std::fs::write(&path, sentinel.to_string()).expect("write schema");
            path
        }
    }
}

/// Run the parser over `stetho compile --format jsonl` output; returns its
/// stdout (ends with `N passed, M failed`).
fn parse_all(checker: &std::path::Path, schema: &std::path::Path, jsonl: &str) -> (i32, String) {
    let mut child = Command::new("node")
        .arg(checker)
        .args(["--schema", schema.to_str().expect("utf-8")])
        .args(["--skip-missing", "--quiet", "--kql-field", "output", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(jsonl.as_bytes())
        .expect("write queries");
    let output = child.wait_with_output().expect("kql-check finishes");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_library_compiles_and_parses_for_both_targets() {
    let Some(checker) = kql_check() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    for pipeline in ["defender_xdr", "sentinel"] {
        let run = stetho(&["compile", "--pipeline", pipeline, "--format", "jsonl"]);
        let compiled = records(&run.stdout);
        assert_eq!(compiled.len(), 41, "{}", run.stdout);
        for record in &compiled {
            if let Some(error) = record["error"].as_str() {
                // Defender XDR has no clinical tables: only those may fail.
                assert_eq!(pipeline, "defender_xdr", "{record}");
                assert!(error.contains("has no table for log source"), "{record}");
            }
        }
        let with_output = compiled.iter().filter(|r| r["output"].is_string()).count();
        assert!(with_output >= if pipeline == "sentinel" { 41 } else { 16 });
        let (code, out) = parse_all(&checker, &schema_for(pipeline, dir.path()), &run.stdout);
        assert_eq!(code, 0, "{pipeline}: {out}");
        assert!(
            out.trim_end().ends_with(&format!(
                "{with_output} passed, 0 failed, {} skipped",
                compiled.len() - with_output
            )) || out
                .trim_end()
                .ends_with(&format!("{with_output} passed, 0 failed")),
            "{out}"
        );
    }
}

#[test]
fn a_rule_edited_to_use_an_unknown_column_fails() {
    let dir = project_copy();
    let rule = dir
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    std::fs::write(
        &rule,
        text.replacen(
            "ProcessCommandLine|contains|all:",
            "ProcessCommandLin|contains|all:",
            1,
        ),
    )
    .expect("write");
    let run = stetho_in(dir.path(), &["compile", "detections/ransomware"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("field `ProcessCommandLin`: table `DeviceProcessEvents` has no such column"),
        "{}",
        run.stderr
    );
    // Located at the field, as file:line:col.
    let edited = std::fs::read_to_string(&rule).expect("read");
    let line = edited
        .lines()
        .position(|l| l.contains("ProcessCommandLin|contains|all"))
        .expect("edited line")
        + 1;
    assert!(
        run.stderr
            .contains(&format!("volume_shadow_copy_deletion.yml:{line}:9: rule `")),
        "{}",
        run.stderr
    );
    // And the parser itself rejects the column, had it been emitted.
    let Some(checker) = kql_check() else { return };
    let query = serde_json::json!({
        "id": "typo",
        "output": "DeviceProcessEvents\n| where ProcessCommandLin contains @'delete'",
    });
    let (code, out) = parse_all(
        &checker,
        &schema_for("defender_xdr", dir.path()),
        &format!("{query}\n"),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("KS142"), "{out}");
}

#[test]
fn the_sigmahq_corpus_compiles_to_queries_that_parse() {
    for pipeline in ["defender_xdr", "sentinel"] {
        let run = stetho(&[
            "compile",
            "--no-config",
            "--pipeline",
            pipeline,
            "--format",
            "jsonl",
            "tests/corpus/sigmahq",
        ]);
        let compiled = records(&run.stdout);
        assert!(compiled.len() >= 390, "{pipeline}: {}", compiled.len());
        let Some(checker) = kql_check() else { return };
        let dir = tempfile::tempdir().expect("temp dir");
        let (code, out) = parse_all(&checker, &schema_for(pipeline, dir.path()), &run.stdout);
        assert_eq!(code, 0, "{pipeline}: {out}");
    }
}

#[test]
fn compiled_queries_of_the_library() {
    for pipeline in ["defender_xdr", "sentinel"] {
        let run = stetho(&["compile", "--pipeline", pipeline]);
        insta::assert_snapshot!(format!("library_{pipeline}"), run.stdout);
    }
}

/// Strings with every character class that could break out of a literal
/// (quotes, backslashes, line breaks, control characters, `*`, non-ASCII)
/// must decode, in Microsoft's parser, to exactly the value they encode.
#[test]
fn literals_round_trip_through_the_parser() {
    let Some(checker) = kql_check() else { return };
    let alphabet: Vec<char> = "a'\"\\\n\r\t*?@`{}()[];|/ \u{0}\u{1f}\u{7f}\u{e9}\u{2014}\u{1f600}"
        .chars()
        .collect();
    // A small deterministic generator (xorshift), so failures reproduce.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut lines = String::new();
    for id in 0..300 {
        let len = (next() % 12) as usize;
        let value: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let record = serde_json::json!({
            "id": format!("case-{id}"),
            "literal": stetho::backend::kql::literal(&value),
            "expected": value,
        });
        lines.push_str(&format!("{record}\n"));
    }
    let mut child = Command::new("node")
        .arg(&checker)
        .args(["--no-schema", "--literals", "--quiet", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("finishes");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.trim_end().ends_with("300 passed, 0 failed"), "{text}");
}

#[test]
fn deployable_rules_of_the_library() {
    let defender = stetho(&["compile", "--target", "defender", "--format", "jsonl"]);
    for record in records(&defender.stdout) {
        let Some(output) = record["output"].as_str() else {
            assert!(
                record["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("has no table") || e.contains("correlation")),
                "{record}"
            );
            continue;
        };
        let rule: serde_json::Value = serde_json::from_str(output).expect("defender json");
        let template = &rule["detectionAction"]["alertTemplate"];
        for key in [
            "title",
            "description",
            "severity",
            "category",
            "impactedAssets",
        ] {
            assert!(!template[key].is_null(), "{key} missing: {rule}");
        }
        assert!(
            ["1H", "3H", "12H", "24H"].contains(&rule["schedule"]["period"].as_str().unwrap_or(""))
        );
        assert!(
            rule["queryCondition"]["queryText"]
                .as_str()
                .is_some_and(|q| !q.is_empty())
        );
    }
    insta::assert_snapshot!(
        "library_defender",
        stetho(&["compile", "--target", "defender"]).stdout
    );

    let sentinel = stetho(&[
        "compile",
        "--target",
        "sentinel",
        "--pipeline",
        "sentinel",
        "--format",
        "jsonl",
    ]);
    let compiled = records(&sentinel.stdout);
    assert_eq!(compiled.len(), 41);
    for record in compiled {
        let yaml = record["output"]
            .as_str()
            .expect("every rule deploys to Sentinel");
        let loaded = stetho::source::yaml::load(yaml);
        assert!(loaded.errors.is_empty(), "{:?}\n{yaml}", loaded.errors);
        let doc = loaded.documents.first().expect("a document");
        for key in [
            "id",
            "name",
            "severity",
            "queryFrequency",
            "queryPeriod",
            "query",
            "kind",
        ] {
            assert!(doc.get(key).is_some(), "{key} missing:\n{yaml}");
        }
        let arm = &record["arm"]["resources"][0];
        assert_eq!(
            arm["type"],
            "Microsoft.OperationalInsights/workspaces/providers/alertRules"
        );
        assert_eq!(arm["kind"], "Scheduled");
        assert_eq!(
            arm["properties"]["query"].as_str(),
            doc.get("query")
                .and_then(|q| q.as_str())
                .map(|q| q.trim_end()),
        );
    }
    insta::assert_snapshot!(
        "library_sentinel_rules",
        stetho(&["compile", "--target", "sentinel", "--pipeline", "sentinel"]).stdout
    );
}

#[test]
fn build_replaces_dist_only_when_everything_passes() {
    let dir = project_copy();
    let run = stetho_in(dir.path(), &["build"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("dist/index.json")).expect("index"),
    )
    .expect("json");
    let artifacts = index["artifacts"].as_array().expect("artifacts");
    assert!(artifacts.len() >= 30, "{index}");
    for a in artifacts {
        let file = dir
            .path()
            .join("dist")
            .join(a["file"].as_str().expect("file"));
        assert!(file.is_file(), "{a}");
    }
    // Same input, same bytes.
    let first = std::fs::read(dir.path().join("dist/index.json")).expect("index");
    assert_eq!(stetho_in(dir.path(), &["build"]).code, 0);
    assert_eq!(
        std::fs::read(dir.path().join("dist/index.json")).expect("index"),
        first
    );

    // A failing test keeps the last good build.
    let rule = dir
        .path()
        .join("detections/ransomware/volume_shadow_copy_deletion.yml");
    let text = std::fs::read_to_string(&rule).expect("read");
    std::fs::write(&rule, text.replace("- shadows\n", "- shadowz\n")).expect("write");
    let failed = stetho_in(dir.path(), &["build"]);
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert!(
        failed.stdout.contains("build failed: failed tests"),
        "{}",
        failed.stdout
    );
    assert_eq!(
        std::fs::read(dir.path().join("dist/index.json")).expect("index"),
        first
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".dist"))
        .collect();
    assert!(leftovers.is_empty());
}

/// A correlation of correlations (tests/kql/chained, whose fixtures
/// scripts/kql-replay/run.py also replays): each counted correlation is a
/// subquery of its fired bins, and the queries parse and bind.
#[test]
fn chained_correlations_compile_to_queries_that_parse() {
    let project = root().join("tests/kql/chained");
    // The replay's hits, which scripts/kql-replay/run.py compares with.
    let test = stetho_in(&project, &["test"]);
    assert_eq!(test.code, 0, "{}", test.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    for pipeline in ["defender_xdr", "sentinel"] {
        let text = stetho_in(&project, &["compile", "--pipeline", pipeline]);
        assert_eq!(text.code, 0, "{}", text.stderr);
        insta::assert_snapshot!(format!("chained_{pipeline}"), text.stdout);
        let run = stetho_in(
            &project,
            &["compile", "--pipeline", pipeline, "--format", "jsonl"],
        );
        let compiled = records(&run.stdout);
        assert_eq!(compiled.len(), 2, "{}", run.stdout);
        assert!(
            compiled.iter().all(|r| r["output"].is_string()),
            "{}",
            run.stdout
        );
        let Some(checker) = kql_check() else { continue };
        let (code, out) = parse_all(&checker, &schema_for(pipeline, dir.path()), &run.stdout);
        assert_eq!(code, 0, "{pipeline}: {out}");
        assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");
    }
}

/// Deployed like a single-level correlation: refused by Defender XDR (its
/// rows are summaries), a Sentinel rule whose period covers the counted
/// windows too (1h + 5m, rounded up to 2h).
#[test]
fn chained_correlations_deploy_as_correlations_do() {
    let project = root().join("tests/kql/chained");
    let defender = stetho_in(&project, &["compile", "--target", "defender"]);
    assert_eq!(defender.code, 1, "{}", defender.stdout);
    assert_eq!(
        defender
            .stderr
            .matches("a correlation's results are summaries")
            .count(),
        2,
        "{}",
        defender.stderr
    );
    let sentinel = stetho_in(
        &project,
        &[
            "compile",
            "--target",
            "sentinel",
            "--pipeline",
            "sentinel",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(sentinel.code, 0, "{}", sentinel.stderr);
    let periods: Vec<(String, String)> = records(&sentinel.stdout)
        .iter()
        .map(|r| {
            (
                r["title"].as_str().unwrap_or_default().to_string(),
                r["arm"]["resources"][0]["properties"]["queryPeriod"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        periods,
        [
            (
                "Repeated Bursts of Account Discovery on One Device".to_string(),
                "PT2H".to_string()
            ),
            (
                "Account Discovery Burst Then Shadow Copy Deletion on One Host".to_string(),
                "PT3H".to_string()
            ),
        ]
    );
}

/// What a chained correlation cannot mean in KQL is a located error: a
/// group-by the counted correlation does not carry, a value aggregated
/// over fired windows.
#[test]
fn chained_correlations_that_cannot_compile_are_located_errors() {
    let run = stetho(&["compile", "--no-config", "tests/kql/invalid"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    for expected in [
        "tests/kql/invalid/chained_group_not_carried.yml:31:1: rule `2c4e6a8b-1d3f-4a5b-9c7d-0e1f2a3b4c53`: group-by `AccountName` reads `AccountName` from correlation `discovery_burst`, which does not group by it (its windows carry `DeviceName`)",
        "tests/kql/invalid/chained_value_over_correlation.yml:31:1: rule `7a9c1e3f-5b7d-4e9f-8a1c-3e5f7a9c1e63`: `value_count` over correlation `discovery_burst_on_host`: its fired windows have no `DeviceName` values to aggregate",
    ] {
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
}

/// The Defender mappings of Security-log events (by EventID) and of values
/// inside AdditionalFields: the project's hits are what its snapshots say
/// (scripts/kql-replay/run.py compares the compiled KQL with them), and
/// its queries parse for both pipelines where the log source exists.
#[test]
fn defender_security_and_additional_fields_queries_parse() {
    let project = root().join("tests/kql/defender_sources");
    let test = stetho_in(&project, &["test"]);
    assert_eq!(test.code, 0, "{}", test.stdout);
    let dir = tempfile::tempdir().expect("temp dir");
    for (pipeline, compiled_count) in [("defender_xdr", 3), ("sentinel", 2)] {
        let run = stetho_in(
            &project,
            &["compile", "--pipeline", pipeline, "--format", "jsonl"],
        );
        let compiled: Vec<serde_json::Value> = records(&run.stdout)
            .into_iter()
            .filter(|r| r["output"].is_string())
            .collect();
        assert_eq!(compiled.len(), compiled_count, "{pipeline}: {}", run.stdout);
        let Some(checker) = kql_check() else { continue };
        let (code, out) = parse_all(&checker, &schema_for(pipeline, dir.path()), &run.stdout);
        assert_eq!(code, 0, "{pipeline}: {out}");
    }
}

/// `exists` on a dynamic column reads an empty value as no value, as
/// replay does (the hits are compared by scripts/kql-replay/run.py), and
/// the query binds against Sentinel's schema.
#[test]
fn exists_on_a_dynamic_column_compiles_to_queries_that_parse() {
    let project = root().join("tests/kql/dynamic_columns");
    let test = stetho_in(&project, &["test"]);
    assert_eq!(test.code, 0, "{}", test.stdout);
    let text = stetho_in(&project, &["compile", "--pipeline", "sentinel"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    insta::assert_snapshot!("dynamic_columns_sentinel", text.stdout);
    let run = stetho_in(
        &project,
        &["compile", "--pipeline", "sentinel", "--format", "jsonl"],
    );
    assert_eq!(records(&run.stdout).len(), 2, "{}", run.stdout);
    let Some(checker) = kql_check() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out) = parse_all(&checker, &schema_for("sentinel", dir.path()), &run.stdout);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");
}

/// A correlation's entity mappings follow its group-by fields to the
/// columns they read, aliases and counted correlations included.
#[test]
fn chained_correlations_map_entities_through_aliases() {
    let project = root().join("tests/kql/chained");
    let run = stetho_in(
        &project,
        &["compile", "--target", "sentinel", "--pipeline", "sentinel"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("chained_sentinel_rules", run.stdout);
    let alias_rule = run
        .stdout
        .split("\nid: ")
        .find(|rule| rule.contains("Account Discovery Burst Then Shadow Copy Deletion"))
        .expect("the temporal_ordered rule");
    assert!(
        alias_rule.contains(
            "entityMappings:\n  - entityType: Host\n    fieldMappings:\n      - identifier: FullName\n        columnName: host\n"
        ),
        "{alias_rule}"
    );
}

/// `--watchlists`: each `%name%` list is read from the Sentinel watchlist
/// `name`, no value of the list is written into the query, and the
/// queries bind against Sentinel's schema (which declares `_GetWatchlist`).
/// scripts/kql-replay/run.py --watchlists replays them with each
/// watchlist holding its list's entries.
#[test]
fn watchlists_are_read_in_place_of_list_values() {
    let project = root().join("tests/kql/watchlists");
    let test = stetho_in(&project, &["test"]);
    assert_eq!(test.code, 0, "{}", test.stdout);
    let args = ["compile", "--pipeline", "sentinel", "--watchlists"];
    let text = stetho_in(&project, &args);
    assert_eq!(text.code, 0, "{}", text.stderr);
    insta::assert_snapshot!("watchlists_sentinel", text.stdout);
    for entry in ["alice@example.org", "10.0.0.5", "Pilot Portal", "1500"] {
        assert!(!text.stdout.contains(entry), "{entry}: {}", text.stdout);
    }
    // One read per list and field, however many entries the list has.
    assert_eq!(text.stdout.matches("_GetWatchlist(").count(), 8);
    let run = stetho_in(&project, &[&args[..], &["--format", "jsonl"]].concat());
    let compiled = records(&run.stdout);
    assert_eq!(compiled.len(), 6, "{}", run.stdout);
    // The Sentinel rule artifacts carry the same queries.
    let rules = stetho_in(&project, &[&args[..], &["--target", "sentinel"]].concat());
    assert_eq!(rules.code, 0, "{}", rules.stderr);
    // Each rule's query is in its YAML rule and in its ARM template.
    assert_eq!(rules.stdout.matches("_GetWatchlist(").count(), 16);
    let Some(checker) = kql_check() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out) = parse_all(&checker, &schema_for("sentinel", dir.path()), &run.stdout);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("6 passed, 0 failed"), "{out}");
}

/// A list that a watchlist cannot stand in for (a modifier that rewrites
/// each entry, text around the placeholder, a wildcard entry, a dynamic
/// column) is a located error under `--watchlists`, never a query that
/// tests something else; the same rules compile to list values without it.
#[test]
fn watchlists_refuse_what_a_watchlist_cannot_stand_for() {
    let project = root().join("tests/kql/watchlists");
    let args = ["compile", "--pipeline", "sentinel", "refused"];
    let refused = stetho_in(&project, &[&args[..], &["--watchlists"]].concat());
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    insta::assert_snapshot!("watchlists_refused", refused.stderr);
    let values = stetho_in(&project, &args);
    assert_eq!(values.code, 0, "{}", values.stderr);
}

/// The library under `--watchlists`: every rule either reads its lists
/// from watchlists or is refused for a construct the README names, and
/// every query binds against Sentinel's schema.
#[test]
fn the_library_compiles_with_watchlists() {
    let run = stetho(&[
        "compile",
        "--pipeline",
        "sentinel",
        "--watchlists",
        "--format",
        "jsonl",
    ]);
    let compiled = records(&run.stdout);
    assert_eq!(compiled.len(), 41, "{}", run.stdout);
    for record in &compiled {
        if let Some(error) = record["error"].as_str() {
            assert!(
                error.contains("cannot be read from the Sentinel watchlist"),
                "{record}"
            );
        }
    }
    let reading = compiled
        .iter()
        .filter(|r| {
            r["output"]
                .as_str()
                .is_some_and(|q| q.contains("_GetWatchlist("))
        })
        .count();
    assert!(reading >= 7, "{reading} queries read a watchlist");
    let Some(checker) = kql_check() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out) = parse_all(&checker, &schema_for("sentinel", dir.path()), &run.stdout);
    assert_eq!(code, 0, "{out}");
}

/// Defender XDR advanced hunting has no watchlists and standard Sigma keeps
/// its placeholders: `--watchlists` there is a usage error.
#[test]
fn watchlists_outside_sentinel_are_a_usage_error() {
    for extra in [
        &[][..],
        &["--target", "defender", "--pipeline", "sentinel"][..],
        &["--target", "sigma"][..],
        &["--target", "sentinel", "--pipeline", "defender_xdr"][..],
    ] {
        let run = stetho(&[&["compile", "--watchlists"][..], extra].concat());
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("--watchlists applies to Sentinel queries"),
            "{extra:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{extra:?}: {}", run.stdout);
    }
}

/// `stetho build --watchlists` reads watchlists in the Sentinel artifacts
/// only, and writes each watchlist they read as an ARM template holding
/// its list's entries.
#[test]
fn build_reads_watchlists_in_sentinel_artifacts() {
    let project = root().join("tests/kql/watchlists");
    let out = tempfile::tempdir().expect("temp dir");
    let dist = out.path().join("dist");
    let dist_arg = dist.to_str().expect("utf-8");
    let run = stetho_in(&project, &["build", "--watchlists", "--out", dist_arg]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let read = |folder: &str| -> Vec<String> {
        std::fs::read_dir(dist.join(folder))
            .expect("artifact folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .map(|p| std::fs::read_to_string(p).expect("read"))
            .collect()
    };
    for folder in ["kql/sentinel", "sentinel"] {
        let texts = read(folder);
        assert!(!texts.is_empty(), "{folder}");
        assert!(
            texts.iter().all(|t| t.contains("_GetWatchlist(")),
            "{folder}"
        );
    }
    // Standard Sigma keeps its placeholders.
    assert!(read("sigma").iter().all(|t| t.contains("|expand")));
    // One template per list a deployed rule reads, listed in index.json.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dist.join("index.json")).expect("index"))
            .expect("json");
    let listed: Vec<&str> = index["watchlists"]
        .as_array()
        .expect("watchlists")
        .iter()
        .map(|w| w["watchlist"].as_str().expect("name"))
        .collect();
    assert_eq!(
        listed,
        ["jump_hosts", "pilot_apps", "slow_durations", "vip_users"]
    );
    let template = |name: &str| {
        std::fs::read_to_string(dist.join(format!("sentinel/watchlists/{name}.arm.json")))
            .expect("watchlist template")
    };
    insta::assert_snapshot!("watchlist_arm", template("vip_users"));
    // Each CSV holds exactly its list's entries under the search key.
    for name in listed {
        let template: serde_json::Value = serde_json::from_str(&template(name)).expect("json");
        let properties = &template["resources"][0]["properties"];
        assert_eq!(properties["itemsSearchKey"], "SearchKey");
        let csv = properties["rawContent"].as_str().expect("csv");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(header, ["SearchKey"]);
        let rows: Vec<String> = reader
            .records()
            .map(|r| r.expect("row")[0].to_string())
            .collect();
        let list =
            std::fs::read_to_string(project.join(format!("lists/{name}.txt"))).expect("list");
        let entries: Vec<&str> = list
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(rows, entries, "{name}");
    }
}

/// How often a deployed rule runs: the rule's own `schedule:`, else
/// `--frequency`, else `[deploy] frequency` in stetho.toml, else 1h; how
/// far back a Sentinel rule looks: `schedule.period`, else the frequency.
#[test]
fn deployed_rules_run_on_the_rule_or_project_schedule() {
    let dir = project_copy();
    let path = "detections/ransomware/volume_shadow_copy_deletion.yml";
    let rule = dir.path().join(path);
    let other = "detections/ransomware/backup_deletion_or_boot_recovery_disabled.yml";
    assert!(dir.path().join(other).exists(), "{other}");
    let yaml = std::fs::read_to_string(&rule).expect("read");
    let scheduled = yaml.replacen(
        "\nhealthcare:\n",
        "\nschedule:\n    frequency: 3h\n    period: 2d\nhealthcare:\n",
        1,
    );
    assert_ne!(scheduled, yaml);
    std::fs::write(&rule, scheduled).expect("write");
    let config = dir.path().join("stetho.toml");
    let toml = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, format!("{toml}\n[deploy]\nfrequency = \"12h\"\n")).expect("write");

    let frequency = |target: &str, file: &str, extra: &[&str]| -> (String, String) {
        let pipeline = if target == "sentinel" {
            "sentinel"
        } else {
            "defender_xdr"
        };
        let args = [
            &[
                "compile",
                "--target",
                target,
                "--pipeline",
                pipeline,
                "--format",
                "jsonl",
            ][..],
            extra,
            &[file][..],
        ]
        .concat();
        let run = stetho_in(dir.path(), &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let output = records(&run.stdout)[0]["output"]
            .as_str()
            .expect("output")
            .to_string();
        if target == "defender" {
            let rule: serde_json::Value = serde_json::from_str(&output).expect("json");
            (
                rule["schedule"]["period"]
                    .as_str()
                    .expect("period")
                    .to_string(),
                String::new(),
            )
        } else {
            let line = |key: &str| {
                output
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .expect("key")
                    .trim()
                    .to_string()
            };
            (line("queryFrequency:"), line("queryPeriod:"))
        }
    };
    // The rule's own schedule wins over the flag and the project.
    assert_eq!(frequency("defender", path, &[]).0, "3H");
    assert_eq!(frequency("defender", path, &["--frequency", "24h"]).0, "3H");
    assert_eq!(
        frequency("sentinel", path, &[]),
        ("3h".to_string(), "48h".to_string())
    );
    // Another rule runs on the project's default, or on the flag's.
    assert_eq!(frequency("defender", other, &[]).0, "12H");
    assert_eq!(frequency("defender", other, &["--frequency", "1h"]).0, "1H");
    assert_eq!(
        frequency("sentinel", other, &[]),
        ("12h".to_string(), "12h".to_string())
    );
    // The Sigma export leaves the schedule out, as it does the tests.
    let sigma = stetho_in(dir.path(), &["compile", "--target", "sigma", path]);
    assert_eq!(sigma.code, 0, "{}", sigma.stderr);
    assert!(!sigma.stdout.contains("schedule"), "{}", sigma.stdout);

    // A period shorter than the frequency: located at the period, by
    // validate (STH126) and by compile alike.
    let short =
        std::fs::read_to_string(&rule)
            .expect("read")
            .replacen("period: 2d", "period: 2h", 1);
    std::fs::write(&rule, &short).expect("write");
    let line = short
        .lines()
        .position(|l| l.contains("period: 2h"))
        .expect("line")
        + 1;
    let validate = stetho_in(dir.path(), &["validate", path]);
    assert_eq!(validate.code, 1, "{}", validate.stdout);
    assert!(validate.stdout.contains("STH126"), "{}", validate.stdout);
    let compile = stetho_in(dir.path(), &["compile", "--target", "sentinel", path]);
    assert_eq!(compile.code, 1, "{}", compile.stderr);
    assert!(
        compile.stderr.contains(&format!(
            "volume_shadow_copy_deletion.yml:{line}:13: rule `"
        )),
        "{}",
        compile.stderr
    );
    assert!(
        compile.stderr.contains("shorter than the frequency (3h)"),
        "{}",
        compile.stderr
    );

    // A project default Defender cannot run is a configuration error.
    std::fs::write(&config, format!("{toml}\n[deploy]\nfrequency = \"2h\"\n")).expect("write");
    let bad = stetho_in(dir.path(), &["compile", "--target", "defender", other]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("stetho.toml: [deploy] frequency `2h`"),
        "{}",
        bad.stderr
    );
}
