//! The checks `stetho validate` runs after the schema, one module per check.
//!
//! Every check has a stable code (`STHnnn`), a kebab-case name that says
//! what it flags, a default severity and a one-line summary; the table in
//! [`REGISTRY`] is the single list of them (README and SARIF read it).
//! Codes are grouped by what they look at:
//!
//! - `STH0xx` files and YAML,
//! - `STH1xx` schema and metadata (Sigma attributes, the healthcare block),
//! - `STH2xx` detection items and values,
//! - `STH3xx` conditions, correlations and filters,
//! - `STH4xx` patient identifiers and fixtures (reported by validate's
//!   scans of fixtures, rule files and value lists).
//!
//! A check receives one rule (or the whole set for cross-rule checks) and
//! pushes [`Diagnostic`]s; it never prints and never stops the run.

mod all_of_them;
mod ambiguous_scalar;
mod attack_tags;
mod caf_outcomes;
mod chained_correlations;
mod condition_syntax;
mod containment;
mod control_character;
mod correlation_cycle;
mod correlation_refs;
mod custom_attribute;
mod deprecated_syntax;
mod duplicate_ids;
mod duplicate_references;
mod duplicate_titles;
mod field_names;
mod healthcare_block;
mod identifiers;
mod invalid_cidr;
mod invalid_regex;
mod metadata;
mod modifier_chain;
mod placeholders;
mod playbook;
mod review_dates;
mod schedule;
mod tag_format;
mod unknown_modifier;
mod value_types;
mod wildcards;

use std::collections::BTreeSet;
use std::path::Path;

use crate::catalogue::FieldCatalogues;
use crate::diagnostic::sarif::RuleInfo;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;
use crate::settings::{Profile, Project};

/// What a check knows besides the rule itself.
pub struct Context<'a> {
    pub project: &'a Project,
    pub profile: Profile,
    pub fields: &'a FieldCatalogues,
    /// Names of the lists in `lists/` (placeholders resolve against them).
    pub lists: &'a BTreeSet<String>,
    /// Today, for review dates (a parameter so tests are reproducible).
    pub today: time::Date,
}

/// A check's identity.
#[derive(Clone, Copy, Debug)]
pub struct Lint {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
}

