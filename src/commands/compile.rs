//! `stetho compile`: rules to KQL hunting queries, Defender XDR custom
//! detections, Sentinel analytics rules or standard Sigma.

use std::fmt::Write as _;

use crate::backend::deploy::{self, Meta, Schedule};
use crate::backend::sigma::SigmaOptions;
use crate::backend::{CompileError, kql};
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
    /// The bare query, for a `.kql` file (whose text adds a header), so
    /// JSON Lines output need not compile the rule again.
    pub query: Option<String>,
    pub warnings: Vec<String>,
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
        SigmaOptions::default(),
    )
}

/// [`artifacts`], with the options of the Sigma export.
pub fn artifacts_with(
    lowered: &Lowered,
    index: usize,
    target: Target,
    pipeline: &Pipeline,
    schedule: Schedule,
    sigma: SigmaOptions,
) -> Result<Vec<Artifact>, CompileError> {
    let rules = &lowered.rules;
    let meta = || Meta::of(&rules[index], lowered.model_of(&rules[index]));
    // Sigma is exported from the rule document, not from the KQL.
    let query = match target {
        Target::Sigma => String::new(),
        _ => kql::compile(rules, index, pipeline)?,
    };
    Ok(match target {
        Target::Sigma => {
            let export = crate::backend::sigma::export(lowered, index, sigma)?;
            vec![Artifact {
                suffix: ".yml",
                text: export.text,
                query: None,
                warnings: export.warnings,
            }]
        }
        Target::Kql => vec![Artifact {
            suffix: ".kql",
            text: format!("{}\n", with_header(&rules[index], &query)),
            query: Some(query),
            warnings: Vec::new(),
        }],
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

fn pretty(value: &serde_json::Value) -> String {
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
    let lowered = super::lower(&paths, &project)?;
    let pipeline = lowered
        .pipelines
        .get(&args.pipeline)
        .map_err(|e| e.to_string())?;
    let schedule = Schedule::parse(&args.frequency)?;
    let target = target_name(args.target);
    if args.target != Target::Sigma && (args.lossy || args.resolve_placeholders) {
        return Err("--lossy and --resolve-placeholders apply to --target sigma only".into());
    }
    let sigma = SigmaOptions {
        lossy: args.lossy,
        resolve_placeholders: args.resolve_placeholders,
    };
    let results: Vec<(usize, Result<Vec<Artifact>, CompileError>)> = reported(&lowered)
        .into_iter()
        .map(|i| {
            let result = artifacts_with(&lowered, i, args.target, pipeline, schedule, sigma);
            (i, result)
        })
        .collect();
    let failed = results.iter().filter(|(_, r)| r.is_err()).count() + lowered.problems.len();
    for problem in &lowered.problems {
        out.error(problem);
    }
    for file in results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
    {
        for warning in &file.warnings {
            let line = format!("warning: {warning}\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        }
    }
    if let Some(dir) = &args.out {
        crate::write::sweep_stale_temporaries(dir);
    }
    let mut text = String::new();
    for (i, result) in &results {
        let rule = &lowered.rules[*i];
        match (result, &args.out, args.format) {
            (Err(e), _, CompileFormat::Jsonl) if args.out.is_none() => {
                let record = serde_json::json!({
                    "id": rule.key(), "title": rule.title, "path": rule.path,
                    "target": target, "error": e.message,
                });
                let _ = writeln!(text, "{record}");
            }
            (Err(e), _, _) => out.error(&located(&lowered, rule, e)),
            (Ok(files), Some(dir), _) => {
                for file in files {
                    let path = dir.join(format!("{}{}", stem(rule), file.suffix));
                    crate::write::atomic_write(&path, file.text.as_bytes())
                        .map_err(|e| format!("{}: {e}", crate::source::display_path(&path)))?;
                }
            }
            (Ok(files), None, CompileFormat::Text) if args.target == Target::Sigma => {
                // One YAML stream: each rule's documents after a separator.
                for file in files {
                    let _ = write!(text, "---\n{}", file.text);
                }
            }
            (Ok(files), None, CompileFormat::Text) => {
                for file in files {
                    let _ = writeln!(text, "{}", file.text);
                }
            }
            (Ok(files), None, CompileFormat::Jsonl) => {
                let mut record = serde_json::json!({
                    "id": rule.key(), "title": rule.title, "path": rule.path, "target": target,
                });
                // The query itself for KQL; the deployable document otherwise
                // (for Sentinel, the YAML rule, with its ARM template beside it).
                let output = match (args.target, &files[0].query) {
                    (Target::Kql, Some(query)) => query.clone(),
                    _ => files[0].text.clone(),
                };
                record["output"] = output.into();
                if let Some(arm) = files.get(1) {
                    record["arm"] =
                        serde_json::from_str::<serde_json::Value>(&arm.text).unwrap_or_default();
                }
                let _ = writeln!(text, "{record}");
            }
        }
    }
    out.print(&text);
    out.note(&format!(
        "compiled {} of {} rules for {target} ({}), {failed} failed{}",
        results.iter().filter(|(_, r)| r.is_ok()).count(),
        results.len(),
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
    super::release_at_exit((lowered, results));
    Ok(code)
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
    let span = named_field
        .and_then(|field| {
            model.detection.as_ref().and_then(|d| {
                d.identifiers
                    .iter()
                    .flat_map(|i| i.search.items())
                    .find(|item| item.field.as_deref() == Some(field))
                    .map(|item| item.field_span)
            })
        })
        .unwrap_or_else(|| model.anchor_span());
    let at = model.file.line_col(span.start);
    format!(
        "{}:{}:{}: rule `{}`: {}",
        e.path, at.line, at.column, e.rule, e.message
    )
}

/// A query under comments naming its rule, as a `.kql` file holds it.
fn with_header(rule: &crate::logic::RuleLogic, query: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// {}", rule.title.replace('\n', " "));
    let _ = writeln!(out, "// id: {}", rule.key().replace('\n', " "));
    let _ = writeln!(out, "// source: {}", rule.path);
    out.push_str(query);
    out
}
