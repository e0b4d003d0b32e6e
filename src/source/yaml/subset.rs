//! A fast reader for the part of YAML that rule files are written in.
//!
//! saphyr parses all of YAML 1.2, character by character through a token
//! queue, and spends about 140 instructions on every byte doing it: loading
//! the YAML was 40% of compiling a rule library. Rule files use a small part
//! of YAML: block mappings and sequences, plain and quoted one-line scalars,
//! plain scalars folded over several lines, literal and folded blocks,
//! one-line flow collections, comments and `---` between documents. This
//! reader handles exactly that part, a line at a time, and reports the same
//! events with the same spans as saphyr (whose spans for quoted scalars and
//! closing brackets the caller first trims to the text, see `tighten`).
//!
//! On anything else (anchors, tags, aliases, tabs, CR line ends, quoted text
//! or flow collections over several lines, a syntax error, ...) it gives up and
//! the caller reads the file with saphyr, which also words every syntax
//! error. Giving up is always safe, so the reader only has to be right about
//! what it accepts. Tests compare the two readers' trees over every YAML
//! file in the repository, and the `yaml` fuzz target over arbitrary text.

use std::borrow::Cow;

use super::{Builder, Event, Loaded, Style};
use crate::limits::MAX_YAML_DEPTH;
use crate::source::Span;

/// The most characters from the start of a block mapping key to its `:`
/// (YAML 1.2, 7.4.2: an implicit key is restricted to 1024 Unicode
/// characters), as saphyr counts them.
const MAX_IMPLICIT_KEY_CHARS: usize = 1024;

/// The tree of `text`, built from the events in saphyr's order and with
/// its spans, or `None` when the text is outside the subset this reader
/// handles. Each event goes to the builder as it is read, not into a list
/// first.
pub(super) fn read(text: &str) -> Option<Loaded> {
    if !within_subset_alphabet(text) {
        return None;
    }
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        builder: Builder::default(),
        refused: false,
        depth: 0,
    };
    reader.stream()?;
    (!reader.refused).then_some(reader.builder.loaded)
}

/// Characters whose handling differs between YAML readers or versions
/// (tabs, carriage returns, byte order marks, C0/C1 controls, Unicode line
/// separators) send the whole file to saphyr.
fn within_subset_alphabet(text: &str) -> bool {
    // Branch-free over the bytes so the compiler vectorises it; this runs on
    // every byte of every rule file.
    let controls = text.bytes().fold(false, |bad, b| {
        bad | ((b < 0x20) & (b != b'\n')) | (b == 0x7f)
    });
    !controls && (text.is_ascii() || !has_special_character(text.as_bytes()))
}

/// Whether valid UTF-8 holds a C1 control (U+0080 to U+009F), a Unicode
/// line or paragraph separator (U+2028, U+2029), a byte order mark
/// (U+FEFF) or a noncharacter U+FFFE / U+FFFF. Found from the lead bytes
/// of their encodings (`C2`, `E2`, `EF`), which a vectorised search skips
/// to, instead of decoding every character of a file with accents or
/// dashes in its descriptions; in valid UTF-8 those bytes only ever lead.
fn has_special_character(bytes: &[u8]) -> bool {
    memchr::memchr3_iter(0xC2, 0xE2, 0xEF, bytes).any(|at| {
        let next = |n: usize| bytes.get(at + n).copied().unwrap_or(0);
        match bytes[at] {
            0xC2 => (0x80..=0x9F).contains(&next(1)),
            0xE2 => next(1) == 0x80 && matches!(next(2), 0xA8 | 0xA9),
            _ => matches!(
                (next(1), next(2)),
                (0xBB, 0xBF) | (0xBF, 0xBE) | (0xBF, 0xBF)
            ),
        }
    })
}

/// The first token of a line: where it is and its indentation. End of input
/// and document markers (`---`, `...` at column 0) have indentation -1, so
/// they end every open block.
#[derive(Clone, Copy, Debug)]
struct Next {
    pos: usize,
    indent: isize,
}

