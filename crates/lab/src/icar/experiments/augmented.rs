//! Experiments of the augmented-token model (spec icar §2a, §3a):
//! - `icar.augmented.trained` (§2e, §5, Fig 5): the reference's augmented-token one-layer
//!   linear-attention transformer trained as `augmented.py` `train()` does (Haar O(5), n = 50, 2^14
//!   sequences, batch 1024, 200 epochs = 3200 Adam steps at lr 1e-2), its attention structure, and
//!   the spec §5 reference predictors on the same data law;
//! - `icar.augmented.eta` (§3a, §5 table): trained theoretical augmented heads (complex single
//!   linear-attention head, commuting unitary W, random initial phases) over a grid of (d, T), with
//!   the theory curves η*(T, d) = d/(T+d−2) and loss* = (d−1)/(T+d−2) over the grid's T range.

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_icar::augmented::{AugConfig, AugOutcome, AugStructure, structure, train_augmented};
use attnlab_icar::gd::{Augmented, HaarReference, haar_reference, shared_scalar_all_positions};
use attnlab_icar::head::{HeadEval, HeadTrain, train_head};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::icar::experiments::PAPER;

/// Experiment id of the trained augmented model (Fig 5).
pub const ID: &str = "icar.augmented.trained";
/// Experiment id of the trained heads on the (d, T) grid.
pub const ETA_ID: &str = "icar.augmented.eta";

/// Config of the trained augmented model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Training settings (its seed is the first of `seeds`).
    pub train: AugConfig,
    /// The training seeds: one run each, the claims judge the mean over them.
    pub seeds: Vec<u64>,
    /// Haar sequences for the reference predictors.
    pub reference_samples: usize,
}

/// One trained run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AugRun {
    /// Its training seed.
    pub seed: u64,
    /// The run.
    pub outcome: AugOutcome,
    /// Its attention structure.
    pub structure: AugStructure,
}

/// Result of the trained augmented model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One per seed, in the config's order (the figure draws the first).
    pub runs: Vec<AugRun>,
    /// The spec §5 reference predictors on the same data law.
    pub reference: HaarReference,
    /// Theory (commuting case): the relative loss of one shared scalar over the positions 0..n−1
    /// (`shared_scalar_all_positions`); its loss per coordinate is this over d.
    pub commuting_shared_rel: f64,
}

/// Seed of the reference predictors' Haar sequences.
pub const REFERENCE_SEED: u64 = 77;

/// The reference configuration, 8192 reference sequences, seeds 0, 1, 2 (the issue that asked for
/// paper scale: Fig 5 with ≥ 3 seeds; quick: seed 0 only); fast: 10 epochs, 1024 sequences, seed 0.
pub fn config(lab: &Lab) -> Config {
    let mut train = AugConfig::reference(0);
    if lab.fast() {
        train.epochs = 10;
    }
    Config {
        train,
        seeds: lab.mode.pick(vec![0], vec![0], vec![0, 1, 2]),
        reference_samples: if lab.fast() { 1024 } else { 8192 },
    }
}

/// Trains the model once per seed (in parallel), reads each run's structure and evaluates the
/// reference predictors.
pub fn compute(cfg: &Config) -> Data {
    let runs = cfg
        .seeds
        .par_iter()
        .map(|&seed| {
            let outcome = train_augmented(&AugConfig { seed, ..cfg.train });
            let structure = structure(cfg.train.d, &outcome.params);
            AugRun { seed, outcome, structure }
        })
        .collect();
    let reference = haar_reference(cfg.train.d, cfg.train.n, cfg.reference_samples, REFERENCE_SEED);
    let (_, commuting_shared_rel) = shared_scalar_all_positions(cfg.train.d, cfg.train.n);
    Data { runs, reference, commuting_shared_rel }
}

/// The trained model's record (computed, or read from the cache); the seed is the training seed.
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(lab);
    lab.cached(PAPER, ID, &cfg, cfg.train.seed, || Ok::<_, LabError>(compute(&cfg)))
}

/// Config of the η grid: several independently seeded trainings per (d, T), consecutive in `runs`
/// (the claims judge the mean over a point's heads with a Student-t interval: the spread between
/// trained heads, not one head's evaluation noise).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EtaConfig {
    /// The heads of each (d, T), grouped by point, seeds [`head_seed`] j = 0, 1, ….
    pub runs: Vec<HeadTrain>,
}

