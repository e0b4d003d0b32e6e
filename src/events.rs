//! Streaming JSON events out of files, stdin and `.gz` archives.
//!
//! Inputs are NDJSON (one event per line: the format of recorded fixtures
//! and most log exports), a JSON array, or one or more (pretty-printed) JSON
//! objects. Everything is streamed: a JSON array is walked element by
//! element and never held whole. A malformed NDJSON line is reported with
//! its line number and skipped; the rest of the file is still read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde::de::{Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;

use crate::limits::{MAX_EVENT_DEPTH, MAX_LINE_BYTES};

mod encoding;

/// A JSON parse error as a message; nesting past serde_json's recursion
/// limit is named as the limit it is.
pub fn json_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    if !message.starts_with("recursion limit exceeded") {
        return message;
    }
    let at = if e.line() == 1 {
        format!("column {}", e.column())
    } else {
        format!("line {} column {}", e.line(), e.column())
    };
    format!("event nested deeper than {MAX_EVENT_DEPTH} levels of arrays and objects (at {at})")
}

/// One item read from an input.
#[derive(Debug)]
pub enum Item<'a> {
    Event {
        /// 1-based line for NDJSON; `None` for JSON arrays and documents.
        line: Option<usize>,
        /// 0-based position among the input's events.
        index: usize,
        event: Value,
    },
    /// An NDJSON line not parsed yet: parsing is left to the consumer so
    /// it can run on all cores. The text is borrowed from the reader's line
    /// buffer; a consumer that keeps it copies it into a buffer it reuses.
    Raw { line: usize, text: &'a [u8] },
    Malformed {
        line: Option<usize>,
        message: String,
    },
}

impl<'a> Item<'a> {
    /// Parse a raw line; other items are returned as they are.
    pub fn parsed(self) -> Item<'a> {
        match self {
            Item::Raw { line, text } => match serde_json::from_slice::<Value>(text) {
                Ok(event) => Item::Event {
                    line: Some(line),
                    index: 0,
                    event,
                },
                Err(e) => Item::Malformed {
                    line: Some(line),
                    message: json_error(&e),
                },
            },
            other => other,
        }
    }
}

/// Open a path (`-` for stdin), decompressing `.gz`, and read it as UTF-8
/// whatever byte order mark it starts with (see [`encoding`]). `progress`
/// advances with the (compressed) bytes read, for a progress bar on a
/// terminal.
pub fn open(
    path: &Path,
    progress: Option<&indicatif::ProgressBar>,
) -> io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path)?)
    };
    let raw: Box<dyn Read + Send> = match progress {
        Some(bar) => Box::new(bar.wrap_read(raw)),
        None => raw,
    };
    let gz = path.extension().is_some_and(|e| e == "gz");
    let text: Box<dyn Read + Send> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else {
        raw
    };
    encoding::decoded(BufReader::with_capacity(1 << 16, text))
}

/// Read every item of an input, calling `sink` for each; stops early when
/// `sink` returns `false`. Returns the number of bytes read.
pub fn read(
    mut input: Box<dyn BufRead + Send>,
    sink: &mut dyn FnMut(Item<'_>) -> bool,
) -> io::Result<u64> {
    let first = loop {
        let buffer = input.fill_buf()?;
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let byte = buffer[i];
                input.consume(i);
                break Some(byte);
            }
            None if buffer.is_empty() => break None,
            None => {
                let n = buffer.len();
                input.consume(n);
            }
        }
    };
    match first {
        None => Ok(0),
        Some(b'[') => read_array(input, sink),
        Some(_) => read_lines(input, sink),
    }
}

fn read_lines(
    mut input: Box<dyn BufRead + Send>,
    sink: &mut dyn FnMut(Item<'_>) -> bool,
) -> io::Result<u64> {
    let mut bytes = 0u64;
    let mut line = Vec::with_capacity(4096);
    let mut number = 0usize;
    let mut index = 0usize;
    loop {
        line.clear();
        let n = read_line_limited(&mut input, &mut line)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        number += 1;
        let text = trim(&line);
        if text.is_empty() {
            continue;
        }
        if n > MAX_LINE_BYTES {
            if !sink(Item::Malformed {
                line: Some(number),
                message: format!("line longer than {MAX_LINE_BYTES} bytes"),
            }) {
                return Ok(bytes);
            }
            continue;
        }
        if index > 0 {
            // Only the first line is parsed here (it may open a multi-line
            // document); the rest go to the consumer as they are.
            if !sink(Item::Raw { line: number, text }) {
                return Ok(bytes);
            }
            continue;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(event) => {
                if !sink(Item::Event {
                    line: Some(number),
                    index,
                    event,
                }) {
                    return Ok(bytes);
                }
                index += 1;
            }
            // The first line opens an object that continues: JSON documents,
            // streamed from this line on (never held whole).
            Err(e) if index == 0 && e.is_eof() => {
                let rest = io::Cursor::new(std::mem::take(&mut line)).chain(input);
                return Ok(bytes - n as u64 + read_documents(Box::new(rest), sink)?);
            }
            Err(e) => {
                if !sink(Item::Malformed {
                    line: Some(number),
                    message: json_error(&e),
                }) {
                    return Ok(bytes);
                }
            }
        }
    }
    Ok(bytes)
}

/// Read one line without letting it grow past the limit (the rest of an
/// over-long line is consumed and dropped). Returns the bytes consumed.
fn read_line_limited(input: &mut Box<dyn BufRead + Send>, line: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok(total);
        }
        // memchr: the line split touches every byte of the input.
        let (chunk, done) = match memchr::memchr(b'\n', buffer) {
            Some(i) => (&buffer[..=i], true),
            None => (buffer, false),
        };
        if line.len() <= MAX_LINE_BYTES {
            line.extend_from_slice(chunk);
        }
        let n = chunk.len();
        total += n;
        input.consume(n);
        if done {
            return Ok(total);
        }
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Walk a JSON array element by element.
fn read_array(
    input: Box<dyn BufRead + Send>,
    sink: &mut dyn FnMut(Item<'_>) -> bool,
) -> io::Result<u64> {
    let count = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counter = CountingReader {
        inner: input,
        count: std::rc::Rc::clone(&count),
    };
    let mut de = serde_json::Deserializer::from_reader(counter);
    struct Elements<'a> {
        sink: &'a mut dyn FnMut(Item<'_>) -> bool,
    }
    impl<'de> Visitor<'de> for Elements<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array of events")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            while let Some(event) = seq.next_element::<Value>()? {
                if !(self.sink)(Item::Event {
                    line: None,
                    index,
                    event,
                }) {
                    // Drain the rest without keeping it.
                    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                    return Ok(());
                }
                index += 1;
            }
            Ok(())
        }
    }
    let result = (&mut de).deserialize_seq(Elements { sink });
    if let Err(e) = result {
        sink(Item::Malformed {
            line: None,
            message: json_error(&e),
        });
    }
    drop(de);
    Ok(count.get())
}

