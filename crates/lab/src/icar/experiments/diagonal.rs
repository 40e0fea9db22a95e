//! Experiments of the diagonal multi-head model (spec icar §2c, §3b):
//! - `icar.diagonal.unitary` and `icar.diagonal.orthogonal` (Fig 3 left and right): full-gradient
//!   descent on the exact closed-form loss, as `unitary.py` (H = d = 10, lr 1e-2, 100 steps) and
//!   `orthogonal.py` (H = 8, d = 10, lr 1e-3, 10⁵ steps) do, from 0.1·N(0, 1);
//! - `icar.diagonal.floors` (no reference figure): the best of several Adam restarts on the exact
//!   loss for both cases and H = 1..=d, against the floor max(d − H, 0) / max(d − 2H, 0) per row.

use attnlab_core::{CacheStatus, ResultRecord};
pub use attnlab_icar::diagonal::Case;
use attnlab_icar::diagonal::{Diagonal, Fit, Invariants, Optimiser, Params, fit, fit_restarts, invariants};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::icar::experiments::PAPER;

/// Experiment id of Fig 3 left (unitary W).
pub const UNITARY_ID: &str = "icar.diagonal.unitary";
/// Experiment id of Fig 3 right (orthogonal W).
pub const ORTHOGONAL_ID: &str = "icar.diagonal.orthogonal";
/// Experiment id of the loss floors against H.
pub const FLOORS_ID: &str = "icar.diagonal.floors";

/// The experiment id of Fig 3 for `case`.
pub fn id(case: Case) -> &'static str {
    match case {
        Case::Unitary => UNITARY_ID,
        Case::Orthogonal => ORTHOGONAL_ID,
    }
}

/// Config of a Fig 3 run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The model (case, d, H, T).
    pub model: Diagonal,
    /// Learning rate of full-gradient descent.
    pub lr: f64,
    /// Iterations.
    pub iters: usize,
    /// Init std.
    pub init_std: f64,
}

/// Result of a Fig 3 run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// The fit.
    pub fit: Fit,
    /// Its invariants.
    pub invariants: Invariants,
    /// Initial total loss.
    pub initial_loss: f64,
    /// C = BᵀA of the fit (d×d, row-major).
    pub c: Vec<f64>,
}

/// Seed of the Fig 3 runs' initialisation.
pub const SEED: u64 = 0;

/// The reference scripts' settings: unitary H = d = 10, lr 1e-2, 100 steps; orthogonal H = 8,
/// d = 10, lr 1e-3, 10⁵ steps; T = 20 and init 0.1·N(0, 1) for both (the same in fast mode).
pub fn config(case: Case) -> Result<Config, LabError> {
    Ok(match case {
        Case::Orthogonal => {
            Config { model: Diagonal::new(Case::Orthogonal, 10, 8, 20)?, lr: 1e-3, iters: 100_000, init_std: 0.1 }
        }
        Case::Unitary => {
            Config { model: Diagonal::new(Case::Unitary, 10, 10, 20)?, lr: 1e-2, iters: 100, init_std: 0.1 }
        }
    })
}

/// Gradient descent on the exact loss from a random init.
pub fn compute(cfg: &Config, seed: u64) -> Data {
    let init = Params::random(&cfg.model, cfg.init_std, seed);
    let initial_loss = attnlab_icar::diagonal::loss(&cfg.model, &init);
    let f = fit(&cfg.model, init, Optimiser::Gd { lr: cfg.lr }, cfg.iters);
    let inv = invariants(&cfg.model, &f.params);
    let c = f.params.c(&cfg.model);
    Data { fit: f, invariants: inv, initial_loss, c }
}

/// The Fig 3 record for `case` (computed, or read from the cache).
pub fn run(lab: &Lab, case: Case) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config(case)?;
    lab.cached(PAPER, id(case), &cfg, SEED, || Ok::<_, LabError>(compute(&cfg, SEED)))
}

/// Config of the loss-floor experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FloorsConfig {
    /// The models (both cases, H = 1..=d).
    pub models: Vec<Diagonal>,
    /// Restarts per model.
    pub restarts: usize,
    /// Adam iterations per restart.
    pub iters: usize,
}

/// One model's best-of-restarts result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// The model.
    pub model: Diagonal,
    /// Per-row loss of every restart.
    pub per_row: Vec<f64>,
    /// Best per-row loss.
    pub best: f64,
    /// P_{t,t}/P_{t,t+1} of the best restart.
    pub pe_ratio: f64,
    /// c·P_{t,t+1} of the best restart.
    pub c_times_p: f64,
    /// Theory: the minimal loss per row, max(d − H, 0) (unitary) or max(d − 2H, 0) (orthogonal).
    pub floor: f64,
}

impl Point {
    /// The point of `model` from its best fit and the total losses of all its restarts (as
    /// `fit_restarts` returns them). The CLI's `icar diagonal` builds its point with this too.
    pub fn from_fit(model: &Diagonal, best: &Fit, losses: &[f64]) -> Self {
        let inv = invariants(model, &best.params);
        let rows = model.rows() as f64;
        Point {
            model: *model,
            per_row: losses.iter().map(|l| l / rows).collect(),
            best: best.loss / rows,
            pe_ratio: inv.pe_ratio,
            c_times_p: inv.c_times_p,
            floor: model.floor_per_row(),
        }
    }
}

/// Result of the loss-floor experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FloorsData {
    /// One per model.
    pub points: Vec<Point>,
}

/// Base seed of the restarts; model k runs with child seed k of it.
pub const FLOORS_SEED: u64 = 11;

/// Both cases at d = 10, T = 20, H = 1..=10; 16 restarts of 5000 Adam iterations (fast: 8 of 2000).
pub fn floors_config(lab: &Lab) -> Result<FloorsConfig, LabError> {
    let d = 10;
    let mut models = Vec::new();
    for case in [Case::Unitary, Case::Orthogonal] {
        for h in 1..=d {
            models.push(Diagonal::new(case, d, h, 20)?);
        }
    }
    Ok(FloorsConfig { models, restarts: if lab.fast() { 8 } else { 16 }, iters: if lab.fast() { 2000 } else { 5000 } })
}

/// Adam restarts on every model (in parallel over models).
pub fn compute_floors(cfg: &FloorsConfig, seed: u64) -> FloorsData {
    let points = cfg
        .models
        .par_iter()
        .enumerate()
        .map(|(k, m)| {
            let (best, losses) =
                fit_restarts(m, cfg.restarts, cfg.iters, attnlab_core::rng::child_seed(seed, k as u64));
            Point::from_fit(m, &best, &losses)
        })
        .collect();
    FloorsData { points }
}

/// The loss-floor record (computed, or read from the cache).
pub fn run_floors(lab: &Lab) -> Result<(ResultRecord<FloorsConfig, FloorsData>, CacheStatus), LabError> {
    let cfg = floors_config(lab)?;
    lab.cached(PAPER, FLOORS_ID, &cfg, FLOORS_SEED, || Ok::<_, LabError>(compute_floors(&cfg, FLOORS_SEED)))
}
