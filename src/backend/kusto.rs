//! Kusto table schemas (`schemas/kusto/`): which columns each table has and
//! their types, from Microsoft's documentation.
//!
//! The KQL backend needs the types because Kusto's operators are typed:
//! `contains` on a `long` column or `in~` on an `int` one does not compile,
//! a number compares with a string column only through `todouble()`, and a
//! `dynamic` column is searched through `tostring()`.

use std::sync::OnceLock;

use serde::Deserialize;

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
    pub fn parse(text: &str) -> ColumnType {
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

/// One column, with its type as the schema spells it (`long`, `real`,
/// `datetime`...): the backends need the family, fixture import the exact
/// type.
#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    pub kusto_type: String,
    /// `kusto_type`'s family, parsed once: query generation asks for it
    /// for every field of every rule.
    family: ColumnType,
}

impl Column {
    pub fn family(&self) -> ColumnType {
        self.family
    }
}

/// A table, columns in schema order.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Column name -> index in `columns`: query generation looks up every
    /// field of every rule, in tables of up to a few hundred columns.
    index: foldhash::HashMap<String, usize>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.index.get(name).map(|&i| &self.columns[i])
    }
}

/// Tables of one Kusto database, in schema order.
#[derive(Debug, Default)]
pub struct Database {
    pub name: String,
    /// The pipeline whose tables these are.
    pub pipeline: &'static str,
    pub tables: Vec<Table>,
    /// Table name -> index in `tables` (the first of a repeated name):
    /// every compiled rule looks its table up.
    index: foldhash::HashMap<String, usize>,
}

impl Database {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.index.get(name).map(|&i| &self.tables[i])
    }
}

/// The embedded schema files: stem, path, and the pipeline they describe.
const FILES: &[(&str, &str, &str)] = &[
    (
        "defender-xdr",
        "kusto/defender-xdr-schema.json",
        "defender_xdr",
    ),
    ("sentinel", "kusto/sentinel-schema.json", "sentinel"),
    ("healthcare", "kusto/healthcare-schema.json", "healthcare"),
];

/// A schema file as written: only what the backends read, into types
/// rather than a tree of JSON values (the tree of a hundred kilobytes of
/// schema, a map per column, cost more than the rest of a one-rule compile).
/// Names are optional so that an entry without one is skipped, not the file.
#[derive(Deserialize)]
struct SchemaFile {
    database: Option<String>,
    #[serde(default)]
    tables: Vec<TableEntry>,
}

#[derive(Deserialize)]
struct TableEntry {
    name: Option<String>,
    #[serde(default)]
    columns: Vec<ColumnEntry>,
}

#[derive(Deserialize)]
struct ColumnEntry {
    name: Option<String>,
    #[serde(rename = "type")]
    kusto_type: Option<String>,
}

fn load(path: &str, pipeline: &'static str) -> Database {
    let mut db = Database {
        pipeline,
        ..Database::default()
    };
    let Some(file) =
        crate::catalogue::embedded(path).and_then(|t| serde_json::from_str::<SchemaFile>(t).ok())
    else {
        return db;
    };
    db.name = file.database.unwrap_or_default();
    for table in file.tables {
        let Some(name) = table.name else {
            continue;
        };
        let columns: Vec<Column> = table
            .columns
            .into_iter()
            .filter_map(|c| {
                let kusto_type = c.kusto_type.unwrap_or_else(|| "string".to_string());
                Some(Column {
                    name: c.name?,
                    family: ColumnType::parse(&kusto_type),
                    kusto_type,
                })
            })
            .collect();
        // The first of a repeated name wins, as a scan in order would find.
        let mut index = foldhash::HashMap::default();
        for (i, column) in columns.iter().enumerate() {
            index.entry(column.name.clone()).or_insert(i);
        }
        db.index.entry(name.clone()).or_insert(db.tables.len());
        db.tables.push(Table {
            name,
            columns,
            index,
        });
    }
    db
}

