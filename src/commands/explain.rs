//! `stetho explain`: print a rule's logic tree, optionally marked against
//! one event (see [`crate::explain`]).

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::Value;

use crate::cli::{Cli, ExplainArgs};
use crate::commands::Output;
use crate::events::{self, Item};
use crate::exit_code;
use crate::logic::{Body, Expr};
use crate::replay::Schema;

pub fn run(cli: &Cli, args: &ExplainArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let lowered = super::lower(
        std::slice::from_ref(&args.rule),
        &project,
        crate::load::Keep::Documents,
    )?;
    for problem in &lowered.problems {
        out.error(problem);
    }
    if lowered.rules.is_empty() {
        return Err(format!(
            "{}: no rule to explain",
            crate::source::display_path(&args.rule)
        ));
    }
    let event = match &args.event {
        Some(spec) => Some(read_event(spec, args.schema.as_deref())?),
        None => None,
    };
    let pipeline_name = args.pipeline.clone().or_else(|| match &event {
        Some((Schema::Table { pipeline, .. }, _)) => Some(pipeline.clone()),
        _ => None,
    });
    let pipeline = pipeline_name
        .as_deref()
        .map(|name| lowered.pipelines.get(name))
        .transpose()
        .map_err(|e| e.to_string())?;

    let mut text = String::new();
    for (index, rule) in lowered.rules.iter().enumerate() {
        let _ = writeln!(text, "{}  ({})", rule.title, rule.key());
        let _ = writeln!(
            text,
            "log source: {}{}",
            rule.logsource.describe(),
            pipeline
                .and_then(|p| source_of(p, rule).map(|s| format!("  ->  {}.{}", p.name, s.table)))
                .unwrap_or_default()
        );
        match &rule.body {
            Body::Detection(expr) => {
                // Map as replay does: native column names, canonical names
                // kept, unknown fields passed through (the event decides).
                let source = pipeline.and_then(|p| source_of(p, rule));
                let mapped: Expr = match (pipeline, source) {
                    (Some(p), Some(s)) => s
                        .map_for_events(&p.name, expr, rule.taxonomy.as_deref())
                        .map_err(|e| format!("{}: {e}", rule.path))?,
                    _ => expr.clone(),
                };
                let event = event.as_ref().map(|(_, e)| {
                    let mut e = e.clone();
                    if let Some(s) = source {
                        s.canonicalise(&mut e);
                    }
                    e
                });
                if let Some(model) = lowered.model_of(rule)
                    && let Ok(selections) =
                        crate::logic::lower::lower_selections(model, &lowered.lists)
                    && !selections.is_empty()
                {
                    let _ = write!(text, "selections:");
                    for (name, selection) in &selections {
                        let selection = match (pipeline, source) {
                            (Some(p), Some(s)) => s
                                .map_for_events(&p.name, selection, rule.taxonomy.as_deref())
                                .unwrap_or_else(|_| selection.clone()),
                            _ => selection.clone(),
                        };
                        match &event {
                            Some(e) => {
                                let held = crate::explain::evaluate(&selection, e)
                                    .map_err(|err| err.to_string())?;
                                let _ = write!(text, " {name} {}", if held { "✓" } else { "✗" });
                            }
                            None => {
                                let _ = write!(text, " {name}");
                            }
                        }
                    }
                    text.push('\n');
                }
                text.push_str(
                    &crate::explain::render(&mapped, event.as_ref()).map_err(|e| e.to_string())?,
                );
                if let Some(e) = &event {
                    let held =
                        crate::explain::evaluate(&mapped, e).map_err(|err| err.to_string())?;
                    let _ = writeln!(text, "result: {}", if held { "MATCH" } else { "no match" });
                }
            }
            Body::Correlation(c) => {
                let names: Vec<&str> = c.rules.iter().map(|&r| lowered.rules[r].key()).collect();
                let conditions: Vec<String> = c
                    .condition
                    .iter()
                    .map(|(op, v)| format!("{} {v}", op.symbol()))
                    .collect();
                let _ = writeln!(
                    text,
                    "{} of [{}] grouped by [{}] within {}s, count {}{}",
                    c.kind.name(),
                    names.join(", "),
                    c.group_by.join(", "),
                    c.timespan_seconds,
                    conditions.join(" and "),
                    c.field
                        .as_ref()
                        .map(|f| format!(" (field {f})"))
                        .unwrap_or_default()
                );
                if event.is_some() {
                    let _ = writeln!(
                        text,
                        "(a correlation needs many events: replay the fixture with `stetho test` or `stetho replay`)"
                    );
                }
            }
        }
        if args.target.is_some() {
            let Some(p) = pipeline.or_else(|| lowered.pipelines.get("defender_xdr").ok()) else {
                continue;
            };
            match crate::backend::kql::compile(&lowered.rules, index, p, Default::default()) {
                Ok(query) => {
                    let _ = writeln!(text, "\nKQL ({}):\n{query}", p.name);
                }
                Err(e) => {
                    let _ = writeln!(text, "\nKQL ({}): {}", p.name, e.message);
                }
            }
        }
        text.push('\n');
    }
    out.print(&text);
    Ok(exit_code::CLEAN)
}

/// The event at `FILE[:LINE]` (the first event when no line is given),
/// with the schema its header or `--schema` gives.
fn read_event(spec: &str, schema: Option<&str>) -> Result<(Schema, Value), String> {
    let (path, line) = match spec.rsplit_once(':') {
        Some((p, l)) if !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()) => {
            (PathBuf::from(p), l.parse::<usize>().ok())
        }
        _ => (PathBuf::from(spec), None),
    };
    let shown = crate::source::display_path(&path);
    let mut schema = schema
        .map(Schema::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let reader = events::open(&path, None).map_err(|e| format!("{shown}: {e}"))?;
    let mut found: Option<Value> = None;
    let mut first = true;
    let mut error: Option<String> = None;
    events::read(reader, &mut |item| {
        let (at, event) = match item.parsed() {
            Item::Event { line, event, .. } => (line, event),
            // Only a malformed wanted line is an error.
            Item::Malformed { line: at, message } => {
                if line.is_some() && at == line {
                    error = Some(message);
                    return false;
                }
                return true;
            }
            Item::Raw { .. } => return true,
        };
        if std::mem::replace(&mut first, false)
            && let Some(header) = crate::fixture::header(&event)
        {
            if schema.is_none() {
                schema = header.schema.as_deref().and_then(|s| Schema::parse(s).ok());
            }
            return true;
        }
        if line.is_none() || at == line {
            found = Some(event);
            return false;
        }
        true
    })
    .map_err(|e| format!("{shown}: {e}"))?;
    if let Some(message) = error {
        return Err(format!("{shown}: {message}"));
    }
    let event = found.ok_or_else(|| match line {
        Some(l) => format!("{shown}: no event on line {l}"),
        None => format!("{shown}: no event"),
    })?;
    Ok((schema.unwrap_or(Schema::Sigma), event))
}

/// The source that reads a rule, as the compiler and replay choose it
/// (by its EventIDs where the log source is split by event id).
fn source_of<'p>(
    pipeline: &'p crate::pipeline::Pipeline,
    rule: &crate::logic::RuleLogic,
) -> Option<&'p crate::pipeline::Source> {
    match &rule.body {
        crate::logic::Body::Detection(expr) => {
            pipeline.source_for_logic(&rule.logsource, expr).ok()
        }
        crate::logic::Body::Correlation(_) => pipeline.source_for(&rule.logsource),
    }
}
