//! From the `stetho` taxonomy back to SigmaHQ's generic field names.
//!
//! A rule in the `stetho` taxonomy names native columns (`FolderPath`,
//! `ProcessCommandLine`). The pipelines map generic names to those columns
//! (`Image: FolderPath`); exporting inverts that map, so that the exported
//! rule, read through the same pipeline, names the same columns again.
//!
//! - The pipeline source is the first of `defender_xdr`, `healthcare`,
//!   `sentinel` that has one for the rule's log source.
//! - Only plain renames (`FieldMap::Column`) are inverted; the `domain_user`
//!   and `hashes` transforms split a generic value over several columns and
//!   have no inverse.
//! - When several generic names map to one column, the one spelled like the
//!   column wins, else the first in byte order (`Computer` before
//!   `SourceHostname` for `DeviceName`).
//! - The healthcare sources' canonical names (`ehr.action`) are the field
//!   names of those custom Sigma log sources under either taxonomy, so they
//!   translate to themselves.

use crate::model::LogSource;
use crate::pipeline::{FieldMap, Pipelines, Source};

/// Pipelines searched for a rule's log source, in order.
pub const PIPELINES: [&str; 3] = ["defender_xdr", "healthcare", "sentinel"];

/// The pipeline source a rule's native names belong to, with its pipeline.
pub fn source_for<'a>(
    pipelines: &'a Pipelines,
    logsource: &LogSource,
) -> Option<(&'static str, &'a Source)> {
    PIPELINES.iter().find_map(|&name| {
        pipelines
            .get(name)
            .ok()
            .and_then(|p| p.source_for(logsource))
            .map(|s| (name, s))
    })
}

/// The generic name of native field `field` in `source`, if it has one.
pub fn generic(source: &Source, field: &str) -> Option<String> {
    if !source.columns.is_empty() {
        return Some(field.to_string());
    }
    let mut candidates = source
        .fields
        .iter()
        .filter(|(_, map)| matches!(map, FieldMap::Column(c) if c == field))
        .map(|(generic, _)| generic.as_str());
    let first = candidates.next()?;
    if first == field {
        return Some(first.to_string());
    }
    Some(
        candidates
            .find(|g| *g == field)
            .unwrap_or(first)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: &str, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: Some(product.into()),
            category: category.map(str::to_string),
            service: service.map(str::to_string),
        }
    }

    #[test]
    fn defender_columns_invert_to_generic_names() {
        let pipelines = Pipelines::load(None).expect("pipelines");
        let (name, source) = source_for(&pipelines, &ls("windows", Some("process_creation"), None))
            .expect("a source");
        assert_eq!(name, "defender_xdr");
        assert_eq!(generic(source, "FolderPath").as_deref(), Some("Image"));
        assert_eq!(
            generic(source, "ProcessCommandLine").as_deref(),
            Some("CommandLine")
        );
        assert_eq!(
            generic(source, "InitiatingProcessFolderPath").as_deref(),
            Some("ParentImage")
        );
        assert_eq!(generic(source, "ProcessId").as_deref(), Some("ProcessId"));
        // No plain rename leads to these columns.
        assert_eq!(generic(source, "FileName"), None);
        assert_eq!(generic(source, "AccountName"), None);
    }

    #[test]
    fn several_generic_names_pick_a_stable_one() {
        let pipelines = Pipelines::load(None).expect("pipelines");
        let (_, source) = source_for(&pipelines, &ls("windows", Some("network_connection"), None))
            .expect("a source");
        assert_eq!(generic(source, "DeviceName").as_deref(), Some("Computer"));
        let (name, source) =
            source_for(&pipelines, &ls("azure", None, Some("signinlogs"))).expect("a source");
        assert_eq!(name, "sentinel");
        assert_eq!(generic(source, "ResultType").as_deref(), Some("ResultType"));
        assert_eq!(generic(source, "Status.additionalDetails"), None);
    }

    #[test]
    fn healthcare_names_are_their_own_generic_names() {
        let pipelines = Pipelines::load(None).expect("pipelines");
        let (name, source) =
            source_for(&pipelines, &ls("ehr", Some("record_access"), None)).expect("a source");
        assert_eq!(name, "healthcare");
        assert_eq!(generic(source, "ehr.action").as_deref(), Some("ehr.action"));
    }
}
