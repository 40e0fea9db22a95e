//! Gradient flow (ė, ẇ) = −∇_{(e,w)} L(e, w, b*(e, w)) on the canonical model, integrated with an
//! adaptive Dormand–Prince 5(4) scheme; tracks the conserved energy E(e, w) of spec §3 on the way.

use crate::FlowConfig;
use serde::{Deserialize, Serialize};

use crate::canonical::Canonical;

/// Where a gradient-flow trajectory actually ended, judged from its final loss only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// Final loss within 1% of the gap U − H* of H*.
    Global,
    /// Final loss within 1% of the gap of U.
    Unigram,
    /// Neither (did not converge by t_max).
    Undecided,
    /// p+q = 1: H* = U, the endpoints cannot be told apart.
    Degenerate,
}

/// The result of one gradient-flow integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowOutcome {
    /// Start (e, w).
    pub start: (f64, f64),
    /// End (e, w).
    pub end: (f64, f64),
    /// b*(e, w) at the end.
    pub end_b: f64,
    /// L(e, w, b*) at the end.
    pub final_loss: f64,
    /// (L − H*)/(U − H*) at the end: 0 = global, 1 = unigram.
    pub gap_fraction: f64,
    /// Classification of the end.
    pub endpoint: Endpoint,
    /// Time reached.
    pub t: f64,
    /// Accepted steps.
    pub steps: usize,
    /// ‖∇L‖ at the end.
    pub grad_norm: f64,
    /// True if the flow stopped because ‖∇L‖ < grad_tol (not because of t_max).
    pub converged: bool,
    /// max_t |E(t) − E(0)| / max(|E(0)|, 1e-3) (None when w = 0, where E is undefined).
    pub energy_drift: Option<f64>,
    /// Sampled trajectory (e, w), at most `keep` points (empty unless asked for).
    pub path: Vec<(f64, f64)>,
}

