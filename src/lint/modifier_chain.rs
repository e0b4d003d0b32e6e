//! ## What it does
//! Flags modifier chains that cannot mean anything:
//! - a modifier given twice, or two of `contains`/`startswith`/`endswith`;
//! - `re` not first, or regex flags (`i`, `m`, `s`) without `re`;
//! - `cidr`, `exists` and `nhs_number` combined with other modifiers
//!   (`cidr|expand` is allowed: placeholder lists of networks);
//! - numeric comparisons mixed with string matching;
//! - encodings (`base64`, `utf16le`, `wide`, ...) after `contains` and
//!   friends, or `base64offset` without `contains`;
//! - time-part modifiers (`hour`, ...) not first or followed by anything but
//!   a numeric comparison.
//!
//! ## Why is this bad?
//! Backends reject these or translate them into something other than what
//! the author meant; the Sigma specification defines no meaning for them.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::modifier::Group;
use crate::model::{Item, Modifier, Rule};

pub const LINT: Lint = Lint {
    code: "STH201",
    name: "impossible-modifier-chain",
    severity: Severity::Error,
    summary: "A combination or order of modifiers that has no meaning.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        if let Some((problem, help)) = problem(item) {
            out.push(
                report(&LINT, problem)
                    .at(&rule.file, item.key_span)
                    .label("modifier chain")
                    .help(help),
            );
        }
    }
}

