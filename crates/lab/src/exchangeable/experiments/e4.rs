//! E4 (spec §3, T4): supervised ERM of the attention temperature on M1(a); parameter error and
//! excess risk against N for each L, and the generalisation gap against L for attention and for
//! the flattened-features OLS control.

use attnlab_core::config::rules;
use attnlab_core::rng::seeded_rng;
use attnlab_core::{CacheStatus, ConfigError, MeanSe, ResultRecord};
use attnlab_exchangeable::fit::{BOOTSTRAP_RESAMPLES, bootstrap, bootstrap_slope, mean_of};
use attnlab_exchangeable::model::{M1Sequence, ValueOption};
use attnlab_exchangeable::optim::grid_then_brent;
use attnlab_exchangeable::theory::tilted_mean_keys;
use attnlab_exchangeable::{ExchError, Vec2, dot, scaled_identity};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{PAPER, SlopeFit, boot_seed, lens_ok, replicate_seed, rms, rms_ci, rms_slope};
use crate::Lab;
use crate::LabError;
use crate::Mode;

/// Experiment id (and the id of the figure that draws it).
pub const ID: &str = "exchangeable.f4.erm";
/// Base seed.
pub const SEED: u64 = 604;

/// The cached E4 record: config, seed, code version, wall time and [`E4Result`].
pub type E4Record = ResultRecord<E4Config, E4Result>;

/// E4's config for a mode. Fast: 10 training sets per cell, 8000 test sequences, 10 OLS sets.
/// Full: 160 fresh training sets per cell (the spec's 40 leave a slope CI of ±0.08, too wide to
/// decide a ±0.1 criterion), the spec's 40 000 test sequences, and 40 OLS sets at N = 1024.
pub fn config(mode: Mode) -> E4Config {
    match mode {
        Mode::Fast => E4Config::spec(10, 8000, 10),
        Mode::Full | Mode::Quick => E4Config::spec(160, 40_000, 40),
    }
}

/// E4 at the size of `lab`'s mode ([`config`]), from the cache when its config, seed and code are
/// unchanged.
pub fn run(lab: &Lab) -> Result<(E4Record, CacheStatus), LabError> {
    let cfg = config(lab.mode);
    lab.cached(PAPER, ID, &cfg, SEED, || compute(&cfg, SEED).map_err(LabError::from))
}

/// E4 (spec §3): M1(a), q₀ = (1, 0), u = (0.6, 0.8); y = uᵀm_{w*I}(q₀, z) + σ·η;
/// f_w(X) = uᵀattn_{wI}(q₀, K, K); ERM over log w on a 25-point grid on [0.25, 16] then Brent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E4Config {
    /// The desired w* (spec: 3).
    pub w_star: f64,
    /// Label noise σ (spec: 0.1).
    pub noise: f64,
    /// Sequence lengths (spec: 16, 64, 256).
    pub lens: Vec<usize>,
    /// Training-set sizes (spec: 32 … 1024, doubling).
    pub ns: Vec<usize>,
    /// Fresh training sets per (L, N) cell (spec: 40).
    pub train_sets: usize,
    /// Test sequences per L (spec: 40 000).
    pub test_size: usize,
    /// ERM range of w (spec: [0.25, 16]) and grid points (spec: 25).
    pub w_range: [f64; 2],
    /// Grid points of the ERM.
    pub grid: usize,
    /// Brent tolerance in log w (spec: 1e-5).
    pub tol: f64,
    /// Training sets of the flattened-features OLS control (at N = max ns).
    pub ols_sets: usize,
}

