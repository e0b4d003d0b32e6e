//! The evaluator: [`RuleLogic`] compiled once into matchers, then run over
//! JSON events.
//!
//! Compilation does the work that must not happen per event: needles are
//! case-folded, single-needle searches get a prebuilt finder, wildcard
//! patterns and `re` values become size-limited linear-time regexes, CIDR
//! strings become networks. Evaluation borrows from the event and
//! allocates only when a non-ASCII value has to be case-folded.

pub mod correlate;
pub mod event;
pub mod nhs;

use std::cell::RefCell;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::Value;

use crate::logic::{Body, CmpOp, Expr, Pattern, Position, Pred, RuleLogic, Test, TimePart};

/// Regex size limit for rule patterns (see `lint::invalid_regex`).
pub const REGEX_SIZE_LIMIT: usize = 10 * 1024 * 1024;

/// Build the regex a `re` test stands for.
pub fn compile_regex_test(test: &Test) -> Result<regex::Regex, regex::Error> {
    let Test::Regex {
        pattern,
        ignore_case,
        multi_line,
        dot_all,
    } = test
    else {
        return regex::Regex::new("$^");
    };
    regex::RegexBuilder::new(pattern)
        .case_insensitive(*ignore_case)
        .multi_line(*multi_line)
        .dot_matches_new_line(*dot_all)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(100)
        .build()
}

/// How a string pattern is matched.
enum StrKind {
    Exact,
    Prefix,
    Suffix,
    /// Substring search with a prebuilt automaton (ASCII case-insensitive
    /// when not cased).
    Contains(AhoCorasick),
    Glob(regex::Regex),
}

struct StrMatcher {
    kind: StrKind,
    /// The needle, lower-cased unless `cased`.
    needle: String,
    cased: bool,
    /// The needle is ASCII, so ASCII-only case folding is exact.
    ascii: bool,
}

impl StrMatcher {
    fn new(pattern: &Pattern, cased: bool) -> Result<StrMatcher, regex::Error> {
        let fold = |s: &str| {
            if cased {
                s.to_string()
            } else {
                s.to_lowercase()
            }
        };
        let (kind, needle) = match pattern {
            Pattern::Exact(s) => (StrKind::Exact, fold(s)),
            Pattern::StartsWith(s) => (StrKind::Prefix, fold(s)),
            Pattern::EndsWith(s) => (StrKind::Suffix, fold(s)),
            Pattern::Contains(s) => {
                let needle = fold(s);
                let automaton = AhoCorasickBuilder::new()
                    .ascii_case_insensitive(!cased)
                    .match_kind(MatchKind::LeftmostFirst)
                    .build([needle.as_str()])
                    .map_err(|e| regex::Error::Syntax(e.to_string()))?;
                (StrKind::Contains(automaton), needle)
            }
            Pattern::Glob(_) => {
                let re = regex::RegexBuilder::new(&pattern.to_regex())
                    .case_insensitive(!cased)
                    .dot_matches_new_line(true)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()?;
                (StrKind::Glob(re), String::new())
            }
        };
        let ascii = needle.is_ascii();
        Ok(StrMatcher {
            kind,
            needle,
            cased,
            ascii,
        })
    }

    fn matches(&self, haystack: &str) -> bool {
        if let StrKind::Glob(re) = &self.kind {
            return re.is_match(haystack);
        }
        if self.cased || (self.ascii && haystack.is_ascii()) {
            return self.matches_folded(haystack, !self.cased);
        }
        // Unicode case folding needs a lower-cased copy; reuse one buffer
        // per thread instead of allocating per value.
        thread_local! {
            static LOWER: RefCell<String> = const { RefCell::new(String::new()) };
        }
        LOWER.with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            buffer.clear();
            buffer.extend(haystack.chars().flat_map(char::to_lowercase));
            self.matches_folded(&buffer, false)
        })
    }

    /// Match against a haystack that is either already folded or compared
    /// with ASCII case-insensitivity.
    fn matches_folded(&self, haystack: &str, ascii_ci: bool) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if ascii_ci {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        let (h, n) = (haystack.as_bytes(), self.needle.as_bytes());
        match &self.kind {
            StrKind::Exact => h.len() == n.len() && eq(h, n),
            StrKind::Prefix => h.len() >= n.len() && eq(&h[..n.len()], n),
            StrKind::Suffix => h.len() >= n.len() && eq(&h[h.len() - n.len()..], n),
            StrKind::Contains(automaton) => n.is_empty() || automaton.is_match(haystack),
            StrKind::Glob(re) => re.is_match(haystack),
        }
    }
}

