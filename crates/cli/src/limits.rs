//! Upper bounds on the count fields of the commands: past them a run would need more memory than a
//! workstation has (it would abort) or run for days (it would look hung). A count over its bound is
//! refused up front, the error naming the field, the bound and why.

use std::fmt::Display;

/// Refuses `n` above `max` for `field`; `why` completes "…: {why}".
pub fn at_most<N: Into<u128> + Copy + Display>(field: &'static str, n: N, max: u64, why: &str) -> anyhow::Result<()> {
    if n.into() > u128::from(max) {
        return Err(attnlab_core::ConfigError::new(field, n, format!("must be at most {max}: {why}")).into());
    }
    Ok(())
}

/// Why a replicate count is bounded.
pub const REPLICATES: &str = "each replicate draws and evaluates its own sequences; more would run for days";
