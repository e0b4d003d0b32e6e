//! `stetho fmt`: rewrite rule files in the canonical layout
//! ([`crate::format`]), or with `--check` list those that would change.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::cli::{Cli, FmtArgs, FmtFormat};
use crate::commands::Output;
use crate::diagnostic::{self, Diagnostic, Severity, Summary};
use crate::exit_code;
use crate::format::{self, FormatError};
use crate::source::{SourceFile, Span};

/// What happened to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Status {
    /// Already canonical; not written.
    Unchanged,
    /// Rewritten.
    Formatted,
    /// `--check`: would be rewritten.
    WouldChange,
    /// Left as it is: a construct the formatter refuses (a warning).
    Skipped,
    /// Does not load, or the formatter failed its own check (an error).
    Failed,
    /// Could not be read or written.
    IoError,
}

struct FileResult {
    path: String,
    status: Status,
    diagnostics: Vec<Diagnostic>,
    /// `--check --diff`: the unified diff.
    diff: Option<String>,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    status: Status,
    changed: bool,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    check: bool,
    files: Vec<JsonFile<'a>>,
    diagnostics: serde_json::Value,
}

pub fn run(cli: &Cli, args: &FmtArgs, out: &Output) -> Result<u8, String> {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            return Err("`-` (standard input) cannot be combined with other paths".into());
        }
        return run_stdin(args, out);
    }
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "fmt")?;
    let files = crate::load::discover(&paths).map_err(|e| e.to_string())?;
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|p| format_file(p, args.check, args.diff))
        .collect();
    let mut diagnostics: Vec<Diagnostic> = results
        .iter()
        .flat_map(|r| r.diagnostics.iter().cloned())
        .collect();
    diagnostic::sort(&mut diagnostics);
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let changed = count(Status::Formatted) + count(Status::WouldChange);
    match args.format {
        FmtFormat::Human => {
            let mut text = String::new();
            for r in &results {
                match r.status {
                    Status::Formatted => text.push_str(&format!("formatted {}\n", r.path)),
                    Status::WouldChange => {
                        text.push_str(&format!("would reformat {}\n", r.path));
                        if let Some(diff) = &r.diff {
                            text.push_str(diff);
                        }
                    }
                    _ => {}
                }
            }
            if !diagnostics.is_empty() {
                text.push_str(&findings(&diagnostics, results.len(), out.color));
            }
            out.print(&text);
            let verb = if args.check {
                "would be reformatted"
            } else {
                "reformatted"
            };
            out.note(&format!(
                "{} of {} files {verb}, {} left unformatted",
                changed,
                results.len(),
                count(Status::Skipped) + count(Status::Failed) + count(Status::IoError)
            ));
        }
        FmtFormat::Json => {
            let summary = Summary {
                files: results.len(),
                ..Summary::default()
            }
            .count(&diagnostics);
            let diagnostics_json: serde_json::Value =
                serde_json::from_str(&diagnostic::json::render(&diagnostics, &summary))
                    .map_err(|e| e.to_string())?;
            let report = JsonReport {
                check: args.check,
                files: results
                    .iter()
                    .map(|r| JsonFile {
                        path: &r.path,
                        status: r.status,
                        changed: matches!(r.status, Status::Formatted | Status::WouldChange),
                    })
                    .collect(),
                diagnostics: diagnostics_json["diagnostics"].clone(),
            };
            let mut text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            text.push('\n');
            out.print(&text);
        }
    }
    Ok(if count(Status::IoError) > 0 {
        exit_code::USAGE
    } else if count(Status::Failed) > 0 || (args.check && changed > 0) {
        exit_code::FINDINGS
    } else {
        exit_code::CLEAN
    })
}

/// The diagnostics rendered for a terminal, without validate's summary
/// line (fmt prints its own).
fn findings(diagnostics: &[Diagnostic], files: usize, color: bool) -> String {
    let summary = Summary {
        files,
        ..Summary::default()
    }
    .count(diagnostics);
    let report = diagnostic::human::render(diagnostics, &summary, color);
    report
        .rsplit_once("checked ")
        .map_or(report.clone(), |(before, _)| before.to_string())
}

