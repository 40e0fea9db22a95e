//! paths claims: a result → judgements through the comparator.
//!
//! - [`markov_task`]: the hidden-Markov-chain task (Fig 2c, 2d, 2e, pre-kernels): `paths.fig2c.*`,
//!   `paths.fig2d.alignment`, `paths.fig2e.*`, `paths.kernels.block`.
//! - [`standin`]: the image-free stand-in for Fig 3: `paths.fig3.standin.*`, `paths.fig3c.gd-pattern`,
//!   `paths.fig3e.score-vs-drop`, `paths.fig3f.flat`.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance};

pub mod markov_task;
pub mod standin;

/// A claim of this paper.
fn claim(id: &str, statement: impl Into<String>, section: &str) -> Claim {
    Claim::new(id, "paths", statement, section)
}

/// A yes/no check as a claim: predicted 1 (true), observed 1 or 0, tolerance 0.
fn check(id: &str, statement: String, section: &str, ok: bool, fig: &str) -> Judgement {
    Judgement::new(claim(id, statement, section), 1.0, Observation::exact(if ok { 1.0 } else { 0.0 }), Tolerance::Absolute(0.0), fig, "(1 = holds)")
}
