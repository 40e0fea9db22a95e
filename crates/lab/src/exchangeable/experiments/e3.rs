//! E3 (spec §3, T3), all on M1(b): (i) the deterministic bias of m_{wI}(q, z) against
//! g(q, z) = E[v | k = q, z]; (ii) total error and fluctuation against w at three L (the
//! bias–variance U, F3b); (iii) the schedule w_L = L^{2/5}; (iv) normalised CME attention against
//! Nadaraya–Watson as λ grows, and CME attention along λ_L = c·L^{-1/2}.

use attnlab_core::config::rules;
use attnlab_core::rng::seeded_rng;
use attnlab_core::{CacheStatus, ConfigError, ResultRecord};
use attnlab_exchangeable::attention::{Rbf, cme_attention, nadaraya_watson, softmax_scaled};
use attnlab_exchangeable::fit::{BOOTSTRAP_RESAMPLES, bootstrap_slope, rms_of};
use attnlab_exchangeable::model::{M1Sequence, ValueOption, g, sample_uniform_circle, sample_z};
use attnlab_exchangeable::optim::{argmin, refined_argmin};
use attnlab_exchangeable::theory::tilted_mean_tanh;
use attnlab_exchangeable::{ExchError, Vec2, dot, scaled_identity};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    PAPER, SlopeFit, boot_seed, len_grid, lens_ok, positives_ok, replicate_seed, rms, rms_slope, rms_slope_where,
};
use crate::Lab;
use crate::LabError;
use crate::Mode;

/// Experiment id (and the id of the figure that draws it).
pub const ID: &str = "exchangeable.f3.cme";
/// Base seed.
pub const SEED: u64 = 603;

/// The cached E3 record: config, seed, code version, wall time and [`E3Result`].
pub type E3Record = ResultRecord<E3Config, E3Result>;

/// E3's config for a mode: fast shrinks every replicate count to a fifth; full runs the spec's
/// sizes with 400 CME-schedule replicates and 4000 sweep replicates (the total-error minimum is
/// flat: its location, F3b, needs more replicates than the spec's 1000 to give a CI of useful width).
pub fn config(mode: Mode) -> E3Config {
    match mode {
        Mode::Fast => E3Config::spec(0.2),
        Mode::Full | Mode::Quick => {
            let mut cfg = E3Config::spec(1.0);
            cfg.cme_schedule_replicates = 400;
            cfg.sweep_replicates = 4000;
            cfg
        }
    }
}

/// E3 at the size of `lab`'s mode ([`config`]), from the cache when its config, seed and code are
/// unchanged.
pub fn run(lab: &Lab) -> Result<(E3Record, CacheStatus), LabError> {
    let cfg = config(lab.mode);
    lab.cached(PAPER, ID, &cfg, SEED, || compute(&cfg, SEED).map_err(LabError::from))
}

/// E3 (spec §3), all on M1(b).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E3Config {
    /// (i) w values of the deterministic bias (spec: 2, 4, …, 128).
    pub bias_ws: Vec<f64>,
    /// (i) number of (z, q) pairs (spec: 500).
    pub bias_pairs: usize,
    /// (i), (ii) slopes are fitted over w ≥ this (spec: 8).
    pub fit_min_w: f64,
    /// (ii), F3b: w grid of the sweep on common random numbers.
    pub sweep_ws: Vec<f64>,
    /// (ii), F3b: sequence lengths of the sweep (spec: 256, 1024, 4096).
    pub sweep_lens: Vec<usize>,
    /// (ii): the sweep length whose fluctuation slope is judged (spec: 1024).
    pub fluct_len: usize,
    /// (ii), F3b: replicates per sweep length.
    pub sweep_replicates: usize,
    /// (ii): fluctuation slope fitted over w ≤ this (spec range ends at 128).
    pub fit_max_w: f64,
    /// (iii) sequence lengths of the schedule w_L = L^{schedule_exponent}.
    pub schedule_lens: Vec<usize>,
    /// (iii) exponent (spec: 2/5).
    pub schedule_exponent: f64,
    /// (iii) replicates per L (spec: 2000).
    pub schedule_replicates: usize,
    /// (iv) RBF bandwidth (spec: 0.5).
    pub cme_h: f64,
    /// (iv-a) λ values (spec: 10, 100, 1000).
    pub cme_lambdas: Vec<f64>,
    /// (iv-a) sequence length.
    pub cme_len: usize,
    /// (iv-a) replicates.
    pub cme_replicates: usize,
    /// (iv-b) sequence lengths of the schedule λ_L = cme_c·L^{-1/2}.
    pub cme_schedule_lens: Vec<usize>,
    /// (iv-b) constant (spec: 0.1).
    pub cme_c: f64,
    /// (iv-b) replicates per L.
    pub cme_schedule_replicates: usize,
}

