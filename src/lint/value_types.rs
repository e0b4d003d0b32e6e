//! ## What it does
//! Checks that values fit their modifiers:
//! - `gt`/`gte`/`lt`/`lte` need numbers; time parts (`hour`, ...) need
//!   numbers in range (`hour` 0-23, `month` 1-12, ...);
//! - `exists` needs `true` or `false`;
//! - `nhs_number` needs `true` (at least one valid NHS number) or a count
//!   of distinct valid NHS numbers (1 or more);
//! - `fieldref` needs a field name;
//! - `null` inside a value list (STH212) and `all` with a single value or an
//!   empty list (STH211) are flagged as the specification forbids them.
//!
//! ## Why is this bad?
//! A type mismatch makes backends reject the rule or compare a number with a
//! string, which matches nothing.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::modifier::Group;
use crate::model::{Item, Modifier, Rule, Value};
use crate::source::yaml::Typed;

pub const LINT: Lint = Lint {
    code: "STH210",
    name: "value-type-mismatch",
    severity: Severity::Error,
    summary: "A value of the wrong type for its modifier.",
};

pub const ALL_SINGLE: Lint = Lint {
    code: "STH211",
    name: "pointless-list-modifier",
    severity: Severity::Warning,
    summary: "`all` on a single value, or an empty value list.",
};

pub const NULL_IN_LIST: Lint = Lint {
    code: "STH212",
    name: "null-in-value-list",
    severity: Severity::Warning,
    summary: "`null` inside a list of values.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        if item.field.is_none() && item.modifiers.is_empty() {
            continue; // keywords
        }
        if item.is_list && item.values.is_empty() && !item.has_nested {
            out.push(
                report(&ALL_SINGLE, "empty value list")
                    .at(&rule.file, item.value_span)
                    .label("matches nothing in most backends")
                    .help("to test for a missing field write `Field: null` as its own selection"),
            );
        }
        if item.has(Modifier::All) && item.values.len() == 1 {
            out.push(
                report(&ALL_SINGLE, "`all` with a single value has no effect")
                    .at(&rule.file, item.key_span)
                    .label("one value")
                    .help("remove `|all`, or list the values that must all be present"),
            );
        }
        if item.is_list && item.values.len() > 1 {
            for value in item
                .values
                .iter()
                .filter(|v| matches!(v.scalar.typed(), Typed::Null))
            {
                out.push(
                    report(&NULL_IN_LIST, "`null` inside a value list")
                        .at(&rule.file, value.span)
                        .label("null here")
                        .help("the specification requires `null` as its own selection: `sel_null: {Field: null}` combined with `1 of`"),
                );
            }
        }
        for value in &item.values {
            if let Some((message, help)) = mismatch(item, value) {
                out.push(
                    report(&LINT, message)
                        .at(&rule.file, value.span)
                        .label("wrong type")
                        .help(help),
                );
            }
        }
    }
}

fn number(value: &Value) -> Option<f64> {
    match value.scalar.typed() {
        Typed::Int(i) => Some(i as f64),
        Typed::Float(f) => Some(f),
        Typed::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

fn mismatch(item: &Item, value: &Value) -> Option<(String, String)> {
    let text = &value.scalar.text;
    let mods: Vec<Modifier> = item.modifiers.iter().filter_map(|m| m.modifier).collect();
    if let Some(part) = mods.iter().find(|m| m.group() == Group::TimePart) {
        let (low, high) = match part {
            Modifier::Minute => (0.0, 59.0),
            Modifier::Hour => (0.0, 23.0),
            Modifier::Day => (1.0, 31.0),
            Modifier::Week => (1.0, 53.0),
            Modifier::Month => (1.0, 12.0),
            _ => (f64::MIN, f64::MAX),
        };
        return match number(value) {
            Some(n) if n >= low && n <= high && n.fract() == 0.0 => None,
            _ => Some((
                format!(
                    "`{}` needs a whole number from {low} to {high}, not `{text}`",
                    part.name()
                ),
                format!("e.g. `Timestamp|{}: {}`", part.name(), low.max(0.0)),
            )),
        };
    }
    if mods.iter().any(|m| m.group() == Group::Numeric) {
        return number(value).is_none().then(|| {
            (
                format!("numeric comparison with `{text}`, which is not a number"),
                "write a number, e.g. `Field|gte: 100`".to_string(),
            )
        });
    }
    if mods.contains(&Modifier::Exists) {
        return (!matches!(value.scalar.typed(), Typed::Bool(_))).then(|| {
            (
                "`exists` takes `true` or `false`".to_string(),
                "write `Field|exists: true` (unquoted)".to_string(),
            )
        });
    }
    if mods.contains(&Modifier::NhsNumber) {
        let ok = matches!(value.scalar.typed(), Typed::Bool(true))
            || matches!(value.scalar.typed(), Typed::Int(n) if n >= 1);
        return (!ok).then(|| {
            (
                format!("`nhs_number` takes `true` or a count of NHS numbers, not `{text}`"),
                "`Field|nhs_number: true` = at least one valid NHS number; `Field|nhs_number: 3` = at least three distinct ones".to_string(),
            )
        });
    }
    if mods.contains(&Modifier::Fieldref) {
        let ok = matches!(value.scalar.typed(), Typed::Str(s) if !s.trim().is_empty());
        return (!ok).then(|| {
            (
                "`fieldref` takes the name of another field".to_string(),
                "e.g. `TargetUser|fieldref: SubjectUser`".to_string(),
            )
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    fn with(item: &str) -> Vec<String> {
        codes(
            &format!(
                "title: t\nlogsource: {{product: windows, category: process_creation}}\ndetection:\n  sel:\n    {item}\n  condition: sel\nlevel: low\n"
            ),
            Profile::Sigma,
        )
    }

    #[test]
    fn values_must_fit_their_modifiers() {
        assert!(with("ProcessId|gt: many").contains(&"STH210".to_string()));
        assert!(!with("ProcessId|gt: '5'").contains(&"STH210".to_string()));
        assert!(with("UtcTime|hour: 25").contains(&"STH210".to_string()));
        assert!(with("Image|exists: 'yes'").contains(&"STH210".to_string()));
        assert!(!with("Image|exists: true").contains(&"STH210".to_string()));
        assert!(with("CommandLine|nhs_number: 0").contains(&"STH210".to_string()));
        assert!(with("Image|all: ['a']").contains(&"STH211".to_string()));
        assert!(with("Image: ['a', null]").contains(&"STH212".to_string()));
    }
}
