//! Finding and reading rule files.
//!
//! Discovery honours `.gitignore` (and `.stethoignore`) and walks in sorted
//! order so every run sees files in the same order. Reading enforces the
//! limits that keep hostile input harmless: a size cap checked before the
//! file is read, UTF-8, and the YAML limits of [`crate::source::yaml`].
//! Every problem becomes a diagnostic; the load never stops at the first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use thiserror::Error;

use crate::diagnostic::Diagnostic;
use crate::limits::{self, MAX_DOCUMENTS_PER_FILE, MAX_RULE_FILE_BYTES, ReadError};
use crate::model::Rule;
use crate::source::yaml::{self, YamlErrorKind};
use crate::source::{SourceFile, Span, display_path};

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: {message}")]
    Walk { path: String, message: String },
    #[error(
        "{path}: more than {limit} rule files; a run is limited to {limit} (pass fewer folders, or ignore some in .stethoignore)"
    )]
    TooManyFiles { path: String, limit: usize },
}

/// Rule files found under the given paths: files are taken as they are,
/// folders are searched for `*.yml` / `*.yaml`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    discover_at_most(paths, limits::max_rule_files())
}

/// [`discover`] stopping with an error once more than `limit` files are
/// found, before any of them is read.
pub fn discover_at_most(paths: &[PathBuf], limit: usize) -> Result<Vec<PathBuf>, LoadError> {
    let mut found = Vec::new();
    let too_many = |path: &Path| LoadError::TooManyFiles {
        path: display_path(path),
        limit,
    };
    for path in paths {
        if !path.exists() {
            return Err(LoadError::NotFound {
                path: display_path(path),
            });
        }
        if path.is_file() {
            found.push(path.clone());
            if found.len() > limit {
                return Err(too_many(path));
            }
            continue;
        }
        let room = limit.saturating_sub(found.len());
        found.extend(walk(path, room, limit)?);
    }
    // A walk yields its files once each; only several paths can repeat.
    if paths.len() > 1 {
        found.sort();
        found.dedup();
    } else {
        found.sort_by_cached_key(|path| walk_order_key(path));
    }
    Ok(found)
}

/// The rule files under the folder `root`, unordered; more than `room`
/// of them is the error for a run limited to `limit` files.
///
/// The ignore crate's parallel walker, on one thread: it lists each
/// folder once and looks for `.gitignore`, `.stethoignore` and `.git` in
/// that listing, where its sequential walker asks the file system for
/// each of them in every folder, six failed lookups per folder that cost
/// more than reading the folders.
///
/// Ignore files are read as [`repository_walk`] reads them.
fn walk(root: &Path, room: usize, limit: usize) -> Result<Vec<PathBuf>, LoadError> {
    use ignore::WalkState;
    let found = std::sync::Mutex::new(Vec::new());
    let failures = std::sync::Mutex::new(Vec::new());
    let overflow = std::sync::atomic::AtomicBool::new(false);
    repository_walk(root)
        .add_custom_ignore_filename(".stethoignore")
        .threads(1)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(e) => {
                        lock(&failures).push(e.to_string());
                        return WalkState::Continue;
                    }
                };
                let path = entry.path();
                if !(entry.file_type().is_some_and(|t| t.is_file()) && is_yaml(path)) {
                    return WalkState::Continue;
                }
                let mut found = lock(&found);
                found.push(entry.into_path());
                if found.len() > room {
                    overflow.store(true, std::sync::atomic::Ordering::Relaxed);
                    return WalkState::Quit;
                }
                WalkState::Continue
            })
        });
    if overflow.into_inner() {
        return Err(LoadError::TooManyFiles {
            path: display_path(root),
            limit,
        });
    }
    // The first failure by its text, not by when the walk met it, so a
    // run reports the same one whatever order the folders are listed in.
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    match failures.into_iter().min() {
        Some(message) => Err(LoadError::Walk {
            path: display_path(root),
            message,
        }),
        None => Ok(found.into_inner().unwrap_or_else(|e| e.into_inner())),
    }
}

/// A walk below `root` that honours only the ignore files that travel with
/// the repository: the user's global git excludes and a clone's
/// `.git/info/exclude` are not read, so a file that one machine's personal
/// settings would hide is still checked there, as it is in CI.
pub fn repository_walk(root: &Path) -> ignore::WalkBuilder {
    let mut builder = ignore::WalkBuilder::new(root);
    builder.git_global(false).git_exclude(false);
    builder
}

