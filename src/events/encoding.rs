//! Event files as Windows tools save them. Windows PowerShell 5 writes
//! UTF-16 with `>` and `Out-File`, and many tools begin UTF-8 with a byte
//! order mark, which JSON readers may ignore (RFC 8259 §8.1). An input that
//! begins with a byte order mark is read as the UTF-8 it stands for, so an
//! export replays as it was saved instead of its first event (or, for a
//! JSON array, all of them) being reported as malformed, and the NHS number
//! check reads digits, not digits interleaved with zero bytes.

use std::io::{self, BufRead, BufReader, Read};

const UTF8_MARK: &[u8] = &[0xEF, 0xBB, 0xBF];
const UTF16_LE_MARK: &[u8] = &[0xFF, 0xFE];
const UTF16_BE_MARK: &[u8] = &[0xFE, 0xFF];

/// What an input's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Start {
    /// No mark: read as it is.
    Plain,
    /// A UTF-8 byte order mark, to drop.
    Utf8Mark,
    /// UTF-16 in the given byte order (big endian: `true`), after its mark.
    Utf16 { big_endian: bool },
}

impl Start {
    fn of(start: &[u8]) -> Start {
        if start.starts_with(UTF8_MARK) {
            Start::Utf8Mark
        } else if start.starts_with(UTF16_LE_MARK) {
            Start::Utf16 { big_endian: false }
        } else if start.starts_with(UTF16_BE_MARK) {
            Start::Utf16 { big_endian: true }
        } else {
            Start::Plain
        }
    }

    fn mark_len(self) -> usize {
        match self {
            Start::Plain => 0,
            Start::Utf8Mark => UTF8_MARK.len(),
            Start::Utf16 { .. } => UTF16_LE_MARK.len(),
        }
    }
}

/// `input` as UTF-8 text: a UTF-8 byte order mark dropped, UTF-16 (either
/// byte order, by its mark) decoded. Anything else is read as it is.
pub fn decoded(mut input: BufReader<Box<dyn Read + Send>>) -> io::Result<Box<dyn BufRead + Send>> {
    let first = input.fill_buf()?;
    if first.len() < UTF8_MARK.len() && !first.is_empty() {
        // A pipe that delivered one or two bytes first: too few to tell.
        return short_start(Box::new(input));
    }
    let start = Start::of(first);
    input.consume(start.mark_len());
    Ok(as_utf8(start, input))
}

