//! E5 (spec §3, T5): on M2 with L = 1024, the ratio of the downstream excess E_down to the
//! pretraining excess E_pre against κ, for a target in the weak (θ = e₂) and the strong (θ = e₁)
//! direction; W = 0 (uniform attention, a sufficient statistic) as the sanity check.

use attnlab_core::config::rules;
use attnlab_core::rng::seeded_rng;
use attnlab_core::{CacheStatus, ConfigError, ResultRecord};
use attnlab_exchangeable::attention::softmax_attention;
use attnlab_exchangeable::fit::{BOOTSTRAP_RESAMPLES, bootstrap, bootstrap_slope};
use attnlab_exchangeable::model::M2;
use attnlab_exchangeable::theory::M2Posterior;
use attnlab_exchangeable::{ExchError, Vec2, scaled_identity};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PAPER, SlopeFit, boot_seed, replicate_seed};
use crate::Lab;
use crate::LabError;
use crate::Mode;

/// Experiment id (and the id of the figure that draws it).
pub const ID: &str = "exchangeable.f5.condition";
/// Base seed of the main run (the W = 0 run uses `SEED + 1`).
pub const SEED: u64 = 605;

/// The E5 experiment's config: the main run and the W = 0 sanity run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E5Runs {
    /// W = 0.5·I.
    pub main: E5Config,
    /// W = 0.
    pub uniform: E5Config,
}

impl E5Runs {
    /// The runs at a mode's size: fast 2000 (main) and 500 (W = 0) sequences per κ, full the
    /// spec's 8000 and 2000.
    pub fn for_mode(mode: Mode) -> Self {
        let fast = mode == Mode::Fast;
        let main = E5Config::spec(if fast { 2000 } else { 8000 });
        let mut uniform = E5Config::spec(if fast { 500 } else { 2000 });
        uniform.w = 0.0;
        Self { main, uniform }
    }

    /// Runs both: the main run with `seed`, the W = 0 run with `seed + 1`.
    pub fn compute(&self, seed: u64) -> Result<E5RunsResult, ExchError> {
        Ok(E5RunsResult { main: compute(&self.main, seed)?, uniform: compute(&self.uniform, seed + 1)? })
    }
}

/// The E5 experiment's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E5RunsResult {
    /// W = 0.5·I.
    pub main: E5Result,
    /// W = 0.
    pub uniform: E5Result,
}

/// The cached E5 record: config, seed, code version, wall time and [`E5RunsResult`].
pub type E5Record = ResultRecord<E5Runs, E5RunsResult>;

/// E5 at the size of `lab`'s mode ([`E5Runs::for_mode`]), from the cache when its config, seed and
/// code are unchanged.
pub fn run(lab: &Lab) -> Result<(E5Record, CacheStatus), LabError> {
    let cfg = E5Runs::for_mode(lab.mode);
    lab.cached(PAPER, ID, &cfg, SEED, || cfg.compute(SEED).map_err(LabError::from))
}

/// E5 (spec §3): M2 with L = 1024, κ ∈ {1, 2, 4, 8}, n sequences; query q_c = (1, 1)/√2 and
/// W = w·I, so Wᵀq_c = w·q_c (spec: w = 0.5; w = 0 is the uniform-attention sanity check).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E5Config {
    /// L (spec: 1024).
    pub len: usize,
    /// κ values (spec: 1, 2, 4, 8).
    pub kappas: Vec<f64>,
    /// Sequences per κ (spec: 8000).
    pub n: usize,
    /// w in W = wI (spec: 0.5).
    pub w: f64,
    /// The κ² slope is fitted over κ ≤ this (spec: 4, before saturation).
    pub fit_max_kappa: f64,
}

impl E5Config {
    /// The spec's sizes with n sequences per κ.
    pub fn spec(n: usize) -> Self {
        Self { len: 1024, kappas: vec![1.0, 2.0, 4.0, 8.0], n, w: 0.5, fit_max_kappa: 4.0 }
    }
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        rules::at_least("len", self.len, 1)?;
        if self.kappas.len() < 2 {
            return Err(ConfigError::new("kappas", format!("{:?}", self.kappas), "needs at least 2 values"));
        }
        for &k in &self.kappas {
            if !(k.is_finite() && k >= 1.0) {
                return Err(ConfigError::new("kappas", k, "every κ must be a finite number >= 1"));
            }
        }
        rules::at_least("n", self.n, 10)?;
        rules::non_negative("w", self.w)?;
        if self.kappas.iter().filter(|&&k| k <= self.fit_max_kappa).count() < 2 {
            return Err(ConfigError::new("fit_max_kappa", self.fit_max_kappa, "leaves fewer than 2 κ to fit"));
        }
        Ok(())
    }
}

/// E5 at one κ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E5Kappa {
    /// κ.
    pub kappa: f64,
    /// E_pre = E‖(r − Er) − (Hμ_post − E Hμ_post)‖².
    pub e_pre: f64,
    /// E_down for θ = e₁ and θ = e₂ (excess over Bayes of the best affine read-out of r).
    pub e_down: [f64; 2],
    /// E_down/E_pre for θ = e₁, e₂.
    pub ratio: [f64; 2],
    /// Bootstrap 95% CIs of the two ratios.
    pub ratio_ci: [[f64; 2]; 2],
    /// E_down/Var(θᵀμ_post) for θ = e₁, e₂ (relative downstream error).
    pub e_down_rel: [f64; 2],
}

/// E5's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E5Result {
    /// w used.
    pub w: f64,
    /// Per κ.
    pub per_kappa: Vec<E5Kappa>,
    /// Slope of ln ratio against ln κ over κ ≤ fit_max_kappa, for θ = e₁, e₂.
    pub fits: [SlopeFit; 2],
}