/// A lock whose holder cannot have panicked half-way through (the walk's
/// visitors only push), so a poisoned one is as good as any.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A key whose byte order is [`Path`]'s own order (component by
/// component, so `a/b` before `a.b`) for the paths of one walk, which have
/// no `.` or repeated separators: the bytes with each separator lowered
/// below every other byte (to 0, which no path holds). Comparing paths
/// component by component split each one at every comparison, and even
/// a byte-by-byte comparison cost more than reading thousands of rules;
/// keys made once compare as plain bytes.
fn walk_order_key(path: &Path) -> Vec<u8> {
    let mut key = path.as_os_str().as_encoded_bytes().to_vec();
    for byte in &mut key {
        if std::path::is_separator(char::from(*byte)) {
            *byte = 0;
        }
    }
    key
}

/// The `*.yml` / `*.yaml` files directly in `dir`, sorted (project field
/// catalogues and pipelines); none when the folder does not exist.
pub fn yaml_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_yaml(p))
        .collect();
    paths.sort();
    paths
}

fn is_yaml(path: &Path) -> bool {
    // The extension of the last component, found from the end of the
    // bytes instead of by splitting the whole path into components.
    let bytes = path.as_os_str().as_encoded_bytes();
    let name = bytes
        .rsplit(|&b| std::path::is_separator(char::from(b)))
        .find(|part| !part.is_empty())
        .unwrap_or(bytes);
    // As `Path::extension`: after the last dot, unless that dot starts
    // the name.
    match name.iter().rposition(|&b| b == b'.') {
        Some(dot) if dot > 0 => matches!(&name[dot + 1..], b"yml" | b"yaml"),
        _ => false,
    }
}

/// What loading a set of rule files produced.
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<Arc<SourceFile>>,
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What one file gave: its source (if it could be read), its rules and
/// its problems.
pub type FileResult = (Option<Arc<SourceFile>>, Vec<Rule>, Vec<Diagnostic>);

/// What of each rule's YAML document a caller needs once it is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The whole document: checks, tests, metadata, the Sigma export.
    Documents,
    /// Only what lowering and compiling to queries read (see
    /// [`Rule::shed_document`]).
    Logic,
}

/// Read and parse every file (in parallel), keeping the discovery order.
pub fn load_files(paths: &[PathBuf]) -> Loaded {
    load_files_keeping(paths, Keep::Documents)
}

/// [`load_files`], keeping only what `keep` asks for of each document.
///
/// A detection rule's document is shed in the thread that parsed it, right
/// after its model is built: its memory is still in the cache and is
/// reused for the next file's tree. Held until the end instead, the trees
/// of thousands of rules are megabytes of fresh pages the kernel must zero,
/// which on a busy machine cost more than everything else compiling them
/// does.
pub fn load_files_keeping(paths: &[PathBuf], keep: Keep) -> Loaded {
    let per_file: Vec<FileResult> = paths
        .par_iter()
        .map(|p| {
            let (file, mut rules, diagnostics) = load_file(p);
            if keep == Keep::Logic {
                rules.iter_mut().for_each(Rule::shed_document);
            }
            (file, rules, diagnostics)
        })
        .collect();
    let mut loaded = Loaded::default();
    // Sized once: a rule is hundreds of bytes, and thousands of them
    // doubling their way up would copy the set several times.
    loaded.files.reserve_exact(per_file.len());
    loaded
        .rules
        .reserve_exact(per_file.iter().map(|(_, rules, _)| rules.len()).sum());
    for (file, rules, diagnostics) in per_file {
        loaded.files.extend(file);
        loaded.rules.extend(rules);
        loaded.diagnostics.extend(diagnostics);
    }
    loaded
}

/// Read one file into rules, reporting what is wrong with it.
pub fn load_file(path: &Path) -> FileResult {
    let placeholder = || SourceFile::new(path, display_path(path), String::new());
    let bytes = match limits::read_bounded(path, MAX_RULE_FILE_BYTES, "rule files") {
        Ok(b) => b,
        Err(e @ (ReadError::TooLarge { .. } | ReadError::Grew { .. })) => {
            let placeholder = placeholder();
            let d = Diagnostic::error("STH003", e.to_string())
                .in_file(&placeholder)
                .help("a rule file holds one rule (or a correlation and its rules); split or remove this file");
            return (Some(placeholder), Vec::new(), vec![d]);
        }
        Err(e) => {
            let placeholder = placeholder();
            let d = Diagnostic::error("STH009", e.to_string()).in_file(&placeholder);
            return (Some(placeholder), Vec::new(), vec![d]);
        }
    };
    load_bytes(path, bytes)
}

