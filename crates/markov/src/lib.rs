//! Makkuva et al., "Attention with Markov" (spec `markov.md`): the paper's closed forms, in f64.
//!
//! - [`config`]: the checked chains (binary, V-state, lagged) and flow / SGD settings.
//! - [`chain`]: π, H*, U, bigram/unigram logits, slope s*, accuracies (spec §3, §6), plus the
//!   multi-state (V) and lagged order-k quantities (spec §1, §4).
//! - [`canonical`]: the 3-parameter (e, w, b) model of spec §2c — exact population loss, optimal
//!   bias b*, global and unigram critical sets, curvature, conserved energy, basins (spec §3).
//! - [`flow`]: gradient flow on (e, w) with b held at b*, by an adaptive Dormand–Prince integrator.
//! - [`sgd`]: SGD with momentum on the exact canonical loss (spec §3 "Check [derived]").
//! - [`sample`]: seeded samplers of the chains and Monte-Carlo cross-entropies of the predictors.

pub mod canonical;
pub mod chain;
pub mod config;
pub mod flow;
pub mod num;
pub mod sample;
pub mod sgd;

pub use canonical::{Basin, Canonical, CanonicalPoint};
pub use chain::{ChainTheory, LaggedTheory, MultiStateTheory};
pub use config::{BinaryChain, FlowConfig, LaggedChain, MultiStateChain, SgdConfig};
