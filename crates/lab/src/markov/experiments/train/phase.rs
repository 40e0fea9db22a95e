//! Experiment `markov.train.phase`: the theory model (§2a) and the GPT-style model (§2b), tied and
//! untied, trained at every cell of a (p, q) grid (spec §3 T1–T3 and §5 F8).

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_trainer::{Arch, Data, TrainConfig, TrainOutcome, TrainSettings};
use serde::{Deserialize, Serialize};

use super::train_all;
use crate::Lab;
use crate::LabError;
use crate::markov::experiments::{PAPER, chain};

/// Experiment id.
pub const ID: &str = "markov.train.phase";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// (architecture, tying) of each column.
    pub models: Vec<(Arch, bool)>,
    /// Per model, the grid values of p and of q (the same values for both).
    pub grids: Vec<Vec<f64>>,
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

/// The base seed of the phase grids' seed block: every run of every (model, cell) has its own seed,
/// SEED + ((model · g + i) · g + j) · seeds + s for replicate s of cell (i, j) of a g × g grid, so the
/// cells are independent samples (an earlier design reused seeds 2000–2003 in every cell, which made
/// a Wilson interval over cells treat dependent cells as independent trials).
pub const SEED: u64 = 20_000;

/// `n` evenly spaced values from 0.05 to 0.95 (rounded to 0.01).
fn grid(n: usize) -> Vec<f64> {
    (0..n).map(|k| 0.05 + 0.9 * k as f64 / (n - 1).max(1) as f64).map(|x| (x * 100.0_f64).round() / 100.0).collect()
}

/// The config at the lab's size, 4 seeds per cell (each cell is judged on its own proportion of
/// runs, and a Wilson interval needs n ≥ 4 to tell "all runs" from "at most half"):
/// - full (paper scale): the GPT-style model, tied and untied, on the paper's 5×5 grid at N 1024,
///   400 iterations (F8); the theory model on a finer 10×10 grid at N 256, 1000 iterations (its
///   trap is a property of the loss, T2, so N 256 suffices for where it ends);
/// - quick (a laptop run of at most 15 minutes): 2×2 grids p, q ∈ {0.2, 0.8}, N 256, the same
///   iterations and seeds (p + q = 1 on the off-diagonal cells, so each claim rests on one cell:
///   (0.2, 0.2) below the boundary, (0.8, 0.8) above);
/// - fast (smoke): 3×3 grids, N 16, 40 iterations, 1 seed.
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let m = lab.mode;
    let any = Data::binary(chain(0.5, 0.5)?);
    let mut base_gpt = TrainSettings::defaults(Arch::Gpt, any, 0);
    let mut base_theory = TrainSettings::defaults(Arch::Theory, any, 0);
    base_gpt.seq_len = m.pick(16, 256, 1024);
    base_gpt.iters = m.pick(40, 400, 400);
    base_theory.seq_len = m.pick(16, 256, 256);
    base_theory.iters = m.pick(40, 1000, 1000);
    for b in [&mut base_gpt, &mut base_theory] {
        b.eval_every = (b.iters / 30).max(1);
    }
    let (theory_grid, gpt_grid) = m.pick((grid(3), grid(3)), (vec![0.2, 0.8], vec![0.2, 0.8]), (grid(10), grid(5)));
    Ok(Config {
        models: vec![(Arch::Theory, true), (Arch::Theory, false), (Arch::Gpt, true), (Arch::Gpt, false)],
        grids: vec![theory_grid.clone(), theory_grid, gpt_grid.clone(), gpt_grid],
        seeds: m.pick(1, 4, 4),
        base_gpt: base_gpt.check()?,
        base_theory: base_theory.check()?,
    })
}

/// The seed of replicate `s` of cell (`i`, `j`) of model column `model` (see [`SEED`]): distinct for
/// every run of the experiment.
pub fn cell_seed(cfg: &Config, seed: u64, model: usize, i: usize, j: usize, s: u64) -> u64 {
    let before: usize = cfg.grids[..model].iter().map(|g| g.len() * g.len()).sum();
    let cell = (before + i * cfg.grids[model].len() + j) as u64;
    seed + cell * cfg.seeds + s
}

/// Every (model, p, q, seed) run, each with its own seed ([`cell_seed`]).
pub fn runs(cfg: &Config, seed: u64) -> Result<Vec<TrainConfig>, LabError> {
    let mut all = Vec::new();
    for (m, (&(arch, tying), grid)) in cfg.models.iter().zip(&cfg.grids).enumerate() {
        for (i, &p) in grid.iter().enumerate() {
            for (j, &q) in grid.iter().enumerate() {
                for s in 0..cfg.seeds {
                    all.push(cell_config(cfg, arch, tying, p, q, cell_seed(cfg, seed, m, i, j, s))?);
                }
            }
        }
    }
    Ok(all)
}

/// Trains every (model, p, q, seed) run (in parallel over runs, each cached on its own).
pub fn compute(lab: &Lab, cfg: &Config, seed: u64) -> Result<PhaseData, LabError> {
    let mut done = train_all(lab, &runs(cfg, seed)?)?.into_iter();
    let cells = cfg
        .grids
        .iter()
        .map(|g| {
            (0..g.len())
                .map(|_| (0..g.len()).map(|_| done.by_ref().take(cfg.seeds as usize).collect()).collect())
                .collect()
        })
        .collect();
    Ok(PhaseData { cells })
}

/// The record (assembled from its cached runs).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, PhaseData>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.assembled(PAPER, ID, &cfg, SEED, || compute(lab, &cfg, SEED))
}
