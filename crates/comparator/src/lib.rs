//! The comparator: judges a theory's Prediction against an experiment's Observation.
//!
//! It never sees how a number was made. A claim (id, paper, statement, spec section) comes with a
//! Prediction, an Observation (value, standard error, n) and a Tolerance stated next to the claim.
//! The verdict compares the observation's 95% interval, value ± 1.96·se, with the pass interval
//! prediction ± tolerance:
//! - **agrees** when the observation's interval lies inside the pass interval;
//! - **disagrees** when the two intervals do not overlap;
//! - **inconclusive** otherwise — in particular whenever 1.96·se exceeds the tolerance, since an
//!   interval wider than the pass interval cannot lie inside it.
//!
//! A deterministic observation (se = 0) thus agrees iff |value − prediction| ≤ tolerance.

use serde::{Deserialize, Serialize};

/// z-value of the two-sided 95% normal interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A checkable statement from a paper. The id is the same in code, figure file names and REPORT.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// Dotted id, e.g. `markov.canonical.basin`.
    pub id: String,
    /// Short paper name, e.g. `markov` (Makkuva et al.).
    pub paper: String,
    /// The statement, in words, with its numbers.
    pub statement: String,
    /// Where the spec states it, e.g. `§3 Basins`.
    pub spec_section: String,
}

impl Claim {
    /// Builds a claim.
    pub fn new(id: &str, paper: &str, statement: impl Into<String>, spec_section: &str) -> Self {
        Self { id: id.into(), paper: paper.into(), statement: statement.into(), spec_section: spec_section.into() }
    }
}

/// What theory predicts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The predicted value.
    pub value: f64,
}

/// What the experiment measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Measured value (a mean over seeds / batches, a fraction, a maximum …).
    pub value: f64,
    /// Its standard error (0 for a deterministic measurement).
    pub se: f64,
    /// Number of independent samples behind it.
    pub n: usize,
}

impl Observation {
    /// A deterministic measurement (se = 0, n = 1).
    pub fn exact(value: f64) -> Self {
        Self { value, se: 0.0, n: 1 }
    }
    /// A mean with its standard error.
    pub fn mean(m: attnlab_core::MeanSe) -> Self {
        Self { value: m.mean, se: m.se, n: m.n }
    }
    /// A fraction k/n of successes with its binomial standard error √(f(1−f)/n).
    pub fn fraction(k: usize, n: usize) -> Self {
        let f = k as f64 / n.max(1) as f64;
        Self { value: f, se: (f * (1.0 - f) / n.max(1) as f64).sqrt(), n }
    }
}

/// How far an observation may be from the prediction and still agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// |observed − predicted| ≤ t.
    Absolute(f64),
    /// |observed − predicted| ≤ r·|predicted|.
    Relative(f64),
}

impl Tolerance {
    /// Half-width of the pass interval around `prediction`.
    pub fn half_width(&self, prediction: f64) -> f64 {
        match *self {
            Tolerance::Absolute(t) => t,
            Tolerance::Relative(r) => r * prediction.abs(),
        }
    }

    /// Whether a single exact `value` lies within this tolerance of `prediction` (no uncertainty:
    /// used to classify one run, e.g. a training run's ending by the spec markov §6 bands).
    pub fn admits(&self, prediction: f64, value: f64) -> bool {
        (value - prediction).abs() <= self.half_width(prediction)
    }
}

impl std::fmt::Display for Tolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tolerance::Absolute(t) => write!(f, "±{}", fmt_num(*t)),
            Tolerance::Relative(r) => write!(f, "±{}%", fmt_num(100.0 * r)),
        }
    }
}

/// The comparator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The observation's 95% interval lies inside prediction ± tolerance.
    Agrees,
    /// The observation's 95% interval lies outside prediction ± tolerance.
    Disagrees,
    /// Neither: the uncertainty straddles the tolerance.
    Inconclusive,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Agrees => "agrees",
            Verdict::Disagrees => "disagrees",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// The verdict rule (see the crate docs). A non-finite observation or prediction is inconclusive.
pub fn judge(prediction: Prediction, observation: Observation, tolerance: Tolerance) -> Verdict {
    let (p, o) = (prediction.value, observation.value);
    let half = tolerance.half_width(p);
    let u = Z95 * observation.se;
    if !(p.is_finite() && o.is_finite() && half.is_finite() && u.is_finite()) {
        return Verdict::Inconclusive;
    }
    let (lo, hi) = (o - u, o + u);
    let (plo, phi) = (p - half, p + half);
    if lo >= plo && hi <= phi {
        Verdict::Agrees
    } else if hi < plo || lo > phi {
        Verdict::Disagrees
    } else {
        Verdict::Inconclusive
    }
}

/// The verdict for an interval estimate `ci` = [lo, hi] (e.g. a bootstrap 95% confidence interval,
/// possibly asymmetric) against a pass interval `pass` = [plo, phi], by the same rule as [`judge`]:
/// agrees when `ci` lies inside `pass`, disagrees when they do not overlap, inconclusive otherwise
/// (and whenever a bound is not finite or an interval is reversed).
pub fn judge_interval(ci: [f64; 2], pass: [f64; 2]) -> Verdict {
    let [lo, hi] = ci;
    let [plo, phi] = pass;
    if !(lo.is_finite() && hi.is_finite() && plo.is_finite() && phi.is_finite()) || lo > hi || plo > phi {
        return Verdict::Inconclusive;
    }
    if lo >= plo && hi <= phi {
        Verdict::Agrees
    } else if hi < plo || lo > phi {
        Verdict::Disagrees
    } else {
        Verdict::Inconclusive
    }
}

