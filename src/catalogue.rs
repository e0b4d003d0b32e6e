//! Reference data bundled with stetho: ATT&CK, CAF and field catalogues.
//!
//! All of it lives as plain data files under `schemas/` (TSV and YAML, easy
//! to review and update) and is embedded at build time, so validation works
//! offline and gives the same answer on every machine. Each catalogue is
//! parsed once, on first use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use crate::model::LogSource;
use crate::source::yaml::{self, Node};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The text of an embedded file, by its path below `schemas/`.
pub fn embedded(path: &str) -> Option<&'static str> {
    generated::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// Embedded files below a folder of `schemas/`.
pub fn embedded_in(folder: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    generated::FILES
        .iter()
        .filter(move |(p, _)| p.starts_with(folder))
        .map(|(p, t)| (*p, *t))
}

/// Whether an ATT&CK object is current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Revoked,
    Deprecated,
}

/// The pinned MITRE ATT&CK Enterprise release.
pub struct Attack {
    pub version: String,
    /// Technique and sub-technique ids (upper case, `T1059.001`).
    pub techniques: BTreeMap<String, (String, Status)>,
    /// Tactic shortnames as Sigma writes them (`initial-access`).
    pub tactics: BTreeSet<String>,
    /// Groups, software and campaigns (`G0032`, `S0154`, `C0001`).
    pub others: BTreeMap<String, Status>,
}

pub fn attack() -> &'static Attack {
    static ATTACK: OnceLock<Attack> = OnceLock::new();
    ATTACK.get_or_init(|| {
        let techniques_text = embedded("catalogues/attack-enterprise.tsv").unwrap_or("");
        let version = techniques_text
            .lines()
            .next()
            .and_then(|l| {
                l.split_whitespace()
                    .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
            })
            .unwrap_or("unknown")
            .to_string();
        let techniques = tsv(techniques_text)
            .map(|cols| {
                let status = parse_status(cols.get(2).copied());
                (
                    cols[0].to_string(),
                    (cols.get(1).copied().unwrap_or("").to_string(), status),
                )
            })
            .collect();
        let tactics = tsv(embedded("catalogues/attack-tactics.tsv").unwrap_or(""))
            .filter_map(|cols| cols.get(1).map(|s| s.to_string()))
            .collect();
        let others = tsv(embedded("catalogues/attack-groups-software.tsv").unwrap_or(""))
            .map(|cols| (cols[0].to_string(), parse_status(cols.get(2).copied())))
            .collect();
        Attack {
            version,
            techniques,
            tactics,
            others,
        }
    })
}

fn parse_status(s: Option<&str>) -> Status {
    match s {
        Some("revoked") => Status::Revoked,
        Some("deprecated") => Status::Deprecated,
        _ => Status::Active,
    }
}

/// Rows of a TSV file, skipping `#` comments and blank lines.
fn tsv(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect::<Vec<_>>())
}

/// Contributing outcome ids of a CAF version (`"3.2"`, `"4.0"`), if known.
pub fn caf_outcomes(version: &str) -> Option<&'static BTreeMap<String, String>> {
    static CAF: OnceLock<BTreeMap<String, BTreeMap<String, String>>> = OnceLock::new();
    CAF.get_or_init(|| {
        embedded_in("catalogues/caf-")
            .map(|(path, text)| {
                let version = path
                    .trim_start_matches("catalogues/caf-")
                    .trim_end_matches(".tsv")
                    .to_string();
                let outcomes = tsv(text)
                    .map(|c| {
                        (
                            c[0].to_string(),
                            c.get(1).copied().unwrap_or("").to_string(),
                        )
                    })
                    .collect();
                (version, outcomes)
            })
            .collect()
    })
    .get(version)
}

/// The field names of one log source, per taxonomy.
#[derive(Clone, Debug, Default)]
pub struct FieldCatalogue {
    pub name: String,
    pub logsource: LogSource,
    pub sigma: Option<Vec<String>>,
    pub stetho: Vec<String>,
}

impl FieldCatalogue {
    /// The names valid under a rule's `taxonomy:` attribute.
    pub fn fields_for(&self, taxonomy: Option<&str>) -> &[String] {
        match (taxonomy, &self.sigma) {
            (None | Some("sigma"), Some(sigma)) => sigma,
            _ => &self.stetho,
        }
    }

