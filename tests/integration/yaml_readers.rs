//! The two YAML readers on generated documents: rule-shaped trees written
//! out in the layouts people use (two or four spaces, sequences indented or
//! level with their key, compact mappings in sequences, comments and blank
//! lines anywhere, every scalar style), with a few bytes changed at random.
//! The subset reader must give each text up or build saphyr's tree; on
//! the unchanged layouts it must read most of them itself.

use proptest::prelude::*;
use stetho::source::yaml::{ReaderComparison, compare_readers};

/// Scalar texts that probe plain-scalar rules: colons, hashes, dashes,
/// quotes, backslashes, numbers-that-are-strings, non-ASCII.
const WORDS: &[&str] = &[
    "cmd.exe",
    "C:\\Windows\\System32\\x.exe",
    "a:b",
    "https://example.org/a#b",
    "-x",
    "00000429",
    "true",
    "~",
    "two words",
    "it's",
    "say \"hi\"",
    "é ünï",
    "%placeholder%",
    "*wild*card?",
    "",
    "x #y",
];

const KEYS: &[&str] = &[
    "title",
    "Image|endswith",
    "CommandLine|contains|all",
    "selection",
    "key with spaces",
    "condition",
    "a",
];

#[derive(Clone, Debug)]
enum Doc {
    Scalar(&'static str, Style),
    Flow(Vec<&'static str>),
    Seq(Vec<Doc>),
    Map(Vec<(&'static str, Doc)>),
}

#[derive(Clone, Copy, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal(&'static str),
    Folded(&'static str),
}

fn style() -> impl Strategy<Value = Style> {
    let chomp = prop::sample::select(&["", "-", "+"][..]);
    prop_oneof![
        3 => Just(Style::Plain),
        2 => Just(Style::Single),
        2 => Just(Style::Double),
        1 => chomp.clone().prop_map(Style::Literal),
        1 => chomp.prop_map(Style::Folded),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    let words = prop::sample::select(WORDS);
    let leaf = prop_oneof![
        4 => (words.clone(), style()).prop_map(|(w, s)| Doc::Scalar(w, s)),
        1 => prop::collection::vec(words, 0..4).prop_map(Doc::Flow),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Doc::Seq),
            prop::collection::vec((prop::sample::select(KEYS), inner), 1..5).prop_map(Doc::Map),
        ]
    })
}

/// Writes a [`Doc`] as YAML text, taking each layout decision from a list
/// of generated choices (reused cyclically), so a failure shrinks.
struct Writer<'c> {
    out: String,
    choices: &'c [u8],
    next: usize,
    step: usize,
}

impl Writer<'_> {
    fn choose(&mut self, n: u8) -> u8 {
        let c = self.choices[self.next % self.choices.len()];
        self.next += 1;
        c % n
    }

    fn line_end(&mut self) {
        match self.choose(8) {
            0 => self.out.push_str("  # note"),
            1 => self.out.push(' '),
            _ => {}
        }
        self.out.push('\n');
        match self.choose(10) {
            0 => self.out.push('\n'),
            1 => {
                let indent = usize::from(self.choose(3)) * 2;
                self.out.push_str(&" ".repeat(indent));
                self.out.push_str("# between\n");
            }
            _ => {}
        }
    }

    fn scalar(&mut self, text: &str, style: Style, indent: usize) {
        match style {
            Style::Plain => self.out.push_str(text),
            Style::Single => self
                .out
                .push_str(&format!("'{}'", text.replace('\'', "''"))),
            Style::Double => self.out.push_str(&format!(
                "\"{}\"",
                text.replace('\\', "\\\\").replace('"', "\\\"")
            )),
            Style::Literal(chomp) | Style::Folded(chomp) => {
                let indicator = if matches!(style, Style::Literal(_)) {
                    '|'
                } else {
                    '>'
                };
                self.out.push(indicator);
                self.out.push_str(chomp);
                self.out.push('\n');
                let pad = " ".repeat(indent + self.step);
                for (i, word) in text.split(' ').enumerate() {
                    if i > 0 && self.choose(4) == 0 {
                        self.out.push('\n');
                    }
                    self.out.push_str(&pad);
                    self.out.push_str(word);
                    self.out.push('\n');
                }
                return;
            }
        }
        self.line_end();
    }

