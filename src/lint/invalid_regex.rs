//! ## What it does
//! Compiles every `|re` value with the engine stetho evaluates with
//! (Rust `regex`: linear time, RE2 syntax, size-limited) and the rule's
//! flags, and reports the first error in each.
//!
//! ## Why is this bad?
//! A pattern that does not compile breaks the rule everywhere; one that
//! needs look-around or back-references does not run on KQL's RE2 engine
//! either. The size limit keeps a hostile pattern from exhausting memory.

use super::{Context, Lint, items, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Modifier, Rule};

pub const LINT: Lint = Lint {
    code: "STH202",
    name: "invalid-regex",
    severity: Severity::Error,
    summary: "A `|re` value that does not compile (RE2 syntax, size-limited).",
};

/// Build a regex the way the engine will (the evaluator's own builder, so
/// the lint and the engine cannot disagree on limits or syntax).
pub fn compile(
    pattern: &str,
    ignore_case: bool,
    multi_line: bool,
    dot_all: bool,
) -> Result<regex::Regex, regex::Error> {
    crate::eval::compile_regex_test(&crate::logic::Test::Regex {
        pattern: pattern.to_string(),
        ignore_case,
        multi_line,
        dot_all,
    })
}

pub fn check(rule: &Rule, _ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, item) in items(rule) {
        if !item.has(Modifier::Re) {
            continue;
        }
        for value in &item.values {
            let Err(error) = compile(
                &value.scalar.text,
                item.has(Modifier::IgnoreCase),
                item.has(Modifier::Multiline),
                item.has(Modifier::DotAll),
            ) else {
                continue;
            };
            let (message, help) = match &error {
                regex::Error::CompiledTooBig(limit) => (
                    format!("regular expression is too large (over {limit} bytes compiled)"),
                    "simplify it: bounded repeats of Unicode classes (`\\w{1,64}`) grow fast; try `[A-Za-z0-9_]`".to_string(),
                ),
                regex::Error::Syntax(text) => {
                    let detail = text.lines().last().unwrap_or(text).trim().trim_start_matches("error: ").to_string();
                    let help = if text.contains("look-around") || text.contains("backreferences") {
                        "stetho and KQL use RE2-style engines: look-around and back-references are not supported".to_string()
                    } else {
                        "Sigma regexes use RE2/PCRE-common syntax; escape literal metacharacters with `\\`".to_string()
                    };
                    (format!("regular expression does not compile: {detail}"), help)
                }
                other => (format!("regular expression does not compile: {other}"), String::new()),
            };
            let mut d = report(&LINT, message)
                .at(&rule.file, value.span)
                .label("invalid pattern");
            if !help.is_empty() {
                d = d.help(help);
            }
            out.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::codes;
    use crate::settings::Profile;

    #[test]
    fn a_pattern_over_the_size_limit_is_refused_with_the_limit() {
        let limit = crate::limits::REGEX_SIZE_LIMIT;
        let err = super::compile("\\w{1,1000}\\w{1,1000}", false, false, false).unwrap_err();
        assert!(
            matches!(err, regex::Error::CompiledTooBig(l) if l == limit),
            "{err}"
        );
        assert!(super::compile("\\w{1,100}", false, false, false).is_ok());
    }

    #[test]
    fn flags_lookaround_and_syntax_errors() {
        let rule = |re: &str| {
            format!(
                "title: t\nlogsource: {{product: windows}}\ndetection:\n  sel:\n    CommandLine|re: '{re}'\n  condition: sel\n"
            )
        };
        assert!(codes(&rule("a(?=b)"), Profile::Sigma).contains(&"STH202".to_string()));
        assert!(codes(&rule("a[b"), Profile::Sigma).contains(&"STH202".to_string()));
        assert!(!codes(&rule("(?i)\\s-k\\s\\w+"), Profile::Sigma).contains(&"STH202".to_string()));
    }
}