enum CTest {
    Str(StrMatcher),
    Regex(regex::Regex),
    Cidr(ipnet::IpNet),
    Cmp(CmpOp, f64),
    Exists(bool),
    Null,
    FieldRef {
        other: String,
        position: Position,
        cased: bool,
    },
    Nhs(u32),
    TimePart(TimePart, CmpOp, i64),
}

struct CPred {
    field: Option<String>,
    test: CTest,
}

enum CExpr {
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
    Not(Box<CExpr>),
    Pred(CPred),
    Const(bool),
}

/// A rule's detection logic compiled for evaluation.
pub struct Matcher {
    expr: CExpr,
}

impl Matcher {
    /// Compile a detection expression.
    pub fn compile(expr: &Expr) -> Result<Matcher, regex::Error> {
        Ok(Matcher {
            expr: compile_expr(expr)?,
        })
    }

    /// Whether the event satisfies the logic.
    pub fn matches(&self, event: &Value) -> bool {
        eval(&self.expr, event)
    }
}

fn compile_expr(expr: &Expr) -> Result<CExpr, regex::Error> {
    Ok(match expr {
        Expr::And(items) => CExpr::And(items.iter().map(compile_expr).collect::<Result<_, _>>()?),
        Expr::Or(items) => CExpr::Or(items.iter().map(compile_expr).collect::<Result<_, _>>()?),
        Expr::Not(inner) => CExpr::Not(Box::new(compile_expr(inner)?)),
        Expr::Const(b) => CExpr::Const(*b),
        Expr::Pred(p) => CExpr::Pred(compile_pred(p)?),
    })
}

fn compile_pred(pred: &Pred) -> Result<CPred, regex::Error> {
    let test = match &pred.test {
        Test::Str { pattern, cased } => CTest::Str(StrMatcher::new(pattern, *cased)?),
        t @ Test::Regex { .. } => CTest::Regex(compile_regex_test(t)?),
        Test::Cidr(net) => CTest::Cidr(*net),
        Test::Cmp { op, value } => CTest::Cmp(*op, *value),
        Test::Exists(b) => CTest::Exists(*b),
        Test::Null => CTest::Null,
        Test::FieldRef {
            other,
            position,
            cased,
        } => CTest::FieldRef {
            other: other.clone(),
            position: *position,
            cased: *cased,
        },
        Test::NhsNumber { min } => CTest::Nhs(*min),
        Test::TimePart { part, op, value } => CTest::TimePart(*part, *op, *value),
    };
    Ok(CPred {
        field: pred.field.clone(),
        test,
    })
}

fn eval(expr: &CExpr, event: &Value) -> bool {
    match expr {
        CExpr::And(items) => items.iter().all(|e| eval(e, event)),
        CExpr::Or(items) => items.iter().any(|e| eval(e, event)),
        CExpr::Not(inner) => !eval(inner, event),
        CExpr::Const(b) => *b,
        CExpr::Pred(p) => eval_pred(p, event),
    }
}

fn eval_pred(pred: &CPred, event: &Value) -> bool {
    let Some(field) = pred.field.as_deref() else {
        // Keywords: any string value anywhere in the event.
        return match &pred.test {
            CTest::Str(m) => event::any_string(event, &mut |s| m.matches(s)),
            CTest::Regex(re) => event::any_string(event, &mut |s| re.is_match(s)),
            _ => false,
        };
    };
    match &pred.test {
        CTest::Exists(want) => event::exists(event, field) == *want,
        CTest::Null => {
            let mut seen = false;
            let empty = event::any_value(event, field, &mut |v| {
                seen = true;
                match v {
                    Value::Null => true,
                    Value::String(s) => s.is_empty(),
                    Value::Array(a) => a.is_empty(),
                    _ => false,
                }
            });
            empty || !seen
        }
        test => {
            let mut seen = false;
            let mut buffer = String::new();
            let hit = event::any_value(event, field, &mut |v| {
                seen = true;
                value_matches(test, v, event, &mut buffer)
            });
            if hit {
                return true;
            }
            // A missing field reads as the empty string for string tests
            // (Kusto string columns are never null).
            !seen
                && matches!(test, CTest::Str(_))
                && value_matches(test, &Value::Null, event, &mut buffer)
        }
    }
}