/// Parse a rule file's contents already in memory (named `path` in
/// diagnostics) with the checks [`load_file`] applies after reading: the
/// size cap, UTF-8 and the YAML limits. Used by callers that hold the text
/// themselves, e.g. the fuzz targets.
pub fn load_bytes(path: &Path, bytes: Vec<u8>) -> FileResult {
    let display = display_path(path);
    if bytes.len() as u64 > MAX_RULE_FILE_BYTES {
        let placeholder = SourceFile::new(path, display, String::new());
        let d = Diagnostic::error(
            "STH003",
            format!(
                "file is {} bytes; rule files are limited to {} bytes",
                bytes.len(),
                MAX_RULE_FILE_BYTES
            ),
        )
        .in_file(&placeholder)
        .help("a rule file holds one rule (or a correlation and its rules); split or remove this file");
        return (Some(placeholder), Vec::new(), vec![d]);
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            // Point at the first bad byte in the lossy text (same offset: every
            // byte before it was valid).
            // Windows PowerShell 5 saves UTF-16 by default (`>`, `Out-File`,
            // `Set-Content -Encoding Unicode`): say so, the fix is one option.
            let utf16 =
                e.as_bytes().starts_with(&[0xFF, 0xFE]) || e.as_bytes().starts_with(&[0xFE, 0xFF]);
            let file = SourceFile::new(path, display, lossy);
            let d = if utf16 {
                Diagnostic::error("STH004", "file is UTF-16, not UTF-8")
                    .at(&file, Span::new(0, 1))
                    .label("a UTF-16 byte order mark")
                    .help("save the file as UTF-8 (in PowerShell: `Set-Content -Encoding utf8`, or `Out-File -Encoding utf8`)")
            } else {
                Diagnostic::error("STH004", "file is not valid UTF-8")
                    .at(&file, Span::new(valid, valid + 1))
                    .label("invalid byte sequence here")
                    .help("save the file as UTF-8")
            };
            return (Some(file), Vec::new(), vec![d]);
        }
    };
    let file = SourceFile::new(path, display, text);
    let (rules, diagnostics) = parse_source(&file);
    (Some(file), rules, diagnostics)
}

/// Parse a source's YAML documents into rules.
pub fn parse_source(file: &Arc<SourceFile>) -> (Vec<Rule>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let text = file.text.as_str();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let loaded = yaml::load(text);
    let bom = file.text.len() - text.len();
    for error in &loaded.errors {
        diagnostics.push(yaml_diagnostic(file, error, bom));
    }
    let documents: Vec<_> = loaded
        .documents
        .into_iter()
        .map(|mut d| {
            if bom > 0 {
                shift(&mut d, bom);
            }
            d
        })
        .collect();
    if let Some(extra) = documents.get(MAX_DOCUMENTS_PER_FILE) {
        diagnostics.push(
            Diagnostic::error(
                "STH003",
                format!(
                    "file holds more than {MAX_DOCUMENTS_PER_FILE} YAML documents; rule files are limited to {MAX_DOCUMENTS_PER_FILE}"
                ),
            )
            .at(file, extra.span.sub(0, 0))
            .label("one document too many")
            .help("a rule file holds one rule (or a correlation and its rules); split this file"),
        );
        return (Vec::new(), diagnostics);
    }
    let meaningful = documents.iter().filter(|d| !d.is_null()).count();
    if meaningful == 0 && loaded.errors.is_empty() {
        diagnostics.push(
            Diagnostic::error("STH005", "file holds no rule")
                .in_file(file)
                .help("remove the empty file, or add a rule to it"),
        );
    }
    let mut rules = Vec::new();
    for (index, doc) in documents.into_iter().enumerate() {
        if doc.is_null() {
            continue;
        }
        if doc.as_map().is_none() {
            diagnostics.push(
                Diagnostic::error(
                    "STH008",
                    "a rule document must be a mapping of keys to values",
                )
                .at(file, doc.span)
                .label("this is not a mapping")
                .help("a Sigma rule starts with `title:`"),
            );
            continue;
        }
        // Checked before the document moves into its rule, so a rule
        // costs no copy of its tree.
        if crate::model::RuleKind::of(&doc).is_none() {
            diagnostics.push(
                Diagnostic::error(
                    "STH008",
                    "document is not a Sigma rule: it has no `detection`, `correlation` or `filter`",
                )
                .at(file, doc.span.sub(0, 0))
                .label("document starts here")
                .help("add a `detection:` block with a `condition:`"),
            );
            continue;
        }
        rules.extend(Rule::from_document(file, index, doc));
    }
    (rules, diagnostics)
}

