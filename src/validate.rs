//! Validation as a library call: load, schema, lints, severities, order.
//! `stetho validate` renders the result; `stetho test` and `build` reuse it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalogue::FieldCatalogues;
use crate::diagnostic::{self, Diagnostic, Summary};
use crate::lint::{self, Context};
use crate::load::{self, LoadError};
use crate::model::{Rule, RuleKind};
use crate::schema::{self, SchemaKind};
use crate::settings::{Profile, Project};
use crate::source::SourceFile;

/// What a validation run found.
#[derive(Debug)]
pub struct Report {
    pub files: Vec<Arc<SourceFile>>,
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn summary(&self) -> Summary {
        Summary {
            files: self.files.len(),
            rules: self.rules.len(),
            ..Summary::default()
        }
        .count(&self.diagnostics)
    }
}

/// Validate the rule files under `paths` with the project's settings.
pub fn validate(
    paths: &[PathBuf],
    project: &Project,
    profile: Profile,
    today: time::Date,
) -> Result<Report, LoadError> {
    let files = load::discover(paths)?;
    let loaded = load::load_files(&files);
    let mut diagnostics = loaded.diagnostics;
    for rule in &loaded.rules {
        let kind = match rule.kind {
            RuleKind::Detection => SchemaKind::Rule,
            RuleKind::Correlation => SchemaKind::Correlation,
            RuleKind::Filter => SchemaKind::Filter,
        };
        schema::check(
            kind,
            &rule.file,
            &rule.root,
            "",
            &rule.root,
            &mut diagnostics,
        );
    }
    let fields = FieldCatalogues::load(project.root.as_ref().map(|_| project.fields.as_path()));
    let lists = list_names(project);
    let ctx = Context {
        project,
        profile,
        fields: &fields,
        lists: &lists,
        today,
    };
    diagnostics.extend(lint::run(&loaded.rules, &ctx));
    let mut diagnostics = lint::apply_levels(diagnostics, project);
    diagnostic::sort(&mut diagnostics);
    Ok(Report {
        files: loaded.files,
        rules: loaded.rules,
        diagnostics,
    })
}

/// Names of the value lists (`lists/NAME.txt`) of a project.
pub fn list_names(project: &Project) -> BTreeSet<String> {
    if project.root.is_none() {
        return BTreeSet::new();
    }
    list_names_in(&project.lists)
}

fn list_names_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("txt"))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect()
}

/// Today's date in UTC, for review-date checks.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}
