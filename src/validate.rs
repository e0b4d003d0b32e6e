//! Validation as a library call: load, schema, lints, severities, order.
//! `stetho validate` renders the result; `stetho test` and `build` reuse it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalogue::FieldCatalogues;
use crate::diagnostic::{self, Diagnostic, Summary};
use crate::limits::{MAX_LIST_ENTRIES, ReadError};
use crate::lint::{self, Context};
use crate::load::{self, LoadError};
use crate::logic::{ListError, Lists};
use crate::model::{Rule, RuleKind};
use crate::schema::{self, SchemaKind};
use crate::settings::{Profile, Project};
use crate::source::SourceFile;

/// What a validation run found.
#[derive(Debug)]
pub struct Report {
    pub files: Vec<Arc<SourceFile>>,
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn summary(&self) -> Summary {
        Summary {
            files: self.files.len(),
            rules: self.rules.len(),
            ..Summary::default()
        }
        .count(&self.diagnostics)
    }
}

/// Validate the rule files under `paths` with the project's settings.
pub fn validate(
    paths: &[PathBuf],
    project: &Project,
    profile: Profile,
    today: time::Date,
) -> Result<Report, LoadError> {
    let files = load::discover(paths)?;
    let loaded = load::load_files(&files);
    Ok(check(loaded, project, profile, today))
}

/// Validate one rule file's contents already in memory (named `path` in
/// diagnostics) as [`validate`] checks a file: load, schema, lints and
/// severities. Used by the fuzz targets.
pub fn validate_bytes(
    path: &Path,
    bytes: Vec<u8>,
    project: &Project,
    profile: Profile,
    today: time::Date,
) -> Report {
    let (file, rules, diagnostics) = load::load_bytes(path, bytes);
    let loaded = load::Loaded {
        files: file.into_iter().collect(),
        rules,
        diagnostics,
    };
    check(loaded, project, profile, today)
}

/// Schema checks, lints, fixture scan and severities over loaded files.
fn check(loaded: load::Loaded, project: &Project, profile: Profile, today: time::Date) -> Report {
    let mut diagnostics = loaded.diagnostics;
    for rule in &loaded.rules {
        let kind = match rule.kind {
            RuleKind::Detection => SchemaKind::Rule,
            RuleKind::Correlation => SchemaKind::Correlation,
            RuleKind::Filter => SchemaKind::Filter,
        };
        schema::check(
            kind,
            &rule.file,
            &rule.root,
            "",
            &rule.root,
            &mut diagnostics,
        );
    }
    let fields = FieldCatalogues::load(project.root.as_ref().map(|_| project.fields.as_path()));
    let (lists, list_files) = match load_lists(project) {
        Ok((lists, files)) => (lists.names(), files),
        Err(e) => {
            diagnostics.push(list_diagnostic(&e));
            (BTreeSet::new(), Vec::new())
        }
    };
    let ctx = Context {
        project,
        profile,
        fields: &fields,
        lists: &lists,
        today,
    };
    diagnostics.extend(lint::run(&loaded.rules, &ctx));
    let mut files = loaded.files;
    let mut masked = Vec::new();
    for file in &files {
        masked.extend(report_nhs_numbers(file, "rule file", &mut diagnostics));
    }
    for file in &list_files {
        masked.extend(report_nhs_numbers(file, "value list", &mut diagnostics));
    }
    show_masked(&masked, &mut diagnostics);
    if project.root.is_some() && project.fixtures.is_dir() {
        scan_fixtures(&project.fixtures, &mut files, &mut diagnostics);
        let discovered = crate::fixture::discover::discover(&project.fixtures);
        files.extend(discovered.files);
        diagnostics.extend(discovered.diagnostics);
    }
    let mut diagnostics = lint::apply_levels(diagnostics, project);
    diagnostic::sort(&mut diagnostics);
    Report {
        files,
        rules: loaded.rules,
        diagnostics,
    }
}

