//! `stetho validate`.

use crate::cli::{Cli, ReportFormat, ValidateArgs};
use crate::commands::Output;
use crate::diagnostic::{self, Severity};
use crate::settings::Project;
use crate::{exit_code, lint, validate};

pub fn run(cli: &Cli, args: &ValidateArgs, out: &Output) -> Result<u8, String> {
    let project = if cli.no_config {
        Project::without_config()
    } else {
        Project::discover(cli.config.as_deref(), &lint::codes()).map_err(|e| e.to_string())?
    };
    let paths = if args.paths.is_empty() {
        project.rules.clone()
    } else {
        args.paths.clone()
    };
    if paths.is_empty() {
        return Err(
            "no rule paths given and no stetho.toml found; run `stetho validate PATH..`".into(),
        );
    }
    let profile = args.profile.unwrap_or(project.profile);
    let report = validate::validate(&paths, &project, profile, validate::today())
        .map_err(|e| e.to_string())?;
    let summary = report.summary();
    let text = match args.format {
        ReportFormat::Human => {
            let mut text = diagnostic::human::render(&report.diagnostics, &summary, out.color);
            if out.quiet {
                text = text
                    .rsplit_once("checked ")
                    .map_or(text.clone(), |(before, _)| before.to_string());
            }
            text
        }
        ReportFormat::Json => diagnostic::json::render(&report.diagnostics, &summary),
        ReportFormat::Sarif => diagnostic::sarif::render(&report.diagnostics, &lint::sarif_rules()),
    };
    out.print(&text);
    let failing = report
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error || (args.strict && d.severity == Severity::Warning));
    Ok(if failing {
        exit_code::FINDINGS
    } else {
        exit_code::CLEAN
    })
}
