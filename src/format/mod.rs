//! `stetho fmt`: rule files in one canonical layout, comments kept.
//!
//! The layout is what SigmaHQ and the shipped rules use: block style, four
//! spaces per level, keys in the canonical order of
//! [`crate::model::order`] (`detection` keeps its selections in the
//! author's order and ends with `timeframe` and `condition`), strings
//! quoted only when they must be ([`scalar`]). Comments are recovered from
//! the text around the nodes ([`comments`]) and move with the key or item
//! they belong to ([`layout`]).
//!
//! Formatting never changes what a rule says: the result is loaded again
//! and compared with the original, value by value and comment by comment
//! ([`verify`]). What the formatter cannot lay out safely (mixed line
//! endings, `|2` or `|+` block scalars, plain scalars with blank lines,
//! YAML directives, `...` markers) is
//! refused with the construct named, and the file is left as it is.
//! Anchors, aliases and tags never get here: the loader rejects them.

mod comments;
mod layout;
mod scalar;
mod verify;

use std::collections::HashMap;

use thiserror::Error;

use crate::source::Span;
use crate::source::yaml::{self, Node, Style};

/// Why a text was not formatted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum FormatError {
    /// A construct the formatter leaves alone; the file is not changed.
    #[error("not formatted: the file uses {construct}")]
    Refused { construct: String, span: Span },
    /// The text does not load (the loader's own diagnostics say why).
    #[error("the file does not load as YAML")]
    NotLoaded,
    /// The formatted text would not mean the same; a formatter bug.
    #[error("formatting would change the file ({reason}); it is left as it is")]
    Unsafe { reason: String },
}

impl FormatError {
    fn refused(construct: impl Into<String>, span: Span) -> Self {
        FormatError::Refused {
            construct: construct.into(),
            span,
        }
    }
}

/// Format a rule file's text (without a byte order mark). The result may
/// equal the input.
///
/// A file with CRLF line endings throughout (as Windows editors save it)
/// is formatted as if it had LF ones and written back with CRLF; a file
/// that mixes the two, or holds a carriage return elsewhere, is refused.
pub fn format_text(text: &str) -> Result<String, FormatError> {
    if !text.contains('\r') {
        return format_lf(text);
    }
    // The first carriage return outside a CRLF, or line feed without one.
    let bytes = text.as_bytes();
    let stray = (0..bytes.len()).find(|&i| match bytes[i] {
        b'\r' => bytes.get(i + 1) != Some(&b'\n'),
        b'\n' => i == 0 || bytes[i - 1] != b'\r',
        _ => false,
    });
    if let Some(at) = stray {
        return Err(FormatError::refused(
            "mixed line endings (CRLF and LF), or a carriage return inside a line",
            Span::new(at, at + 1),
        ));
    }
    let lf = text.replace("\r\n", "\n");
    // Spans found in the LF text, moved back past the removed returns.
    let original = |offset: usize| offset + lf[..offset.min(lf.len())].matches('\n').count();
    match format_lf(&lf) {
        Ok(out) => Ok(out.replace('\n', "\r\n")),
        Err(FormatError::Refused { construct, span }) => Err(FormatError::Refused {
            construct,
            span: Span::new(original(span.start), original(span.end)),
        }),
        Err(e) => Err(e),
    }
}

fn format_lf(text: &str) -> Result<String, FormatError> {
    let source = Analysis::of(text)?;
    let mut out = String::new();
    for (i, doc) in source.documents.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let mut elements = Vec::new();
        layout::elements(&doc.node, &source.blocks, &mut elements);
        let attached = comments::attach(text, &doc.comments, &elements);
        let trailing = attached.trailing.clone();
        let mut cx = layout::Context::new(attached, &source.blocks);
        let value = layout::build(&doc.node, &mut Vec::new(), &mut cx);
        layout::write_map(layout::entries(&value), 0, &mut out);
        for comment in trailing {
            out.push_str(&comment);
            out.push('\n');
        }
    }
    let unsafe_ = |reason: String| FormatError::Unsafe { reason };
    let result = Analysis::of(&out).map_err(|e| unsafe_(format!("the output: {e}")))?;
    let nodes = |a: &Analysis| {
        a.documents
            .iter()
            .map(|d| d.node.clone())
            .collect::<Vec<_>>()
    };
    verify::same_documents(&nodes(&source), &nodes(&result)).map_err(unsafe_)?;
    verify::same_comments(source.comment_texts(), result.comment_texts()).map_err(unsafe_)?;
    Ok(out)
}