impl E4Config {
    /// The spec's sizes with `train_sets` training sets per cell and `test_size` test sequences.
    pub fn spec(train_sets: usize, test_size: usize, ols_sets: usize) -> Self {
        Self {
            w_star: 3.0,
            noise: 0.1,
            lens: vec![16, 64, 256],
            ns: (5..=10).map(|j| 1usize << j).collect(),
            train_sets,
            test_size,
            w_range: [0.25, 16.0],
            grid: 25,
            tol: 1e-5,
            ols_sets,
        }
    }
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        rules::positive("w_star", self.w_star)?;
        rules::non_negative("noise", self.noise)?;
        lens_ok("lens", &self.lens, 1)?;
        lens_ok("ns", &self.ns, 2)?;
        rules::at_least("train_sets", self.train_sets, 2)?;
        rules::at_least("test_size", self.test_size, 10)?;
        rules::positive("w_range", self.w_range[0])?;
        if !(self.w_range[1].is_finite() && self.w_range[1] > self.w_range[0]) {
            return Err(ConfigError::new(
                "w_range",
                format!("{:?}", self.w_range),
                "must be [lo, hi] with 0 < lo < hi",
            ));
        }
        // The ERM searches w in w_range only: a w* outside it puts every fit on the range's edge
        // (no error left to measure: the slope came out NaN at w* = 100).
        if !(self.w_star > self.w_range[0] && self.w_star < self.w_range[1]) {
            return Err(ConfigError::new(
                "w_star",
                self.w_star,
                format!(
                    "must lie inside the ERM's search range w_range = ({}, {}) (spec: [0.25, 16]), where the fit can find it",
                    self.w_range[0], self.w_range[1]
                ),
            ));
        }
        rules::at_least("grid", self.grid, 3)?;
        rules::positive("tol", self.tol)?;
        rules::at_least("ols_sets", self.ols_sets, 2)?;
        let nmax = self.ns.iter().copied().max().unwrap_or(0);
        if let Some(&l) = self.lens.iter().find(|&&l| nmax <= 2 * l + 2) {
            return Err(ConfigError::new(
                "ns",
                nmax,
                format!("the OLS control needs max N > 2L+2 = {} (L = {l})", 2 * l + 2),
            ));
        }
        Ok(())
    }
}

/// q₀ of E4.
pub const E4_Q0: Vec2 = [1.0, 0.0];
/// u of E4.
pub const E4_U: Vec2 = [0.6, 0.8];

/// One E4 sequence, reduced to what the model needs: c_l = q₀ᵀk_l, p_l = uᵀk_l, and the label y;
/// the keys only where the OLS control needs them (empty otherwise).
struct E4Seq {
    c: Vec<f64>,
    p: Vec<f64>,
    y: f64,
    keys: Vec<Vec2>,
}

fn e4_sample(len: usize, cfg: &E4Config, rng: &mut impl Rng, keep_keys: bool) -> E4Seq {
    let seq = M1Sequence::sample(len, ValueOption::Keys, rng);
    let m = tilted_mean_keys(E4_Q0, &scaled_identity(cfg.w_star), seq.z);
    let eta: f64 = StandardNormal.sample(rng);
    let y = dot(E4_U, m) + cfg.noise * eta;
    let c = seq.keys.iter().map(|&k| dot(E4_Q0, k)).collect();
    let p = seq.keys.iter().map(|&k| dot(E4_U, k)).collect();
    E4Seq { c, p, y, keys: if keep_keys { seq.keys } else { Vec::new() } }
}

/// f_w(X) and, for the derivative, d f_w / d ln w.
fn e4_predict(s: &E4Seq, w: f64) -> (f64, f64) {
    // c_l ≤ 1, so e^{w(c_l − 1)} never overflows.
    let (mut den, mut num, mut cm, mut cpm) = (0.0, 0.0, 0.0, 0.0);
    for (&c, &p) in s.c.iter().zip(&s.p) {
        let e = (w * (c - 1.0)).exp();
        den += e;
        num += e * p;
        cm += e * c;
        cpm += e * c * p;
    }
    let f = num / den;
    // d f/d w = Σa c p − (Σa c)(Σa p); d/d ln w = w · d/dw.
    (f, w * (cpm / den - (cm / den) * f))
}

/// Σ (f_w(X) − y)² over `data`.
fn e4_sse(data: &[E4Seq], w: f64) -> f64 {
    data.iter().map(|s| (e4_predict(s, w).0 - s.y).powi(2)).sum::<f64>()
}

/// Empirical risk: the mean squared error of f_w on `data`.
fn e4_risk(data: &[E4Seq], w: f64) -> f64 {
    e4_sse(data, w) / data.len() as f64
}

/// The OLS control's test set: the first (at most) this many sequences of the E4 test stream.
const OLS_TEST_MAX: usize = 10_000;

/// One L of E4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E4Len {
    /// L.
    pub len: usize,
    /// w_L* = argmin of the test risk.
    pub w_opt: f64,
    /// Standard error of ln w_L* (test-set noise, delta method).
    pub ln_w_opt_se: f64,
    /// R''_L in ln w at w_L*.
    pub curvature: f64,
    /// Test risk at w_L*.
    pub risk_opt: f64,
    /// Per N: RMS |ln ŵ − ln w_L*| over the training sets.
    pub param_err: Vec<f64>,
    /// A 95% interval of each `param_err` (Student-t on the mean squared error over the training
    /// sets, square-rooted).
    #[serde(default)]
    pub param_err_ci: Vec<[f64; 2]>,
    /// Per N: mean excess ½R''(ln ŵ − ln w_L*)² with its SE.
    pub excess: Vec<MeanSe>,
    /// Slope of the parameter error in N.
    pub param_fit: SlopeFit,
    /// Slope of the excess in N.
    pub excess_fit: SlopeFit,
    /// Mean generalisation gap (test − train risk) of attention at N = max ns, over the OLS sets.
    pub attn_gap: MeanSe,
    /// Mean generalisation gap of OLS on the 2L flattened key coordinates (+ intercept) at N = max ns.
    pub ols_gap: MeanSe,
}

