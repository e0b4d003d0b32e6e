//! ## What it does
//! Checks `healthcare.caf.outcomes` against the NCSC Cyber Assessment
//! Framework catalogue of the declared `caf.version` (3.2 or 4.0, bundled in
//! `schemas/catalogues/`), and warns when a detection claims no outcome of
//! objective C (C1 monitoring, C2 discovery or hunting).
//!
//! ## Why is this bad?
//! CAF ids change meaning between versions (`A2.b` is *Assurance* in 3.2
//! and *Understanding Threat* in 4.0; `C2.b` does not exist in 4.0), and the
//! DSPT audit trail built from these rules must cite outcomes that exist.

use super::{Context, Lint, report};
use crate::catalogue;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH120",
    name: "unknown-caf-outcome",
    severity: Severity::Error,
    summary: "A CAF contributing outcome that does not exist in the declared CAF version.",
};

pub const NO_DETECTION_OUTCOME: Lint = Lint {
    code: "STH121",
    name: "no-detection-caf-outcome",
    severity: Severity::Warning,
    summary: "A detection that maps to no CAF objective C outcome (C1.*, C2.*).",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(caf) = rule.healthcare().and_then(|h| h.get("caf")) else {
        return;
    };
    let Some(version) = caf.get("version").and_then(|v| v.as_str()) else {
        return;
    };
    let Some(known) = catalogue::caf_outcomes(version) else {
        return;
    };
    let Some(list) = caf.get("outcomes") else {
        return;
    };
    let outcomes = list.string_list();
    for (id, span) in &outcomes {
        // Malformed ids are the schema's to report (STH101).
        if known.contains_key(*id) || !well_formed(id) {
            continue;
        }
        let other = if version == "3.2" { "4.0" } else { "3.2" };
        let help = match catalogue::caf_outcomes(other).and_then(|o| o.get(*id)) {
            Some(name) => format!("`{id}` is \"{name}\" in CAF {other}; check `caf.version`"),
            None => format!(
                "CAF {version} outcomes are {}",
                known
                    .keys()
                    .filter(|k| k.starts_with(&id[..1.min(id.len())]))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        out.push(
            report(
                &LINT,
                format!("`{id}` is not a contributing outcome in CAF {version}"),
            )
            .at(&rule.file, *span)
            .label("unknown outcome")
            .help(help),
        );
    }
    if !outcomes.is_empty() && !outcomes.iter().any(|(id, _)| id.starts_with('C')) {
        out.push(
            report(&NO_DETECTION_OUTCOME, "no CAF objective C outcome: a detection normally evidences C1.c (generating alerts)")
                .at(&rule.file, list.span)
                .label("no C1.* or C2.* outcome")
                .help("add C1.c, or C2.a for a hunting query"),
        );
    }
}

/// `A1.a` .. `D6.f`: the shape every CAF outcome id has.
fn well_formed(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 4
        && (b'A'..=b'D').contains(&b[0])
        && (b'1'..=b'6').contains(&b[1])
        && b[2] == b'.'
        && (b'a'..=b'f').contains(&b[3])
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::lint::testing::{HEALTHCARE, RULE};
    use crate::settings::Profile;

    #[test]
    fn outcomes_are_checked_against_the_declared_version() {
        let good = format!("{RULE}tags: [attack.collection, attack.t1005]\n{HEALTHCARE}");
        assert!(
            !codes(&good, Profile::Healthcare)
                .iter()
                .any(|c| c.starts_with("STH12"))
        );
        let moved = good.replace(
            "version: '3.2', outcomes: [C1.c]",
            "version: '4.0', outcomes: [C1.c, C2.b]",
        );
        assert!(codes(&moved, Profile::Healthcare).contains(&"STH120".to_string()));
        let no_detection = good.replace("outcomes: [C1.c]", "outcomes: [B5.c]");
        assert!(codes(&no_detection, Profile::Healthcare).contains(&"STH121".to_string()));
    }
}
