//! Rendering a test run: human text, JSON (DESIGN.md §5) and JUnit XML.
//!
//! The counts are per rule: a rule passes when all its cases pass, it has
//! no error-level problem, it does not fire on benign fixtures and its
//! snapshot is unchanged (or was just accepted). Load and fixture errors
//! count as failures too, so a broken file can never make a run green.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Expect, Outcome, RuleReport, Severity, SnapshotStatus};
use crate::logic::RuleLogic;

/// A run and what surrounds it.
pub struct Run<'a> {
    pub outcome: &'a Outcome,
    pub rules: &'a [RuleLogic],
    pub fixtures: usize,
    /// Rules and fixtures that could not be used, as `file:line:col: message`.
    pub errors: Vec<String>,
}

impl Run<'_> {
    pub fn passed(&self) -> usize {
        self.outcome.rules.iter().filter(|r| r.passed()).count()
    }

    /// Failed rules, plus every load, fixture and snapshot-file error, plus
    /// orphan snapshots not removed.
    pub fn failed(&self) -> usize {
        self.outcome.rules.iter().filter(|r| !r.passed()).count()
            + self.errors.len()
            + self.outcome.errors.len()
            + self.outcome.orphans.iter().filter(|o| !o.removed).count()
    }

    pub fn cases(&self) -> usize {
        self.outcome.rules.iter().map(|r| r.cases.len()).sum()
    }

    /// New, changed and unreadable snapshots, and orphans.
    pub fn snapshot_changes(&self) -> usize {
        self.outcome
            .rules
            .iter()
            .filter(|r| r.snapshot != SnapshotStatus::Unchanged)
            .count()
            + self.outcome.orphans.len()
    }

    fn all_errors(&self) -> impl Iterator<Item = &String> {
        self.errors.iter().chain(&self.outcome.errors)
    }
}

fn expect_text(expect: &Expect) -> String {
    match expect {
        Expect::Match => "match".into(),
        Expect::NoMatch => "no-match".into(),
        Expect::Hits(1) => "1 hit".into(),
        Expect::Hits(n) => format!("{n} hits"),
    }
}

fn near_miss_text(report: &RuleReport, i: usize) -> Option<String> {
    let case = &report.cases[i];
    let near = case.near_miss.as_ref()?;
    if near.satisfied.is_empty() {
        return None;
    }
    let parts: Vec<String> = near
        .satisfied
        .iter()
        .map(|(name, lines)| format!("{name} ({})", super::lines_text(lines)))
        .collect();
    Some(format!(
        "near miss {}: {} of {} satisfied: {}",
        case.case.fixture,
        near.satisfied.len(),
        near.of,
        parts.join("; ")
    ))
}

