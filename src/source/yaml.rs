//! YAML with a span on every node.
//!
//! This is the only module that knows the YAML parser (saphyr-parser). It
//! turns the parser's event stream into our own small [`Node`] tree so the
//! parser can be swapped without touching the rest of stetho.
//!
//! Why our own tree instead of a typed loader:
//! - every node *and key* keeps its byte span, so a schema error at
//!   `/detection/sel/Image|endswith` points at that exact line and column;
//! - scalars keep their raw text and quoting style, and we type them
//!   ourselves. A YAML 1.2 loader reads SigmaHQ's `Details|contains: [00000429]`
//!   as the number 429; Sigma values are strings unless a numeric modifier
//!   needs a number, so the raw text must survive;
//! - rule files never need anchors, aliases, tags or merge keys (SigmaHQ uses
//!   none), so we reject them instead of expanding them. That makes
//!   "billion laughs" alias bombs impossible rather than merely limited;
//! - duplicate keys are an error (PyYAML, and so pySigma, rejects them too)
//!   instead of a silent last-wins.

mod subset;

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Parser, ScalarStyle, ScanError};
use thiserror::Error;

use super::Span;

use crate::limits::MAX_YAML_DEPTH;

/// How a scalar was written in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Style {
    pub fn is_quoted(self) -> bool {
        !matches!(self, Style::Plain)
    }
}

/// A scalar: its text after YAML unescaping, and how it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
}

/// The value of a scalar, typed by stetho's conservative rules (see [`Scalar::typed`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Typed<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Scalar {
    /// Type a scalar the way a Sigma rule author means it.
    ///
    /// Quoted and block scalars are always strings. A plain scalar is `null`
    /// for `null`/`~`/empty, a boolean for `true`/`false`, an integer only
    /// when it has no leading zero (so `00000429` stays the string it is in
    /// SigmaHQ), a float for plain decimal notation, and a string otherwise.
    pub fn typed(&self) -> Typed<'_> {
        if self.style.is_quoted() {
            return Typed::Str(&self.text);
        }
        let t = self.text.as_str();
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return Typed::Null,
            "true" | "True" | "TRUE" => return Typed::Bool(true),
            "false" | "False" | "FALSE" => return Typed::Bool(false),
            _ => {}
        }
        if is_canonical_int(t)
            && let Ok(i) = t.parse::<i64>()
        {
            return Typed::Int(i);
        }
        if is_canonical_float(t)
            && let Ok(f) = t.parse::<f64>()
            && f.is_finite()
        {
            return Typed::Float(f);
        }
        Typed::Str(t)
    }

    /// Why YAML 1.1 (PyYAML, so pySigma) and YAML 1.2 read this plain scalar
    /// differently, if they do.
    pub fn yaml11_ambiguity(&self) -> Option<&'static str> {
        if self.style != Style::Plain {
            return None;
        }
        let t = self.text.as_str();
        match t {
            "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N" | "no" | "No" | "NO" | "on" | "On"
            | "ON" | "off" | "Off" | "OFF" => {
                return Some("YAML 1.1 reads it as a boolean, YAML 1.2 as a string");
            }
            _ => {}
        }
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return Some(
                "a number with a leading zero: YAML 1.1 reads it as octal or a string, YAML 1.2 as a decimal number",
            );
        }
        let radix = |prefix: &str, valid: fn(u8) -> bool| {
            digits
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(valid))
        };
        if radix("0o", |b| (b'0'..=b'7').contains(&b)) || radix("0b", |b| b == b'0' || b == b'1') {
            return Some("YAML 1.1 and YAML 1.2 disagree on this number prefix");
        }
        if digits.contains('_')
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && digits.bytes().any(|b| b.is_ascii_digit())
        {
            return Some(
                "YAML 1.1 reads digits with underscores as a number, YAML 1.2 as a string",
            );
        }
        if digits.contains(':')
            && digits
                .split(':')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && digits.split(':').skip(1).all(|p| p.len() <= 2)
        {
            return Some("YAML 1.1 reads it as a base-60 number, YAML 1.2 as a string");
        }
        None
    }
}

