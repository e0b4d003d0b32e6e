//! `stetho compile`: rules to KQL hunting queries, Defender XDR custom
//! detections, Sentinel analytics rules or standard Sigma.

use std::io::Write as _;

use crate::backend::CompileError;
use crate::backend::deploy::{self, Meta, Schedule};
use crate::backend::kql::{self, KqlOptions};
use crate::backend::sigma::SigmaOptions;
use crate::cli::{Cli, CompileArgs, CompileFormat, Target};
use crate::commands::{Lowered, Output};
use crate::exit_code;
use crate::pipeline::Pipeline;

/// One file a rule compiles to: its name suffix, its text, and what the
/// compiler warns about (a Sigma export kept in the stetho taxonomy, a
/// `--lossy` approximation).
pub struct Artifact {
    pub suffix: &'static str,
    pub text: String,
    /// Where the bare query is in `text`, for a `.kql` file (whose text
    /// adds a header), so JSON Lines output need not compile the rule
    /// again nor keep a second copy of it.
    pub query: Option<std::ops::Range<usize>>,
    pub warnings: Vec<String>,
}

impl Artifact {
    /// The bare query of a `.kql` file, else the whole text.
    pub fn query_or_text(&self) -> &str {
        self.query
            .clone()
            .and_then(|range| self.text.get(range))
            .unwrap_or(&self.text)
    }
}

/// Everything one rule compiles to for `target`.
pub fn artifacts(
    lowered: &Lowered,
    index: usize,
    target: Target,
    pipeline: &Pipeline,
    schedule: Schedule,
) -> Result<Vec<Artifact>, CompileError> {
    artifacts_with(
        lowered,
        index,
        target,
        pipeline,
        schedule,
        Options::default(),
    )
}

/// The flags of `stetho compile` that change what a rule compiles to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    pub kql: KqlOptions,
    pub sigma: SigmaOptions,
}

/// [`artifacts`], with the options of the KQL and the Sigma export.
pub fn artifacts_with(
    lowered: &Lowered,
    index: usize,
    target: Target,
    pipeline: &Pipeline,
    schedule: Schedule,
    options: Options,
) -> Result<Vec<Artifact>, CompileError> {
    let rules = &lowered.rules;
    let model = lowered.model_of(&rules[index]);
    let meta = || Meta::of(&rules[index], model);
    // A deployed rule runs on its own schedule when it sets one.
    let schedule = match target {
        Target::Defender | Target::Sentinel => schedule
            .of_rule(model)
            .map_err(|e| CompileError::new(&rules[index], e))?,
        Target::Kql | Target::Sigma => schedule,
    };
    if target == Target::Sentinel {
        let period = deploy::query_period(rules, index, schedule);
        if period > deploy::MAX_PERIOD_HOURS {
            return Err(CompileError::new(
                &rules[index],
                format!(
                    "the query must look back {period}h (the correlation's reach), past Sentinel's 14 days"
                ),
            ));
        }
    }
    // Sigma is exported from the rule document, not from the KQL.
    let query = match target {
        Target::Sigma => String::new(),
        _ => kql::compile(rules, index, pipeline, options.kql)?,
    };
    Ok(match target {
        Target::Sigma => {
            let export = crate::backend::sigma::export(lowered, index, options.sigma)?;
            vec![Artifact {
                suffix: ".yml",
                text: export.text,
                query: None,
                warnings: export.warnings,
            }]
        }
        Target::Kql => {
            let mut text = header(&rules[index], query.len() + 1);
            let start = text.len();
            text.push_str(&query);
            let end = text.len();
            text.push('\n');
            vec![Artifact {
                suffix: ".kql",
                text,
                query: Some(start..end),
                warnings: Vec::new(),
            }]
        }
        Target::Defender => {
            let rule = deploy::defender(rules, index, &meta(), &query, pipeline, schedule)?;
            vec![Artifact {
                suffix: ".json",
                text: pretty(&rule),
                query: None,
                warnings: Vec::new(),
            }]
        }
        Target::Sentinel => {
            let meta = meta();
            vec![
                Artifact {
                    suffix: ".yaml",
                    text: deploy::sentinel_yaml(rules, index, &meta, &query, pipeline, schedule),
                    query: None,
                    warnings: Vec::new(),
                },
                Artifact {
                    suffix: ".arm.json",
                    text: pretty(&deploy::sentinel_arm(
                        rules, index, &meta, &query, pipeline, schedule,
                    )),
                    query: None,
                    warnings: Vec::new(),
                },
            ]
        }
    })
}

