//! Summary statistics shared by experiments and the comparator: mean ± standard error.

use serde::{Deserialize, Serialize};

/// Mean and standard error of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSe {
    /// Sample mean.
    pub mean: f64,
    /// Standard error of the mean (sample standard deviation / √n; 0 for n = 1).
    pub se: f64,
    /// Sample size.
    pub n: usize,
}

impl MeanSe {
    /// Mean and standard error of `xs` (NaN mean for an empty sample).
    pub fn of(xs: &[f64]) -> Self {
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = if n > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
        Self { mean, se: (var / n as f64).sqrt(), n }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_se() {
        let m = MeanSe::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.mean, 2.5);
        assert!((m.se - (5.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-15);
        assert_eq!(MeanSe::of(&[7.0]).se, 0.0);
    }
}
