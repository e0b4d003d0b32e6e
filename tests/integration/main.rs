//! CLI tests: one binary (ripgrep's layout), modules by topic.

mod common;
mod corpus;
mod coverage;
mod explain;
mod fixture_cmd;
mod formats;
mod fuzz_regressions;
mod invalid;
mod kql;
mod new_cmd;
mod project;
mod replay;
mod shell;
mod sigma_export;
mod test_cmd;