pub fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// The file name stem of a rule's artifacts.
pub fn stem(rule: &crate::logic::RuleLogic) -> String {
    let name = crate::harness::snapshot::file_name(rule.key());
    name.trim_end_matches(crate::harness::snapshot::SUFFIX)
        .to_string()
}

/// Watchlists live in a Sentinel workspace: Defender XDR advanced hunting
/// has no `_GetWatchlist`, and standard Sigma keeps its placeholders.
pub fn watchlists_apply(target: Target, pipeline: &str) -> Result<(), String> {
    match target {
        Target::Defender | Target::Sigma => Err(format!(
            "--watchlists applies to Sentinel queries (--target kql or sentinel), not --target {}",
            target_name(target)
        )),
        Target::Kql | Target::Sentinel if pipeline == "defender_xdr" => Err(
            "--watchlists applies to Sentinel queries: Defender XDR advanced hunting has no watchlists (use --pipeline sentinel)"
                .into(),
        ),
        Target::Kql | Target::Sentinel => Ok(()),
    }
}

pub fn target_name(target: Target) -> &'static str {
    match target {
        Target::Kql => "kql",
        Target::Defender => "defender",
        Target::Sentinel => "sentinel",
        Target::Sigma => "sigma",
    }
}

/// Every reported rule's index, in path order; rules a correlation hides
/// are compiled inside it, not on their own.
pub fn reported(lowered: &Lowered) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..lowered.rules.len())
        .filter(|&i| !lowered.rules[i].hidden)
        .collect();
    indices.sort_by(|&a, &b| {
        let (ra, rb) = (&lowered.rules[a], &lowered.rules[b]);
        (&ra.path, ra.document).cmp(&(&rb.path, rb.document))
    });
    indices
}

