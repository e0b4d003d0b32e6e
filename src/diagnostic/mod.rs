//! Findings as data.
//!
//! A [`Diagnostic`] is what every check produces: a stable code, a severity,
//! a message, where it is, a label for the offending text and a help line.
//! Checks never print; the renderers in this module turn the same list into
//! a terminal report ([`human`]), JSON ([`json`]) or SARIF ([`sarif`]). That
//! keeps the machine formats exactly as trustworthy as what people read.

pub mod human;
pub mod json;
pub mod sarif;

use std::cmp::Ordering;
use std::sync::Arc;

use serde::Serialize;

use crate::source::{SourceFile, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A second place that explains the first (e.g. where a duplicate id was
/// first defined).
#[derive(Clone, Debug)]
pub struct Related {
    pub file: Arc<SourceFile>,
    pub span: Span,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: Option<Arc<SourceFile>>,
    pub span: Option<Span>,
    pub label: Option<String>,
    pub related: Vec<Related>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            file: None,
            span: None,
            label: None,
            related: Vec::new(),
            help: None,
        }
    }

    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic::new(code, Severity::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic::new(code, Severity::Warning, message)
    }

    /// Attach the position of the offending text.
    pub fn at(mut self, file: &Arc<SourceFile>, span: Span) -> Self {
        self.file = Some(Arc::clone(file));
        self.span = Some(span);
        self
    }

    /// Attach a file without a position (whole-file problems).
    pub fn in_file(mut self, file: &Arc<SourceFile>) -> Self {
        self.file = Some(Arc::clone(file));
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, file: &Arc<SourceFile>, span: Span, label: impl Into<String>) -> Self {
        self.related.push(Related {
            file: Arc::clone(file),
            span,
            label: label.into(),
        });
        self
    }

    pub fn file_name(&self) -> &str {
        self.file.as_ref().map_or("", |f| f.display.as_str())
    }

    /// 1-based (line, column, end line, end column) of the primary span.
    pub fn position(&self) -> Option<(usize, usize, usize, usize)> {
        let (file, span) = (self.file.as_ref()?, self.span?);
        let start = file.line_col(span.start);
        let end = file.line_col(span.end);
        Some((start.line, start.column, end.line, end.column))
    }

    /// Output order: by file, position, then code, so runs are byte-identical
    /// whatever order the checks ran in.
    pub fn sort_key_cmp(&self, other: &Self) -> Ordering {
        self.file_name()
            .cmp(other.file_name())
            .then_with(|| self.span.map(|s| s.start).cmp(&other.span.map(|s| s.start)))
            .then_with(|| self.code.cmp(other.code))
            .then_with(|| self.message.cmp(&other.message))
    }
}

/// Sort diagnostics into their stable output order and drop exact repeats.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(Diagnostic::sort_key_cmp);
    diagnostics.dedup_by(|a, b| {
        a.code == b.code
            && a.span == b.span
            && a.message == b.message
            && a.file_name() == b.file_name()
    });
}

/// Counts for the one-line summary and the JSON envelope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub rules: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn count(mut self, diagnostics: &[Diagnostic]) -> Self {
        self.errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        self.warnings = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        self
    }
}
