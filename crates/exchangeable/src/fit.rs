//! Rate checks (spec §3, pitfall §5.6): ordinary least-squares slopes of log y against log x, with
//! seeded bootstrap 95% percentile confidence intervals that resample the replicates behind each
//! point independently.

use attnlab_core::rng::{child_seed, seeded_rng};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Number of bootstrap resamples used by the experiments.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// OLS fit y = a + b·x; returns (slope b, intercept a).
pub fn ols(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let b = sxy / sxx;
    (b, my - b * mx)
}

/// OLS slope of ln y against ln x; returns (slope, intercept of the ln–ln line).
pub fn loglog(x: &[f64], y: &[f64]) -> (f64, f64) {
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    ols(&lx, &ly)
}

/// A fitted log-log slope with its bootstrap 95% CI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlopeFit {
    /// The OLS slope on the full data.
    pub slope: f64,
    /// Intercept of the ln–ln line (to draw the fit).
    pub intercept: f64,
    /// Bootstrap 95% percentile interval [2.5%, 97.5%].
    pub ci: [f64; 2],
    /// Bootstrap standard deviation of the slope.
    pub se: f64,
}

/// The 2.5% and 97.5% percentiles and the standard deviation of `xs`. Non-finite resamples (a
/// log of a non-positive resampled mean) are left out while they are under 5% of the total; beyond
/// that the interval is [NaN, NaN], which the comparator judges inconclusive.
pub fn percentile_ci(xs: &mut Vec<f64>) -> ([f64; 2], f64) {
    let total = xs.len();
    xs.retain(|v| v.is_finite());
    if xs.len() < 2 || (total - xs.len()) * 20 > total {
        return ([f64::NAN, f64::NAN], f64::NAN);
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let q = |p: f64| {
        let t = p * (n - 1) as f64;
        let (i, f) = (t.floor() as usize, t - t.floor());
        if i + 1 < n { xs[i] * (1.0 - f) + xs[i + 1] * f } else { xs[n - 1] }
    };
    let m = xs.iter().sum::<f64>() / n as f64;
    let sd = (xs.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    ([q(0.025), q(0.975)], sd)
}

/// Resampled indices: for each group g of size sizes[g], sizes[g] draws with replacement. Paired
/// designs (the same replicates measured in every group, e.g. one draw evaluated at every w) reuse
/// one draw for all groups, which must then have equal sizes.
fn resample(sizes: &[usize], paired: bool, rng: &mut impl Rng) -> Vec<Vec<usize>> {
    if paired {
        let n = sizes[0];
        let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        return sizes.iter().map(|_| idx.clone()).collect();
    }
    sizes.iter().map(|&n| (0..n).map(|_| rng.random_range(0..n)).collect()).collect()
}

/// Bootstrap of any statistic of grouped replicates: `stat(idx)` gets, per group, the indices of the
/// replicates to use (identity for the point estimate). Returns (point value, CI, bootstrap sd).
/// `paired`: see [`resample`] (all sizes must then be equal).
pub fn bootstrap(
    sizes: &[usize],
    resamples: usize,
    seed: u64,
    paired: bool,
    stat: impl Fn(&[Vec<usize>]) -> f64 + Sync,
) -> (f64, [f64; 2], f64) {
    use rayon::prelude::*;
    let ident: Vec<Vec<usize>> = sizes.iter().map(|&n| (0..n).collect()).collect();
    let point = stat(&ident);
    let mut boots: Vec<f64> = (0..resamples)
        .into_par_iter()
        .map(|b| {
            let mut rng = seeded_rng(child_seed(seed, b as u64));
            stat(&resample(sizes, paired, &mut rng))
        })
        .collect();
    let (ci, sd) = percentile_ci(&mut boots);
    (point, ci, sd)
}

/// Log-log slope of y_g = stat(group g's resampled replicates) against x_g, with a bootstrap CI.
/// `group_stat(g, idx)` computes point g's y from the replicates `idx` of group g.
pub fn bootstrap_slope(
    x: &[f64],
    sizes: &[usize],
    resamples: usize,
    seed: u64,
    paired: bool,
    group_stat: impl Fn(usize, &[usize]) -> f64 + Sync,
) -> SlopeFit {
    let ys = |idx: &[Vec<usize>]| -> Vec<f64> { idx.iter().enumerate().map(|(g, ix)| group_stat(g, ix)).collect() };
    let ident: Vec<Vec<usize>> = sizes.iter().map(|&n| (0..n).collect()).collect();
    let (_, intercept) = loglog(x, &ys(&ident));
    let (slope, ci, se) = bootstrap(sizes, resamples, seed, paired, |idx| loglog(x, &ys(idx)).0);
    SlopeFit { slope, intercept, ci, se }
}

/// Root mean square of the selected entries.
pub fn rms_of(xs: &[f64], idx: &[usize]) -> f64 {
    (idx.iter().map(|&i| xs[i] * xs[i]).sum::<f64>() / idx.len() as f64).sqrt()
}

/// Mean of the selected entries.
pub fn mean_of(xs: &[f64], idx: &[usize]) -> f64 {
    idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ols_recovers_a_line() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 2.0 - 0.5 * v).collect();
        let (b, a) = ols(&x, &y);
        assert!((b + 0.5).abs() < 1e-14 && (a - 2.0).abs() < 1e-14);
    }

    #[test]
    fn percentiles_of_a_uniform_grid() {
        let mut xs: Vec<f64> = (0..=1000).map(|i| i as f64 / 1000.0).collect();
        let (ci, _) = percentile_ci(&mut xs);
        assert!((ci[0] - 0.025).abs() < 1e-12 && (ci[1] - 0.975).abs() < 1e-12);
        let mut few_nan: Vec<f64> = (0..100).map(|i| if i < 3 { f64::NAN } else { i as f64 }).collect();
        assert!(percentile_ci(&mut few_nan).0[0].is_finite());
        let mut many_nan: Vec<f64> = (0..100).map(|i| if i < 10 { f64::NAN } else { i as f64 }).collect();
        assert!(percentile_ci(&mut many_nan).0[0].is_nan());
    }
}
