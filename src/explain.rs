//! `stetho explain`: a rule's logic as a readable tree, and for one event,
//! which parts held.
//!
//! The tree is the backend-neutral logic after pipeline mapping, so it
//! names the columns the query and the replay read. With an event, every
//! node is marked: `✓` held, `✗` did not, and a predicate on a field the
//! event does not have says so, because "the field is missing" is the most
//! common reason a rule silently stops firing after a log-source change.

use std::fmt::Write as _;

use serde_json::Value;

use crate::eval::Matcher;
use crate::logic::{Expr, Pattern, Position, Pred, Test, TimePart};

/// How one node fared on the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Held,
    Failed,
    /// A predicate whose field the event lacks (and that failed).
    Missing,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Held => "✓",
            Mark::Failed => "✗",
            Mark::Missing => "✗",
        }
    }
}

/// Evaluate one node on an event. Compiling per node is wasteful but
/// `explain` looks at one event, and this reuses the evaluator exactly.
pub fn evaluate(expr: &Expr, event: &Value) -> Result<bool, regex::Error> {
    Ok(Matcher::compile(expr)?.matches(event))
}

/// The tree, one node per line, marked when an event is given.
pub fn render(expr: &Expr, event: Option<&Value>) -> Result<String, regex::Error> {
    let mut out = String::new();
    node(expr, event, 0, &mut out)?;
    Ok(out)
}

fn node(
    expr: &Expr,
    event: Option<&Value>,
    depth: usize,
    out: &mut String,
) -> Result<(), regex::Error> {
    let indent = "  ".repeat(depth);
    let mark = match event {
        Some(e) => {
            let held = evaluate(expr, e)?;
            let missing = match expr {
                Expr::Pred(Pred {
                    field: Some(field), ..
                }) => !crate::eval::event::exists(e, field),
                _ => false,
            };
            Some(match (held, missing) {
                (true, _) => Mark::Held,
                (false, true) => Mark::Missing,
                (false, false) => Mark::Failed,
            })
        }
        None => None,
    };
    let prefix = mark.map_or(String::new(), |m| format!("{} ", m.symbol()));
    match expr {
        Expr::And(items) | Expr::Or(items) => {
            let op = if matches!(expr, Expr::And(_)) {
                "all of"
            } else {
                "any of"
            };
            let _ = writeln!(out, "{indent}{prefix}{op}");
            for item in items {
                node(item, event, depth + 1, out)?;
            }
        }
        Expr::Not(inner) => {
            let _ = writeln!(out, "{indent}{prefix}not");
            node(inner, event, depth + 1, out)?;
        }
        Expr::Const(value) => {
            let _ = writeln!(out, "{indent}{prefix}{value}");
        }
        Expr::Pred(pred) => {
            let note = if mark == Some(Mark::Missing) {
                "   (field missing)"
            } else {
                ""
            };
            let _ = writeln!(out, "{indent}{prefix}{}{note}", describe(pred));
        }
    }
    Ok(())
}

/// A predicate in words close to the rule's own syntax.
pub fn describe(pred: &Pred) -> String {
    let field = pred.field.as_deref().unwrap_or("any field");
    let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let case = |cased: bool| if cased { " (case-sensitive)" } else { "" };
    match &pred.test {
        Test::Str { pattern, cased } => {
            let text = match pattern {
                Pattern::Exact(v) if v.is_empty() => "is empty".to_string(),
                Pattern::Exact(v) => format!("equals {}", quote(v)),
                Pattern::Contains(v) => format!("contains {}", quote(v)),
                Pattern::StartsWith(v) => format!("starts with {}", quote(v)),
                Pattern::EndsWith(v) => format!("ends with {}", quote(v)),
                Pattern::Glob(_) => format!("matches {}", quote(&pattern.to_string())),
            };
            format!("{field} {text}{}", case(*cased))
        }
        Test::Regex { pattern, .. } => {
            format!(
                "{field} matches regex /{pattern}/{}",
                pred.test.regex_flags()
            )
        }
        Test::Cidr(net) => format!("{field} is in {net}"),
        Test::Cmp { op, value } => format!("{field} {} {value}", op.symbol()),
        Test::Exists(true) => format!("{field} exists"),
        Test::Exists(false) => format!("{field} does not exist"),
        Test::Null => format!("{field} is null or empty"),
        Test::FieldRef {
            other,
            position,
            cased,
        } => {
            let how = match position {
                Position::Whole => "equals",
                Position::Start => "starts with",
                Position::End => "ends with",
                Position::Anywhere => "contains",
            };
            format!("{field} {how} the value of {other}{}", case(*cased))
        }
        Test::NhsNumber { min } => {
            format!("{field} holds at least {min} distinct valid NHS numbers")
        }
        Test::TimePart { part, op, value } => {
            let part = match part {
                TimePart::Minute => "minute",
                TimePart::Hour => "hour",
                TimePart::Day => "day",
                TimePart::Week => "week",
                TimePart::Month => "month",
                TimePart::Year => "year",
            };
            format!("{part} of {field} {} {value}", op.symbol())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pred(field: &str, value: &str) -> Expr {
        Expr::Pred(Pred {
            field: Some(field.into()),
            test: Test::Str {
                pattern: Pattern::parse(value),
                cased: false,
            },
            list: None,
        })
    }

    #[test]
    fn marks_each_node_and_missing_fields() {
        let expr = Expr::And(vec![
            pred("Image", "*\\whoami.exe"),
            Expr::Or(vec![
                pred("CommandLine", "*/all*"),
                pred("ParentImage", "*cmd.exe"),
            ]),
        ]);
        let event = json!({"Image": "C:\\Windows\\System32\\whoami.exe", "CommandLine": "whoami"});
        let text = render(&expr, Some(&event)).expect("renders");
        assert_eq!(
            text,
            "✗ all of\n  ✓ Image ends with '\\whoami.exe'\n  ✗ any of\n    ✗ CommandLine contains '/all'\n    ✗ ParentImage ends with 'cmd.exe'   (field missing)\n"
        );
        let plain = render(&expr, None).expect("renders");
        assert!(plain.starts_with("all of\n  Image ends with"));
    }
}