// Dormand–Prince 5(4) tableau (the system is autonomous, so the nodes c_i are not needed).
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
    [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
    [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
];
// b(5th) − b(4th): the embedded error estimate.
const E: [f64; 7] =
    [71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0];

/// Most step attempts (accepted or rejected) one integration may make.
pub const MAX_ATTEMPTS: usize = 4_000_000;

/// Integrates gradient flow from (e0, w0) until ‖∇L‖ < grad_tol or t = t_max, keeping at most
/// `keep` evenly spread trajectory points (0 for none).
///
/// It always returns, and quickly: every attempt, accepted or rejected, counts towards
/// [`MAX_ATTEMPTS`]; a non-finite field (e.g. e² overflowing at |e| ~ 1e155) stops it at once; a
/// step size that is no longer a positive finite number, or that falls below 1e-12 of the time
/// reached, stops it too. In each case `converged` is false.
pub fn gradient_flow(model: &Canonical, e0: f64, w0: f64, cfg: &FlowConfig, keep: usize) -> FlowOutcome {
    let field = |y: [f64; 2]| {
        let g = model.reduced(y[0], y[1]);
        [-g.de, -g.dw]
    };
    let e_start = Canonical::energy(e0, w0);
    let mut y = [e0, w0];
    let mut k1 = field(y);
    let mut t = 0.0;
    let mut h: f64 = 1e-2;
    let mut steps = 0usize;
    let mut drift: f64 = 0.0;
    let mut raw_path = vec![(e0, w0)];
    let mut converged = norm(k1) < cfg.grad_tol();
    let mut attempts = 0usize;
    while !converged && t < cfg.t_max() && attempts < MAX_ATTEMPTS {
        attempts += 1;
        if !(k1.iter().all(|v| v.is_finite()) && h.is_finite() && h > 1e-12 * t.max(1.0)) {
            break;
        }
        h = h.min(cfg.t_max() - t);
        let mut k = [[0.0; 2]; 7];
        k[0] = k1;
        for s in 1..7 {
            let mut ys = y;
            for j in 0..s {
                for d in 0..2 {
                    ys[d] += h * A[s][j] * k[j][d];
                }
            }
            k[s] = field(ys);
        }
        // 5th-order solution is stage 7's input (FSAL).
        let mut y_new = y;
        for j in 0..6 {
            for d in 0..2 {
                y_new[d] += h * A[6][j] * k[j][d];
            }
        }
        let mut err: f64 = 0.0;
        for d in 0..2 {
            let est: f64 = (0..7).map(|j| E[j] * k[j][d]).sum::<f64>() * h;
            let scale = cfg.atol() + cfg.rtol() * y[d].abs().max(y_new[d].abs());
            err += (est / scale).powi(2);
        }
        let err = (err / 2.0).sqrt();
        if err <= 1.0 && y_new.iter().all(|v| v.is_finite()) {
            t += h;
            y = y_new;
            k1 = k[6];
            steps += 1;
            if let (Some(e0v), Some(en)) = (e_start, Canonical::energy(y[0], y[1])) {
                drift = drift.max((en - e0v).abs() / e0v.abs().max(1e-3));
            }
            if keep > 0 {
                raw_path.push((y[0], y[1]));
            }
            converged = norm(k1) < cfg.grad_tol();
        }
        // A NaN error estimate (a stage left the finite numbers) is a rejected step: shrink.
        let factor = if err == 0.0 {
            5.0
        } else if err.is_nan() {
            0.2
        } else {
            (0.9 * err.powf(-0.2)).clamp(0.2, 5.0)
        };
        h *= if err <= 1.0 { factor } else { factor.min(1.0) };
    }
    let b = model.optimal_bias(y[0], y[1]);
    let final_loss = model.loss(y[0], y[1], b);
    let (gap_fraction, endpoint) = classify(model, final_loss);
    FlowOutcome {
        start: (e0, w0),
        end: (y[0], y[1]),
        end_b: b,
        final_loss,
        gap_fraction,
        endpoint,
        t,
        steps,
        grad_norm: norm(k1),
        converged,
        energy_drift: e_start.map(|_| drift),
        path: thin(raw_path, keep),
    }
}

/// Classifies a final loss: (L − H*)/(U − H*) within 0.01 of 0 → Global, of 1 → Unigram.
pub fn classify(model: &Canonical, loss: f64) -> (f64, Endpoint) {
    let gap = model.chain.unigram_loss - model.chain.entropy_rate;
    if gap <= 1e-12 {
        return (0.0, Endpoint::Degenerate);
    }
    let frac = (loss - model.chain.entropy_rate) / gap;
    let end = if frac.abs() < 0.01 {
        Endpoint::Global
    } else if (frac - 1.0).abs() < 0.01 {
        Endpoint::Unigram
    } else {
        Endpoint::Undecided
    };
    (frac, end)
}

fn norm(v: [f64; 2]) -> f64 {
    v[0].hypot(v[1])
}

fn thin(path: Vec<(f64, f64)>, keep: usize) -> Vec<(f64, f64)> {
    if keep == 0 {
        return Vec::new();
    }
    if path.len() <= keep {
        return path;
    }
    let n = path.len();
    (0..keep).map(|i| path[i * (n - 1) / (keep - 1).max(1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BinaryChain;

    #[test]
    fn flow_conserves_energy_and_reaches_the_predicted_set() {
        let m = Canonical::new(&BinaryChain::new(0.2, 0.3).unwrap());
        let out = gradient_flow(&m, 0.5, 0.5, &FlowConfig::default(), 50);
        assert!(out.converged, "{out:?}");
        assert_eq!(out.endpoint, Endpoint::Global);
        assert!(out.energy_drift.unwrap() < 1e-6, "{:?}", out.energy_drift);
        assert!(out.path.len() <= 50 && out.path.len() > 2);
        let m = Canonical::new(&BinaryChain::new(0.9, 0.9).unwrap());
        let out = gradient_flow(&m, 0.5, 0.5, &FlowConfig::default(), 0);
        assert_eq!(out.endpoint, Endpoint::Unigram, "{out:?}");
    }

    /// Starts where e² or the field overflow (the CLI hang of issue 15): the flow returns, not
    /// converged, after a bounded number of attempts.
    #[test]
    fn flow_returns_from_overflowing_starts() {
        let m = Canonical::new(&BinaryChain::new(0.5, 0.8).unwrap());
        for (e, w) in [(1e200, 1.0), (1e10, 1e10), (1.0, 1e300), (-1e160, -1e160)] {
            let out = gradient_flow(&m, e, w, &FlowConfig::default(), 0);
            assert!(!out.converged || out.grad_norm.is_finite(), "({e}, {w}): {out:?}");
        }
    }
}