    fn flow(&mut self, items: &[&str]) {
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.out
                .push_str(&format!("'{}'", item.replace('\'', "''")));
        }
        self.out.push(']');
        self.line_end();
    }

    /// A mapping whose keys sit at column `indent`; the first key's
    /// indentation is already written when `first_inline`.
    fn map(&mut self, entries: &[(&str, Doc)], indent: usize, first_inline: bool) {
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 || !first_inline {
                self.out.push_str(&" ".repeat(indent));
            }
            self.out.push_str(key);
            self.out.push(':');
            match value {
                Doc::Scalar(text, style) => {
                    self.out.push(' ');
                    self.scalar(text, *style, indent);
                }
                Doc::Flow(items) => {
                    self.out.push(' ');
                    self.flow(items);
                }
                Doc::Seq(items) => {
                    self.line_end();
                    let level = self.choose(2) == 0;
                    let at = if level { indent } else { indent + self.step };
                    self.seq(items, at, false);
                }
                Doc::Map(entries) => {
                    self.line_end();
                    self.map(entries, indent + self.step, false);
                }
            }
        }
    }

    fn seq(&mut self, items: &[Doc], indent: usize, first_inline: bool) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !first_inline {
                self.out.push_str(&" ".repeat(indent));
            }
            self.out.push_str("- ");
            match item {
                Doc::Scalar(text, style) => self.scalar(text, *style, indent),
                Doc::Flow(items) => self.flow(items),
                Doc::Seq(items) => self.seq(items, indent + 2, true),
                Doc::Map(entries) => self.map(entries, indent + 2, true),
            }
        }
    }
}

fn write(doc: &Doc, choices: &[u8]) -> String {
    let mut writer = Writer {
        out: String::new(),
        choices,
        next: 0,
        step: if choices[0].is_multiple_of(2) { 2 } else { 4 },
    };
    match doc {
        Doc::Map(entries) => writer.map(entries, 0, false),
        Doc::Seq(items) => writer.seq(items, 0, false),
        leaf => writer.map(&[("value", leaf.clone())], 0, false),
    }
    writer.out
}

fn agree(text: &str) -> Result<bool, TestCaseError> {
    match compare_readers(text) {
        ReaderComparison::Same => Ok(true),
        ReaderComparison::GivenUp => Ok(false),
        ReaderComparison::Different { subset, saphyr } => Err(TestCaseError::fail(format!(
            "the YAML readers disagree on {text:?}\nsubset: {subset:?}\nsaphyr: {saphyr:?}"
        ))),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_read_the_same_with_both_readers(
        doc in doc(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        agree(&write(&doc, &choices))?;
    }

    #[test]
    fn damaged_documents_read_the_same_with_both_readers(
        doc in doc(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
        damage in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(&[" ", "\n", ":", "-", "#", "'", "\"", "[", "]", "{", "}", ",", "|", ">", "\\", "x"][..])), 1..4),
    ) {
        let mut text = write(&doc, &choices);
        for (at, with) in damage {
            let at = at.index(text.len() + 1);
            if text.is_char_boundary(at) {
                text.insert_str(at, with);
            }
        }
        agree(&text)?;
    }
}

/// The generator writes layouts the subset reader is made for: most of its
/// documents must take the fast path, or the property above tests saphyr
/// against itself.
#[test]
fn generated_documents_mostly_take_the_fast_path() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = (doc(), prop::collection::vec(any::<u8>(), 1..64));
    let (mut read, total) = (0, 500);
    for _ in 0..total {
        let (doc, choices) = strategy
            .new_tree(&mut runner)
            .expect("a generated document")
            .current();
        if agree(&write(&doc, &choices)).expect("the readers agree") {
            read += 1;
        }
    }
    assert!(
        read * 10 >= total * 8,
        "{read} of {total} read by the subset reader"
    );
}
