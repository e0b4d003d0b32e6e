//! The literal scan: every needle of a field found in one pass over a
//! value, overlapping occurrences included, ASCII case-insensitively.
//!
//! This loop runs over every byte of every scanned field of every event,
//! and with a thousand rules a field's automaton holds over a thousand
//! needles and tens of thousands of states. What it costs is then memory
//! latency, not instructions: each byte reads one transition, and a
//! transition table of several megabytes does not stay in the CPU's
//! caches. So the automaton (Aho-Corasick's, built by the `aho-corasick`
//! crate as an NFA) is laid out here as a table made for the scan:
//!
//! - states in breadth-first order from the start state, so the shallow
//!   states, where a scan spends nearly all its time, share a few cache
//!   lines instead of being spread over the whole table;
//! - rows exactly as wide as the number of byte classes (bytes no needle
//!   holds share one class, as do the two cases of a letter), not rounded
//!   up to a power of two;
//! - a flag on each transition into a state where needles end, so the
//!   loop tests a bit of the value it already holds;
//! - what the needles ending in a state stand for (for the evaluator, the
//!   predicates they decide and the rule clauses they serve) copied into
//!   one run per state, so a state where needles end costs one read of
//!   its range and one of a run, instead of a read per needle and per
//!   list the needle owns, each in a block of its own.

use aho_corasick::automaton::Automaton;
use aho_corasick::nfa::noncontiguous;
use aho_corasick::{Anchored, MatchKind};

/// Set on a transition into a state where needles end.
const ENDS_NEEDLES: u32 = 1 << 31;

pub struct Scanner<T> {
    /// Byte to class.
    classes: [u8; 256],
    /// Classes, the width of a row.
    stride: usize,
    /// One row per state; the start state is row 0. An entry is the target
    /// row's offset in this table, or, for a state where needles end,
    /// [`ENDS_NEEDLES`] plus the row's number (which indexes `ending`
    /// without a division).
    transitions: Vec<u32>,
    /// Per state, its range in `found`.
    ending: Vec<(u32, u32)>,
    /// What the needles each state ends stand for, state after state.
    found: Vec<T>,
}

impl<T: Clone> Scanner<T> {
    /// An automaton for `needles`; `meaning(i)` is what finding needle `i`
    /// stands for, handed back by [`Scanner::scan`] where it ends.
    pub fn new<'m, N: AsRef<[u8]>>(
        needles: &[N],
        meaning: impl Fn(usize) -> &'m [T],
    ) -> Result<Scanner<T>, String>
    where
        T: 'm,
    {
        let nfa = noncontiguous::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(needles)
            .map_err(|e| e.to_string())?;
        let (classes, representatives) = byte_classes(needles);
        let stride = representatives.len();
        let start = nfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
        // Breadth-first from the start state: `order` lists the NFA's
        // states in row order, `row_of` inverts it.
        let mut order = vec![start];
        let mut row_of = std::collections::HashMap::from([(start, 0u32)]);
        let mut targets: Vec<u32> = Vec::new();
        let mut next_row = 0;
        while next_row < order.len() {
            let state = order[next_row];
            for &byte in &representatives {
                let target = nfa.next_state(Anchored::No, state, byte);
                let row = *row_of.entry(target).or_insert_with(|| {
                    order.push(target);
                    (order.len() - 1) as u32
                });
                targets.push(row);
            }
            next_row += 1;
        }
        let too_large = || format!("{} needles make too large an automaton", needles.len());
        if order.len().saturating_mul(stride) >= ENDS_NEEDLES as usize {
            return Err(too_large());
        }
        let mut ending = Vec::with_capacity(order.len());
        let mut found = Vec::new();
        for &state in &order {
            let first = u32::try_from(found.len()).map_err(|_| too_large())?;
            if nfa.is_match(state) {
                for k in 0..nfa.match_len(state) {
                    found.extend_from_slice(meaning(nfa.match_pattern(state, k).as_usize()));
                }
            }
            let last = u32::try_from(found.len()).map_err(|_| too_large())?;
            ending.push((first, last));
        }
        let transitions = targets
            .into_iter()
            .map(|row| {
                let (first, last) = ending[row as usize];
                if first < last {
                    ENDS_NEEDLES | row
                } else {
                    row * stride as u32
                }
            })
            .collect();
        Ok(Scanner {
            classes,
            stride,
            transitions,
            ending,
            found,
        })
    }

    /// Call `on_found(meaning, end)` for what each occurrence of each needle
    /// in `haystack` stands for, in order of their ends; `end` is the
    /// offset just past the occurrence.
    #[inline]
    pub fn scan(&self, haystack: &[u8], mut on_found: impl FnMut(&T, usize)) {
        let mut state = 0usize;
        // The loop walks one pointer; where a needle ends is worked out
        // from what is left, only when one does (an enumerated iterator
        // kept a count beside the pointer for every byte).
        let mut rest = haystack.iter();
        while let Some(&byte) = rest.next() {
            let entry = self.transitions[state + usize::from(self.classes[usize::from(byte)])];
            if entry & ENDS_NEEDLES == 0 {
                state = entry as usize;
            } else {
                let row = (entry & !ENDS_NEEDLES) as usize;
                state = row * self.stride;
                let end = haystack.len() - rest.as_slice().len();
                let (first, last) = self.ending[row];
                for meaning in &self.found[first as usize..last as usize] {
                    on_found(meaning, end);
                }
            }
        }
    }
}

