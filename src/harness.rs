//! The rule test harness behind `stetho test`: each rule's `tests:` cases
//! replayed against their fixtures, with the expectations checked.
//!
//! Every fixture is replayed once, against the whole rule set, and every
//! case is judged from those hits, so a run costs one pass over the
//! fixtures however many rules name them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::logic::RuleLogic;
use crate::model::Rule;
use crate::pipeline::Pipelines;
use crate::replay::{self, Options, ReplayError};
use crate::source::yaml::Node;

/// What a case expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Match,
    NoMatch,
    Hits(usize),
}

/// One `tests:` entry of a rule.
#[derive(Clone, Debug)]
pub struct Case {
    pub fixture: String,
    pub expect: Expect,
    /// 1-based lines that must be among the hits.
    pub lines: Vec<usize>,
}

/// The verdict on one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: Case,
    /// Hit lines (or event positions + 1 where the fixture has no lines).
    pub hits: Vec<usize>,
    pub failure: Option<String>,
}

/// All cases of one rule.
#[derive(Clone, Debug)]
pub struct RuleResult {
    pub rule: usize,
    pub cases: Vec<CaseResult>,
    /// Problems with the rule's tests as a whole (no positive case).
    pub problems: Vec<String>,
}

impl RuleResult {
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.cases.iter().all(|c| c.failure.is_none())
    }
}

/// Read the `tests:` list of a rule document.
pub fn cases_of(rule: &Rule) -> Vec<Case> {
    let Some(list) = rule.root.get("tests").and_then(Node::as_seq) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|node| {
            let fixture = node.get("fixture")?.as_str()?.to_string();
            let expect = match (
                node.get("expect").and_then(Node::as_str),
                node.get("hits").and_then(Node::as_str),
            ) {
                (_, Some(n)) => Expect::Hits(n.parse().ok()?),
                (Some("no-match"), _) => Expect::NoMatch,
                _ => Expect::Match,
            };
            let lines = node
                .get("lines")
                .map(|l| {
                    l.string_list()
                        .into_iter()
                        .filter_map(|(t, _)| t.parse().ok())
                        .collect()
                })
                .unwrap_or_default();
            Some(Case {
                fixture,
                expect,
                lines,
            })
        })
        .collect()
}

/// Run every case of every rule. `cases[i]` are the cases of `rules[i]`.
pub fn run(
    rules: &[RuleLogic],
    cases: &[Vec<Case>],
    fixtures_dir: &Path,
    pipelines: &Pipelines,
    require_positive: bool,
) -> Result<Vec<RuleResult>, ReplayError> {
    // Each fixture once, in a stable order.
    let fixtures: BTreeSet<&str> = cases.iter().flatten().map(|c| c.fixture.as_str()).collect();
    let mut hits: BTreeMap<&str, Result<BTreeMap<usize, Vec<usize>>, String>> = BTreeMap::new();
    for fixture in fixtures {
        let path: PathBuf = fixtures_dir.join(fixture);
        if !path.is_file() {
            hits.insert(
                fixture,
                Err(format!(
                    "fixture {} does not exist",
                    crate::source::display_path(&path)
                )),
            );
            continue;
        }
        let identifiers =
            crate::fixture::real_looking_nhs_numbers(&path).map_err(|source| ReplayError::Io {
                path: crate::source::display_path(&path),
                source,
            })?;
        if let Some(first) = identifiers.first() {
            hits.insert(
                fixture,
                Err(format!(
                    "refused: line {} holds a checksum-valid NHS number outside the 999 test range ({}); use synthetic 999-range numbers",
                    first.line, first.masked
                )),
            );
            continue;
        }
        let options = Options {
            schema: None,
            timestamp_field: None,
            keep_events: false,
            progress: None,
        };
        let mut per_rule: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let (_, correlations) = replay::replay(rules, pipelines, &[path], &options, &mut |hit| {
            per_rule
                .entry(hit.rule)
                .or_default()
                .push(hit.line.unwrap_or(hit.at.index + 1));
        })?;
        for hit in correlations {
            let line = if hit.event.line > 0 {
                hit.event.line
            } else {
                hit.event.index + 1
            };
            per_rule.entry(hit.rule).or_default().push(line);
        }
        hits.insert(fixture, Ok(per_rule));
    }
    let mut results = Vec::new();
    for (rule, rule_cases) in cases.iter().enumerate() {
        if rule_cases.is_empty() && (rules[rule].hidden || !require_positive) {
            continue;
        }
        let mut case_results = Vec::new();
        for case in rule_cases {
            let (found, failure) = match hits.get(case.fixture.as_str()) {
                Some(Ok(per_rule)) => {
                    let found = per_rule.get(&rule).cloned().unwrap_or_default();
                    let failure = judge(case, &found);
                    (found, failure)
                }
                Some(Err(message)) => (Vec::new(), Some(message.clone())),
                None => (Vec::new(), Some("fixture not replayed".into())),
            };
            case_results.push(CaseResult {
                case: case.clone(),
                hits: found,
                failure,
            });
        }
        let mut problems = Vec::new();
        let positive = rule_cases
            .iter()
            .any(|c| matches!(c.expect, Expect::Match | Expect::Hits(1..)));
        if require_positive && !positive {
            problems.push("no positive test: add a `tests:` case that must match".to_string());
        }
        results.push(RuleResult {
            rule,
            cases: case_results,
            problems,
        });
    }
    Ok(results)
}

fn judge(case: &Case, found: &[usize]) -> Option<String> {
    let verdict = match case.expect {
        Expect::Match if found.is_empty() => Some("expected a match, got none".to_string()),
        Expect::NoMatch if !found.is_empty() => Some(format!(
            "expected no match, got {} (lines {})",
            found.len(),
            join(found)
        )),
        Expect::Hits(n) if found.len() != n => Some(format!(
            "expected {n} hits, got {} (lines {})",
            found.len(),
            join(found)
        )),
        _ => None,
    };
    if verdict.is_some() {
        return verdict;
    }
    let missing: Vec<usize> = case
        .lines
        .iter()
        .copied()
        .filter(|l| !found.contains(l))
        .collect();
    (!missing.is_empty()).then(|| format!("lines {} did not hit", join(&missing)))
}

fn join(lines: &[usize]) -> String {
    if lines.is_empty() {
        return "none".into();
    }
    lines
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