impl E3Config {
    /// The spec's sizes; `scale` ∈ (0, 1] shrinks every replicate count (fast mode).
    pub fn spec(scale: f64) -> Self {
        let n = |r: usize| ((r as f64 * scale).round() as usize).max(20);
        Self {
            bias_ws: (1..=7).map(|j| f64::from(1u32 << j)).collect(),
            bias_pairs: 500,
            fit_min_w: 8.0,
            sweep_ws: (0..=16).map(|j| 2f64.powf(f64::from(j) / 2.0)).collect(),
            sweep_lens: vec![256, 1024, 4096],
            fluct_len: 1024,
            sweep_replicates: n(1000),
            fit_max_w: 128.0,
            schedule_lens: len_grid(8),
            schedule_exponent: 0.4,
            schedule_replicates: n(2000),
            cme_h: 0.5,
            cme_lambdas: vec![10.0, 100.0, 1000.0],
            cme_len: 256,
            cme_replicates: n(200),
            cme_schedule_lens: len_grid(5),
            cme_c: 0.1,
            cme_schedule_replicates: n(200),
        }
    }
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positives_ok("bias_ws", &self.bias_ws)?;
        rules::at_least("bias_pairs", self.bias_pairs, 2)?;
        rules::positive("fit_min_w", self.fit_min_w)?;
        positives_ok("sweep_ws", &self.sweep_ws)?;
        lens_ok("sweep_lens", &self.sweep_lens, 1)?;
        self.fluct_index()?;
        rules::at_least("sweep_replicates", self.sweep_replicates, 2)?;
        rules::positive("fit_max_w", self.fit_max_w)?;
        if self.bias_ws.iter().filter(|&&w| w >= self.fit_min_w).count() < 2 {
            return Err(ConfigError::new("fit_min_w", self.fit_min_w, "leaves fewer than 2 bias_ws to fit"));
        }
        if self.sweep_ws.iter().filter(|&&w| w >= self.fit_min_w && w <= self.fit_max_w).count() < 2 {
            return Err(ConfigError::new("fit_max_w", self.fit_max_w, "leaves fewer than 2 sweep_ws to fit"));
        }
        lens_ok("schedule_lens", &self.schedule_lens, 1)?;
        rules::positive("schedule_exponent", self.schedule_exponent)?;
        rules::at_least("schedule_replicates", self.schedule_replicates, 2)?;
        rules::positive("cme_h", self.cme_h)?;
        positives_ok("cme_lambdas", &self.cme_lambdas)?;
        rules::at_least("cme_len", self.cme_len, 1)?;
        rules::at_least("cme_replicates", self.cme_replicates, 2)?;
        lens_ok("cme_schedule_lens", &self.cme_schedule_lens, 1)?;
        rules::positive("cme_c", self.cme_c)?;
        rules::at_least("cme_schedule_replicates", self.cme_schedule_replicates, 2)?;
        Ok(())
    }

    /// The index in `sweep_lens` of `fluct_len` (the last, should it repeat).
    fn fluct_index(&self) -> Result<usize, ConfigError> {
        self.sweep_lens
            .iter()
            .rposition(|&l| l == self.fluct_len)
            .ok_or_else(|| ConfigError::new("fluct_len", self.fluct_len, "must be one of sweep_lens"))
    }
}

/// One sweep length of E3: RMS errors over the w grid, on common random numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E3Sweep {
    /// L.
    pub len: usize,
    /// RMS of attn − g(q, z) (total error) per w.
    pub total: Vec<f64>,
    /// RMS of attn − m_W(q, z) (fluctuation) per w.
    pub fluct: Vec<f64>,
    /// The w of the smallest total error on the grid.
    pub argmin_w: f64,
    /// The minimiser refined by a parabola through the three grid points around the minimum in
    /// (ln w, ln error) (the grid value when the minimum is at an end of the grid).
    pub argmin_w_refined: f64,
}