fn is_canonical_int(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

fn is_canonical_float(t: &str) -> bool {
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let Some((int, frac)) = mantissa.split_once('.') else {
        return false;
    };
    let int_ok = int.is_empty()
        || (int.bytes().all(|b| b.is_ascii_digit()) && (int == "0" || !int.starts_with('0')));
    let frac_ok = frac.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    int_ok && frac_ok && exp_ok && !(int.is_empty() && frac.is_empty())
}

/// One mapping entry. Keys are always scalars in rule files.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Entry {
    pub fn key_str(&self) -> &str {
        self.key.as_str().unwrap_or("")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A YAML node and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

impl Node {
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text, whatever its type (`429` and `'429'` both give "429").
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }

    /// A scalar that is a string under stetho's typing (not null, bool or number).
    pub fn as_string(&self) -> Option<&str> {
        match self.as_scalar()?.typed() {
            Typed::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.as_scalar().map(Scalar::typed), Some(Typed::Null))
    }

    /// The entry for `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key.as_str() == Some(key))
    }

    /// The value for `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follow a path of mapping keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// A string or a list of strings, as Sigma allows for many attributes.
    pub fn string_list(&self) -> Vec<(&str, Span)> {
        match &self.kind {
            NodeKind::Scalar(s) => vec![(s.text.as_str(), self.span)],
            NodeKind::Seq(items) => items
                .iter()
                .filter_map(|n| n.as_str().map(|s| (s, n.span)))
                .collect(),
            NodeKind::Map(_) => Vec::new(),
        }
    }

    /// Convert to JSON for schema validation, typing scalars with [`Scalar::typed`].
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Scalar(s) => match s.typed() {
                Typed::Null => Value::Null,
                Typed::Bool(b) => Value::Bool(b),
                Typed::Int(i) => Value::from(i),
                Typed::Float(f) => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(s.text.clone())),
                Typed::Str(t) => Value::String(t.to_string()),
            },
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key_str().to_string(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Find the span for a JSON pointer (RFC 6901) into this node.
    ///
    /// When `prefer_key` is set and the last step is a mapping key, the key's
    /// span is returned: "unknown property" and "bad key" errors belong on the
    /// key, value errors on the value.
    pub fn span_at_pointer(&self, pointer: &str, prefer_key: bool) -> Span {
        let mut node = self;
        let mut key_span = None;
        for raw in pointer.split('/').skip(1) {
            let step = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                NodeKind::Map(entries) => entries.iter().find(|e| e.key_str() == step).map(|e| {
                    key_span = Some(e.key.span);
                    &e.value
                }),
                NodeKind::Seq(items) => step.parse::<usize>().ok().and_then(|i| {
                    key_span = None;
                    items.get(i)
                }),
                NodeKind::Scalar(_) => None,
            };
            match next {
                Some(n) => node = n,
                None => return node.span,
            }
        }
        match (prefer_key, key_span) {
            (true, Some(span)) => span,
            _ => node.span,
        }
    }

    /// Visit every node, depth first, in file order.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Node)) {
        visit(self);
        match &self.kind {
            NodeKind::Scalar(_) => {}
            NodeKind::Seq(items) => items.iter().for_each(|n| n.walk(visit)),
            NodeKind::Map(entries) => entries.iter().for_each(|e| {
                e.key.walk(visit);
                e.value.walk(visit);
            }),
        }
    }
}

/// What can go wrong while reading YAML.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum YamlErrorKind {
    #[error("YAML syntax error: {0}")]
    Syntax(String),
    #[error("duplicate key `{key}`")]
    DuplicateKey { key: String, first: Span },
    /// `more` counts further uses in the same file, reported once.
    #[error("{what} are not allowed in rule files")]
    NotAllowed { what: &'static str, more: usize },
    #[error("nesting deeper than {MAX_YAML_DEPTH} levels")]
    TooDeep,
    #[error("mapping keys must be plain text, not a list or a mapping")]
    ComplexKey,
}