/// [`decoded`] for an input whose first read returned fewer bytes than a
/// mark can have: the first three bytes are read one at a time.
fn short_start(mut input: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut head = Vec::with_capacity(UTF8_MARK.len());
    while head.len() < UTF8_MARK.len() {
        let mut byte = [0u8; 1];
        if input.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let start = Start::of(&head);
    let rest: Box<dyn Read + Send> =
        Box::new(io::Cursor::new(head.split_off(start.mark_len())).chain(input));
    Ok(as_utf8(start, BufReader::with_capacity(1 << 16, rest)))
}

/// `text`, past its mark, read as UTF-8.
fn as_utf8(start: Start, text: BufReader<Box<dyn Read + Send>>) -> Box<dyn BufRead + Send> {
    match start {
        Start::Utf16 { big_endian } => Box::new(BufReader::with_capacity(
            1 << 16,
            Utf16::new(Box::new(text), big_endian),
        )),
        Start::Plain | Start::Utf8Mark => Box::new(text),
    }
}

/// UTF-16 read as UTF-8. Unpaired surrogates and a trailing odd byte
/// become U+FFFD, as a lossy UTF-8 conversion would make them.
struct Utf16 {
    inner: Box<dyn Read + Send>,
    big_endian: bool,
    /// Bytes read and not decoded yet: after a refill, at most an odd
    /// byte or a high surrogate whose low half is still to come.
    raw: Vec<u8>,
    /// UTF-8 decoded and not yet handed out, from `at`.
    out: Vec<u8>,
    at: usize,
    done: bool,
}

/// Bytes read from the UTF-16 input at a time.
const CHUNK: usize = 1 << 15;

impl Utf16 {
    fn new(inner: Box<dyn Read + Send>, big_endian: bool) -> Utf16 {
        Utf16 {
            inner,
            big_endian,
            raw: Vec::with_capacity(CHUNK + 4),
            out: Vec::with_capacity(2 * CHUNK),
            at: 0,
            done: false,
        }
    }

    /// Decode the next chunk into `out`; `false` once everything is.
    fn refill(&mut self) -> io::Result<bool> {
        if self.done {
            return Ok(false);
        }
        let kept = self.raw.len();
        self.raw.resize(kept + CHUNK, 0);
        let read = loop {
            match self.inner.read(&mut self.raw[kept..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.raw.truncate(kept + read);
        let end = read == 0;
        let mut whole = self.raw.len() / 2 * 2;
        let big_endian = self.big_endian;
        if !end
            && whole >= 2
            && (0xD800..0xDC00).contains(&unit(&self.raw[whole - 2..whole], big_endian))
        {
            whole -= 2;
        }
        self.out.clear();
        self.at = 0;
        let units = self.raw[..whole]
            .chunks_exact(2)
            .map(|pair| unit(pair, big_endian));
        let mut utf8 = [0u8; 4];
        for c in char::decode_utf16(units) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
        self.raw.drain(..whole);
        if end {
            if !self.raw.is_empty() {
                let c = char::REPLACEMENT_CHARACTER;
                self.out
                    .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                self.raw.clear();
            }
            self.done = true;
            return Ok(!self.out.is_empty());
        }
        Ok(true)
    }
}

/// One UTF-16 code unit from its two bytes.
fn unit(pair: &[u8], big_endian: bool) -> u16 {
    let pair = [pair[0], pair[1]];
    if big_endian {
        u16::from_be_bytes(pair)
    } else {
        u16::from_le_bytes(pair)
    }
}

impl Read for Utf16 {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `decoded` reads from `bytes`, delivered by a reader that
    /// hands out at most `step` bytes a read (pipes do).
    fn read_all(bytes: &[u8], step: usize) -> Vec<u8> {
        struct Trickle(Vec<u8>, usize, usize);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.2).min(self.0.len() - self.1);
                buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                self.1 += n;
                Ok(n)
            }
        }
        let inner: Box<dyn Read + Send> = Box::new(Trickle(bytes.to_vec(), 0, step));
        let mut out = Vec::new();
        decoded(BufReader::new(inner))
            .expect("decoded")
            .read_to_end(&mut out)
            .expect("read");
        out
    }

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mark: &[u8] = if big_endian {
            UTF16_BE_MARK
        } else {
            UTF16_LE_MARK
        };
        let mut bytes = mark.to_vec();
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    const TEXT: &str = "{\"CommandLine\":\"whoami /all\",\"Note\":\"é 𝄞 ✓\"}\n[1]\n";

    #[test]
    fn marks_are_dropped_and_utf16_is_decoded_however_the_bytes_arrive() {
        for step in [1, 2, 3, 5, 4096] {
            assert_eq!(read_all(TEXT.as_bytes(), step), TEXT.as_bytes());
            let marked = [UTF8_MARK, TEXT.as_bytes()].concat();
            assert_eq!(read_all(&marked, step), TEXT.as_bytes(), "step {step}");
            for big_endian in [false, true] {
                assert_eq!(
                    read_all(&utf16(TEXT, big_endian), step),
                    TEXT.as_bytes(),
                    "step {step}, big endian {big_endian}"
                );
            }
        }
    }

    #[test]
    fn short_and_broken_inputs_are_read_as_far_as_they_go() {
        assert_eq!(read_all(b"", 1), b"");
        assert_eq!(read_all(b"{", 1), b"{");
        assert_eq!(read_all(UTF8_MARK, 1), b"");
        assert_eq!(read_all(UTF16_LE_MARK, 1), b"");
        // An odd trailing byte and an unpaired high surrogate.
        let mut bytes = utf16("ab", false);
        bytes.push(b'c');
        assert_eq!(read_all(&bytes, 3), "ab\u{FFFD}".as_bytes());
        let mut bytes = utf16("a", false);
        bytes.extend(0xD834u16.to_le_bytes());
        assert_eq!(read_all(&bytes, 4096), "a\u{FFFD}".as_bytes());
    }
}
