//! The formatter on small texts: layout, quoting, comments, refusals.

use super::*;

fn fmt(text: &str) -> String {
    match format_text(text) {
        Ok(out) => {
            assert_eq!(
                format_text(&out).as_deref(),
                Ok(out.as_str()),
                "not idempotent"
            );
            out
        }
        Err(e) => panic!("{e}\n{text}"),
    }
}

#[test]
fn keys_are_reordered_and_comments_move_with_them() {
    let text = "\
# the rule
level: high   # triage
detection:
  # why
  condition: sel
  sel:
    Image|endswith: '\\cmd.exe'   # the shell
title: 'Shell'
logsource: {category: process_creation, product: windows}
tests:
- fixture: x.ndjson
  expect: match
# end of file
";
    assert_eq!(
        fmt(text),
        "\
title: Shell
logsource:
    product: windows
    category: process_creation
detection:
    sel:
        Image|endswith: \\cmd.exe # the shell
    # why
    condition: sel
# the rule
level: high # triage
tests:
    - fixture: x.ndjson
      expect: match
# end of file
"
    );
}

#[test]
fn values_keep_their_meaning() {
    let text = "\
title: t
date: '2024-01-01'
version: \"18.1\"
flag: 'yes'
plain_flag: yes
count: 5
quoted_count: '5'
none: null
empty:
list: [a, 'b c', '*.exe']
tabbed: \"a\\tb\"
";
    assert_eq!(
        fmt(text),
        "\
title: t
date: '2024-01-01'
version: '18.1'
flag: 'yes'
plain_flag: yes
count: 5
quoted_count: '5'
none: null
empty:
list:
    - a
    - b c
    - '*.exe'
tabbed: \"a\\tb\"
"
    );
}

#[test]
fn block_scalars_keep_their_lines_and_header_comments() {
    let text = "\
title: t
description: |  # keep
  First line.
    indented

  last
condition: >-
      a and
      b
";
    assert_eq!(
        fmt(text),
        "\
title: t
description: | # keep
    First line.
      indented

    last
condition: >-
    a and
    b
"
    );
}

#[test]
fn multi_document_files_keep_their_documents() {
    let text = "---\ntitle: a\n# between\n---\n# second\ntitle: b\nid: x\n";
    assert_eq!(
        fmt(text),
        "title: a\n# between\n---\n# second\ntitle: b\nid: x\n"
    );
}

#[test]
fn canonical_text_is_unchanged() {
    let text = "title: t\ndetection:\n    sel:\n        - a\n        - k: v # c\n          j: w\n    condition: sel\n";
    assert_eq!(fmt(text), text);
}

#[test]
fn crlf_files_are_formatted_and_keep_crlf() {
    let text = "detection:\r\n  condition: sel\r\n  sel:\r\n    k: v # c\r\ntitle: t\r\n";
    let out = fmt(text);
    assert_eq!(
        out,
        "title: t\r\ndetection:\r\n    sel:\r\n        k: v # c\r\n    condition: sel\r\n"
    );
    assert_eq!(fmt(&out), out);
    // A refusal points into the CRLF text, not the LF one it was read as.
    let text = "title: t\r\na: |2\r\n   x\r\n";
    let lf = text.replace("\r\n", "\n");
    match (format_text(text), format_text(&lf)) {
        (
            Err(FormatError::Refused { span, .. }),
            Err(FormatError::Refused { span: lf_span, .. }),
        ) => {
            assert_eq!(
                text[span.start..span.end].replace("\r\n", "\n"),
                lf[lf_span.start..lf_span.end],
                "{span:?} {lf_span:?}"
            );
            assert_eq!(span.start - lf_span.start, 2, "two returns come before it");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn constructs_it_cannot_lay_out_are_refused() {
    for (text, construct) in [
        ("a: b\r\nc: d\n", "mixed line endings"),
        ("a: b\rc: d\n", "carriage return inside a line"),
        ("a: |2\n   x\n", "indentation indicator"),
        ("a: |+\n x\n\n", "keeps trailing"),
        ("%YAML 1.2\n---\na: b\n", "directive"),
        ("a: b\n...\n", "end marker"),
        ("a: b\n---\n", "empty or non-mapping"),
        ("a: one\n\n  two\n", "blank line"),
    ] {
        match format_text(text) {
            Err(FormatError::Refused { construct: c, .. }) => {
                assert!(c.contains(construct), "{text:?}: {c}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    assert_eq!(format_text("a: [\n"), Err(FormatError::NotLoaded));
    assert_eq!(format_text("a: &x 1\nb: *x\n"), Err(FormatError::NotLoaded));
}
