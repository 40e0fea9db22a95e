//! The comparator: judges a theory's prediction against an experiment's observation.
//!
//! It never sees how a number was made. A [`Claim`] (id, paper, [`Kind`], statement, source) comes
//! with the theory's predicted value (or none, where the paper states only a qualitative law), an
//! [`Observation`] that carries its own 95% interval and the [`Method`] that made it, and a [`Rule`]:
//! the pass interval with its one-line rationale, declared next to the claim and registered in the
//! ledger ([`ledger`]) with when it was fixed (before or after the claim had results). The verdict
//! compares the two
//! intervals:
//! - **agrees** when the observation's 95% interval lies inside the pass interval;
//! - **disagrees** when the two intervals do not overlap;
//! - **inconclusive** otherwise — in particular whenever the observation's interval is wider than
//!   the pass interval, since it cannot then lie inside it.
//!
//! Intervals match the data ([`Observation`]'s constructors): a mean of n independent samples uses
//! Student-t with n − 1 degrees of freedom, a proportion k/n the Wilson score interval, a statistic
//! that is neither a seeded bootstrap (computed by the experiment), a deterministic value the exact
//! point. A row whose interval excludes the predicted value is flagged even when it lies inside the
//! pass interval ([`Judgement::excludes_predicted`]).

pub mod design;
pub mod ledger;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

pub use design::{Decidable, decidable, mcnemar_exact};
pub use ledger::{Ledger, LedgerError, Registered, SourceQuality};

/// z-value of the two-sided 95% normal interval (used by the Wilson interval).
pub const Z95: f64 = 1.959_963_984_540_054;

/// What a claim is evidence of; REPORT.md counts verdicts by kind and never counts a control as a
/// confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A theorem checked on the theorem's own model and assumptions.
    Theorem,
    /// A published figure's behaviour, reproduced on the paper's experimental model.
    Reproduction,
    /// A sanity or negative control, or an identity that holds by construction.
    Control,
    /// attnlab's runs against runs of the authors' own code at the same setting: evidence about the
    /// implementation, not about the paper's claim.
    Fidelity,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 4] = [Kind::Theorem, Kind::Reproduction, Kind::Fidelity, Kind::Control];
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Theorem => "theorem",
            Kind::Reproduction => "reproduction",
            Kind::Control => "control",
            Kind::Fidelity => "fidelity",
        })
    }
}

/// A checkable statement from a paper. The id is the same in code, figure file names and REPORT.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// Dotted id, e.g. `markov.canonical.basin`.
    pub id: String,
    /// Short paper name, e.g. `markov` (Makkuva et al.).
    pub paper: String,
    /// What the claim is evidence of.
    pub kind: Kind,
    /// The statement, in words, with its numbers and the sizes it ran at.
    pub statement: String,
    /// Where it comes from: the spec section and the paper's figure or theorem, e.g. `§3 Basins; T1`.
    pub source: String,
}

impl Claim {
    /// Builds a claim.
    pub fn new(id: &str, paper: &str, kind: Kind, statement: impl Into<String>, source: &str) -> Self {
        Self { id: id.into(), paper: paper.into(), kind, statement: statement.into(), source: source.into() }
    }
}

/// How an observation's 95% interval was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// A deterministic value: the interval is the point.
    Exact,
    /// Student-t: value ± t_{0.975, df}·se.
    T,
    /// Wilson score interval of a proportion k/n.
    Wilson,
    /// Clopper–Pearson (exact binomial) interval of a proportion k/n.
    ClopperPearson,
    /// A seeded bootstrap percentile interval.
    Bootstrap,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Exact => "exact",
            Method::T => "t",
            Method::Wilson => "wilson",
            Method::ClopperPearson => "clopper-pearson",
            Method::Bootstrap => "bootstrap",
        })
    }
}

