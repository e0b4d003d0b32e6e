//! A small, deterministic YAML emitter for exported Sigma documents.
//!
//! Block style only, four spaces per level (SigmaHQ's layout), keys in the
//! order they are given. Scalars keep what their source said they were: a
//! number, boolean or `null` is written as it was, a string stays a string.
//! A string keeps its source's quoting: a quoted one is single-quoted
//! (double-quoted when it holds characters a single-quoted scalar cannot),
//! a plain one stays plain unless YAML 1.1 (PyYAML, so pySigma) or YAML 1.2
//! could read it as something else; text spanning lines is a literal block
//! (`|`), and a folded source scalar (`>-`) is written folded again.
//!
//! Every document is read back with stetho's own YAML loader and compared
//! with what was meant ([`verify`]); a difference is an error, never a
//! silently different rule.

use std::fmt::Write as _;

use crate::source::yaml::{self, Node, NodeKind, Scalar, Style, Typed};

/// Columns a folded block line may take before it is wrapped.
const FOLD_WIDTH: usize = 96;

/// A scalar to write.
#[derive(Clone, Debug, PartialEq)]
pub enum OutScalar {
    /// A number, boolean or null, written as this text, unquoted.
    Raw(String),
    /// A string, with the style its source had: quoted stays quoted, a
    /// folded block stays folded, plain stays plain where that is safe.
    Str { text: String, style: Style },
}

impl OutScalar {
    /// A new plain string (quoted if it must be).
    pub fn string(text: impl Into<String>) -> Out {
        Out::Scalar(OutScalar::Str {
            text: text.into(),
            style: Style::Plain,
        })
    }

    /// A new single-quoted string.
    pub fn quoted(text: impl Into<String>) -> Out {
        Out::Scalar(OutScalar::Str {
            text: text.into(),
            style: Style::SingleQuoted,
        })
    }
}

/// A mapping entry, with comment lines written above it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutEntry {
    pub comments: Vec<String>,
    pub key: String,
    pub value: Out,
}

impl OutEntry {
    pub fn new(key: impl Into<String>, value: Out) -> OutEntry {
        OutEntry {
            comments: Vec::new(),
            key: key.into(),
            value,
        }
    }
}

/// A node to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    Scalar(OutScalar),
    Seq(Vec<Out>),
    Map(Vec<OutEntry>),
}

