//! Project configuration (`stetho.toml`) resolved into settings.
//!
//! The CLI layer parses flags; this module decides what they mean together
//! with the config file: which paths to check, which profile applies, how
//! each check's severity is overridden. Commands only see [`Project`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::diagnostic::Severity;

pub const CONFIG_FILE: &str = "stetho.toml";

/// Which rule dialect to enforce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Plain Sigma: anything valid in SigmaHQ passes.
    Sigma,
    /// Sigma plus the required `healthcare:` block and healthcare lints.
    Healthcare,
}

/// A per-check severity override in `[lints]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Off,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    project: ProjectSection,
    #[serde(default)]
    lints: BTreeMap<String, Level>,
    #[serde(default)]
    deploy: DeploySection,
}

/// `[deploy]`: defaults of the deployable rules (`--target defender`,
/// `--target sentinel`, `stetho build`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploySection {
    frequency: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectSection {
    profile: Option<Profile>,
    rules: Option<Vec<PathBuf>>,
    fixtures: Option<PathBuf>,
    lists: Option<PathBuf>,
    fields: Option<PathBuf>,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: crate::limits::ReadError,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: unknown check code `{code}` in [lints]")]
    UnknownCode { path: String, code: String },
}

/// Everything a command needs to know about where it runs.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `stetho.toml`, if there is one.
    pub root: Option<PathBuf>,
    pub profile: Profile,
    /// Default rule paths when none are given on the command line.
    pub rules: Vec<PathBuf>,
    pub fixtures: PathBuf,
    pub lists: PathBuf,
    pub fields: PathBuf,
    pub lint_levels: BTreeMap<String, Level>,
    /// `[deploy] frequency`: how often deployed rules run unless a rule or
    /// `--frequency` says otherwise (checked when the file is read).
    pub frequency: Option<String>,
}

impl Project {
    /// Load `--config FILE`, or find `stetho.toml` in the current folder or
    /// above it. Without one, stetho works on the given paths with the
    /// plain `sigma` profile, so a SigmaHQ checkout works as it is.
    pub fn discover(config: Option<&Path>, known_codes: &[&str]) -> Result<Project, ConfigError> {
        let path = match config {
            Some(p) => Some(p.to_path_buf()),
            None => find_upwards(CONFIG_FILE),
        };
        let Some(path) = path else {
            return Ok(Project::without_config());
        };
        let shown = crate::source::display_path(&path);
        let text = crate::limits::read_bounded_string(
            &path,
            crate::limits::MAX_CONFIG_FILE_BYTES,
            "configuration files",
        )
        .map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: shown.clone(),
            message: e.to_string().trim().to_string(),
        })?;
        for code in file.lints.keys() {
            if !known_codes.contains(&code.as_str()) {
                return Err(ConfigError::UnknownCode {
                    path: shown,
                    code: code.clone(),
                });
            }
        }
        let root = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        let at = |p: Option<PathBuf>, default: &str| {
            root.join(p.unwrap_or_else(|| PathBuf::from(default)))
        };
        if let Some(frequency) = &file.deploy.frequency
            && let Err(message) = crate::backend::deploy::Schedule::parse(frequency)
        {
            return Err(ConfigError::Parse {
                path: shown,
                message: format!("[deploy] {message}"),
            });
        }
        let section = file.project;
        let mut project = Project {
            profile: section.profile.unwrap_or(Profile::Healthcare),
            rules: section
                .rules
                .unwrap_or_else(|| vec![PathBuf::from("detections")])
                .into_iter()
                .map(|p| root.join(p))
                .collect(),
            fixtures: at(section.fixtures, "test-events"),
            lists: at(section.lists, "lists"),
            fields: at(section.fields, "schemas/fields"),
            lint_levels: file.lints,
            frequency: file.deploy.frequency,
            root: Some(root),
        };
        project.rules.sort();
        Ok(project)
    }

    /// Settings for plain Sigma files outside any project.
    pub fn without_config() -> Project {
        Project {
            root: None,
            profile: Profile::Sigma,
            rules: Vec::new(),
            fixtures: PathBuf::from("test-events"),
            lists: PathBuf::from("lists"),
            fields: PathBuf::from("schemas/fields"),
            lint_levels: BTreeMap::new(),
            frequency: None,
        }
    }

    /// The severity a check reports at after `[lints]` overrides; `None` = off.
    pub fn severity(&self, code: &str, default: Severity) -> Option<Severity> {
        match self.lint_levels.get(code) {
            None => Some(default),
            Some(Level::Error) => Some(Severity::Error),
            Some(Level::Warning) => Some(Severity::Warning),
            Some(Level::Off) => None,
        }
    }

    /// Resolve a path written in a rule (a playbook) against the project.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.root
            .as_deref()
            .unwrap_or(Path::new("."))
            .join(relative)
    }
}

fn find_upwards(name: &str) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
