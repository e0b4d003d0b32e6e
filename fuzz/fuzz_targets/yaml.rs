//! Any text through both YAML readers: the subset reader must either give
//! the text up or build exactly the tree saphyr builds (nodes, spans and
//! errors), and neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stetho::source::yaml::{ReaderComparison, compare_readers};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let ReaderComparison::Different { subset, saphyr } = compare_readers(text) {
        panic!("the YAML readers disagree on {text:?}\nsubset: {subset:#?}\nsaphyr: {saphyr:#?}");
    }
});
