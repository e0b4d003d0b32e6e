//! stetho: detection as code for healthcare security operations.
//!
//! The modules follow the data flow (DESIGN.md §3):
//! [`load`] files → [`source::yaml`] nodes with spans → [`schema`] checks →
//! [`model`] rules → [`lint`] checks → [`diagnostic`] reports.
//! [`catalogue`] holds the bundled reference data (ATT&CK, CAF, fields);
//! [`settings`] resolves `stetho.toml`; [`commands`] is the thin CLI layer.

pub mod backend;
pub mod catalogue;
pub mod changes;
pub mod cli;
pub mod commands;
pub mod coverage;
pub mod diagnostic;
pub mod eval;
pub mod events;
pub mod exit_code;
pub mod explain;
pub mod fixture;
pub mod format;
pub mod harness;
pub mod interrupt;
pub mod limits;
pub mod lint;
pub mod load;
pub mod logic;
pub mod model;
pub mod pipeline;
pub mod replay;
pub mod scaffold;
pub mod schema;
pub mod settings;
pub mod source;
pub mod suggest;
pub mod validate;
pub mod write;
