//! ## What it does
//! Checks tags outside the ATT&CK namespace against the Sigma tag
//! appendix: `cve.YYYY-NNNN`, `car.YYYY-MM-NNN`, `tlp.<colour>`,
//! `detection.<kind>`, `stp.<level><a|u|k>`, `d3fend.d3-<id>`; flags the
//! same tag twice (STH114) and namespaces that are neither Sigma's nor
//! stetho's `health.*` / `caf.*` (STH117).
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

pub const NAMESPACE: Lint = Lint {
    code: "STH117",
    name: "unknown-tag-namespace",
    severity: Severity::Warning,
    summary: "A tag namespace that is neither Sigma's nor stetho's.",
};

/// Sigma's tag namespaces (specification appendix) plus stetho's.
const NAMESPACES: &[&str] = &[
    "attack",
    "car",
    "cve",
    "d3fend",
    "detection",
    "stp",
    "tlp",
    "health",
    "caf",
];

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
            "stp" => (!is_stp(value)).then_some("STP tags are `stp.<level>` with a level 1-5 and optionally a, u or k, e.g. stp.3a"),
            "d3fend" => (!is_d3fend(value)).then_some("D3FEND tags are `d3fend.d3-<id>`, e.g. d3fend.d3-pa"),
            _ => None,
        };
        if !NAMESPACES.contains(&namespace) {
            let mut d = report(&NAMESPACE, format!("unknown tag namespace `{namespace}`"))
                .at(&rule.file, tag.span)
                .label("not a Sigma namespace");
            d = match crate::suggest::did_you_mean(namespace, NAMESPACES.iter().copied()) {
                Some(s) => d.help(format!("did you mean `{s}.`?")),
                None => d.help("Sigma namespaces: attack, car, cve, d3fend, detection, stp, tlp; stetho adds health and caf"),
            };
            out.push(d);
        }
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
    matches!(chars.next(), Some('1'..='5')) && matches!(chars.as_str(), "" | "a" | "u" | "k")
}

fn is_d3fend(v: &str) -> bool {
    v.strip_prefix("d3-").is_some_and(|id| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    fn tagged(tags: &str) -> Vec<String> {
        codes(
            &format!(
                "title: t\nid: 0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a\nlogsource: {{product: windows}}\ndetection:\n  sel:\n    a: b\n  condition: sel\nlevel: low\ntags: [{tags}]\n"
            ),
            Profile::Sigma,
        )
    }

    #[test]
    fn namespaced_formats() {
        assert!(
            tagged(
                "cve.2023-43208, car.2016-04-005, tlp.amber, stp.3a, detection.dfir, d3fend.d3-pa"
            )
            .is_empty()
        );
        assert!(tagged("cve.2023-1").contains(&"STH113".to_string()));
        assert!(tagged("tlp.purple").contains(&"STH113".to_string()));
        assert!(tagged("stp.3x").contains(&"STH113".to_string()));
        assert!(tagged("attck.t1059").contains(&"STH117".to_string()));
        assert!(tagged("tlp.red, tlp.red").contains(&"STH114".to_string()));
    }
}