/// A YAML problem at a position. Several can be reported for one file:
/// only a syntax error or excessive depth stops the load.
#[derive(Clone, Debug, Error, PartialEq)]
#[error("{kind}")]
pub struct YamlError {
    pub kind: YamlErrorKind,
    pub span: Span,
}

impl YamlError {
    /// Whether the documents could still be built despite this error.
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, YamlErrorKind::Syntax(_) | YamlErrorKind::TooDeep)
    }
}

/// The documents of a YAML stream, plus every non-fatal problem found.
#[derive(Debug, Default, PartialEq)]
pub struct Loaded {
    pub documents: Vec<Node>,
    pub errors: Vec<YamlError>,
}

/// Parse a YAML stream into documents.
///
/// A syntax error or excessive nesting stops the load (the tree would be
/// meaningless); anchors, aliases, tags, merge keys and duplicate keys are
/// recorded and the load goes on, so one run reports all of them.
///
/// Files in the block-style subset that rule files use are read by
/// [`subset`], several times faster; everything else, errors included, by
/// saphyr. Both give the same tree.
pub fn load(text: &str) -> Loaded {
    load_with_subset(text).unwrap_or_else(|| load_with_saphyr(text))
}

/// The subset reader's tree, or `None` when it gives the file up.
fn load_with_subset(text: &str) -> Option<Loaded> {
    subset::read(text)
}

/// How the two readers did on one text (tests and the `yaml` fuzz target).
#[derive(Debug)]
pub enum ReaderComparison {
    /// The subset reader gave the text up; saphyr reads it.
    GivenUp,
    /// Both built the same tree.
    Same,
    /// A bug: the readers disagree.
    Different { subset: Loaded, saphyr: Loaded },
}

/// Read `text` with both readers and compare their trees.
pub fn compare_readers(text: &str) -> ReaderComparison {
    let Some(subset) = load_with_subset(text) else {
        return ReaderComparison::GivenUp;
    };
    let saphyr = load_with_saphyr(text);
    if subset == saphyr {
        ReaderComparison::Same
    } else {
        ReaderComparison::Different { subset, saphyr }
    }
}

/// [`load`] without the subset reader: saphyr reads every file. Public for
/// the tests and the fuzz target that hold the two readers to the same trees.
pub fn load_with_saphyr(text: &str) -> Loaded {
    let offsets = CharOffsets::new(text);
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    while let Some(item) = parser.next_event() {
        match item {
            Ok((event, span)) => {
                let span = offsets.span(span.start.index(), span.end.index());
                let Some(event) = Event::from_saphyr(event) else {
                    continue;
                };
                let span = tighten(text, &event, span);
                if let Err(fatal) = builder.on_event(event, span) {
                    builder.loaded.errors.push(fatal);
                    builder.loaded.documents.clear();
                    return builder.loaded;
                }
            }
            Err(e) => {
                builder.loaded.errors.push(syntax_error(&e, &offsets));
                builder.loaded.documents.clear();
                return builder.loaded;
            }
        }
    }
    builder.loaded
}

/// Mappings with more entries than this index their keys for duplicate
/// detection.
const KEY_INDEX_FROM: usize = 16;

/// Keep `keys` up to date with the entry just pushed, building the index
/// when the mapping reaches [`KEY_INDEX_FROM`] entries.
fn index_keys(keys: &mut Option<HashMap<String, usize>>, entries: &[Entry]) {
    let key_of = |i: usize| entries[i].key.as_scalar().map(|k| (k.text.clone(), i));
    match keys {
        Some(keys) => keys.extend(key_of(entries.len() - 1)),
        None if entries.len() >= KEY_INDEX_FROM => {
            *keys = Some((0..entries.len()).filter_map(key_of).collect());
        }
        None => {}
    }
}

