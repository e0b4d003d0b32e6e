//! Source files and positions.
//!
//! Every finding stetho reports points into a file a person wrote. This
//! module owns the text of those files and the conversion from byte offsets
//! (what the parsers and renderers use) to 1-based line and column numbers
//! (what people, editors and SARIF viewers use). Columns count Unicode
//! characters, not bytes, so a rule with an accented title still gets the
//! column an editor shows.

pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A half-open byte range `start..end` into a [`SourceFile`]'s text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// A sub-span `offset..offset+len` relative to this span's start.
    pub fn sub(self, offset: usize, len: usize) -> Self {
        let start = (self.start + offset).min(self.end);
        Span::new(start, (start + len).min(self.end.max(start + len)))
    }
}

/// A 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// The text of one input file, with a line index built when first needed.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative to where they ran stetho
    /// when possible, always with `/` separators so output is the same on
    /// every machine).
    pub display: String,
    /// The path to open the file again (for fixes and formatting).
    pub path: PathBuf,
    pub text: String,
    /// Built on the first position asked for: most files of a clean run
    /// never report one, and the index of thousands of files is megabytes.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: &Path, display: String, text: String) -> Arc<Self> {
        Arc::new(SourceFile {
            display,
            path: path.to_path_buf(),
            text,
            line_starts: std::sync::OnceLock::new(),
        })
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        })
    }

    /// A source with no file behind it (tests, stdin).
    pub fn virtual_file(display: &str, text: &str) -> Arc<Self> {
        SourceFile::new(Path::new(display), display.to_string(), text.to_string())
    }

    /// Line and column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.floor_char_boundary(offset.min(self.text.len()));
        let line_starts = self.line_starts();
        let line = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let mut column = self.text[line_starts[line]..offset].chars().count() + 1;
        // A byte order mark (Windows editors write one) is no character an
        // editor shows or counts: `title` on the first line is column 1.
        if line == 0 && offset > 0 && self.text.starts_with('\u{feff}') {
            column -= 1;
        }
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// The text covered by a span (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// Turn a path into the form shown to users: relative to the current
/// directory when it is below it, with forward slashes.
pub fn display_path(path: &Path) -> String {
    // stetho never changes its working folder, so it is asked once: a run
    // names thousands of files, each a getcwd call otherwise.
    static CWD: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    let rel = cwd
        .as_deref()
        .and_then(|cwd| below(path, cwd))
        .unwrap_or(path);
    // A path is valid UTF-8 as a rule, and checking that is quicker than
    // the lossy conversion's own scan.
    let mut shown = match rel.to_str() {
        Some(text) => std::borrow::Cow::Borrowed(text),
        None => rel.to_string_lossy(),
    };
    if memchr::memchr(b'\\', shown.as_bytes()).is_some() {
        shown = std::borrow::Cow::Owned(shown.replace('\\', "/"));
    }
    shown.strip_prefix("./").unwrap_or(&shown).to_string()
}

/// `path` relative to the folder `dir`, as [`Path::strip_prefix`] gives
/// it. A walk's paths are `dir` joined with plain names, so their bytes
/// usually start with `dir`'s and a separator, which is checked in one
/// comparison; anything else (`.` or repeated separators in the rest, a
/// `dir` that ends in a separator) takes the component-by-component way.
fn below<'p>(path: &'p Path, dir: &Path) -> Option<&'p Path> {
    let bytes = path.as_os_str().as_encoded_bytes();
    let prefix = dir.as_os_str().as_encoded_bytes();
    // A name that is neither empty nor starts with `.` after every separator.
    let plain = |rest: &[u8]| {
        !rest.is_empty()
            && rest[0] != b'.'
            && rest[0] != b'/'
            && memchr::memchr_iter(b'/', rest)
                .all(|at| !matches!(rest.get(at + 1), None | Some(b'/' | b'.')))
    };
    if let Some([b'/', rest @ ..]) = bytes.strip_prefix(prefix)
        && !prefix.is_empty()
        && !prefix.ends_with(b"/")
        && plain(rest)
        && let Ok(rest) = std::str::from_utf8(rest)
    {
        return Some(Path::new(rest));
    }
    path.strip_prefix(dir).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_takes_no_column() {
        let file = SourceFile::new(
            Path::new("r.yml"),
            "r.yml".into(),
            "\u{feff}title: t\nid: x\n".into(),
        );
        let title = file.text.find("title").expect("title");
        assert_eq!(file.line_col(title), LineCol { line: 1, column: 1 });
        assert_eq!(file.line_col(title + 5), LineCol { line: 1, column: 6 });
        let id = file.text.find("id").expect("id");
        assert_eq!(file.line_col(id), LineCol { line: 2, column: 1 });
    }

    #[test]
    fn below_agrees_with_strip_prefix() {
        let dirs = ["/repo/rules", "/repo/rules/", "/", "", "rules", "/repo"];
        let paths = [
            "/repo/rules/a.yml",
            "/repo/rules/sub/a.yml",
            "/repo/rules//a.yml",
            "/repo/rules/./a.yml",
            "/repo/rules/sub/./a.yml",
            "/repo/rules/.hidden/a.yml",
            "/repo/rules/sub/",
            "/repo/rules",
            "/repo/rulesx/a.yml",
            "/other/a.yml",
            "rules/a.yml",
            "./rules/a.yml",
        ];
        for dir in dirs {
            for path in paths {
                assert_eq!(
                    below(Path::new(path), Path::new(dir)),
                    Path::new(path).strip_prefix(dir).ok(),
                    "{path} below {dir}"
                );
            }
        }
    }

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let src = SourceFile::virtual_file("x.yml", "title: é\nlevel: x\n");
        assert_eq!(src.line_col(0), LineCol { line: 1, column: 1 });
        // "level" starts after "title: é\n" = 10 bytes, 9 characters.
        assert_eq!(src.line_col(10), LineCol { line: 2, column: 1 });
        // The byte after 'é' (offset 9) is column 9 of line 1.
        assert_eq!(src.line_col(9), LineCol { line: 1, column: 9 });
    }

    #[test]
    fn offsets_inside_a_character_snap_back() {
        let src = SourceFile::virtual_file("x.yml", "é");
        assert_eq!(src.line_col(1), LineCol { line: 1, column: 1 });
        assert_eq!(src.line_col(99), LineCol { line: 1, column: 2 });
    }
}