/// Theory curves of one d over the grid's T range (61 log-spaced T from 0.8·T_min to 1.25·T_max).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EtaTheory {
    /// The dimension.
    pub d: usize,
    /// Context lengths T (real-valued, for drawing).
    pub t: Vec<f64>,
    /// η*(T, d) = d/(T+d−2) at each T.
    pub eta: Vec<f64>,
    /// loss*(T, d) = (d−1)/(T+d−2) at each T.
    pub loss: Vec<f64>,
}

/// Result of the η grid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EtaData {
    /// Evaluation per run.
    pub evals: Vec<HeadEval>,
    /// The theory curves, one per d (in the runs' order).
    pub theory: Vec<EtaTheory>,
}

/// The full grid's dimensions: every d of the spec §5 table.
pub const DS: [usize; 7] = [2, 3, 4, 5, 6, 8, 10];
/// The full grid's context lengths.
pub const TS: [usize; 4] = [10, 20, 50, 100];
/// The seed the η grid's record is stored under (each run has its own seed, [`head_seed`]).
pub const ETA_SEED: u64 = 1000;
/// Trained heads per (d, T) at paper scale (quick 3, fast 2): five seeds, as the Markov curves.
pub const HEADS: usize = 5;

/// The training seed of head `j` at (d, T): 1000 + 1000·d + T + 100 000·j (j = 0 is the seed of the
/// grid's first, one-head version; d ≤ 10 and T ≤ 100 keep the blocks apart).
pub fn head_seed(d: usize, t: usize, j: usize) -> u64 {
    1000 + (d * 1000 + t) as u64 + 100_000 * j as u64
}

/// The grid DS × TS with the heads' default training, [`HEADS`] heads per point (quick, a laptop run:
/// d ∈ {2, 5, 10}, every T, 3 heads; fast: d ∈ {2, 5}, T ∈ {10, 20}, 2 heads, 1500 steps at batch
/// 128, 5000 evaluation sequences).
pub fn eta_config(lab: &Lab) -> Result<EtaConfig, LabError> {
    let fast = lab.fast();
    let ds: &[usize] = lab.mode.pick(&[2, 5], &[2, 5, 10], &DS);
    let ts: &[usize] = if fast { &[10, 20] } else { &TS };
    let heads = lab.mode.pick(2, 3, HEADS);
    let mut runs = Vec::new();
    for &d in ds {
        for &t in ts {
            let s = Augmented::new(d, t, 1.0)?;
            for j in 0..heads {
                let mut h = HeadTrain::defaults(s, head_seed(d, t, j));
                if fast {
                    h.steps = 1500;
                    h.batch = 128;
                    h.eval_samples = 5000;
                }
                runs.push(h);
            }
        }
    }
    Ok(EtaConfig { runs })
}

/// The theory curves η* and loss* over the T range of `cfg`'s runs, one per d.
pub fn eta_theory(cfg: &EtaConfig) -> Vec<EtaTheory> {
    let mut ds: Vec<usize> = cfg.runs.iter().map(|r| r.setting.d()).collect();
    ds.dedup();
    let tmin = cfg.runs.iter().map(|r| r.setting.t()).min().unwrap_or(2) as f64;
    let tmax = cfg.runs.iter().map(|r| r.setting.t()).max().unwrap_or(100) as f64;
    ds.into_iter()
        .map(|d| {
            let t: Vec<f64> =
                (0..=60).map(|i| tmin * 0.8 * (tmax * 1.25 / (tmin * 0.8)).powf(i as f64 / 60.0)).collect();
            let eta = t.iter().map(|t| d as f64 / (t + d as f64 - 2.0)).collect();
            let loss = t.iter().map(|t| (d as f64 - 1.0) / (t + d as f64 - 2.0)).collect();
            EtaTheory { d, t, eta, loss }
        })
        .collect()
}

/// Trains every head (in parallel over runs) and evaluates it on fresh sequences.
pub fn compute_eta(cfg: &EtaConfig) -> EtaData {
    let evals = cfg.runs.par_iter().map(|r| train_head(r).eval).collect();
    EtaData { evals, theory: eta_theory(cfg) }
}

/// The η grid's record (computed, or read from the cache).
pub fn run_eta(lab: &Lab) -> Result<(ResultRecord<EtaConfig, EtaData>, CacheStatus), LabError> {
    let cfg = eta_config(lab)?;
    lab.cached(PAPER, ETA_ID, &cfg, ETA_SEED, || Ok::<_, LabError>(compute_eta(&cfg)))
}
