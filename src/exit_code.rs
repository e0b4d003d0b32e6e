//! The exit-code contract (DESIGN.md §1), documented in `--help`.

use std::process::ExitCode;

/// Nothing to report.
pub const CLEAN: u8 = 0;
/// Findings: an invalid rule, a failed test, a rule that cannot compile.
pub const FINDINGS: u8 = 1;
/// Usage or I/O error: bad flags, missing paths, unreadable config.
pub const USAGE: u8 = 2;

pub fn code(value: u8) -> ExitCode {
    ExitCode::from(value)
}
