//! CLI tests: one binary (ripgrep's layout), modules by topic.

mod common;
mod corpus;
mod coverage;
mod explain;
mod fixture_cmd;
mod fmt_cmd;
mod formats;
mod fuzz_regressions;
mod interrupt;
mod invalid;
mod jobs;
mod kql;
mod limits;
mod new_cmd;
mod project;
mod properties;
mod replay;
mod shell;
mod sigma_export;
mod test_cmd;
mod yaml_readers;