/// Format one file (or, with `check`, only find out whether it would
/// change).
fn format_file(path: &Path, check: bool, diff: bool) -> FileResult {
    let (source, _rules, loaded) = crate::load::load_file(path);
    let source = source
        .unwrap_or_else(|| SourceFile::new(path, crate::source::display_path(path), String::new()));
    let (mut result, formatted) = format_source(&source, loaded, check, diff);
    let Some(formatted) = formatted.filter(|_| !check) else {
        return result;
    };
    match crate::write::atomic_write(&PathBuf::from(path), formatted.as_bytes()) {
        Ok(()) => result.status = Status::Formatted,
        Err(e) => {
            result.status = Status::IoError;
            result.diagnostics.push(
                Diagnostic::error("STH009", format!("cannot write file: {e}")).in_file(&source),
            );
        }
    }
    result
}

/// `stetho fmt -`: one rule from standard input, formatted to standard
/// output (what editors' format-on-save runs). A file the formatter leaves
/// alone is written back as it came, with the warning on stderr; one that
/// does not load gives no output and exit status 1.
fn run_stdin(args: &FmtArgs, out: &Output) -> Result<u8, String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(crate::limits::MAX_RULE_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("standard input: {e}"))?;
    let path = Path::new("<stdin>");
    let (source, _rules, loaded) = crate::load::load_bytes(path, bytes);
    let source = source.unwrap_or_else(|| SourceFile::new(path, "<stdin>".into(), String::new()));
    let (result, formatted) = format_source(&source, loaded, args.check, args.diff);
    if !result.diagnostics.is_empty() {
        let report = findings(&result.diagnostics, 1, false);
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), report.as_bytes());
    }
    match result.status {
        Status::Failed => return Ok(exit_code::FINDINGS),
        Status::IoError => return Ok(exit_code::USAGE),
        _ => {}
    }
    if args.check {
        if let Some(diff) = &result.diff {
            out.print(diff);
        }
        return Ok(if result.status == Status::WouldChange {
            exit_code::FINDINGS
        } else {
            exit_code::CLEAN
        });
    }
    out.print(formatted.as_deref().unwrap_or(&source.text));
    Ok(exit_code::CLEAN)
}

/// Format a loaded source: its status and diagnostics, and the formatted
/// text when it differs from the source (with `check`, the status says it
/// would change and `diff` adds the diff).
fn format_source(
    source: &std::sync::Arc<SourceFile>,
    loaded: Vec<Diagnostic>,
    check: bool,
    diff: bool,
) -> (FileResult, Option<String>) {
    let mut result = FileResult {
        path: source.display.clone(),
        status: Status::Unchanged,
        diagnostics: Vec::new(),
        diff: None,
    };
    let errors: Vec<Diagnostic> = loaded
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        // Anchors, aliases, tags and merge keys: left as they are, with the
        // loader's finding as a warning. Anything else does not load.
        let only_features = errors.iter().all(|d| d.code == "STH006");
        result.status = if errors.iter().any(|d| d.code == "STH009") {
            Status::IoError
        } else if only_features {
            Status::Skipped
        } else {
            Status::Failed
        };
        result.diagnostics = errors
            .into_iter()
            .map(|mut d| {
                if only_features {
                    d.severity = Severity::Warning;
                    d.message = format!("not formatted: {}", d.message);
                }
                d
            })
            .collect();
        return (result, None);
    }
    let text = source.text.as_str();
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = &text[..text.len() - body.len()];
    let formatted = match format::format_text(body) {
        Ok(f) => format!("{bom}{f}"),
        Err(e) => {
            let shift = |s: Span| Span::new(s.start + bom.len(), s.end + bom.len());
            let d = match &e {
                FormatError::Refused { span, .. } => {
                    result.status = Status::Skipped;
                    Diagnostic::warning("FMT001", e.to_string())
                        .at(source, shift(*span))
                        .label("not reformatted")
                        .help("the file is left as it is; rewrite this part by hand to have it formatted")
                }
                FormatError::NotLoaded | FormatError::Unsafe { .. } => {
                    result.status = Status::Failed;
                    Diagnostic::error("FMT002", format!("internal error: {e}"))
                        .in_file(source)
                        .help("please report this file; it was not changed")
                }
            };
            result.diagnostics.push(d);
            return (result, None);
        }
    };
    if formatted == text {
        return (result, None);
    }
    if check {
        result.status = Status::WouldChange;
        if diff {
            result.diff = Some(unified_diff(&result.path, text, &formatted));
        }
    }
    (result, Some(formatted))
}

fn unified_diff(path: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(path, path)
        .to_string()
}
