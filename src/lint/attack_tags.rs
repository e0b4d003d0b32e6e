//! ## What it does
//! Checks ATT&CK references against the bundled, pinned MITRE ATT&CK
//! Enterprise release (`schemas/catalogues/attack-*.tsv`):
//! - `attack.tNNNN[.NNN]` tags and `healthcare.attack.techniques` must be
//!   real technique ids, not revoked or deprecated;
//! - `attack.<tactic>`, `attack.gNNNN`, `attack.sNNNN` tags must exist;
//! - the techniques in `tags` and in `healthcare.attack.techniques` must
//!   be the same set (STH111);
//! - `healthcare.attack.version` should be the bundled release (STH112).
//!
//! ## Why is this bad?
//! Coverage reports, Navigator layers and console MITRE mappings are built
//! from these ids; a typo or a revoked id silently drops the rule from the
//! coverage a SOC reports to its board.

use std::collections::BTreeSet;

use super::{Context, Lint, report};
use crate::catalogue::{self, Status};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;
use crate::source::yaml::Node;

pub const UNKNOWN: Lint = Lint {
    code: "STH110",
    name: "unknown-attack-id",
    severity: Severity::Error,
    summary: "An ATT&CK tag or technique id that is not in the pinned ATT&CK release (a warning under `sigma`).",
};

pub const MISMATCH: Lint = Lint {
    code: "STH111",
    name: "attack-tags-mismatch",
    severity: Severity::Error,
    summary: "`tags` and `healthcare.attack.techniques` name different techniques.",
};

pub const VERSION: Lint = Lint {
    code: "STH112",
    name: "attack-version-mismatch",
    severity: Severity::Warning,
    summary: "`healthcare.attack.version` is not the ATT&CK release stetho checks against.",
};

/// Unknown ids are errors under the healthcare profile, which pins its
/// ATT&CK release; under `sigma` they are warnings, because SigmaHQ moves to
/// new ATT&CK releases before a pinned catalogue can.
pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let start = out.len();
    check_ids(rule, out);
    if ctx.profile == crate::settings::Profile::Sigma {
        for d in &mut out[start..] {
            if d.code == UNKNOWN.code {
                d.severity = Severity::Warning;
            }
        }
    }
}

fn check_ids(rule: &Rule, out: &mut Vec<Diagnostic>) {
    let attack = catalogue::attack();
    let mut tagged = BTreeSet::new();
    for tag in &rule.tags {
        let Some(value) = tag.text.strip_prefix("attack.") else {
            continue;
        };
        if is_technique(value) {
            let id = value.to_uppercase();
            check_technique(rule, &id, tag.span, out);
            tagged.insert(id);
        } else if let Some(first) = value
            .chars()
            .next()
            .filter(|c| matches!(c, 'g' | 's' | 'c'))
        {
            if value[1..].bytes().all(|b| b.is_ascii_digit()) && value.len() == 5 {
                let id = value.to_uppercase();
                match attack.others.get(&id) {
                    Some(Status::Active) => {}
                    Some(_) => out.push(
                        report(
                            &UNKNOWN,
                            format!(
                                "ATT&CK {} `{id}` is revoked or deprecated in ATT&CK {}",
                                kind_of(first),
                                attack.version
                            ),
                        )
                        .at(&rule.file, tag.span)
                        .label("not current")
                        .help("use the id that replaced it"),
                    ),
                    None => out.push(
                        report(
                            &UNKNOWN,
                            format!(
                                "`{id}` is not an ATT&CK {} in ATT&CK {}",
                                kind_of(first),
                                attack.version
                            ),
                        )
                        .at(&rule.file, tag.span)
                        .label("unknown id"),
                    ),
                }
                continue;
            }
            check_tactic(rule, value, tag.span, out);
        } else {
            check_tactic(rule, value, tag.span, out);
        }
    }
    let Some(block) = rule.healthcare().and_then(|h| h.get("attack")) else {
        return;
    };
    check_block(rule, block, &tagged, out);
}

fn kind_of(first: char) -> &'static str {
    match first {
        'g' => "group",
        's' => "software",
        _ => "campaign",
    }
}

fn is_technique(value: &str) -> bool {
    let v = value.as_bytes();
    (v.len() == 5 || v.len() == 9)
        && matches!(v[0], b't' | b'T')
        && v[1..5].iter().all(u8::is_ascii_digit)
        && (v.len() == 5 || (v[5] == b'.' && v[6..].iter().all(u8::is_ascii_digit)))
}

