//! `stetho test`: replay the fixtures through the rules and judge the
//! cases, the benign sweep and the hit snapshots (see [`crate::harness`]).

use std::io::IsTerminal;

use crate::cli::{Cli, TestArgs, TestFormat};
use crate::commands::Output;
use crate::exit_code;
use crate::harness::{self, report};
use crate::settings::Profile;

pub fn run(cli: &Cli, args: &TestArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "test")?;
    let profile = args.profile.unwrap_or(project.profile);
    let fixtures_dir = args
        .fixtures
        .clone()
        .unwrap_or_else(|| project.fixtures.clone());
    let lowered = super::lower(&paths, &project, crate::load::Keep::Documents)?;
    let rules = &lowered.rules;
    let discovered = crate::fixture::discover::discover(&fixtures_dir);

    let models: Vec<Option<&crate::model::Rule>> =
        rules.iter().map(|r| lowered.model_of(r)).collect();
    let selected: Vec<bool> = rules
        .iter()
        .zip(&models)
        .map(|(rule, model)| {
            let id_ok = args.ids.is_empty()
                || args.ids.iter().any(|id| {
                    [
                        rule.id.as_deref(),
                        rule.name.as_deref(),
                        Some(rule.title.as_str()),
                    ]
                    .contains(&Some(id.as_str()))
                });
            let tags: Vec<&str> = model
                .and_then(|m| m.root.get("tags"))
                .map(|t| t.string_list().into_iter().map(|(t, _)| t).collect())
                .unwrap_or_default();
            let tag_ok = args.tags.is_empty()
                || args
                    .tags
                    .iter()
                    .any(|want| tags.iter().any(|t| t.eq_ignore_ascii_case(want)));
            id_ok && tag_ok
        })
        .collect();
    let mut selected = selected;
    if let Some(rev) = &args.changed_since {
        let changes = crate::changes::Changes::since(rev)?;
        let everything = changes.touches_shared(&project) || changes.touches_under(&fixtures_dir);
        if !everything {
            for (keep, model) in selected.iter_mut().zip(&models) {
                *keep &= model.is_some_and(|m| changes.touches(&m.file.path));
            }
        }
    }
    let whole_project = args.changed_since.is_none()
        && args.paths.is_empty()
        && args.ids.is_empty()
        && args.tags.is_empty()
        && args.fixtures.is_none()
        && project.root.is_some();

    let progress = (std::io::stderr().is_terminal()
        && !out.quiet
        && discovered.fixtures.len() > 20)
        .then(|| {
            let bar = indicatif::ProgressBar::new(discovered.fixtures.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} fixtures")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
    let input = harness::Input {
        rules,
        models,
        lists: &lowered.lists,
        pipelines: &lowered.pipelines,
        fixtures: &discovered.fixtures,
        selected,
    };
    let settings = harness::Settings {
        fixtures_dir: &fixtures_dir,
        strict: profile == Profile::Healthcare,
        accept: args.accept,
        whole_project,
    };
    let outcome = harness::run(&input, &settings, progress.as_ref());
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    let mut errors = lowered.problems.clone();
    errors.extend(discovered.diagnostics.iter().map(|d| {
        let at = d
            .position()
            .map_or(String::new(), |p| format!(":{}:{}", p.0, p.1));
        format!("{}{at}: {} [{}]", d.file_name(), d.message, d.code)
    }));
    let run = report::Run {
        outcome: &outcome,
        rules,
        fixtures: discovered.fixtures.len(),
        errors,
    };
    let text = match args.format {
        TestFormat::Human => report::human(&run, out.color, args.accept),
        TestFormat::Json => report::json(&run),
        TestFormat::Junit => report::junit(&run),
    };
    out.print(&text);
    Ok(if run.failed() > 0 {
        exit_code::FINDINGS
    } else {
        exit_code::CLEAN
    })
}
