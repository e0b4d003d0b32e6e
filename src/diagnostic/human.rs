//! The terminal report: compiler-style snippets with a label under the
//! offending text and a help line, rendered by annotate-snippets (the
//! renderer rustc and cargo use). Only this file knows that crate, so the
//! renderer can be swapped without touching any check.

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Severity, Summary};
use crate::source::{SourceFile, Span};

/// Lines of a long span shown before the rest is elided.
const MAX_SNIPPET_LINES: usize = 8;

/// Render every diagnostic, then the one-line summary.
pub fn render(diagnostics: &[Diagnostic], summary: &Summary, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    }
    .decor_style(DecorStyle::Unicode);
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render_one(&renderer, diagnostic));
        out.push_str("\n\n");
    }
    out.push_str(&summary_line(summary));
    out.push('\n');
    out
}

/// `checked 3 files (5 rules): 2 errors, 1 warning`.
pub fn summary_line(summary: &Summary) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let found = if summary.errors == 0 && summary.warnings == 0 {
        "no problems found".to_string()
    } else {
        format!(
            "{}, {}",
            plural(summary.errors, "error"),
            plural(summary.warnings, "warning")
        )
    };
    format!(
        "checked {} ({}): {found}",
        plural(summary.files, "file"),
        plural(summary.rules, "rule")
    )
}

fn render_one(renderer: &Renderer, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(d.message.as_str()).id(d.code);
    let mut group = Group::with_title(title);
    match (&d.file, d.span) {
        (Some(file), Some(span)) => {
            let label = d.label.as_deref();
            group = group.element(snippet(file, span, label, AnnotationKind::Primary));
        }
        (Some(file), None) => {
            group = group.element(annotate_snippets::Origin::path(file.display.as_str()));
        }
        _ => {}
    }
    for related in &d.related {
        group = group.element(snippet(
            &related.file,
            related.span,
            Some(related.label.as_str()),
            AnnotationKind::Context,
        ));
    }
    if let Some(help) = &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    renderer.render(&[group])
}

/// A snippet of just the lines the span covers, so huge files render fast.
fn snippet<'a>(
    file: &'a SourceFile,
    span: Span,
    label: Option<&'a str>,
    kind: AnnotationKind,
) -> Snippet<'a, annotate_snippets::Annotation<'a>> {
    let text = file.text.as_str();
    // Spans come from byte offsets; widen them to whole characters so a
    // span inside a multi-byte character can never split it.
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.min(text.len()).max(start);
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let first_line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut last_line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    // Keep long spans readable: cut after a few lines.
    if let Some((cut, _)) = text[first_line_start..last_line_end]
        .match_indices('\n')
        .nth(MAX_SNIPPET_LINES - 1)
    {
        last_line_end = first_line_start + cut;
    }
    let window = &text[first_line_start..last_line_end];
    let rel_start = start - first_line_start;
    let rel_end = (end - first_line_start).min(window.len()).max(rel_start);
    let line = file.line_col(start).line;
    let mut annotation = kind.span(rel_start..rel_end);
    if let Some(label) = label {
        annotation = annotation.label(label);
    }
    Snippet::source(window)
        .line_start(line)
        .path(file.display.as_str())
        .annotation(annotation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn renders_a_located_error_with_label_and_help() {
        let file = SourceFile::virtual_file("rules/a.yml", "title: x\nlevel: critcal\n");
        let d = Diagnostic::error("STH100", "`critcal` is not a valid level")
            .at(&file, Span::new(16, 23))
            .label("not one of informational, low, medium, high, critical")
            .help("did you mean `critical`?");
        let summary = Summary {
            files: 1,
            rules: 1,
            errors: 1,
            warnings: 0,
        };
        let text = render(&[d], &summary, false);
        insta::assert_snapshot!(text);
    }
}