/// Partition the bytes into classes the automaton cannot tell apart: every
/// byte no needle holds is class 0, and each byte a needle holds has a
/// class of its own, shared with its other case for an ASCII letter.
/// Returns the class of each byte and one byte of each class.
fn byte_classes<N: AsRef<[u8]>>(needles: &[N]) -> ([u8; 256], Vec<u8>) {
    let mut used = [false; 256];
    for needle in needles {
        for &byte in needle.as_ref() {
            used[usize::from(byte.to_ascii_lowercase())] = true;
        }
    }
    let mut classes = [0u8; 256];
    let mut representatives = vec![
        (0..=255u8)
            .find(|&b| !used[usize::from(b.to_ascii_lowercase())])
            .unwrap_or(0),
    ];
    for byte in 0..=255u8 {
        if used[usize::from(byte)] && !byte.is_ascii_uppercase() {
            // At most 256 - 26 classes: the cast cannot truncate.
            classes[usize::from(byte)] = representatives.len() as u8;
            representatives.push(byte);
        }
    }
    for upper in b'A'..=b'Z' {
        classes[usize::from(upper)] = classes[usize::from(upper.to_ascii_lowercase())];
    }
    (classes, representatives)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A scanner whose needles stand for their number and length.
    fn scanner<N: AsRef<[u8]>>(needles: &[N]) -> Scanner<(usize, usize)> {
        let meanings: Vec<[(usize, usize); 1]> = needles
            .iter()
            .enumerate()
            .map(|(i, n)| [(i, n.as_ref().len())])
            .collect();
        Scanner::new(needles, |i| &meanings[i]).expect("builds")
    }

    fn occurrences(
        scanner: &Scanner<(usize, usize)>,
        haystack: &str,
    ) -> Vec<(usize, usize, usize)> {
        let mut found = Vec::new();
        scanner.scan(haystack.as_bytes(), |&(n, len), e| {
            found.push((n, e - len, e))
        });
        found.sort_unstable();
        found
    }

    fn reference(needles: &[String], haystack: &str) -> Vec<(usize, usize, usize)> {
        let automaton = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(needles)
            .expect("builds");
        let mut found: Vec<_> = automaton
            .find_overlapping_iter(haystack)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn finds_overlapping_needles_in_either_case() {
        let needles = ["he", "she", "hers", "\\cmd.exe", "cmd"];
        let scanner = scanner(&needles);
        assert_eq!(
            occurrences(&scanner, "uSHErs C:\\CMD.EXE"),
            vec![(0, 2, 4), (1, 1, 4), (2, 2, 6), (3, 9, 17), (4, 10, 13)]
        );
        assert_eq!(occurrences(&scanner, ""), vec![]);
    }

    proptest! {
        /// The same occurrences as the crate's own overlapping search, over
        /// a small alphabet (so needles overlap and share prefixes a lot)
        /// with both cases and a non-ASCII letter.
        #[test]
        fn agrees_with_aho_corasick(
            needles in proptest::collection::vec("[abAB.é]{1,7}", 1..40),
            haystack in "[abcABC.é]{0,40}",
        ) {
            let lowered: Vec<String> = needles.iter().map(|n| n.to_ascii_lowercase()).collect();
            let scanner = scanner(&lowered);
            prop_assert_eq!(occurrences(&scanner, &haystack), reference(&lowered, &haystack));
        }
    }
}
