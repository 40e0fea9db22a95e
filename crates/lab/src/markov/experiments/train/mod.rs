//! Trained transformers (spec §2a/§2b models, §4 higher order and depth, §5 figures): loss curves of
//! groups of runs (`curves`), (p, q) phase diagrams (`phase`), the memory sweep on the lagged chain
//! (`sweep`) and the attention probes of the theory model (`attention`). Every run goes through the
//! seeded candle trainer with a checked [`TrainConfig`].

pub mod attention;
pub mod curves;
pub mod phase;
pub mod sweep;

use attnlab_trainer::{Data, TrainConfig};
use rayon::prelude::*;

use crate::LabError;

/// What one training run produces (the records of these experiments hold one per run).
pub use attnlab_trainer::TrainOutcome;

/// Trains every run (in parallel over runs), keeping the evaluation curves but dropping the
/// per-step training losses.
pub fn train_all(runs: &[TrainConfig]) -> Result<Vec<TrainOutcome>, LabError> {
    runs.par_iter()
        .map(|c| {
            let mut o = c.clone().run()?;
            o.train_loss = Vec::new();
            Ok(o)
        })
        .collect()
}

/// P(x_{n+1} = 1 | conditioning symbol 0) of the run's chain: p (binary and lagged data; None for
/// multi-state data).
pub fn true_p1_given_0(c: &TrainConfig) -> Option<f64> {
    match &c.data {
        Data::Binary { chain, .. } => Some(chain.p()),
        Data::Lagged { chain } => Some(chain.chain().p()),
        Data::MultiState { .. } => None,
    }
}

/// Whether the run's data is the lagged order-k chain (its P̂(1 | state 0) conditions on
/// x_{n−k+1}, not x_n).
pub fn is_lagged(c: &TrainConfig) -> bool {
    matches!(c.data, Data::Lagged { .. })
}

/// Mean of the model's P̂(1 | state 0) over the recorded occurrences of state 0 in the held-out
/// sequence of one run (None when none were recorded).
pub fn mean_estimate(o: &TrainOutcome) -> Option<f64> {
    (!o.occurrences.is_empty()).then(|| o.occurrences.iter().sum::<f64>() / o.occurrences.len() as f64)
}