/// The two-sided 95% Student-t quantile t_{0.975, df}; ∞ for df = 0 (no spread can be estimated).
pub fn t95(df: usize) -> f64 {
    if df == 0 {
        return f64::INFINITY;
    }
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

/// The Wilson score 95% interval of a proportion k/n (the whole of [0, 1] for n = 0).
pub fn wilson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (k, n, z2) = (k.min(n) as f64, n as f64, Z95 * Z95);
    let centre = (k + z2 / 2.0) / (n + z2);
    let half = Z95 / (n + z2) * (k * (n - k) / n + z2 / 4.0).sqrt();
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// What the experiment measured, with its own 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Measured value (a mean over seeds / batches, a proportion, a fitted slope, a maximum …).
    pub value: f64,
    /// Its standard error, where one exists (a mean, a regression slope).
    pub se: Option<f64>,
    /// Number of independent samples behind it.
    pub n: usize,
    /// Its 95% interval [lo, hi]; a bound may be infinite (serialised as null).
    #[serde(with = "bounds")]
    pub interval: [f64; 2],
    /// How the interval was made.
    pub method: Method,
}

impl Observation {
    /// A deterministic value: the interval is the point itself.
    pub fn exact(value: f64) -> Self {
        Self { value, se: None, n: 1, interval: [value, value], method: Method::Exact }
    }

    /// The mean of n independent samples: Student-t with n − 1 degrees of freedom (an interval of
    /// infinite width for n = 1, which can never agree).
    pub fn mean(m: attnlab_core::MeanSe) -> Self {
        Self::t(m.mean, m.se, m.n.saturating_sub(1), m.n)
    }

    /// An estimate with standard error `se` on `df` degrees of freedom (e.g. a least-squares slope
    /// from n points has df = n − 2): value ± t_{0.975, df}·se.
    pub fn t(value: f64, se: f64, df: usize, n: usize) -> Self {
        // No degrees of freedom: no spread can be estimated, whatever se says.
        let half = if df == 0 {
            f64::INFINITY
        } else if se == 0.0 {
            0.0
        } else {
            t95(df) * se
        };
        Self { value, se: Some(se), n, interval: [value - half, value + half], method: Method::T }
    }

    /// A proportion k/n of independent runs or points: the Wilson score interval.
    pub fn proportion(k: usize, n: usize) -> Self {
        let value = if n == 0 { f64::NAN } else { k as f64 / n as f64 };
        Self { value, se: None, n, interval: wilson(k, n), method: Method::Wilson }
    }

    /// A statistic with a seeded bootstrap 95% interval `ci` from `n` independent samples.
    pub fn bootstrap(value: f64, ci: [f64; 2], n: usize) -> Self {
        Self { value, se: None, n, interval: ci, method: Method::Bootstrap }
    }
}

/// The pass interval's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// predicted ± t.
    Absolute(f64),
    /// predicted ± r·|predicted|.
    Relative(f64),
    /// A pass interval stated directly, [lo, hi] (a bound may be infinite, serialised as null): for
    /// a claim without a theory value, or a one-sided one (e.g. "at least half the runs").
    Within(#[serde(with = "bounds")] [f64; 2]),
}

impl Tolerance {
    /// The pass interval around `predicted` (NaN where the tolerance needs a prediction and has none).
    pub fn pass_interval(&self, predicted: Option<f64>) -> [f64; 2] {
        match (*self, predicted) {
            (Tolerance::Within(i), _) => i,
            (Tolerance::Absolute(t), Some(p)) => [p - t, p + t],
            (Tolerance::Relative(r), Some(p)) => [p - r * p.abs(), p + r * p.abs()],
            (_, None) => [f64::NAN, f64::NAN],
        }
    }

    /// Whether a single exact `value` lies within this tolerance of `prediction` (no uncertainty:
    /// used to classify one run, e.g. a training run's ending by the spec markov §6 bands).
    pub fn admits(&self, prediction: f64, value: f64) -> bool {
        let [lo, hi] = self.pass_interval(Some(prediction));
        lo <= value && value <= hi
    }
}