/// One judged claim: a row of REPORT.md and an entry of `figures/results/claims.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The claim.
    pub claim: Claim,
    /// Theory's value.
    pub prediction: Prediction,
    /// Experiment's value.
    pub observation: Observation,
    /// The stated tolerance.
    pub tolerance: Tolerance,
    /// The verdict.
    pub verdict: Verdict,
    /// The figure id that shows it.
    pub figure: String,
    /// Units or extra context shown next to the numbers (e.g. "nats", "fraction of 441 points").
    pub unit: String,
}

impl Judgement {
    /// Judges `observation` against `prediction` for `claim`.
    pub fn new(
        claim: Claim,
        prediction: f64,
        observation: Observation,
        tolerance: Tolerance,
        figure: &str,
        unit: &str,
    ) -> Self {
        let prediction = Prediction { value: prediction };
        let verdict = judge(prediction, observation, tolerance);
        Self { claim, prediction, observation, tolerance, verdict, figure: figure.into(), unit: unit.into() }
    }
}

impl Judgement {
    /// Judges an estimate with a 95% interval `ci` (e.g. from a bootstrap) against the pass interval
    /// `pass` with [`judge_interval`]. The stored prediction ± tolerance is the pass interval's
    /// centre ± half-width; the stored observation has se = (hi − lo)/(2·1.96), so REPORT.md's
    /// "value ± 1.96·SE" shows the interval's half-width (the verdict uses `ci` itself).
    pub fn interval(claim: Claim, estimate: f64, ci: [f64; 2], n: usize, pass: [f64; 2], figure: &str, unit: &str) -> Self {
        let prediction = Prediction { value: 0.5 * (pass[0] + pass[1]) };
        let tolerance = Tolerance::Absolute(0.5 * (pass[1] - pass[0]));
        let observation = Observation { value: estimate, se: (ci[1] - ci[0]) / (2.0 * Z95), n };
        let verdict = judge_interval(ci, pass);
        Self { claim, prediction, observation, tolerance, verdict, figure: figure.into(), unit: unit.into() }
    }
}

/// Formats a number compactly for tables: 4 significant digits, scientific when tiny or huge.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if !x.is_finite() {
        format!("{x}")
    } else if x.abs() < 1e-3 || x.abs() >= 1e5 {
        format!("{x:.2e}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(v: f64, se: f64) -> Observation {
        Observation { value: v, se, n: 10 }
    }

    #[test]
    fn verdict_rules() {
        let p = Prediction { value: 1.0 };
        let t = Tolerance::Absolute(0.1);
        assert_eq!(judge(p, obs(1.05, 0.01), t), Verdict::Agrees);
        assert_eq!(judge(p, obs(1.5, 0.01), t), Verdict::Disagrees);
        // Uncertainty larger than the tolerance: never "agrees".
        assert_eq!(judge(p, obs(1.0, 0.2), t), Verdict::Inconclusive);
        // Straddling the edge.
        assert_eq!(judge(p, obs(1.1, 0.02), t), Verdict::Inconclusive);
        // Deterministic observations.
        assert_eq!(judge(p, Observation::exact(1.1), t), Verdict::Agrees);
        assert_eq!(judge(p, Observation::exact(1.1000001), t), Verdict::Disagrees);
        assert_eq!(judge(p, Observation::exact(f64::NAN), t), Verdict::Inconclusive);
        assert_eq!(judge(Prediction { value: 2.0 }, Observation::exact(2.1), Tolerance::Relative(0.05)), Verdict::Agrees);
    }

    #[test]
    fn interval_verdicts() {
        let pass = [-0.55, -0.45];
        assert_eq!(judge_interval([-0.52, -0.47], pass), Verdict::Agrees);
        assert_eq!(judge_interval([-0.42, -0.30], pass), Verdict::Disagrees);
        assert_eq!(judge_interval([-0.60, -0.50], pass), Verdict::Inconclusive);
        // Wider than the pass interval: never agrees.
        assert_eq!(judge_interval([-0.7, -0.3], pass), Verdict::Inconclusive);
        assert_eq!(judge_interval([f64::NAN, -0.5], pass), Verdict::Inconclusive);
        assert_eq!(judge_interval([-0.4, -0.6], pass), Verdict::Inconclusive);
        // An asymmetric interval is judged as it is, not as a symmetric ± band.
        let j = Judgement::interval(Claim::new("x", "p", "s", "§"), -0.46, [-0.47, -0.40], 100, pass, "f", "");
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert!((j.prediction.value + 0.5).abs() < 1e-15);
        assert!((j.tolerance.half_width(j.prediction.value) - 0.05).abs() < 1e-15);
    }

    #[test]
    fn fraction_se() {
        let o = Observation::fraction(90, 100);
        assert!((o.value - 0.9).abs() < 1e-15);
        assert!((o.se - 0.03).abs() < 1e-12);
        assert_eq!(Observation::fraction(100, 100).se, 0.0);
    }

    #[test]
    fn number_format() {
        assert_eq!(fmt_num(0.61903), "0.6190");
        assert_eq!(fmt_num(12.3456), "12.35");
        assert_eq!(fmt_num(1e-10), "1.00e-10");
        assert_eq!(fmt_num(0.0), "0");
    }
}
