//! How a scalar is written back: the quoting decision and block scalars.
//!
//! Quoting follows the Sigma export ([`crate::backend::sigma::emit`]), so a
//! formatted rule and an exported one quote alike:
//! - a quoted string is written plain when every YAML reader (1.1 and 1.2)
//!   reads the plain text as the same string, otherwise single-quoted, and
//!   double-quoted only when it holds characters that need escapes;
//! - a plain scalar stays plain, exactly as it was read. Quoting it could
//!   change its meaning for some reader (`yes` is a boolean to PyYAML, a
//!   string to stetho; `validate` reports such values, `fmt` keeps them);
//! - block scalars (`|`, `>`) keep their lines from the source, re-indented,
//!   so a description keeps the line breaks its author chose.

use crate::backend::sigma::emit::{plain_safe, quoted};
use crate::source::Span;
use crate::source::yaml::{Scalar, Style, Typed};

/// A plain or quoted scalar as it is written on its line.
pub fn inline(s: &Scalar) -> String {
    match s.style {
        Style::Plain => {
            let text = s.text.as_str();
            let fits_one_line = !text.is_empty()
                && !text.contains('\n')
                && !text.starts_with(char::is_whitespace)
                && !text.ends_with(char::is_whitespace)
                && !text.contains(": ")
                && !text.contains(" #");
            match s.typed() {
                // `key:` with nothing after it.
                Typed::Null if text.is_empty() => String::new(),
                Typed::Str(_) if !fits_one_line => quoted(text),
                _ => text.to_string(),
            }
        }
        _ if plain_safe(&s.text) => s.text.clone(),
        _ => quoted(&s.text),
    }
}

/// The source text of a plain or quoted scalar starting at `start`.
///
/// The parser's spans of quoted scalars run on to the end of the line
/// (over a comment after them), so the end is found here: the closing
/// quote, or for a plain scalar the last character before a comment.
pub fn extent(text: &str, start: usize, parser_end: usize, style: Style) -> Span {
    let bytes = text.as_bytes();
    let end = match style {
        Style::SingleQuoted => {
            let mut i = start + 1;
            loop {
                match text.get(i..).and_then(|rest| rest.find('\'')) {
                    Some(q) if bytes.get(i + q + 1) == Some(&b'\'') => i += q + 2,
                    Some(q) => break i + q + 1,
                    None => break parser_end,
                }
            }
        }
        Style::DoubleQuoted => {
            let mut i = start + 1;
            loop {
                match bytes.get(i) {
                    Some(b'\\') => i += 2,
                    Some(b'"') => break i + 1,
                    Some(_) => i += 1,
                    None => break parser_end,
                }
            }
        }
        _ => {
            let end = parser_end.min(text.len());
            let mut cut = end;
            for (i, b) in bytes[start.min(end)..end].iter().enumerate() {
                let at = start + i;
                if *b == b'#' && at > start && matches!(bytes[at - 1], b' ' | b'\t' | b'\n') {
                    cut = at;
                    break;
                }
            }
            start + text[start..cut].trim_end().len()
        }
    };
    Span::new(start, end.min(text.len()))
}

/// The offset of the `|` or `>` of the block scalar whose content the
/// parser puts at `content`: the last word (before any comment) of the
/// nearest non-blank line above it.
pub fn indicator(text: &str, content: usize) -> Option<usize> {
    let mut line_end = text.get(..content)?.rfind('\n')?;
    loop {
        let line_start = text[..line_end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..line_end];
        if !line.trim().is_empty() {
            let before_comment = match line.find(" #") {
                Some(i) => &line[..i],
                None => line,
            }
            .trim_end();
            let word = before_comment
                .rfind(char::is_whitespace)
                .map_or(0, |i| i + 1);
            return before_comment[word..]
                .starts_with(['|', '>'])
                .then_some(line_start + word);
        }
        line_end = line_start.checked_sub(1)?;
    }
}

/// A block scalar read from the source: its indicator and its lines
/// without their indentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Byte offset of the `|` or `>`.
    pub indicator: usize,
    /// `|`, `|-`, `>`, `>-`.
    pub header: String,
    /// Content lines; blank lines are empty strings.
    pub lines: Vec<String>,
    /// Byte offset just past the last content line (where comments may
    /// start again).
    pub end: usize,
    /// Byte offset of the first content line.
    pub content_start: usize,
}

/// Why a block scalar is left as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockRefusal {
    /// `|2`: an explicit indentation indicator.
    IndentationIndicator,
    /// `|+`: trailing blank lines are part of the value.
    KeepChomping,
    /// The indicator was not found where the parser put the scalar.
    Unrecognised,
}

impl BlockRefusal {
    pub fn construct(&self) -> &'static str {
        match self {
            BlockRefusal::IndentationIndicator => {
                "a block scalar with an indentation indicator (`|2`)"
            }
            BlockRefusal::KeepChomping => "a block scalar that keeps trailing newlines (`|+`)",
            BlockRefusal::Unrecognised => "a block scalar stetho cannot lay out",
        }
    }
}

