//! E1 (spec §3, T2): fluctuation rate. On M1(b) with W = wI fixed and q uniform on the circle, the
//! RMSE of softmax attention to its deterministic limit m_W(q, z) against L; negative control with
//! unbounded keys k ~ N(z, I), q ~ N(0, I), W = w_c·I.

use attnlab_core::config::rules;
use attnlab_core::rng::seeded_rng;
use attnlab_core::{CacheStatus, ConfigError, ResultRecord};
use attnlab_exchangeable::attention::softmax_attention;
use attnlab_exchangeable::model::{M1Sequence, ValueOption, sample_uniform_circle, sample_value, sample_z};
use attnlab_exchangeable::theory::{tilted_mean_gaussian_keys, tilted_mean_tanh};
use attnlab_exchangeable::{ExchError, Vec2, norm, scaled_identity};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PAPER, SlopeFit, boot_seed, len_grid, lens_ok, replicate_seed, rms, rms_ci, rms_slope};
use crate::Lab;
use crate::LabError;
use crate::Mode;

/// Experiment id (and the id of the figure that draws it).
pub const ID: &str = "exchangeable.f1.fluctuation";
/// Base seed.
pub const SEED: u64 = 601;

/// The cached E1 record: config, seed, code version, wall time and [`E1Result`].
pub type E1Record = ResultRecord<E1Config, E1Result>;

/// The config at `mode`'s size.
pub fn config(mode: Mode) -> E1Config {
    E1Config::spec(if mode == Mode::Fast { 200 } else { 1000 })
}

/// E1 at the size of `lab`'s mode (fast: 200 replicates per L, full: the spec's 1000), from the
/// cache when its config, seed and code are unchanged.
pub fn run(lab: &Lab) -> Result<(E1Record, CacheStatus), LabError> {
    let cfg = config(lab.mode);
    lab.cached(PAPER, ID, &cfg, SEED, || compute(&cfg, SEED).map_err(LabError::from))
}

/// E1 (spec §3): M1(b), W = wI, q uniform on S¹; RMSE of attn − m_W(q, z) against L; negative
/// control with unbounded keys k ~ N(z, I), q ~ N(0, I), W = w_c·I.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E1Config {
    /// w in W = wI (spec: 2).
    pub w: f64,
    /// Sequence lengths (spec: 16 … 4096).
    pub lens: Vec<usize>,
    /// Replicates per L (spec: 1000).
    pub replicates: usize,
    /// w of the unbounded-key control (spec: 1).
    pub control_w: f64,
    /// Values of the control: `keys` (v = k, target m_W = z + Wᵀq) or `tanh` (v = g(k, z) + ε).
    pub control_values: ValueOption,
}

impl E1Config {
    /// The spec's sizes with `replicates` replicates per L.
    pub fn spec(replicates: usize) -> Self {
        Self { w: 2.0, lens: len_grid(8), replicates, control_w: 1.0, control_values: ValueOption::Keys }
    }
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        rules::positive("w", self.w)?;
        rules::positive("control_w", self.control_w)?;
        lens_ok("lens", &self.lens, 1)?;
        rules::at_least("replicates", self.replicates, 2)?;
        Ok(())
    }
}

/// E1's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E1Result {
    /// L values.
    pub lens: Vec<usize>,
    /// RMSE_L of attn − m_W(q, z) (bounded keys).
    pub rmse: Vec<f64>,
    /// A 95% interval of each RMSE (Student-t on the mean squared error over the replicates,
    /// square-rooted).
    #[serde(default)]
    pub rmse_ci: Vec<[f64; 2]>,
    /// Slope over all L.
    pub fit: SlopeFit,
    /// Slope over L ≥ 64 (first two L dropped, spec §5.6). Descriptive only: E1's claim is judged
    /// on [`fit`](Self::fit), the all-L fit fixed before the run.
    pub fit_tail: SlopeFit,
    /// RMSE_L of the unbounded-key control.
    pub control_rmse: Vec<f64>,
    /// A 95% interval of each control RMSE (as `rmse_ci`).
    #[serde(default)]
    pub control_rmse_ci: Vec<[f64; 2]>,
    /// Control slope over all L.
    pub control_fit: SlopeFit,
}

/// Runs E1 with `cfg` and base seed `seed`.
pub fn compute(cfg: &E1Config, seed: u64) -> Result<E1Result, ExchError> {
    cfg.validate()?;
    let w = scaled_identity(cfg.w);
    let wc = scaled_identity(cfg.control_w);
    let errs: Vec<Vec<f64>> = cfg
        .lens
        .iter()
        .enumerate()
        .map(|(li, &len)| {
            (0..cfg.replicates)
                .into_par_iter()
                .map(|r| {
                    let mut rng = seeded_rng(replicate_seed(seed, li as u64, r as u64));
                    let seq = M1Sequence::sample(len, ValueOption::Tanh, &mut rng);
                    let q = sample_uniform_circle(&mut rng);
                    attnlab_exchangeable::attention::softmax_attention_scalar(q, &w, &seq.keys, &seq.values)
                        - tilted_mean_tanh(q, &w, seq.z)
                })
                .collect()
        })
        .collect();
    let control: Vec<Vec<f64>> = cfg
        .lens
        .iter()
        .enumerate()
        .map(|(li, &len)| {
            (0..cfg.replicates)
                .into_par_iter()
                .map(|r| {
                    let mut rng = seeded_rng(replicate_seed(seed, 1000 + li as u64, r as u64));
                    let z = sample_z(&mut rng);
                    let keys: Vec<Vec2> = (0..len)
                        .map(|_| {
                            let a: f64 = StandardNormal.sample(&mut rng);
                            let b: f64 = StandardNormal.sample(&mut rng);
                            [z[0] + a, z[1] + b]
                        })
                        .collect();
                    let q = sample_z(&mut rng);
                    match cfg.control_values {
                        // v = k: the tilted key law is N(z + Wᵀq, I), so m_W = z + Wᵀq exactly.
                        ValueOption::Keys => {
                            let a = softmax_attention(q, &wc, &keys, &keys);
                            let wq = attnlab_exchangeable::wt_times(&wc, q);
                            norm([a[0] - z[0] - wq[0], a[1] - z[1] - wq[1]])
                        }
                        ValueOption::Tanh => {
                            let values: Vec<f64> = keys.iter().map(|&k| sample_value(k, z, &mut rng)).collect();
                            attnlab_exchangeable::attention::softmax_attention_scalar(q, &wc, &keys, &values)
                                - tilted_mean_gaussian_keys(q, &wc, z)
                        }
                    }
                })
                .collect()
        })
        .collect();
    let x: Vec<f64> = cfg.lens.iter().map(|&l| l as f64).collect();
    let fit = rms_slope(&x, &errs, boot_seed(seed, 1), false);
    let tail = 2.min(x.len() - 2);
    let fit_tail = rms_slope(&x[tail..], &errs[tail..], boot_seed(seed, 2), false);
    let control_fit = rms_slope(&x, &control, boot_seed(seed, 3), false);
    Ok(E1Result {
        lens: cfg.lens.clone(),
        rmse: errs.iter().map(|e| rms(e)).collect(),
        rmse_ci: errs.iter().map(|e| rms_ci(e)).collect(),
        fit,
        fit_tail,
        control_rmse: control.iter().map(|e| rms(e)).collect(),
        control_rmse_ci: control.iter().map(|e| rms_ci(e)).collect(),
        control_fit,
    })
}
