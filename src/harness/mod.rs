//! The rule test harness behind `stetho test`.
//!
//! Every fixture is replayed once against the whole rule set (fixtures in
//! parallel), and everything is judged from those hits:
//! - each rule's `tests:` cases (and cases kept in fixture headers);
//! - the false-positive sweep: a rule also runs over every fixture of a log
//!   source it applies to, and may not fire on a `benign` one;
//! - the hit snapshot, which records every hit on every fixture, so that a
//!   rule change that gains or loses one is a reviewable diff.
//!
//! Negative cases are then replayed once more, selection by selection, to
//! report how near a miss they are: a negative case that satisfies none of
//! the rule's selections proves nothing and is flagged.

pub mod report;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

pub use crate::fixture::Expect;
use crate::fixture::discover::Fixture;
use crate::logic::{Body, Expr, Lists, RuleLogic};
use crate::model::{LogSource, Rule};
use crate::pipeline::Pipelines;
use crate::replay::{self, Options, Schema};
use crate::source::yaml::Node;
use snapshot::{SnapHit, Snapshot};

/// One test case of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub fixture: String,
    pub expect: Expect,
    /// 1-based lines that must be among the hits.
    pub lines: Vec<usize>,
    /// Kept in the fixture's header rather than the rule.
    pub from_header: bool,
}

/// Read the `tests:` list of a rule document.
pub fn cases_of(rule: &Rule) -> Vec<Case> {
    let Some(list) = rule.root.get("tests").and_then(Node::as_seq) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|node| {
            Some(Case {
                fixture: node.get("fixture")?.as_str()?.to_string(),
                expect: Expect::read(
                    node.get("expect").and_then(Node::as_str),
                    node.get("hits").and_then(Node::as_str),
                )?,
                lines: node
                    .get("lines")
                    .map(|l| {
                        l.string_list()
                            .into_iter()
                            .filter_map(|(t, _)| t.parse().ok())
                            .collect()
                    })
                    .unwrap_or_default(),
                from_header: false,
            })
        })
        .collect()
}

/// What the harness works on.
pub struct Input<'a> {
    pub rules: &'a [RuleLogic],
    /// The document each lowered rule came from (for its selections).
    pub models: Vec<Option<&'a Rule>>,
    pub lists: &'a Lists,
    pub pipelines: &'a Pipelines,
    pub fixtures: &'a [Fixture],
    /// Which rules to report on (all rules are replayed: correlations need
    /// the rules they correlate).
    pub selected: Vec<bool>,
}

/// How to judge.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a> {
    pub fixtures_dir: &'a Path,
    /// The `healthcare` profile: missing positive tests and fixtures of the
    /// wrong log source are errors, not warnings.
    pub strict: bool,
    /// Write new and changed snapshots, remove orphans.
    pub accept: bool,
    /// Every rule of the project is in the run, so snapshots without a
    /// rule are orphans.
    pub whole_project: bool,
}

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem with a rule's tests as a whole.
#[derive(Clone, Debug)]
pub struct Problem {
    pub severity: Severity,
    pub message: String,
}

/// Which selections the events of a negative case satisfied.
#[derive(Clone, Debug, Default)]
pub struct NearMiss {
    /// Selection (or correlated rule) name -> hit lines; only satisfied ones.
    pub satisfied: Vec<(String, Vec<usize>)>,
    /// How many selections (or correlated rules) there are.
    pub of: usize,
}

/// The verdict on one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: Case,
    pub hits: Vec<usize>,
    pub failure: Option<String>,
    pub warning: Option<String>,
    pub near_miss: Option<NearMiss>,
}

/// What happened to a rule's snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotStatus {
    Unchanged,
    /// No snapshot yet and the rule has hits: the text it would have.
    New {
        text: String,
    },
    Changed {
        diff: String,
    },
    /// Unreadable: the error, with its position.
    Corrupt {
        error: String,
    },
}

/// Everything about one rule.
#[derive(Clone, Debug)]
pub struct RuleReport {
    pub rule: usize,
    pub cases: Vec<CaseResult>,
    pub problems: Vec<Problem>,
    /// Hits on benign fixtures its tests do not name: fixture -> lines.
    pub benign_hits: Vec<(String, Vec<usize>)>,
    pub snapshot: SnapshotStatus,
    /// The snapshot was written (`--accept`).
    pub accepted: bool,
    /// Fixtures the rule was replayed on.
    pub fixtures: usize,
    /// Hits over all those fixtures.
    pub hits: usize,
}