fn shift(node: &mut yaml::Node, by: usize) {
    node.span = Span::new(node.span.start + by, node.span.end + by);
    match &mut node.kind {
        yaml::NodeKind::Scalar(_) => {}
        yaml::NodeKind::Seq(items) => items.iter_mut().for_each(|n| shift(n, by)),
        yaml::NodeKind::Map(entries) => entries.iter_mut().for_each(|e| {
            shift(&mut e.key, by);
            shift(&mut e.value, by);
        }),
    }
}

fn yaml_diagnostic(file: &Arc<SourceFile>, error: &yaml::YamlError, bom: usize) -> Diagnostic {
    let span = Span::new(error.span.start + bom, error.span.end + bom);
    match &error.kind {
        YamlErrorKind::Syntax(message) if message.contains("recursion limit") => Diagnostic::error(
            "STH003",
            format!("nesting deeper than the YAML parser allows ({message})"),
        )
        .at(file, span)
        .label("nesting too deep from here")
        .help("Sigma rules need only a few levels of nesting"),
        YamlErrorKind::Syntax(message) => {
            Diagnostic::error("STH001", format!("YAML syntax error: {message}"))
                .at(file, span)
                .label("the parser stopped here")
                .help("check indentation, quotes and brackets around this point")
        }
        YamlErrorKind::DuplicateKey { key, first } => {
            Diagnostic::error("STH002", format!("duplicate key `{key}`"))
                .at(file, span)
                .label("second definition")
                .related(
                    file,
                    Span::new(first.start + bom, first.end + bom),
                    "first defined here",
                )
                .help("YAML loaders disagree on which one wins; keep one and merge the values")
        }
        YamlErrorKind::NotAllowed { what, more } => Diagnostic::error(
            "STH006",
            match more {
                0 => format!("{what} are not allowed in rule files"),
                n => format!("{what} are not allowed in rule files ({n} more in this file)"),
            },
        )
        .at(file, span)
        .label("not allowed")
        .help("write the value out in full; Sigma tools differ in how they expand these"),
        YamlErrorKind::TooDeep => Diagnostic::error("STH003", error.kind.to_string())
            .at(file, span)
            .label("nesting too deep from here")
            .help("Sigma rules need only a few levels of nesting"),
        YamlErrorKind::ComplexKey => Diagnostic::error("STH001", error.kind.to_string())
            .at(file, span)
            .label("complex key")
            .help("use a plain string as the key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the walk skips: hidden entries and other extensions always,
    /// `.stethoignore` patterns always, `.gitignore` patterns inside a git
    /// repository only, `.git/info/exclude` patterns never.
    #[test]
    fn the_walk_honours_ignore_files_and_skips_hidden_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (path, text) in [
            ("a.yml", ""),
            ("notes.txt", ""),
            ("drafts/b.yml", ""),
            (".hidden/c.yml", ""),
            ("sub/d.yaml", ""),
            ("sub/e.yml", ""),
            (".stethoignore", "drafts/\n"),
            ("sub/.gitignore", "d.yaml\n"),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let names = |found: Vec<PathBuf>| -> Vec<String> {
            found
                .iter()
                .map(|p| {
                    p.strip_prefix(root)
                        .expect("below root")
                        .display()
                        .to_string()
                })
                .collect()
        };
        // Outside a repository `.gitignore` does not apply (a temporary
        // folder inside one, as some machines make them, is a repository).
        if !root.ancestors().any(|folder| folder.join(".git").exists()) {
            let found = discover(&[root.to_path_buf()]).expect("walk");
            assert_eq!(names(found), ["a.yml", "sub/d.yaml", "sub/e.yml"]);
        }
        std::fs::create_dir(root.join(".git")).expect("mkdir .git");
        let found = discover(&[root.to_path_buf()]).expect("walk");
        assert_eq!(names(found), ["a.yml", "sub/e.yml"]);
        // A clone's own excludes are not shared with anyone: they do not count.
        std::fs::create_dir_all(root.join(".git/info")).expect("mkdir .git/info");
        std::fs::write(root.join(".git/info/exclude"), "a.yml\n").expect("write");
        let found = discover(&[root.to_path_buf()]).expect("walk");
        assert_eq!(names(found), ["a.yml", "sub/e.yml"]);
        let error = discover_at_most(&[root.to_path_buf()], 1).expect_err("over the limit");
        assert!(
            matches!(error, LoadError::TooManyFiles { limit: 1, .. }),
            "{error}"
        );
    }

    /// The keys order a walk's paths as `Path` itself does.
    #[test]
    fn walk_order_is_the_order_of_paths() {
        let mut paths: Vec<PathBuf> = [
            "r/a.b/c.yml",
            "r/a/b.yml",
            "r/a-b.yml",
            "r/a/b/c.yml",
            "r/a",
            "r/A.yml",
            "r/a0/x.yml",
            "r/ä.yml",
            "r/a.yml",
            "r/ab.yml",
            "r/a/b.yaml",
            "r/b",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let mut expected = paths.clone();
        expected.sort();
        paths.sort_by_cached_key(|path| walk_order_key(path));
        assert_eq!(paths, expected);
    }

    /// The YAML check reads the extension as `Path::extension` does.
    #[test]
    fn yaml_files_by_extension() {
        for (path, expected) in [
            ("a.yml", true),
            ("d/a.yaml", true),
            ("d/.yml", false),
            ("d/..yml", true),
            ("d.yml/a", false),
            ("d/a.yml.bak", false),
            ("d/a.YML", false),
            ("d/a", false),
            ("d/a.", false),
            ("a.yml/", true),
        ] {
            let p = Path::new(path);
            let by_path = matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml"));
            assert_eq!(is_yaml(p), expected, "{path}");
            assert_eq!(by_path, expected, "{path} (Path::extension)");
        }
    }

    #[test]
    fn discovery_stops_past_the_rule_file_cap() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in 0..3 {
            std::fs::write(dir.path().join(format!("r{i}.yml")), "title: t\n").expect("write");
        }
        let paths = [dir.path().to_path_buf()];
        assert_eq!(discover_at_most(&paths, 3).expect("at the cap").len(), 3);
        let err = discover_at_most(&paths, 2).unwrap_err();
        assert!(
            matches!(err, LoadError::TooManyFiles { limit: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn documents_past_the_cap_refuse_the_file_at_the_first_extra_one() {
        let text = "title: t\n---\n".repeat(MAX_DOCUMENTS_PER_FILE) + "title: last\n";
        let file = SourceFile::new(Path::new("many.yml"), "many.yml".into(), text);
        let (rules, diagnostics) = parse_source(&file);
        assert!(rules.is_empty());
        assert_eq!(diagnostics.len(), 1);
        let d = &diagnostics[0];
        assert_eq!(d.code, "STH003");
        assert_eq!(
            d.position().map(|p| p.0),
            Some(2 * MAX_DOCUMENTS_PER_FILE + 1)
        );
    }

    /// Rules loaded keeping only their logic lower to the same logic, with
    /// the same errors, compile to the same queries, and point at the same
    /// place, as rules loaded whole: for every corpus and shipped rule,
    /// correlations and filters included.
    #[test]
    fn shed_documents_lower_and_compile_as_whole_ones() {
        let paths = ["tests/corpus/sigmahq".into(), "detections".into()];
        let files = discover(&paths).expect("the corpus and detections are readable");
        let lists = crate::logic::Lists::load(Path::new("lists")).expect("lists load");
        let pipelines = crate::pipeline::Pipelines::load(None).expect("pipelines load");
        let pipeline = pipelines.get("defender_xdr").expect("shipped pipeline");
        let lowered = |keep| {
            let loaded = load_files_keeping(&files, keep);
            let (rules, errors) = crate::logic::lower_rules(&loaded.rules, &lists);
            let errors: Vec<_> = errors.iter().map(|e| (e.span, e.to_string())).collect();
            let queries: Vec<_> = (0..rules.len())
                .map(|i| {
                    crate::backend::kql::compile(&rules, i, pipeline, Default::default())
                        .map_err(|e| e.to_string())
                })
                .collect();
            let anchors: Vec<_> = loaded.rules.iter().map(Rule::anchor_span).collect();
            (format!("{rules:?}"), errors, queries, anchors, loaded.rules)
        };
        let whole = lowered(Keep::Documents);
        let shed = lowered(Keep::Logic);
        assert_eq!(whole.0, shed.0);
        assert_eq!(whole.1, shed.1);
        assert_eq!(whole.2, shed.2);
        assert_eq!(whole.3, shed.3);
        // Something was shed, and only from detection rules.
        let entries = |r: &Rule| r.root.as_map().map_or(0, <[_]>::len);
        let mut shed_any = false;
        for (w, s) in whole.4.iter().zip(&shed.4) {
            if w.kind == crate::model::RuleKind::Detection {
                assert!(entries(s) <= 1, "{}", s.file.display);
                shed_any |= entries(s) < entries(w);
            } else {
                assert_eq!(w.root, s.root, "{}", s.file.display);
            }
        }
        assert!(shed_any);
    }
}
