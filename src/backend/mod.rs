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
    /// The rule is fine but the target cannot hold it (no table for its log
    /// source, a correlation where only single events deploy): `build`
    /// skips it for that target instead of failing.
    pub not_applicable: bool,
}

impl CompileError {
    pub fn new(rule: &RuleLogic, message: impl Into<String>) -> CompileError {
        CompileError {
            path: rule.path.clone(),
            rule: rule.key().to_string(),
            message: message.into(),
            not_applicable: false,
        }
    }

    /// A rule this target cannot hold, through no fault of the rule.
    pub fn not_applicable(rule: &RuleLogic, message: impl Into<String>) -> CompileError {
        CompileError {
            not_applicable: true,
            ..CompileError::new(rule, message)
        }
    }
}
