//! Hit snapshots: per rule, the events it fires on in every fixture it
//! applies to, as reviewable YAML in `test-events/.snapshots/`.
//!
//! A rule edit that gains or loses a hit anywhere, including on benign
//! recordings nobody named in a test, changes the snapshot and so shows up
//! in code review. The format is stetho's own (a detection engineer has no
//! cargo): sorted by fixture and position, every value double-quoted so the
//! text is the same however the values look, and written only through
//! [`crate::write::atomic_write`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use thiserror::Error;

use crate::source::SourceFile;
use crate::source::yaml::{self, Node};

/// The folder, inside the fixture folder, that holds the snapshots.
pub const FOLDER: &str = ".snapshots";
/// The ending of a snapshot file name.
pub const SUFFIX: &str = ".snap.yml";

/// Longest value kept in an event's identity; longer ones are cut.
const MAX_VALUE_CHARS: usize = 160;

/// The hits of one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The rule's id (or name, or title).
    pub rule: String,
    pub title: String,
    /// Fixture name -> hits in event order. Fixtures without hits are left out.
    pub hits: BTreeMap<String, Vec<SnapHit>>,
}

/// One hit: where the event is and a short identity of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapHit {
    /// 1-based line (NDJSON) or event position (JSON arrays).
    pub line: usize,
    /// A few fields of the event (time, host, fields the rule tests).
    pub event: Vec<(String, String)>,
}

/// A snapshot file that cannot be read back.
#[derive(Debug, Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SnapshotError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The snapshot file name of a rule: its key with anything unusual in a
/// file name replaced, so any id, name or title gives a portable name.
pub fn file_name(rule_key: &str) -> String {
    let safe: String = rule_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}{SUFFIX}")
}

/// A value cut to a reviewable length at a character boundary.
pub fn short_value(text: &str) -> String {
    match text.char_indices().nth(MAX_VALUE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

impl Snapshot {
    /// The snapshot as YAML text.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# Hits of one rule on every fixture it applies to; `stetho test --accept` writes it.\n\
             # Review changes like code: a new hit on recorded traffic may be a false positive.\n",
        );
        let _ = writeln!(out, "rule: {}", quote(&self.rule));
        let _ = writeln!(out, "title: {}", quote(&self.title));
        if self.hits.is_empty() {
            out.push_str("hits: {}\n");
            return out;
        }
        out.push_str("hits:\n");
        for (fixture, hits) in &self.hits {
            let _ = writeln!(out, "  {}:", quote(fixture));
            for hit in hits {
                let _ = writeln!(out, "    - line: {}", hit.line);
                if hit.event.is_empty() {
                    continue;
                }
                out.push_str("      event:\n");
                for (key, value) in &hit.event {
                    let _ = writeln!(out, "        {}: {}", key_text(key), quote(value));
                }
            }
        }
        out
    }

    /// Read a snapshot file back, with positions for anything malformed.
    pub fn parse(file: &Arc<SourceFile>) -> Result<Snapshot, SnapshotError> {
        let error = |offset: usize, message: String| {
            let at = file.line_col(offset);
            SnapshotError {
                file: file.display.clone(),
                line: at.line,
                column: at.column,
                message,
            }
        };
        let loaded = yaml::load(&file.text);
        if let Some(e) = loaded.errors.first() {
            return Err(error(e.span.start, e.kind.to_string()));
        }
        let Some(root) = loaded.documents.first().filter(|d| d.as_map().is_some()) else {
            return Err(error(
                0,
                "expected a mapping with `rule`, `title` and `hits`".into(),
            ));
        };
        let text = |key: &str| -> Result<String, SnapshotError> {
            root.get(key)
                .and_then(Node::as_str)
                .map(str::to_string)
                .ok_or_else(|| error(root.span.start, format!("`{key}` is missing or not text")))
        };
        let mut snapshot = Snapshot {
            rule: text("rule")?,
            title: text("title")?,
            hits: BTreeMap::new(),
        };
        let hits = root
            .get("hits")
            .ok_or_else(|| error(root.span.start, "`hits` is missing".into()))?;
        let Some(fixtures) = hits.as_map() else {
            return Err(error(
                hits.span.start,
                "`hits` must map fixtures to lists".into(),
            ));
        };
        for entry in fixtures {
            let Some(list) = entry.value.as_seq() else {
                return Err(error(
                    entry.value.span.start,
                    "expected a list of hits".into(),
                ));
            };
            let mut parsed = Vec::with_capacity(list.len());
            for item in list {
                let line = item
                    .get("line")
                    .and_then(Node::as_str)
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| error(item.span.start, "a hit needs `line: N`".into()))?;
                let mut event = Vec::new();
                if let Some(fields) = item.get("event") {
                    let Some(fields) = fields.as_map() else {
                        return Err(error(fields.span.start, "`event` must be a mapping".into()));
                    };
                    for field in fields {
                        let value = field.value.as_str().ok_or_else(|| {
                            error(field.value.span.start, "expected a text value".into())
                        })?;
                        event.push((field.key_str().to_string(), value.to_string()));
                    }
                }
                parsed.push(SnapHit { line, event });
            }
            snapshot.hits.insert(entry.key_str().to_string(), parsed);
        }
        Ok(snapshot)
    }
}