impl std::fmt::Display for Tolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tolerance::Absolute(t) => write!(f, "±{}", fmt_num(*t)),
            Tolerance::Relative(r) => write!(f, "±{}%", fmt_num(100.0 * r)),
            Tolerance::Within(i) => f.write_str(&fmt_interval(*i)),
        }
    }
}

/// A pass rule: a tolerance and the one-line reason for it, declared once next to its claim (a
/// `const`) and registered in the ledger ([`ledger`]), which says whether it was fixed before the
/// claim had results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// The pass interval's shape.
    pub tolerance: Tolerance,
    /// Why this width: a standard error, a spec §6 criterion, the paper's own statement.
    pub rationale: &'static str,
}

impl Rule {
    /// predicted ± t, because `rationale`.
    pub const fn abs(t: f64, rationale: &'static str) -> Self {
        Self { tolerance: Tolerance::Absolute(t), rationale }
    }
    /// predicted ± r·|predicted|, because `rationale`.
    pub const fn rel(r: f64, rationale: &'static str) -> Self {
        Self { tolerance: Tolerance::Relative(r), rationale }
    }
    /// The pass interval [lo, hi], because `rationale`.
    pub const fn within(lo: f64, hi: f64, rationale: &'static str) -> Self {
        Self { tolerance: Tolerance::Within([lo, hi]), rationale }
    }
}

/// The comparator's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The observation's 95% interval lies inside the pass interval.
    Agrees,
    /// The observation's 95% interval lies outside the pass interval.
    Disagrees,
    /// Neither: the interval straddles the pass interval's edge (or something is not a number).
    Inconclusive,
    /// No verdict by design: a single run reported as such (its only interval would be evaluation
    /// noise), or a run outside the theorem's assumptions (it diverged). Never counted for or
    /// against a claim; the statement says which.
    NotJudged,
}

impl Verdict {
    /// Every verdict, in report order.
    pub const ALL: [Verdict; 4] = [Verdict::Agrees, Verdict::Disagrees, Verdict::Inconclusive, Verdict::NotJudged];
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Agrees => "agrees",
            Verdict::Disagrees => "disagrees",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotJudged => "not judged",
        })
    }
}

