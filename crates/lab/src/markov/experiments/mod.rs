//! markov experiments: checked config → deterministic run(seed) → cached serde result. The modules
//! follow the figure ids: `canonical` (the (e, w, b) model, spec §2c/§3), `chain` (H* and U of the
//! chain, §1/§3/§6) and `train` (trained transformers, §4/§5).

pub mod canonical;
pub mod chain;
pub mod train;

use attnlab_markov::BinaryChain;

use crate::LabError;

/// The paper's name: its cache-key code version (`code_version`) and every claim's paper.
pub const PAPER: &str = "markov";

/// A checked chain from literal (p, q).
pub fn chain(p: f64, q: f64) -> Result<BinaryChain, LabError> {
    Ok(BinaryChain::new(p, q)?)
}
