//! Sigma string values with wildcards.
//!
//! A Sigma string is text where `*` matches any run of characters and `?`
//! exactly one; a backslash escapes `*`, `?` and itself, and is a plain
//! backslash before anything else (so `C:\Windows\` needs no doubling).
//! This module parses that once into [`Pattern`], which every consumer
//! (evaluator, KQL, Sigma export, explain) reads instead of re-parsing.

use std::fmt;

/// One piece of a parsed Sigma string.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Piece {
    Literal(String),
    /// `*`
    AnyRun,
    /// `?`
    AnyChar,
}

/// A parsed Sigma string, simplified into the shape backends care about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// The whole value equals the text.
    Exact(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    /// Anything with wildcards inside: matched as an anchored glob.
    Glob(Vec<Piece>),
}

impl Pattern {
    /// Parse Sigma wildcard syntax.
    pub fn parse(value: &str) -> Pattern {
        // Most values hold no wildcard and no escape: they are themselves.
        // Without `*` and `?` the only escape left is `\\`; every other
        // backslash (all of a Windows path's) is itself.
        let bytes = value.as_bytes();
        // Branch-free over byte pairs, so the compiler vectorises it: a
        // substring search is slower on values this short.
        let double_backslash = bytes
            .iter()
            .zip(bytes.iter().skip(1))
            .fold(false, |seen, (&a, &b)| seen | ((a == b'\\') & (b == b'\\')));
        if !double_backslash && memchr::memchr2(b'*', b'?', bytes).is_none() {
            return Pattern::Exact(value.to_string());
        }
        Pattern::from_pieces(parse_pieces(value))
    }

    /// A value taken literally (no wildcards), e.g. after base64 encoding.
    pub fn literal(value: &str) -> Pattern {
        Pattern::Exact(value.to_string())
    }

    /// Simplify pieces: `*x*` is `Contains(x)`, `x*` is `StartsWith(x)` and so on.
    pub fn from_pieces(pieces: Vec<Piece>) -> Pattern {
        use Piece::*;
        let mut pieces = merge(pieces);
        // The literal is moved out rather than copied.
        match pieces.as_mut_slice() {
            [] => Pattern::Exact(String::new()),
            [Literal(s)] => Pattern::Exact(std::mem::take(s)),
            [AnyRun] => Pattern::Contains(String::new()),
            [Literal(s), AnyRun] => Pattern::StartsWith(std::mem::take(s)),
            [AnyRun, Literal(s)] => Pattern::EndsWith(std::mem::take(s)),
            [AnyRun, Literal(s), AnyRun] => Pattern::Contains(std::mem::take(s)),
            _ => Pattern::Glob(pieces),
        }
    }

    /// The pattern as pieces again (for wrapping with `contains` etc.).
    pub fn pieces(&self) -> Vec<Piece> {
        let lit = |s: &str| {
            if s.is_empty() {
                vec![]
            } else {
                vec![Piece::Literal(s.to_string())]
            }
        };
        match self {
            Pattern::Exact(s) => lit(s),
            Pattern::StartsWith(s) => [lit(s), vec![Piece::AnyRun]].concat(),
            Pattern::EndsWith(s) => [vec![Piece::AnyRun], lit(s)].concat(),
            Pattern::Contains(s) => [vec![Piece::AnyRun], lit(s), vec![Piece::AnyRun]].concat(),
            Pattern::Glob(p) => p.clone(),
        }
    }

    /// Apply `contains`: wildcards at both ends (where missing).
    pub fn contains(self) -> Pattern {
        self.opened(true, true)
    }

    /// Apply `startswith`: a wildcard at the end.
    pub fn starts_with(self) -> Pattern {
        self.opened(false, true)
    }

    /// Apply `endswith`: a wildcard at the start.
    pub fn ends_with(self) -> Pattern {
        self.opened(true, false)
    }

    /// The pattern with a wildcard at its start and/or end, where missing.
    ///
    /// The simple shapes are rewritten in place; they are nearly every
    /// value of a rule set, and the round trip through pieces would copy
    /// each one several times.
    fn opened(self, start: bool, end: bool) -> Pattern {
        let (text, open_start, open_end) = match self {
            Pattern::Exact(s) => (s, false, false),
            Pattern::StartsWith(s) => (s, false, true),
            Pattern::EndsWith(s) => (s, true, false),
            Pattern::Contains(s) => (s, true, true),
            Pattern::Glob(mut p) => {
                if start && p.first() != Some(&Piece::AnyRun) {
                    p.insert(0, Piece::AnyRun);
                }
                if end && p.last() != Some(&Piece::AnyRun) {
                    p.push(Piece::AnyRun);
                }
                return Pattern::from_pieces(p);
            }
        };
        match (open_start || start, open_end || end) {
            // An empty text under any wildcard matches anything.
            (true, _) | (_, true) if text.is_empty() => Pattern::Contains(text),
            (true, true) => Pattern::Contains(text),
            (false, true) => Pattern::StartsWith(text),
            (true, false) => Pattern::EndsWith(text),
            (false, false) => Pattern::Exact(text),
        }
    }

