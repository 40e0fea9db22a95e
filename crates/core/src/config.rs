//! Checked config types: built only through constructors that validate every field once.
//!
//! Every constructor returns `Result<Self, ConfigError>` and the error names the field. The types
//! deserialise through the same constructors (`serde(try_from)`), so a config read from a file is
//! checked exactly like one typed on the command line.

use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// Field rules shared by every config constructor in attnlab (theory crates use them too).
pub mod rules {
    use crate::ConfigError;

    /// `x` must be a finite number.
    pub fn finite(field: &'static str, x: f64) -> Result<f64, ConfigError> {
        if x.is_finite() { Ok(x) } else { Err(ConfigError::new(field, x, "must be a finite number")) }
    }

    /// `x` must lie in the open interval (0, 1) — a transition probability of a chain.
    pub fn prob_open(field: &'static str, x: f64) -> Result<f64, ConfigError> {
        if x.is_finite() && x > 0.0 && x < 1.0 {
            Ok(x)
        } else {
            Err(ConfigError::new(field, x, "must lie in the open interval (0, 1)"))
        }
    }

    /// `x` must lie in the closed interval [0, 1].
    pub fn prob_closed(field: &'static str, x: f64) -> Result<f64, ConfigError> {
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(ConfigError::new(field, x, "must lie in the closed interval [0, 1]"))
        }
    }

    /// `x` must be finite and strictly positive.
    pub fn positive(field: &'static str, x: f64) -> Result<f64, ConfigError> {
        if x.is_finite() && x > 0.0 { Ok(x) } else { Err(ConfigError::new(field, x, "must be a finite number > 0")) }
    }

    /// `x` must be finite and ≥ 0.
    pub fn non_negative(field: &'static str, x: f64) -> Result<f64, ConfigError> {
        if x.is_finite() && x >= 0.0 { Ok(x) } else { Err(ConfigError::new(field, x, "must be a finite number >= 0")) }
    }

    /// A count that must be at least `min`.
    pub fn at_least(field: &'static str, n: usize, min: usize) -> Result<usize, ConfigError> {
        if n >= min { Ok(n) } else { Err(ConfigError::new(field, n, format!("must be at least {min}"))) }
    }
}

/// Deserialises a checked type through its constructor: `checked_deserialize!(T via Raw { a: f64, … })`
/// defines the plain `Raw` struct and `TryFrom<Raw> for T` calling `T::new(a, …)`. Every paper's
/// config crate uses it, so a config read from JSON passes the same checks as one built in code.
#[macro_export]
macro_rules! checked_deserialize {
    ($ty:ident via $raw:ident { $($f:ident : $t:ty),* $(,)? }) => {
        #[derive(::serde::Deserialize)]
        struct $raw {
            $($f: $t),*
        }

        impl TryFrom<$raw> for $ty {
            type Error = $crate::ConfigError;
            fn try_from(r: $raw) -> Result<Self, $crate::ConfigError> {
                Self::new($(r.$f),*)
            }
        }
    };
}

/// A closed interval [lo, hi] sampled at n ≥ 2 evenly spaced points (axes of grids and sweeps).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RangeRaw")]
pub struct Range1 {
    lo: f64,
    hi: f64,
    n: usize,
}

checked_deserialize!(Range1 via RangeRaw { lo: f64, hi: f64, n: usize });

impl Range1 {
    /// Checks lo, hi finite, lo < hi, n ≥ 2.
    pub fn new(lo: f64, hi: f64, n: usize) -> Result<Self, ConfigError> {
        let lo = rules::finite("lo", lo)?;
        let hi = rules::finite("hi", hi)?;
        if hi <= lo {
            return Err(ConfigError::new("hi", hi, format!("must be greater than lo = {lo}")));
        }
        Ok(Self { lo, hi, n: rules::at_least("n", n, 2)? })
    }
    /// Lower end.
    pub fn lo(&self) -> f64 {
        self.lo
    }
    /// Upper end.
    pub fn hi(&self) -> f64 {
        self.hi
    }
    /// Number of points.
    pub fn n(&self) -> usize {
        self.n
    }
    /// The i-th point, i in 0..n.
    pub fn at(&self, i: usize) -> f64 {
        self.lo + (self.hi - self.lo) * i as f64 / (self.n - 1) as f64
    }
    /// All n points.
    pub fn points(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.at(i)).collect()
    }
}

/// Something that can re-validate itself (used by tests and by configs assembled from parts).
pub trait Check {
    /// Ok if every field satisfies its rule.
    fn check(&self) -> Result<(), ConfigError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_points_span_the_interval() {
        let r = Range1::new(-1.0, 1.0, 5).unwrap();
        assert_eq!(r.points(), vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
        assert_eq!(Range1::new(1.0, 1.0, 5).unwrap_err().field, "hi");
        assert_eq!(Range1::new(0.0, 1.0, 1).unwrap_err().field, "n");
    }
}
