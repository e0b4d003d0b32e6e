//! JSON Schema validation of rule documents, with errors located in YAML.
//!
//! The schemas in `schemas/` are the single statement of a rule's shape
//! (editors use the same files through yaml-language-server). This is the
//! only module that knows the `jsonschema` crate. Each error's JSON pointer
//! is walked back through the [`Node`] tree to the exact key or value, and
//! the error is reworded into plain words with a hint where one exists.

use std::sync::{Arc, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

use crate::catalogue;
use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use crate::source::yaml::Node;
use crate::suggest::did_you_mean;

/// The schemas stetho validates with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaKind {
    Rule,
    Correlation,
    Filter,
    Healthcare,
    /// A fixture header, sidecar or folder defaults file.
    Fixture,
}

impl SchemaKind {
    fn file(self) -> &'static str {
        match self {
            SchemaKind::Rule => "sigma-rule.schema.json",
            SchemaKind::Correlation => "sigma-correlation.schema.json",
            SchemaKind::Filter => "sigma-filter.schema.json",
            SchemaKind::Healthcare => "healthcare.schema.json",
            SchemaKind::Fixture => "fixture.schema.json",
        }
    }

    fn code(self) -> &'static str {
        match self {
            SchemaKind::Healthcare => "STH101",
            SchemaKind::Fixture => "STH401",
            _ => "STH100",
        }
    }
}

/// A compiled schema and its JSON (for "did you mean" over its property names).
struct Compiled {
    validator: Validator,
    schema: Value,
}

fn compiled(kind: SchemaKind) -> Option<&'static Compiled> {
    static RULE: OnceLock<Option<Compiled>> = OnceLock::new();
    static CORRELATION: OnceLock<Option<Compiled>> = OnceLock::new();
    static FILTER: OnceLock<Option<Compiled>> = OnceLock::new();
    static HEALTHCARE: OnceLock<Option<Compiled>> = OnceLock::new();
    static FIXTURE: OnceLock<Option<Compiled>> = OnceLock::new();
    let cell = match kind {
        SchemaKind::Rule => &RULE,
        SchemaKind::Correlation => &CORRELATION,
        SchemaKind::Filter => &FILTER,
        SchemaKind::Healthcare => &HEALTHCARE,
        SchemaKind::Fixture => &FIXTURE,
    };
    cell.get_or_init(|| {
        let text = catalogue::embedded(kind.file())?;
        let schema: Value = serde_json::from_str(text).ok()?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&schema)
            .ok()?;
        Some(Compiled { validator, schema })
    })
    .as_ref()
}

/// Validate `instance` (the JSON form of `node`) and report every error.
///
/// `prefix` is the JSON pointer of `node` inside the document (empty for
/// the whole document), so positions are looked up from `root`.
pub fn check(
    kind: SchemaKind,
    file: &Arc<SourceFile>,
    root: &Node,
    prefix: &str,
    node: &Node,
    out: &mut Vec<Diagnostic>,
) {
    let Some(compiled) = compiled(kind) else {
        out.push(
            Diagnostic::error(
                "STH100",
                format!("the embedded schema {} failed to load", kind.file()),
            )
            .in_file(file)
            .help("this is a bug in stetho; please report it"),
        );
        return;
    };
    let instance = node.to_json();
    for error in compiled.validator.iter_errors(&instance) {
        let leaf = best_leaf(&error);
        out.push(describe(kind, &compiled.schema, file, root, prefix, leaf));
    }
}

/// For `anyOf`/`oneOf` failures, the branch error that got furthest into
/// the document explains the problem best (Python jsonschema's `best_match`).
fn best_leaf<'a>(error: &'a ValidationError<'a>) -> &'a ValidationError<'a> {
    let context = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => return error,
    };
    let mut best: Option<&ValidationError<'_>> = None;
    for branch in context {
        for sub in branch {
            let sub = best_leaf(sub);
            let depth = sub.instance_path().as_str().matches('/').count();
            let better =
                best.is_none_or(|b| depth > b.instance_path().as_str().matches('/').count());
            if better {
                best = Some(sub);
            }
        }
    }
    // Only descend when the branch error is deeper than the anyOf itself:
    // otherwise "not valid under any of the given schemas" says it better.
    match best {
        Some(b) if b.instance_path().as_str().len() > error.instance_path().as_str().len() => b,
        _ => error,
    }
}

