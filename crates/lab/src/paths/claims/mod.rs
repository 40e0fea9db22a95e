//! paths claims: a result → judgements through the comparator.
//!
//! - [`markov_task`]: the hidden-Markov-chain task (Fig 2c, 2d, 2e, pre-kernels): `paths.fig2c.*`,
//!   `paths.fig2d.alignment`, `paths.fig2e.*`, `paths.kernels.block`.
//! - [`standin`]: the image-free stand-in for Fig 3: `paths.fig3.standin.*`, `paths.fig3c.gd-pattern`,
//!   `paths.fig3e.score-vs-drop`, `paths.fig3f.flat`.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};

pub mod markov_task;
pub mod standin;

/// A claim of this paper.
fn claim(id: &str, kind: Kind, statement: impl Into<String>, section: &str) -> Claim {
    Claim::new(id, "paths", kind, statement, section)
}

/// A yes/no property: it holds or not.
const HOLDS: Rule = Rule::abs(0.0, "a yes/no property of deterministic numbers: it holds or not");

/// A yes/no check as a claim: predicted 1 (true), observed 1 or 0, tolerance 0.
fn check(id: &str, kind: Kind, statement: String, section: &str, ok: bool, fig: &str) -> Judgement {
    Judgement::new(
        claim(id, kind, statement, section),
        Some(1.0),
        Observation::exact(if ok { 1.0 } else { 0.0 }),
        HOLDS,
        fig,
        "(1 = holds)",
    )
}

/// Sampled-vs-theory accuracy: ±1 point.
const SAMPLES_ACCURACY: Rule =
    Rule::abs(0.01, "spec §6: the sampled mean predictor must match the theory's; 1 point of test accuracy");
/// Sampled-vs-theory correlation of mean predictors: 1 − 0.01.
const SAMPLES_CORRELATION: Rule =
    Rule::abs(0.01, "spec §6: the two mean predictors agree input by input; correlation ≥ 0.99");
/// The rationale of the finite-N gap 1.5/N on U.
const FINITE_N_GAP: &str =
    "spec §6, §10.10: the saddle point's finite-N gap to sampling, ~13% at N = 10 and ~2% at N = 50, bounded by 1.5/N";