type RuleCheck = fn(&Rule, &Context<'_>, &mut Vec<Diagnostic>);
type SetCheck = fn(&[Rule], &Context<'_>, &mut Vec<Diagnostic>);

/// How a check runs.
#[derive(Clone, Copy)]
pub enum Check {
    /// Reported by the loader or the schema stage, not by a lint function.
    BuiltIn,
    Rule(RuleCheck),
    Set(SetCheck),
}

const fn lint(
    code: &'static str,
    name: &'static str,
    severity: Severity,
    summary: &'static str,
) -> Lint {
    Lint {
        code,
        name,
        severity,
        summary,
    }
}

use Severity::Error;

/// Every check stetho has, in code order.
pub const REGISTRY: &[(Lint, Check)] = &[
    (
        lint(
            "STH001",
            "yaml-syntax",
            Error,
            "The file is not valid YAML.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH002",
            "duplicate-key",
            Error,
            "A mapping defines the same key twice.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH003",
            "input-limit",
            Error,
            "The input is over a limit: file size, documents, nesting or list size (see Limits).",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH004",
            "invalid-utf8",
            Error,
            "The file is not valid UTF-8 (a UTF-16 file, as Windows PowerShell 5 saves by default, is named as such).",
        ),
        Check::BuiltIn,
    ),
    (
        lint("STH005", "empty-file", Error, "The file holds no rule."),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH006",
            "yaml-feature-not-allowed",
            Error,
            "Anchors, aliases, tags and merge keys are not allowed in rules.",
        ),
        Check::BuiltIn,
    ),
    (ambiguous_scalar::LINT, Check::Rule(ambiguous_scalar::check)),
    (
        lint(
            "STH008",
            "not-a-rule",
            Error,
            "A YAML document is not a Sigma detection, correlation or filter rule.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH009",
            "unreadable-file",
            Error,
            "The file could not be read.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH100",
            "schema-violation",
            Error,
            "The rule does not match the Sigma JSON Schema.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH101",
            "healthcare-schema-violation",
            Error,
            "The healthcare block does not match its JSON Schema.",
        ),
        Check::BuiltIn,
    ),
    (healthcare_block::LINT, Check::Rule(healthcare_block::check)),
    (metadata::MISSING_ID, Check::Rule(metadata::check)),
    (duplicate_ids::LINT, Check::Set(duplicate_ids::check)),
    (duplicate_titles::LINT, Check::Set(duplicate_titles::check)),
    (
        deprecated_syntax::LINT,
        Check::Rule(deprecated_syntax::check),
    ),
    (custom_attribute::LINT, Check::Rule(custom_attribute::check)),
    (
        duplicate_references::LINT,
        Check::Rule(duplicate_references::check),
    ),
    (attack_tags::UNKNOWN, Check::Rule(attack_tags::check)),
    (attack_tags::MISMATCH, Check::BuiltIn),
    (attack_tags::VERSION, Check::BuiltIn),
    (tag_format::LINT, Check::Rule(tag_format::check)),
    (tag_format::DUPLICATE, Check::BuiltIn),
    (metadata::BLANK_TITLE, Check::BuiltIn),
    (metadata::LOGSOURCE_KEY, Check::BuiltIn),
    (tag_format::NAMESPACE, Check::BuiltIn),
    (metadata::MISSING_LEVEL, Check::BuiltIn),
    (metadata::DEPRECATED_WITHOUT_RELATED, Check::BuiltIn),
    (caf_outcomes::LINT, Check::Rule(caf_outcomes::check)),
    (caf_outcomes::NO_DETECTION_OUTCOME, Check::BuiltIn),
    (containment::LINT, Check::Rule(containment::check)),
    (review_dates::OVERDUE, Check::Rule(review_dates::check)),
    (review_dates::ORDER, Check::BuiltIn),
    (playbook::LINT, Check::Rule(playbook::check)),
    (schedule::LINT, Check::Rule(schedule::check)),
    (unknown_modifier::LINT, Check::Rule(unknown_modifier::check)),
    (modifier_chain::LINT, Check::Rule(modifier_chain::check)),
    (invalid_regex::LINT, Check::Rule(invalid_regex::check)),
    (invalid_cidr::LINT, Check::Rule(invalid_cidr::check)),
    (placeholders::LINT, Check::Rule(placeholders::check)),
    (field_names::LINT, Check::Rule(field_names::check)),
    (value_types::LINT, Check::Rule(value_types::check)),
    (value_types::ALL_SINGLE, Check::BuiltIn),
    (value_types::NULL_IN_LIST, Check::BuiltIn),
    (
        wildcards::INSTEAD_OF_MODIFIER,
        Check::Rule(wildcards::check),
    ),
    (wildcards::DOUBLE, Check::BuiltIn),
    (wildcards::IN_ENCODED, Check::BuiltIn),
    (wildcards::LONE_WILDCARD, Check::BuiltIn),
    (
        control_character::LINT,
        Check::Rule(control_character::check),
    ),
    (condition_syntax::LINT, Check::Rule(condition_syntax::check)),
    (identifiers::UNDEFINED, Check::Rule(identifiers::check)),
    (identifiers::UNUSED, Check::BuiltIn),
    (all_of_them::ALL_OF_THEM, Check::Rule(all_of_them::check)),
    (all_of_them::THEM_SINGLE, Check::BuiltIn),
    (correlation_refs::LINT, Check::Set(correlation_refs::check)),
    (correlation_refs::FILTER, Check::BuiltIn),
    (
        chained_correlations::LINT,
        Check::Set(chained_correlations::check),
    ),
    (
        correlation_cycle::LINT,
        Check::Set(correlation_cycle::check),
    ),
    (
        lint(
            "STH400",
            "real-nhs-number-in-fixture",
            Error,
            "A fixture holds a checksum-valid NHS number outside the 999 test range.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH401",
            "fixture-header-invalid",
            Error,
            "A fixture header, sidecar or folder defaults file breaks schemas/fixture.schema.json.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH402",
            "fixture-header-twice",
            Error,
            "A fixture has both a first-line header and a sidecar header.",
        ),
        Check::BuiltIn,
    ),
    (
        lint(
            "STH403",
            "real-nhs-number-in-rule-or-list",
            Error,
            "A rule file or value list holds a checksum-valid NHS number outside the 999 test range.",
        ),
        Check::BuiltIn,
    ),
];

/// Every code, for validating `[lints]` in `stetho.toml`.
pub fn codes() -> Vec<&'static str> {
    REGISTRY.iter().map(|(l, _)| l.code).collect()
}

/// A check's identity by code.
pub fn lookup(code: &str) -> Option<&'static Lint> {
    REGISTRY.iter().map(|(l, _)| l).find(|l| l.code == code)
}

/// What SARIF's tool description lists.
pub fn sarif_rules() -> Vec<RuleInfo> {
    REGISTRY
        .iter()
        .map(|(l, _)| RuleInfo {
            code: l.code,
            name: l.name,
            summary: l.summary,
            default_severity: l.severity,
        })
        .collect()
}

