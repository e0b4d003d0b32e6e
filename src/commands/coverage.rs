//! `stetho coverage`.

use crate::cli::{Cli, CoverageArgs, CoverageFormat};
use crate::commands::Output;
use crate::coverage;
use crate::exit_code;

pub fn run(cli: &Cli, args: &CoverageArgs, out: &Output) -> Result<u8, String> {
    let project = super::project(cli)?;
    let paths = super::rule_paths(&args.paths, &project, "coverage")?;
    let files = crate::load::discover(&paths).map_err(|e| e.to_string())?;
    let loaded = crate::load::load_files(&files);
    let facts = coverage::facts(&loaded.rules, crate::validate::today());
    let text = match args.format {
        CoverageFormat::Markdown => coverage::markdown(&facts),
        CoverageFormat::Navigator => coverage::navigator(&facts),
        CoverageFormat::Html => coverage::html(&facts),
    };
    match &args.out {
        Some(path) => {
            crate::write::atomic_write(path, text.as_bytes())
                .map_err(|e| format!("{}: {e}", crate::source::display_path(path)))?;
            out.note(&format!(
                "coverage of {} rules written to {}",
                facts.len(),
                crate::source::display_path(path)
            ));
        }
        None => out.print(&text),
    }
    Ok(exit_code::CLEAN)
}