/// The verdict rule (see the crate docs) for an observation's 95% interval `ci` against the pass
/// interval `pass`. Bounds may be infinite; a NaN bound or a reversed interval is inconclusive.
pub fn judge_interval(ci: [f64; 2], pass: [f64; 2]) -> Verdict {
    let [lo, hi] = ci;
    let [plo, phi] = pass;
    if lo.is_nan() || hi.is_nan() || plo.is_nan() || phi.is_nan() || lo > hi || plo > phi {
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

/// One judged claim: a row of REPORT.md and an entry of `results/<figure-id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The claim (its fields sit at the top level of the JSON object).
    #[serde(flatten)]
    pub claim: Claim,
    /// The theory's value; None where the paper gives only a qualitative statement.
    pub predicted: Option<f64>,
    /// The experiment's value with its interval.
    pub observed: Observation,
    /// The interval the observation must lie in to agree.
    #[serde(with = "bounds")]
    pub pass_interval: [f64; 2],
    /// The pass rule's shape, as declared.
    pub tolerance: Tolerance,
    /// Why the pass interval is this wide (declared with the claim; the ledger says when).
    pub rationale: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The observation's interval excludes the predicted value (a statistical observation only):
    /// worth a look even when the verdict agrees.
    pub excludes_predicted: bool,
    /// Made by a smoke run (`--fast`): proves the pipeline runs, not the science.
    #[serde(default)]
    pub smoke: bool,
    /// The figure id that shows it.
    pub figure: String,
    /// Units or extra context shown next to the numbers (e.g. "nats", "fraction of runs").
    pub unit: String,
    /// Whether its design can reach each verdict, from n, method and pass interval alone
    /// ([`design::decidable`]).
    #[serde(default)]
    pub decidable: Decidable,
    /// The claim this judgement re-judges (same runs, a consequence of the other's verdict, or a
    /// twin), so it is no independent finding; None for an independent one.
    #[serde(default)]
    pub derived_from: Option<String>,
    /// When its rule was fixed, from the ledger ([`Ledger::register`]); None until registered.
    #[serde(default)]
    pub registered: Option<Registered>,
    /// The rule before it was changed after results, judged on the same data (after-results rules
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Original>,
    /// The frozen rule judged on a confirmation run with seeds never used before (after-results
    /// rules only): its verdict is the headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    /// How the prediction is known (the spec's tags), from the ledger.
    #[serde(default)]
    pub source_quality: Option<SourceQuality>,
}

/// The original rule of an after-results claim and its verdict on the same observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Original {
    /// Its shape.
    pub tolerance: Tolerance,
    /// Its rationale as first declared.
    pub rationale: String,
    /// Its pass interval.
    #[serde(with = "bounds")]
    pub pass_interval: [f64; 2],
    /// The verdict it gives (on today's observation, or as reported `at`).
    pub verdict: Verdict,
    /// Where the verdict is the one reported then (the observation has changed since): commit and
    /// sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The judgement of the frozen rule on a confirmation run (fresh seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The base seed of the confirmation run (a block never used before).
    pub seed: u64,
    /// The theory's value there (the same unless it depends on the sample).
    pub predicted: Option<f64>,
    /// What the confirmation run measured.
    pub observed: Observation,
    /// Its pass interval.
    #[serde(with = "bounds")]
    pub pass_interval: [f64; 2],
    /// Its verdict: the claim's headline.
    pub verdict: Verdict,
}

impl Judgement {
    /// Judges `observed` for `claim` by its `rule` around `predicted` (the theory's
    /// value, or None for a qualitative claim judged by a `Within` rule).
    pub fn new(
        claim: Claim,
        predicted: Option<f64>,
        observed: Observation,
        rule: Rule,
        figure: &str,
        unit: &str,
    ) -> Self {
        let pass_interval = rule.tolerance.pass_interval(predicted);
        let verdict = judge_interval(observed.interval, pass_interval);
        let excludes_predicted = observed.method != Method::Exact
            && predicted.is_some_and(|p| !(observed.interval[0] <= p && p <= observed.interval[1]));
        Self {
            claim,
            predicted,
            observed,
            pass_interval,
            tolerance: rule.tolerance,
            rationale: rule.rationale.into(),
            verdict,
            excludes_predicted,
            smoke: false,
            figure: figure.into(),
            unit: unit.into(),
            decidable: decidable(observed.method, observed.n, pass_interval),
            derived_from: None,
            registered: None,
            original: None,
            confirmation: None,
            source_quality: None,
        }
    }

    /// A value reported without a verdict (a single run, or a run outside the theorem's
    /// assumptions): `rule` is kept for the record, the verdict is [`Verdict::NotJudged`] and the
    /// design counts as deciding nothing by itself (it is not a test).
    pub fn not_judged(
        claim: Claim,
        predicted: Option<f64>,
        observed: Observation,
        rule: Rule,
        figure: &str,
        unit: &str,
    ) -> Self {
        let mut j = Self::new(claim, predicted, observed, rule, figure, unit);
        j.verdict = Verdict::NotJudged;
        j.excludes_predicted = false;
        j
    }

    /// Marks this judgement as derived from claim `id` (see [`Judgement::derived_from`]).
    pub fn derived(mut self, id: &str) -> Self {
        self.derived_from = Some(id.into());
        self
    }

    /// The claim's id.
    pub fn id(&self) -> &str {
        &self.claim.id
    }

    /// The verdict a reader should take: the confirmation run's where there is one.
    pub fn headline(&self) -> Verdict {
        self.confirmation.as_ref().map_or(self.verdict, |c| c.verdict)
    }