/// One document of a file: its tree and the comments in its part of the
/// text.
struct Document {
    node: Node,
    comments: Vec<comments::Comment>,
}

/// A file read for formatting.
struct Analysis {
    documents: Vec<Document>,
    blocks: HashMap<usize, scalar::Block>,
}

impl Analysis {
    fn of(text: &str) -> Result<Analysis, FormatError> {
        let loaded = yaml::load(text);
        if !loaded.errors.is_empty() {
            return Err(FormatError::NotLoaded);
        }
        let mut blocks = HashMap::new();
        let mut covered = Vec::new();
        for doc in &loaded.documents {
            if doc.as_map().is_none_or(<[_]>::is_empty) {
                return Err(FormatError::refused(
                    "an empty or non-mapping YAML document",
                    doc.span,
                ));
            }
            let mut refusal = None;
            doc.walk(&mut |node| {
                let Some(s) = node.as_scalar() else { return };
                if s.style == Style::Plain && s.text.contains('\n') {
                    // Only a blank line inside a plain scalar gives a line
                    // break; written on one line it would need quotes.
                    refusal.get_or_insert((
                        "a plain scalar with a blank line in it (quote it or use `|`)",
                        node.span,
                    ));
                    return;
                }
                if !matches!(s.style, Style::Literal | Style::Folded) {
                    covered.push(scalar::extent(
                        text,
                        node.span.start,
                        node.span.end,
                        s.style,
                    ));
                    return;
                }
                let block = scalar::indicator(text, node.span.start)
                    .ok_or(scalar::BlockRefusal::Unrecognised)
                    .and_then(|at| scalar::block(text, at));
                match block {
                    Ok(block) => {
                        covered.push(Span::new(block.content_start, block.end));
                        blocks.insert(node.span.start, block);
                    }
                    Err(r) => {
                        refusal.get_or_insert((r.construct(), node.span));
                    }
                }
            });
            if let Some((construct, span)) = refusal {
                return Err(FormatError::refused(construct, span));
            }
        }
        covered.sort_by_key(|s| s.start);
        let markers = markers(text, &covered)?;
        let starts: Vec<usize> = loaded
            .documents
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                if i == 0 {
                    return Some(0);
                }
                markers
                    .iter()
                    .rev()
                    .find(|m| m.start < doc.span.start)
                    .map(|m| m.start)
            })
            .collect::<Option<_>>()
            .ok_or_else(|| {
                FormatError::refused("documents without `---` between them", Span::new(0, 0))
            })?;
        let documents = loaded
            .documents
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                let end = starts.get(i + 1).copied().unwrap_or(text.len());
                let range = Span::new(starts[i], end);
                Document {
                    comments: comments::scan(text, range, &covered),
                    node,
                }
            })
            .collect();
        Ok(Analysis { documents, blocks })
    }

    fn comment_texts(&self) -> Vec<String> {
        self.documents
            .iter()
            .flat_map(|d| d.comments.iter().map(|c| c.text.clone()))
            .collect()
    }
}

/// The `---` lines between documents; other stream-level syntax is refused.
fn markers(text: &str, covered: &[Span]) -> Result<Vec<Span>, FormatError> {
    let mut found = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let span = Span::new(start, start + line.trim_end().len());
        start += line.len();
        let before = covered.partition_point(|c| c.start <= span.start);
        if before > 0 && span.start < covered[before - 1].end {
            continue;
        }
        let after = |marker: &str| {
            line.strip_prefix(marker)
                .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n']))
                .map(str::trim)
        };
        if let Some(rest) = after("---") {
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(FormatError::refused("content on a `---` line", span));
            }
            found.push(span);
        } else if after("...").is_some() {
            return Err(FormatError::refused("a document end marker (`...`)", span));
        } else if line.starts_with('%') {
            return Err(FormatError::refused("a YAML directive (`%`)", span));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
