//! `stetho new`: write a scaffolded rule, its fixtures and a playbook stub
//! (see [`crate::scaffold`]).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::cli::{Cli, NewArgs};
use crate::commands::Output;
use crate::exit_code;
use crate::model::LogSource;
use crate::scaffold::{self, Spec};

/// Ask on the terminal, or fail with what flag to give.
fn ask(question: &str, flag: &str) -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!("{flag} is required when not on a terminal"));
    }
    eprint!("{question}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let answer = line.trim().to_string();
    if answer.is_empty() {
        return Err(format!("{flag} is required"));
    }
    Ok(answer)
}

fn parse_logsource(text: &str) -> Result<LogSource, String> {
    let parts: Vec<&str> = text.split('/').collect();
    let part = |i: usize| {
        parts
            .get(i)
            .filter(|p| !p.is_empty())
            .map(|p| p.to_string())
    };
    let ls = LogSource {
        product: part(0),
        category: part(1),
        service: part(2),
    };
    if parts.len() > 3 || ls.specificity() == 0 {
        return Err(format!(
            "--logsource `{text}`: expected product/category or product//service"
        ));
    }
    Ok(ls)
}

pub fn run(cli: &Cli, args: &NewArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let root = project.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let title = match &args.title {
        Some(t) => t.clone(),
        None => ask("Title", "--title")?,
    };
    let logsource = match &args.logsource {
        Some(l) => parse_logsource(l)?,
        None => parse_logsource(&ask(
            "Log source (product/category or product//service)",
            "--logsource",
        )?)?,
    };
    // The fixture shape: the first pipeline with a table for the log
    // source, in the order a healthcare SOC deploys to.
    let pipelines = crate::pipeline::Pipelines::load(Some(&root.join("pipelines")))
        .map_err(|e| e.to_string())?;
    let table = ["defender_xdr", "healthcare", "sentinel"]
        .iter()
        .filter_map(|name| pipelines.get(name).ok())
        .find_map(|p| {
            p.source_for(&logsource)
                .map(|s| (p.name.clone(), s.clone()))
        });
    let catalogues = crate::catalogue::FieldCatalogues::load(Some(&project.fields));
    let (schema, taxonomy) = match &table {
        Some((pipeline, source)) => (
            format!("{pipeline}.{}", source.table),
            Some("stetho".to_string()),
        ),
        None => ("sigma".to_string(), None),
    };
    let timestamp = table
        .as_ref()
        .map_or_else(|| "Timestamp".to_string(), |(_, s)| s.timestamp.clone());
    let constants = table
        .as_ref()
        .map(|(_, s)| {
            s.where_
                .iter()
                .filter_map(|(column, values)| Some((column.clone(), values.first()?.clone())))
                .collect()
        })
        .unwrap_or_default();
    let fields = catalogues
        .for_logsource(&logsource)
        .map(|c| c.fields_for(taxonomy.as_deref()).to_vec())
        .unwrap_or_default();
    let spec = Spec {
        title,
        logsource,
        area: args.area.clone(),
        today: crate::validate::today(),
        schema,
        taxonomy,
        fields,
        timestamp,
        constants,
    };
    let slug = scaffold::slug(&spec.title);
    let id = uuid::Uuid::new_v4().hyphenated().to_string();
    let rule_path = root
        .join("detections")
        .join(&spec.area)
        .join(format!("{slug}.yml"));
    let fixtures = project.fixtures.join(&spec.area);
    let files: Vec<(PathBuf, String, bool)> = vec![
        (
            rule_path.clone(),
            canonical(scaffold::rule(&spec, &id)),
            true,
        ),
        (
            fixtures.join(format!("{slug}_tp.ndjson")),
            scaffold::fixture(&spec, true),
            true,
        ),
        (
            fixtures.join(format!("{slug}_near_miss.ndjson")),
            scaffold::fixture(&spec, false),
            true,
        ),
        (
            root.join("playbooks").join(format!("{slug}.md")),
            scaffold::playbook(&spec),
            false,
        ),
    ];
    for (path, _, required) in &files {
        if *required && path.exists() && !args.force {
            return Err(format!(
                "{} exists; choose another title or pass --force",
                crate::source::display_path(path)
            ));
        }
    }
    let mut written = Vec::new();
    for (path, text, required) in &files {
        if !required && path.exists() {
            continue;
        }
        write(path, text)?;
        written.push(crate::source::display_path(path));
    }
    out.print(&format!(
        "{}\nnext: write the detection and the fixtures, then `stetho validate {}` and `stetho test {}`\n",
        written
            .iter()
            .map(|w| format!("created {w}"))
            .collect::<Vec<_>>()
            .join("\n"),
        crate::source::display_path(&rule_path),
        crate::source::display_path(&rule_path)
    ));
    Ok(exit_code::CLEAN)
}

/// The scaffold in the layout `stetho fmt` writes, so a new rule passes
/// `stetho fmt --check` as it is (the template stays readable as written).
fn canonical(rule: String) -> String {
    crate::format::format_text(&rule).unwrap_or(rule)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::write::atomic_write(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", crate::source::display_path(path)))
}