    /// An independent finding: not a control, not derived from another claim, and judged.
    pub fn is_finding(&self) -> bool {
        self.claim.kind != Kind::Control && self.derived_from.is_none() && self.verdict != Verdict::NotJudged
    }

    /// Attaches the judgement `c` of the same claim made on a confirmation run with base seed
    /// `seed` (fresh seeds), under this judgement's rule.
    pub fn confirm(&mut self, c: &Judgement, seed: u64) {
        let pass_interval = self.tolerance.pass_interval(c.predicted);
        self.confirmation = Some(Confirmation {
            seed,
            predicted: c.predicted,
            observed: c.observed,
            pass_interval,
            verdict: judge_interval(c.observed.interval, pass_interval),
        });
    }
}

/// Formats a number compactly for tables: 4 significant digits, scientific when tiny or huge.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x == f64::INFINITY {
        "∞".into()
    } else if x == f64::NEG_INFINITY {
        "−∞".into()
    } else if !x.is_finite() {
        format!("{x}")
    } else if x.abs() < 1e-3 || x.abs() >= 1e5 {
        format!("{x:.2e}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

/// Formats an interval: `[0.4385, 1.000]`.
pub fn fmt_interval(i: [f64; 2]) -> String {
    format!("[{}, {}]", fmt_num(i[0]), fmt_num(i[1]))
}

/// Serde for interval bounds: ±∞ (and NaN) as JSON null, null read back as −∞ for the lower bound
/// and +∞ for the upper one.
mod bounds {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[f64; 2], s: S) -> Result<S::Ok, S::Error> {
        let f = |x: f64| x.is_finite().then_some(x);
        serde::Serialize::serialize(&[f(b[0]), f(b[1])], s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
        let [lo, hi] = <[Option<f64>; 2]>::deserialize(d)?;
        Ok([lo.unwrap_or(f64::NEG_INFINITY), hi.unwrap_or(f64::INFINITY)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim::new("x", "p", Kind::Theorem, "s", "§")
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
        // One-sided pass intervals and infinite observation intervals.
        assert_eq!(judge_interval([0.6, 1.0], [0.5, f64::INFINITY]), Verdict::Agrees);
        assert_eq!(judge_interval([f64::NEG_INFINITY, f64::INFINITY], [0.0, 1.0]), Verdict::Inconclusive);
    }

    #[test]
    fn exact_values_agree_iff_inside() {
        let r = Rule::abs(0.1, "test");
        assert_eq!(Judgement::new(claim(), Some(1.0), Observation::exact(1.1), r, "f", "").verdict, Verdict::Agrees);
        assert_eq!(
            Judgement::new(claim(), Some(1.0), Observation::exact(1.1000001), r, "f", "").verdict,
            Verdict::Disagrees
        );
        assert_eq!(
            Judgement::new(claim(), Some(1.0), Observation::exact(f64::NAN), r, "f", "").verdict,
            Verdict::Inconclusive
        );
        let j = Judgement::new(claim(), Some(2.0), Observation::exact(2.1), Rule::rel(0.05, "test"), "f", "");
        assert_eq!(j.verdict, Verdict::Agrees);
        assert!(!j.excludes_predicted, "an exact value is never flagged");
        // A relative or absolute rule needs a prediction.
        assert_eq!(Judgement::new(claim(), None, Observation::exact(1.0), r, "f", "").verdict, Verdict::Inconclusive);
    }

    /// t_{0.975, df} from tables: 12.706 (df 1), 4.303 (df 2), 2.262 (df 9).
    #[test]
    fn t_quantiles() {
        assert!((t95(1) - 12.706_204_736).abs() < 1e-6, "{}", t95(1));
        assert!((t95(2) - 4.302_652_730).abs() < 1e-6, "{}", t95(2));
        assert!((t95(9) - 2.262_157_163).abs() < 1e-6, "{}", t95(9));
        assert!((t95(100_000) - Z95).abs() < 1e-4);
        assert_eq!(t95(0), f64::INFINITY);
        // A mean of n = 3 samples uses df = 2.
        let o = Observation::mean(attnlab_core::MeanSe { mean: 1.0, se: 0.1, n: 3 });
        assert_eq!(o.method, Method::T);
        assert!((o.interval[1] - 1.0 - 0.430_265_273).abs() < 1e-6);
        // One sample: no spread can be estimated, the interval is the whole line.
        let one = Observation::mean(attnlab_core::MeanSe::of(&[0.5]));
        assert_eq!(one.interval, [f64::NEG_INFINITY, f64::INFINITY]);
    }

    /// Wilson 95% intervals against published values (e.g. Newcombe 1998, Table I; R's
    /// `binom::binom.wilson`): 0/5 → [0, 0.4345], 3/3 → [0.4385, 1], 7/10 → [0.3968, 0.8922].
    #[test]
    fn wilson_intervals() {
        let close = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).abs() < 5e-5 && (a[1] - b[1]).abs() < 5e-5;
        assert!(close(wilson(0, 5), [0.0, 0.4345]), "{:?}", wilson(0, 5));
        assert!(close(wilson(3, 3), [0.4385, 1.0]), "{:?}", wilson(3, 3));
        assert!(close(wilson(7, 10), [0.3968, 0.8922]), "{:?}", wilson(7, 10));
        // 3/3 has width, so "all of 3 runs" does not agree with "at least half" for certain.
        let j = Judgement::new(claim(), Some(1.0), Observation::proportion(3, 3), Rule::within(0.5, 1.0, "t"), "f", "");
        assert_eq!(j.verdict, Verdict::Inconclusive);
        let j = Judgement::new(claim(), Some(1.0), Observation::proportion(5, 5), Rule::within(0.5, 1.0, "t"), "f", "");
        assert_eq!(j.verdict, Verdict::Agrees);
    }

    #[test]
    fn flags_an_interval_that_excludes_the_theory_inside_its_band() {
        // Theory 0.25, band [0, 0.4], CI [0.096, 0.178]: agrees, but flagged.
        let j = Judgement::new(
            claim(),
            Some(0.25),
            Observation::bootstrap(0.137, [0.096, 0.178], 8),
            Rule::within(0.0, 0.4, "t"),
            "f",
            "",
        );
        assert_eq!(j.verdict, Verdict::Agrees);
        assert!(j.excludes_predicted);
    }

    #[test]
    fn json_shape_and_round_trip() {
        let j = Judgement::new(
            claim(),
            None,
            Observation::mean(attnlab_core::MeanSe::of(&[0.5])),
            Rule::within(0.5, f64::INFINITY, "t"),
            "f",
            "u",
        );
        let v = serde_json::to_value(&j).unwrap();
        for key in ["id", "kind", "source", "predicted", "observed", "pass_interval", "verdict"] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        for key in ["value", "se", "n", "interval", "method"] {
            assert!(v["observed"].get(key).is_some(), "missing observed.{key} in {v}");
        }
        assert_eq!(v["observed"]["method"], "t");
        assert_eq!(v["kind"], "theorem");
        assert!(v["pass_interval"][1].is_null());
        let back: Judgement = serde_json::from_value(v).unwrap();
        assert_eq!(back.pass_interval, [0.5, f64::INFINITY]);
        assert_eq!(back.observed.interval, [f64::NEG_INFINITY, f64::INFINITY]);
    }

    #[test]
    fn number_format() {
        assert_eq!(fmt_num(0.61903), "0.6190");
        assert_eq!(fmt_num(12.3456), "12.35");
        assert_eq!(fmt_num(1e-10), "1.00e-10");
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_interval([0.5, f64::INFINITY]), "[0.5000, ∞]");
    }
}