    /// An anchored regular expression with the same meaning.
    pub fn to_regex(&self) -> String {
        let mut out = String::from("^");
        for piece in self.pieces() {
            match piece {
                Piece::Literal(s) => out.push_str(&regex::escape(&s)),
                Piece::AnyRun => out.push_str(".*"),
                Piece::AnyChar => out.push('.'),
            }
        }
        out.push('$');
        out
    }
}

impl fmt::Display for Pattern {
    /// Back to Sigma syntax, escaping literal `*`, `?` and backslashes that
    /// would otherwise be read as escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pieces = self.pieces();
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::AnyRun => f.write_str("*")?,
                Piece::AnyChar => f.write_str("?")?,
                Piece::Literal(s) => {
                    let next_is_wildcard =
                        matches!(pieces.get(i + 1), Some(Piece::AnyRun | Piece::AnyChar));
                    write_literal(f, s, next_is_wildcard)?;
                }
            }
        }
        Ok(())
    }
}

/// One literal piece in Sigma syntax. Ordinary text is written in runs
/// between the three special characters: a rule set's values hold tens of
/// thousands of characters, and formatting them one by one cost more than
/// the rest of their lowering.
fn write_literal(f: &mut fmt::Formatter<'_>, s: &str, next_is_wildcard: bool) -> fmt::Result {
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for at in memchr::memchr3_iter(b'*', b'?', b'\\', bytes) {
        f.write_str(&s[run_start..at])?;
        run_start = at + 1;
        f.write_str(match bytes[at] {
            b'*' => "\\*",
            b'?' => "\\?",
            // A backslash is only an escape before `*`, `?` or `\`.
            _ => match bytes.get(at + 1) {
                Some(b'*' | b'?' | b'\\') => "\\\\",
                None if next_is_wildcard => "\\\\",
                _ => "\\",
            },
        })?;
    }
    f.write_str(&s[run_start..])
}

/// Rewrite a Sigma `re` value for RE2-family engines (Rust `regex`, KQL).
///
/// The Sigma specification gives `re` PCRE semantics, where `$` (without
/// the multi-line flag) also matches just before a newline that ends the
/// text; RE2 matches only at the very end. Every unescaped `$` outside a
/// character class becomes `(?:\n?\z)`, so the evaluator and the KQL
/// compiler both behave as PCRE does (and as each other).
pub fn re2_compatible(pattern: &str, multi_line: bool) -> String {
    if multi_line || !pattern.contains('$') {
        return pattern.to_string();
    }
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal member.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str("(?:\\n?\\z)"),
            _ => out.push(c),
        }
    }
    out
}

