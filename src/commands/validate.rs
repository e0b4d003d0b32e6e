//! `stetho validate`.

use crate::cli::{Cli, ReportFormat, ValidateArgs};
use crate::commands::Output;
use crate::diagnostic::{self, Severity};
use crate::{exit_code, lint, validate};

pub fn run(cli: &Cli, args: &ValidateArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "validate")?;
    let profile = args.profile.unwrap_or(project.profile);
    let mut report = validate::validate(&paths, &project, profile, validate::today())
        .map_err(|e| e.to_string())?;
    if let Some(rev) = &args.changed_since {
        let changes = crate::changes::Changes::since(rev)?;
        if !changes.touches_shared(&project) {
            report
                .diagnostics
                .retain(|d| d.file.as_ref().is_some_and(|f| changes.touches(&f.path)));
        }
    }
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