/// E4's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct E4Result {
    /// N values.
    pub ns: Vec<usize>,
    /// Per L.
    pub per_len: Vec<E4Len>,
    /// max over N of excess(L_max)/excess(L_min), with its bootstrap CI.
    pub excess_ratio_max: f64,
    /// Its CI.
    pub excess_ratio_ci: [f64; 2],
    /// Per N: excess(L_max)/excess(L_min).
    pub excess_ratio: Vec<f64>,
    /// Slope of ln OLS gap against ln L, with CI (bootstrap over the OLS training sets).
    pub ols_gap_fit: SlopeFit,
}

/// Runs E4 with `cfg` and base seed `seed`.
pub fn compute(cfg: &E4Config, seed: u64) -> Result<E4Result, ExchError> {
    cfg.validate()?;
    let (lo, hi) = (cfg.w_range[0].ln(), cfg.w_range[1].ln());
    let nmax = cfg.ns.iter().copied().max().unwrap_or(0);
    let mut per_len = Vec::new();
    // excess[li][ni][set]
    let mut excess_all: Vec<Vec<Vec<f64>>> = Vec::new();
    let mut ols_gaps: Vec<Vec<f64>> = Vec::new();
    for (li, &len) in cfg.lens.iter().enumerate() {
        // Test set shared by every w (common random numbers); its first OLS_TEST_MAX sequences keep
        // their keys and are the OLS control's test set.
        let test: Vec<E4Seq> = (0..cfg.test_size)
            .into_par_iter()
            .map(|r| {
                e4_sample(
                    len,
                    cfg,
                    &mut seeded_rng(replicate_seed(seed, 10_000 + li as u64, r as u64)),
                    r < OLS_TEST_MAX,
                )
            })
            .collect();
        let ols_test = &test[..cfg.test_size.min(OLS_TEST_MAX)];
        let risk =
            |lw: f64| -> f64 { test.par_chunks(1000).map(|ch| e4_sse(ch, lw.exp())).sum::<f64>() / test.len() as f64 };
        let (lw_opt, risk_opt) = grid_then_brent(risk, lo, hi, cfg.grid, 1e-7);
        let h = 0.02;
        let curvature = (risk(lw_opt + h) - 2.0 * risk_opt + risk(lw_opt - h)) / (h * h);
        // SE of ln w*: sd of the per-sequence derivative of the loss, over √n, divided by R''.
        let derivs: Vec<f64> = test
            .par_iter()
            .map(|s| {
                let (f, df) = e4_predict(s, lw_opt.exp());
                2.0 * (f - s.y) * df
            })
            .collect();
        let ln_w_opt_se = MeanSe::of(&derivs).se / curvature;

        let mut param_err = Vec::new();
        let mut param_err_ci = Vec::new();
        let mut excess = Vec::new();
        let mut exc_cells: Vec<Vec<f64>> = Vec::new();
        let mut perr_cells: Vec<Vec<f64>> = Vec::new();
        let mut attn_gap_sets = Vec::new();
        let mut ols_gap_sets = Vec::new();
        for (ni, &n) in cfg.ns.iter().enumerate() {
            let rows: Vec<(f64, Option<(f64, f64)>)> = (0..cfg.train_sets)
                .into_par_iter()
                .map(|t| {
                    let cell = 100 * li as u64 + ni as u64;
                    let mut rng = seeded_rng(replicate_seed(seed, cell, t as u64));
                    let ols_here = n == nmax && t < cfg.ols_sets;
                    let train: Vec<E4Seq> = (0..n).map(|_| e4_sample(len, cfg, &mut rng, ols_here)).collect();
                    let (lw_hat, train_risk) =
                        grid_then_brent(|lw| e4_risk(&train, lw.exp()), lo, hi, cfg.grid, cfg.tol);
                    let gaps = ols_here.then(|| {
                        let attn_gap = risk(lw_hat) - train_risk;
                        (attn_gap, ols_gap(&train, ols_test))
                    });
                    (lw_hat, gaps)
                })
                .collect();
            let d: Vec<f64> = rows.iter().map(|r| r.0 - lw_opt).collect();
            let exc: Vec<f64> = d.iter().map(|x| 0.5 * curvature * x * x).collect();
            param_err.push(rms(&d));
            param_err_ci.push(rms_ci(&d));
            excess.push(MeanSe::of(&exc));
            exc_cells.push(exc);
            perr_cells.push(d);
            for r in &rows {
                if let Some((a, o)) = r.1 {
                    attn_gap_sets.push(a);
                    ols_gap_sets.push(o);
                }
            }
        }
        let x: Vec<f64> = cfg.ns.iter().map(|&n| n as f64).collect();
        let param_fit = rms_slope(&x, &perr_cells, boot_seed(seed, 40 + li as u64), false);
        let sizes: Vec<usize> = exc_cells.iter().map(Vec::len).collect();
        let excess_fit =
            bootstrap_slope(&x, &sizes, BOOTSTRAP_RESAMPLES, boot_seed(seed, 50 + li as u64), false, |g, idx| {
                mean_of(&exc_cells[g], idx)
            });
        per_len.push(E4Len {
            len,
            w_opt: lw_opt.exp(),
            ln_w_opt_se,
            curvature,
            risk_opt,
            param_err,
            param_err_ci,
            excess,
            param_fit,
            excess_fit,
            attn_gap: MeanSe::of(&attn_gap_sets),
            ols_gap: MeanSe::of(&ols_gap_sets),
        });
        excess_all.push(exc_cells);
        ols_gaps.push(ols_gap_sets);
    }
    // max_N excess(L_max)/excess(L_min) with a bootstrap over the training sets of both rows.
    let (first, last) = (&excess_all[0], &excess_all[excess_all.len() - 1]);
    let nn = cfg.ns.len();
    let sizes: Vec<usize> = first.iter().chain(last.iter()).map(Vec::len).collect();
    let ratio_max = |idx: &[Vec<usize>]| {
        (0..nn).map(|k| mean_of(&last[k], &idx[nn + k]) / mean_of(&first[k], &idx[k])).fold(f64::NEG_INFINITY, f64::max)
    };
    let (excess_ratio_max, excess_ratio_ci, _) =
        bootstrap(&sizes, BOOTSTRAP_RESAMPLES, boot_seed(seed, 60), false, ratio_max);
    let excess_ratio = (0..nn).map(|k| MeanSe::of(&last[k]).mean / MeanSe::of(&first[k]).mean).collect();
    let xl: Vec<f64> = cfg.lens.iter().map(|&l| l as f64).collect();
    let sizes: Vec<usize> = ols_gaps.iter().map(Vec::len).collect();
    let ols_gap_fit = bootstrap_slope(&xl, &sizes, BOOTSTRAP_RESAMPLES, boot_seed(seed, 61), false, |g, idx| {
        mean_of(&ols_gaps[g], idx)
    });
    Ok(E4Result { ns: cfg.ns.clone(), per_len, excess_ratio_max, excess_ratio_ci, excess_ratio, ols_gap_fit })
}

