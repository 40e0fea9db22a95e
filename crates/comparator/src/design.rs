//! Whether a claim's design can decide, from its n, its interval method and its pass interval alone
//! (before any data): could the best possible outcome agree, and the worst possible disagree? A
//! claim where either is unreachable is refused by a paper-scale run, the way one without a source
//! is (spec-free: this is the statistics of the verdict rule in the crate docs).

use serde::{Deserialize, Serialize};
use statrs::distribution::{Beta, ContinuousCDF};

use crate::{Method, judge_interval, wilson};

/// What a design can reach (the default, neither, is what a result file written before this field
/// existed reads as, until the ledger registers it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Decidable {
    /// Some possible outcome gives "agrees".
    pub agree: bool,
    /// Some possible outcome gives "disagrees".
    pub disagree: bool,
}

impl Decidable {
    /// Both verdicts are reachable.
    pub fn both(&self) -> bool {
        self.agree && self.disagree
    }

    /// What is missing, in words ("cannot agree", "cannot disagree", "can neither agree nor
    /// disagree"), or None when both are reachable.
    pub fn fault(&self) -> Option<&'static str> {
        match (self.agree, self.disagree) {
            (true, true) => None,
            (false, true) => Some("cannot agree whatever the outcome"),
            (true, false) => Some("cannot disagree whatever the outcome"),
            (false, false) => Some("can neither agree nor disagree whatever the outcome"),
        }
    }
}

/// The Clopper–Pearson (exact binomial) 95% interval of k/n ([0, 1] for n = 0).
pub fn clopper_pearson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let k = k.min(n);
    let q = |a: f64, b: f64, p: f64| Beta::new(a, b).map_or(f64::NAN, |d| d.inverse_cdf(p));
    let lo = if k == 0 { 0.0 } else { q(k as f64, (n - k + 1) as f64, 0.025) };
    let hi = if k == n { 1.0 } else { q((k + 1) as f64, (n - k) as f64, 0.975) };
    [lo, hi]
}

/// The exact two-sided McNemar p-value for paired binary outcomes on one shared test set: `b`
/// items right under the first condition only, `c` right under the second only; under "no
/// difference" each discordant item goes either way with probability ½, so the p-value is
/// 2·P(Bin(b + c, ½) ≥ max(b, c)), at most 1.
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    use statrs::distribution::{Binomial, DiscreteCDF};
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.max(c) as u64;
    let tail = Binomial::new(0.5, n as u64).map_or(f64::NAN, |d| 1.0 - d.cdf(k - 1));
    (2.0 * tail).min(1.0)
}

/// Whether a claim observed by `method` from `n` independent samples (runs, seeds, clusters) can
/// reach each verdict against `pass`:
/// - a proportion (Wilson, Clopper–Pearson): every outcome k = 0…n is tried;
/// - a mean (Student-t) or a bootstrap: it needs n ≥ 2 (one sample estimates no spread); then the
///   best outcome (no spread) agrees when the pass interval has an inside, and the worst disagrees
///   when the pass interval is not the whole line;
/// - an exact value: the pass interval must not be empty (agree) nor the whole line (disagree).
pub fn decidable(method: Method, n: usize, pass: [f64; 2]) -> Decidable {
    let [lo, hi] = pass;
    if lo.is_nan() || hi.is_nan() || lo > hi {
        return Decidable { agree: false, disagree: false };
    }
    let bounded = lo.is_finite() || hi.is_finite();
    match method {
        Method::Wilson | Method::ClopperPearson => {
            let ci = |k| if method == Method::Wilson { wilson(k, n) } else { clopper_pearson(k, n) };
            let reach = |v| n > 0 && (0..=n).any(|k| judge_interval(ci(k), pass) == v);
            Decidable { agree: reach(crate::Verdict::Agrees), disagree: reach(crate::Verdict::Disagrees) }
        }
        Method::T | Method::Bootstrap => Decidable { agree: n >= 2, disagree: n >= 2 && bounded },
        Method::Exact => Decidable { agree: true, disagree: bounded },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportions_against_a_majority() {
        let majority = [0.5, 1.0];
        // 3 runs: 3/3 → [0.439, 1] and 0/3 → [0, 0.561] straddle 1/2: neither verdict.
        assert_eq!(decidable(Method::Wilson, 3, majority), Decidable { agree: false, disagree: false });
        // 5 runs: 5/5 → [0.566, 1] agrees, 0/5 → [0, 0.434] disagrees.
        assert!(decidable(Method::Wilson, 5, majority).both());
        // 8 cells against ≥ 0.8: 8/8 → [0.676, 1] cannot agree, 0/8 disagrees.
        assert_eq!(decidable(Method::Wilson, 8, [0.8, 1.0]), Decidable { agree: false, disagree: true });
        // 16 are enough (16/16 → [0.806, 1]).
        assert!(decidable(Method::Wilson, 16, [0.8, 1.0]).both());
        assert_eq!(decidable(Method::Wilson, 0, majority), Decidable { agree: false, disagree: false });
    }

    #[test]
    fn clopper_pearson_matches_tables() {
        // Exact binomial 95% intervals (e.g. R binom.test): 0/5 → [0, 0.5218], 7/10 → [0.3475, 0.9333].
        let close = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).abs() < 5e-5 && (a[1] - b[1]).abs() < 5e-5;
        assert!(close(clopper_pearson(0, 5), [0.0, 0.5218]), "{:?}", clopper_pearson(0, 5));
        assert!(close(clopper_pearson(7, 10), [0.3475, 0.9333]), "{:?}", clopper_pearson(7, 10));
        // 5 runs cannot decide "a majority" with the exact interval (5/5 → [0.478, 1], 0/5 → [0, 0.522]).
        assert_eq!(decidable(Method::ClopperPearson, 5, [0.5, 1.0]), Decidable { agree: false, disagree: false });
        assert!(decidable(Method::ClopperPearson, 6, [0.5, 1.0]).both());
    }

    /// Exact McNemar p-values from the binomial: b = 0, c = 6 → 2/64; b = 2, c = 8 →
    /// 2·P(Bin(10, ½) ≥ 8) = 2·56/1024; ties → 1.
    #[test]
    fn mcnemar_matches_the_binomial() {
        assert!((mcnemar_exact(0, 6) - 2.0 / 64.0).abs() < 1e-12);
        assert!((mcnemar_exact(2, 8) - 112.0 / 1024.0).abs() < 1e-12);
        assert!((mcnemar_exact(8, 2) - 112.0 / 1024.0).abs() < 1e-12);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
    }

    #[test]
    fn means_exact_values_and_faults() {
        assert_eq!(decidable(Method::T, 1, [0.0, 1.0]), Decidable { agree: false, disagree: false });
        assert!(decidable(Method::T, 3, [0.0, 1.0]).both());
        // A one-sided pass interval can still be missed; the whole line cannot.
        assert!(decidable(Method::Bootstrap, 8, [0.0, f64::INFINITY]).both());
        assert!(!decidable(Method::Exact, 1, [f64::NEG_INFINITY, f64::INFINITY]).disagree);
        assert!(decidable(Method::Exact, 1, [1.0, 1.0]).both());
        assert!(!decidable(Method::T, 5, [f64::NAN, 1.0]).agree);
        assert_eq!(Decidable { agree: false, disagree: true }.fault(), Some("cannot agree whatever the outcome"));
        assert_eq!(Decidable { agree: true, disagree: true }.fault(), None);
    }
}