/// saphyr ends the span of a quoted scalar, and of a flow collection's
/// closing bracket, at the next token, over any spaces and comment after it
/// (`'x'  # note` is all one span). A label belongs on the text alone, as
/// the subset reader reports it.
fn tighten(text: &str, event: &Event<'_>, span: Span) -> Span {
    let bytes = text.as_bytes();
    let quote = match event {
        Event::Scalar(_, Style::SingleQuoted) => b'\'',
        Event::Scalar(_, Style::DoubleQuoted) => b'"',
        Event::SeqEnd | Event::MapEnd
            if matches!(bytes.get(span.start), Some(b']' | b'}')) && span.end > span.start =>
        {
            return Span::new(span.start, span.start + 1);
        }
        _ => return span,
    };
    if bytes.get(span.start) != Some(&quote) {
        return span;
    }
    let mut at = span.start + 1;
    while at < span.end {
        match bytes[at] {
            b'\'' if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') => at += 2,
            b'\\' if quote == b'"' => at += 2,
            b if b == quote => return Span::new(span.start, at + 1),
            _ => at += 1,
        }
    }
    span
}

fn syntax_error(e: &ScanError, offsets: &CharOffsets) -> YamlError {
    let at = offsets.byte(e.marker().index());
    YamlError {
        kind: YamlErrorKind::Syntax(e.info().to_string()),
        span: Span::new(at, at + 1),
    }
}

/// saphyr reports positions as character indices; diagnostics need bytes.
struct CharOffsets {
    /// Byte offset of each character index; empty when the text is ASCII.
    bytes: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> Self {
        let bytes = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(b, _)| b).collect()
        };
        CharOffsets {
            bytes,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.byte(start), self.byte(end))
    }
}

/// One step of a YAML stream, as both readers report it to [`Builder`].
#[derive(Debug, PartialEq)]
enum Event<'a> {
    Scalar(Cow<'a, str>, Style),
    /// A scalar, collection or alias with an anchor or tag (saphyr only).
    Decorated(Decoration, Box<Event<'a>>),
    Alias,
    SeqStart,
    SeqEnd,
    MapStart,
    MapEnd,
}

/// YAML node properties rule files may not use.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Decoration {
    anchor: bool,
    tag: bool,
}

impl<'a> Event<'a> {
    /// saphyr's event as ours; `None` for stream and document boundaries,
    /// which the tree does not record.
    fn from_saphyr(event: saphyr_parser::Event<'a>) -> Option<Self> {
        use saphyr_parser::Event as E;
        let decorate = |event: Event<'a>, anchor: usize, tag: bool| {
            if anchor != 0 || tag {
                let decoration = Decoration {
                    anchor: anchor != 0,
                    tag,
                };
                Event::Decorated(decoration, Box::new(event))
            } else {
                event
            }
        };
        Some(match event {
            E::Scalar(text, style, anchor, tag) => decorate(
                Event::Scalar(text, convert_style(style)),
                anchor,
                tag.is_some(),
            ),
            E::Alias(_) => Event::Alias,
            E::SequenceStart(anchor, tag) => decorate(Event::SeqStart, anchor, tag.is_some()),
            E::MappingStart(anchor, tag) => decorate(Event::MapStart, anchor, tag.is_some()),
            E::SequenceEnd => Event::SeqEnd,
            E::MappingEnd => Event::MapEnd,
            E::StreamStart | E::StreamEnd | E::DocumentStart(_) | E::DocumentEnd | E::Nothing => {
                return None;
            }
        })
    }
}

