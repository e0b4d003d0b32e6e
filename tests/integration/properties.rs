//! Property tests (proptest) against the real tools: generated values go
//! through stetho and then through Microsoft's Kusto parser, one question
//! at a time to a single long-lived parser process, so proptest can shrink
//! a failure to its smallest string.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use proptest::prelude::*;

use crate::common::root;

/// One `kql-check.js --serve --literals` process shared by the cases.
struct KustoOracle {
    _child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl KustoOracle {
    /// None when the parser is not installed (and the test command does
    /// not require it).
    fn shared() -> Option<&'static Mutex<KustoOracle>> {
        static ORACLE: OnceLock<Option<Mutex<KustoOracle>>> = OnceLock::new();
        ORACLE
            .get_or_init(|| {
                let package = root().join("conformance/node_modules/@kusto/language-service-next");
                if !package.exists() {
                    assert!(
                        std::env::var_os("STETHO_REQUIRE_CONFORMANCE").is_none(),
                        "conformance tools are required but @kusto/language-service-next is missing"
                    );
                    eprintln!("note: Kusto parser not installed; run scripts/test.sh");
                    return None;
                }
                let mut child = Command::new("node")
                    .arg(root().join("conformance/kql-check.js"))
                    .args(["--no-schema", "--literals", "--serve"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("node runs");
                let input = child.stdin.take().expect("stdin");
                let output = BufReader::new(child.stdout.take().expect("stdout"));
                Some(Mutex::new(KustoOracle {
                    _child: child,
                    input,
                    output,
                }))
            })
            .as_ref()
    }

    /// The parser's answer for `print v = <literal>`: whether it parsed
    /// without errors to exactly `expected`, and what it decoded.
    fn check(&mut self, literal: &str, expected: &str) -> serde_json::Value {
        let question = serde_json::json!({"id": 0, "literal": literal, "expected": expected});
        writeln!(self.input, "{question}").expect("ask the parser");
        self.input.flush().expect("flush");
        let mut answer = String::new();
        self.output.read_line(&mut answer).expect("parser answers");
        serde_json::from_str(&answer).expect("JSON answer")
    }
}

/// Characters that could end a literal, escape, or change a query.
const HOSTILE: &str = "[a'\"\\\\\n\r\t*?@`{}()\\[\\];|/ \u{0}-\u{1f}\u{7f}\u{85}\u{a0}\u{e9}\u{2028}\u{2029}\u{feff}\u{1f600}]{0,24}";

fn literal_round_trips(value: &str) -> Result<(), TestCaseError> {
    let Some(oracle) = KustoOracle::shared() else {
        return Ok(());
    };
    let literal = stetho::backend::kql::literal(value);
    let answer = oracle
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .check(&literal, value);
    prop_assert!(
        answer["ok"] == true,
        "{value:?} was written as {literal} and the parser answered {answer}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any string a rule can hold (any Unicode scalar, control characters
    /// included) becomes a KQL literal that Microsoft's parser decodes to
    /// exactly that string, without a diagnostic.
    #[test]
    fn any_string_is_one_kql_literal_of_itself(value in any::<String>()) {
        literal_round_trips(&value)?;
    }

    /// The same, concentrated on the characters that break naive quoting.
    #[test]
    fn hostile_strings_are_one_kql_literal_of_themselves(value in HOSTILE) {
        literal_round_trips(&value)?;
    }
}

/// A modifier chain and a generator of values it accepts.
fn modified_value() -> impl Strategy<Value = (String, String)> {
    let text = || HOSTILE.prop_filter("a value", |v| !v.is_empty());
    let quoted = |v: String| serde_json::to_string(&v).expect("JSON string");
    prop_oneof![
        (
            prop::sample::select(vec![
                "",
                "|contains",
                "|startswith",
                "|endswith",
                "|contains|all",
                "|cased",
                "|contains|cased",
                "|windash|contains",
                "|base64",
                "|base64offset|contains",
                "|utf16le|base64offset|contains",
                "|wide|base64offset|contains",
                "|neq",
            ]),
            text()
        )
            .prop_map(move |(m, v)| (m.to_string(), quoted(v))),
        text().prop_map(move |v| ("|re".to_string(), quoted(regex::escape(&v)))),
        text().prop_map(move |v| (
            "|re|i".to_string(),
            quoted(format!("^{}", regex::escape(&v)))
        )),
        (any::<[u8; 4]>(), 0u8..=32).prop_map(|(ip, bits)| (
            "|cidr".to_string(),
            format!("'{}/{bits}'", std::net::Ipv4Addr::from(ip))
        )),
        (
            any::<i32>(),
            prop::sample::select(vec!["|gt", "|gte", "|lt", "|lte"])
        )
            .prop_map(|(n, m)| (m.to_string(), n.to_string())),
        any::<bool>().prop_map(|b| ("|exists".to_string(), b.to_string())),
    ]
}

/// A rule of two or three selections over a few fields and a condition
/// combining them, written as YAML (values as JSON strings, which YAML
/// reads as double-quoted scalars).
fn sigma_rule() -> impl Strategy<Value = String> {
    let item = (
        prop::sample::select(vec![
            "CommandLine",
            "Image",
            "User",
            "DestinationIp",
            "EventID",
        ]),
        modified_value(),
    );
    let selection = prop::collection::vec(item, 1..4);
    (
        prop::collection::vec(selection, 2..4),
        prop::sample::select(vec![
            "sel0",
            "sel0 and not sel1",
            "sel0 or sel1",
            "1 of sel*",
            "all of them",
            "not 1 of them",
            "(sel0 or sel1) and not sel1",
        ]),
    )
        .prop_map(|(selections, condition)| {
            let mut yaml = String::from(
                "title: Generated\nid: 4a4d2c3e-0000-4000-8000-000000000001\n\
                 logsource: {product: windows, category: process_creation}\ndetection:\n",
            );
            for (n, items) in selections.iter().enumerate() {
                yaml.push_str(&format!("    sel{n}:\n"));
                let mut seen = std::collections::BTreeSet::new();
                for (field, (modifiers, value)) in items {
                    // One key per field and chain: duplicate keys are
                    // errors. Spellings of one chain (`utf16le` and `wide`)
                    // may meet; the export splits them apart.
                    if seen.insert((field, modifiers.clone())) {
                        yaml.push_str(&format!("        {field}{modifiers}: {value}\n"));
                    }
                }
            }
            yaml.push_str(&format!("    condition: {condition}\n"));
            yaml
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any rule built from the modifiers standard Sigma has, exported with
    /// `compile --target sigma` and read back, lowers to the same logic.
    #[test]
    fn sigma_export_then_import_keeps_the_logic(rule in sigma_rule()) {
        use stetho::logic::Lists;
        let source = tempfile::tempdir().expect("temp dir");
        let path = source.path().join("generated.yml");
        std::fs::write(&path, &rule).expect("write");
        let original = crate::sigma_export::by_key(&crate::sigma_export::lowered(
            std::slice::from_ref(&path),
            &Lists::default(),
            false,
        ));
        // Values that do not form a valid rule (an empty regex after all,
        // say) are the validator's business, not the exporter's.
        prop_assume!(!original.is_empty());
        let (dir, run) = crate::sigma_export::export(&[
            "--no-config",
            path.to_str().expect("utf-8"),
        ]);
        prop_assert_eq!(run.code, 0, "{}\n{}", rule, run.stderr);
        let files = crate::sigma_export::yml_files(dir.path());
        let exported = crate::sigma_export::by_key(&crate::sigma_export::lowered(
            &files,
            &Lists::default(),
            true,
        ));
        prop_assert_eq!(original, exported, "{}", rule);
    }
}

/// duckdb-kql is installed by the test command (scripts/kql-replay/ keeps
/// its own virtualenv); without `STETHO_REQUIRE_CONFORMANCE` a missing
/// Python is a note, not a failure.
fn kql_replay_available() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("STETHO_REQUIRE_CONFORMANCE").is_none(),
            "python3 is required for the duckdb-kql property test"
        );
    }
    ok
}

/// A short ASCII-and-accent value with the characters that matter to
/// matching: wildcards, escapes, quotes, path separators, case.
const MATCHABLE: &str = "[abAB\\\\/ .*?'\"\u{e9}\u{c9}-]{1,5}";

/// Event values derived from a rule value, so that generated events hit
/// and miss in interesting ways: the value itself, its other case, inside
/// a longer string, at either end, with a character changed, or unrelated.
fn event_value(value: String) -> impl Strategy<Value = String> {
    let unquoted = value.trim_matches(['*', '?']).replace(['*', '?'], "");
    prop_oneof![
        Just(value.clone()),
        Just(value.to_uppercase()),
        Just(value.to_lowercase()),
        Just(format!("x{unquoted}y")),
        Just(format!("{unquoted}tail")),
        Just(format!("head{unquoted}")),
        Just(unquoted.clone()),
        MATCHABLE.prop_map(|s| s),
    ]
}

/// One process-creation rule (a few predicates over three fields) and
/// events in Defender XDR's DeviceProcessEvents shape built to probe it.
fn rule_and_events() -> impl Strategy<Value = (String, Vec<serde_json::Value>)> {
    let modifier = prop::sample::select(vec![
        "",
        "|contains",
        "|startswith",
        "|endswith",
        "|cased",
        "|contains|cased",
        "|neq",
        "|windash|contains",
    ]);
    let field = prop::sample::select(vec![
        ("CommandLine", "ProcessCommandLine"),
        ("Image", "FolderPath"),
        ("ParentImage", "InitiatingProcessFolderPath"),
    ]);
    let predicate = (field, modifier, MATCHABLE);
    (
        prop::collection::vec(predicate, 1..4),
        prop::sample::select(vec!["sel", "not sel", "1 of sel*"]),
    )
        .prop_flat_map(|(predicates, condition)| {
            let values: Vec<String> = predicates.iter().map(|(_, _, v)| v.clone()).collect();
            let columns: Vec<&'static str> = predicates.iter().map(|((_, c), _, _)| *c).collect();
            let event = values
                .iter()
                .map(|v| event_value(v.clone()))
                .collect::<Vec<_>>()
                .prop_map(move |values| {
                    let mut event = serde_json::json!({
                        "Timestamp": "2026-01-01T00:00:00Z",
                        "ActionType": "ProcessCreated",
                        "DeviceName": "ws01",
                    });
                    for (column, value) in columns.iter().zip(values) {
                        event[*column] = serde_json::Value::String(value);
                    }
                    event
                });
            let mut yaml = String::from(
                "title: Generated\nid: 4a4d2c3e-0000-4000-8000-000000000002\n\
                 logsource: {product: windows, category: process_creation}\ndetection:\n    sel:\n",
            );
            let mut seen = std::collections::BTreeSet::new();
            for ((field, _), modifiers, value) in &predicates {
                if seen.insert((*field, *modifiers)) {
                    let value = serde_json::to_string(value).expect("JSON string");
                    yaml.push_str(&format!("        {field}{modifiers}: {value}\n"));
                }
            }
            yaml.push_str(&format!("    condition: {condition}\n"));
            (Just(yaml), prop::collection::vec(event, 1..12))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// The evaluator and the compiled KQL, run by duckdb-kql, agree on
    /// generated rules and events: `stetho test --accept` records the
    /// evaluator's hits, `scripts/kql-replay/run.py` runs the compiled
    /// query over the same events and requires exactly those hits.
    #[test]
    fn evaluator_and_compiled_kql_agree((rule, events) in rule_and_events()) {
        if !kql_replay_available() {
            return Ok(());
        }
        let project = tempfile::tempdir().expect("temp dir");
        let dir = project.path();
        std::fs::write(
            dir.join("stetho.toml"),
            "[project]\nprofile = \"sigma\"\nrules = [\"rules\"]\nfixtures = \"test-events\"\n",
        )
        .expect("config");
        std::fs::create_dir_all(dir.join("rules")).expect("mkdir");
        std::fs::create_dir_all(dir.join("test-events")).expect("mkdir");
        std::fs::write(dir.join("rules/generated.yml"), &rule).expect("rule");
        let mut fixture = String::from(
            "{\"stetho_fixture\":{\"schema\":\"defender_xdr.DeviceProcessEvents\",\
             \"logsource\":{\"product\":\"windows\",\"category\":\"process_creation\"}}}\n",
        );
        for event in &events {
            fixture.push_str(&format!("{event}\n"));
        }
        std::fs::write(dir.join("test-events/generated.ndjson"), &fixture).expect("fixture");
        let accept = crate::common::stetho_in(dir, &["test", "--accept"]);
        prop_assume!(accept.code == 0 || accept.code == 1);
        let replay = Command::new("python3")
            .arg(root().join("scripts/kql-replay/run.py"))
            .args(["--stetho", env!("CARGO_BIN_EXE_stetho"), "--pipeline", "defender_xdr"])
            .arg("--project")
            .arg(dir)
            .output()
            .expect("kql-replay runs");
        let report = String::from_utf8_lossy(&replay.stdout);
        prop_assert!(
            replay.status.success() && report.contains("kql replay: 1 passed, 0 failed"),
            "rule:\n{rule}\nevents:\n{fixture}\nreport:\n{report}\n{}",
            String::from_utf8_lossy(&replay.stderr)
        );
    }
}
