//! The config error: every rejection names the offending field, the value, and the rule it broke.

use thiserror::Error;

/// A parameter rejected at the boundary. `field` is the name the user typed (e.g. `p`, `seq_len`).
#[derive(Debug, Clone, PartialEq, Error)]
#[error("invalid `{field}` = {value}: {rule}")]
pub struct ConfigError {
    /// The name of the bad field, exactly as in the config / CLI flag.
    pub field: &'static str,
    /// The rejected value, formatted.
    pub value: String,
    /// The rule it broke, e.g. "must lie in the open interval (0, 1)".
    pub rule: String,
}

impl ConfigError {
    /// Builds an error for `field` holding `value` that broke `rule`.
    pub fn new(field: &'static str, value: impl std::fmt::Display, rule: impl Into<String>) -> Self {
        Self { field, value: value.to_string(), rule: rule.into() }
    }
}