impl RuleReport {
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.failure.is_none())
            && self.problems.iter().all(|p| p.severity != Severity::Error)
            && self.benign_hits.is_empty()
            && (self.accepted || self.snapshot == SnapshotStatus::Unchanged)
    }
}

/// A snapshot whose rule is gone.
#[derive(Clone, Debug)]
pub struct Orphan {
    pub path: PathBuf,
    pub removed: bool,
}

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rules: Vec<RuleReport>,
    pub orphans: Vec<Orphan>,
    /// Problems not tied to one rule (header cases naming unknown rules,
    /// snapshots that could not be written).
    pub errors: Vec<String>,
}

/// One hit on a fixture, with what the snapshot shows of it.
#[derive(Clone, Debug)]
struct EventHit {
    line: usize,
    event: Vec<(String, String)>,
}

/// A fixture replayed against every rule.
#[derive(Debug, Default)]
struct FixtureRun {
    hits: BTreeMap<usize, Vec<EventHit>>,
    /// Rules that cannot run on the fixture's schema, with the reason.
    skipped: BTreeMap<usize, String>,
    error: Option<String>,
}

/// Run every check. `progress` advances once per fixture replayed.
pub fn run(
    input: &Input<'_>,
    settings: &Settings<'_>,
    progress: Option<&indicatif::ProgressBar>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let rules = input.rules;
    let by_name: BTreeMap<&str, usize> = input
        .fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let cases = collect_cases(input, &mut outcome.errors);

    let runs: Vec<FixtureRun> = input
        .fixtures
        .par_iter()
        .map(|fixture| {
            let run = replay_fixture(rules, input.pipelines, fixture);
            if let Some(bar) = progress {
                bar.inc(1);
            }
            run
        })
        .collect();
    let logsources: Vec<Option<LogSource>> = input
        .fixtures
        .iter()
        .map(|f| fixture_logsource(f, input.pipelines))
        .collect();

    let snapshot_dir = settings.fixtures_dir.join(snapshot::FOLDER);
    if settings.accept {
        crate::write::sweep_stale_temporaries(&snapshot_dir);
    }
    let mut snapshot_files = BTreeSet::new();
    for (r, rule) in rules.iter().enumerate() {
        if rule.hidden || !input.selected[r] {
            continue;
        }
        let rule_cases = &cases[r];
        let mut report = RuleReport {
            rule: r,
            cases: Vec::new(),
            problems: Vec::new(),
            benign_hits: Vec::new(),
            snapshot: SnapshotStatus::Unchanged,
            accepted: false,
            fixtures: 0,
            hits: 0,
        };
        let severity = if settings.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        for case in rule_cases {
            let result = match by_name.get(case.fixture.as_str()) {
                None => CaseResult {
                    case: case.clone(),
                    hits: Vec::new(),
                    failure: Some(format!(
                        "fixture {} does not exist",
                        crate::source::display_path(&settings.fixtures_dir.join(&case.fixture))
                    )),
                    warning: None,
                    near_miss: None,
                },
                Some(&f) => {
                    if let Some(ls) = &logsources[f]
                        && !applies(rules, r, ls)
                    {
                        report.problems.push(Problem {
                            severity,
                            message: format!(
                                "{} records {}, a log source the rule does not read ({})",
                                case.fixture,
                                ls.describe(),
                                describe_rule_logsource(rules, r)
                            ),
                        });
                    }
                    judge_case(case, &runs[f], r)
                }
            };
            report.cases.push(result);
        }
        // Plain Sigma rules usually come without tests: only say so when
        // the profile requires them or the rule has tests, none positive.
        let untested = rule_cases.is_empty() && !settings.strict;
        if !untested && !rule_cases.iter().any(|c| c.expect.is_positive()) {
            report.problems.push(Problem {
                severity,
                message: "no positive test: add a `tests:` case that must match".into(),
            });
        }
        // The sweep: every fixture the rule applies to, plus those it names.
        let named: BTreeSet<&str> = rule_cases.iter().map(|c| c.fixture.as_str()).collect();
        let mut snapshot = Snapshot {
            rule: rule.key().to_string(),
            title: rule.title.clone(),
            hits: BTreeMap::new(),
        };
        for (f, fixture) in input.fixtures.iter().enumerate() {
            let is_named = named.contains(fixture.name.as_str());
            let compatible = logsources[f]
                .as_ref()
                .is_some_and(|ls| applies(rules, r, ls));
            if !(is_named || compatible) || runs[f].skipped.contains_key(&r) {
                continue;
            }
            report.fixtures += 1;
            let Some(hits) = runs[f].hits.get(&r) else {
                continue;
            };
            report.hits += hits.len();
            if fixture.header.benign && !is_named {
                report
                    .benign_hits
                    .push((fixture.name.clone(), hits.iter().map(|h| h.line).collect()));
            }
            snapshot.hits.insert(
                fixture.name.clone(),
                hits.iter()
                    .map(|h| SnapHit {
                        line: h.line,
                        event: h.event.clone(),
                    })
                    .collect(),
            );
        }
        let file_name = snapshot::file_name(rule.key());
        snapshot_files.insert(file_name.clone());
        let path = snapshot_dir.join(&file_name);
        report.snapshot = compare_snapshot(&path, &snapshot);
        if settings.accept && report.snapshot != SnapshotStatus::Unchanged {
            match write_snapshot(&path, &snapshot) {
                Ok(()) => report.accepted = true,
                Err(e) => outcome.errors.push(format!(
                    "{}: cannot write the snapshot: {e}",
                    crate::source::display_path(&path)
                )),
            }
        }
        outcome.rules.push(report);
    }
    near_misses(input, &mut outcome.rules, &by_name);
    if settings.whole_project {
        outcome.orphans = orphans(
            &snapshot_dir,
            &snapshot_files,
            settings.accept,
            &mut outcome.errors,
        );
    }
    outcome
}