/// The first problem with an item's modifier chain, with a fix.
fn problem(item: &Item) -> Option<(String, String)> {
    let mods: Vec<Modifier> = item.modifiers.iter().filter_map(|m| m.modifier).collect();
    for (i, m) in mods.iter().enumerate() {
        if mods[..i].contains(m) {
            return Some((
                format!("`{}` is given twice", m.name()),
                "remove the repeated modifier".into(),
            ));
        }
    }
    let has = |g: Group| mods.iter().any(|m| m.group() == g);
    let count = |g: Group| mods.iter().filter(|m| m.group() == g).count();
    if count(Group::Position) > 1 {
        return Some((
            "only one of `contains`, `startswith` and `endswith` can apply".into(),
            "use a regular expression (`|re`) or two items for more complex shapes".into(),
        ));
    }
    if let Some(pos) = mods.iter().position(|m| *m == Modifier::Re) {
        if pos != 0 {
            return Some((
                "`re` must be the first modifier".into(),
                "the value is a regular expression; write the anchoring into it".into(),
            ));
        }
        if let Some(other) = mods[1..]
            .iter()
            .find(|m| !matches!(m.group(), Group::RegexFlag))
        {
            return Some((
                format!("`{}` cannot follow `re`", other.name()),
                "only the regex flags `i`, `m` and `s` can follow `re`; write the rest into the expression".into(),
            ));
        }
    } else if let Some(flag) = mods.iter().find(|m| m.group() == Group::RegexFlag) {
        return Some((
            format!(
                "`{}` is a regex flag but the value is not a regex",
                flag.name()
            ),
            "add `|re` before it".into(),
        ));
    }
    for (special, allowed) in [
        (Modifier::Cidr, &[Modifier::Cidr, Modifier::Expand][..]),
        (Modifier::Exists, &[Modifier::Exists][..]),
        (Modifier::NhsNumber, &[Modifier::NhsNumber][..]),
    ] {
        if mods.contains(&special)
            && let Some(other) = mods.iter().find(|m| !allowed.contains(m))
        {
            return Some((
                format!(
                    "`{}` cannot be combined with `{}`",
                    special.name(),
                    other.name()
                ),
                format!("`{}` must be the only modifier", special.name()),
            ));
        }
    }
    if mods.contains(&Modifier::Fieldref)
        && let Some(other) = mods.iter().find(|m| {
            !matches!(
                m,
                Modifier::Fieldref
                    | Modifier::Neq
                    | Modifier::Contains
                    | Modifier::StartsWith
                    | Modifier::EndsWith
                    | Modifier::Cased
            )
        })
    {
        return Some((
                format!("`fieldref` cannot be combined with `{}`", other.name()),
                "`fieldref` compares with another field's value; only `neq`, `cased` and the position modifiers apply".into(),
            ));
    }
    if has(Group::Numeric) {
        if count(Group::Numeric) > 1 {
            return Some((
                "only one numeric comparison can apply".into(),
                "use two items for a range: `Field|gte: 1` and `Field|lte: 5`".into(),
            ));
        }
        if let Some(other) = mods
            .iter()
            .find(|m| !matches!(m.group(), Group::Numeric | Group::TimePart))
        {
            return Some((
                format!(
                    "`{}` cannot be combined with a numeric comparison",
                    other.name()
                ),
                "numeric comparisons take a number and no string modifiers".into(),
            ));
        }
    }
    if let Some(pos) = mods.iter().position(|m| m.group() == Group::TimePart)
        && (pos != 0 || mods[1..].iter().any(|m| m.group() != Group::Numeric))
    {
        return Some((
            format!(
                "`{}` must come first, followed only by a numeric comparison",
                mods[pos].name()
            ),
            format!("e.g. `Timestamp|{}|gte: 22`", mods[pos].name()),
        ));
    }
    let encodings: Vec<(usize, Modifier)> = mods
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, m)| m.group() == Group::Transform && *m != Modifier::Windash)
        .collect();
    if let Some(position) = mods.iter().position(|m| m.group() == Group::Position)
        && let Some((_, late)) = encodings.iter().find(|(i, _)| *i > position)
    {
        return Some((
            format!(
                "`{}` after `{}` would encode the wildcard",
                late.name(),
                mods[position].name()
            ),
            format!("write `|{}|{}`", late.name(), mods[position].name()),
        ));
    }
    let base64s = encodings
        .iter()
        .filter(|(_, m)| matches!(m, Modifier::Base64 | Modifier::Base64Offset))
        .count();
    let utf16s = encodings
        .iter()
        .filter(|(_, m)| {
            matches!(
                m,
                Modifier::Utf16 | Modifier::Utf16le | Modifier::Utf16be | Modifier::Wide
            )
        })
        .count();
    if base64s > 1 || utf16s > 1 {
        return Some((
            "conflicting encodings".into(),
            "use one base64 form and at most one UTF-16 form".into(),
        ));
    }
    if let (Some(b), Some(u)) = (
        encodings
            .iter()
            .find(|(_, m)| matches!(m, Modifier::Base64 | Modifier::Base64Offset)),
        encodings.iter().find(|(_, m)| {
            matches!(
                m,
                Modifier::Utf16 | Modifier::Utf16le | Modifier::Utf16be | Modifier::Wide
            )
        }),
    ) && b.0 < u.0
    {
        return Some((
            format!(
                "`{}` before `{}` encodes in the wrong order",
                b.1.name(),
                u.1.name()
            ),
            format!("encode to UTF-16 first: `|{}|{}`", u.1.name(), b.1.name()),
        ));
    }
    let exact = !mods.iter().any(|m| {
        matches!(
            m.group(),
            Group::Position | Group::Regex | Group::Special | Group::Numeric | Group::TimePart
        ) || *m == Modifier::Neq
    });
    let literal_values = item.values.len() > 1
        && item
            .values
            .iter()
            .all(|v| super::wildcards::wildcard_positions(&v.scalar.text).is_empty());
    if mods.contains(&Modifier::All) && exact && literal_values && item.field.is_some() {
        return Some((
            "`all` on exact values: one field cannot equal several different values".into(),
            "add `|contains` (every value must appear in the field) or drop `|all`".into(),
        ));
    }
    if mods.contains(&Modifier::Base64Offset) && !mods.contains(&Modifier::Contains) {
        return Some((
            "`base64offset` only finds text inside a longer encoded string".into(),
            "write `|base64offset|contains`".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    fn chain(key: &str) -> Vec<String> {
        codes(
            &format!(
                "title: t\nlogsource: {{product: windows, category: process_creation}}\ndetection:\n  sel:\n    {key}: '1'\n  condition: sel\n"
            ),
            Profile::Sigma,
        )
    }

    #[test]
    fn accepts_the_common_chains() {
        for ok in [
            "CommandLine|contains|all",
            "CommandLine|windash|contains",
            "CommandLine|contains|windash",
            "CommandLine|base64offset|contains",
            "CommandLine|wide|base64offset|contains",
            "CommandLine|re|i",
            "DestinationIp|cidr",
            "EventID|gte",
            "Timestamp|hour|gte",
            "User|fieldref",
            "User|neq",
        ] {
            assert!(
                !chain(ok).contains(&"STH201".to_string()),
                "{ok}: {:?}",
                chain(ok)
            );
        }
    }

    #[test]
    fn rejects_impossible_chains() {
        for bad in [
            "CommandLine|contains|contains",
            "CommandLine|contains|endswith",
            "CommandLine|contains|re",
            "CommandLine|i",
            "DestinationIp|cidr|contains",
            "CommandLine|contains|base64",
            "CommandLine|base64offset",
            "CommandLine|base64|wide",
            "EventID|gt|contains",
            "Timestamp|gte|hour",
        ] {
            assert!(
                chain(bad).contains(&"STH201".to_string()),
                "{bad}: {:?}",
                chain(bad)
            );
        }
    }
}
