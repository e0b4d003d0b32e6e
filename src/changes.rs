//! `--changed-since REV`: what a pull request touched, so `validate` and
//! `test` can report on those rules only.
//!
//! Rules are still loaded and replayed as a whole (duplicate ids,
//! correlation references and the false-positive sweep are cross-file);
//! only the report is narrowed. A change to anything rules depend on
//! (lists, pipelines, schemas, `stetho.toml`) and, for `test`, to any
//! fixture, widens it back to every rule.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files changed since a revision (committed, staged, unstaged and
/// untracked), as absolute paths.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub files: BTreeSet<PathBuf>,
}

fn git(args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("--changed-since needs git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Changes {
    pub fn since(rev: &str) -> Result<Changes, String> {
        let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
        let mut files = BTreeSet::new();
        let diff = git(&["diff", "--name-only", rev, "--"])?;
        let untracked = git(&["ls-files", "--others", "--exclude-standard"])?;
        for line in diff.lines().chain(untracked.lines()) {
            if !line.trim().is_empty() {
                files.insert(normalise(&top.join(line.trim())));
            }
        }
        Ok(Changes { files })
    }

    /// Whether `path` (a file) changed.
    pub fn touches(&self, path: &Path) -> bool {
        self.files.contains(&normalise(path))
    }

    /// Whether anything under `dir` changed.
    pub fn touches_under(&self, dir: &Path) -> bool {
        let dir = normalise(dir);
        self.files.iter().any(|f| f.starts_with(&dir))
    }

    /// Whether a change affects every rule: lists, pipelines, schemas or
    /// the project configuration.
    pub fn touches_shared(&self, project: &crate::settings::Project) -> bool {
        let Some(root) = &project.root else {
            return false;
        };
        self.touches_under(&project.lists)
            || self.touches_under(&root.join("pipelines"))
            || self.touches_under(&root.join("schemas"))
            || self.touches(&root.join(crate::settings::CONFIG_FILE))
    }
}

/// An absolute path without `.` parts, without touching the file system
/// (deleted files cannot be canonicalised).
fn normalise(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    // Resolve symlinks (temp folders, git's toplevel) the same way for
    // files that exist and for deleted ones, through their folder.
    if let Ok(real) = out.canonicalize() {
        return real;
    }
    match (
        out.parent().and_then(|p| p.canonicalize().ok()),
        out.file_name(),
    ) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => out,
    }
}