/// Generalisation gap of OLS of y on [1, flattened keys] (2L + 1 features): test MSE − train MSE.
fn ols_gap(train: &[E4Seq], test: &[E4Seq]) -> f64 {
    let feat = |s: &E4Seq| -> Vec<f64> {
        let mut f = Vec::with_capacity(2 * s.keys.len() + 1);
        f.push(1.0);
        for k in &s.keys {
            f.push(k[0]);
            f.push(k[1]);
        }
        f
    };
    let xs: Vec<Vec<f64>> = train.iter().map(feat).collect();
    let p = xs[0].len();
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    for (x, s) in xs.iter().zip(train) {
        for i in 0..p {
            let xi = x[i];
            b[i] += xi * s.y;
            let row = &mut a[i * p..i * p + i + 1];
            for (j, r) in row.iter_mut().enumerate() {
                *r += xi * x[j];
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            a[j * p + i] = a[i * p + j];
        }
        // A tiny ridge only guards against exact rank deficiency (N > 2L + 2 keeps XᵀX invertible).
        a[i * p + i] += 1e-10;
    }
    let Some(beta) = attnlab_exchangeable::attention::cholesky_solve(&mut a, p, &b) else { return f64::NAN };
    let mse = |set: &[E4Seq]| {
        set.iter().map(|s| (feat(s).iter().zip(&beta).map(|(x, b)| x * b).sum::<f64>() - s.y).powi(2)).sum::<f64>()
            / set.len() as f64
    };
    mse(test) - mse(train)
}
