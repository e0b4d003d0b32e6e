//! An upper bound on the memory of the NFA a parsed regex compiles to.
//!
//! Lowering checks every `re` value against the size limit its matcher is
//! built with. Building the NFA to measure it costs far more than parsing
//! the pattern, and almost every rule's pattern is thousands of times
//! smaller than the limit; bounding the size from the parsed form settles
//! those, and only a pattern the bound cannot clear is built.
//!
//! The bound follows how the Thompson compiler lays a pattern out, with
//! every cost rounded up: a literal byte is one state; a Unicode class is
//! at most one state and one transition per byte of each of its UTF-8
//! sequences; a repetition `{n,m}` is `m` copies of its body (`n + 1` when
//! unbounded); groups, alternations and the unanchored prefix add a few
//! states each.

use regex_syntax::hir::{Class, Hir, HirKind};
use regex_syntax::utf8::Utf8Sequences;

/// Bytes charged for one NFA state: the compiler's state record is about
/// half of this.
const STATE: u64 = 64;
/// Bytes charged for one transition or union alternate (8 and 4 in fact).
const EDGE: u64 = 16;
/// The states every NFA has whatever its pattern: start, match, the
/// unanchored prefix, the implicit capture group.
const FIXED: u64 = 32 * STATE;

/// Whether the NFA of `hir` certainly stays within `limit` bytes. `false`
/// means only that the bound is above it, not that the NFA is.
pub fn certainly_within(hir: &Hir, limit: usize) -> bool {
    FIXED.saturating_add(bound(hir)) <= limit as u64
}

fn bound(hir: &Hir) -> u64 {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => STATE,
        HirKind::Literal(literal) => (literal.0.len() as u64).saturating_mul(STATE),
        HirKind::Class(Class::Bytes(class)) => {
            STATE.saturating_add((class.ranges().len() as u64).saturating_mul(EDGE))
        }
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .flat_map(|range| Utf8Sequences::new(range.start(), range.end()))
            .map(|sequence| (sequence.len() as u64) * (STATE + EDGE))
            .fold(STATE, u64::saturating_add),
        HirKind::Repetition(repetition) => {
            let copies = repetition
                .max
                .map_or(u64::from(repetition.min) + 1, u64::from)
                .max(1);
            copies.saturating_mul(bound(&repetition.sub).saturating_add(2 * STATE))
        }
        HirKind::Capture(capture) => bound(&capture.sub).saturating_add(2 * STATE),
        HirKind::Concat(parts) => parts.iter().map(bound).fold(STATE, u64::saturating_add),
        HirKind::Alternation(parts) => parts
            .iter()
            .map(|part| bound(part).saturating_add(STATE + EDGE))
            .fold(STATE, u64::saturating_add),
    }
}

#[cfg(test)]
mod tests {
    use regex_automata::nfa::thompson;
    use regex_automata::util::syntax;

    /// The bound is never below the size of the NFA the compiler builds,
    /// on patterns of every shape the bound distinguishes.
    #[test]
    fn the_bound_is_never_below_the_real_size() {
        let patterns = [
            r"abc",
            r"(?i)powershell.*-enc",
            r"\w+\s+\d{1,3}",
            r"[^/]{100,}$",
            r"(?i)[^\\]+\\AppData\\(Local|Roaming)\\[a-z0-9]{8}\.exe$",
            r"https?://(?:(?:25[0-5]|(?:2[0-4]|1\d|[1-9])?\d)(?:\.|\b)){4}",
            r"(a|bc|\p{Greek}|[\u{10000}-\u{10FFFF}])*",
            r"(?s).{0,50}x",
            r"\w{1,300}",
            r"",
        ];
        for (pattern, ignore_case) in patterns.iter().flat_map(|p| [(p, false), (p, true)]) {
            let config = syntax::Config::new().case_insensitive(ignore_case);
            let hir = syntax::parse_with(pattern, &config).expect("pattern parses");
            let bound = super::FIXED + super::bound(&hir);
            // The compiler checks its size limit as it adds each state, so
            // a build limited to the bound succeeds only if the NFA never
            // grew past it.
            let built = thompson::Compiler::new()
                .syntax(config)
                .configure(thompson::Config::new().nfa_size_limit(Some(bound as usize)))
                .build(pattern);
            assert!(
                built.is_ok(),
                "{pattern:?} (ignore case {ignore_case}): the NFA outgrew the bound {bound}"
            );
            // And the bound is not absurdly loose, or it would clear nothing.
            let size = built.map(|nfa| nfa.memory_usage() as u64).unwrap_or(0);
            assert!(
                bound <= 64 * size.max(1024),
                "{pattern:?}: bound {bound}, size {size}"
            );
        }
    }

    /// Ordinary rule patterns are cleared without building them; a
    /// pattern whose repetitions multiply past the limit is not.
    #[test]
    fn ordinary_patterns_are_cleared_and_huge_ones_are_not() {
        let limit = crate::limits::REGEX_SIZE_LIMIT;
        let parse = |p: &str| syntax::parse(p).expect("pattern parses");
        assert!(super::certainly_within(&parse(r"\s-[FTd]\s"), limit));
        assert!(super::certainly_within(
            &parse(r"(?i)\w+\.(zip|rar|7z)$"),
            limit
        ));
        assert!(!super::certainly_within(
            &parse(r"\w{1,1000}\w{1,1000}"),
            limit
        ));
    }
}
