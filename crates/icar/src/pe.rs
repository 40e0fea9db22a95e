//! PE-only model with a narrow angle distribution (spec §2d, §3c): d = 1, λ = exp(iθ/μ),
//! θ ~ U[0, 2π), out_t = Σ_{j≤t+1} P_{t,j} conj(s_t) s_j², target s_{t+2}. The population Gram
//! matrix G_{jj'} = E cos(2(j'−j)φ) = sinc(4π(j'−j)/μ) and g_t[j] = E cos((2t+2−2j)φ) make the loss
//! (1/(T−1)) Σ_t [P_tᵀ G P_t − 2 g_tᵀ P_t + 1]; gradient descent from 0 at lr 0.5 stopped once the
//! previous epoch's loss is < 1e-3 (Landweber regularisation) gives the smooth rows of Fig 6.

use attnlab_core::config::rules;
use serde::{Deserialize, Serialize};

use crate::IcarError;

/// sinc(x) = sin x / x (1 at 0).
pub fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 { 1.0 } else { x.sin() / x }
}

/// E cos(nφ) for φ ~ U[0, 2π/μ): sinc(2πn/μ).
pub fn mean_cos(n: f64, mu: f64) -> f64 {
    sinc(2.0 * std::f64::consts::PI * n / mu)
}

/// The PE-only experiment: T positions, spread μ, learning rate, iteration cap, stop threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeOnly {
    /// Sequence length T (rows t = 0..T−2).
    pub t: usize,
    /// μ: the angle is U[0, 2π/μ).
    pub mu: f64,
    /// Learning rate (0.5).
    pub lr: f64,
    /// Maximum epochs (100 000).
    pub max_epochs: usize,
    /// Stop once the previous epoch's loss is below this (1e-3).
    pub stop_below: f64,
}

impl PeOnly {
    /// Checks T ≥ 3, μ > 0, lr > 0, max_epochs ≥ 1, stop_below > 0.
    pub fn new(t: usize, mu: f64, lr: f64, max_epochs: usize, stop_below: f64) -> Result<Self, IcarError> {
        Ok(Self {
            t: rules::at_least("t", t, 3)?,
            mu: rules::positive("mu", mu)?,
            lr: rules::positive("lr", lr)?,
            max_epochs: rules::at_least("max_epochs", max_epochs, 1)?,
            stop_below: rules::positive("stop_below", stop_below)?,
        })
    }
    /// The spec's settings: T = 30, lr 0.5, ≤ 100 000 epochs, stop below 1e-3.
    pub fn spec(mu: f64) -> Result<Self, IcarError> {
        Self::new(30, mu, 0.5, 100_000, 1e-3)
    }
}

/// Result of the early-stopped GD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeFit {
    /// P (T×T, row-major), including the superdiagonal (the reference's saved file drops it).
    pub p: Vec<f64>,
    /// Number of updates made (the epoch at which the stop rule fired).
    pub stop_iteration: usize,
    /// Loss of the last evaluated epoch.
    pub final_loss: f64,
    /// (epoch, loss) every 10 epochs.
    pub curve: Vec<(usize, f64)>,
}

/// Population loss and gradient over rows t = 0..T−2, each row using P[t, 0..=t+1].
pub fn loss_grad(cfg: &PeOnly, p: &[f64]) -> (f64, Vec<f64>) {
    let t_len = cfg.t;
    let rows = t_len - 1;
    let mut g = vec![0.0; t_len * t_len];
    let mut loss = 0.0;
    for t in 0..rows {
        let row = &p[t * t_len..t * t_len + t + 2];
        let mut l = 1.0;
        for j in 0..t + 2 {
            let gj = mean_cos((2 * t + 2) as f64 - 2.0 * j as f64, cfg.mu);
            let gp: f64 = (0..t + 2).map(|k| mean_cos(2.0 * (k as f64 - j as f64), cfg.mu) * row[k]).sum();
            l += row[j] * gp - 2.0 * gj * row[j];
            g[t * t_len + j] = 2.0 / rows as f64 * (gp - gj);
        }
        loss += l / rows as f64;
    }
    (loss, g)
}

/// Gradient descent from P = 0 with the stop rule of `pe_only.py`: each epoch evaluates the loss
/// and gradient at the current P, updates P, and stops after the update once that loss < threshold.
pub fn early_stopped_gd(cfg: &PeOnly) -> PeFit {
    let mut p = vec![0.0; cfg.t * cfg.t];
    let mut curve = Vec::new();
    let mut last = f64::NAN;
    let mut it = 0;
    while it < cfg.max_epochs {
        let (l, g) = loss_grad(cfg, &p);
        if it % 10 == 0 {
            curve.push((it, l));
        }
        p.iter_mut().zip(&g).for_each(|(x, gx)| *x -= cfg.lr * gx);
        it += 1;
        last = l;
        if l < cfg.stop_below {
            break;
        }
    }
    PeFit { p, stop_iteration: it, final_loss: last, curve }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_minimiser_has_zero_loss() {
        let cfg = PeOnly::spec(50.0).unwrap();
        let mut p = vec![0.0; 900];
        for t in 0..29 {
            p[t * 30 + t + 1] = 1.0;
        }
        assert!(loss_grad(&cfg, &p).0.abs() < 1e-12);
    }
}