/// What may stand where a node starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// First token on its own line.
    OwnLine,
    /// After `key: ` on the key's line: only a scalar or a flow sequence.
    AfterKey,
    /// After `- `: anything, as a compact block.
    AfterDash,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    builder: Builder,
    /// The builder refused an event (it gives the file up, as saphyr's
    /// reading of it would stop there too).
    refused: bool,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn push(&mut self, event: Event<'a>, start: usize, end: usize) {
        if !self.refused && self.builder.on_event(event, Span::new(start, end)).is_err() {
            self.refused = true;
        }
    }

    fn byte(&self, pos: usize) -> u8 {
        self.bytes.get(pos).copied().unwrap_or(b'\n')
    }

    fn line_end(&self, pos: usize) -> usize {
        memchr::memchr(b'\n', &self.bytes[pos..]).map_or(self.bytes.len(), |i| pos + i)
    }

    fn skip_spaces(&self, mut pos: usize) -> usize {
        while self.bytes.get(pos) == Some(&b' ') {
            pos += 1;
        }
        pos
    }

    /// Whether `pos` ends a token: a space, a line end or the end of input.
    fn is_blank(&self, pos: usize) -> bool {
        matches!(self.byte(pos), b' ' | b'\n')
    }

    fn is_document_marker(&self, line_start: usize) -> bool {
        let rest = &self.bytes[line_start..];
        (rest.starts_with(b"---") || rest.starts_with(b"...")) && self.is_blank(line_start + 3)
    }

    fn is_dash_entry(&self, pos: usize) -> bool {
        self.byte(pos) == b'-' && pos < self.bytes.len() && self.is_blank(pos + 1)
    }

    /// The first token at or after the line that starts at `line_start`,
    /// skipping blank and comment lines.
    fn next_token(&self, mut line_start: usize) -> Next {
        let len = self.bytes.len();
        loop {
            let pos = self.skip_spaces(line_start);
            if pos >= len {
                return Next {
                    pos: len,
                    indent: -1,
                };
            }
            match self.bytes[pos] {
                b'\n' => line_start = pos + 1,
                b'#' => line_start = (self.line_end(pos) + 1).min(len),
                _ if pos == line_start && self.is_document_marker(pos) => {
                    return Next { pos, indent: -1 };
                }
                _ => {
                    return Next {
                        pos,
                        indent: (pos - line_start) as isize,
                    };
                }
            }
        }
    }

    /// After a token: spaces, an optional comment, then the line end. The
    /// start of the next line, or `None` if anything else is left.
    fn finish_line(&self, pos: usize) -> Option<usize> {
        let at = self.skip_spaces(pos);
        let len = self.bytes.len();
        if at >= len {
            return Some(len);
        }
        match self.bytes[at] {
            b'\n' => Some(at + 1),
            // A comment needs a space before it, or it is part of the text.
            b'#' if at > pos => Some((self.line_end(at) + 1).min(len)),
            _ => None,
        }
    }

    fn stream(&mut self) -> Option<()> {
        let mut next = self.next_token(0);
        if self.at_marker(next, b"---") {
            next = self.after_marker(next.pos)?;
        }
        loop {
            // An empty document (end of input, or a marker, right away) is
            // left to saphyr.
            if next.indent < 0 || !(self.is_dash_entry(next.pos) || self.key(next.pos).is_some()) {
                return None;
            }
            let top = self.node(next.pos, next.indent, -1, Place::OwnLine)?;
            if top.pos >= self.bytes.len() {
                return Some(());
            }
            if !self.at_marker(top, b"---") {
                return None;
            }
            next = self.after_marker(top.pos)?;
        }
    }

    fn at_marker(&self, next: Next, marker: &[u8]) -> bool {
        next.indent < 0 && next.pos < self.bytes.len() && self.bytes[next.pos..].starts_with(marker)
    }

    /// The token after a `---` line (which may carry only a comment).
    fn after_marker(&self, marker: usize) -> Option<Next> {
        let line = self.finish_line(marker + 3)?;
        let next = self.next_token(line);
        (next.pos < self.bytes.len()).then_some(next)
    }

    /// A node starting at `at` (column `col`) inside a block indented
    /// `parent`; returns the first token after it.
    fn node(&mut self, at: usize, col: isize, parent: isize, place: Place) -> Option<Next> {
        self.depth += 1;
        if self.depth >= MAX_YAML_DEPTH {
            return None;
        }
        let next = match self.bytes[at] {
            b'-' if self.is_dash_entry(at) => {
                if place == Place::AfterKey {
                    return None;
                }
                self.block_sequence(at, at, col)
            }
            b'[' | b'{' => self.flow_value(at, parent),
            b'|' | b'>' if place != Place::OwnLine => self.block_scalar(at, parent),
            _ => match self.line_start(at)? {
                LineStart::Key(key) if place != Place::AfterKey => self.block_mapping(key, col),
                LineStart::Key(_) => None,
                LineStart::Quoted(quoted) => self.quoted_value(at, quoted, parent),
                LineStart::Plain(text) => self.plain_value(at, text, parent),
            },
        };
        self.depth -= 1;
        next
    }

    fn block_mapping(&mut self, first_key: Key<'a>, col: isize) -> Option<Next> {
        self.push(Event::MapStart, first_key.span.start, first_key.span.start);
        let mut key = first_key;
        loop {
            self.push(
                Event::Scalar(key.text, key.style),
                key.span.start,
                key.span.end,
            );
            let value = self.skip_spaces(key.colon + 1);
            let next = if matches!(self.byte(value), b'\n' | b'#') {
                let below = self.next_token(self.finish_line(key.colon + 1)?);
                if below.indent > col {
                    self.node(below.pos, below.indent, col, Place::OwnLine)?
                } else if below.indent == col && self.is_dash_entry(below.pos) {
                    // `key:` then `- item` at the key's own indentation;
                    // saphyr starts this sequence's span at its first item.
                    self.depth += 1;
                    let first_item = self.skip_spaces(below.pos + 1);
                    let next = self.block_sequence(below.pos, first_item, col);
                    self.depth -= 1;
                    next?
                } else {
                    // No value: saphyr reports an empty scalar at the colon.
                    self.push(
                        Event::Scalar(Cow::Borrowed(""), Style::Plain),
                        key.colon,
                        key.colon,
                    );
                    below
                }
            } else {
                self.node(value, -1, col, Place::AfterKey)?
            };
            if next.indent == col {
                key = self.key(next.pos)?;
            } else if next.indent < col {
                self.push(Event::MapEnd, next.pos, next.pos);
                return Some(next);
            } else {
                return None;
            }
        }
    }

    fn block_sequence(&mut self, first_dash: usize, start: usize, col: isize) -> Option<Next> {
        self.push(Event::SeqStart, start, start);
        let mut dash = first_dash;
        loop {
            let item = self.skip_spaces(dash + 1);
            if matches!(self.byte(item), b'\n' | b'#') {
                // Items on the lines below a bare `-` (or empty items) are rare
                // enough to leave to saphyr.
                return None;
            }
            let item_col = col + (item - dash) as isize;
            let next = self.node(item, item_col, col, Place::AfterDash)?;
            if next.indent == col && self.is_dash_entry(next.pos) {
                dash = next.pos;
            } else if next.indent <= col {
                self.push(Event::SeqEnd, next.pos, next.pos);
                return Some(next);
            } else {
                return None;
            }
        }
    }

    /// A mapping key at `at`: a plain or quoted scalar on one line followed
    /// by `:` and a space or the line end.
    fn key(&self, at: usize) -> Option<Key<'a>> {
        match self.line_start(at)? {
            LineStart::Key(key) => Some(key),
            LineStart::Quoted(_) | LineStart::Plain(_) => None,
        }
    }

    /// What the scalar text at `at` begins: a mapping key, or a quoted or
    /// plain value; one pass over the line.
    fn line_start(&self, at: usize) -> Option<LineStart<'a>> {
        let (text, style, end) = match self.bytes[at] {
            b'\'' | b'"' => {
                let quoted = self.quoted(at)?;
                let colon = self.skip_spaces(quoted.end);
                if !(self.byte(colon) == b':'
                    && colon < self.bytes.len()
                    && self.is_blank(colon + 1))
                {
                    return Some(LineStart::Quoted(quoted));
                }
                (quoted.text, quoted.style, quoted.end)
            }
            b if starts_plain_badly(b) => return None,
            // `- ` starts a sequence entry, never a key or plain text.
            b'-' if self.is_blank(at + 1) => return None,
            _ => match self.plain_line(at)? {
                PlainLine::Key { colon } => {
                    let body = &self.bytes[at..colon];
                    // Branch-free, as `within_subset_alphabet`, and one
                    // table load a byte: every key of every file passes
                    // here, and keys are too short for the compiler to
                    // vectorise five comparisons a byte.
                    let flow = body
                        .iter()
                        .fold(false, |seen, &b| seen | FLOW_INDICATORS[usize::from(b)]);
                    if flow {
                        return None;
                    }
                    let end = at + trim_end_spaces(body).len();
                    (Cow::Borrowed(&self.text[at..end]), Style::Plain, end)
                }
                PlainLine::Text { text, commented } => {
                    return Some(LineStart::Plain(PlainText { text, commented }));
                }
            },
        };
        let colon = self.skip_spaces(end);
        // YAML limits an implicit key to 1024 characters up to its `:`;
        // past that saphyr no longer reads a key there and reports an error.
        if colon - at > MAX_IMPLICIT_KEY_CHARS
            && self.text[at..colon].chars().count() > MAX_IMPLICIT_KEY_CHARS
        {
            return None;
        }
        Some(LineStart::Key(Key {
            text,
            style,
            span: Span::new(at, end),
            colon,
        }))
    }

    /// A plain scalar in block context, folded over its continuation lines
    /// (lines indented past `parent`).
    fn plain_value(&mut self, at: usize, first: PlainText<'a>, parent: isize) -> Option<Next> {
        let commented = first.commented;
        let mut end = at + first.text.len();
        let mut folded: Option<String> = None;
        let mut line_start = (self.line_end(at) + 1).min(self.bytes.len());
        let next = loop {
            if commented {
                break self.next_token(line_start);
            }
            // Count blank lines, then look at the first line with text.
            let mut blank_lines = 0;
            let mut cursor = line_start;
            let token = loop {
                let pos = self.skip_spaces(cursor);
                if pos < self.bytes.len() && self.bytes[pos] == b'\n' {
                    blank_lines += 1;
                    cursor = pos + 1;
                    continue;
                }
                break pos;
            };
            let indent = (token - cursor) as isize;
            if token >= self.bytes.len()
                || indent <= parent
                || self.bytes[token] == b'#'
                || (indent == 0 && self.is_document_marker(token))
            {
                break self.next_token(line_start);
            }
            if starts_plain_badly(self.bytes[token]) || self.bytes[token] == b'-' {
                return None;
            }
            let PlainLine::Text {
                text: more,
                commented: more_commented,
            } = self.plain_line(token)?
            else {
                // `: ` inside a value is a mapping saphyr rejects.
                return None;
            };
            let text = folded.get_or_insert_with(|| self.text[at..end].to_string());
            if blank_lines == 0 {
                text.push(' ');
            } else {
                (0..blank_lines).for_each(|_| text.push('\n'));
            }
            text.push_str(more);
            end = token + more.len();
            line_start = (self.line_end(token) + 1).min(self.bytes.len());
            if more_commented {
                break self.next_token(line_start);
            }
        };
        let text = match folded {
            Some(text) => Cow::Owned(text),
            None => Cow::Borrowed(&self.text[at..end]),
        };
        self.push(Event::Scalar(text, Style::Plain), at, end);
        Some(next)
    }

    /// One line of plain text from `at`, in one pass: a key (up to the
    /// first `: `), or text without trailing spaces and whether a comment
    /// follows it. `memchr` skips to the only bytes that matter.
    fn plain_line(&self, at: usize) -> Option<PlainLine<'a>> {
        let len = self.bytes.len();
        let mut from = at;
        let (end, commented) = loop {
            let Some(hit) = memchr::memchr3(b'\n', b':', b'#', &self.bytes[from..]) else {
                break (len, false);
            };
            let pos = from + hit;
            match self.bytes[pos] {
                b'\n' => break (pos, false),
                b':' if self.is_blank(pos + 1) => return Some(PlainLine::Key { colon: pos }),
                b'#' if pos > at && self.bytes[pos - 1] == b' ' => break (pos, true),
                _ => from = pos + 1,
            }
        };
        let trimmed = trim_end_spaces(&self.bytes[at..end]);
        Some(PlainLine::Text {
            text: &self.text[at..at + trimmed.len()],
            commented,
        })
    }

    fn quoted_value(&mut self, at: usize, quoted: Quoted<'a>, parent: isize) -> Option<Next> {
        let line = self.finish_line(quoted.end)?;
        self.push(Event::Scalar(quoted.text, quoted.style), at, quoted.end);
        self.after_value(line, parent)
    }

    /// The token after a value that ended its line; a deeper line would be
    /// a continuation saphyr rejects or reads differently.
    fn after_value(&self, line: usize, parent: isize) -> Option<Next> {
        let next = self.next_token(line);
        (next.indent <= parent || next.indent < 0).then_some(next)
    }

    /// A single- or double-quoted scalar on one line.
    fn quoted(&self, at: usize) -> Option<Quoted<'a>> {
        let quote = self.bytes[at];
        let body = at + 1;
        let mut owned: Option<String> = None;
        let mut run = body;
        let mut pos = body;
        // A backslash escapes only in double quotes; searching for the
        // quote itself again in single quotes keeps one `memchr3` call.
        let escape = if quote == b'"' { b'\\' } else { quote };
        loop {
            pos += memchr::memchr3(quote, escape, b'\n', &self.bytes[pos..])?;
            match self.bytes[pos] {
                b'\n' => return None,
                b'\'' if quote == b'\'' => {
                    if self.bytes.get(pos + 1) == Some(&b'\'') {
                        let text = owned.get_or_insert_with(String::new);
                        text.push_str(&self.text[run..=pos]);
                        pos += 2;
                        run = pos;
                        continue;
                    }
                    break;
                }
                b'"' if quote == b'"' => break,
                b'\\' if quote == b'"' => {
                    let text = owned.get_or_insert_with(String::new);
                    text.push_str(&self.text[run..pos]);
                    pos = self.escape(pos, text)?;
                    run = pos;
                }
                // memchr3 stops only at the three bytes above.
                _ => return None,
            }
        }
        let text = match owned {
            Some(mut text) => {
                text.push_str(&self.text[run..pos]);
                Cow::Owned(text)
            }
            None => Cow::Borrowed(&self.text[body..pos]),
        };
        let style = if quote == b'\'' {
            Style::SingleQuoted
        } else {
            Style::DoubleQuoted
        };
        Some(Quoted {
            text,
            style,
            end: pos + 1,
        })
    }

    /// A double-quoted escape at `pos` (the backslash), appended to `out`;
    /// the position after it.
    fn escape(&self, pos: usize, out: &mut String) -> Option<usize> {
        let code = *self.bytes.get(pos + 1)?;
        let simple = match code {
            b'0' => Some('\0'),
            b'a' => Some('\u{7}'),
            b'b' => Some('\u{8}'),
            b't' => Some('\t'),
            b'n' => Some('\n'),
            b'v' => Some('\u{b}'),
            b'f' => Some('\u{c}'),
            b'r' => Some('\r'),
            b'e' => Some('\u{1b}'),
            b' ' => Some(' '),
            b'"' => Some('"'),
            b'/' => Some('/'),
            b'\\' => Some('\\'),
            b'N' => Some('\u{85}'),
            b'_' => Some('\u{a0}'),
            b'L' => Some('\u{2028}'),
            b'P' => Some('\u{2029}'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            return Some(pos + 2);
        }
        let digits = match code {
            b'x' => 2,
            b'u' => 4,
            b'U' => 8,
            _ => return None,
        };
        let hex = self.text.get(pos + 2..pos + 2 + digits)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
        Some(pos + 2 + digits)
    }

    /// A flow sequence or mapping (`[a, 'b']`, `{k: v}`, nested) that
    /// opens at `open` and closes on the same line, as a block value.
    fn flow_value(&mut self, open: usize, parent: isize) -> Option<Next> {
        let close = self.flow_collection(open)?;
        let line = self.finish_line(close)?;
        self.after_value(line, parent)
    }

    /// A flow collection at `open`; the position after its closing bracket.
    fn flow_collection(&mut self, open: usize) -> Option<usize> {
        self.depth += 1;
        if self.depth >= MAX_YAML_DEPTH {
            return None;
        }
        let mapping = self.bytes[open] == b'{';
        let (start, end, close) = if mapping {
            (Event::MapStart, Event::MapEnd, b'}')
        } else {
            (Event::SeqStart, Event::SeqEnd, b']')
        };
        let mut pos = self.skip_spaces(open + 1);
        // saphyr's span for `[` or `{` runs to the first token inside.
        self.push(start, open, pos);
        if self.byte(pos) != close {
            loop {
                if mapping {
                    pos = self.flow_key(pos)?;
                }
                let after = self.flow_node(pos)?;
                pos = self.skip_spaces(after);
                match self.byte(pos) {
                    b',' => pos = self.skip_spaces(pos + 1),
                    b if b == close => break,
                    _ => return None,
                }
                if self.byte(pos) == close {
                    // A trailing comma.
                    return None;
                }
            }
        }
        self.push(end, pos, pos + 1);
        self.depth -= 1;
        Some(pos + 1)
    }

    /// A key inside `{...}` and its `: `; the position of the value.
    fn flow_key(&mut self, at: usize) -> Option<usize> {
        let end = self.flow_scalar(at, b':')?;
        let colon = self.skip_spaces(end);
        (self.byte(colon) == b':' && self.byte(colon + 1) == b' ')
            .then(|| self.skip_spaces(colon + 1))
    }

    /// A node inside a flow collection; the position after it.
    fn flow_node(&mut self, at: usize) -> Option<usize> {
        match self.byte(at) {
            b'[' | b'{' => self.flow_collection(at),
            _ => self.flow_scalar(at, b','),
        }
    }

    /// A quoted or plain scalar inside a flow collection, a plain one ending
    /// at `stop`; the position after it.
    fn flow_scalar(&mut self, at: usize, stop: u8) -> Option<usize> {
        match self.byte(at) {
            b'\'' | b'"' => {
                let quoted = self.quoted(at)?;
                self.push(Event::Scalar(quoted.text, quoted.style), at, quoted.end);
                Some(quoted.end)
            }
            first => {
                let end = self.flow_plain_end(at, first, stop)?;
                self.push(
                    Event::Scalar(Cow::Borrowed(&self.text[at..end]), Style::Plain),
                    at,
                    end,
                );
                Some(end)
            }
        }
    }

    /// Where a plain scalar inside a flow collection ends (before trailing
    /// spaces): at `stop`, a closing bracket, a comma or the line end.
    /// Characters whose reading differs between flow-context rules (`:`,
    /// `#`, quotes, brackets) make the reader give up.
    fn flow_plain_end(&self, at: usize, first: u8, stop: u8) -> Option<usize> {
        // A `-` before a space or a flow indicator cannot start a plain
        // scalar inside brackets; saphyr rejects it.
        let dash_alone = first == b'-'
            && (self.is_blank(at + 1)
                || matches!(self.byte(at + 1), b',' | b'[' | b']' | b'{' | b'}'));
        if starts_plain_badly(first) || dash_alone {
            return None;
        }
        let mut end = at;
        while let Some(&b) = self.bytes.get(end) {
            match b {
                b',' | b']' | b'}' | b'\n' => break,
                b if b == stop => break,
                b'[' | b'{' | b':' | b'#' | b'\'' | b'"' => return None,
                // A word that begins with `-` after a space: saphyr may
                // read it as a new scalar (`[1 -, 2]` is its error).
                b'-' if end > at && self.is_blank(end - 1) => return None,
                _ => end += 1,
            }
        }
        let trimmed = trim_end_spaces(&self.bytes[at..end]);
        (!trimmed.is_empty()).then_some(at + trimmed.len())
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is at `at`,
    /// inside a block indented `parent`.
    fn block_scalar(&mut self, at: usize, parent: isize) -> Option<Next> {
        let literal = self.bytes[at] == b'|';
        let mut header_end = at + 1;
        let chomp = match self.byte(header_end) {
            b'-' => Chomp::Strip,
            b'+' => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if chomp != Chomp::Clip {
            header_end += 1;
        }
        if !self.is_blank(header_end) {
            // An indentation indicator, or text after the header.
            return None;
        }
        let len = self.bytes.len();
        let first_line = self.finish_line(header_end)?;
        let indent = self.skip_spaces(first_line) - first_line;
        let first_text = first_line + indent;
        if first_text >= len || self.bytes[first_text] == b'\n' || indent as isize <= parent {
            // Leading blank lines, or an empty block.
            return None;
        }
        let mut text = String::new();
        let mut pending_breaks = 0;
        let mut previous_more_indented = None;
        let mut line_start = first_line;
        // The block ends at the first line indented less than its text, after
        // that line's spaces (saphyr's span end); the next token is on or
        // after that line.
        let mut terminating_line = len;
        let end = loop {
            if line_start >= len {
                break len;
            }
            let spaces = self.skip_spaces(line_start) - line_start;
            let line_end = self.line_end(line_start);
            let blank = line_start + spaces == line_end;
            if blank && spaces <= indent {
                pending_breaks += 1;
                if line_end >= len {
                    break len;
                }
                line_start = line_end + 1;
                continue;
            }
            if spaces < indent {
                terminating_line = line_start;
                break line_start + spaces;
            }
            let content = &self.text[line_start + indent..line_end];
            if literal {
                (0..pending_breaks).for_each(|_| text.push('\n'));
                text.push_str(content);
                text.push('\n');
            } else {
                // Folding joins two ordinary lines with a space (or keeps
                // the blank lines between them); a more-indented line keeps
                // the line breaks on both sides.
                let more_indented = spaces > indent;
                match previous_more_indented {
                    None => {}
                    Some(false) if !more_indented && pending_breaks == 0 => text.push(' '),
                    Some(false) if !more_indented => {
                        (0..pending_breaks).for_each(|_| text.push('\n'));
                    }
                    Some(_) => (0..=pending_breaks).for_each(|_| text.push('\n')),
                }
                previous_more_indented = Some(more_indented);
                text.push_str(content);
            }
            pending_breaks = 0;
            if line_end >= len {
                break len;
            }
            line_start = line_end + 1;
        };
        if end == len && !self.text.ends_with('\n') {
            // A block running into the end of input without a final line
            // break: saphyr's chomping of its last line is its own.
            return None;
        }
        match (chomp, literal) {
            (Chomp::Strip, true) => {
                text.pop();
            }
            (Chomp::Strip, false) => {}
            (Chomp::Clip, true) => {}
            (Chomp::Clip, false) => text.push('\n'),
            (Chomp::Keep, literal) => {
                let breaks = pending_breaks + usize::from(!literal);
                (0..breaks).for_each(|_| text.push('\n'));
            }
        }
        let style = if literal {
            Style::Literal
        } else {
            Style::Folded
        };
        self.push(Event::Scalar(Cow::Owned(text), style), first_text, end);
        self.after_value(terminating_line, parent)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}

/// What a line's scalar text begins, as [`Reader::line_start`] finds it.
enum LineStart<'a> {
    Key(Key<'a>),
    Quoted(Quoted<'a>),
    Plain(PlainText<'a>),
}

/// One line of plain text, as [`Reader::plain_line`] finds it.
enum PlainLine<'a> {
    /// The line has a `: ` at `colon`, so it is a mapping entry.
    Key {
        colon: usize,
    },
    Text {
        text: &'a str,
        commented: bool,
    },
}

/// The first line of a plain scalar value.
struct PlainText<'a> {
    text: &'a str,
    commented: bool,
}

struct Key<'a> {
    text: Cow<'a, str>,
    style: Style,
    span: Span,
    colon: usize,
}

struct Quoted<'a> {
    text: Cow<'a, str>,
    style: Style,
    /// The position after the closing quote.
    end: usize,
}

/// The flow indicators `[]{},`, which a block mapping key here never holds.
const FLOW_INDICATORS: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 5 {
        table[b"[]{},"[i] as usize] = true;
        i += 1;
    }
    table
};