/// Each rule's cases: its own `tests:` plus cases kept in fixture headers.
fn collect_cases(input: &Input<'_>, errors: &mut Vec<String>) -> Vec<Vec<Case>> {
    let rules = input.rules;
    let mut cases: Vec<Vec<Case>> = input
        .models
        .iter()
        .map(|m| m.map(cases_of).unwrap_or_default())
        .collect();
    for fixture in input.fixtures {
        for hc in &fixture.header.tests {
            let found = rules.iter().position(|r| {
                [r.id.as_deref(), r.name.as_deref(), Some(r.title.as_str())]
                    .contains(&Some(hc.rule.as_str()))
            });
            match found {
                Some(r) => cases[r].push(Case {
                    fixture: fixture.name.clone(),
                    expect: hc.expect.clone(),
                    lines: hc.lines.clone(),
                    from_header: true,
                }),
                // With a subset of the rules loaded, the rule may simply be
                // elsewhere.
                None if input.selected.iter().all(|s| *s) => errors.push(format!(
                    "{}: a test case names rule `{}`, which is not among the rules",
                    crate::source::display_path(&fixture.path),
                    hc.rule
                )),
                None => {}
            }
        }
    }
    cases
}

/// The log source a fixture records: its header's, else the one log source
/// of its pipeline table. `None` when unknown (the fixture is then only
/// replayed for the rules that name it).
fn fixture_logsource(fixture: &Fixture, pipelines: &Pipelines) -> Option<LogSource> {
    if fixture.header.logsource.specificity() > 0 {
        return Some(fixture.header.logsource.clone());
    }
    let Ok(Schema::Table { pipeline, table }) = Schema::parse(fixture.header.schema.as_deref()?)
    else {
        return None;
    };
    let pipeline = pipelines.get(&pipeline).ok()?;
    let mut sources = pipeline.sources_of_table(&table);
    let first = sources.next()?.logsource.clone();
    // A table shared by several log sources: keep what they agree on.
    Some(sources.fold(first, |common, s| {
        LogSource {
            product: common
                .product
                .filter(|p| s.logsource.product.as_ref() == Some(p)),
            category: common
                .category
                .filter(|c| s.logsource.category.as_ref() == Some(c)),
            service: common
                .service
                .filter(|v| s.logsource.service.as_ref() == Some(v)),
        }
    }))
    .filter(|ls| ls.specificity() > 0)
}

/// Whether rule `r` reads events of log source `ls`: every key the rule
/// sets matches. A correlation reads what the rules it correlates read.
fn applies(rules: &[RuleLogic], r: usize, ls: &LogSource) -> bool {
    match &rules[r].body {
        Body::Correlation(c) => c.rules.iter().any(|&i| i != r && applies(rules, i, ls)),
        Body::Detection(_) => rules[r].logsource.covers(ls),
    }
}