pub fn run(cli: &Cli, args: &CompileArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "compile")?;
    // Only the Sigma export and the deployable rules' metadata read the
    // rule documents; a query is compiled from the logic alone.
    let keep = match args.target {
        Target::Kql => crate::load::Keep::Logic,
        _ => crate::load::Keep::Documents,
    };
    let lowered = super::lower(&paths, &project, keep)?;
    let pipeline = lowered
        .pipelines
        .get(&args.pipeline)
        .map_err(|e| e.to_string())?;
    let schedule = super::default_schedule(args.frequency.as_deref(), &project)?;
    let target = target_name(args.target);
    if args.target != Target::Sigma && (args.lossy || args.resolve_placeholders) {
        return Err("--lossy and --resolve-placeholders apply to --target sigma only".into());
    }
    if args.watchlists {
        watchlists_apply(args.target, &args.pipeline)?;
    }
    let options = Options {
        kql: KqlOptions {
            watchlists: args.watchlists,
        },
        sigma: SigmaOptions {
            lossy: args.lossy,
            resolve_placeholders: args.resolve_placeholders,
        },
    };
    out.errors(lowered.problems.iter().map(String::as_str));
    if let Some(dir) = &args.out {
        crate::write::sweep_stale_temporaries(dir);
    }
    // Each rule is compiled, written and dropped before the next: the
    // artifacts of thousands of rules are megabytes (a Sentinel rule is a
    // YAML document and an ARM template), and holding them all would only
    // add to the memory the process must touch. What goes to stderr is
    // kept for after the loop, in the order it always had: every warning,
    // then every error.
    let mut sink = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut written = Ok(());
    let (mut total, mut compiled) = (0, 0);
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for i in reported(&lowered) {
        let result = artifacts_with(&lowered, i, args.target, pipeline, schedule, options);
        total += 1;
        if let Ok(files) = &result {
            compiled += 1;
            warnings.extend(files.iter().flat_map(|file| &file.warnings).cloned());
        }
        if written.is_err() {
            continue;
        }
        let rule = &lowered.rules[i];
        let id = Field::Text(rule.key());
        let title = Field::Text(&rule.title);
        let path = Field::Text(&rule.path);
        written = match (&result, &args.out, args.format) {
            (Err(e), _, CompileFormat::Jsonl) if args.out.is_none() => {
                let error = Field::Text(&e.message);
                write_record(
                    &mut sink,
                    &[
                        ("error", error),
                        ("id", id),
                        ("path", path),
                        ("target", Field::Text(target)),
                        ("title", title),
                    ],
                )
            }
            (Err(e), _, _) => {
                errors.push(located(&lowered, rule, e));
                Ok(())
            }
            (Ok(files), Some(dir), _) => {
                for file in files {
                    let path = dir.join(format!("{}{}", stem(rule), file.suffix));
                    crate::write::atomic_write(&path, file.text.as_bytes())
                        .map_err(|e| format!("{}: {e}", crate::source::display_path(&path)))?;
                }
                Ok(())
            }
            // One YAML stream: each rule's documents after a separator.
            (Ok(files), None, CompileFormat::Text) if args.target == Target::Sigma => files
                .iter()
                .try_for_each(|file| write!(sink, "---\n{}", file.text)),
            (Ok(files), None, CompileFormat::Text) => files
                .iter()
                .try_for_each(|file| writeln!(sink, "{}", file.text)),
            (Ok(files), None, CompileFormat::Jsonl) => {
                // The query itself for KQL; the deployable document otherwise
                // (for Sentinel, the YAML rule, with its ARM template beside it).
                let output = Field::Text(files[0].query_or_text());
                let mut fields = Vec::with_capacity(6);
                if let Some(arm) = files.get(1) {
                    fields.push(("arm", Field::PrettyJson(&arm.text)));
                }
                fields.extend([
                    ("id", id),
                    ("output", output),
                    ("path", path),
                    ("target", Field::Text(target)),
                    ("title", title),
                ]);
                write_record(&mut sink, &fields)
            }
        };
    }
    let failed = (total - compiled) + lowered.problems.len();
    out.warnings(warnings.iter().map(String::as_str));
    out.errors(errors.iter().map(String::as_str));
    out.end_stream(written.and_then(|()| sink.flush()))?;
    out.note(&format!(
        "compiled {compiled} of {total} rules for {target} ({}), {failed} failed{}",
        if args.target == Target::Sigma {
            "specification v2.1"
        } else {
            pipeline.name.as_str()
        },
        args.out
            .as_ref()
            .map(|d| format!(", into {}", crate::source::display_path(d)))
            .unwrap_or_default()
    ));
    let code = if failed > 0 {
        exit_code::FINDINGS
    } else {
        exit_code::CLEAN
    };
    super::release_at_exit(lowered);
    Ok(code)
}

