//! ## What it does
//! Parses every `|cidr` value as an IPv4 or IPv6 network (`10.0.0.0/8`,
//! `2001:db8::/32`).
//!
//! ## Why is this bad?
//! A malformed network (`10.0.0.0/33`, `10.0.0/8`) either breaks the
//! compiled query or matches nothing, silently.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Modifier, Rule};

pub const LINT: Lint = Lint {
    code: "STH203",
    name: "invalid-cidr",
    severity: Severity::Error,
    summary: "A `|cidr` value that is not an IPv4 or IPv6 network.",
};

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        if !item.has(Modifier::Cidr) {
            continue;
        }
        for value in &item.values {
            let text = value.scalar.text.trim();
            if item.has(Modifier::Expand) && text.starts_with('%') {
                continue;
            }
            if text.parse::<ipnet::IpNet>().is_ok() {
                continue;
            }
            let help = if text.parse::<std::net::IpAddr>().is_ok() {
                format!(
                    "add a prefix length: '{text}/{}'",
                    if text.contains(':') { 128 } else { 32 }
                )
            } else {
                "write a network as address/prefix, e.g. '10.20.0.0/16' or '2001:db8::/32'"
                    .to_string()
            };
            out.push(
                report(&LINT, format!("`{text}` is not a valid CIDR network"))
                    .at(&rule.file, value.span)
                    .label("invalid network")
                    .help(help),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn networks_must_parse() {
        let rule = |v: &str| {
            format!(
                "title: t\nlogsource: {{product: windows, category: network_connection}}\ndetection:\n  sel:\n    DestinationIp|cidr: '{v}'\n  condition: sel\nlevel: low\n"
            )
        };
        assert!(!codes(&rule("10.0.0.0/8"), Profile::Sigma).contains(&"STH203".to_string()));
        assert!(!codes(&rule("2001:db8::/32"), Profile::Sigma).contains(&"STH203".to_string()));
        assert!(codes(&rule("10.0.0.0/33"), Profile::Sigma).contains(&"STH203".to_string()));
        assert!(codes(&rule("10.0.0.1"), Profile::Sigma).contains(&"STH203".to_string()));
    }
}
