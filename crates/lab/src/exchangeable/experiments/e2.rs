//! E2 (spec §3, T1/T2): latent posterior inference. On M1(a) with W = wI, the RMSE between
//! attention, the posterior functional ∫m_W(q, z)p(z | X)dz and m_W(q, z_true), against L.

use attnlab_core::config::rules;
use attnlab_core::rng::seeded_rng;
use attnlab_core::{CacheStatus, ConfigError, ResultRecord};
use attnlab_exchangeable::attention::softmax_attention;
use attnlab_exchangeable::model::{M1Sequence, ValueOption, sample_uniform_circle};
use attnlab_exchangeable::theory::{PosteriorGrid, tilted_mean_keys};
use attnlab_exchangeable::{ExchError, Vec2, norm, scaled_identity};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PAPER, SlopeFit, boot_seed, len_grid, lens_ok, replicate_seed, rms, rms_slope};
use crate::Lab;
use crate::LabError;
use crate::Mode;

/// Experiment id (and the id of the figure that draws it).
pub const ID: &str = "exchangeable.f2.posterior";
/// Base seed.
pub const SEED: u64 = 602;

/// The cached E2 record: config, seed, code version, wall time and [`E2Result`].
pub type E2Record = ResultRecord<E2Config, E2Result>;

/// The config at `mode`'s size.
pub fn config(mode: Mode) -> E2Config {
    E2Config::spec(if mode == Mode::Fast { 150 } else { 1000 })
}

/// E2 at the size of `lab`'s mode (fast: 150 replicates per L, full: 1000), from the cache when its
/// config, seed and code are unchanged.
pub fn run(lab: &Lab) -> Result<(E2Record, CacheStatus), LabError> {
    let cfg = config(lab.mode);
    lab.cached(PAPER, ID, &cfg, SEED, || compute(&cfg, SEED).map_err(LabError::from))
}

/// E2 (spec §3): M1(a), W = wI; attention vs the posterior functional ∫m_W p(z|X), attention vs
/// m_W(q, z_true), posterior functional vs m_W(q, z_true).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E2Config {
    /// w in W = wI (spec: 2).
    pub w: f64,
    /// Sequence lengths.
    pub lens: Vec<usize>,
    /// Replicates per L (spec: 300, 1000 is better).
    pub replicates: usize,
}

impl E2Config {
    /// The spec's sizes.
    pub fn spec(replicates: usize) -> Self {
        Self { w: 2.0, lens: len_grid(8), replicates }
    }
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        rules::positive("w", self.w)?;
        lens_ok("lens", &self.lens, 1)?;
        rules::at_least("replicates", self.replicates, 2)?;
        Ok(())
    }
}

/// E2's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E2Result {
    /// L values.
    pub lens: Vec<usize>,
    /// RMSE per curve per L, in the order attention vs posterior functional, attention vs
    /// m_W(q, z), posterior functional vs m_W(q, z).
    pub rmse: [Vec<f64>; 3],
    /// Slope per curve.
    pub fits: [SlopeFit; 3],
}

/// Runs E2 with `cfg` and base seed `seed`.
pub fn compute(cfg: &E2Config, seed: u64) -> Result<E2Result, ExchError> {
    cfg.validate()?;
    let w = scaled_identity(cfg.w);
    // errs[c][li][r]
    let mut errs: [Vec<Vec<f64>>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (li, &len) in cfg.lens.iter().enumerate() {
        let rows: Vec<[f64; 3]> = (0..cfg.replicates)
            .into_par_iter()
            .map(|r| {
                let mut rng = seeded_rng(replicate_seed(seed, li as u64, r as u64));
                let seq = M1Sequence::sample(len, ValueOption::Keys, &mut rng);
                let q = sample_uniform_circle(&mut rng);
                let attn = softmax_attention(q, &w, &seq.keys, &seq.keys);
                let post = PosteriorGrid::m1(seq.key_sum(), len).posterior_functional(q, &w);
                let truth = tilted_mean_keys(q, &w, seq.z);
                let d = |a: Vec2, b: Vec2| norm([a[0] - b[0], a[1] - b[1]]);
                [d(attn, post), d(attn, truth), d(post, truth)]
            })
            .collect();
        for c in 0..3 {
            errs[c].push(rows.iter().map(|r| r[c]).collect());
        }
    }
    let x: Vec<f64> = cfg.lens.iter().map(|&l| l as f64).collect();
    let fits = [0, 1, 2].map(|c| rms_slope(&x, &errs[c], boot_seed(seed, 10 + c as u64), false));
    let rmse = [0, 1, 2].map(|c| errs[c].iter().map(|e| rms(e)).collect());
    Ok(E2Result { lens: cfg.lens.clone(), rmse, fits })
}