fn describe_rule_logsource(rules: &[RuleLogic], r: usize) -> String {
    match &rules[r].body {
        Body::Correlation(c) => c
            .rules
            .iter()
            .filter(|&&i| i != r)
            .map(|&i| rules[i].logsource.describe())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", "),
        Body::Detection(_) => rules[r].logsource.describe(),
    }
}

/// Replay one fixture through every rule.
fn replay_fixture(rules: &[RuleLogic], pipelines: &Pipelines, fixture: &Fixture) -> FixtureRun {
    let mut run = FixtureRun::default();
    match crate::fixture::real_looking_nhs_numbers(&fixture.path) {
        Ok(scan) => {
            if let Some(first) = scan.found.first() {
                run.error = Some(format!(
                    "refused: line {} holds a checksum-valid NHS number outside the 999 test range ({}); use synthetic 999-range numbers or `stetho fixture scrub`",
                    first.line, first.masked
                ));
                return run;
            }
        }
        Err(e) => {
            run.error = Some(format!("cannot read it: {e}"));
            return run;
        }
    }
    let schema = match fixture
        .header
        .schema
        .as_deref()
        .map(Schema::parse)
        .transpose()
    {
        Ok(s) => s.unwrap_or(Schema::Sigma),
        Err(e) => {
            run.error = Some(e.to_string());
            return run;
        }
    };
    let options = Options {
        schema: Some(schema.clone()),
        timestamp_field: None,
        keep_events: true,
        progress: None,
    };
    let mut identity_fields: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut hits: BTreeMap<usize, Vec<EventHit>> = BTreeMap::new();
    let mut on_hit = |hit: &replay::Hit| {
        let fields = identity_fields
            .entry(hit.rule)
            .or_insert_with(|| rule_fields(&rules[hit.rule], &schema, pipelines));
        let event = hit
            .event
            .as_ref()
            .map(|e| identity(e, fields))
            .unwrap_or_default();
        hits.entry(hit.rule).or_default().push(EventHit {
            line: hit.line.unwrap_or(hit.at.index + 1),
            event,
        });
    };
    let path = [fixture.path.clone()];
    match replay::replay(rules, pipelines, &path, &options, &mut on_hit) {
        Ok((stats, correlations)) => {
            if let Some(bad) = stats.malformed.first() {
                run.error = Some(format!(
                    "{}{}: {}",
                    if stats.malformed.len() > 1 {
                        format!("{} malformed events, the first ", stats.malformed.len())
                    } else {
                        String::new()
                    },
                    bad.line.map_or(String::new(), |l| format!("at line {l}")),
                    bad.message
                ));
            }
            for skipped in stats.skipped {
                run.skipped.extend(skipped.rules);
            }
            for c in correlations {
                let line = if c.event.line > 0 {
                    c.event.line
                } else {
                    c.event.index + 1
                };
                let mut event: Vec<(String, String)> = Vec::new();
                if let Body::Correlation(spec) = &rules[c.rule].body {
                    for (name, value) in spec.group_by.iter().zip(&c.group) {
                        event.push((name.clone(), snapshot::short_value(value)));
                    }
                    event.push((spec.kind.name().to_string(), format_number(c.value)));
                }
                let first = if c.first.line > 0 {
                    c.first.line
                } else {
                    c.first.index + 1
                };
                event.push(("window_from_line".into(), first.to_string()));
                hits.entry(c.rule)
                    .or_default()
                    .push(EventHit { line, event });
            }
            run.hits = hits;
        }
        Err(e) => run.error = Some(e.to_string()),
    }
    run
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Fields a detection rule tests, as named in events of `schema`.
fn rule_fields(rule: &RuleLogic, schema: &Schema, pipelines: &Pipelines) -> Vec<String> {
    let Body::Detection(expr) = &rule.body else {
        return Vec::new();
    };
    // The source's own constant columns (ActionType) say nothing about
    // which event this is.
    let mut constant: Vec<&str> = Vec::new();
    let mapped = match schema {
        Schema::Sigma => None,
        Schema::Table { pipeline, .. } => pipelines.get(pipeline).ok().and_then(|p| {
            let source = p.source_for_logic(&rule.logsource, expr).ok()?;
            constant.extend(source.where_.iter().map(|(column, _)| column.as_str()));
            source
                .map(&p.name, expr, rule.taxonomy.as_deref(), false)
                .ok()
        }),
    };
    let expr: &Expr = mapped.as_ref().unwrap_or(expr);
    let mut fields: Vec<String> = Vec::new();
    for pred in expr.preds() {
        if let Some(field) = &pred.field
            && !fields.contains(field)
            && !constant.contains(&field.as_str())
        {
            fields.push(field.clone());
        }
    }
    fields
}

/// Fields that name the host of an event, most common first.
const HOST_FIELDS: &[&str] = &[
    "DeviceName",
    "Computer",
    "ComputerName",
    "Hostname",
    "host.name",
    "device.workstation",
    "device.hostname",
];

/// Most fields of the rule shown per hit, after time and host.
const RULE_FIELDS_SHOWN: usize = 3;

/// A short identity of an event: time, host and the first few fields the
/// rule tests that the event has.
fn identity(event: &Value, rule_fields: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let take = |name: &str, out: &mut Vec<(String, String)>| -> bool {
        if out.iter().any(|(k, _)| k == name) {
            return false;
        }
        let Some(value) = crate::eval::event::first(event, name) else {
            return false;
        };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => return false,
            other => other.to_string(),
        };
        out.push((name.to_string(), snapshot::short_value(&text)));
        true
    };
    for name in replay::DEFAULT_TIMESTAMP_FIELDS {
        if take(name, &mut out) {
            break;
        }
    }
    for name in HOST_FIELDS {
        if take(name, &mut out) {
            break;
        }
    }
    let mut shown = 0;
    for field in rule_fields {
        if shown == RULE_FIELDS_SHOWN {
            break;
        }
        if take(field, &mut out) {
            shown += 1;
        }
    }
    out
}

