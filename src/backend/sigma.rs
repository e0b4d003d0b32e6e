//! The Sigma backend: standard Sigma (specification v2.1) for every other
//! platform.

use super::CompileError;
use crate::commands::Lowered;

/// Export rule `index` of `lowered` as standard Sigma YAML.
pub fn export(lowered: &Lowered, index: usize) -> Result<String, CompileError> {
    Err(CompileError::new(
        &lowered.rules[index],
        "Sigma export is not available yet",
    ))
}
