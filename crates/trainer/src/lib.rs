//! The one candle trainer of attnlab: seeded models, one AdamW, one training loop.
//!
//! - [`config`]: the checked [`TrainConfig`] (from [`TrainSettings::check`]) with the reference defaults.
//! - [`model`]: theory (spec markov §2a), GPT-style (§2b) and attention-free (F15) models.
//! - the in-context network of the paths paper's Fig 3 stand-in lives in `attnlab-icl`, which trains it with this crate's loop and optimiser.
//! - [`attention`]: fused causal attention (a candle `CustomOp3` with its own backward) over the
//!   `attnlab_kernels` attention kernel.
//! - [`ops`]: fused layer norm, GELU and cross-entropy (candle custom ops with their own backward).
//! - [`optim`]: AdamW with decay groups, OneCycle and cosine schedules.
//! - [`train`]: the one step loop ([`train::step_loop`]) and the Markov run around it: seeded data,
//!   evaluation curve, final numbers (how a run ended is judged by the lab's claims, from the curve).
//! - [`weights`]: saving and loading a run's weights (safetensors).
//! - [`exact`]: the exact finite-N population loss of the theory model (enumerating 2^(N+1)
//!   sequences) with its gradient and Hessian, and the critical points θ*, θ_π of spec §3.

pub mod attention;
pub mod bench;
pub mod config;
pub mod exact;
pub mod model;
pub mod ops;
pub mod optim;
mod par;
pub mod train;
pub mod weights;

pub use config::{Data, TrainConfig, TrainSettings};
pub use model::{Arch, Model, ModelSpec};
pub use train::{Eval, Run, TrainOutcome, train};

/// Trainer errors.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A bad config field.
    #[error(transparent)]
    Config(#[from] attnlab_core::ConfigError),
    /// A candle failure (a bug, not bad input).
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// A weights file could not be written or read back.
    #[error("weights file {path}: {reason}")]
    Weights {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl TrainConfig {
    /// Trains this (checked) run.
    pub fn run(self) -> Result<TrainOutcome, TrainError> {
        train(self)
    }
}
