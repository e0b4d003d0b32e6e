//! `stetho replay`.

use std::fmt::Write as _;
use std::time::Instant;

use crate::cli::{Cli, HitFormat, ReplayArgs};
use crate::commands::Output;
use crate::exit_code;
use crate::replay::{self, Options, Schema};

pub fn run(cli: &Cli, args: &ReplayArgs, out: &Output) -> Result<u8, String> {
    let started = Instant::now();
    let project = super::project(cli)?;
    let lowered = super::lower(&args.rules, &project, crate::load::Keep::Logic)?;
    for problem in &lowered.problems {
        out.error(&format!("{problem} (skipped)"));
    }
    let (rules, pipelines) = (lowered.rules, lowered.pipelines);
    if rules.is_empty() {
        return Err("no usable rules".into());
    }
    let schema = args
        .schema
        .as_deref()
        .map(Schema::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let events = event_files(&args.events);
    let progress = progress_bar(&events, out.quiet);
    let options = Options {
        schema,
        timestamp_field: args.timestamp_field.as_deref(),
        keep_events: args.with_event,
        progress: Some(progress.clone()),
    };
    let shown: Vec<String> = events
        .iter()
        .map(|p| crate::source::display_path(p))
        .collect();
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let rule_ids: Vec<String> = rules.iter().map(|r| quote(r.key())).collect();
    let rule_titles: Vec<String> = rules.iter().map(|r| quote(&r.title)).collect();
    let files: Vec<String> = shown.iter().map(|f| quote(f)).collect();
    let mut text = String::new();
    if args.format == HitFormat::Table {
        let _ = writeln!(text, "{:<48} {:<38} TITLE", "EVENT", "RULE");
    }
    let mut digits = itoa::Buffer::new();
    let mut emit = |rule: usize,
                    input: usize,
                    line: Option<usize>,
                    index: usize,
                    event: Option<&serde_json::Value>| {
        let r = &rules[rule];
        match args.format {
            HitFormat::Jsonl => {
                // Written by hand in the documented key order, with the rule
                // and file strings escaped once up front and the numbers
                // written without the formatting machinery: a hunt can
                // print millions of hits.
                for part in [
                    "{\"rule_id\":",
                    &rule_ids[rule],
                    ",\"rule_title\":",
                    &rule_titles[rule],
                    ",\"file\":",
                    &files[input],
                    ",\"line\":",
                ] {
                    text.push_str(part);
                }
                match line {
                    Some(l) => text.push_str(digits.format(l)),
                    None => text.push_str("null"),
                }
                text.push_str(",\"index\":");
                text.push_str(digits.format(index));
                if let Some(e) = event {
                    let _ = write!(text, ",\"event\":{e}");
                }
                text.push_str("}\n");
            }
            HitFormat::Table => {
                let at = match line {
                    Some(l) => format!("{}:{l}", shown[input]),
                    None => format!("{}[{index}]", shown[input]),
                };
                let _ = writeln!(text, "{at:<48} {:<38} {}", r.key(), r.title);
            }
        }
        if text.len() > 1 << 16 {
            out.print(&text);
            text.clear();
        }
    };
    let (stats, correlations) = replay::replay(&rules, &pipelines, &events, &options, &mut |hit| {
        emit(
            hit.rule,
            hit.at.input,
            hit.line,
            hit.at.index,
            hit.event.as_ref(),
        );
    })
    .map_err(|e| e.to_string())?;
    for hit in &correlations {
        let line = (hit.event.line > 0).then_some(hit.event.line);
        emit(hit.rule, hit.event.input, line, hit.event.index, None);
    }
    progress.finish_and_clear();
    out.print(&text);
    for m in &stats.malformed {
        let at = m.line.map_or(String::new(), |l| format!(":{l}"));
        out.error(&format!(
            "{}{at}: malformed event skipped: {}",
            shown[m.input], m.message
        ));
    }
    let seconds = started.elapsed().as_secs_f64();
    let megabytes = stats.bytes as f64 / 1_000_000.0;
    let not_applicable: usize = stats
        .skipped
        .iter()
        .map(|s| s.rules.len())
        .max()
        .unwrap_or(0);
    out.note(&format!(
        "replayed {} events ({megabytes:.1} MB) from {} input{} against {} rules: {} hit{}, {} malformed skipped{}{} in {seconds:.2} s ({:.1} MB/s)",
        stats.events,
        stats.inputs,
        if stats.inputs == 1 { "" } else { "s" },
        rules.iter().filter(|r| !r.hidden).count(),
        stats.hits,
        if stats.hits == 1 { "" } else { "s" },
        stats.malformed.len(),
        if not_applicable > 0 { format!(", {not_applicable} rules not applicable to the schema") } else { String::new() },
        if stats.without_time > 0 { format!(", {} correlation matches without a timestamp", stats.without_time) } else { String::new() },
        if seconds > 0.0 { megabytes / seconds } else { 0.0 },
    ));
    Ok(exit_code::CLEAN)
}

/// A byte-based progress bar over the input files, drawn on stderr only
/// when it is a terminal (indicatif hides it otherwise, e.g. in CI).
fn progress_bar(inputs: &[std::path::PathBuf], quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The inputs with folders expanded: every event file below a folder
/// (NDJSON, JSON, maybe gzipped), sorted by path, hidden folders such as
/// `.snapshots` skipped, so `stetho replay --rules detections test-events`
/// replays a whole recording tree in a stable order.
fn event_files(inputs: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        files.extend(crate::fixture::discover::event_files(input));
    }
    files
}