    /// Whether this catalogue is for the rule's log source (an empty
    /// logsource applies to nothing).
    fn applies_to(&self, ls: &LogSource) -> bool {
        self.logsource.specificity() > 0 && self.logsource.covers(ls)
    }

    /// Parse one catalogue file (see `schemas/fields/README.md`).
    pub fn parse(name: &str, text: &str) -> Option<FieldCatalogue> {
        let loaded = yaml::load(text);
        let doc = loaded.documents.first()?;
        let list = |node: Option<&Node>| -> Option<Vec<String>> {
            node.and_then(Node::as_seq).map(|items| {
                items
                    .iter()
                    .filter_map(Node::as_str)
                    .map(str::to_string)
                    .collect()
            })
        };
        Some(FieldCatalogue {
            name: name.to_string(),
            logsource: LogSource::from_node(doc.get("logsource")),
            sigma: list(doc.get_path(&["fields", "sigma"])),
            stetho: list(doc.get_path(&["fields", "stetho"])).unwrap_or_default(),
        })
    }
}

/// Field catalogues: the embedded ones plus a project's own.
#[derive(Debug, Default)]
pub struct FieldCatalogues {
    catalogues: Vec<FieldCatalogue>,
}

impl FieldCatalogues {
    /// The embedded catalogues, then any `*.yml` in `project_dir` (which
    /// replace embedded ones for the same log source).
    pub fn load(project_dir: Option<&Path>) -> FieldCatalogues {
        // The embedded ones are parsed once per process: validating from
        // memory (validate::validate_bytes, the fuzz targets) loads the
        // catalogues for every file.
        static EMBEDDED: OnceLock<Vec<FieldCatalogue>> = OnceLock::new();
        let mut catalogues: Vec<FieldCatalogue> = EMBEDDED
            .get_or_init(|| {
                embedded_in("fields/")
                    .filter(|(p, _)| p.ends_with(".yml") || p.ends_with(".yaml"))
                    .filter_map(|(p, text)| FieldCatalogue::parse(p, text))
                    .collect()
            })
            .clone();
        if let Some(dir) = project_dir {
            for path in crate::load::yaml_files_in(dir) {
                let Ok(text) = crate::limits::read_bounded_string(
                    &path,
                    crate::limits::MAX_CONFIG_FILE_BYTES,
                    "field catalogues",
                ) else {
                    continue;
                };
                if let Some(own) = FieldCatalogue::parse(&path.to_string_lossy(), &text) {
                    catalogues.retain(|c| c.logsource != own.logsource);
                    catalogues.push(own);
                }
            }
        }
        FieldCatalogues { catalogues }
    }

    /// The most specific catalogue for a log source, if any.
    pub fn for_logsource(&self, ls: &LogSource) -> Option<&FieldCatalogue> {
        self.catalogues
            .iter()
            .filter(|c| c.applies_to(ls))
            .max_by_key(|c| c.logsource.specificity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_catalogue_is_bundled() {
        let attack = attack();
        assert!(attack.techniques.contains_key("T1490"));
        assert!(attack.techniques.contains_key("T1059.001"));
        assert!(attack.tactics.contains("impact"));
        assert!(attack.version.starts_with(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn caf_catalogues_differ_between_versions() {
        let v32 = caf_outcomes("3.2").expect("3.2 bundled");
        let v40 = caf_outcomes("4.0").expect("4.0 bundled");
        assert!(v32.contains_key("C2.b"));
        assert!(!v40.contains_key("C2.b"));
        assert!(v40.contains_key("A2.c"));
        assert!(caf_outcomes("9.9").is_none());
    }

    #[test]
    fn catalogue_matching_prefers_the_most_specific() {
        let generic = FieldCatalogue {
            logsource: LogSource {
                product: Some("windows".into()),
                ..LogSource::default()
            },
            ..FieldCatalogue::default()
        };
        let specific = FieldCatalogue {
            logsource: LogSource {
                product: Some("windows".into()),
                category: Some("process_creation".into()),
                service: None,
            },
            ..FieldCatalogue::default()
        };
        let set = FieldCatalogues {
            catalogues: vec![generic, specific],
        };
        let rule = LogSource {
            product: Some("windows".into()),
            category: Some("process_creation".into()),
            service: None,
        };
        assert_eq!(
            set.for_logsource(&rule)
                .and_then(|c| c.logsource.category.as_deref()),
            Some("process_creation")
        );
    }
}