/// Human text: a line per rule, details under failures, warnings, and the
/// `N passed, M failed` summary.
pub fn human(run: &Run<'_>, color: bool, accept: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for error in run.all_errors() {
        let _ = writeln!(out, "{}  {error}", paint("31", "FAIL"));
    }
    for report in &run.outcome.rules {
        let rule = &run.rules[report.rule];
        let status = if report.passed() {
            paint("32", "PASS")
        } else {
            paint("31", "FAIL")
        };
        let _ = writeln!(
            out,
            "{status}  {}  ({} cases, {} hits on {} fixtures)  {}",
            rule.title,
            report.cases.len(),
            report.hits,
            report.fixtures,
            rule.path
        );
        for (i, case) in report.cases.iter().enumerate() {
            if let Some(failure) = &case.failure {
                let _ = writeln!(out, "      {}: {failure}", case.case.fixture);
            }
            if let Some(warning) = &case.warning {
                let _ = writeln!(
                    out,
                    "      {} {}: {warning}",
                    paint("33", "warning:"),
                    case.case.fixture
                );
            }
            if let Some(text) = near_miss_text(report, i) {
                let _ = writeln!(out, "      {text}");
            }
        }
        for problem in &report.problems {
            let label = match problem.severity {
                Severity::Error => paint("31", "error:"),
                Severity::Warning => paint("33", "warning:"),
            };
            let _ = writeln!(out, "      {label} {}", problem.message);
        }
        for (fixture, lines) in &report.benign_hits {
            let _ = writeln!(
                out,
                "      fires on benign fixture {fixture} ({}): fix the rule, or name the fixture in its tests if the hit is wanted",
                super::lines_text(lines)
            );
        }
        let (what, diff) = match &report.snapshot {
            SnapshotStatus::Unchanged => continue,
            // The whole new file says nothing a reviewer needs here; the
            // file itself is what gets reviewed.
            SnapshotStatus::New { .. } => {
                let _ = writeln!(
                    out,
                    "      new snapshot: {} hits{}",
                    report.hits,
                    if report.accepted {
                        " (accepted)"
                    } else {
                        " (`stetho test --accept` writes it)"
                    }
                );
                continue;
            }
            SnapshotStatus::Changed { diff } => ("snapshot changed", Some(diff)),
            SnapshotStatus::Corrupt { error } => {
                let _ = writeln!(
                    out,
                    "      snapshot unreadable: {error}{}",
                    if report.accepted { " (rewritten)" } else { "" }
                );
                continue;
            }
        };
        let suffix = if report.accepted {
            " (accepted)"
        } else {
            " (`stetho test --accept` writes it)"
        };
        let _ = writeln!(out, "      {what}{suffix}:");
        for line in diff.into_iter().flat_map(|d| d.lines()) {
            let painted = match line.chars().next() {
                Some('-') => paint("31", line),
                Some('+') => paint("32", line),
                _ => line.to_string(),
            };
            let _ = writeln!(out, "        {painted}");
        }
    }
    for orphan in &run.outcome.orphans {
        let path = crate::source::display_path(&orphan.path);
        if orphan.removed {
            let _ = writeln!(out, "removed orphan snapshot {path}");
        } else {
            let _ = writeln!(
                out,
                "{}  orphan snapshot {path}: no rule has this id (`stetho test --accept` removes it)",
                paint("31", "FAIL")
            );
        }
    }
    let _ = write!(out, "{} passed, {} failed", run.passed(), run.failed());
    if accept {
        let written = run.outcome.rules.iter().filter(|r| r.accepted).count();
        let _ = write!(out, ", {written} snapshots written");
    }
    out.push('\n');
    out
}

fn case_json(report: &RuleReport) -> Vec<Value> {
    report
        .cases
        .iter()
        .map(|c| {
            json!({
                "fixture": c.case.fixture,
                "expect": match c.case.expect {
                    Expect::Match => json!("match"),
                    Expect::NoMatch => json!("no-match"),
                    Expect::Hits(n) => json!({"hits": n}),
                },
                "from_header": c.case.from_header,
                "hit_lines": c.hits,
                "passed": c.failure.is_none(),
                "message": c.failure,
                "warning": c.warning,
                "near_miss": c.near_miss.as_ref().map(|n| json!({
                    "of": n.of,
                    "satisfied": n.satisfied.iter().map(|(name, lines)| json!({"name": name, "lines": lines})).collect::<Vec<_>>(),
                })),
            })
        })
        .collect()
}

