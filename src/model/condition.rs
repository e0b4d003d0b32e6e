//! The Sigma condition language.
//!
//! ```text
//! condition  := or_expr
//! or_expr    := and_expr ("or" and_expr)*
//! and_expr   := not_expr ("and" not_expr)*
//! not_expr   := "not" not_expr | operand
//! operand    := quantifier "of" target | identifier | "(" condition ")"
//! quantifier := "1" | "any" | "all"
//! target     := "them" | pattern          (pattern: identifier with `*` wildcards)
//! ```
//!
//! Precedence, loosest first: `or`, `and`, `not`, `x of`, parentheses (Sigma
//! specification, "Condition"). Operators are lower case, as in pySigma; an
//! upper-case `AND` is an error with a hint rather than an identifier, because
//! silently reading it as a selection name hides the mistake.
//!
//! Positions are byte offsets into the condition text; the caller maps them
//! into the rule file.

use std::ops::Range;

use thiserror::Error;

use crate::limits::MAX_CONDITION_DEPTH;

/// `1 of` / `any of` (the same thing) or `all of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
}

/// What a quantifier ranges over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every search identifier not starting with `_`.
    Them,
    /// Identifiers matching a `*` wildcard pattern.
    Pattern(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Ident {
        name: String,
        span: Range<usize>,
    },
    Of {
        quantifier: Quantifier,
        target: Target,
        span: Range<usize>,
    },
}

impl Expr {
    /// Every identifier and quantifier target, in source order.
    pub fn references(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Expr::Or(items) | Expr::And(items) => items.iter().for_each(|e| e.collect_refs(out)),
            Expr::Not(inner) => inner.collect_refs(out),
            Expr::Ident { .. } | Expr::Of { .. } => out.push(self),
        }
    }
}

#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    And,
    Or,
    Not,
    Of,
    LParen,
    RParen,
    /// An identifier, a pattern, `1`, `any`, `all` or `them`.
    Word(String),
}

fn lex(text: &str) -> Result<Vec<(Tok, Range<usize>)>, ParseError> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'(' {
            out.push((Tok::LParen, i..i + 1));
            i += 1;
        } else if c == b')' {
            out.push((Tok::RParen, i..i + 1));
            i += 1;
        } else if is_word_byte(c) {
            let start = i;
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            let tok = match word {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                "of" => Tok::Of,
                _ => {
                    // Compared in place: every identifier of every rule
                    // passes here, and a lower-cased copy is an allocation.
                    if ["and", "or", "not", "of"]
                        .iter()
                        .any(|op| word.eq_ignore_ascii_case(op))
                    {
                        return Err(ParseError {
                            message: format!("operator `{word}` must be written in lower case"),
                            span: start..i,
                            help: Some(format!("write `{}`", word.to_ascii_lowercase())),
                        });
                    }
                    Tok::Word(word.to_string())
                }
            };
            out.push((tok, start..i));
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            let hint = match ch {
                '|' => Some(
                    "Sigma v2 has no `| count()` aggregations; write a correlation rule instead"
                        .to_string(),
                ),
                '&' => Some("write `and`".to_string()),
                '!' => Some("write `not`".to_string()),
                _ => None,
            };
            return Err(ParseError {
                message: format!("unexpected character `{ch}` in condition"),
                span: i..i + ch.len_utf8(),
                help: hint,
            });
        }
    }
    Ok(out)
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'*' | b'.')
}

