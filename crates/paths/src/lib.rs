//! Tiberi, Mignacco, Irie, Sompolinsky (NeurIPS 2024), "Dissecting the interplay of attention paths
//! in a statistical mechanics theory of transformers" (spec `paths.md`).
//!
//! The Bayesian deep multi-head attention network of spec §1 (fixed attention from the raw input,
//! learned value matrices) has, at finite width N, a posterior mean predictor given by a kernel
//! K = Σ_{ππ'} U_{ππ'} C_{ππ'} over attention paths π; U solves a saddle-point problem (spec §3).
//!
//! - [`attention`]: heads from fixed bilinear weights, path inputs ξ_π and X̃_π (spec §1, §3).
//! - [`kernel`]: path–path pre-kernels C_{ππ'} on the training set.
//! - [`action`]: the action S(U) for any depth, u_a in closed form, analytic gradients (spec §3).
//! - [`solver`]: L-BFGS over Cholesky factors of every U_ℓ.
//! - [`predict`]: mean predictor and its variance, accuracy, GP limit.
//! - [`analysis`]: kernel–label alignment, head scores, theory-side pruning (spec §4).
//! - [`markov_task`]: the hidden-Markov-chain classification task (spec §5).
//! - [`gibbs`]: blocked Gibbs sampling of the finite-width posterior with Matheron's rule (spec §6).
//! - [`case`]: the checked JSON input of `attnlab paths theory`.

pub mod action;
pub mod analysis;
pub mod attention;
pub mod case;
pub mod gibbs;
pub mod kernel;
pub mod markov_task;
pub mod predict;
pub mod solver;

use thiserror::Error;

pub use action::{Action, Architecture, OrderParams};
pub use attention::{PathInputs, Readout};
pub use kernel::PreKernels;
pub use solver::{Solution, SolverOptions, solve};

/// Errors of the paths crate. Each names the offending field where there is one.
#[derive(Debug, Error)]
pub enum PathsError {
    /// A scalar parameter was rejected at the boundary.
    #[error(transparent)]
    Config(#[from] attnlab_core::ConfigError),
    /// An array has the wrong shape or a non-finite entry.
    #[error("invalid `{field}`: {detail}")]
    Shape {
        /// The field, as in the JSON input (`x`, `y`, `heads`, …).
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// K + τI (or an order parameter) is not positive definite at the starting point.
    #[error("{0} is not positive definite")]
    NotPositiveDefinite(&'static str),
    /// The JSON input could not be parsed.
    #[error("invalid JSON input: {0}")]
    Json(#[from] serde_json::Error),
}

impl PathsError {
    /// A shape error on `field`.
    pub fn shape(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Shape { field: field.into(), detail: detail.into() }
    }
}