fn check_technique(rule: &Rule, id: &str, span: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let attack = catalogue::attack();
    match attack.techniques.get(id) {
        Some((_, Status::Active)) => {}
        Some((name, status)) => out.push(
            report(
                &UNKNOWN,
                format!(
                    "technique {id} ({name}) is {} in ATT&CK {}",
                    if *status == Status::Revoked {
                        "revoked"
                    } else {
                        "deprecated"
                    },
                    attack.version
                ),
            )
            .at(&rule.file, span)
            .label("not current")
            .help("use the technique that replaced it (see attack.mitre.org)"),
        ),
        None => {
            let parent = id.split('.').next().unwrap_or(id);
            let help = if id.contains('.') && attack.techniques.contains_key(parent) {
                format!("{parent} exists, but has no sub-technique {id}")
            } else {
                "check the id on attack.mitre.org".to_string()
            };
            out.push(
                report(
                    &UNKNOWN,
                    format!("{id} is not a technique in ATT&CK {}", attack.version),
                )
                .at(&rule.file, span)
                .label("unknown technique")
                .help(help),
            );
        }
    }
}

fn check_tactic(rule: &Rule, value: &str, span: crate::source::Span, out: &mut Vec<Diagnostic>) {
    let attack = catalogue::attack();
    let hyphenated = value.replace('_', "-");
    if attack.tactics.contains(&hyphenated) {
        return;
    }
    let mut d = report(
        &UNKNOWN,
        format!("`attack.{value}` is not an ATT&CK tactic, technique, group or software id"),
    )
    .at(&rule.file, span)
    .label("unknown ATT&CK tag");
    if let Some(s) =
        crate::suggest::did_you_mean(&hyphenated, attack.tactics.iter().map(String::as_str))
    {
        d = d.help(format!("did you mean `attack.{s}`?"));
    }
    out.push(d);
}

fn check_block(rule: &Rule, block: &Node, tagged: &BTreeSet<String>, out: &mut Vec<Diagnostic>) {
    let attack = catalogue::attack();
    if let Some(version) = block.get("version")
        && version.as_str().is_some_and(|v| v != attack.version)
    {
        out.push(
            report(
                &VERSION,
                format!(
                    "techniques are declared against ATT&CK {} but checked against {}",
                    version.as_str().unwrap_or(""),
                    attack.version
                ),
            )
            .at(&rule.file, version.span)
            .label("different release")
            .help(format!(
                "review the mapping against ATT&CK {} and update the version",
                attack.version
            )),
        );
    }
    let Some(list) = block.get("techniques") else {
        return;
    };
    let mut declared = BTreeSet::new();
    for (id, span) in list.string_list() {
        let id = id.to_uppercase();
        check_technique(rule, &id, span, out);
        declared.insert(id);
    }
    let missing_tags: Vec<&String> = declared.difference(tagged).collect();
    let missing_block: Vec<&String> = tagged.difference(&declared).collect();
    if !missing_tags.is_empty() || !missing_block.is_empty() {
        let mut parts = Vec::new();
        if !missing_tags.is_empty() {
            parts.push(format!(
                "add {} to `tags`",
                missing_tags
                    .iter()
                    .map(|t| format!("attack.{}", t.to_lowercase()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !missing_block.is_empty() {
            parts.push(format!(
                "add {} to `healthcare.attack.techniques`",
                missing_block
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out.push(
            report(
                &MISMATCH,
                "`tags` and `healthcare.attack.techniques` disagree",
            )
            .at(&rule.file, list.span)
            .label("declared techniques")
            .help(parts.join("; ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::lint::testing::{HEALTHCARE, RULE};
    use crate::settings::Profile;

    #[test]
    fn unknown_ids_are_errors_under_healthcare_and_warnings_under_sigma() {
        let rule = format!(
            "{RULE}tags: [attack.collection, attack.t1005, attack.t9999, attack.lateral_movemnt]\n{HEALTHCARE}"
        );
        let healthcare = codes(&rule, Profile::Healthcare);
        assert_eq!(
            healthcare.iter().filter(|c| *c == "STH110").count(),
            2,
            "{healthcare:?}"
        );
        let sigma = crate::lint::testing::run_all(&rule, Profile::Sigma);
        assert!(sigma.iter().any(|l| l.starts_with("STH110")));
    }

    #[test]
    fn tags_must_agree_with_the_healthcare_block() {
        let rule = format!(
            "{RULE}tags: [attack.collection, attack.t1005, attack.t1059.001]\n{HEALTHCARE}"
        );
        assert!(codes(&rule, Profile::Healthcare).contains(&"STH111".to_string()));
        let agreeing = format!("{RULE}tags: [attack.collection, attack.t1005]\n{HEALTHCARE}");
        let found = codes(&agreeing, Profile::Healthcare);
        assert!(!found.iter().any(|c| c.starts_with("STH11")), "{found:?}");
        let old = agreeing.replace("version: '18.1'", "version: '17.1'");
        assert!(codes(&old, Profile::Healthcare).contains(&"STH112".to_string()));
    }
}
