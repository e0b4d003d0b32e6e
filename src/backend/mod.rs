//! Backends: turning the backend-neutral logic into artifacts other
//! systems run. Each reads [`crate::logic`] after a
//! [`crate::pipeline`] has mapped it, so what is compiled is what
//! `stetho test` replayed.

pub mod deploy;
pub mod kql;
pub mod kusto;
pub mod sigma;

use thiserror::Error;

use crate::logic::RuleLogic;

/// A rule that cannot be expressed for a target: which rule, and what.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{path}: rule `{rule}`: {message}")]
pub struct CompileError {
    pub path: String,
    pub rule: String,
    pub message: String,
}

impl CompileError {
    pub fn new(rule: &RuleLogic, message: impl Into<String>) -> CompileError {
        CompileError {
            path: rule.path.clone(),
            rule: rule.key().to_string(),
            message: message.into(),
        }
    }
}
