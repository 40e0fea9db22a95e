//! Experiment `icar.nonaugmented` (spec icar §2b, §2e, Fig 7): the reference's non-augmented model
//! (tokens (s_t, s_t), H heads, token score × softmax positional score, LayerNorm, no residual)
//! trained on Haar O(5) sequences at the reference configuration (H = 64, batch 1024, 200 epochs =
//! 3200 Adam steps, f32 like the reference's torch run); fast mode runs H = 8 at batch 128 for 4
//! epochs. The result adds the head-averaged token score matrix read off the trained weights.

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_icar::nonaugmented::{NaLayout, NonAugConfig, NonAugOutcome, train_nonaug};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::icar::experiments::PAPER;

/// Experiment id.
pub const ID: &str = "icar.nonaugmented";

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Training settings (its seed is the first of `seeds`).
    pub train: NonAugConfig,
    /// The training seeds: one run each, the claims judge the mean over them.
    pub seeds: Vec<u64>,
}

/// The experiment's result: one run per seed, in the config's order (the figure draws the first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// The runs.
    pub runs: Vec<NonAugRun>,
}

/// One trained run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NonAugRun {
    /// Its training seed.
    pub seed: u64,
    /// The run.
    pub outcome: NonAugOutcome,
    /// The head-averaged token score matrix Q̃ᵀK̃/√E over z = (s, 1), (d+1)×(d+1) row-major (rows:
    /// query features, columns: key features), with the two token copies' weights summed.
    pub token_score: Vec<f64>,
}

/// The reference configuration, seeds 0, 1, 2 (the issue that asked for paper scale: Fig 7 with ≥ 3
/// seeds); quick (a laptop run of at most 15 minutes): seed 0 only, 100 epochs (1600 steps; 250 s
/// on one core); fast: H = 8, batch 128, 4 epochs, seed 0. The claims state the sizes.
pub fn config(lab: &Lab) -> Config {
    let mut train = NonAugConfig::reference(0);
    if lab.fast() {
        train.heads = 8;
        train.batch = 128;
        train.epochs = 4;
    }
    if lab.mode == crate::Mode::Quick {
        train.epochs = 100;
    }
    Config { train, seeds: lab.mode.pick(vec![0], vec![0], vec![0, 1, 2]) }
}

/// The head-averaged token score matrix of a trained model (see [`NonAugRun::token_score`]).
pub fn token_score(o: &NonAugOutcome) -> Vec<f64> {
    let h = o.pe_last_row.len();
    let l = NaLayout { d: o.config.d, h };
    let (d, e) = (o.config.d, 2 * o.config.d);
    let z = d + 1;
    let off = l.offsets();
    let p = &o.params;
    let red = |w: usize, b: usize, hh: usize, i: usize, j: usize| {
        if j < d { p[w + (hh * e + i) * e + j] + p[w + (hh * e + i) * e + d + j] } else { p[b + hh * e + i] }
    };
    let mut m = vec![0.0; z * z];
    for hh in 0..h {
        for c in 0..z {
            for b in 0..z {
                m[c * z + b] +=
                    (0..e).map(|i| red(off[0], off[3], hh, i, c) * red(off[1], off[4], hh, i, b)).sum::<f64>()
                        / (e as f64).sqrt()
                        / h as f64;
            }
        }
    }
    m
}

/// Trains the model once per seed (in parallel) and reads each run's token score.
pub fn compute(cfg: &Config) -> Data {
    let runs = cfg
        .seeds
        .par_iter()
        .map(|&seed| {
            let outcome = train_nonaug(&NonAugConfig { seed, ..cfg.train });
            let token_score = token_score(&outcome);
            NonAugRun { seed, outcome, token_score }
        })
        .collect();
    Data { runs }
}

/// The record (computed, or read from the cache); the seed is the training seed.
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab);
    lab.cached(PAPER, ID, &cfg, cfg.train.seed, || Ok::<_, LabError>(compute(&cfg)))
}