/// The embedded database of file `k` of [`FILES`], parsed when first
/// asked for: a compile for one pipeline reads only that pipeline's
/// schemas, not the other hundred kilobytes of JSON.
fn database(k: usize) -> &'static Database {
    static PARSED: [OnceLock<Database>; FILES.len()] = [const { OnceLock::new() }; FILES.len()];
    let (_, path, pipeline) = FILES[k];
    PARSED[k].get_or_init(|| load(path, pipeline))
}

/// Every embedded database, in file order.
pub fn all() -> impl Iterator<Item = (&'static str, &'static Database)> {
    FILES
        .iter()
        .enumerate()
        .map(|(k, (stem, ..))| (*stem, database(k)))
}

/// The databases a pipeline's queries run against, in lookup order:
/// Defender XDR advanced hunting, or a Sentinel workspace (which also holds
/// the healthcare custom tables).
pub fn databases_for(pipeline: &str) -> impl Iterator<Item = &'static Database> {
    let stems: &[&str] = match pipeline {
        "defender_xdr" => &["defender-xdr"],
        "sentinel" => &["sentinel", "healthcare"],
        "healthcare" => &["healthcare"],
        _ => &["defender-xdr", "sentinel", "healthcare"],
    };
    stems
        .iter()
        .filter_map(|s| FILES.iter().position(|(stem, ..)| stem == s).map(database))
}

/// A table of a pipeline's databases.
pub fn table(pipeline: &str, table: &str) -> Option<&'static Table> {
    databases_for(pipeline).find_map(|db| db.table(table))
}

/// Every table of that name in a pipeline's databases, in lookup order;
/// a query looks its table up once and then each column in these.
pub fn tables(pipeline: &str, table: &str) -> Vec<&'static Table> {
    databases_for(pipeline)
        .filter_map(|db| db.table(table))
        .collect()
}

/// The type of `column` in the first of `tables` that has it.
pub fn column_type_in(tables: &[&Table], column: &str) -> Option<ColumnType> {
    tables
        .iter()
        .find_map(|t| t.column(column).map(Column::family))
}

/// The type of `column` in `table` for a pipeline; `None` when the table or
/// column is not in the schema (the caller decides whether that is fatal).
pub fn column_type(pipeline: &str, table: &str, column: &str) -> Option<ColumnType> {
    column_type_in(&tables(pipeline, table), column)
}

/// Whether a pipeline's databases know `table`.
pub fn has_table(pipeline: &str, table: &str) -> bool {
    self::table(pipeline, table).is_some()
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

    /// Every embedded schema loads whole: each table and column the JSON
    /// holds, with its type as written, read here as plain JSON values.
    #[test]
    fn every_embedded_schema_loads_every_table_and_column() {
        for (k, (_, path, _)) in FILES.iter().enumerate() {
            let text = crate::catalogue::embedded(path).expect("embedded schema");
            let json: serde_json::Value = serde_json::from_str(text).expect("schema JSON");
            let db = database(k);
            assert_eq!(db.name, json["database"].as_str().expect("database name"));
            let tables = json["tables"].as_array().expect("tables");
            assert!(!tables.is_empty(), "{path}");
            assert_eq!(db.tables.len(), tables.len(), "{path}");
            for (table, expected) in db.tables.iter().zip(tables) {
                assert_eq!(table.name, expected["name"].as_str().expect("table name"));
                let columns = expected["columns"].as_array().expect("columns");
                assert!(!columns.is_empty(), "{path}: {}", table.name);
                let read: Vec<(&str, &str)> = table
                    .columns
                    .iter()
                    .map(|c| (c.name.as_str(), c.kusto_type.as_str()))
                    .collect();
                let written: Vec<(&str, &str)> = columns
                    .iter()
                    .map(|c| {
                        (
                            c["name"].as_str().expect("column name"),
                            c["type"].as_str().expect("column type"),
                        )
                    })
                    .collect();
                assert_eq!(read, written, "{path}: {}", table.name);
            }
        }
    }
}
