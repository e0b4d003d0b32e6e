//! The semantic suite: `tests/engine/*.yml`, one file per modifier,
//! condition form or semantic rule, each a rule (or rules) plus cases.
//! Every case runs through the real loader, lowering and evaluator.

use std::path::Path;

use serde_json::Value;

use super::Engine;
use super::correlate::{Correlator, EventRef};
use crate::load::parse_source;
use crate::logic::{Body, Lists, lower_rules};
use crate::model::Rule;
use crate::source::SourceFile;
use crate::source::yaml::{self, Node};

struct Suite {
    rules: Vec<Rule>,
    cases: Node,
    lists: Lists,
}

fn load_suite(path: &Path) -> Suite {
    let text = std::fs::read_to_string(path).expect("read suite");
    let file = SourceFile::new(path, path.display().to_string(), text.clone());
    let loaded = yaml::load(&text);
    assert!(
        loaded.errors.is_empty(),
        "{}: {:?}",
        path.display(),
        loaded.errors
    );
    let (rules, _) = parse_source(&file);
    let cases_doc = loaded
        .documents
        .iter()
        .find(|d| d.get("cases").is_some())
        .unwrap_or_else(|| panic!("{}: no cases document", path.display()))
        .clone();
    let lists = cases_doc
        .get("lists")
        .and_then(Node::as_map)
        .map(|entries| {
            let owned: Vec<(String, Vec<String>)> = entries
                .iter()
                .map(|e| {
                    let values = e
                        .value
                        .string_list()
                        .into_iter()
                        .map(|(v, _)| v.to_string())
                        .collect();
                    (e.key_str().to_string(), values)
                })
                .collect();
            let borrowed: Vec<(&str, Vec<&str>)> = owned
                .iter()
                .map(|(n, v)| (n.as_str(), v.iter().map(String::as_str).collect()))
                .collect();
            let pairs: Vec<(&str, &[&str])> =
                borrowed.iter().map(|(n, v)| (*n, v.as_slice())).collect();
            Lists::from_pairs(&pairs)
        })
        .unwrap_or_default();
    Suite {
        rules,
        cases: cases_doc.get("cases").cloned().expect("cases"),
        lists,
    }
}