/// Parse wildcards and escapes into pieces. Literal text is copied a run
/// at a time, so a value without wildcards costs one allocation.
pub fn parse_pieces(value: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = value;
    // The three are ASCII, so a byte search finds them at character
    // boundaries.
    while let Some(at) = memchr::memchr3(b'\\', b'*', b'?', rest.as_bytes()) {
        if literal.is_empty() {
            // Room for the rest: a Windows path's backslashes would
            // otherwise grow it run by run.
            literal.reserve(rest.len());
        }
        literal.push_str(&rest[..at]);
        let special = rest.as_bytes()[at];
        rest = &rest[at + 1..];
        match special {
            // `\*`, `\?` and `\\` are the escaped character; any other
            // backslash is itself.
            b'\\' => match rest.as_bytes().first() {
                Some(&escaped @ (b'*' | b'?' | b'\\')) => {
                    literal.push(char::from(escaped));
                    rest = &rest[1..];
                }
                _ => literal.push('\\'),
            },
            wildcard => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(if wildcard == b'*' {
                    Piece::AnyRun
                } else {
                    Piece::AnyChar
                });
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

/// Join adjacent literals and collapse `**` into `*`.
fn merge(pieces: Vec<Piece>) -> Vec<Piece> {
    // Usually there is nothing to merge, and the vector is kept.
    let merged = |w: &[Piece]| {
        matches!(
            w,
            [Piece::Literal(_), Piece::Literal(_)] | [Piece::AnyRun, Piece::AnyRun]
        )
    };
    if !pieces.windows(2).any(merged)
        && !pieces
            .iter()
            .any(|p| matches!(p, Piece::Literal(s) if s.is_empty()))
    {
        return pieces;
    }
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        match (out.last_mut(), piece) {
            (Some(Piece::Literal(prev)), Piece::Literal(next)) => prev.push_str(&next),
            (Some(Piece::AnyRun), Piece::AnyRun) => {}
            (_, Piece::Literal(s)) if s.is_empty() => {}
            (_, piece) => out.push(piece),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place rewrites of `contains`, `startswith` and `endswith`
    /// give what adding the wildcards to the pieces and simplifying gives.
    #[test]
    fn position_modifiers_agree_with_the_pieces() {
        fn wrapped(p: &Pattern, start: bool, end: bool) -> Pattern {
            let mut pieces = p.pieces();
            if start && pieces.first() != Some(&Piece::AnyRun) {
                pieces.insert(0, Piece::AnyRun);
            }
            if end && (pieces.last() != Some(&Piece::AnyRun) || pieces.len() == 1) {
                pieces.push(Piece::AnyRun);
            }
            Pattern::from_pieces(pieces)
        }
        let mut patterns: Vec<Pattern> = [
            "", "x", "*", "x*", "*x", "*x*", "a*b", "?", "a?", "*a?b*", "**",
        ]
        .iter()
        .map(|v| Pattern::parse(v))
        .collect();
        // Shapes parsing never produces, built directly.
        for s in ["", "x"] {
            patterns.extend([
                Pattern::Exact(s.into()),
                Pattern::StartsWith(s.into()),
                Pattern::EndsWith(s.into()),
                Pattern::Contains(s.into()),
            ]);
        }
        for p in patterns {
            assert_eq!(
                p.clone().contains(),
                wrapped(&p, true, true),
                "contains {p:?}"
            );
            assert_eq!(
                p.clone().starts_with(),
                wrapped(&p, false, true),
                "startswith {p:?}"
            );
            assert_eq!(
                p.clone().ends_with(),
                wrapped(&p, true, false),
                "endswith {p:?}"
            );
        }
    }

    /// The run-at-a-time parser reads every value as a character-by-
    /// character reading of the escape rules does.
    #[test]
    fn pieces_follow_the_escape_rules() {
        fn by_char(value: &str) -> Vec<Piece> {
            let mut pieces = Vec::new();
            let mut literal = String::new();
            let mut chars = value.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                        literal.extend(chars.next());
                    }
                    '*' | '?' => {
                        if !literal.is_empty() {
                            pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                        }
                        pieces.push(if c == '*' {
                            Piece::AnyRun
                        } else {
                            Piece::AnyChar
                        });
                    }
                    _ => literal.push(c),
                }
            }
            if !literal.is_empty() {
                pieces.push(Piece::Literal(literal));
            }
            pieces
        }
        let values = [
            "",
            "*",
            "?",
            "\\",
            "\\\\",
            "\\*",
            "\\?",
            "\\\\*",
            "\\\\\\*",
            "a\\",
            "*\\",
            "C:\\Windows\\System32\\cmd.exe",
            "*\\AppData\\*\\?.exe",
            "x\\y*z?",
            "é*ü\\?ß",
            "**",
            "a**b",
            "\\a\\b\\",
            "?*?",
        ];
        for value in values {
            assert_eq!(parse_pieces(value), by_char(value), "{value:?}");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(Pattern::parse("cmd.exe"), Pattern::Exact("cmd.exe".into()));
        assert_eq!(
            Pattern::parse("*\\cmd.exe"),
            Pattern::EndsWith("\\cmd.exe".into())
        );
        // `\*` is an escaped star; a backslash before a wildcard is written `\\*`.
        assert_eq!(
            Pattern::parse("C:\\Windows\\*"),
            Pattern::Exact("C:\\Windows*".into())
        );
        assert_eq!(
            Pattern::parse("C:\\Windows\\\\*"),
            Pattern::StartsWith("C:\\Windows\\".into())
        );
        assert_eq!(
            Pattern::parse("*whoami*"),
            Pattern::Contains("whoami".into())
        );
        assert!(matches!(Pattern::parse("a*b"), Pattern::Glob(_)));
        assert!(matches!(Pattern::parse("a?"), Pattern::Glob(_)));
    }

    #[test]
    fn escapes_follow_the_specification() {
        // \* and \? are literal; \\ is one backslash; a lone \ is a backslash.
        assert_eq!(Pattern::parse("a\\*b"), Pattern::Exact("a*b".into()));
        assert_eq!(Pattern::parse("a\\?"), Pattern::Exact("a?".into()));
        assert_eq!(
            Pattern::parse("C:\\\\*"),
            Pattern::StartsWith("C:\\".into())
        );
        assert_eq!(Pattern::parse("C:\\\\\\*"), Pattern::Exact("C:\\*".into()));
        assert_eq!(
            Pattern::parse("trailing\\"),
            Pattern::Exact("trailing\\".into())
        );
    }

    #[test]
    fn modifiers_wrap_patterns() {
        assert_eq!(
            Pattern::parse("x").contains(),
            Pattern::Contains("x".into())
        );
        assert_eq!(
            Pattern::parse("*x").contains(),
            Pattern::Contains("x".into())
        );
        assert_eq!(
            Pattern::parse("x").starts_with(),
            Pattern::StartsWith("x".into())
        );
        assert_eq!(
            Pattern::parse("x").ends_with(),
            Pattern::EndsWith("x".into())
        );
        assert!(matches!(Pattern::parse("a*b").contains(), Pattern::Glob(_)));
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "a*b?c",
            "C:\\Windows\\",
            "lit\\*star",
            "back\\\\*",
            "x\\\\\\*",
            "*\\cmd.exe",
            "plain",
        ] {
            let p = Pattern::parse(text);
            assert_eq!(Pattern::parse(&p.to_string()), p, "{text} -> {p}");
        }
    }

    #[test]
    fn display_escapes_only_what_would_be_read_as_syntax() {
        let exact = |text: &str| Pattern::Exact(text.to_string()).to_string();
        assert_eq!(exact("C:\\Windows\\cmd.exe"), "C:\\Windows\\cmd.exe");
        assert_eq!(exact("a*b?c"), "a\\*b\\?c");
        assert_eq!(exact("dir\\*"), "dir\\\\\\*");
        assert_eq!(exact("end\\"), "end\\");
        assert_eq!(exact("é\\\\ü"), "é\\\\\\ü");
        // A trailing backslash before a wildcard is doubled, or it would
        // escape the wildcard.
        assert_eq!(Pattern::StartsWith("dir\\".into()).to_string(), "dir\\\\*");
        assert_eq!(Pattern::EndsWith("\\x".into()).to_string(), "*\\x");
    }

    /// The shortcut for values that need no parsing gives what parsing
    /// gives, for every value of up to six characters from the ones that
    /// matter.
    #[test]
    fn unparsed_values_are_their_pieces() {
        let mut values = vec![String::new()];
        let mut last = values.clone();
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|v| ["a", "\\", "*", "?"].map(|c| format!("{v}{c}")))
                .collect();
            values.extend(last.iter().cloned());
        }
        for value in values {
            assert_eq!(
                Pattern::parse(&value),
                Pattern::from_pieces(parse_pieces(&value)),
                "{value:?}"
            );
        }
    }

    proptest::proptest! {
        /// Any value, special characters and backslash runs included,
        /// reads back as the pattern it was written from.
        #[test]
        fn display_round_trips_any_value(text in "[ab*?\\\\é]{0,12}") {
            let p = Pattern::parse(&text);
            proptest::prop_assert_eq!(Pattern::parse(&p.to_string()), p);
        }
    }

    #[test]
    fn dollar_gets_pcre_meaning() {
        assert_eq!(re2_compatible("a$", false), "a(?:\\n?\\z)");
        assert_eq!(re2_compatible("a\\$b", false), "a\\$b");
        assert_eq!(re2_compatible("[$]x", false), "[$]x");
        assert_eq!(re2_compatible("a$", true), "a$");
        let re = regex::Regex::new(&re2_compatible("resume_[a-z]{3}$", false)).expect("valid");
        assert!(re.is_match("C:\\dir\\resume_abc\n"));
        assert!(re.is_match("C:\\dir\\resume_abc"));
        assert!(!re.is_match("resume_abc\nmore"));
    }

    #[test]
    fn regex_is_anchored_and_escaped() {
        assert_eq!(Pattern::parse("a.b*").to_regex(), "^a\\.b.*$");
    }
}
