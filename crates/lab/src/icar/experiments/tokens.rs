//! Experiment `icar.token-encoding` — a stated **stand-in** for Fig 4 (spec icar §4), which needs
//! GPT-2-large input embeddings and Moby Dick (not available to a Rust CPU build). Here the
//! "embeddings" are V = 2000 random unit vectors in R^64 and the "text" is a synthetic token
//! stream (a Zipf(1.1) chain that never repeats the previous token, like natural text rarely does);
//! "shuffled" permutes the stream's tokens globally. For each window of 5 consecutive embeddings
//! s_0..s_4, A is the min-norm least-squares solution of s_{k+1} = A s_k (k = 0..3, 4 equations) and
//! the AR(1) rollout from s_0 is scored by its MSE.

use attnlab_core::{CacheStatus, ResultRecord, seeded_rng};
use nalgebra::DMatrix;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::icar::experiments::PAPER;

/// Experiment id.
pub const ID: &str = "icar.token-encoding";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Vocabulary size.
    pub vocab: usize,
    /// Embedding dimension.
    pub dim: usize,
    /// Windows per stream.
    pub windows: usize,
    /// Zipf exponent of the token frequencies.
    pub zipf: f64,
}

/// One stream's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stream {
    /// Per-window rollout MSE.
    pub mse: Vec<f64>,
    /// Windows with an inconsistent repeat (s_i = s_j, i ≠ j ≤ 3, s_{i+1} ≠ s_{j+1}).
    pub inconsistent: usize,
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// Original order.
    pub original: Stream,
    /// Globally shuffled tokens.
    pub shuffled: Stream,
}

/// Seed of the embeddings, the stream and the shuffle.
pub const SEED: u64 = 4;

/// V = 2000, dim 64, Zipf(1.1), 10 000 windows (fast: 2000).
pub fn config(lab: &Lab) -> Config {
    Config { vocab: 2000, dim: 64, windows: if lab.fast() { 2000 } else { 10_000 }, zipf: 1.1 }
}

/// Moore–Penrose pseudo-inverse of a tall X with few columns, through the eigen-decomposition of
/// the Gram matrix XᵀX: X⁺ = V diag(1/λ, λ > 1e-10·λ_max) Vᵀ Xᵀ. nalgebra's `pseudo_inverse` is not
/// used: its SVD is inaccurate for some rank-deficient X (here a window repeating a token, e.g.
/// tokens [3, 0, 5, 3]: X⁺X was off the projector by 3e-3; cf. dimforge/nalgebra#1313).
fn pinv(x: &DMatrix<f64>) -> DMatrix<f64> {
    let eig = (x.transpose() * x).symmetric_eigen();
    let top = eig.eigenvalues.iter().fold(0.0f64, |m, l| m.max(*l));
    let inv = eig.eigenvalues.map(|l| if l > 1e-10 * top { 1.0 / l } else { 0.0 });
    &eig.eigenvectors * DMatrix::from_diagonal(&inv) * eig.eigenvectors.transpose() * x.transpose()
}

fn window_mse(emb: &[Vec<f64>], w: &[usize]) -> f64 {
    let dim = emb[0].len();
    let x = DMatrix::from_fn(dim, 4, |i, k| emb[w[k]][i]);
    let y = DMatrix::from_fn(dim, 4, |i, k| emb[w[k + 1]][i]);
    let a = &y * pinv(&x);
    let mut s = DMatrix::from_fn(dim, 1, |i, _| emb[w[0]][i]);
    let mut err = 0.0;
    for k in 1..5 {
        s = &a * s;
        err += (0..dim).map(|i| (s[(i, 0)] - emb[w[k]][i]).powi(2)).sum::<f64>() / dim as f64;
    }
    err / 4.0
}

fn inconsistent(w: &[usize]) -> bool {
    (0..4).any(|i| (i + 1..4).any(|j| w[i] == w[j] && w[i + 1] != w[j + 1]))
}

fn stream(emb: &[Vec<f64>], tokens: &[usize], windows: usize) -> Stream {
    let mut mse = Vec::with_capacity(windows);
    let mut inc = 0;
    for k in 0..windows {
        let w = &tokens[5 * k..5 * k + 5];
        mse.push(window_mse(emb, w));
        inc += usize::from(inconsistent(w));
    }
    Stream { mse, inconsistent: inc }
}

/// Draws the embeddings and the stream, shuffles it, and scores every window of both.
pub fn compute(cfg: &Config, seed: u64) -> Data {
    let mut rng = seeded_rng(seed);
    let emb: Vec<Vec<f64>> = (0..cfg.vocab)
        .map(|_| {
            let v: Vec<f64> = (0..cfg.dim).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
            let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.into_iter().map(|x| x / n).collect()
        })
        .collect();
    let weights: Vec<f64> = (1..=cfg.vocab).map(|r| (r as f64).powf(-cfg.zipf)).collect();
    let total: f64 = weights.iter().sum();
    let cdf: Vec<f64> = weights
        .iter()
        .scan(0.0, |a, w| {
            *a += w / total;
            Some(*a)
        })
        .collect();
    let draw = |rng: &mut rand_chacha::ChaCha8Rng| {
        let u: f64 = rng.random();
        cdf.partition_point(|c| *c < u).min(cfg.vocab - 1)
    };
    let mut tokens = Vec::with_capacity(5 * cfg.windows);
    let mut prev = usize::MAX;
    while tokens.len() < 5 * cfg.windows {
        let t = draw(&mut rng);
        if t != prev {
            tokens.push(t);
            prev = t;
        }
    }
    let original = stream(&emb, &tokens, cfg.windows);
    let mut sh = tokens.clone();
    sh.shuffle(&mut rng);
    let shuffled = stream(&emb, &sh, cfg.windows);
    Data { original, shuffled }
}

/// The record (computed, or read from the cache).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab);
    lab.cached(PAPER, ID, &cfg, SEED, || Ok::<_, LabError>(compute(&cfg, SEED)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_inverse_is_exact_for_repeated_columns() {
        // Windows repeating a token with the same successor fit exactly: X X⁺ X = X and rollout MSE 0.
        let mut rng = seeded_rng(9);
        for _ in 0..200 {
            let emb: Vec<Vec<f64>> =
                (0..6).map(|_| (0..64).map(|_| rng.sample::<f64, _>(StandardNormal) / 8.0).collect()).collect();
            for w in [[3, 0, 5, 3, 0], [0, 3, 0, 3, 0], [1, 2, 1, 2, 1], [4, 4, 4, 4, 4]] {
                let x = DMatrix::from_fn(64, 4, |i, k| emb[w[k]][i]);
                assert!((&x * pinv(&x) * &x - &x).norm() < 1e-12);
                assert!(window_mse(&emb, &w) < 1e-20, "{w:?}: {}", window_mse(&emb, &w));
            }
            assert!(window_mse(&emb, &[3, 0, 5, 3, 1]) > 1e-6, "an inconsistent repeat cannot fit");
        }
    }
}
