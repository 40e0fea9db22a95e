//! Trained transformers (spec §2a/§2b models, §4 higher order and depth, §5 figures): loss curves of
//! groups of runs (`curves`), (p, q) phase diagrams (`phase`), the memory sweep on the lagged chain
//! (`sweep`) and the attention probes of the theory model (`attention`). Every run goes through the
//! seeded candle trainer with a checked [`TrainConfig`].

pub mod attention;
pub mod curves;
pub mod phase;
pub mod run;
pub mod sweep;

use attnlab_trainer::{Arch, Data, TrainConfig};
use rayon::prelude::*;

use super::PAPER;
use crate::Lab;
use crate::LabError;
use crate::task::{TRAIN_RUN, Task};

/// What one training run produces (the records of these experiments hold one per run).
pub use attnlab_trainer::TrainOutcome;
pub use run::train_one;

/// Trains every run (in parallel over runs, each cached on its own by [`train_one`]).
pub fn train_all(lab: &Lab, runs: &[TrainConfig]) -> Result<Vec<TrainOutcome>, LabError> {
    runs.par_iter().map(|c| train_one(lab, c).map(|(o, _)| o)).collect()
}

/// The tasks of `figure`: one per training run.
pub fn run_tasks(lab: &Lab, figure: &str, runs: &[TrainConfig]) -> Result<Vec<Task>, LabError> {
    runs.iter().map(|c| Task::new(lab, PAPER, TRAIN_RUN, figure, c, c.seed, estimated_cost_s(c))).collect()
}

/// Estimated seconds of one training run as `cargo xtask figures` runs it (one thread per run, two
/// runs side by side on the 2-core reference machine), fitted to the wall times the cache recorded
/// for the paper-scale runs (B 16): a step costs k · (d/d₀)^1.29 · L · (N/1024) · (s + (1 − s) ·
/// w/512), where w is the mean attended window (N/2 with full causal attention, the memory m if
/// smaller), s the share of the step that grows linearly in N, and k the cost at N 1024, L 1, d₀:
/// GPT-style 39.4 ms at d₀ 8 with s 0.65 (220 runs at N 1024, 5 at N 512), theory model 27.1 ms at
/// d₀ 4 with s 0.35 (15 runs at N 1024, 800 at N 256), attention-free model 8.2 ms at d₀ 4 (10 runs);
/// the exponent 1.29 from d 32 against d 8 (GPT-style). An evaluation batch costs a third of a step.
/// Used to order tasks and estimate the time left, never to judge anything.
pub fn estimated_cost_s(c: &TrainConfig) -> f64 {
    let n = c.seq_len as f64 / 1024.0;
    let window = c.memory.map_or(c.seq_len as f64 / 2.0, |m| (m as f64).min(c.seq_len as f64 / 2.0));
    let (k_ms, d0, linear) = match c.arch {
        Arch::Gpt => (39.4, 8.0, 0.65),
        Arch::Theory => (27.1, 4.0, 0.35),
        Arch::Mlp => (8.2, 4.0, 1.0),
    };
    let step_ms = k_ms
        * (c.d as f64 / d0).powf(1.29)
        * (c.batch as f64 / 16.0)
        * c.layers as f64
        * n
        * (linear + (1.0 - linear) * window / 512.0);
    let evals = (c.iters / c.eval_every + 1) * c.eval_batches + c.final_batches;
    let steps = c.iters as f64 + evals as f64 / 3.0;
    0.05 + step_ms * steps / 1000.0
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

/// The order k of the run's lagged chain (its P̂(1 | state 0) conditions on x_{n−k+1}); None for
/// other data.
pub fn lag_order(c: &TrainConfig) -> Option<usize> {
    match &c.data {
        Data::Lagged { chain } => Some(chain.order()),
        _ => None,
    }
}

/// Mean of the model's P̂(1 | state 0) over the recorded occurrences of state 0 in the held-out
/// sequence of one run (None when none were recorded).
pub fn mean_estimate(o: &TrainOutcome) -> Option<f64> {
    (!o.occurrences.is_empty()).then(|| o.occurrences.iter().sum::<f64>() / o.occurrences.len() as f64)
}
