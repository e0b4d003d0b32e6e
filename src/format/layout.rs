//! The canonical layout: the node tree rebuilt with its comments and keys
//! in canonical order ([`crate::model::order`]), then written in block
//! style with four spaces per level, as SigmaHQ and the shipped rules are
//! (sequences indented under their key, a mapping in a sequence starting on
//! the dash line).

use std::collections::HashMap;

use super::comments::Attached;
use super::scalar::{self, Block};
use crate::model::order::{self, Step};
use crate::source::yaml::{Node, NodeKind};

/// Spaces per nesting level.
const INDENT: usize = 4;

/// A value laid out, with its comments.
#[derive(Clone, Debug)]
pub enum Value {
    /// A scalar on the line of its key or dash; empty for a bare `key:`.
    Inline(String),
    Block(Block),
    Seq(Vec<Item>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// The key as read, for ordering.
    name: String,
    /// The key as written.
    key: String,
    value: Value,
    above: Vec<String>,
    end_of_line: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Item {
    value: Value,
    above: Vec<String>,
    end_of_line: Vec<String>,
}

/// The elements (mapping entries and sequence items) of a document, by the
/// offset where each starts, in document order. [`build`] visits them in
/// the same order.
/// A block scalar starts at its indicator (the parser's span starts at its
/// content, a line further down).
pub fn elements(node: &Node, blocks: &HashMap<usize, Block>, out: &mut Vec<usize>) {
    match &node.kind {
        NodeKind::Scalar(_) => {}
        NodeKind::Seq(items) => {
            for item in items {
                let start = blocks
                    .get(&item.span.start)
                    .map_or(item.span.start, |b| b.indicator);
                out.push(start);
                elements(item, blocks, out);
            }
        }
        NodeKind::Map(entries) => {
            for entry in entries {
                out.push(entry.key.span.start);
                elements(&entry.value, blocks, out);
            }
        }
    }
}

/// What [`build`] reads besides the tree.
pub struct Context<'a> {
    pub attached: Attached,
    /// Block scalars read from the source, by the offset of their indicator.
    pub blocks: &'a HashMap<usize, Block>,
    next: usize,
}

impl<'a> Context<'a> {
    pub fn new(attached: Attached, blocks: &'a HashMap<usize, Block>) -> Self {
        Context {
            attached,
            blocks,
            next: 0,
        }
    }

    fn take(&mut self) -> (Vec<String>, Vec<String>) {
        let i = self.next;
        self.next += 1;
        let above = self
            .attached
            .above
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        let end_of_line = self
            .attached
            .end_of_line
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        (above, end_of_line)
    }
}

/// Rebuild a node with its comments, mapping keys in canonical order.
pub fn build<'n>(node: &'n Node, path: &mut Vec<Step<'n>>, cx: &mut Context<'_>) -> Value {
    match &node.kind {
        NodeKind::Scalar(s) => match cx.blocks.get(&node.span.start) {
            Some(block) if !matches!(s.style, crate::source::yaml::Style::Plain) => {
                Value::Block(block.clone())
            }
            _ => Value::Inline(scalar::inline(s)),
        },
        NodeKind::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|item| {
                    let (above, end_of_line) = cx.take();
                    path.push(Step::Item);
                    let value = build(item, path, cx);
                    path.pop();
                    Item {
                        value,
                        above,
                        end_of_line,
                    }
                })
                .collect(),
        ),
        NodeKind::Map(entries) => {
            let mut out: Vec<Entry> = entries
                .iter()
                .map(|entry| {
                    let (above, end_of_line) = cx.take();
                    path.push(Step::Key(entry.key_str()));
                    let value = build(&entry.value, path, cx);
                    path.pop();
                    Entry {
                        name: entry.key_str().to_string(),
                        key: entry
                            .key
                            .as_scalar()
                            .map(scalar::inline)
                            .unwrap_or_default(),
                        value,
                        above,
                        end_of_line,
                    }
                })
                .collect();
            order::sort_keys(path, &mut out, |e| e.name.as_str());
            Value::Map(out)
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn above(comments: &[String], indent: usize, out: &mut String) {
    for c in comments {
        pad(out, indent);
        out.push_str(c);
        out.push('\n');
    }
}

fn line_end(comments: &[String], out: &mut String) {
    for c in comments {
        out.push(' ');
        out.push_str(c);
    }
    out.push('\n');
}

fn block_lines(block: &Block, indent: usize, out: &mut String) {
    for line in &block.lines {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// Write a document's top-level mapping (or any mapping) at `indent`.
pub fn write_map(entries: &[Entry], indent: usize, out: &mut String) {
    for entry in entries {
        above(&entry.above, indent, out);
        pad(out, indent);
        entry_body(entry, indent, &[], out);
    }
}

/// `key: value` from the key on; `lead` are end-of-line comments of an
/// enclosing sequence item whose dash line this is.
fn entry_body(entry: &Entry, indent: usize, lead: &[String], out: &mut String) {
    let eol: Vec<String> = lead.iter().chain(&entry.end_of_line).cloned().collect();
    out.push_str(&entry.key);
    out.push(':');
    match &entry.value {
        Value::Inline(text) if text.is_empty() => line_end(&eol, out),
        Value::Inline(text) => {
            out.push(' ');
            out.push_str(text);
            line_end(&eol, out);
        }
        Value::Block(block) => {
            out.push(' ');
            out.push_str(&block.header);
            line_end(&eol, out);
            block_lines(block, indent + INDENT, out);
        }
        Value::Seq(items) if items.is_empty() => {
            out.push_str(" []");
            line_end(&eol, out);
        }
        Value::Map(entries) if entries.is_empty() => {
            out.push_str(" {}");
            line_end(&eol, out);
        }
        Value::Seq(items) => {
            line_end(&eol, out);
            write_seq(items, indent + INDENT, out);
        }
        Value::Map(entries) => {
            line_end(&eol, out);
            write_map(entries, indent + INDENT, out);
        }
    }
}

fn write_seq(items: &[Item], indent: usize, out: &mut String) {
    for item in items {
        above(&item.above, indent, out);
        match &item.value {
            Value::Map(entries) if !entries.is_empty() => {
                // The first key goes on the dash line, its comments above it.
                let (first, rest) = (&entries[0], &entries[1..]);
                above(&first.above, indent, out);
                pad(out, indent);
                out.push_str("- ");
                entry_body(first, indent + 2, &item.end_of_line, out);
                write_map(rest, indent + 2, out);
            }
            value => {
                pad(out, indent);
                out.push('-');
                match value {
                    Value::Inline(text) if text.is_empty() => {}
                    Value::Inline(text) => {
                        out.push(' ');
                        out.push_str(text);
                    }
                    Value::Block(block) => {
                        out.push(' ');
                        out.push_str(&block.header);
                    }
                    Value::Seq(inner) if inner.is_empty() => out.push_str(" []"),
                    Value::Map(_) => out.push_str(" {}"),
                    Value::Seq(_) => {}
                }
                line_end(&item.end_of_line, out);
                match value {
                    Value::Block(block) => block_lines(block, indent + 2, out),
                    Value::Seq(inner) => write_seq(inner, indent + 2, out),
                    _ => {}
                }
            }
        }
    }
}

/// A document's mapping entries, for [`write_map`].
pub fn entries(value: &Value) -> &[Entry] {
    match value {
        Value::Map(entries) => entries,
        _ => &[],
    }
}
