//! Kusto table schemas (`schemas/kusto/`): which columns each table has and
//! their types, from Microsoft's documentation.
//!
//! The KQL backend needs the types because Kusto's operators are typed:
//! `contains` on a `long` column or `in~` on an `int` one does not compile,
//! a number compares with a string column only through `todouble()`, and a
//! `dynamic` column is searched through `tostring()`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

/// The type family of a Kusto column, as far as query generation cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    /// `int`, `long`, `real`, `decimal`.
    Number,
    Bool,
    DateTime,
    Dynamic,
    /// `guid`, `timespan` and anything else: compared through `tostring()`.
    Other,
}

impl ColumnType {
    fn parse(text: &str) -> ColumnType {
        match text {
            "string" => ColumnType::String,
            "int" | "long" | "real" | "decimal" | "double" => ColumnType::Number,
            "bool" | "boolean" => ColumnType::Bool,
            "datetime" => ColumnType::DateTime,
            "dynamic" => ColumnType::Dynamic,
            _ => ColumnType::Other,
        }
    }
}

/// Tables of one Kusto database.
#[derive(Debug, Default)]
pub struct Database {
    pub name: String,
    pub tables: BTreeMap<String, BTreeMap<String, ColumnType>>,
}

/// The embedded schema files, by file stem.
const FILES: &[(&str, &str)] = &[
    ("defender-xdr", "kusto/defender-xdr-schema.json"),
    ("sentinel", "kusto/sentinel-schema.json"),
    ("healthcare", "kusto/healthcare-schema.json"),
];

fn load(path: &str) -> Database {
    let mut db = Database::default();
    let Some(value) =
        crate::catalogue::embedded(path).and_then(|t| serde_json::from_str::<Value>(t).ok())
    else {
        return db;
    };
    db.name = value["database"].as_str().unwrap_or_default().to_string();
    for table in value["tables"].as_array().into_iter().flatten() {
        let Some(name) = table["name"].as_str() else {
            continue;
        };
        let columns = table["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c["name"].as_str()?.to_string(),
                    ColumnType::parse(c["type"].as_str()?),
                ))
            })
            .collect();
        db.tables.insert(name.to_string(), columns);
    }
    db
}

fn databases() -> &'static BTreeMap<&'static str, Database> {
    static ALL: OnceLock<BTreeMap<&'static str, Database>> = OnceLock::new();
    ALL.get_or_init(|| {
        FILES
            .iter()
            .map(|(stem, path)| (*stem, load(path)))
            .collect()
    })
}

/// The databases a pipeline's queries run against, in lookup order:
/// Defender XDR advanced hunting, or a Sentinel workspace (which also holds
/// the healthcare custom tables).
pub fn databases_for(pipeline: &str) -> Vec<&'static Database> {
    let stems: &[&str] = match pipeline {
        "defender_xdr" => &["defender-xdr"],
        "sentinel" => &["sentinel", "healthcare"],
        "healthcare" => &["healthcare"],
        _ => &["defender-xdr", "sentinel", "healthcare"],
    };
    stems.iter().filter_map(|s| databases().get(s)).collect()
}

/// The type of `column` in `table` for a pipeline; `None` when the table or
/// column is not in the schema (the caller decides whether that is fatal).
pub fn column_type(pipeline: &str, table: &str, column: &str) -> Option<ColumnType> {
    databases_for(pipeline)
        .into_iter()
        .find_map(|db| db.tables.get(table)?.get(column).copied())
}

/// Whether a pipeline's databases know `table`.
pub fn has_table(pipeline: &str, table: &str) -> bool {
    databases_for(pipeline)
        .into_iter()
        .any(|db| db.tables.contains_key(table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_embedded_schemas() {
        assert_eq!(
            column_type("defender_xdr", "DeviceProcessEvents", "ProcessId"),
            Some(ColumnType::Number)
        );
        assert_eq!(
            column_type("defender_xdr", "DeviceProcessEvents", "FolderPath"),
            Some(ColumnType::String)
        );
        assert_eq!(
            column_type("sentinel", "DeviceProcessEvents", "Timestamp"),
            None
        );
        assert!(has_table("sentinel", "EhrAccess_CL"));
        assert!(!has_table("defender_xdr", "EhrAccess_CL"));
    }
}
