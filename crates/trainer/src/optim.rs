//! AdamW with decay groups (PyTorch semantics), the OneCycle cosine schedule of spec markov §2b and
//! the plain cosine decay of the paths stand-in. With `weight_decay` 0, [`AdamW`] is Adam.

use candle_core::{Result, Tensor};

use crate::model::Param;

/// AdamW hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamW {
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// Weight decay for the decay group (Linear weights).
    pub weight_decay: f64,
}

impl Default for AdamW {
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 1e-3 }
    }
}

/// Optimiser state: first and second moments per parameter.
#[derive(Debug)]
pub struct AdamState {
    hp: AdamW,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    t: i32,
}

impl AdamState {
    /// Zero moments for `params`.
    pub fn new(hp: AdamW, params: &[Param]) -> Result<Self> {
        let zeros = |p: &Param| p.var.zeros_like();
        Ok(Self {
            hp,
            m: params.iter().map(zeros).collect::<Result<_>>()?,
            v: params.iter().map(zeros).collect::<Result<_>>()?,
            t: 0,
        })
    }

    /// One step at learning rate `lr`: p ← p(1 − lr·λ) − lr·m̂/(√v̂ + ε), λ only for the decay group.
    pub fn step(&mut self, params: &[Param], grads: &candle_core::backprop::GradStore, lr: f64) -> Result<()> {
        self.t += 1;
        let AdamW { beta1, beta2, eps, weight_decay } = self.hp;
        let c1 = 1.0 - beta1.powi(self.t);
        let c2 = 1.0 - beta2.powi(self.t);
        for (i, p) in params.iter().enumerate() {
            let Some(g) = grads.get(p.var.as_tensor()) else { continue };
            self.m[i] = ((&self.m[i] * beta1)? + (g * (1.0 - beta1))?)?;
            self.v[i] = ((&self.v[i] * beta2)? + (g.sqr()? * (1.0 - beta2))?)?;
            let step = ((&self.m[i] / c1)? / ((&self.v[i] / c2)?.sqrt()? + eps)?)?;
            let mut w = p.var.as_tensor().clone();
            if p.decay && weight_decay > 0.0 {
                w = (w * (1.0 - lr * weight_decay))?;
            }
            p.var.set(&(w - (step * lr)?)?)?;
        }
        Ok(())
    }
}

/// PyTorch's OneCycleLR with cosine annealing, no momentum cycling: warm up from lr/div to lr over
/// `pct_start` of the steps, then anneal to lr/(div·final_div). The reference (div 100, final_div
/// 0.05) ends at lr/5.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OneCycle {
    /// Peak learning rate.
    pub max_lr: f64,
    /// Total steps.
    pub total: usize,
    /// Fraction of steps spent warming up.
    pub pct_start: f64,
    /// Initial lr = max_lr / div.
    pub div: f64,
    /// Final lr = initial / final_div.
    pub final_div: f64,
}

impl OneCycle {
    /// The reference schedule for `total` steps at peak `max_lr`.
    pub fn reference(max_lr: f64, total: usize) -> Self {
        Self { max_lr, total, pct_start: 0.02, div: 100.0, final_div: 0.05 }
    }

    /// Learning rate used at step `i` (0-based).
    pub fn lr(&self, i: usize) -> f64 {
        let initial = self.max_lr / self.div;
        let min = initial / self.final_div;
        let up = self.pct_start * self.total as f64 - 1.0;
        let last = self.total as f64 - 1.0;
        let cos =
            |start: f64, end: f64, pct: f64| end + (start - end) / 2.0 * (1.0 + (std::f64::consts::PI * pct).cos());
        let i = i as f64;
        if i <= up {
            cos(initial, self.max_lr, if up > 0.0 { i / up } else { 1.0 })
        } else {
            cos(self.max_lr, min, ((i - up) / (last - up)).min(1.0))
        }
    }
}

/// Cosine decay from `lr` at step 0 to lr/10 at step `total` (no warm-up): the schedule of the paths
/// in-context stand-in (crate `attnlab-icl`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CosineDecay {
    /// Initial learning rate.
    pub lr: f64,
    /// Total steps.
    pub total: usize,
}

impl CosineDecay {
    /// Learning rate used at step `i` (0-based): lr·(0.55 + 0.45·cos(π i/total)).
    pub fn lr(&self, i: usize) -> f64 {
        self.lr * (0.55 + 0.45 * (std::f64::consts::PI * i as f64 / self.total as f64).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cycle_matches_the_reference_endpoints() {
        let s = OneCycle::reference(2e-3, 400);
        assert!((s.lr(0) - 2e-5).abs() < 1e-12);
        assert!((s.lr(7) - 2e-3).abs() < 1e-12, "peak after 2% of the steps");
        assert!((s.lr(399) - 4e-4).abs() < 1e-12, "final lr = lr/5");
        assert!(s.lr(200) < s.lr(100) && s.lr(100) < s.lr(8));
    }

    #[test]
    fn cosine_decay_falls_from_lr_to_a_tenth() {
        let s = CosineDecay { lr: 5e-3, total: 600 };
        assert!((s.lr(0) - 5e-3).abs() < 1e-15);
        assert!((s.lr(600) - 5e-4).abs() < 1e-15);
        assert!(s.lr(400) < s.lr(200));
    }
}
