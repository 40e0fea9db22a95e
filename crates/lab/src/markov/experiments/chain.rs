//! Experiment `markov.chain.entropy`: H* and U over the (p, q) square, and Monte-Carlo cross-entropies
//! of the bigram / unigram predictors on sampled stationary sequences (spec §1, §3, §6).

use attnlab_core::{CacheStatus, MeanSe, Range1, ResultRecord, rng::child_seed, seeded_rng};
use attnlab_markov::BinaryChain;
use attnlab_markov::chain::ChainTheory;
use attnlab_markov::sample::monte_carlo_losses;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::markov::experiments::{PAPER, chain};

/// Experiment id.
pub const ID: &str = "markov.chain.entropy";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The (p, q) grid axis (both axes).
    pub grid: Range1,
    /// q of the slice panel.
    pub slice_q: f64,
    /// p values of the Monte-Carlo points on the slice.
    pub slice_p: Range1,
    /// The spec §6 table chains, checked by Monte Carlo too.
    pub table: Vec<BinaryChain>,
    /// Sequences per Monte-Carlo point.
    pub sequences: usize,
    /// Transitions per sequence.
    pub seq_len: usize,
}

/// One Monte-Carlo point.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct McPoint {
    /// The chain.
    pub chain: BinaryChain,
    /// Cross-entropy of the bigram predictor (→ H*).
    pub bigram: MeanSe,
    /// Cross-entropy of the unigram predictor (→ U).
    pub unigram: MeanSe,
}

/// The closed forms at one p of the slice q = `slice_q`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SlicePoint {
    /// p.
    pub p: f64,
    /// H*.
    pub entropy_rate: f64,
    /// U.
    pub unigram_loss: f64,
}

/// The experiment's data.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// `H*[i_p][i_q]` on the grid.
    pub entropy_rate: Vec<Vec<f64>>,
    /// `U[i_p][i_q]` on the grid.
    pub unigram_loss: Vec<Vec<f64>>,
    /// max over the grid of H* − U (≤ 0 by theory).
    pub max_h_minus_u: f64,
    /// Monte-Carlo points on the slice q = slice_q.
    pub slice: Vec<McPoint>,
    /// Monte-Carlo points at the spec §6 table chains.
    pub table: Vec<McPoint>,
    /// The closed forms on the slice q = slice_q at p = k/200, k = 1..199.
    pub slice_theory: Vec<SlicePoint>,
}

fn mc(ch: &BinaryChain, cfg: &Config, seed: u64) -> McPoint {
    let (bigram, unigram) = monte_carlo_losses(ch, cfg.sequences, cfg.seq_len, &mut seeded_rng(seed));
    McPoint { chain: *ch, bigram, unigram }
}

/// Evaluates the closed forms on the grid and samples the Monte-Carlo points (in parallel).
pub fn compute(cfg: &Config, seed: u64) -> Result<Data, LabError> {
    let g = cfg.grid.points();
    let mut hs = vec![vec![0.0; g.len()]; g.len()];
    let mut us = hs.clone();
    let mut max_h_minus_u = f64::NEG_INFINITY;
    for (i, &p) in g.iter().enumerate() {
        for (j, &q) in g.iter().enumerate() {
            let t = ChainTheory::new(&BinaryChain::new(p, q)?);
            hs[i][j] = t.entropy_rate;
            us[i][j] = t.unigram_loss;
            max_h_minus_u = max_h_minus_u.max(t.entropy_rate - t.unigram_loss);
        }
    }
    let slice_chains =
        cfg.slice_p.points().into_iter().map(|p| BinaryChain::new(p, cfg.slice_q)).collect::<Result<Vec<_>, _>>()?;
    let all: Vec<BinaryChain> = slice_chains.iter().chain(&cfg.table).copied().collect();
    let pts: Vec<McPoint> = all.par_iter().enumerate().map(|(k, ch)| mc(ch, cfg, child_seed(seed, k as u64))).collect();
    let (slice, table) = pts.split_at(slice_chains.len());
    let slice_theory = (1..200)
        .filter_map(|k| {
            let p = k as f64 / 200.0;
            BinaryChain::new(p, cfg.slice_q).ok().map(|c| {
                let t = ChainTheory::new(&c);
                SlicePoint { p, entropy_rate: t.entropy_rate, unigram_loss: t.unigram_loss }
            })
        })
        .collect();
    Ok(Data {
        entropy_rate: hs,
        unigram_loss: us,
        max_h_minus_u,
        slice: slice.to_vec(),
        table: table.to_vec(),
        slice_theory,
    })
}

/// The base seed; Monte-Carlo point k uses child seed k of it.
pub const SEED: u64 = 2024;

/// The config at the lab's size: 10 slice points and 64 sequences (fast) or 19 and 256 (full).
pub fn config(lab: &Lab) -> Result<Config, LabError> {
    let fast = lab.fast();
    Ok(Config {
        grid: Range1::new(0.01, 0.99, 99)?,
        slice_q: 0.3,
        slice_p: Range1::new(0.05, 0.95, if fast { 10 } else { 19 })?,
        table: vec![chain(0.5, 0.8)?, chain(0.2, 0.3)?, chain(0.9, 0.9)?, chain(0.1, 0.1)?],
        sequences: if fast { 64 } else { 256 },
        seq_len: 1024,
    })
}

/// The record (computed, or read from the cache).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab)?;
    lab.cached(PAPER, ID, &cfg, SEED, || compute(&cfg, SEED))
}