/// E3's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E3Result {
    /// (i) RMS bias per bias w.
    pub bias: Vec<f64>,
    /// (i) slope over w ≥ fit_min_w.
    pub bias_fit: SlopeFit,
    /// (i) slope over every w (spec's numpy reference: −0.90 over 2..128).
    pub bias_fit_all: SlopeFit,
    /// (ii), F3b: the sweeps.
    pub sweeps: Vec<E3Sweep>,
    /// (ii) fluctuation slope at fluct_len over fit_min_w ≤ w ≤ fit_max_w.
    pub fluct_fit: SlopeFit,
    /// F3b: slope of ln argmin_w (grid) against ln L.
    pub argmin_slope: f64,
    /// F3b: slope of the refined ln argmin against ln L, with a bootstrap CI over the sweep
    /// replicates (the prediction is 2/5).
    pub argmin_fit: SlopeFit,
    /// (iii) RMS error to g per schedule L.
    pub schedule: Vec<f64>,
    /// (iii) slope.
    pub schedule_fit: SlopeFit,
    /// (iv-a) RMS of normalised CME − NW per λ.
    pub cme_gap: Vec<f64>,
    /// (iv-a) slope in λ.
    pub cme_gap_fit: SlopeFit,
    /// (iv-b) RMS error of CME attention to g per L with λ_L = c·L^{-1/2}.
    pub cme_schedule: Vec<f64>,
    /// (iv-b) slope.
    pub cme_schedule_fit: SlopeFit,
}