/// The JSON report (DESIGN.md §5).
pub fn json(run: &Run<'_>) -> String {
    let results: Vec<Value> = run
        .outcome
        .rules
        .iter()
        .map(|r| {
            let rule = &run.rules[r.rule];
            let (snapshot, diff) = match &r.snapshot {
                SnapshotStatus::Unchanged => ("unchanged", None),
                SnapshotStatus::New { text } => ("new", Some(text.clone())),
                SnapshotStatus::Changed { diff } => ("changed", Some(diff.clone())),
                SnapshotStatus::Corrupt { error } => ("unreadable", Some(error.clone())),
            };
            json!({
                "rule_id": rule.key(),
                "title": rule.title,
                "path": rule.path,
                "passed": r.passed(),
                "fixtures": r.fixtures,
                "hits": r.hits,
                "cases": case_json(r),
                "problems": r.problems.iter().map(|p| json!({
                    "severity": match p.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "message": p.message,
                })).collect::<Vec<_>>(),
                "benign_hits": r.benign_hits.iter().map(|(f, lines)| json!({"fixture": f, "lines": lines})).collect::<Vec<_>>(),
                "snapshot": snapshot,
                "snapshot_diff": diff,
                "snapshot_accepted": r.accepted,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({
        "rules": run.outcome.rules.len(),
        "fixtures": run.fixtures,
        "cases": run.cases(),
        "passed": run.passed(),
        "failed": run.failed(),
        "snapshot_changes": run.snapshot_changes(),
        "errors": run.all_errors().collect::<Vec<_>>(),
        "orphans": run.outcome.orphans.iter().map(|o| json!({
            "path": crate::source::display_path(&o.path),
            "removed": o.removed,
        })).collect::<Vec<_>>(),
        "results": results,
    }))
    .unwrap_or_default();
    text.push('\n');
    text
}

/// Escape text for XML attributes and content. Characters XML 1.0 cannot
/// carry at all are replaced, so the report always parses.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test suite per rule, one test case per check (each
/// case, the snapshot, the benign sweep, each problem). No timings, so the
/// same run gives the same bytes.
pub fn junit(run: &Run<'_>) -> String {
    struct Check {
        name: String,
        failure: Option<String>,
    }
    let mut suites = String::new();
    let mut total = 0;
    let mut total_failures = 0;
    for report in &run.outcome.rules {
        let rule = &run.rules[report.rule];
        let mut checks: Vec<Check> = report
            .cases
            .iter()
            .map(|c| Check {
                name: format!(
                    "{} (expect {})",
                    c.case.fixture,
                    expect_text(&c.case.expect)
                ),
                failure: c.failure.clone(),
            })
            .collect();
        checks.push(Check {
            name: "benign fixtures stay silent".into(),
            failure: (!report.benign_hits.is_empty()).then(|| {
                report
                    .benign_hits
                    .iter()
                    .map(|(f, lines)| format!("fires on {f} ({})", super::lines_text(lines)))
                    .collect::<Vec<_>>()
                    .join("; ")
            }),
        });
        checks.push(Check {
            name: "hit snapshot".into(),
            failure: match (&report.snapshot, report.accepted) {
                (SnapshotStatus::Unchanged, _) | (_, true) => None,
                (SnapshotStatus::New { text }, _) => Some(format!("new snapshot:\n{text}")),
                (SnapshotStatus::Changed { diff }, _) => Some(format!("snapshot changed:\n{diff}")),
                (SnapshotStatus::Corrupt { error }, _) => Some(error.clone()),
            },
        });
        for p in report
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
        {
            checks.push(Check {
                name: "tests are complete".into(),
                failure: Some(p.message.clone()),
            });
        }
        let failures = checks.iter().filter(|c| c.failure.is_some()).count();
        total += checks.len();
        total_failures += failures;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" file=\"{}\">",
            xml(&rule.title),
            checks.len(),
            xml(&rule.path)
        );
        for check in checks {
            let _ = write!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\"",
                xml(rule.key()),
                xml(&check.name),
                xml(&rule.path)
            );
            match check.failure {
                None => suites.push_str("/>\n"),
                Some(message) => {
                    let first = message.lines().next().unwrap_or_default();
                    let _ = writeln!(
                        suites,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml(first),
                        xml(&message)
                    );
                }
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    let errors: Vec<&String> = run.all_errors().collect();
    let orphans: Vec<_> = run.outcome.orphans.iter().filter(|o| !o.removed).collect();
    if !errors.is_empty() || !orphans.is_empty() {
        let count = errors.len() + orphans.len();
        total += count;
        total_failures += count;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"stetho\" tests=\"{count}\" failures=\"{count}\" errors=\"0\" skipped=\"0\">"
        );
        for error in errors {
            let _ = writeln!(
                suites,
                "    <testcase classname=\"stetho\" name=\"load\">\n      <failure message=\"{}\"/>\n    </testcase>",
                xml(error)
            );
        }
        for orphan in orphans {
            let _ = writeln!(
                suites,
                "    <testcase classname=\"stetho\" name=\"orphan snapshot\">\n      <failure message=\"{}: no rule has this id\"/>\n    </testcase>",
                xml(&crate::source::display_path(&orphan.path))
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"stetho test\" tests=\"{total}\" failures=\"{total_failures}\" errors=\"0\">\n{suites}</testsuites>\n"
    )
}
