//! `--format sarif`: SARIF 2.1.0, so GitHub code scanning (and any SARIF
//! viewer) shows findings inline on a pull request.
//!
//! Paths are relative with `uriBaseId: "%SRCROOT%"` (code scanning resolves
//! them against the repository root) and columns count Unicode code points,
//! declared with `columnKind`, matching the other output formats.

use serde_json::{Value, json};

use super::{Diagnostic, Severity};

/// What SARIF's `tool.driver.rules` says about one check.
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub default_severity: Severity,
}

pub fn render(diagnostics: &[Diagnostic], rules: &[RuleInfo]) -> String {
    // Only list the checks that fired, in code order, so the output stays small
    // and stable; `ruleIndex` points into this list.
    let mut used: Vec<&RuleInfo> = rules
        .iter()
        .filter(|r| diagnostics.iter().any(|d| d.code == r.code))
        .collect();
    used.sort_by_key(|r| r.code);
    let rule_values: Vec<Value> = used
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "defaultConfiguration": {"level": level(r.default_severity)},
            })
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": {"text": message_text(d)},
            });
            if let Some(index) = used.iter().position(|r| r.code == d.code) {
                result["ruleIndex"] = json!(index);
            }
            if let Some(location) = location(d) {
                result["locations"] = json!([location]);
            }
            let related: Vec<Value> = d
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let start = r.file.line_col(r.span.start);
                    let end = r.file.line_col(r.span.end);
                    json!({
                        "id": i,
                        "message": {"text": r.label},
                        "physicalLocation": {
                            "artifactLocation": {"uri": r.file.display, "uriBaseId": "%SRCROOT%"},
                            "region": region(start.line, start.column, end.line, end.column),
                        }
                    })
                })
                .collect();
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "stetho",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_values,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn message_text(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{} (help: {help})", d.message),
        None => d.message.clone(),
    }
}

fn location(d: &Diagnostic) -> Option<Value> {
    let file = d.file.as_ref()?;
    let mut physical = json!({
        "artifactLocation": {"uri": file.display, "uriBaseId": "%SRCROOT%"},
    });
    // A whole-file finding still gets a region (the first line), which
    // viewers need to show it.
    let (line, column, end_line, end_column) = d.position().unwrap_or((1, 1, 1, 2));
    physical["region"] = region(line, column, end_line, end_column);
    Some(json!({"physicalLocation": physical}))
}

fn region(line: usize, column: usize, end_line: usize, end_column: usize) -> Value {
    // SARIF regions must not be empty-or-inverted; a zero-width span still
    // highlights one character.
    let end_column = if end_line == line {
        end_column.max(column + 1)
    } else {
        end_column
    };
    json!({
        "startLine": line,
        "startColumn": column,
        "endLine": end_line.max(line),
        "endColumn": end_column,
    })
}