/// A value in a JSON Lines record.
enum Field<'a> {
    Text(&'a str),
    /// JSON text as `serde_json` pretty-prints it, written on one line.
    PrettyJson(&'a str),
}

/// One JSON Lines record, its keys given in sorted order (the order
/// `serde_json` writes a map in, which the records have always had).
fn write_record(
    sink: &mut impl std::io::Write,
    fields: &[(&str, Field<'_>)],
) -> std::io::Result<()> {
    sink.write_all(b"{")?;
    for (n, (key, value)) in fields.iter().enumerate() {
        if n > 0 {
            sink.write_all(b",")?;
        }
        write_json_string(sink, key)?;
        sink.write_all(b":")?;
        match value {
            Field::Text(text) => write_json_string(sink, text)?,
            Field::PrettyJson(text) => write_compact(sink, text)?,
        }
    }
    sink.write_all(b"}\n")
}

/// Pretty-printed JSON on one line, as `serde_json` writes it compactly:
/// the whitespace between tokens dropped, strings copied as they are (a
/// string holds no raw whitespace but the spaces of its text, which stay).
/// The ARM template of a Sentinel rule is already text; reading it back
/// into a value only to write it again took a parse, a tree of values and
/// a serialisation per rule.
fn write_compact(sink: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    let bytes = text.as_bytes();
    let (mut in_string, mut escaped) = (false, false);
    let mut run = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if byte == b'"' {
            in_string = true;
        } else if matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
            if run < at {
                sink.write_all(&bytes[run..at])?;
            }
            run = at + 1;
        }
    }
    sink.write_all(&bytes[run..])
}

/// A JSON string, escaped byte for byte as `serde_json` escapes it. The
/// output is megabytes of query text with hardly anything to escape but
/// line ends, so the text is copied in runs between the characters to
/// escape: found by a vectorised search when line ends, quotes and
/// backslashes are the only ones, else eight bytes at a time.
fn write_json_string(sink: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // Whether any byte of `word` is a control character, a quote or a
    // backslash (the classic "has a byte below n / equal to b" tricks).
    let needs_escape = |word: u64| {
        let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
        let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        below_space
            | zero_byte(word ^ (ONES * u64::from(b'"')))
            | zero_byte(word ^ (ONES * u64::from(b'\\')))
            != 0
    };
    let bytes = text.as_bytes();
    sink.write_all(b"\"")?;
    // A query's only characters to escape are, as a rule, its line ends
    // (and the odd quote or backslash): a vectorised search finds them.
    // Text with any other control character takes the loop below. The
    // check is branch-free over the bytes, so the compiler vectorises it.
    let other_controls = bytes
        .iter()
        .fold(false, |any, &b| any | ((b < 0x20) & (b != b'\n')));
    if !other_controls {
        let mut run = 0;
        for at in memchr::memchr3_iter(b'\n', b'"', b'\\', bytes) {
            sink.write_all(&bytes[run..at])?;
            sink.write_all(match bytes[at] {
                b'\n' => b"\\n",
                b'"' => b"\\\"",
                _ => b"\\\\",
            })?;
            run = at + 1;
        }
        sink.write_all(&bytes[run..])?;
        return sink.write_all(b"\"");
    }
    let (mut run, mut at) = (0, 0);
    while at < bytes.len() {
        if let Some(chunk) = bytes.get(at..at + 8)
            && let Ok(word) = <[u8; 8]>::try_from(chunk)
            && !needs_escape(u64::from_ne_bytes(word))
        {
            at += 8;
            continue;
        }
        // `\u00XX` for the control characters without a short escape.
        let mut unicode = *b"\\u0000";
        let escape: &[u8] = match bytes[at] {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            byte if byte < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                unicode[4] = HEX[usize::from(byte >> 4)];
                unicode[5] = HEX[usize::from(byte & 0xf)];
                &unicode
            }
            _ => {
                at += 1;
                continue;
            }
        };
        sink.write_all(&bytes[run..at])?;
        sink.write_all(escape)?;
        at += 1;
        run = at;
    }
    sink.write_all(&bytes[run..])?;
    sink.write_all(b"\"")
}

/// A compile error as `file:line:col: rule `id`: message`, at the field the
/// message names when the rule's detection has it, else at the rule's title.
fn located(lowered: &Lowered, rule: &crate::logic::RuleLogic, e: &CompileError) -> String {
    let Some(model) = lowered.model_of(rule) else {
        return e.to_string();
    };
    let named_field = e
        .message
        .split('`')
        .nth(1)
        .filter(|_| e.message.starts_with("field `"));
    let items = || {
        model
            .detection
            .iter()
            .flat_map(|d| &d.identifiers)
            .flat_map(|i| i.search.items())
    };
    let span = named_field
        .and_then(|field| {
            items()
                .find(|item| item.field.as_deref() == Some(field))
                .map(|item| item.field_span)
        })
        .or_else(|| refused_watchlist_value(items(), &e.message))
        .or_else(|| schedule_key(&model.root, &e.message))
        .unwrap_or_else(|| model.anchor_span());
    let at = model.file.line_col(span.start);
    format!(
        "{}:{}:{}: rule `{}`: {}",
        e.path, at.line, at.column, e.rule, e.message
    )
}

/// Where a rule's own schedule is wrong (``"schedule.period `..`"``): the
/// value of that key in its `schedule:` block.
fn schedule_key(root: &crate::source::yaml::Node, message: &str) -> Option<crate::source::Span> {
    let key = message.strip_prefix("schedule.")?.split_once(' ')?.0;
    Some(root.get("schedule")?.get(key)?.span)
}