/// Characters that cannot start a plain scalar, or start one that YAML
/// readers disagree on; `-` is decided by what follows it.
fn starts_plain_badly(b: u8) -> bool {
    matches!(
        b,
        b'?' | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn trim_end_spaces(text: &[u8]) -> &[u8] {
    let keep = text.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    &text[..keep]
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::source::yaml::{ReaderComparison, compare_readers};

    #[test]
    fn special_characters_found_by_lead_byte_are_exactly_the_listed_ones() {
        // Every Unicode scalar value, alone and between other text, against
        // the definition by character.
        let special = |c: char| {
            matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        };
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let alone = c.to_string();
            let between = format!("é{c}\u{2027}");
            assert_eq!(
                super::has_special_character(alone.as_bytes()),
                special(c),
                "{c:?}"
            );
            assert_eq!(
                super::has_special_character(between.as_bytes()),
                special(c),
                "{c:?}"
            );
        }
    }

    fn yaml_files(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                yaml_files(&path, found);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            ) {
                found.push(path);
            }
        }
    }

    /// The first lines where two trees' debug forms differ, with context.
    fn first_difference(subset: &impl std::fmt::Debug, saphyr: &impl std::fmt::Debug) -> String {
        let (a, b) = (format!("{subset:#?}"), format!("{saphyr:#?}"));
        let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        let from = at.saturating_sub(12);
        format!(
            "subset:\n{}\nsaphyr:\n{}",
            a[from..(at + 3).min(a.len())].join("\n"),
            b[from..(at + 3).min(b.len())].join("\n")
        )
    }

    /// Every YAML file in the repository (rules, pipelines, fixtures, the
    /// SigmaHQ corpus and `tests/yaml/`, written to probe this reader's
    /// edges): either the subset reader gives it up, or it builds exactly
    /// saphyr's tree, spans and errors included. Most rule files must take
    /// the fast path, or the reader has quietly stopped doing its job.
    #[test]
    fn builds_saphyr_tree_for_every_yaml_file_in_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["detections", "pipelines", "lists", "tests", "examples"] {
            yaml_files(&root.join(dir), &mut files);
        }
        files.sort();
        assert!(files.len() > 400, "{} files", files.len());
        let (mut corpus, mut corpus_read) = (0, 0);
        let mut given_up = Vec::new();
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let in_corpus = path.starts_with(root.join("tests/corpus"));
            corpus += usize::from(in_corpus);
            let comparison = compare_readers(&text);
            let expected_read = path.starts_with(root.join("tests/yaml/read"));
            let expected_given_up = path.starts_with(root.join("tests/yaml/given-up"));
            match comparison {
                ReaderComparison::Same => {
                    assert!(!expected_given_up, "{}: read, not given up", path.display());
                    corpus_read += usize::from(in_corpus);
                }
                ReaderComparison::GivenUp => {
                    assert!(!expected_read, "{}: given up", path.display());
                    given_up.push(path.display().to_string());
                }
                ReaderComparison::Different { subset, saphyr } => {
                    panic!(
                        "{}: the readers disagree\n{}",
                        path.display(),
                        first_difference(&subset, &saphyr)
                    )
                }
            }
        }
        assert!(
            corpus_read * 100 >= corpus * 95,
            "only {corpus_read} of {corpus} corpus files read by the subset reader; given up: {given_up:#?}"
        );
    }
}