fn describe(
    kind: SchemaKind,
    schema: &Value,
    file: &Arc<SourceFile>,
    root: &Node,
    prefix: &str,
    error: &ValidationError<'_>,
) -> Diagnostic {
    let path = format!("{prefix}{}", error.instance_path().as_str());
    let shown_path = if path.is_empty() {
        "/".to_string()
    } else {
        path.clone()
    };
    let value_span = root.span_at_pointer(&path, false);
    let key_span = root.span_at_pointer(&path, true);
    let code = kind.code();
    let instance = error.instance().as_ref();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let span = if path.is_empty() {
                root.span.sub(0, 0)
            } else {
                key_span
            };
            Diagnostic::error(
                code,
                format!("missing required key `{name}` in `{shown_path}`"),
            )
            .at(file, span)
            .label(format!("`{name}` is required here"))
        }
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let name = unexpected.first().cloned().unwrap_or_default();
            let span = root.span_at_pointer(&format!("{path}/{}", escape_pointer(&name)), true);
            let known = allowed_keys(schema, error.schema_path().as_str());
            let mut d = Diagnostic::error(code, format!("unknown key `{name}` in `{shown_path}`"))
                .at(file, span)
                .label("not allowed here");
            if let Some(s) = did_you_mean(&name, known.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            } else {
                d = d.help("check the spelling against the schema, or remove the key");
            }
            d
        }
        ValidationErrorKind::Enum { options } => {
            let choices: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(value_text).collect())
                .unwrap_or_default();
            let got = value_text(instance);
            let mut d = Diagnostic::error(
                code,
                format!("`{got}` is not a valid value for `{shown_path}`"),
            )
            .at(file, value_span)
            .label(format!("expected one of: {}", choices.join(", ")));
            if let Some(s) = did_you_mean(&got, choices.iter().map(String::as_str)) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            d
        }
        ValidationErrorKind::Type { kind: expected } => {
            let expected = format!("{expected:?}")
                .to_lowercase()
                .replace("single(", "")
                .replace(')', "");
            Diagnostic::error(
                code,
                format!(
                    "`{shown_path}` must be {}, not {}",
                    expected_words(&expected),
                    json_type(instance)
                ),
            )
            .at(file, value_span)
            .label(format!("this is {}", json_type(instance)))
        }
        ValidationErrorKind::Pattern { pattern } => Diagnostic::error(
            code,
            format!(
                "`{}` does not have the expected format for `{shown_path}`",
                value_text(instance)
            ),
        )
        .at(file, value_span)
        .label(format!("must match `{pattern}`"))
        .help(pattern_help(&path)),
        ValidationErrorKind::PropertyNames { error: inner } => {
            let name = value_text(inner.instance());
            let span = root.span_at_pointer(&format!("{path}/{}", escape_pointer(&name)), true);
            Diagnostic::error(
                code,
                format!("`{name}` is not a valid key in `{shown_path}`"),
            )
            .at(file, span)
            .label(inner.to_string())
        }
        _ => Diagnostic::error(code, format!("`{shown_path}`: {error}"))
            .at(file, value_span)
            .label("schema violation"),
    }
}

/// The property names the schema allows where an `additionalProperties`
/// error was raised, found from the error's keyword location.
fn allowed_keys(schema: &Value, keyword_location: &str) -> Vec<String> {
    let parent = keyword_location.rsplit_once('/').map_or("", |(p, _)| p);
    schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

fn pattern_help(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or("");
    match last {
        "date" | "modified" | "last_reviewed" | "next_review" => {
            "dates are written YYYY-MM-DD, e.g. '2026-03-01'".to_string()
        }
        "id" => "use a UUID such as 'c1a4c0f0-5c1e-4a7e-9d1b-3f9a0e1d2c3b'".to_string(),
        "timespan" => "a number and a unit: s, m, h or d, e.g. 10m".to_string(),
        _ if path.contains("/tags/") => {
            "tags are lower-case `namespace.value`, e.g. attack.t1059.001".to_string()
        }
        _ => "see the schema in schemas/ for the expected format".to_string(),
    }
}

fn expected_words(kind: &str) -> String {
    match kind {
        "object" => "a mapping".to_string(),
        "array" => "a list".to_string(),
        "string" => "a string".to_string(),
        "integer" => "an integer".to_string(),
        "number" => "a number".to_string(),
        "boolean" => "true or false".to_string(),
        "null" => "null".to_string(),
        other => other
            .replace("multiple([", "one of ")
            .replace(['[', ']'], ""),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn escape_pointer(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
