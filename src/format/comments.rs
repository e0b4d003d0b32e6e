//! Recovering comments from the source text.
//!
//! The YAML loader ([`crate::source::yaml`]) drops comments, but it keeps a
//! span on every node. A `#` that starts a comment is one outside every
//! scalar's text and at the start of a line or after whitespace, so the
//! comments are found by scanning the text around the scalars' spans.
//! Each comment is then attached to a mapping entry or sequence item (an
//! *element*), so it moves with that element when keys are reordered:
//! - a comment alone on its line goes above the element that follows it
//!   (at the end of a document, it stays at the end, at its indentation);
//! - a comment after something on its line stays at the end of the line of
//!   the outermost element that starts on that line.

use crate::source::Span;

/// One comment: where it starts and its text from `#` to the end of the
/// line (trailing whitespace removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub text: String,
    /// Nothing but indentation before it on its line.
    pub own_line: bool,
}

/// Every comment in `text[range]`, skipping the `covered` spans (scalar
/// text, sorted by start).
pub fn scan(text: &str, range: Span, covered: &[Span]) -> Vec<Comment> {
    let mut comments = Vec::new();
    let mut next_cover = covered.partition_point(|s| s.end <= range.start);
    let mut line_start = range.start;
    let mut in_comment = false;
    let bytes = text.as_bytes();
    let mut i = range.start;
    while i < range.end.min(text.len()) {
        let b = bytes[i];
        if b == b'\n' {
            line_start = i + 1;
            in_comment = false;
            i += 1;
            continue;
        }
        if in_comment {
            i += 1;
            continue;
        }
        while next_cover < covered.len() && covered[next_cover].end <= i {
            next_cover += 1;
        }
        if let Some(cover) = covered.get(next_cover)
            && cover.start <= i
            && i < cover.end
        {
            // Skip the scalar, keeping track of the line it ends on.
            let end = cover.end.min(text.len());
            if let Some(nl) = text[i..end].rfind('\n') {
                line_start = i + nl + 1;
            }
            i = end;
            continue;
        }
        if b == b'#' && (i == line_start || matches!(bytes[i - 1], b' ' | b'\t')) {
            let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            comments.push(Comment {
                start: i,
                text: text[i..line_end].trim_end().to_string(),
                own_line: text[line_start..i].trim().is_empty(),
            });
            in_comment = true;
        }
        i += 1;
    }
    comments
}

/// Comments attached to elements (indexed like the element list) and those
/// left at the end of the document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attached {
    pub above: Vec<Vec<String>>,
    pub end_of_line: Vec<Vec<String>>,
    pub trailing: Vec<String>,
}

/// Attach comments to elements, given each element's start offset in
/// document order (which is also offset order).
pub fn attach(text: &str, comments: &[Comment], elements: &[usize]) -> Attached {
    let mut attached = Attached {
        above: vec![Vec::new(); elements.len()],
        end_of_line: vec![Vec::new(); elements.len()],
        trailing: Vec::new(),
    };
    for comment in comments {
        let o = comment.start;
        if !comment.own_line {
            let line_start = text[..o].rfind('\n').map_or(0, |i| i + 1);
            let first_on_line = elements.partition_point(|&s| s < line_start);
            let target = if elements.get(first_on_line).is_some_and(|&s| s < o) {
                Some(first_on_line)
            } else {
                elements.partition_point(|&s| s < o).checked_sub(1)
            };
            if let Some(t) = target {
                attached.end_of_line[t].push(comment.text.clone());
                continue;
            }
        }
        let next = elements.partition_point(|&s| s <= o);
        match attached.above.get_mut(next) {
            Some(above) => above.push(comment.text.clone()),
            None => {
                // At the end of a document a comment keeps its indentation
                // (often a commented-out list item).
                let line_start = text[..o].rfind('\n').map_or(0, |i| i + 1);
                let indent = text[line_start..o]
                    .chars()
                    .take_while(|c| *c == ' ')
                    .count();
                let indent = if comment.own_line { indent } else { 0 };
                attached
                    .trailing
                    .push(format!("{}{}", " ".repeat(indent), comment.text));
            }
        }
    }
    attached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(comments: &[Comment]) -> Vec<(&str, bool)> {
        comments
            .iter()
            .map(|c| (c.text.as_str(), c.own_line))
            .collect()
    }

    #[test]
    fn hashes_inside_scalars_are_not_comments() {
        let text = "a: 'x # y' # real\n# own\nb: c#d\n";
        let quoted = Span::new(3, 10);
        let plain = Span::new(text.find("c#d").unwrap_or(0), text.len() - 1);
        let found = scan(text, Span::new(0, text.len()), &[quoted, plain]);
        assert_eq!(texts(&found), [("# real", false), ("# own", true)]);
    }

    #[test]
    fn own_line_comments_go_above_the_next_element_and_the_rest_trails() {
        let text = "# head\na: 1 # one\nb:\n  # inner\n  - x # ex\n  # - y\n# tail\n";
        let elements = [
            text.find("a:").unwrap_or(0),
            text.find("b:").unwrap_or(0),
            text.find("x #").unwrap_or(0),
        ];
        let found = scan(text, Span::new(0, text.len()), &[]);
        let attached = attach(text, &found, &elements);
        assert_eq!(attached.above[0], ["# head"]);
        assert_eq!(attached.end_of_line[0], ["# one"]);
        assert_eq!(attached.above[2], ["# inner"]);
        assert_eq!(attached.end_of_line[2], ["# ex"]);
        assert_eq!(attached.trailing, ["  # - y", "# tail"]);
    }

    #[test]
    fn end_of_line_comments_go_to_the_outermost_element_on_their_line() {
        // `- k: v # c`: the item and its first key start together.
        let text = "s:\n  - k: v # c\n";
        let at = text.find("k:").unwrap_or(0);
        let found = scan(text, Span::new(0, text.len()), &[]);
        let attached = attach(text, &found, &[0, at, at]);
        assert_eq!(attached.end_of_line[1], ["# c"]);
    }
}