enum Frame {
    /// Items from `first` on in [`Builder::items`].
    Seq { start: Span, first: usize },
    /// Entries from `first` on in [`Builder::entries`].
    Map {
        start: Span,
        first: usize,
        pending_key: Option<Node>,
        /// Key text → index from `first`, so duplicate detection stays
        /// linear in a mapping with a hundred thousand keys. Built only
        /// once a mapping outgrows [`KEY_INDEX_FROM`] entries: comparing a
        /// rule's dozen keys directly is cheaper than hashing a copy of each.
        keys: Option<HashMap<String, usize>>,
    },
}

/// Builds the tree from the events. The children of every open collection
/// wait in one shared list per kind and move into a vector of their exact
/// size when the collection ends: a vector per collection grown one push
/// at a time, then shrunk to fit, reallocated several times over and
/// left slack in the tree.
struct Builder {
    stack: Vec<Frame>,
    items: Vec<Node>,
    entries: Vec<Entry>,
    loaded: Loaded,
}

impl Default for Builder {
    /// Room for a rule file's open collections from the start: grown from
    /// empty, the shared lists were reallocated half a dozen times per file.
    fn default() -> Builder {
        Builder {
            stack: Vec::with_capacity(16),
            items: Vec::with_capacity(32),
            entries: Vec::with_capacity(64),
            loaded: Loaded::default(),
        }
    }
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        match event {
            Event::Decorated(decoration, event) => {
                if decoration.anchor {
                    self.not_allowed("YAML anchors (`&name`)", span);
                }
                if decoration.tag {
                    self.not_allowed("YAML tags (`!tag`)", span);
                }
                return self.on_event(*event, span);
            }
            Event::Scalar(text, style) => {
                // saphyr's scanner reserves a read buffer's worth in every
                // plain scalar; a tree of thousands of rules would hold that
                // slack.
                let mut text = text.into_owned();
                text.shrink_to_fit();
                let node = Node {
                    span,
                    kind: NodeKind::Scalar(Scalar { text, style }),
                };
                self.push(node);
            }
            Event::Alias => {
                self.not_allowed("YAML aliases (`*name`)", span);
                // Stand in a null so the tree keeps its shape; the alias is
                // never expanded.
                self.push(Node {
                    span,
                    kind: NodeKind::Scalar(Scalar {
                        text: String::new(),
                        style: Style::Plain,
                    }),
                });
            }
            Event::SeqStart => {
                self.open(Frame::Seq {
                    start: span,
                    first: self.items.len(),
                })?;
            }
            Event::MapStart => {
                self.open(Frame::Map {
                    start: span,
                    first: self.entries.len(),
                    pending_key: None,
                    keys: None,
                })?;
            }
            Event::SeqEnd => {
                if let Some(Frame::Seq { start, first }) = self.stack.pop() {
                    // One block copy into a vector of the exact size (and
                    // the shared list keeps its room); draining the list
                    // into a new vector moved the nodes one at a time.
                    let items: Vec<Node> = self.items.split_off(first);
                    let end = items.last().map_or(start.end, |n| n.span.end).max(span.end);
                    self.push(Node {
                        span: Span::new(start.start, end),
                        kind: NodeKind::Seq(items),
                    });
                }
            }
            Event::MapEnd => {
                if let Some(Frame::Map { start, first, .. }) = self.stack.pop() {
                    let entries: Vec<Entry> = self.entries.split_off(first);
                    let end = entries
                        .last()
                        .map_or(start.end, |e| e.value.span.end)
                        .max(span.end);
                    self.push(Node {
                        span: Span::new(start.start, end),
                        kind: NodeKind::Map(entries),
                    });
                }
            }
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_YAML_DEPTH {
            let span = match &frame {
                Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
            };
            return Err(YamlError {
                kind: YamlErrorKind::TooDeep,
                span,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn push(&mut self, node: Node) {
        // Errors go straight into `loaded.errors`, a field apart from the
        // stack: a list per node, empty for all but a handful, cost more
        // to make and merge than the rest of the push.
        let errors = &mut self.loaded.errors;
        match self.stack.last_mut() {
            None => self.loaded.documents.push(node),
            Some(Frame::Seq { .. }) => self.items.push(node),
            Some(Frame::Map {
                first,
                pending_key,
                keys,
                ..
            }) => match pending_key.take() {
                None => {
                    if node.as_scalar().is_none() {
                        errors.push(YamlError {
                            kind: YamlErrorKind::ComplexKey,
                            span: node.span,
                        });
                    } else if node.as_str() == Some("<<") {
                        errors.push(YamlError {
                            kind: YamlErrorKind::NotAllowed {
                                what: "YAML merge keys (`<<`)",
                                more: 0,
                            },
                            span: node.span,
                        });
                    }
                    *pending_key = Some(node);
                }
                Some(key) => {
                    let entries = &self.entries[*first..];
                    let duplicate = key.as_scalar().and_then(|k| match keys {
                        Some(keys) => keys.get(&k.text).map(|&i| &entries[i]),
                        None => entries
                            .iter()
                            .find(|e| e.key.as_scalar().is_some_and(|s| s.text == k.text)),
                    });
                    match duplicate {
                        Some(first) => errors.push(YamlError {
                            kind: YamlErrorKind::DuplicateKey {
                                key: key.as_str().unwrap_or_default().to_string(),
                                first: first.key.span,
                            },
                            span: key.span,
                        }),
                        None => {
                            self.entries.push(Entry { key, value: node });
                            index_keys(keys, &self.entries[*first..]);
                        }
                    }
                }
            },
        }
    }

    /// Report the first use of a forbidden feature; count the rest, so an
    /// alias bomb gives one finding, not thousands.
    fn not_allowed(&mut self, what: &'static str, span: Span) {
        for error in &mut self.loaded.errors {
            if let YamlErrorKind::NotAllowed { what: w, more } = &mut error.kind
                && *w == what
            {
                *more += 1;
                return;
            }
        }
        self.loaded.errors.push(YamlError {
            kind: YamlErrorKind::NotAllowed { what, more: 0 },
            span,
        });
    }
}

fn convert_style(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let loaded = load(text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.documents.into_iter().next().expect("a document")
    }

    #[test]
    fn keeps_raw_text_of_leading_zero_numbers() {
        let doc = one("a: [00000429, 0429, 429, '0429']\n");
        let items = doc.get("a").and_then(Node::as_seq).unwrap();
        let typed: Vec<_> = items
            .iter()
            .map(|n| n.as_scalar().unwrap().typed())
            .collect();
        assert_eq!(
            typed,
            vec![
                Typed::Str("00000429"),
                Typed::Str("0429"),
                Typed::Int(429),
                Typed::Str("0429")
            ]
        );
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "title: t\ndetection:\n  sel:\n    Image|endswith: x\n";
        let doc = one(text);
        let key = doc.span_at_pointer("/detection/sel/Image|endswith", true);
        assert_eq!(&text[key.start..key.end], "Image|endswith");
        let value = doc.span_at_pointer("/detection/sel/Image|endswith", false);
        assert_eq!(&text[value.start..value.end], "x");
    }

    #[test]
    fn spans_are_bytes_even_after_multibyte_text() {
        let text = "title: café\nlevel: critcal\n";
        let doc = one(text);
        let span = doc.span_at_pointer("/level", false);
        assert_eq!(&text[span.start..span.end], "critcal");
    }

    #[test]
    fn duplicate_keys_are_errors_that_point_at_the_second_key() {
        let loaded = load("a: 1\nb: 2\na: 3\n");
        assert_eq!(loaded.errors.len(), 1);
        let err = &loaded.errors[0];
        assert!(matches!(err.kind, YamlErrorKind::DuplicateKey { .. }));
        assert_eq!(err.span.start, 10);
        assert_eq!(loaded.documents.len(), 1);
    }

    /// Ten levels of ten aliases each: 10^10 nodes if expanded.
    fn billion_laughs() -> String {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            let refs = vec![format!("*a{p}"); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn a_billion_laughs_document_stays_its_own_size() {
        let text = billion_laughs();
        let loaded = load(&text);
        assert_eq!(loaded.errors.len(), 2, "{:?}", loaded.errors);
        assert_eq!(
            loaded.errors[0].kind,
            YamlErrorKind::NotAllowed {
                what: "YAML anchors (`&name`)",
                more: 9
            }
        );
        assert_eq!(&text[loaded.errors[0].span.start..][..3], "&a0");
        assert_eq!(
            loaded.errors[1].kind,
            YamlErrorKind::NotAllowed {
                what: "YAML aliases (`*name`)",
                more: 89
            }
        );
        let mut nodes = 0;
        loaded.documents[0].walk(&mut |_| nodes += 1);
        assert!(nodes < 200, "{nodes} nodes");
    }

    #[test]
    fn a_mapping_with_many_keys_loads_in_linear_time() {
        let text: String = (0..200_000).map(|i| format!("k{i}: {i}\n")).collect();
        let started = std::time::Instant::now();
        let loaded = load(&format!("{text}k7: again\n"));
        assert_eq!(loaded.errors.len(), 1);
        assert!(matches!(
            loaded.errors[0].kind,
            YamlErrorKind::DuplicateKey { .. }
        ));
        assert!(started.elapsed().as_secs() < 30);
    }

    #[test]
    fn nesting_past_the_limit_is_fatal_and_located() {
        let text = format!(
            "{}1{}",
            "[".repeat(MAX_YAML_DEPTH + 1),
            "]".repeat(MAX_YAML_DEPTH + 1)
        );
        let loaded = load(&text);
        assert_eq!(loaded.errors.len(), 1);
        assert_eq!(loaded.errors[0].kind, YamlErrorKind::TooDeep);
        assert_eq!(loaded.errors[0].span.start, MAX_YAML_DEPTH);
        assert!(loaded.documents.is_empty());
    }

    #[test]
    fn aliases_are_rejected_not_expanded() {
        let loaded = load("a: &x [1, 2]\nb: [*x, *x]\n");
        let kinds: Vec<_> = loaded.errors.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                YamlErrorKind::NotAllowed {
                    what: "YAML anchors (`&name`)",
                    more: 0
                },
                YamlErrorKind::NotAllowed {
                    what: "YAML aliases (`*name`)",
                    more: 1
                },
            ]
        );
    }

    #[test]
    fn deep_nesting_stops_with_an_error() {
        let text = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        let loaded = load(&text);
        assert!(loaded.errors.iter().any(YamlError::is_fatal));
        assert!(loaded.documents.is_empty());
    }

    #[test]
    fn multi_document_streams() {
        let loaded = load("a: 1\n---\nb: 2\n");
        assert_eq!(loaded.documents.len(), 2);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let loaded = load("a: [1, 2\nb: 3\n");
        assert_eq!(loaded.errors.len(), 1);
        assert!(matches!(loaded.errors[0].kind, YamlErrorKind::Syntax(_)));
    }

    #[test]
    fn ambiguous_plain_scalars() {
        let s = |t: &str| Scalar {
            text: t.into(),
            style: Style::Plain,
        };
        assert!(s("yes").yaml11_ambiguity().is_some());
        assert!(s("00000429").yaml11_ambiguity().is_some());
        assert!(s("1_000").yaml11_ambiguity().is_some());
        assert!(s("190:20:30").yaml11_ambiguity().is_some());
        assert!(s("4624").yaml11_ambiguity().is_none());
        assert!(
            s("0b0c7d52-3d0e-4b6f-8f0f-4a3f1c2d9e01")
                .yaml11_ambiguity()
                .is_none()
        );
        assert!(s("0b101").yaml11_ambiguity().is_some());
        assert!(s("cmd.exe").yaml11_ambiguity().is_none());
        assert!(s("C:\\Windows").yaml11_ambiguity().is_none());
    }
}
