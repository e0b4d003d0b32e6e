//! `--format json`: the envelope DESIGN.md §5 promises to scripts.
//!
//! `{"files","rules","errors","warnings","diagnostics":[{"severity","code",
//! "message","file","line","column","end_line","end_column","help"}]}`.
//! Field order is fixed by the structs below; positions are 1-based, columns
//! count characters. A diagnostic without a position has `null` line/column.

use serde::Serialize;

use super::{Diagnostic, Summary};

#[derive(Serialize)]
struct Envelope<'a> {
    files: usize,
    rules: usize,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    help: Option<&'a str>,
}

/// One JSON document, pretty-printed, ending in a newline.
pub fn render(diagnostics: &[Diagnostic], summary: &Summary) -> String {
    let envelope = Envelope {
        files: summary.files,
        rules: summary.rules,
        errors: summary.errors,
        warnings: summary.warnings,
        diagnostics: diagnostics.iter().map(entry).collect(),
    };
    let mut text = serde_json::to_string_pretty(&envelope).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

fn entry(d: &Diagnostic) -> Entry<'_> {
    let position = d.position();
    Entry {
        severity: d.severity.as_str(),
        code: d.code,
        message: &d.message,
        file: d.file_name(),
        line: position.map(|p| p.0),
        column: position.map(|p| p.1),
        end_line: position.map(|p| p.2),
        end_column: position.map(|p| p.3),
        help: d.help.as_deref(),
    }
}