fn value_matches(test: &CTest, value: &Value, event: &Value, buffer: &mut String) -> bool {
    match test {
        CTest::Str(m) => event::text_of(value, buffer).is_some_and(|s| m.matches(s)),
        CTest::Regex(re) => event::text_of(value, buffer).is_some_and(|s| re.is_match(s)),
        CTest::Cidr(net) => value
            .as_str()
            .and_then(|s| s.trim().parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| net.contains(&ip)),
        CTest::Cmp(op, right) => event::number_of(value).is_some_and(|left| op.holds(left, *right)),
        CTest::Nhs(min) => {
            event::text_of(value, buffer).is_some_and(|s| nhs::count_distinct(s) >= *min as usize)
        }
        CTest::TimePart(part, op, right) => value
            .as_str()
            .and_then(parse_timestamp)
            .is_some_and(|t| op.holds(time_part(&t, *part) as f64, *right as f64)),
        CTest::FieldRef {
            other,
            position,
            cased,
        } => {
            let Some(mine) = event::text_of(value, buffer).map(str::to_string) else {
                return false;
            };
            let mut other_buffer = String::new();
            event::any_value(event, other, &mut |o| {
                event::text_of(o, &mut other_buffer)
                    .is_some_and(|theirs| relate(&mine, theirs, *position, *cased))
            })
        }
        CTest::Exists(_) | CTest::Null => false,
    }
}

fn relate(mine: &str, theirs: &str, position: Position, cased: bool) -> bool {
    let (a, b) = if cased {
        (mine.to_string(), theirs.to_string())
    } else {
        (mine.to_lowercase(), theirs.to_lowercase())
    };
    match position {
        Position::Whole => a == b,
        Position::Start => a.starts_with(&b),
        Position::End => a.ends_with(&b),
        Position::Anywhere => a.contains(&b),
    }
}

/// Parse an event timestamp: RFC 3339 (`2025-03-14T02:13:45.120Z`), or the
/// same with a space instead of `T` and no zone (taken as UTC).
pub fn parse_timestamp(text: &str) -> Option<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let normalised = text.replacen(' ', "T", 1);
    let with_zone = if normalised.ends_with('Z')
        || normalised[10.min(normalised.len())..].contains(['+', '-'])
    {
        normalised
    } else {
        format!("{normalised}Z")
    };
    time::OffsetDateTime::parse(&with_zone, &Rfc3339).ok()
}

fn time_part(t: &time::OffsetDateTime, part: TimePart) -> i64 {
    let t = t.to_offset(time::UtcOffset::UTC);
    match part {
        TimePart::Minute => i64::from(t.minute()),
        TimePart::Hour => i64::from(t.hour()),
        TimePart::Day => i64::from(t.day()),
        TimePart::Week => i64::from(t.iso_week()),
        TimePart::Month => i64::from(u8::from(t.month())),
        TimePart::Year => i64::from(t.year()),
    }
}

/// The compiled form of a whole lowered rule set.
pub struct Engine {
    /// One entry per lowered rule; `None` for correlations.
    pub matchers: Vec<Option<Matcher>>,
}

impl Engine {
    pub fn new(rules: &[RuleLogic]) -> Result<Engine, (usize, regex::Error)> {
        let mut matchers = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            matchers.push(match &rule.body {
                Body::Detection(expr) => Some(Matcher::compile(expr).map_err(|e| (i, e))?),
                Body::Correlation(_) => None,
            });
        }
        Ok(Engine { matchers })
    }

    /// Indices of the detection rules the event matches.
    pub fn matching(&self, event: &Value, out: &mut Vec<usize>) {
        out.clear();
        for (i, m) in self.matchers.iter().enumerate() {
            if m.as_ref().is_some_and(|m| m.matches(event)) {
                out.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests;