fn judge_case(case: &Case, run: &FixtureRun, rule: usize) -> CaseResult {
    let mut result = CaseResult {
        case: case.clone(),
        hits: Vec::new(),
        failure: None,
        warning: None,
        near_miss: None,
    };
    if let Some(error) = &run.error {
        result.failure = Some(error.clone());
        return result;
    }
    if let Some(reason) = run.skipped.get(&rule) {
        result.failure = Some(format!("the rule cannot run on this fixture: {reason}"));
        return result;
    }
    let found: Vec<usize> = run
        .hits
        .get(&rule)
        .map(|h| h.iter().map(|h| h.line).collect())
        .unwrap_or_default();
    result.failure = verdict(case, &found);
    result.hits = found;
    result
}

fn verdict(case: &Case, found: &[usize]) -> Option<String> {
    let wrong = match case.expect {
        Expect::Match if found.is_empty() => Some("expected a match, got none".to_string()),
        Expect::NoMatch if !found.is_empty() => Some(format!(
            "expected no match, got {} ({})",
            found.len(),
            lines_text(found)
        )),
        Expect::Hits(n) if found.len() != n => Some(format!(
            "expected {n} hits, got {} ({})",
            found.len(),
            lines_text(found)
        )),
        _ => None,
    };
    if wrong.is_some() {
        return wrong;
    }
    let missing: Vec<usize> = case
        .lines
        .iter()
        .copied()
        .filter(|l| !found.contains(l))
        .collect();
    (!missing.is_empty()).then(|| format!("{} did not hit", lines_text(&missing)))
}

/// Lines as `line 4` or `lines 2, 5, 9`.
pub fn lines_text(lines: &[usize]) -> String {
    match lines {
        [one] => format!("line {one}"),
        _ => format!("lines {}", join(lines)),
    }
}