/// A YAML double-quoted scalar. JSON string syntax is a subset of YAML's,
/// so serde_json's escaping is exact for every character.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A key as written: plain when it cannot be misread, quoted otherwise.
fn key_text(key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { key.to_string() } else { quote(key) }
}

/// A unified line diff of two snapshot texts, `-` old and `+` new, with a
/// little context; coloured when `color` is set.
pub fn diff(old: &str, new: &str, color: bool) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(2) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let (sign, style) = match change.tag() {
                    similar::ChangeTag::Delete => ("-", "\x1b[31m"),
                    similar::ChangeTag::Insert => ("+", "\x1b[32m"),
                    similar::ChangeTag::Equal => (" ", ""),
                };
                let line = change.value().trim_end_matches('\n');
                if color && !style.is_empty() {
                    let _ = writeln!(out, "{style}{sign}{line}\x1b[0m");
                } else {
                    let _ = writeln!(out, "{sign}{line}");
                }
            }
        }
        out.push_str("...\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let mut hits = BTreeMap::new();
        hits.insert(
            "ransomware/tp.ndjson".to_string(),
            vec![
                SnapHit {
                    line: 2,
                    event: vec![
                        ("Timestamp".into(), "2025-03-14T02:00:00Z".into()),
                        (
                            "ProcessCommandLine".into(),
                            "vssadmin \"delete\" shadows\n\u{e9}".into(),
                        ),
                        ("yes".into(), "true".into()),
                    ],
                },
                SnapHit {
                    line: 5,
                    event: Vec::new(),
                },
            ],
        );
        Snapshot {
            rule: "9d9dc299-61ab-4f9f-ba84-95148431ff9d".into(),
            title: "Shadow copies: deleted".into(),
            hits,
        }
    }

    #[test]
    fn rendering_round_trips() {
        let snapshot = sample();
        let text = snapshot.render();
        insta::assert_snapshot!(text);
        let file = SourceFile::virtual_file("x.snap.yml", &text);
        assert_eq!(Snapshot::parse(&file).expect("parses"), snapshot);
        let empty = Snapshot {
            hits: BTreeMap::new(),
            ..sample()
        };
        let file = SourceFile::virtual_file("x.snap.yml", &empty.render());
        assert_eq!(Snapshot::parse(&file).expect("parses"), empty);
    }

    #[test]
    fn corrupted_snapshots_are_located() {
        let file = SourceFile::virtual_file(
            "x.snap.yml",
            "rule: a\ntitle: b\nhits:\n  f.ndjson:\n    - line: two\n",
        );
        let e = Snapshot::parse(&file).expect_err("bad line");
        assert_eq!((e.line, e.column), (5, 7));
        let file = SourceFile::virtual_file("x.snap.yml", "rule: [a\n");
        assert!(Snapshot::parse(&file).is_err());
    }

    #[test]
    fn names_and_diffs() {
        assert_eq!(file_name("a b/c"), "a_b_c.snap.yml");
        let d = diff("a\nb\nc\n", "a\nB\nc\n", false);
        assert_eq!(d, " a\n-b\n+B\n c\n...\n");
        assert_eq!(short_value(&"x".repeat(200)).len(), 163);
    }
}
