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
use crate::task::{TRAIN_RUN, Task};
use crate::Lab;
use crate::LabError;

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

/// Estimated single-thread seconds of one training run on the reference machine (2-core x86 with
/// AVX-512), from `markov train` timed alone at one thread (the GPT-style model, B 16, N 1024,
/// lagged chain): 21.7 ms per step at d 8, L 1; 119 ms at d 32, L 1; 880 ms at d 32, L 8 — cost ∝
/// B·N·L·(d/8)^1.23, the attention share (60 %) scaled by the mean attended window (memory m);
/// the theory and MLP models at 0.8 of that; an evaluation batch costs a third of a step. Used to
/// order tasks and estimate the time left, never to judge anything.
pub fn estimated_cost_s(c: &TrainConfig) -> f64 {
    let n = c.seq_len as f64;
    let window = c.memory.map_or(n / 2.0, |m| (m as f64).min(n / 2.0));
    let attention = if c.arch == Arch::Mlp { 0.0 } else { 0.6 * window / (n / 2.0).max(1.0) };
    let model = match c.arch {
        Arch::Gpt => 1.0,
        Arch::Theory | Arch::Mlp => 0.8,
    };
    let step_ms = 21.7 * model * (c.batch as f64 / 16.0) * (n / 1024.0) * c.layers as f64 * (c.d as f64 / 8.0).powf(1.23) * (0.4 + attention);
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