/// Lines as `2, 5, 9`.
pub fn join(lines: &[usize]) -> String {
    if lines.is_empty() {
        return "none".into();
    }
    lines
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replay each negative case selection by selection (for a correlation:
/// rule by correlated rule) and record which parts its events satisfied.
fn near_misses(input: &Input<'_>, reports: &mut [RuleReport], by_name: &BTreeMap<&str, usize>) {
    for report in reports.iter_mut() {
        let negatives: Vec<usize> = report
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.case.expect == Expect::NoMatch && c.failure.is_none())
            .map(|(i, _)| i)
            .collect();
        if negatives.is_empty() {
            continue;
        }
        let Some(parts) = parts_of(input, report.rule) else {
            continue;
        };
        let of = parts.len();
        for i in negatives {
            let Some(&f) = by_name.get(report.cases[i].case.fixture.as_str()) else {
                continue;
            };
            let run = replay_fixture(&parts, input.pipelines, &input.fixtures[f]);
            if run.error.is_some() {
                continue;
            }
            let satisfied: Vec<(String, Vec<usize>)> = run
                .hits
                .iter()
                .map(|(&p, hits)| {
                    let mut lines: Vec<usize> = hits.iter().map(|h| h.line).collect();
                    lines.dedup();
                    (parts[p].title.clone(), lines)
                })
                .collect();
            let case = &mut report.cases[i];
            if satisfied.is_empty() {
                case.warning = Some(format!(
                    "unrelated negative case: no event satisfies any of the rule's {of} {}, so it proves nothing; record a near miss instead",
                    if matches!(input.rules[report.rule].body, Body::Correlation(_)) {
                        "correlated rules"
                    } else {
                        "selections"
                    }
                ));
            }
            case.near_miss = Some(NearMiss { satisfied, of });
        }
    }
}

/// The parts a near miss is measured in, as stand-alone rules titled by
/// part name: a detection's selections, or a correlation's rules.
fn parts_of(input: &Input<'_>, r: usize) -> Option<Vec<RuleLogic>> {
    let rule = &input.rules[r];
    match &rule.body {
        Body::Detection(_) => {
            let model = input.models[r]?;
            let selections = crate::logic::lower::lower_selections(model, input.lists).ok()?;
            Some(
                selections
                    .into_iter()
                    .map(|(name, expr)| RuleLogic {
                        title: name,
                        body: Body::Detection(expr),
                        hidden: false,
                        ..rule.clone()
                    })
                    .collect(),
            )
        }
        Body::Correlation(c) => {
            let mut detections = Vec::new();
            counted_detections(input.rules, c, &mut detections);
            Some(
                detections
                    .into_iter()
                    .map(|i| RuleLogic {
                        title: input.rules[i].key().to_string(),
                        hidden: false,
                        ..input.rules[i].clone()
                    })
                    .collect(),
            )
        }
    }
}

/// The detections a correlation counts, through the correlations it counts
/// (a chained correlation's near miss is measured in the events those
/// match), each once, in first-use order.
fn counted_detections(rules: &[RuleLogic], c: &crate::logic::Correlation, out: &mut Vec<usize>) {
    for &i in &c.rules {
        match &rules[i].body {
            Body::Detection(_) if !out.contains(&i) => out.push(i),
            Body::Detection(_) => {}
            Body::Correlation(inner) => counted_detections(rules, inner, out),
        }
    }
}

fn compare_snapshot(path: &Path, new: &Snapshot) -> SnapshotStatus {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) if new.hits.is_empty() => return SnapshotStatus::Unchanged,
        Err(_) => {
            return SnapshotStatus::New { text: new.render() };
        }
    };
    let file = crate::source::SourceFile::new(path, crate::source::display_path(path), text);
    match Snapshot::parse(&file) {
        Err(e) => SnapshotStatus::Corrupt {
            error: e.to_string(),
        },
        Ok(old) if old.hits == new.hits && old.title == new.title => SnapshotStatus::Unchanged,
        // A retitled rule with the same hits passes; --accept refreshes it.
        Ok(old) if old.hits == new.hits => SnapshotStatus::Unchanged,
        Ok(old) => {
            let new_text = if new.hits.is_empty() {
                String::new()
            } else {
                new.render()
            };
            SnapshotStatus::Changed {
                diff: snapshot::diff(&old.render(), &new_text, false),
            }
        }
    }
}

/// Write (or, with no hits, remove) a rule's snapshot.
fn write_snapshot(path: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    if snapshot.hits.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    crate::write::atomic_write(path, snapshot.render().as_bytes())
}

/// Snapshot files no rule of the run owns; removed with `--accept`.
fn orphans(
    dir: &Path,
    owned: &BTreeSet<String>,
    accept: bool,
    errors: &mut Vec<String>,
) -> Vec<Orphan> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(snapshot::SUFFIX) && !owned.contains(n))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(name);
            let removed = accept
                && match std::fs::remove_file(&path) {
                    Ok(()) => true,
                    Err(e) => {
                        errors.push(format!(
                            "{}: cannot remove the orphan snapshot: {e}",
                            crate::source::display_path(&path)
                        ));
                        false
                    }
                };
            Orphan { path, removed }
        })
        .collect()
}