/// Run every check over a rule set.
pub fn run(rules: &[Rule], ctx: &Context<'_>) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let mut out: Vec<Diagnostic> = rules
        .par_iter()
        .flat_map_iter(|rule| {
            let mut found = Vec::new();
            for (_, check) in REGISTRY {
                if let Check::Rule(f) = check {
                    f(rule, ctx, &mut found);
                }
            }
            found
        })
        .collect();
    for (_, check) in REGISTRY {
        if let Check::Set(f) = check {
            f(rules, ctx, &mut out);
        }
    }
    out
}

/// Apply `[lints]` overrides: change severities, drop what is turned off.
pub fn apply_levels(diagnostics: Vec<Diagnostic>, project: &Project) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter_map(|mut d| {
            if let Some(level) = project.lint_levels.get(d.code) {
                d.severity = match level {
                    crate::settings::Level::Error => Severity::Error,
                    crate::settings::Level::Warning => Severity::Warning,
                    crate::settings::Level::Off => return None,
                };
            }
            Some(d)
        })
        .collect()
}

/// A diagnostic for `lint` at its default severity.
fn report(lint: &Lint, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(lint.code, lint.severity, message)
}

/// Whether a path inside the project exists (playbooks).
fn project_file_exists(ctx: &Context<'_>, relative: &str) -> bool {
    Path::new(relative).is_absolute() && Path::new(relative).exists()
        || ctx.project.resolve(relative).exists()
}

pub use healthcare_block::feeds_correlation;
pub use placeholders::placeholder_names;

/// Every detection item of a rule (or filter), with its search identifier.
fn items(rule: &Rule) -> Vec<(&crate::model::SearchIdentifier, &crate::model::Item)> {
    rule.detection
        .iter()
        .flat_map(|d| d.identifiers.iter())
        .flat_map(|ident| {
            ident
                .search
                .items()
                .into_iter()
                .map(move |item| (ident, item))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the per-check tests: load a rule from a fixture string and
    //! run one check with a default context.

    use std::collections::BTreeSet;

    use super::*;
    use crate::settings::Project;
    use crate::source::SourceFile;

    /// A minimal valid rule for check tests.
    pub const RULE: &str = "title: t\nid: 0d1e2f3a-4b5c-4d6e-9f7a-8b9c0d1e2f3a\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\nlevel: low\n";

    /// A valid healthcare block to append to [`RULE`].
    pub const HEALTHCARE: &str = "healthcare:\n  schema: 1\n  clinical_impact: moderate\n  affected_services: [pathology]\n  asset_classes: [lims]\n  data_categories: [lab_results]\n  caf: {version: '3.2', outcomes: [C1.c]}\n  attack: {version: '18.1', techniques: [T1005]}\n  response: {escalation: [local_soc], containment: manual_only}\n  owner: {team: soc, contact: soc@trust.example}\n  review: {last_reviewed: '2026-06-01', next_review: '2027-06-01'}\n";

    pub fn rules(text: &str) -> Vec<Rule> {
        let file = SourceFile::virtual_file("rule.yml", text);
        let (rules, diagnostics) = crate::load::parse_source(&file);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        rules
    }

    /// Run the whole registry with the given profile; return `code line:col message` lines.
    pub fn run_all(text: &str, profile: Profile) -> Vec<String> {
        run_in(text, profile, None)
    }

    /// As [`run_all`], inside a project rooted at `root`.
    pub fn run_in(text: &str, profile: Profile, root: Option<&std::path::Path>) -> Vec<String> {
        let rules = rules(text);
        let mut project = test_project();
        project.profile = profile;
        project.root = root.map(std::path::Path::to_path_buf);
        let fields = FieldCatalogues::load(None);
        let lists: BTreeSet<String> = ["registered_ae_titles".to_string()].into();
        let ctx = Context {
            project: &project,
            profile,
            fields: &fields,
            lists: &lists,
            today: time::macros::date!(2026 - 11 - 29),
        };
        let mut out = run(&rules, &ctx);
        crate::diagnostic::sort(&mut out);
        out.iter()
            .map(|d| {
                let pos = d
                    .position()
                    .map_or(String::new(), |p| format!(" {}:{}", p.0, p.1));
                format!("{}{pos} {}", d.code, d.message)
            })
            .collect()
    }

    pub fn codes(text: &str, profile: Profile) -> Vec<String> {
        run_all(text, profile)
            .into_iter()
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .collect()
    }

    /// [`codes`] for a fixture file of the repository (Sigma profile).
    pub fn codes_of_file(relative: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        codes(
            &std::fs::read_to_string(path).expect("fixture"),
            Profile::Sigma,
        )
    }

    fn test_project() -> Project {
        Project {
            root: None,
            profile: Profile::Sigma,
            rules: Vec::new(),
            fixtures: "test-events".into(),
            lists: "lists".into(),
            fields: "schemas/fields".into(),
            lint_levels: Default::default(),
            frequency: None,
        }
    }
}
