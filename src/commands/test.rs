//! `stetho test`: replay each rule's fixtures and check its expectations.

use std::fmt::Write as _;

use serde_json::json;

use crate::cli::{Cli, TestArgs, TestFormat};
use crate::commands::Output;
use crate::exit_code;
use crate::harness::{self, Expect};
use crate::settings::Profile;

pub fn run(cli: &Cli, args: &TestArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "test")?;
    let profile = args.profile.unwrap_or(project.profile);
    let fixtures_dir = args
        .fixtures
        .clone()
        .unwrap_or_else(|| project.fixtures.clone());
    let lowered = super::lower(&paths, &project)?;
    let (rules, pipelines, broken) = (&lowered.rules, &lowered.pipelines, &lowered.problems);
    // The cases of each lowered rule come from the document it was read from.
    let cases: Vec<Vec<harness::Case>> = rules
        .iter()
        .map(|r| {
            lowered
                .models
                .iter()
                .find(|m| m.file.display == r.path && m.document == r.document)
                .map(harness::cases_of)
                .unwrap_or_default()
        })
        .collect();
    let results = harness::run(
        rules,
        &cases,
        &fixtures_dir,
        pipelines,
        profile == Profile::Healthcare,
    )
    .map_err(|e| e.to_string())?;

    let case_count: usize = results
        .iter()
        .map(|r| r.cases.len() + r.problems.len())
        .sum();
    let failed: usize = results
        .iter()
        .map(|r| r.cases.iter().filter(|c| c.failure.is_some()).count() + r.problems.len())
        .sum::<usize>()
        + broken.len();
    let passed = case_count - (failed - broken.len());
    let fixtures: std::collections::BTreeSet<&str> =
        cases.iter().flatten().map(|c| c.fixture.as_str()).collect();
    let text = match args.format {
        TestFormat::Human => {
            let mut text = String::new();
            for line in broken {
                let _ = writeln!(text, "FAIL  {line}");
            }
            for r in &results {
                let rule = &rules[r.rule];
                let hits: usize = r.cases.iter().map(|c| c.hits.len()).sum();
                let status = if r.passed() { "PASS" } else { "FAIL" };
                let _ = writeln!(
                    text,
                    "{status}  {}  ({} cases, {hits} hits)  {}",
                    rule.title,
                    r.cases.len(),
                    rule.path
                );
                for c in r.cases.iter().filter(|c| c.failure.is_some()) {
                    let _ = writeln!(
                        text,
                        "      {}: {}",
                        c.case.fixture,
                        c.failure.as_deref().unwrap_or("")
                    );
                }
                for p in &r.problems {
                    let _ = writeln!(text, "      {p}");
                }
            }
            let _ = writeln!(text, "{passed} passed, {failed} failed");
            text
        }
        TestFormat::Json => {
            let results_json: Vec<serde_json::Value> = results
                .iter()
                .map(|r| {
                    let rule = &rules[r.rule];
                    json!({
                        "rule_id": rule.key(),
                        "title": rule.title,
                        "path": rule.path,
                        "passed": r.passed(),
                        "problems": r.problems,
                        "cases": r.cases.iter().map(|c| json!({
                            "fixture": c.case.fixture,
                            "expect": match c.case.expect {
                                Expect::Match => json!("match"),
                                Expect::NoMatch => json!("no-match"),
                                Expect::Hits(n) => json!({"hits": n}),
                            },
                            "hit_lines": c.hits,
                            "passed": c.failure.is_none(),
                            "message": c.failure,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&json!({
                "rules": results.len(),
                "fixtures": fixtures.len(),
                "cases": case_count,
                "passed": passed,
                "failed": failed,
                "snapshot_changes": 0,
                "errors": broken,
                "results": results_json,
            }))
            .unwrap_or_default();
            text.push('\n');
            text
        }
    };
    out.print(&text);
    Ok(if failed > 0 {
        exit_code::FINDINGS
    } else {
        exit_code::CLEAN
    })
}
