//! Experiment `markov.train.attention` (spec §5 F13, F14; §3 "attention at convergence"): the 1-layer
//! theory model trained on p = 0.2, q = 0.3 with the attention probes on — the ratio
//! ‖Attn out‖/‖x + Attn out‖ along training and the attention matrix of a held-out sequence.

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use serde::{Deserialize, Serialize};

use super::train_all;
use crate::Lab;
use crate::LabError;
use crate::markov::experiments::{PAPER, chain};

/// Experiment id.
pub const ID: &str = "markov.train.attention";

/// The experiment's config: one run per seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The runs (theory model, p = 0.2, q = 0.3, probing on).
    pub runs: Vec<TrainConfig>,
}

/// Outcomes per seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttentionData {
    /// One per run.
    pub outcomes: Vec<TrainOutcome>,
}

/// The ratio curve of a run: (iteration, ‖Attn out‖/‖x + Attn out‖) at every evaluation with a
/// finite ratio.
pub fn ratio_curve(o: &TrainOutcome) -> Vec<(f64, f64)> {
    o.curve.iter().filter_map(|e| e.attn_ratio.filter(|r| r.is_finite()).map(|r| (e.iter as f64, r))).collect()
}

/// The base seed; run s has seed SEED + s. A fresh block (F13's rules changed after runs with
/// seeds 3000–3004 had results; see `curves::SEED`).
pub const SEED: u64 = 31_000;

/// The config at the lab's size: N 1024 (paper scale: F13–F15 train at N 1024; quick N 256),
/// 1000 iterations (F13 draws the first 200, F14 the attention at iteration 1000), 5 seeds (F13's
/// 5 runs); fast (smoke): N 32, 100 iterations, 2 seeds. Evaluated every 10 iterations.
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let m = lab.mode;
    let mut base = TrainSettings::defaults(Arch::Theory, Data::binary(chain(0.2, 0.3)?), 0);
    base.seq_len = m.pick(32, 256, 1024);
    base.iters = m.pick(100, 1000, 1000);
    base.eval_every = 10;
    base.probe = true;
    let seeds = m.pick(2, 5, 5);
    let runs =
        (0..seeds).map(|s| TrainSettings { seed: SEED + s, ..base.clone() }.check()).collect::<Result<Vec<_>, _>>()?;
    Ok(Config { runs })
}

/// The record (assembled from its cached runs).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, AttentionData>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.assembled(PAPER, ID, &cfg, SEED, || Ok::<_, LabError>(AttentionData { outcomes: train_all(lab, &cfg.runs)? }))
}