/// STH403 for each real-looking NHS number in a rule file or value list:
/// they are committed to git like fixtures, and patient identifiers must
/// not be, in values, descriptions or comments alike. Each is shown in a
/// copy of the file whose numbers are masked, so that no report or CI log
/// repeats a possible patient identifier.
///
/// Returns that copy, for the file's other diagnostics to show too.
fn report_nhs_numbers(
    file: &SourceFile,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<Arc<SourceFile>> {
    let found = crate::eval::nhs::real_looking_standalone(&file.text);
    if found.is_empty() {
        return None;
    }
    let mut masked = file.text.clone().into_bytes();
    crate::eval::nhs::mask(&mut masked, &found);
    // Only ASCII digits were replaced, by an ASCII byte: still UTF-8.
    let masked = String::from_utf8(masked).unwrap_or_default();
    let shown = SourceFile::new(&file.path, file.display.clone(), masked);
    for (start, len, digits) in found {
        out.push(
            Diagnostic::error(
                "STH403",
                format!(
                    "{what} holds a checksum-valid NHS number outside the 999 test range ({})",
                    crate::eval::nhs::masked(&digits)
                ),
            )
            .at(&shown, crate::source::Span::new(start, start + len))
            .label("possible patient identifier")
            .help("use a synthetic number from the never-issued 999 range; identifiers a rule must know belong in the SIEM (a Sentinel watchlist), not in git"),
        );
    }
    Some(shown)
}

/// Every diagnostic in a file that holds a real-looking NHS number shows
/// the masked copy of it (same path, same offsets): a schema error or a
/// lint on the line of the number would otherwise print it in a snippet,
/// and so into a CI log.
fn show_masked(masked: &[Arc<SourceFile>], diagnostics: &mut [Diagnostic]) {
    if masked.is_empty() {
        return;
    }
    let swap = |file: &mut Arc<SourceFile>| {
        if let Some(copy) = masked.iter().find(|m| m.path == file.path) {
            *file = Arc::clone(copy);
        }
    };
    for d in diagnostics {
        if let Some(file) = &mut d.file {
            swap(file);
        }
        for related in &mut d.related {
            swap(&mut related.file);
        }
    }
}

/// Refuse fixtures that hold checksum-valid NHS numbers outside the 999
/// test range (STH400): fixtures live in git, patient identifiers must not.
/// The fixtures checked are the ones `stetho test` replays, read the way
/// it reads them (`.gz` decompressed), line by line.
fn scan_fixtures(dir: &Path, files: &mut Vec<Arc<SourceFile>>, out: &mut Vec<Diagnostic>) {
    for path in crate::fixture::discover::event_files(dir) {
        let display = crate::source::display_path(&path);
        let scan = match crate::fixture::real_looking_nhs_numbers(&path) {
            Ok(scan) => scan,
            Err(e) => {
                let file = SourceFile::new(&path, display, String::new());
                // Unread is unchecked: it may hold anything.
                out.push(
                    Diagnostic::error(
                        "STH009",
                        format!("fixture cannot be read to check it for NHS numbers: {e}"),
                    )
                    .in_file(&file)
                    .help("repair or remove the file; `stetho test` cannot replay it either"),
                );
                files.push(file);
                continue;
            }
        };
        if scan.found.is_empty() {
            continue;
        }
        // The snippet under each finding comes from the lines that hold
        // one, with the identifiers' digits masked (same byte offsets), so
        // no report or CI log repeats a possible patient identifier. Other
        // lines are left empty: the numbers and columns stay those of the
        // file without keeping the whole fixture in memory.
        let last_line = scan.found.iter().map(|f| f.line).max().unwrap_or(1);
        let mut text = String::new();
        let mut line_starts = Vec::with_capacity(last_line);
        for line in 1..=last_line {
            line_starts.push(text.len());
            if let Some(masked) = scan.masked_lines.get(&line) {
                text.push_str(masked);
            }
            text.push('\n');
        }
        let file = SourceFile::new(&path, display, text);
        for found in &scan.found {
            let message = format!(
                "fixture holds a checksum-valid NHS number outside the 999 test range ({})",
                found.masked
            );
            let diagnostic = if scan.masked_lines.contains_key(&found.line) {
                let start = line_starts[found.line - 1] + found.column - 1;
                Diagnostic::error("STH400", message)
                    .at(&file, crate::source::Span::new(start, start + found.len))
                    .label("possible patient identifier")
            } else {
                // A line too long to show: its position is in the message.
                Diagnostic::error(
                    "STH400",
                    format!("{message} at line {}, byte {}", found.line, found.column),
                )
                .in_file(&file)
            };
            out.push(
                diagnostic
                    .help("replace it with a synthetic number from the never-issued 999 range"),
            );
        }
        files.push(file);
    }
}

/// Names of the value lists (`lists/NAME.txt`) of a project; none when
/// they cannot be loaded.
pub fn list_names(project: &Project) -> BTreeSet<String> {
    load_lists(project)
        .map(|(lists, _)| lists.names())
        .unwrap_or_default()
}

fn load_lists(project: &Project) -> Result<(Lists, Vec<Arc<SourceFile>>), ListError> {
    if project.root.is_none() {
        return Ok((Lists::default(), Vec::new()));
    }
    Lists::load_with_sources(&project.lists)
}

/// A list that cannot be loaded, as a finding on the list file.
fn list_diagnostic(error: &ListError) -> Diagnostic {
    match error {
        ListError::Read { path, source } => {
            let file = SourceFile::new(Path::new(path), path.clone(), String::new());
            let code = match source {
                ReadError::Io(_) => "STH009",
                _ => "STH003",
            };
            Diagnostic::error(code, source.to_string())
                .in_file(&file)
                .help("a value list holds one value per line; split or trim this list")
        }
        ListError::TooManyEntries { file, span } => Diagnostic::error(
            "STH003",
            format!(
                "list has more than {MAX_LIST_ENTRIES} entries; value lists are limited to {MAX_LIST_ENTRIES}"
            ),
        )
        .at(file, *span)
        .label("first entry over the limit")
        .help("split the list, or match the values another way (a field catalogue, a lookup in the SIEM)"),
    }
}

/// Today's date in UTC, for review-date checks.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}