fn run_suite(path: &Path) -> Vec<String> {
    let suite = load_suite(path);
    let (logic, errors) = lower_rules(&suite.rules, &suite.lists);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    if !errors.is_empty() {
        return vec![format!(
            "{name}: lowering failed: {:?}",
            errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>()
        )];
    }
    let engine = Engine::new(&logic).expect("compile");
    let mut failures = Vec::new();
    for (i, case) in suite.cases.as_seq().unwrap_or(&[]).iter().enumerate() {
        let why = case.get("why").and_then(Node::as_str).unwrap_or("");
        let wanted_rule = case.get("rule").and_then(Node::as_str);
        let pick = |want_correlation: bool| {
            logic.iter().position(|l| match wanted_rule {
                Some(id) => l.id.as_deref() == Some(id) || l.name.as_deref() == Some(id),
                None => !l.hidden && matches!(l.body, Body::Correlation(_)) == want_correlation,
            })
        };
        if let Some(events) = case.get("events").and_then(Node::as_seq) {
            let Some(target) = pick(true) else {
                failures.push(format!("{name} #{i} ({why}): no correlation rule"));
                continue;
            };
            let mut correlator =
                Correlator::new(&logic, vec!["Timestamp".into(), "TimeGenerated".into()]);
            let mut matched = Vec::new();
            for (index, node) in events.iter().enumerate() {
                let event: Value = node.to_json();
                engine.matching(&event, &mut matched);
                for &r in &matched {
                    correlator.observe(
                        r,
                        &event,
                        EventRef {
                            input: 0,
                            line: index + 1,
                            index,
                        },
                    );
                }
            }
            let got: Vec<usize> = correlator
                .finish()
                .into_iter()
                .filter(|h| h.rule == target)
                .map(|h| h.event.index)
                .collect();
            let want: Vec<usize> = case
                .get("hits")
                .and_then(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter_map(|n| n.as_str().and_then(|t| t.parse().ok()))
                .collect();
            if got != want {
                failures.push(format!(
                    "{name} #{i} ({why}): hits {got:?}, expected {want:?}"
                ));
            }
        } else {
            let Some(target) = pick(false) else {
                failures.push(format!("{name} #{i} ({why}): no detection rule"));
                continue;
            };
            let event: Value = case.get("event").map(Node::to_json).unwrap_or(Value::Null);
            let want = case.get("match").and_then(Node::as_str) == Some("true");
            let mut matched = Vec::new();
            engine.matching(&event, &mut matched);
            let got = matched.contains(&target);
            if got != want {
                failures.push(format!(
                    "{name} #{i} ({why}): matched={got}, expected {want}; event {event}"
                ));
            }
            // Replay parses the event's text and scans fields as it reads
            // them; that path must reach exactly the same rules.
            if event.is_object() {
                let text = serde_json::to_vec(&event).expect("serialises");
                let replayed = crate::replay::LineMatcher::new(&logic)
                    .map_err(|e| e.to_string())
                    .and_then(|mut m| m.matching(&text));
                match replayed {
                    Ok(replayed) if replayed == matched => {}
                    other => failures.push(format!(
                        "{name} #{i} ({why}): replay path gives {other:?}, evaluator {matched:?}"
                    )),
                }
            }
        }
    }
    failures
}

#[test]
fn semantic_suite() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    assert!(!paths.is_empty(), "no suite files in tests/engine");
    let failures: Vec<String> = paths.iter().flat_map(|p| run_suite(p)).collect();
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Rules with identical logic are evaluated once but each reports its own
/// hit, in rule order, interleaved with the other rules.
#[test]
fn identical_logic_hits_every_copy_in_rule_order() {
    use crate::logic::{Expr, Pattern, Pred, Test};
    let contains = |field: &str, needle: &str| {
        Some(Expr::Pred(Pred {
            field: Some(field.to_string()),
            test: Test::Str {
                pattern: Pattern::Contains(needle.to_string()),
                cased: false,
            },
            list: None,
        }))
    };
    let exprs = vec![
        contains("CommandLine", "whoami"),
        contains("Image", "cmd.exe"),
        None,
        contains("CommandLine", "whoami"),
        contains("Image", "cmd.exe"),
        contains("CommandLine", "whoami"),
    ];
    let set = super::RuleSet::new(&exprs).expect("compiles");
    let mut scratch = set.scratch();
    let mut out = Vec::new();
    let event = serde_json::json!({"CommandLine": "x WHOAMI", "Image": "C:\\cmd.exe"});
    set.matching(&event, &mut scratch, &mut out);
    assert_eq!(out, vec![0, 1, 3, 4, 5]);
    let event = serde_json::json!({"CommandLine": "whoami", "Image": "sh"});
    set.matching(&event, &mut scratch, &mut out);
    assert_eq!(out, vec![0, 3, 5]);
}

/// Lowering checks a `re` value with [`super::check_regex_test`]; it must
/// accept exactly what the matcher compiles.
#[test]
fn the_regex_check_agrees_with_the_matcher() {
    let nested = format!("{}a{}", "(".repeat(150), ")".repeat(150));
    let cases = [
        ("\\s-k\\s\\w+", false),
        ("(?i)powershell.*-enc", false),
        ("^C:\\\\Users\\\\[^\\\\]+\\\\AppData$", false),
        ("a[b", false),
        ("a(?=b)", false),
        ("(a)\\1", false),
        ("\\w{1,1000}\\w{1,1000}", false),
        ("\\w{1,100}", true),
        (nested.as_str(), false),
        ("x{2,1}", false),
    ];
    for (pattern, ignore_case) in cases {
        for multi_line in [false, true] {
            let test = crate::logic::Test::Regex {
                pattern: pattern.to_string(),
                ignore_case,
                multi_line,
                dot_all: false,
            };
            assert_eq!(
                super::check_regex_test(&test).is_ok(),
                super::compile_regex_test(&test).is_ok(),
                "{pattern:?} (multi-line {multi_line})"
            );
        }
    }
}
