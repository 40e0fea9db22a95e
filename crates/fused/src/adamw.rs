//! AdamW in one pass over each parameter (PyTorch semantics, as `attnlab_trainer::optim`):
//! m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g², p ← p(1 − lr·λ) − lr·(m/c1)/(√(v/c2) + ε) with
//! c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ, and λ only for the decay group (the Linear weights).

/// AdamW hyper-parameters (the trainer's defaults: β1 0.9, β2 0.95, ε 1e-8, λ 1e-3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamW {
    /// β1.
    pub beta1: f64,
    /// β2.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// Weight decay λ of the decay group.
    pub weight_decay: f64,
}

/// The moments of one parameter tensor and the step count.
#[derive(Debug, Clone, Default)]
pub struct Moments {
    m: Vec<f32>,
    v: Vec<f32>,
}

/// Optimiser state over named tensors.
#[derive(Debug, Clone)]
pub struct AdamState {
    hp: AdamW,
    moments: Vec<Moments>,
    t: i32,
}

impl AdamState {
    /// Zero moments for tensors of the given lengths.
    pub fn new(hp: AdamW, lens: &[usize]) -> Self {
        let moments = lens.iter().map(|&n| Moments { m: vec![0.0; n], v: vec![0.0; n] }).collect();
        Self { hp, moments, t: 0 }
    }

    /// Advances the step count; call once per step before the [`update`](Self::update)s.
    pub fn begin_step(&mut self) {
        self.t += 1;
    }

    /// Updates tensor `i` (`w` with its gradient `g`) at learning rate `lr`, with weight decay
    /// when `decay`.
    pub fn update(&mut self, i: usize, w: &mut [f32], g: &[f32], lr: f64, decay: bool) {
        let AdamW { beta1, beta2, eps, weight_decay } = self.hp;
        let c1 = 1.0 - beta1.powi(self.t);
        let c2 = 1.0 - beta2.powi(self.t);
        let (b1, b2) = (beta1 as f32, beta2 as f32);
        let (ob1, ob2) = ((1.0 - beta1) as f32, (1.0 - beta2) as f32);
        let (c1, c2, eps, lr32) = (c1 as f32, c2 as f32, eps as f32, lr as f32);
        let shrink = if decay && weight_decay > 0.0 { (1.0 - lr * weight_decay) as f32 } else { 1.0 };
        let mo = &mut self.moments[i];
        for (((wv, &gv), mv), vv) in w.iter_mut().zip(g).zip(mo.m.iter_mut()).zip(mo.v.iter_mut()) {
            *mv = *mv * b1 + gv * ob1;
            *vv = *vv * b2 + gv * gv * ob2;
            let step = (*mv / c1) / ((*vv / c2).sqrt() + eps);
            *wv = *wv * shrink - step * lr32;
        }
    }
}
