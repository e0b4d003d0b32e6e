//! `stetho compile`: rules to KQL (more targets follow the same path).

use std::fmt::Write as _;

use crate::backend::{CompileError, kql};
use crate::cli::{Cli, CompileArgs, CompileFormat, Target};
use crate::commands::Output;
use crate::exit_code;

pub fn run(cli: &Cli, args: &CompileArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "compile")?;
    let lowered = super::lower(&paths, &project)?;
    let pipeline = lowered
        .pipelines
        .get(&args.pipeline)
        .map_err(|e| e.to_string())?;
    let target = match args.target {
        Target::Kql => "kql",
    };
    // Every reported rule, in path order; rules a correlation hides are
    // compiled inside it, not on their own.
    let mut results: Vec<(usize, Result<String, CompileError>)> = lowered
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.hidden)
        .map(|(i, _)| (i, kql::compile(&lowered.rules, i, pipeline)))
        .collect();
    results.sort_by(|a, b| {
        let (ra, rb) = (&lowered.rules[a.0], &lowered.rules[b.0]);
        (&ra.path, ra.document).cmp(&(&rb.path, rb.document))
    });
    let failed = results.iter().filter(|(_, r)| r.is_err()).count() + lowered.problems.len();
    for problem in &lowered.problems {
        out.error(problem);
    }

    if let Some(dir) = &args.out {
        for (i, result) in &results {
            let rule = &lowered.rules[*i];
            match result {
                Ok(query) => {
                    let path = dir.join(format!(
                        "{}.kql",
                        crate::harness::snapshot::file_name(rule.key())
                            .trim_end_matches(crate::harness::snapshot::SUFFIX)
                    ));
                    crate::write::atomic_write(
                        &path,
                        format!("{}\n", header(rule, query)).as_bytes(),
                    )
                    .map_err(|e| format!("{}: {e}", crate::source::display_path(&path)))?;
                }
                Err(e) => out.error(&e.to_string()),
            }
        }
        out.note(&format!(
            "compiled {} of {} rules into {}",
            results.len() - (failed - lowered.problems.len()),
            results.len(),
            crate::source::display_path(dir)
        ));
    } else {
        let mut text = String::new();
        for (i, result) in &results {
            let rule = &lowered.rules[*i];
            match args.format {
                CompileFormat::Text => match result {
                    Ok(query) => {
                        let _ = writeln!(text, "{}\n", header(rule, query));
                    }
                    Err(e) => out.error(&e.to_string()),
                },
                CompileFormat::Jsonl => {
                    let mut record = serde_json::json!({
                        "id": rule.key(),
                        "title": rule.title,
                        "path": rule.path,
                        "target": target,
                    });
                    match result {
                        Ok(query) => record["output"] = query.clone().into(),
                        Err(e) => record["error"] = e.message.clone().into(),
                    }
                    let _ = writeln!(text, "{record}");
                }
            }
        }
        out.print(&text);
        if !out.quiet {
            out.note(&format!(
                "compiled {} rules, {} failed",
                results.len() - (failed - lowered.problems.len()),
                failed
            ));
        }
    }
    Ok(if failed > 0 {
        exit_code::FINDINGS
    } else {
        exit_code::CLEAN
    })
}

/// A query under comments naming its rule, as a `.kql` file holds it.
fn header(rule: &crate::logic::RuleLogic, query: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// {}", rule.title.replace('\n', " "));
    let _ = writeln!(out, "// id: {}", rule.key().replace('\n', " "));
    let _ = writeln!(out, "// source: {}", rule.path);
    out.push_str(query);
    out
}