/// Per-sequence E5 quantities: r, Hμ_post, μ_post.
#[derive(Clone, Copy)]
struct E5Row {
    r: Vec2,
    hmu: Vec2,
    mu: Vec2,
}

fn e5_stats(rows: &[E5Row], idx: &[usize]) -> (f64, [f64; 2], [f64; 2]) {
    let n = idx.len() as f64;
    let mean = |f: &dyn Fn(&E5Row) -> f64| idx.iter().map(|&i| f(&rows[i])).sum::<f64>() / n;
    let (r0, r1) = (mean(&|x| x.r[0]), mean(&|x| x.r[1]));
    let (h0, h1) = (mean(&|x| x.hmu[0]), mean(&|x| x.hmu[1]));
    let (m0, m1) = (mean(&|x| x.mu[0]), mean(&|x| x.mu[1]));
    let e_pre = mean(&|x| ((x.r[0] - r0) - (x.hmu[0] - h0)).powi(2) + ((x.r[1] - r1) - (x.hmu[1] - h1)).powi(2));
    // Centred regression of t = μ_j on r: residual mean square = Var t − cᵀS⁻¹c.
    let s00 = mean(&|x| (x.r[0] - r0).powi(2));
    let s11 = mean(&|x| (x.r[1] - r1).powi(2));
    let s01 = mean(&|x| (x.r[0] - r0) * (x.r[1] - r1));
    let det = s00 * s11 - s01 * s01;
    let mut e_down = [0.0; 2];
    let mut var_t = [0.0; 2];
    for j in 0..2 {
        let mt = if j == 0 { m0 } else { m1 };
        let c0 = mean(&|x| (x.r[0] - r0) * (x.mu[j] - mt));
        let c1 = mean(&|x| (x.r[1] - r1) * (x.mu[j] - mt));
        let b0 = (s11 * c0 - s01 * c1) / det;
        let b1 = (-s01 * c0 + s00 * c1) / det;
        // The residual computed directly (not as Var − cᵀS⁻¹c) keeps machine precision when it is ~0.
        e_down[j] = mean(&|x| ((x.mu[j] - mt) - b0 * (x.r[0] - r0) - b1 * (x.r[1] - r1)).powi(2));
        var_t[j] = mean(&|x| (x.mu[j] - mt).powi(2));
    }
    (e_pre, e_down, var_t)
}

/// Runs E5 with `cfg` and base seed `seed`.
pub fn compute(cfg: &E5Config, seed: u64) -> Result<E5Result, ExchError> {
    cfg.validate()?;
    let qc = [std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2];
    let w = scaled_identity(cfg.w);
    let data: Vec<Vec<E5Row>> = cfg
        .kappas
        .iter()
        .enumerate()
        .map(|(ki, &kappa)| {
            let m = M2 { kappa };
            (0..cfg.n)
                .into_par_iter()
                .map(|i| {
                    let mut rng = seeded_rng(replicate_seed(seed, ki as u64, i as u64));
                    let (_, xs) = m.sample(cfg.len, &mut rng);
                    let r = softmax_attention(qc, &w, &xs, &xs);
                    let post = M2Posterior::new(&m, &xs);
                    let hmu = [post.mean[0], post.mean[1] / kappa];
                    E5Row { r, hmu, mu: post.mean }
                })
                .collect()
        })
        .collect();
    let mut per_kappa = Vec::new();
    for (ki, rows) in data.iter().enumerate() {
        let all: Vec<usize> = (0..rows.len()).collect();
        let (e_pre, e_down, var_t) = e5_stats(rows, &all);
        let mut ratio_ci = [[0.0; 2]; 2];
        for j in 0..2 {
            let (_, ci, _) = bootstrap(
                &[rows.len()],
                BOOTSTRAP_RESAMPLES,
                boot_seed(seed, 70 + 2 * ki as u64 + j as u64),
                false,
                |idx: &[Vec<usize>]| {
                    let (p, d, _) = e5_stats(rows, &idx[0]);
                    d[j] / p
                },
            );
            ratio_ci[j] = ci;
        }
        per_kappa.push(E5Kappa {
            kappa: cfg.kappas[ki],
            e_pre,
            e_down,
            ratio: [e_down[0] / e_pre, e_down[1] / e_pre],
            ratio_ci,
            e_down_rel: [e_down[0] / var_t[0], e_down[1] / var_t[1]],
        });
    }
    let sel: Vec<usize> = (0..cfg.kappas.len()).filter(|&k| cfg.kappas[k] <= cfg.fit_max_kappa).collect();
    let x: Vec<f64> = sel.iter().map(|&k| cfg.kappas[k]).collect();
    let sizes: Vec<usize> = sel.iter().map(|&k| data[k].len()).collect();
    let fits = [0usize, 1].map(|j| {
        bootstrap_slope(&x, &sizes, BOOTSTRAP_RESAMPLES, boot_seed(seed, 90 + j as u64), false, |g, idx| {
            let (p, d, _) = e5_stats(&data[sel[g]], idx);
            d[j] / p
        })
    });
    Ok(E5Result { w: cfg.w, per_kappa, fits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
    fn e5_uniform_attention_is_sufficient() {
        // W = 0: r = x̄ and μ_post is linear in x̄, so the downstream error vanishes.
        let cfg = E5Config { len: 64, kappas: vec![1.0, 4.0], n: 200, w: 0.0, fit_max_kappa: 4.0 };
        let res = compute(&cfg, 1).unwrap();
        for k in &res.per_kappa {
            assert!(k.e_down_rel[0] < 1e-20 && k.e_down_rel[1] < 1e-20, "{:?}", k.e_down_rel);
        }
    }
}
