//! `stetho fixture import` and `stetho fixture scrub`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::cli::{Cli, FixtureCommand, FixtureImportArgs, FixtureScrubArgs};
use crate::commands::Output;
use crate::exit_code;
use crate::fixture::{import, scrub};
use crate::settings::Project;

pub fn run(cli: &Cli, command: &FixtureCommand, out: &Output) -> Result<u8, String> {
    match command {
        FixtureCommand::Import(args) => run_import(cli, args, out),
        FixtureCommand::Scrub(args) => run_scrub(cli, args, out),
    }
}

/// A warning on stderr (shown even with `--quiet`).
fn warn(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// An export or recording (`-`: stdin) as events are read everywhere:
/// `.gz` decompressed, UTF-16 and byte order marks decoded to UTF-8.
fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let shown = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        crate::source::display_path(path)
    };
    let mut bytes = Vec::new();
    crate::events::open(path, None)
        .and_then(|mut input| input.read_to_end(&mut bytes))
        .map_err(|e| format!("{shown}: {e}"))?;
    Ok(bytes)
}

/// Refuse to replace an existing file unless forced.
fn check_out(out: Option<&Path>, force: bool) -> Result<(), String> {
    match out {
        Some(p) if p.exists() && !force => Err(format!(
            "{} exists; use --force to overwrite it",
            crate::source::display_path(p)
        )),
        _ => Ok(()),
    }
}

