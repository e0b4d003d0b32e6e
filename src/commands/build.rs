//! `stetho build`: the CI job. Validate, test, then compile every target
//! into `dist/`, replacing the old folder only when everything passed.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::Digest;

use crate::backend::deploy;
use crate::backend::kql::KqlOptions;
use crate::cli::{BuildArgs, Cli, ReportFormat, Target, TestArgs, TestFormat, ValidateArgs};
use crate::commands::Output;
use crate::exit_code;

/// What is built: a target, the pipeline it reads, and its folder in dist/.
const BUILDS: &[(Target, &str, &str)] = &[
    (Target::Kql, "defender_xdr", "kql/defender_xdr"),
    (Target::Kql, "sentinel", "kql/sentinel"),
    (Target::Defender, "defender_xdr", "defender"),
    (Target::Sentinel, "sentinel", "sentinel"),
    (Target::Sigma, "defender_xdr", "sigma"),
];

pub fn run(cli: &Cli, args: &BuildArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let schedule = super::default_schedule(args.frequency.as_deref(), &project)?;
    out.note("== validate");
    let validate = super::validate::run(
        cli,
        &ValidateArgs {
            paths: Vec::new(),
            format: ReportFormat::Human,
            profile: None,
            strict: false,
            changed_since: None,
        },
        out,
    )?;
    out.note("== test");
    let test = super::test::run(
        cli,
        &TestArgs {
            paths: Vec::new(),
            fixtures: None,
            format: TestFormat::Human,
            profile: None,
            accept: false,
            ids: Vec::new(),
            tags: Vec::new(),
            changed_since: None,
        },
        out,
    )?;
    out.note("== compile");
    let paths = super::rule_paths(&[], &project, "build")?;
    let lowered = super::lower(&paths, &project, crate::load::Keep::Documents)?;
    remove_stale_staging(&args.out);
    let staging = sibling(&args.out, "tmp");
    let _ = std::fs::remove_dir_all(&staging);
    let staging_guard = crate::interrupt::InFlight::register(&staging);
    let mut artifacts = Vec::new();
    let mut skipped = Vec::new();
    let mut failures = lowered.problems.clone();
    // The lists that deployed Sentinel rules read from watchlists.
    let mut watchlists = std::collections::BTreeSet::new();
    for &(target, pipeline_name, folder) in BUILDS {
        let pipeline = lowered
            .pipelines
            .get(pipeline_name)
            .map_err(|e| e.to_string())?;
        let target_name = super::compile::target_name(target);
        let options = super::compile::Options {
            kql: KqlOptions {
                watchlists: args.watchlists
                    && super::compile::watchlists_apply(target, pipeline_name).is_ok(),
            },
            ..Default::default()
        };
        for index in super::compile::reported(&lowered) {
            let rule = &lowered.rules[index];
            match super::compile::artifacts_with(
                &lowered, index, target, pipeline, schedule, options,
            ) {
                Ok(files) => {
                    if target == Target::Sentinel && options.kql.watchlists {
                        watchlists
                            .extend(crate::backend::kql::watchlists_read(&lowered.rules, index));
                    }
                    for file in files {
                        let relative =
                            format!("{folder}/{}{}", super::compile::stem(rule), file.suffix);
                        let path = staging.join(&relative);
                        crate::write::atomic_write(&path, file.text.as_bytes())
                            .map_err(|e| format!("{}: {e}", crate::source::display_path(&path)))?;
                        artifacts.push(json!({
                            "rule_id": rule.key(),
                            "title": rule.title,
                            "path": rule.path,
                            "target": target_name,
                            "pipeline": pipeline_name,
                            "file": relative,
                            "sha256": hex(&sha2::Sha256::digest(file.text.as_bytes())),
                        }));
                    }
                }
                // A clinical source has no Defender table, a correlation is
                // no custom detection, standard Sigma has no `nhs_number`:
                // not deployable there, and not a failure.
                Err(e) if e.not_applicable => {
                    skipped.push(json!({
                        "rule_id": rule.key(),
                        "target": target_name,
                        "pipeline": pipeline_name,
                        "reason": e.message,
                    }));
                }
                Err(e) => failures.push(format!("{target_name} ({pipeline_name}): {e}")),
            }
        }
    }
    let mut watchlist_files = Vec::new();
    // Named from the project's root, so `dist/` is the same on every machine.
    let lists_dir = project
        .root
        .as_deref()
        .and_then(|root| project.lists.strip_prefix(root).ok())
        .unwrap_or(&project.lists)
        .to_string_lossy()
        .replace('\\', "/");
    for name in watchlists {
        let entries: Vec<String> = lowered
            .lists
            .get(name)
            .unwrap_or_default()
            .iter()
            .filter_map(|entry| match crate::logic::Pattern::parse(entry) {
                // Every entry of a list read whole is one value (a wildcard
                // would have failed the rule).
                crate::logic::Pattern::Exact(value) => Some(value),
                _ => None,
            })
            .collect();
        let list = format!("{lists_dir}/{name}.txt");
        let text = super::compile::pretty(&deploy::sentinel_watchlist(name, &list, &entries));
        let relative = format!("sentinel/watchlists/{name}.arm.json");
        let path = staging.join(&relative);
        crate::write::atomic_write(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", crate::source::display_path(&path)))?;
        watchlist_files.push(json!({
            "watchlist": name,
            "list": list,
            "file": relative,
            "sha256": hex(&sha2::Sha256::digest(text.as_bytes())),
        }));
    }
    for failure in &failures {
        out.error(failure);
    }
    let index = json!({
        "stetho": env!("CARGO_PKG_VERSION"),
        "artifacts": artifacts,
        "skipped": skipped,
        "watchlists": watchlist_files,
    });
    let mut text = serde_json::to_string_pretty(&index).unwrap_or_default();
    text.push('\n');
    crate::write::atomic_write(&staging.join("index.json"), text.as_bytes())
        .map_err(|e| format!("{}: {e}", crate::source::display_path(&staging)))?;

    let passed = validate == exit_code::CLEAN && test == exit_code::CLEAN && failures.is_empty();
    if !passed {
        let _ = std::fs::remove_dir_all(&staging);
        out.print(&format!(
            "build failed: {}; {} left as it was\n",
            [
                (validate != exit_code::CLEAN).then_some("invalid rules"),
                (test != exit_code::CLEAN).then_some("failed tests"),
                (!failures.is_empty()).then_some("rules that do not compile"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            crate::source::display_path(&args.out)
        ));
        return Ok(exit_code::FINDINGS);
    }
    drop(staging_guard);
    crate::write::replace_dir(&staging, &args.out, &sibling(&args.out, "old"))
        .map_err(|e| format!("{}: {e}", crate::source::display_path(&args.out)))?;
    out.print(&format!(
        "built {} artifacts for {} rules into {} ({} skipped: not deployable to that target)\n",
        artifacts.len(),
        super::compile::reported(&lowered).len(),
        crate::source::display_path(&args.out),
        skipped.len()
    ));
    Ok(exit_code::CLEAN)
}

/// `dist` -> `.dist.tmp-<pid>` next to it (same file system, so renames
/// are atomic).
fn sibling(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dist".into());
    dir.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// A build killed outright (SIGKILL, power loss) cannot clean up after
/// itself: its staging folders stay next to `dist`. Remove those whose
/// process is gone; a concurrent build's folders are left alone.
fn remove_stale_staging(dir: &Path) {
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let pid = ["tmp", "old"].iter().find_map(|what| {
            file_name
                .strip_prefix(&format!(".{name}.{what}-"))
                .and_then(|pid| pid.parse::<u32>().ok())
        });
        if let Some(pid) = pid
            && pid != std::process::id()
            && !process_alive(pid)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_: u32) -> bool {
    true
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
