//! Every input limit in one place.
//!
//! Rules, lists, fixtures and events come from pull requests and log
//! exports, so stetho treats them as untrusted: each kind of input has a
//! ceiling far above what real content needs, checked before the work it
//! bounds, and going over it is a located error (never a panic, a hang or
//! an exhausted machine). The README's "Limits" table lists them for users.

use std::io::{self, Read};
use std::path::Path;

use thiserror::Error;

const MIB: u64 = 1024 * 1024;

/// Largest rule file. SigmaHQ's biggest rule is about 40 KB; a
/// multi-megabyte "rule" is a mistake or an attack.
pub const MAX_RULE_FILE_BYTES: u64 = MIB;

/// Largest YAML support file: `stetho.toml`, a pipeline, a field catalogue
/// or a fixture header. The shipped ones are a few KB each.
pub const MAX_CONFIG_FILE_BYTES: u64 = MIB;

/// Largest value list (`lists/NAME.txt`): room for the entry cap below at
/// about 80 bytes a line.
pub const MAX_LIST_FILE_BYTES: u64 = 8 * MIB;

/// Most entries in one value list. Real lists (admin accounts, clinical
/// systems) hold tens to hundreds of values.
pub const MAX_LIST_ENTRIES: usize = 100_000;

/// Most values one rule item may expand to (placeholders × windash ×
/// base64 offsets). Each value becomes a test run on every event.
pub const MAX_EXPANDED_VALUES: usize = 10_000;

/// Most values a whole rule may expand to, summed over its items, so many
/// items each just under [`MAX_EXPANDED_VALUES`] cannot multiply it.
pub const MAX_RULE_EXPANDED_VALUES: usize = 100_000;

/// Most rule files in one run (SigmaHQ has about 3,000). Checked while
/// walking the folders, before any file is read.
pub const MAX_RULE_FILES: usize = 100_000;

/// Overrides [`MAX_RULE_FILES`] (a positive number); kept for tests, which
/// cannot cheaply create a hundred thousand files.
pub const MAX_RULE_FILES_ENV: &str = "STETHO_MAX_RULE_FILES";

/// Most YAML documents (`---`) in one rule file: a correlation and the
/// rules it counts take a handful.
pub const MAX_DOCUMENTS_PER_FILE: usize = 1_000;

/// Deepest nesting of YAML mappings and sequences. Real rules nest about
/// 5 levels; anything near this is hostile or broken. (YAML anchors and
/// aliases are refused, never expanded, so alias bombs cannot grow a
/// document past its file size.)
pub const MAX_YAML_DEPTH: usize = 64;

/// Deepest nesting of parentheses and `not` in a rule's `condition`. The
/// condition parser recurses once per level; real conditions use two or
/// three.
pub const MAX_CONDITION_DEPTH: usize = 64;

/// Compiled-program size of one regex (`|re` values and wildcard
/// patterns): ten times what any SigmaHQ pattern needs.
pub const REGEX_SIZE_LIMIT: usize = 10 * MIB as usize;

/// Deepest nesting of groups and repetitions in one regex.
pub const REGEX_NEST_LIMIT: u32 = 100;

/// Longest NDJSON line (one event). Longer lines are reported and skipped
/// instead of exhausting memory.
pub const MAX_LINE_BYTES: usize = 16 * MIB as usize;

/// Deepest nesting of arrays and objects in one event. This is what
/// serde_json's own recursion limit (128) lets through; stetho names it so
/// the error can say so, and every recursive walk of an event stays well
/// inside the stack because of it.
pub const MAX_EVENT_DEPTH: usize = 127;

/// Longest first line of an event file read when looking for a fixture
/// header.
pub const MAX_HEADER_LINE_BYTES: u64 = MIB;

/// Most events a fixture generator may produce.
pub const MAX_GENERATED_EVENTS: u64 = 100_000;

/// The rule-file cap in force: [`MAX_RULE_FILES`] unless
/// [`MAX_RULE_FILES_ENV`] lowers or raises it.
pub fn max_rule_files() -> usize {
    std::env::var(MAX_RULE_FILES_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(MAX_RULE_FILES)
}

/// Why a size-limited file could not be read.
#[derive(Debug, Error)]
pub enum ReadError {
    #[error("file is {size} bytes; {what} are limited to {limit} bytes")]
    TooLarge {
        size: u64,
        limit: u64,
        what: &'static str,
    },
    #[error("file is larger than {limit} bytes, the limit for {what}")]
    Grew { limit: u64, what: &'static str },
    #[error("cannot read file: {0}")]
    Io(#[from] io::Error),
}

/// Read a whole file of at most `limit` bytes. The size is checked before
/// reading, and the read itself stops one byte past the limit, so a file
/// that lies about its size (a pipe, a device, a file still being written)
/// cannot make stetho read more. `what` names the kind of file, plural
/// ("rule files"), for the error.
pub fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(ReadError::TooLarge { size, limit, what });
    }
    // One read asks for a byte more than the file's size: when exactly the
    // size comes back, the file ends where its size said and no read to
    // find the end is needed (a read per rule file, thousands a run). Any
    // other count goes on to the bounded read below.
    let size = usize::try_from(size).unwrap_or(0);
    let mut bytes = vec![0; size + 1];
    let first = loop {
        match file.read(&mut bytes) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    };
    bytes.truncate(first);
    if first == size && size > 0 {
        return Ok(bytes);
    }
    file.take(limit + 1 - first as u64)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::Grew { limit, what });
    }
    Ok(bytes)
}

/// [`read_bounded`] for text: invalid UTF-8 is an error too.
pub fn read_bounded_string(
    path: &Path,
    limit: u64,
    what: &'static str,
) -> Result<String, ReadError> {
    let bytes = read_bounded(path, limit, what)?;
    String::from_utf8(bytes)
        .map_err(|e| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, e.utf8_error())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_bounded_refuses_a_file_over_the_limit_before_reading_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.yml");
        std::fs::write(&path, vec![b'a'; 101]).expect("write");
        let err = read_bounded(&path, 100, "rule files").unwrap_err();
        assert_eq!(
            err.to_string(),
            "file is 101 bytes; rule files are limited to 100 bytes"
        );
        assert_eq!(read_bounded(&path, 101, "rule files").unwrap().len(), 101);
    }

    #[cfg(unix)]
    #[test]
    fn read_bounded_stops_on_a_file_that_reports_no_size() {
        // A character device reports length 0 and never ends.
        let err = read_bounded(Path::new("/dev/zero"), 1000, "rule files").unwrap_err();
        assert!(matches!(err, ReadError::Grew { limit: 1000, .. }), "{err}");
    }

    #[test]
    fn the_rule_file_cap_has_a_sane_default() {
        assert!(max_rule_files() >= 1);
    }
}
