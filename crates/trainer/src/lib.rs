//! Seeded candle trainer for the attnlab papers: data, models, AdamW + OneCycle, training loop.
//!
//! - [`config`]: the checked [`TrainConfig`] with the reference defaults.
//! - [`model`]: theory (spec markov §2a), GPT-style (§2b) and attention-free (F15) models.
//! - [`alloc`]: keeps freed memory for reuse (glibc), so steps do not page-fault their buffers in.
//! - [`attention`] / [`kernel`]: fused causal attention (a candle `CustomOp3` with its own backward).
//! - [`ops`]: fused layer norm, GELU and cross-entropy (candle custom ops with their own backward).
//! - [`optim`]: AdamW with decay groups and OneCycle cosine.
//! - [`train`]: the loop, evaluation, plateau length and how the run ended ([`Ending`]).
//! - [`exact`]: the exact finite-N population loss of the theory model (enumerating 2^(N+1)
//!   sequences) with its gradient and Hessian, and the critical points θ*, θ_π of spec §3.

pub mod alloc;
pub mod attention;
pub mod bench;
pub mod config;
pub mod exact;
pub mod icar;
pub mod icar_nonaug;
pub mod icl;
pub mod kernel;
pub mod model;
pub mod ops;
pub mod optim;
mod par;
pub mod train;

pub use config::{Data, TrainConfig, TrainSettings};
pub use model::{Arch, Model, ModelSpec};
pub use train::{Eval, Plateau, PlateauLength, Run, TrainOutcome, Ending, train};

/// Trainer errors.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A bad config field.
    #[error(transparent)]
    Config(#[from] attnlab_core::ConfigError),
    /// A candle failure (a bug, not bad input).
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
}

impl TrainConfig {
    /// Trains this (checked) run.
    pub fn run(self) -> Result<TrainOutcome, TrainError> {
        train(self)
    }
}
