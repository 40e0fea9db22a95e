//! Zhang, Liu, Cai, Wang, Wang — *An Analysis of Attention via the Lens of Exchangeability and Latent
//! Variable Models* (arXiv 2212.14852), as numbers (spec `exchangeable.md`).
//!
//! The paper is purely theoretical; this crate puts rates to it:
//! - [`bessel`]: scaled modified Bessel functions I₀, I₁ and A = I₁/I₀ (series / asymptotic, with
//!   the periodic trapezoid rule of spec §3 as the reference);
//! - [`model`]: the vMF-concept model M1 (value options (a) v = k and (b) v = g(k, z) + ε) and the
//!   linear-Gaussian model M2, with exact samplers (spec §3);
//! - [`theory`]: the closed forms — the tilted mean m_W(q, z) (spec §2), the M1(a) latent posterior
//!   on a grid centred at the Newton mode, the M2 posterior;
//! - [`attention`]: softmax attention, CME attention (kernel ridge regression) and the
//!   Nadaraya–Watson estimator (spec §2);
//! - [`fit`]: log-log slope fits with seeded bootstrap 95% confidence intervals;
//! - [`optim`]: Brent's minimiser, grid-then-Brent, and the parabola-refined argmin of a sampled
//!   curve.
//!
//! The experiments E1–E5 of spec §3 that use these live in `attnlab-lab` (`exchangeable::experiments`),
//! their claims in `exchangeable::claims`.
//!
//! Everything is f64; no neural-network library.

pub mod attention;
pub mod bessel;
pub mod fit;
pub mod model;
pub mod optim;
pub mod theory;

use thiserror::Error;

/// A 2-vector (keys, queries, values and the latent z all live in R², spec §3).
pub type Vec2 = [f64; 2];
/// A 2×2 matrix, row-major: `w[i][j]`.
pub type Mat2 = [[f64; 2]; 2];

/// Errors of this crate: a rejected parameter (naming the field) or a numerical failure.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExchError {
    /// A parameter was rejected at the boundary; the message names the field.
    #[error(transparent)]
    Config(#[from] attnlab_core::ConfigError),
    /// A linear system that should be positive definite was not (CME Gram matrix, OLS normal
    /// equations).
    #[error("{0}: matrix is not positive definite")]
    NotPositiveDefinite(&'static str),
}

/// The scaled identity W = w·I.
pub fn scaled_identity(w: f64) -> Mat2 {
    [[w, 0.0], [0.0, w]]
}

/// Wᵀq.
pub fn wt_times(w: &Mat2, q: Vec2) -> Vec2 {
    [w[0][0] * q[0] + w[1][0] * q[1], w[0][1] * q[0] + w[1][1] * q[1]]
}

/// Inner product.
pub fn dot(a: Vec2, b: Vec2) -> f64 {
    a[0] * b[0] + a[1] * b[1]
}

/// Euclidean norm.
pub fn norm(a: Vec2) -> f64 {
    a[0].hypot(a[1])
}