/// Runs E3 with `cfg` and base seed `seed`.
pub fn compute(cfg: &E3Config, seed: u64) -> Result<E3Result, ExchError> {
    cfg.validate()?;
    // (i) deterministic bias over (z, q) pairs, the same pairs at every w.
    let pairs: Vec<(Vec2, Vec2)> = (0..cfg.bias_pairs)
        .map(|r| {
            let mut rng = seeded_rng(replicate_seed(seed, 0, r as u64));
            (sample_z(&mut rng), sample_uniform_circle(&mut rng))
        })
        .collect();
    let bias_err: Vec<Vec<f64>> = cfg
        .bias_ws
        .iter()
        .map(|&w| pairs.par_iter().map(|&(z, q)| tilted_mean_tanh(q, &scaled_identity(w), z) - g(q, z)).collect())
        .collect();
    let bias: Vec<f64> = bias_err.iter().map(|e| rms(e)).collect();
    let bias_fit = rms_slope_where(&cfg.bias_ws, &bias_err, |w| w >= cfg.fit_min_w, boot_seed(seed, 20), true);
    let bias_fit_all = rms_slope(&cfg.bias_ws, &bias_err, boot_seed(seed, 21), true);

    // (ii) + F3b: one draw of (z, q, K, V) per replicate, evaluated at every w.
    let mut sweeps = Vec::new();
    // Per sweep length, per w, per replicate: total error and fluctuation.
    let mut total_errs: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut fluct_errs: Vec<Vec<Vec<f64>>> = Vec::new();
    for (li, &len) in cfg.sweep_lens.iter().enumerate() {
        let rows: Vec<(Vec<f64>, Vec<f64>)> = (0..cfg.sweep_replicates)
            .into_par_iter()
            .map(|r| {
                let mut rng = seeded_rng(replicate_seed(seed, 100 + li as u64, r as u64));
                let seq = M1Sequence::sample(len, ValueOption::Tanh, &mut rng);
                let q = sample_uniform_circle(&mut rng);
                let base: Vec<f64> = seq.keys.iter().map(|&k| dot(q, k)).collect();
                let gq = g(q, seq.z);
                let mut tot = Vec::with_capacity(cfg.sweep_ws.len());
                let mut fl = Vec::with_capacity(cfg.sweep_ws.len());
                for &w in &cfg.sweep_ws {
                    let a = softmax_scaled(&base, w, &seq.values);
                    tot.push(a - gq);
                    fl.push(a - tilted_mean_tanh(q, &scaled_identity(w), seq.z));
                }
                (tot, fl)
            })
            .collect();
        // Transpose to one vector of replicates per w: .0 total error, .1 fluctuation.
        let tot_w: Vec<Vec<f64>> = (0..cfg.sweep_ws.len()).map(|k| rows.iter().map(|row| row.0[k]).collect()).collect();
        let fl_w: Vec<Vec<f64>> = (0..cfg.sweep_ws.len()).map(|k| rows.iter().map(|row| row.1[k]).collect()).collect();
        let total: Vec<f64> = tot_w.iter().map(|e| rms(e)).collect();
        let fluct: Vec<f64> = fl_w.iter().map(|e| rms(e)).collect();
        let (argmin_w, argmin_w_refined) = (cfg.sweep_ws[argmin(&total)], refined_argmin(&cfg.sweep_ws, &total));
        sweeps.push(E3Sweep { len, total, fluct, argmin_w, argmin_w_refined });
        total_errs.push(tot_w);
        fluct_errs.push(fl_w);
    }
    let in_range = |w: f64| w >= cfg.fit_min_w && w <= cfg.fit_max_w;
    let fluct_fit =
        rms_slope_where(&cfg.sweep_ws, &fluct_errs[cfg.fluct_index()?], in_range, boot_seed(seed, 22), true);
    let lx: Vec<f64> = sweeps.iter().map(|s| s.len as f64).collect();
    let argmin_slope = attnlab_exchangeable::fit::loglog(&lx, &sweeps.iter().map(|s| s.argmin_w).collect::<Vec<_>>()).0;
    // Bootstrap over each length's replicates (one resample reused at every w of that length).
    let sizes: Vec<usize> = total_errs.iter().map(|t| t[0].len()).collect();
    let argmin_fit = bootstrap_slope(&lx, &sizes, BOOTSTRAP_RESAMPLES, boot_seed(seed, 26), false, |g, ix| {
        refined_argmin(&cfg.sweep_ws, &total_errs[g].iter().map(|e| rms_of(e, ix)).collect::<Vec<_>>())
    });

    // (iii) schedule w_L = L^{2/5}, error to g.
    let sched_err: Vec<Vec<f64>> = cfg
        .schedule_lens
        .iter()
        .enumerate()
        .map(|(li, &len)| {
            let w = (len as f64).powf(cfg.schedule_exponent);
            (0..cfg.schedule_replicates)
                .into_par_iter()
                .map(|r| {
                    let mut rng = seeded_rng(replicate_seed(seed, 200 + li as u64, r as u64));
                    let seq = M1Sequence::sample(len, ValueOption::Tanh, &mut rng);
                    let q = sample_uniform_circle(&mut rng);
                    let base: Vec<f64> = seq.keys.iter().map(|&k| dot(q, k)).collect();
                    softmax_scaled(&base, w, &seq.values) - g(q, seq.z)
                })
                .collect()
        })
        .collect();
    let x: Vec<f64> = cfg.schedule_lens.iter().map(|&l| l as f64).collect();
    let schedule_fit = rms_slope(&x, &sched_err, boot_seed(seed, 23), false);

    // (iv-a) normalised CME − NW at fixed L, the same data at every λ.
    let kernel = Rbf { h: cfg.cme_h };
    let gap_rows: Vec<Vec<f64>> = (0..cfg.cme_replicates)
        .into_par_iter()
        .map(|r| {
            let mut rng = seeded_rng(replicate_seed(seed, 300, r as u64));
            let seq = M1Sequence::sample(cfg.cme_len, ValueOption::Tanh, &mut rng);
            let q = sample_uniform_circle(&mut rng);
            let nw = nadaraya_watson(q, kernel, &seq.keys, &seq.values);
            cfg.cme_lambdas
                .iter()
                .map(|&lam| cme_attention(q, kernel, lam, &seq.keys, &seq.values).map(|(num, den)| num / den - nw))
                .collect::<Result<Vec<f64>, ExchError>>()
        })
        .collect::<Result<_, _>>()?;
    let gap_err: Vec<Vec<f64>> = (0..cfg.cme_lambdas.len()).map(|k| gap_rows.iter().map(|r| r[k]).collect()).collect();
    let cme_gap_fit = rms_slope(&cfg.cme_lambdas, &gap_err, boot_seed(seed, 24), true);

    // (iv-b) CME attention with λ_L = c·L^{-1/2}, error to g.
    let cme_err: Vec<Vec<f64>> = cfg
        .cme_schedule_lens
        .iter()
        .enumerate()
        .map(|(li, &len)| {
            let lam = cfg.cme_c / (len as f64).sqrt();
            (0..cfg.cme_schedule_replicates)
                .into_par_iter()
                .map(|r| {
                    let mut rng = seeded_rng(replicate_seed(seed, 400 + li as u64, r as u64));
                    let seq = M1Sequence::sample(len, ValueOption::Tanh, &mut rng);
                    let q = sample_uniform_circle(&mut rng);
                    cme_attention(q, kernel, lam, &seq.keys, &seq.values).map(|(num, _)| num - g(q, seq.z))
                })
                .collect::<Result<Vec<f64>, ExchError>>()
        })
        .collect::<Result<_, _>>()?;
    let x: Vec<f64> = cfg.cme_schedule_lens.iter().map(|&l| l as f64).collect();
    let cme_schedule_fit = rms_slope(&x, &cme_err, boot_seed(seed, 25), false);

    Ok(E3Result {
        bias,
        bias_fit,
        bias_fit_all,
        fluct_fit,
        sweeps,
        argmin_slope,
        argmin_fit,
        schedule: sched_err.iter().map(|e| rms(e)).collect(),
        schedule_fit,
        cme_gap: gap_err.iter().map(|e| rms(e)).collect(),
        cme_gap_fit,
        cme_schedule: cme_err.iter().map(|e| rms(e)).collect(),
        cme_schedule_fit,
    })
}