fn emit(text: &str, target: Option<&Path>, out: &Output) -> Result<(), String> {
    match target {
        Some(path) => crate::write::atomic_write(path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", crate::source::display_path(path))),
        None => {
            out.print(text);
            Ok(())
        }
    }
}

fn pipelines_of(project: &Project) -> Result<crate::pipeline::Pipelines, String> {
    crate::pipeline::Pipelines::load(
        project
            .root
            .as_ref()
            .map(|r| r.join("pipelines"))
            .as_deref(),
    )
    .map_err(|e| e.to_string())
}

/// The schema of a recording: its first-line header, else (for a file in
/// a folder) a sidecar or folder defaults header, else `sigma`.
fn recording_schema(
    project: &Project,
    path: &Path,
    text: &str,
) -> Result<crate::replay::Schema, String> {
    let shown = crate::source::display_path(path);
    let first = scrub::schema_of(text).map_err(|e| format!("{shown}: {e}"))?;
    if first != crate::replay::Schema::Sigma || path.as_os_str() == "-" {
        return Ok(first);
    }
    let Ok(file) = path.canonicalize() else {
        return Ok(first);
    };
    let fixtures = project.fixtures.canonicalize().ok();
    let root = match fixtures {
        Some(dir) if file.starts_with(&dir) => dir,
        _ => match file.parent() {
            Some(parent) => parent.to_path_buf(),
            None => return Ok(first),
        },
    };
    let found = crate::fixture::discover::discover(&root);
    let schema = found
        .fixtures
        .iter()
        .find(|f| f.path.canonicalize().is_ok_and(|p| p == file))
        .and_then(|f| f.header.schema.clone());
    match schema {
        Some(s) => crate::replay::Schema::parse(&s).map_err(|e| format!("{shown}: {e}")),
        None => Ok(first),
    }
}

/// Scrub `text` with the rules' fields kept and their hits checked.
/// `Ok(None)`: the self-check found changed hits and nothing may be written.
#[allow(clippy::too_many_arguments)]
fn scrub_checked(
    project: &Project,
    file: &str,
    schema: &crate::replay::Schema,
    text: &str,
    keep: &[String],
    rule_paths: &[PathBuf],
    force: bool,
    out: &Output,
) -> Result<Option<scrub::Scrubbed>, String> {
    let paths: Vec<PathBuf> = if !rule_paths.is_empty() {
        rule_paths.to_vec()
    } else if project.root.is_some() {
        project.rules.clone()
    } else {
        Vec::new()
    };
    let (rules, pipelines) = if paths.is_empty() {
        (Vec::new(), pipelines_of(project)?)
    } else {
        let lowered = super::lower(&paths, project, crate::load::Keep::Logic)?;
        for problem in &lowered.problems {
            warn(&format!("{problem} (rule not used)"));
        }
        (lowered.rules, lowered.pipelines)
    };
    let options = scrub::Options {
        keep: keep.iter().cloned().collect::<BTreeSet<_>>(),
        rule_fields: scrub::rule_fields(&rules, &pipelines, schema),
    };
    let scrubbed = scrub::scrub(file, text, &options).map_err(|e| e.to_string())?;
    if !scrubbed.kept_for_rules.is_empty() {
        out.note(&format!(
            "kept fields the rules test: {} (only NHS numbers, e-mail addresses and public IPs replaced in them)",
            scrubbed.kept_for_rules.join(", ")
        ));
    }
    if rules.is_empty() {
        out.note("no rules (no stetho.toml and no --rules): self-check skipped");
        return Ok(Some(scrubbed));
    }
    let differences = scrub::self_check(&rules, &pipelines, schema, text, &scrubbed.text)?;
    if differences.is_empty() {
        return Ok(Some(scrubbed));
    }
    for d in &differences {
        out.error(&format!("{file}: {d}"));
    }
    if force {
        warn("scrubbing changes rule hits; written anyway (--force)");
        return Ok(Some(scrubbed));
    }
    out.error(&format!(
        "{file}: scrubbing would change which rules hit; nothing written (leave the field as it is with --keep FIELD, or write anyway with --force)"
    ));
    Ok(None)
}

fn summary(s: &scrub::Scrubbed) -> String {
    let c = &s.counts;
    format!(
        "scrubbed {} events: {} NHS numbers, {} e-mails, {} IPs, {} names, {} hosts",
        s.events, c.nhs, c.emails, c.ips, c.names, c.hosts
    )
}

fn run_import(cli: &Cli, args: &FixtureImportArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    check_out(args.out.as_deref(), args.force)?;
    let file = crate::source::display_path(&args.export);
    let bytes = read_input(&args.export)?;
    let pipelines = pipelines_of(&project)?;
    let imported = import::import(
        &file,
        &bytes,
        &import::Options {
            schema: args.schema.as_deref(),
            description: args.description.as_deref(),
        },
        &pipelines,
    )
    .map_err(|e| e.to_string())?;
    for w in &imported.warnings {
        warn(&format!("{file}: {w}"));
    }
    let events = imported.rows.len();
    let text = if args.scrub {
        let schema = crate::replay::Schema::parse(&imported.schema).map_err(|e| e.to_string())?;
        match scrub_checked(
            &project,
            &file,
            &schema,
            &imported.text,
            &[],
            &args.rules,
            args.force,
            out,
        )? {
            Some(scrubbed) => {
                out.note(&summary(&scrubbed));
                scrubbed.text
            }
            None => return Ok(exit_code::FINDINGS),
        }
    } else {
        let real = import::real_nhs_numbers(&imported);
        if !real.is_empty() {
            for r in &real {
                let at =
                    r.at.map_or_else(|| " header".to_string(), |a| a.to_string());
                out.error(&format!(
                    "{file}:{at}: a checksum-valid NHS number outside the 999 test range ({}); fixtures must not hold patient identifiers",
                    r.masked
                ));
            }
            out.error(&format!(
                "{file}: nothing written; import with --scrub to replace them with 999-range numbers"
            ));
            return Ok(exit_code::FINDINGS);
        }
        imported.text
    };
    emit(&text, args.out.as_deref(), out)?;
    out.note(&format!(
        "imported {events} events from {file} as {}",
        imported.schema
    ));
    Ok(exit_code::CLEAN)
}

fn run_scrub(cli: &Cli, args: &FixtureScrubArgs, out: &Output) -> Result<u8, String> {
    if args.in_place && args.file.as_os_str() == "-" {
        return Err("--in-place needs a file, not stdin".into());
    }
    let project = super::project(cli)?;
    check_out(args.out.as_deref(), args.force)?;
    let file = crate::source::display_path(&args.file);
    let bytes = read_input(&args.file)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{file}: not UTF-8 text"))?;
    let schema = recording_schema(&project, &args.file, &text)?;
    let Some(scrubbed) = scrub_checked(
        &project,
        &file,
        &schema,
        &text,
        &args.keep,
        &args.rules,
        args.force,
        out,
    )?
    else {
        return Ok(exit_code::FINDINGS);
    };
    let target = if args.in_place {
        Some(args.file.as_path())
    } else {
        args.out.as_deref()
    };
    emit(&scrubbed.text, target, out)?;
    out.note(&summary(&scrubbed));
    Ok(exit_code::CLEAN)
}
