//! Experiment `markov.train.memory-sweep` (spec §4, §5 F11 and F12): on the order-2 lagged chain,
//! the GPT-style model trained with memory mask m from 1 (only the lagged symbol and itself visible)
//! to full causal attention, at depth 1 and 4.

use attnlab_core::{CacheStatus, MeanSe, ResultRecord};
use attnlab_markov::LaggedChain;
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use serde::{Deserialize, Serialize};

use super::{mean_estimate, train_all};
use crate::Lab;
use crate::LabError;
use crate::markov::experiments::{PAPER, chain};

/// Experiment id.
pub const ID: &str = "markov.train.memory-sweep";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Memory values m; `None` = full causal attention (drawn at m = N).
    pub memories: Vec<Option<usize>>,
    /// Depths L and seeds per depth.
    pub depths: Vec<(usize, u64)>,
    /// Template run (memory, layers and seed replaced).
    pub base: TrainConfig,
}

impl Config {
    /// The memory m as a number: full attention counts as m = N.
    pub fn m_value(&self, m: Option<usize>) -> f64 {
        m.unwrap_or(self.base.seq_len) as f64
    }
}

/// `outcomes[depth][memory][seed]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepData {
    /// The outcomes.
    pub outcomes: Vec<Vec<Vec<TrainOutcome>>>,
}

/// Mean over seeds of a per-run number (None when no run has it).
fn seed_mean(os: &[TrainOutcome], f: impl Fn(&TrainOutcome) -> Option<f64>) -> Option<MeanSe> {
    let v: Vec<f64> = os.iter().filter_map(f).collect();
    (!v.is_empty()).then(|| MeanSe::of(&v))
}

/// Final held-out loss of one (depth, memory) cell, mean over seeds.
pub fn final_loss(os: &[TrainOutcome]) -> Option<f64> {
    seed_mean(os, |o| o.final_loss).map(|m| m.mean)
}

/// P̂(1 | x_{n−1} = 0) of one (depth, memory) cell: the mean over occurrences, then over seeds.
pub fn estimate(os: &[TrainOutcome]) -> Option<f64> {
    seed_mean(os, mean_estimate).map(|m| m.mean)
}

/// The base seed; replicate s runs with seed SEED + s. A fresh block (the monotone rule changed
/// after runs with seeds 4000+ had results; see `curves::SEED`).
pub const SEED: u64 = 32_000;

/// The config at the lab's size. Full (paper scale, F11/F12): d 32, N 1024, 800 iterations, m ∈
/// {2, 8, 32, 40, full} (F12's m values, and full attention), depth L = 1 (2 seeds), 4 and 8 (one
/// run each, as the paper draws them). Quick (a laptop run of at most 15 minutes): d 8, N 256, 500
/// iterations, the same m, L = 1 (2 seeds) only. Fast (smoke): m ∈ {1, 8, full}, L = 1, N 32, 60
/// iterations.
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let mode = lab.mode;
    let lag = Data::Lagged { chain: LaggedChain::stationary(chain(0.2, 0.3)?, 2)? };
    let mut base = TrainSettings::defaults(Arch::Gpt, lag, 0);
    base.d = mode.pick(8, 8, 32);
    base.seq_len = mode.pick(32, 256, 1024);
    base.iters = mode.pick(60, 500, 800);
    base.eval_every = (base.iters / 10).max(1);
    let memories: Vec<Option<usize>> = mode.pick(
        vec![Some(1), Some(8), None],
        vec![Some(2), Some(8), Some(32), Some(40), None],
        vec![Some(2), Some(8), Some(32), Some(40), None],
    );
    let depths = mode.pick(vec![(1, 1)], vec![(1, 2)], vec![(1, 2), (4, 1), (8, 1)]);
    Ok(Config { memories, depths, base: base.check()? })
}

/// Every (depth, memory, seed) run, replicate s with seed `seed` + s.
pub fn runs(cfg: &Config, seed: u64) -> Result<Vec<TrainConfig>, LabError> {
    let mut all = Vec::new();
    for &(layers, seeds) in &cfg.depths {
        for &memory in &cfg.memories {
            for s in 0..seeds {
                all.push(TrainSettings { layers, memory, seed: seed + s, ..cfg.base.settings() }.check()?);
            }
        }
    }
    Ok(all)
}

/// Trains every (depth, memory, seed) run (in parallel over runs, each cached on its own).
pub fn compute(lab: &Lab, cfg: &Config, seed: u64) -> Result<SweepData, LabError> {
    let mut done = train_all(lab, &runs(cfg, seed)?)?.into_iter();
    let outcomes = cfg
        .depths
        .iter()
        .map(|&(_, seeds)| cfg.memories.iter().map(|_| done.by_ref().take(seeds as usize).collect()).collect())
        .collect();
    Ok(SweepData { outcomes })
}

/// The record (assembled from its cached runs).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, SweepData>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.assembled(PAPER, ID, &cfg, SEED, || compute(lab, &cfg, SEED))
}