/// A stream of (pretty-printed) JSON documents, parsed as it is read.
fn read_documents(
    input: Box<dyn BufRead + Send>,
    sink: &mut dyn FnMut(Item<'_>) -> bool,
) -> io::Result<u64> {
    let count = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counter = CountingReader {
        inner: input,
        count: std::rc::Rc::clone(&count),
    };
    let stream = serde_json::Deserializer::from_reader(counter).into_iter::<Value>();
    for (i, value) in stream.enumerate() {
        let item = match value {
            Ok(event) => Item::Event {
                line: None,
                index: i,
                event,
            },
            Err(e) => Item::Malformed {
                line: None,
                message: json_error(&e),
            },
        };
        let stop = matches!(item, Item::Malformed { .. });
        if !sink(item) || stop {
            break;
        }
    }
    Ok(count.get())
}

struct CountingReader {
    inner: Box<dyn BufRead + Send>,
    count: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<String> {
        let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(text.as_bytes().to_vec()));
        let mut out = Vec::new();
        read(input, &mut |item| {
            out.push(match item.parsed() {
                Item::Event { line, index, event } => format!("{line:?}/{index}: {event}"),
                Item::Malformed { line, .. } => format!("{line:?}: malformed"),
                Item::Raw { .. } => unreachable!("parsed"),
            });
            true
        })
        .expect("read");
        out
    }

    fn messages(text: Vec<u8>) -> Vec<String> {
        let input: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(text));
        let mut out = Vec::new();
        read(input, &mut |item| {
            out.push(match item.parsed() {
                Item::Event { line, .. } => format!("{line:?}: event"),
                Item::Malformed { line, message } => format!("{line:?}: {message}"),
                Item::Raw { .. } => unreachable!("parsed"),
            });
            true
        })
        .expect("read");
        out
    }

    #[test]
    fn an_over_long_line_is_reported_and_skipped() {
        let mut text = b"{\"a\":1}\n{\"b\":\"".to_vec();
        text.resize(text.len() + MAX_LINE_BYTES, b'x');
        text.extend_from_slice(b"\"}\n{\"a\":2}\n");
        assert_eq!(
            messages(text),
            vec![
                "Some(1): event".to_string(),
                format!("Some(2): line longer than {MAX_LINE_BYTES} bytes"),
                "Some(3): event".to_string(),
            ]
        );
    }

    #[test]
    fn an_over_deep_event_is_reported_and_skipped() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let text = format!("{{\"a\":1}}\n{{\"x\":{deep}}}\n{{\"a\":2}}\n");
        assert_eq!(
            messages(text.into_bytes()),
            vec![
                "Some(1): event".to_string(),
                format!(
                    "Some(2): event nested deeper than {MAX_EVENT_DEPTH} levels of arrays and objects (at column 132)"
                ),
                "Some(3): event".to_string(),
            ]
        );
        // Exactly at the limit is fine (the object is the first level).
        let n = MAX_EVENT_DEPTH - 1;
        let at_limit = format!("{{\"x\":{}{}}}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(messages(at_limit.into_bytes()), vec!["Some(1): event"]);
    }

    #[test]
    fn ndjson_with_a_bad_line_keeps_going() {
        assert_eq!(
            items("{\"a\":1}\n\nnot json\n{\"a\":2}\n"),
            vec![
                "Some(1)/0: {\"a\":1}",
                "Some(3): malformed",
                "Some(4)/0: {\"a\":2}"
            ]
        );
    }

    #[test]
    fn arrays_and_pretty_documents() {
        assert_eq!(
            items("[{\"a\":1},\n {\"a\":2}]"),
            vec!["None/0: {\"a\":1}", "None/1: {\"a\":2}"]
        );
        assert_eq!(items("{\n  \"a\": 1\n}\n"), vec!["None/0: {\"a\":1}"]);
        assert!(items("").is_empty());
    }
}