/// Read the block scalar whose indicator starts at byte `start` of `text`.
pub fn block(text: &str, start: usize) -> Result<Block, BlockRefusal> {
    let rest = text.get(start..).ok_or(BlockRefusal::Unrecognised)?;
    let header: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '#')
        .collect();
    let mut chars = header.chars();
    if !matches!(chars.next(), Some('|' | '>')) {
        return Err(BlockRefusal::Unrecognised);
    }
    for c in chars {
        match c {
            '-' => {}
            '+' => return Err(BlockRefusal::KeepChomping),
            c if c.is_ascii_digit() => return Err(BlockRefusal::IndentationIndicator),
            _ => return Err(BlockRefusal::Unrecognised),
        }
    }
    let header_line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let header_indent = indent_of(&text[header_line_start..]);
    let content_start = match rest.find('\n') {
        Some(i) => start + i + 1,
        None => text.len(),
    };
    let mut lines: Vec<&str> = Vec::new();
    let mut content_indent = None;
    let mut offset = content_start;
    let mut end = content_start;
    for line in text[content_start..].split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let indent = indent_of(body);
        let blank = body.trim().is_empty();
        if !blank {
            let needed = *content_indent.get_or_insert(indent);
            if indent < needed || indent <= header_indent {
                break;
            }
        }
        lines.push(body);
        offset += line.len();
        if !blank {
            end = offset;
        }
    }
    let Some(content_indent) = content_indent.filter(|i| *i > header_indent) else {
        return Ok(Block {
            indicator: start,
            header,
            lines: Vec::new(),
            end: content_start,
            content_start,
        });
    };
    // Trailing blank lines are not part of a clipped or stripped value.
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let lines = lines
        .into_iter()
        .map(|l| l.get(content_indent..).unwrap_or("").to_string())
        .collect();
    Ok(Block {
        indicator: start,
        header,
        lines,
        end,
        content_start,
    })
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            style: Style::Plain,
        }
    }

    fn single(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            style: Style::SingleQuoted,
        }
    }

    #[test]
    fn quoted_strings_lose_quotes_only_when_plain_reads_the_same() {
        assert_eq!(inline(&single("vip")), "vip");
        assert_eq!(inline(&single("\\cmd.exe")), "\\cmd.exe");
        for (text, written) in [
            ("2026-10-01", "'2026-10-01'"),
            ("18.1", "'18.1'"),
            ("yes", "'yes'"),
            ("null", "'null'"),
            ("500121", "'500121'"),
            ("*.exe", "'*.exe'"),
            ("it's: here", "'it''s: here'"),
            ("", "''"),
        ] {
            assert_eq!(inline(&single(text)), written, "{text}");
        }
        let double = Scalar {
            text: "tab\there".into(),
            style: Style::DoubleQuoted,
        };
        assert_eq!(inline(&double), "\"tab\\there\"");
        assert_eq!(inline(&single("two\nlines")), "\"two\\nlines\"");
    }

    #[test]
    fn plain_scalars_stay_as_read() {
        for text in ["true", "5", "1.5", "~", "yes", "00000429", "%placeholder%"] {
            assert_eq!(inline(&plain(text)), text);
        }
        assert_eq!(inline(&plain("")), "");
        assert_eq!(
            inline(&plain("folded\nparagraph")),
            "\"folded\\nparagraph\""
        );
    }

    #[test]
    fn scalar_extents_stop_before_comments() {
        let text = "a: 'it''s' # c\nb: \"q\\\"x\" # d\nc: plain # e\n";
        let at = |needle: &str| text.find(needle).unwrap_or(0);
        let span = |start: usize, style| {
            let s = extent(text, start, text.len(), style);
            &text[s.start..s.end]
        };
        assert_eq!(span(at("'it"), Style::SingleQuoted), "'it''s'");
        assert_eq!(span(at("\"q"), Style::DoubleQuoted), "\"q\\\"x\"");
        assert_eq!(span(at("plain"), Style::Plain), "plain");
        let block = "k|x: |-  # c\n\n    body\n";
        assert_eq!(indicator(block, block.find("body").unwrap_or(0)), Some(5));
    }

    #[test]
    fn block_scalars_keep_their_lines() {
        let text = "d: |\n      one\n\n        two\n      # three\n\nnext: x\n";
        let b = block(text, 3).expect("block");
        assert_eq!(b.header, "|");
        assert_eq!(b.lines, ["one", "", "  two", "# three"]);
        assert_eq!(&text[b.end..], "\nnext: x\n");
        assert_eq!(block("d: >-\n  x\n", 3).expect("folded").header, ">-");
        assert_eq!(
            block("d: |2\n   x\n", 3),
            Err(BlockRefusal::IndentationIndicator)
        );
        assert_eq!(block("d: |+\n x\n", 3), Err(BlockRefusal::KeepChomping));
    }
}
