//! `stetho checks`: the list of checks, for people and for the README.

use crate::cli::{ChecksArgs, ListFormat};
use crate::commands::Output;
use crate::exit_code;
use crate::lint::REGISTRY;

pub fn run(args: &ChecksArgs, out: &Output) -> Result<u8, String> {
    let mut text = String::new();
    match args.format {
        ListFormat::Human => {
            for (lint, _) in REGISTRY {
                text.push_str(&format!(
                    "{}  {:<8} {:<32} {}\n",
                    lint.code,
                    lint.severity.as_str(),
                    lint.name,
                    lint.summary
                ));
            }
        }
        ListFormat::Markdown => {
            text.push_str("| code | name | default | what it flags |\n|---|---|---|---|\n");
            for (lint, _) in REGISTRY {
                // A pipe inside a cell would end it.
                let summary = lint.summary.replace('|', "\\|");
                text.push_str(&format!(
                    "| {} | `{}` | {} | {summary} |\n",
                    lint.code,
                    lint.name,
                    lint.severity.as_str(),
                ));
            }
        }
    }
    out.print(&text);
    Ok(exit_code::CLEAN)
}