impl Out {
    /// The same tree as a source node, scalars typed as stetho reads them.
    pub fn from_node(node: &Node) -> Out {
        match &node.kind {
            NodeKind::Scalar(s) => Out::Scalar(scalar_of(s)),
            NodeKind::Seq(items) => Out::Seq(items.iter().map(Out::from_node).collect()),
            NodeKind::Map(entries) => Out::Map(
                entries
                    .iter()
                    .map(|e| OutEntry::new(e.key_str(), Out::from_node(&e.value)))
                    .collect(),
            ),
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Vec<OutEntry>> {
        match self {
            Out::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// A source scalar as an output scalar.
pub fn scalar_of(s: &Scalar) -> OutScalar {
    match s.typed() {
        Typed::Str(text) => OutScalar::Str {
            text: text.to_string(),
            style: s.style,
        },
        Typed::Null => OutScalar::Raw("null".into()),
        _ => OutScalar::Raw(s.text.clone()),
    }
}

/// One YAML document (without the `---` separator), ending in a newline.
pub fn document(entries: &[OutEntry]) -> String {
    let mut out = String::new();
    map(entries, 0, &mut out);
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn comments(lines: &[String], indent: usize, out: &mut String) {
    for line in lines {
        pad(out, indent);
        let _ = writeln!(out, "# {}", line.replace(['\n', '\r'], " "));
    }
}

fn map(entries: &[OutEntry], indent: usize, out: &mut String) {
    for entry in entries {
        comments(&entry.comments, indent, out);
        pad(out, indent);
        entry_body(entry, indent, out);
    }
}

/// `key: value` from the key on (the caller wrote the indentation).
fn entry_body(entry: &OutEntry, indent: usize, out: &mut String) {
    out.push_str(&key(&entry.key));
    out.push(':');
    value_after_colon(&entry.value, indent, out);
}

fn value_after_colon(value: &Out, indent: usize, out: &mut String) {
    match value {
        Out::Scalar(s) => {
            out.push(' ');
            scalar(s, indent + 4, out);
            out.push('\n');
        }
        Out::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Out::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Out::Seq(items) => {
            out.push('\n');
            seq(items, indent + 4, out);
        }
        Out::Map(entries) => {
            out.push('\n');
            map(entries, indent + 4, out);
        }
    }
}

fn seq(items: &[Out], indent: usize, out: &mut String) {
    for item in items {
        match item {
            Out::Scalar(s) => {
                pad(out, indent);
                out.push_str("- ");
                scalar(s, indent + 2, out);
                out.push('\n');
            }
            Out::Seq(inner) if inner.is_empty() => {
                pad(out, indent);
                out.push_str("- []\n");
            }

            Out::Seq(inner) => {
                pad(out, indent);
                out.push_str("-\n");
                seq(inner, indent + 2, out);
            }
            Out::Map(entries) => match entries.split_first() {
                // The first key goes on the dash line; its comments above it.
                Some((first, rest)) => {
                    comments(&first.comments, indent, out);
                    pad(out, indent);
                    out.push_str("- ");
                    entry_body(first, indent + 2, out);
                    map(rest, indent + 2, out);
                }
                None => {
                    pad(out, indent);
                    out.push_str("- {}\n");
                }
            },
        }
    }
}

fn key(text: &str) -> String {
    if plain_safe(text) {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// Write a scalar in place; block scalars continue on lines at `indent`.
fn scalar(s: &OutScalar, indent: usize, out: &mut String) {
    match s {
        OutScalar::Raw(text) => out.push_str(text),
        OutScalar::Str { text, style } => {
            if text.contains('\n') {
                match literal(text, indent) {
                    Some(block) => out.push_str(&block),
                    None => out.push_str(&double_quoted(text)),
                }
            } else if *style == Style::Folded
                && let Some(block) = folded_block(text, indent)
            {
                out.push_str(&block);
            } else if *style == Style::Plain && plain_safe(text) {
                out.push_str(text);
            } else {
                out.push_str(&quoted(text));
            }
        }
    }
}

/// Whether a character may stand unescaped in a quoted or block scalar.
fn printable(c: char) -> bool {
    let line_or_byte_order = matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    );
    c == '\t' || !(c.is_control() || line_or_byte_order)
}

/// A string that every YAML reader (1.1 and 1.2) takes, unquoted, as this
/// very string. Deliberately conservative: anything doubtful is quoted.
pub fn plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if text.starts_with(char::is_whitespace) || text.ends_with(char::is_whitespace) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`.<=~+".contains(first) || looks_like_a_number(text) {
        return false;
    }
    if text.chars().any(|c| !printable(c) || c == '\t') {
        return false;
    }
    if text.contains(": ") || text.contains(" #") || text.ends_with(':') {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    !matches!(
        lower.as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    )
}

/// Whether YAML 1.1 (PyYAML, so pySigma) or YAML 1.2 reads this plain
/// text as an integer, a float or a timestamp.
fn looks_like_a_number(text: &str) -> bool {
    static PATTERNS: std::sync::OnceLock<Option<regex::RegexSet>> = std::sync::OnceLock::new();
    let set = PATTERNS.get_or_init(|| {
        regex::RegexSet::new([
            // YAML 1.1 int (binary, octal, decimal, hex, base 60).
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            // YAML 1.1 float.
            r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*)$",
            // YAML 1.1 timestamp.
            r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$",
            // YAML 1.2 core int and float.
            r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$",
            r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        ])
        .ok()
    });
    // Without the patterns, any leading digit counts (quoting is never wrong).
    set.as_ref()
        .map_or(text.starts_with(|c: char| c.is_ascii_digit()), |s| {
            s.is_match(text)
        })
}

/// Single-quoted when possible (Sigma's style), else double-quoted.
pub(crate) fn quoted(text: &str) -> String {
    if text.chars().all(printable) && !text.contains('\t') {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        double_quoted(text)
    }
}

fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !printable(c) => {
                let code = u32::from(c);
                if code <= 0xFF {
                    let _ = write!(out, "\\x{code:02x}");
                } else {
                    let _ = write!(out, "\\u{code:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A literal block (`|`, `|-`) for multi-line text, when one can hold it.
fn literal(text: &str, indent: usize) -> Option<String> {
    let body = text.strip_suffix('\n');
    let (header, content) = match body {
        Some(b) if b.ends_with('\n') || b.is_empty() => return None,
        Some(b) => ("|", b),
        None => ("|-", text),
    };
    let first = content.lines().find(|l| !l.is_empty())?;
    if first.starts_with([' ', '\t'])
        || content.chars().any(|c| c != '\n' && !printable(c))
        || content.starts_with('\n')
    {
        return None;
    }
    let mut out = String::from(header);
    for line in content.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(&mut out, indent);
            out.push_str(line);
        }
    }
    Some(out)
}

/// A folded block (`>-`) of single-line text, wrapped at single spaces.
fn folded_block(text: &str, indent: usize) -> Option<String> {
    if text.is_empty()
        || text.starts_with(' ')
        || text.ends_with(' ')
        || text.contains("  ")
        || text.chars().any(|c| !printable(c) || c == '\t')
    {
        return None;
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        if !current.is_empty() && current.len() + 1 + word.len() > FOLD_WIDTH {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    let mut out = String::from(">-");
    for line in lines {
        out.push('\n');
        pad(&mut out, indent);
        out.push_str(&line);
    }
    Some(out)
}

/// Read an emitted stream back and compare it with the documents meant.
pub fn verify(text: &str, documents: &[Vec<OutEntry>]) -> Result<(), String> {
    let loaded = yaml::load(text);
    if let Some(e) = loaded.errors.first() {
        return Err(format!("the exported YAML does not parse: {e}"));
    }
    if loaded.documents.len() != documents.len() {
        return Err(format!(
            "the exported YAML holds {} documents, not {}",
            loaded.documents.len(),
            documents.len()
        ));
    }
    for (node, meant) in loaded.documents.iter().zip(documents) {
        same(node, &Out::Map(meant.clone()), "")?;
    }
    Ok(())
}

fn same(node: &Node, meant: &Out, path: &str) -> Result<(), String> {
    let differs = || Err(format!("`{path}` does not read back as written"));
    match (&node.kind, meant) {
        (NodeKind::Scalar(s), Out::Scalar(OutScalar::Raw(raw))) => {
            let expected = Scalar {
                text: raw.clone(),
                style: Style::Plain,
            };
            if s.style.is_quoted() || s.typed() != expected.typed() {
                return differs();
            }
        }
        (NodeKind::Scalar(s), Out::Scalar(OutScalar::Str { text, .. })) => {
            if s.typed() != Typed::Str(text) {
                return differs();
            }
        }
        (NodeKind::Seq(items), Out::Seq(meant)) => {
            if items.len() != meant.len() {
                return differs();
            }
            for (i, (n, m)) in items.iter().zip(meant).enumerate() {
                same(n, m, &format!("{path}/{i}"))?;
            }
        }
        (NodeKind::Map(entries), Out::Map(meant)) => {
            if entries.len() != meant.len() {
                return differs();
            }
            for (e, m) in entries.iter().zip(meant) {
                if e.key_str() != m.key {
                    return differs();
                }
                same(&e.value, &m.value, &format!("{path}/{}", m.key))?;
            }
        }
        _ => return differs(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Out {
        OutScalar::string(text)
    }

    fn round_trip(entries: Vec<OutEntry>) -> String {
        let text = document(&entries);
        verify(&text, &[entries]).unwrap_or_else(|e| panic!("{e}\n{text}"));
        text
    }

    #[test]
    fn strings_that_look_like_other_types_are_quoted() {
        for text in [
            "4688",
            "00000429",
            "0o17",
            "1_000",
            "190:20:30",
            "1e5",
            "0x1F",
            "true",
            "No",
            "null",
            "~",
            "2017-05-09",
            "2001-12-14t21:59:43.10-05:00",
            "1.5",
            ".inf",
            "-enc",
            "a: b",
            "x #y",
            "'q'",
            "",
            " lead",
            "trail ",
            "%name%",
            "*.exe",
            "|all",
        ] {
            assert!(!plain_safe(text), "{text:?}");
            round_trip(vec![OutEntry::new("k", s(text))]);
        }
        for text in [
            "cmd.exe",
            "C:\\Windows\\",
            "a:b",
            "Image|endswith",
            "attack.t1003.001",
            "9d9dc299-61ab-4f9f-ba84-95148431ff9d",
            "3rd",
        ] {
            assert!(plain_safe(text), "{text:?}");
        }
    }

    #[test]
    fn control_characters_and_quotes_survive() {
        for text in [
            "it's",
            "tab\there",
            "bell\u{7}",
            "nul\0",
            "sep\u{2028}",
            "back\\slash\"quote",
            "é ü 中",
        ] {
            round_trip(vec![OutEntry::new("k", s(text))]);
        }
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let text = round_trip(vec![OutEntry::new(
            "description",
            s("First line.\n  indented\n\nlast\n"),
        )]);
        assert!(
            text.starts_with("description: |\n    First line."),
            "{text}"
        );
        round_trip(vec![OutEntry::new("d", s("no newline at end\nsecond"))]);
        round_trip(vec![OutEntry::new("d", s(" starts with space\nx\n"))]);
        round_trip(vec![OutEntry::new("d", s("two trailing\n\n"))]);
        round_trip(vec![OutEntry::new("d", s("carriage\r\nreturn"))]);
    }

    #[test]
    fn folded_scalars_stay_folded_and_exact() {
        let long = "(sel_a and (sel_b or (sel_c and sel_d))) or (sel_e and sel_f) or (sel_g and ((sel_h and sel_i) or sel_j)) or sel_k";
        let text = round_trip(vec![OutEntry::new(
            "condition",
            Out::Scalar(OutScalar::Str {
                text: long.into(),
                style: Style::Folded,
            }),
        )]);
        assert!(text.starts_with("condition: >-\n    (sel_a"), "{text}");
    }

    #[test]
    fn nested_layout_matches_sigmahq() {
        let sel = Out::Seq(vec![
            Out::Map(vec![OutEntry::new("Image|endswith", s("\\cmd.exe"))]),
            Out::Map(vec![
                OutEntry {
                    comments: vec!["note".into()],
                    key: "CommandLine|contains|all".into(),
                    value: Out::Seq(vec![s("a"), s("b")]),
                },
                OutEntry::new("Count", Out::Scalar(OutScalar::Raw("5".into()))),
            ]),
        ]);
        let text = round_trip(vec![OutEntry::new(
            "detection",
            Out::Map(vec![
                OutEntry::new("sel", sel),
                OutEntry::new("empty", Out::Seq(vec![])),
                OutEntry::new("condition", s("sel")),
            ]),
        )]);
        assert_eq!(
            text,
            "detection:\n    sel:\n        - Image|endswith: \\cmd.exe\n        # note\n        - CommandLine|contains|all:\n              - a\n              - b\n          Count: 5\n    empty: []\n    condition: sel\n"
        );
    }
}
