//! Experiment `icar.pe-only` (spec icar §2d, §3c, Fig 6): the PE-only model with narrow angles
//! (λ = exp(iθ/μ)), gradient descent from P = 0 at lr 0.5 on the population loss, stopped once the
//! previous epoch's loss is < 1e-3, for μ ∈ {50, 100, 200, 300} (the same in fast mode).

use attnlab_core::{CacheStatus, ResultRecord};
use attnlab_icar::pe::{PeFit, PeOnly, early_stopped_gd};
use serde::{Deserialize, Serialize};

use crate::Lab;
use crate::LabError;
use crate::icar::experiments::PAPER;

/// The seed (gradient descent on the exact loss from a fixed start draws nothing at random).
pub const SEED: u64 = 0;

/// Experiment id.
pub const ID: &str = "icar.pe-only";

/// The angle scales μ of the spec §5 table, in its order.
pub const MUS: [f64; 4] = [50.0, 100.0, 200.0, 300.0];

/// The experiment's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// One run per μ.
    pub runs: Vec<PeOnly>,
}

/// The experiment's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data {
    /// One fit per μ.
    pub fits: Vec<PeFit>,
}

/// The spec's run (T = 30, lr 0.5, stop below 1e-3) at every μ of [`MUS`].
pub fn config() -> Result<Config, LabError> {
    Ok(Config { runs: MUS.iter().map(|&mu| PeOnly::spec(mu)).collect::<Result<_, _>>()? })
}

/// Early-stopped GD at every μ (deterministic: no seed enters).
pub fn compute(cfg: &Config) -> Data {
    Data { fits: cfg.runs.iter().map(early_stopped_gd).collect() }
}

/// The record (computed, or read from the cache; stored under seed 0).
pub fn run(lab: &Lab) -> Result<(ResultRecord<Config, Data>, CacheStatus), LabError> {
    let cfg = config()?;
    lab.cached(PAPER, ID, &cfg, SEED, || Ok::<_, LabError>(compute(&cfg)))
}
