//! ## What it does
//! Checks that `healthcare.response.playbook` resolves: a URL, or a path
//! that exists relative to the project root (the folder of `stetho.toml`).
//!
//! ## Why is this bad?
//! The playbook is what an analyst opens at 3 a.m. (CAF C1.d); a dangling
//! link is found at the worst possible moment.

use super::{Context, Lint, project_file_exists, report};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rule;

pub const LINT: Lint = Lint {
    code: "STH125",
    name: "missing-playbook",
    severity: Severity::Error,
    summary: "`healthcare.response.playbook` names a file that does not exist.",
};

pub fn check(rule: &Rule, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Without a project there is no root to resolve paths against.
    if ctx.project.root.is_none() {
        return;
    }
    let Some(node) = rule
        .healthcare()
        .and_then(|h| h.get_path(&["response", "playbook"]))
    else {
        return;
    };
    let Some(path) = node.as_str() else { return };
    if path.starts_with("https://") || path.starts_with("http://") {
        return;
    }
    if !project_file_exists(ctx, path) {
        out.push(
            report(&LINT, format!("playbook `{path}` does not exist"))
                .at(&rule.file, node.span)
                .label("no such file in the project")
                .help(
                    "paths are relative to the folder holding stetho.toml; or give an https:// URL",
                ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::{HEALTHCARE, RULE, run_in};
    use crate::settings::Profile;

    #[test]
    fn playbooks_resolve_against_the_project_root() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("playbooks")).expect("mkdir");
        std::fs::write(root.path().join("playbooks/lims.md"), "# LIMS playbook\n").expect("write");
        let block = HEALTHCARE.replace("response: {", "response: {playbook: playbooks/lims.md, ");
        let found = run_in(&format!("{RULE}{block}"), Profile::Sigma, Some(root.path()));
        assert!(!found.iter().any(|l| l.starts_with("STH125")), "{found:?}");
        let missing = block.replace("lims.md", "gone.md");
        let found = run_in(
            &format!("{RULE}{missing}"),
            Profile::Sigma,
            Some(root.path()),
        );
        assert!(found.iter().any(|l| l.starts_with("STH125")), "{found:?}");
        let url = block.replace("playbooks/lims.md", "https://wiki.trust.example/lims");
        assert!(
            !run_in(&format!("{RULE}{url}"), Profile::Sigma, Some(root.path()))
                .iter()
                .any(|l| l.starts_with("STH125"))
        );
    }
}