/// Where a `--watchlists` refusal (``"`%name%` cannot be read from ..."``)
/// points: the value naming the list that the reason quotes, or the one
/// under the modifier it names, else the first value naming the list.
fn refused_watchlist_value<'a>(
    items: impl Iterator<Item = &'a crate::model::Item>,
    message: &str,
) -> Option<crate::source::Span> {
    let (placeholder, rest) = message
        .strip_prefix('`')?
        .split_once("` cannot be read from the Sentinel watchlist")?;
    let reason = rest.split_once(": ").map_or(rest, |(_, reason)| reason);
    let mut first = None;
    for item in items {
        let by_modifier = item
            .modifiers
            .iter()
            .any(|m| reason.contains(&format!("`|{}`", m.name)));
        for value in &item.values {
            if !value.scalar.text.contains(placeholder) {
                continue;
            }
            if by_modifier || reason.contains(&format!("`{}`", value.scalar.text)) {
                return Some(value.span);
            }
            first.get_or_insert(value.span);
        }
    }
    first
}

/// The comments naming a rule above its query in a `.kql` file.
/// The comment lines that open a `.kql` artifact, in a string with room
/// for `more` bytes after them (the query): built for thousands of rules,
/// it is sized once rather than grown line by line.
fn header(rule: &crate::logic::RuleLogic, more: usize) -> String {
    let key = rule.key();
    let mut out = String::with_capacity(rule.title.len() + key.len() + rule.path.len() + 32 + more);
    for (label, text) in [("// ", rule.title.as_str()), ("// id: ", key)] {
        out.push_str(label);
        // A comment line ends at a newline: one inside the text is a space.
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str("// source: ");
    out.push_str(&rule.path);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    /// Pretty JSON written on one line is what `serde_json` writes
    /// compactly, whatever the strings hold.
    #[test]
    fn pretty_json_is_written_as_serde_json_writes_it_compactly() {
        let value = serde_json::json!({
            "name": "a \"quoted\" name, with: spaces\tand\\ \n escapes",
            "empty": {}, "none": [], "list": [1, 2.5, -3, true, null, "x y"],
            "nested": {"b": [{"c": " "}], "d": "}{ ]["}
        });
        let pretty = serde_json::to_string_pretty(&value).expect("json");
        let mut compact = Vec::new();
        super::write_compact(&mut compact, &pretty).expect("write");
        assert_eq!(
            String::from_utf8(compact).expect("utf-8"),
            serde_json::to_string(&value).expect("json")
        );
    }

    /// A title or id over several lines stays inside its comment line.
    #[test]
    fn the_header_keeps_each_field_on_its_comment_line() {
        let rule = crate::logic::RuleLogic {
            id: Some("one\ntwo".into()),
            name: None,
            title: "Title\nover\nlines".into(),
            path: "rules/a.yml".into(),
            document: 0,
            level: None,
            logsource: crate::model::LogSource {
                product: None,
                category: None,
                service: None,
            },
            taxonomy: None,
            body: crate::logic::Body::Detection(crate::logic::Expr::Const(true)),
            hidden: false,
        };
        assert_eq!(
            super::header(&rule, 0),
            "// Title over lines\n// id: one two\n// source: rules/a.yml\n"
        );
    }

    /// Records escape strings exactly as `serde_json` does, whatever the
    /// characters and wherever they fall against the eight-byte steps.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut texts: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        texts.extend(
            [
                "",
                "plain query text, long enough for several steps",
                "DeviceProcessEvents\n| where FolderPath endswith @'\\cmd.exe'",
                "quote \" in the middle of a long run of bytes",
                "é ü ß 漢字 \u{1F600} \u{7f}\u{80}\u{2028}",
            ]
            .map(String::from),
        );
        for offset in 0..9 {
            for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "\t"] {
                for filler in ["x", "é", "\u{ff}"] {
                    texts.push(format!(
                        "{}{special}{}",
                        filler.repeat(offset),
                        "y".repeat(9)
                    ));
                }
            }
        }
        for text in texts {
            let mut out = Vec::new();
            super::write_json_string(&mut out, &text).expect("writing to memory");
            let expected = serde_json::to_string(&text).expect("a string serialises");
            assert_eq!(String::from_utf8_lossy(&out), expected, "{text:?}");
        }
    }
}
