//! Experiment `markov.train.phase`: the theory model (§2a) and the GPT-style model (§2b), tied and
//! untied, trained at every cell of a (p, q) grid (spec §3 T1–T3 and §5 F8).

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use serde::{Deserialize, Serialize};

use super::train_all;
use crate::markov::experiments::{PAPER, chain};
use crate::Lab;
use crate::LabError;

/// Experiment id.
pub const ID: &str = "markov.train.phase";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Grid values of p and q.
    pub grid: Vec<f64>,
    /// (architecture, tying) of each column.
    pub models: Vec<(Arch, bool)>,
    /// Seeds per cell.
    pub seeds: u64,
    /// Template config (data and seed are replaced per cell).
    pub base_gpt: TrainConfig,
    /// Template for the theory model.
    pub base_theory: TrainConfig,
}

impl Config {
    /// The template of `arch`'s runs.
    pub fn base(&self, arch: Arch) -> &TrainConfig {
        if arch == Arch::Gpt { &self.base_gpt } else { &self.base_theory }
    }
}

/// Per model, per (i = p index, j = q index): the outcomes over seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseData {
    /// `cells[model][i][j][seed]`.
    pub cells: Vec<Vec<Vec<Vec<TrainOutcome>>>>,
}

fn cell_config(cfg: &Config, arch: Arch, tying: bool, p: f64, q: f64, seed: u64) -> Result<TrainConfig, LabError> {
    Ok(TrainSettings { data: Data::binary(chain(p, q)?), tying, seed, ..cfg.base(arch).settings() }.check()?)
}

/// The base seed; replicate s of every cell runs with seed SEED + s.
pub const SEED: u64 = 2000;

/// The config at the lab's size: a 3×3 grid, N 16, 40 iterations, 1 seed (fast) or 10×10, N 32,
/// 400 iterations, 4 seeds (full: each cell is judged on its own proportion of runs, and a Wilson
/// interval needs n ≥ 4 to tell "all runs" from "at most half").
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let fast = lab.fast();
    let n = if fast { 3 } else { 10 };
    let grid: Vec<f64> = (0..n).map(|k| 0.05 + 0.9 * k as f64 / (n - 1) as f64).map(|x| (x * 100.0_f64).round() / 100.0).collect();
    let any = Data::binary(chain(0.5, 0.5)?);
    let mut base_gpt = TrainSettings::defaults(Arch::Gpt, any, 0);
    let mut base_theory = TrainSettings::defaults(Arch::Theory, any, 0);
    for (b, iters) in [(&mut base_gpt, 400), (&mut base_theory, 400)] {
        b.seq_len = if fast { 16 } else { 32 };
        b.iters = if fast { 40 } else { iters };
        b.eval_every = (b.iters / 30).max(1);
    }
    Ok(Config {
        grid,
        models: vec![(Arch::Theory, true), (Arch::Theory, false), (Arch::Gpt, true), (Arch::Gpt, false)],
        seeds: if fast { 1 } else { 4 },
        base_gpt: base_gpt.check()?,
        base_theory: base_theory.check()?,
    })
}

/// Trains every (model, p, q, seed) run (in parallel over runs).
pub fn compute(cfg: &Config, seed: u64) -> Result<PhaseData, LabError> {
    let mut all = Vec::new();
    for &(arch, tying) in &cfg.models {
        for &p in &cfg.grid {
            for &q in &cfg.grid {
                for s in 0..cfg.seeds {
                    all.push(cell_config(cfg, arch, tying, p, q, seed + s)?);
                }
            }
        }
    }
    let mut done = train_all(&all)?.into_iter();
    let k = cfg.grid.len();
    let cells = (0..cfg.models.len())
        .map(|_| (0..k).map(|_| (0..k).map(|_| done.by_ref().take(cfg.seeds as usize).collect()).collect()).collect())
        .collect();
    Ok(PhaseData { cells })
}

/// The record (computed, or read from the cache).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, PhaseData>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.cached(PAPER, ID, &cfg, SEED, || compute(&cfg, SEED))
}