/// Parse one condition string.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let tokens = lex(text)?;
    if tokens.is_empty() {
        return Err(ParseError {
            message: "the condition is empty".into(),
            span: 0..text.len(),
            help: Some(
                "name the search identifiers to combine, e.g. `selection and not filter`".into(),
            ),
        });
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    let expr = parser.or_expr()?;
    if let Some((tok, span)) = parser.tokens.get(parser.pos) {
        let help = match tok {
            Tok::RParen => Some("remove the unmatched `)`".to_string()),
            Tok::Word(_) => Some("join the parts with `and` or `or`".to_string()),
            _ => None,
        };
        return Err(ParseError {
            message: format!("unexpected {} after a complete condition", describe(tok)),
            span: span.clone(),
            help,
        });
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<(Tok, Range<usize>)>,
    pos: usize,
    end: usize,
    /// Open parentheses and `not`s around the current token.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<(Tok, Range<usize>)> {
        let item = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        item
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and_expr()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.not_expr()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Tok::Not) {
            self.enter()?;
            self.pos += 1;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.operand()
    }

    /// Go one level deeper (a `(` or a `not`), refusing past the limit so
    /// a hostile condition cannot overflow the stack.
    fn enter(&mut self) -> Result<(), ParseError> {
        if self.depth >= MAX_CONDITION_DEPTH {
            let span = self
                .tokens
                .get(self.pos)
                .map_or(self.end..self.end, |(_, s)| s.clone());
            return Err(ParseError {
                message: format!(
                    "the condition nests parentheses and `not` deeper than {MAX_CONDITION_DEPTH} levels"
                ),
                span,
                help: Some("flatten the condition; Sigma conditions need only a few levels".into()),
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn operand(&mut self) -> Result<Expr, ParseError> {
        let Some((tok, span)) = self.next() else {
            return Err(ParseError {
                message: "the condition ends where a search identifier was expected".into(),
                span: self.end..self.end,
                help: Some("complete the condition after the last operator".into()),
            });
        };
        match tok {
            Tok::LParen => {
                self.pos -= 1;
                self.enter()?;
                self.pos += 1;
                let inner = self.or_expr()?;
                self.depth -= 1;
                match self.next() {
                    Some((Tok::RParen, _)) => Ok(inner),
                    _ => Err(ParseError {
                        message: "unclosed `(`".into(),
                        span,
                        help: Some("add the matching `)`".into()),
                    }),
                }
            }
            Tok::Word(word) => {
                let quantifier = match word.as_str() {
                    "1" | "any" => Some(Quantifier::Any),
                    "all" => Some(Quantifier::All),
                    _ => None,
                };
                match (quantifier, self.peek()) {
                    (Some(quantifier), Some(Tok::Of)) => {
                        self.pos += 1;
                        let Some((Tok::Word(target), target_span)) = self.next() else {
                            return Err(ParseError {
                                message: format!("`{word} of` needs `them` or a pattern"),
                                span: span.start..self.end,
                                help: Some(format!("e.g. `{word} of selection_*`")),
                            });
                        };
                        let target = if target == "them" {
                            Target::Them
                        } else {
                            Target::Pattern(target)
                        };
                        Ok(Expr::Of {
                            quantifier,
                            target,
                            span: span.start..target_span.end,
                        })
                    }
                    _ if word.contains('*') => Err(ParseError {
                        message: format!("the pattern `{word}` needs a quantifier"),
                        span,
                        help: Some(format!("write `1 of {word}` or `all of {word}`")),
                    }),
                    _ if word.parse::<u64>().is_ok() && self.peek() == Some(&Tok::Of) => {
                        Err(ParseError {
                            message: format!(
                                "`{word} of` is not Sigma: only `1 of`, `any of` and `all of` exist"
                            ),
                            span,
                            help: Some("use a correlation rule to count matches".into()),
                        })
                    }
                    _ => Ok(Expr::Ident { name: word, span }),
                }
            }
            other => Err(ParseError {
                message: format!("expected a search identifier, found {}", describe(&other)),
                span,
                help: None,
            }),
        }
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::Of => "`of`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Word(w) => format!("`{w}`"),
    }
}

/// Whether a Sigma identifier pattern (`*` wildcards) matches a name.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    // One backtrack point, the last `*` seen: at worst pattern length ×
    // name length steps. Trying every split at every `*` recursively is
    // exponential in the number of stars (fuzzing hung on `1 of a***…*b`).
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&b'*') {
            star = Some((pi, ni));
            pi += 1;
        } else if p.get(pi) == Some(&n[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some((star_p, star_n)) = star {
            // Let the last `*` swallow one more byte and retry after it.
            star = Some((star_p, star_n + 1));
            pi = star_p + 1;
            ni = star_n + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The identifiers a quantifier target selects, per the specification:
/// `them` skips names starting with `_`; a pattern skips them too unless the
/// pattern itself starts with `_`.
pub fn select<'a>(target: &Target, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    names
        .into_iter()
        .filter(|name| match target {
            Target::Them => !name.starts_with('_'),
            Target::Pattern(p) => {
                pattern_matches(p, name) && (p.starts_with('_') || !name.starts_with('_'))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(name: &str) -> String {
        name.to_string()
    }

    fn shape(e: &Expr) -> String {
        match e {
            Expr::Or(items) => format!(
                "or({})",
                items.iter().map(shape).collect::<Vec<_>>().join(",")
            ),
            Expr::And(items) => format!(
                "and({})",
                items.iter().map(shape).collect::<Vec<_>>().join(",")
            ),
            Expr::Not(inner) => format!("not({})", shape(inner)),
            Expr::Ident { name, .. } => ident(name),
            Expr::Of {
                quantifier, target, ..
            } => {
                let q = if *quantifier == Quantifier::All {
                    "all"
                } else {
                    "any"
                };
                let t = match target {
                    Target::Them => "them".to_string(),
                    Target::Pattern(p) => p.clone(),
                };
                format!("{q}[{t}]")
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let parens = format!("{}sel{}", "(".repeat(100_000), ")".repeat(100_000));
        let err = parse(&parens).unwrap_err();
        assert!(
            err.message.contains("deeper than 64 levels"),
            "{}",
            err.message
        );
        assert_eq!(err.span, 64..65);
        let nots = format!("{}sel", "not ".repeat(100_000));
        let err = parse(&nots).unwrap_err();
        assert!(
            err.message.contains("deeper than 64 levels"),
            "{}",
            err.message
        );
        assert_eq!(err.span, 256..259);
        let ok = format!("{}sel{}", "(".repeat(64), ")".repeat(64));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn precedence_not_and_or() {
        let e = parse("a or b and not c").unwrap();
        assert_eq!(shape(&e), "or(a,and(b,not(c)))");
        let e = parse("(a or b) and not 1 of filter_*").unwrap();
        assert_eq!(shape(&e), "and(or(a,b),not(any[filter_*]))");
        let e = parse("all of them").unwrap();
        assert_eq!(shape(&e), "all[them]");
        let e = parse("any of sel* and not not x").unwrap();
        assert_eq!(shape(&e), "and(any[sel*],not(not(x)))");
    }

    #[test]
    fn multi_line_conditions_parse() {
        let e = parse("selection\n  and not filter").unwrap();
        assert_eq!(shape(&e), "and(selection,not(filter))");
    }

    #[test]
    fn errors_are_located() {
        let err = parse("sel AND filter").unwrap_err();
        assert_eq!(err.span, 4..7);
        let err = parse("sel and (a or b").unwrap_err();
        assert_eq!(err.message, "unclosed `(`");
        let err = parse("sel and").unwrap_err();
        assert_eq!(err.span, 7..7);
        let err = parse("sel filter").unwrap_err();
        assert!(err.message.contains("unexpected `filter`"));
        let err = parse("selection | count() > 5").unwrap_err();
        assert!(err.help.unwrap().contains("correlation"));
        let err = parse("sel_*").unwrap_err();
        assert!(err.message.contains("needs a quantifier"));
        let err = parse("2 of sel*").unwrap_err();
        assert!(err.message.contains("only `1 of`"));
    }

    #[test]
    fn patterns_and_them() {
        let names = ["selection", "sel_a", "_hidden", "filter"];
        assert_eq!(
            select(&Target::Them, names),
            vec!["selection", "sel_a", "filter"]
        );
        assert_eq!(
            select(&Target::Pattern("sel*".into()), names),
            vec!["selection", "sel_a"]
        );
        assert_eq!(
            select(&Target::Pattern("_*".into()), names),
            vec!["_hidden"]
        );
        assert!(pattern_matches("*", ""));
        assert!(!pattern_matches("a*b", "ac"));
        assert!(pattern_matches("a*b*c", "axxbyyc"));
        assert!(pattern_matches("a*bc", "abcbc"));
        assert!(!pattern_matches("a*b*c", "axxbyy"));
        assert!(pattern_matches("sel**", "sel"));
        assert!(!pattern_matches("sel", "selection"));
    }

    #[test]
    fn many_stars_match_in_linear_time() {
        // Exponential before (tests/fuzz-regressions/condition).
        let pattern = format!("sele*ct{}ion_cd**", "*".repeat(60));
        assert!(!pattern_matches(
            &pattern,
            "selection_cli_n_id_and_more_text"
        ));
        assert!(pattern_matches(&pattern, "selection_cd"));
    }
}
