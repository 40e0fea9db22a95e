//! Adam on plain f64 slices (PyTorch's `torch.optim.Adam` defaults: β₁ 0.9, β₂ 0.999, ε 1e-8, no
//! weight decay, bias-corrected moments), shared by every hand-written f64 training loop (the ICAR
//! trained models, the augmented head, the diagonal closed-form fits). The trainer's candle AdamW
//! works on tensors and is separate.

/// First-moment decay β₁.
pub const BETA1: f64 = 0.9;
/// Second-moment decay β₂.
pub const BETA2: f64 = 0.999;
/// ε added to √v̂: PyTorch's default, so the f64 models step like the reference's torch models.
pub const EPS: f64 = 1e-8;
/// 1 − β₁ as the literal 0.1 (in f64, 1.0 − 0.9 is 0.09999999999999998; the moment update has
/// always used the literal, so trained ICAR models keep their exact numbers).
const ONE_MINUS_BETA1: f64 = 0.1;
/// 1 − β₂ as the literal 0.001 (as [`ONE_MINUS_BETA1`]).
const ONE_MINUS_BETA2: f64 = 0.001;

/// Adam state for a fixed number of parameters: the two moments and the step count.
///
/// One step with gradient g at learning rate lr, t the step count after incrementing:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    /// Zero moments for `n` parameters.
    pub fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n], t: 0 }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> i32 {
        self.t
    }

    /// One step at learning rate `lr` on a flat parameter slice (`grads` has the same length).
    pub fn step(&mut self, params: &mut [f64], grads: &[f64], lr: f64) {
        assert_eq!(params.len(), grads.len(), "Adam: one gradient per parameter");
        self.step_each(params.iter_mut().zip(grads.iter().copied()), lr);
    }

    /// One step on (parameter, gradient) pairs, for parameters that are not one slice (several
    /// vectors, the real and imaginary parts of complex entries); the i-th pair always has to be the
    /// same parameter. Exactly [`Adam::new`]'s `n` pairs.
    pub fn step_each<'p>(&mut self, pairs: impl IntoIterator<Item = (&'p mut f64, f64)>, lr: f64) {
        self.t += 1;
        let (c1, c2) = (1.0 - BETA1.powi(self.t), 1.0 - BETA2.powi(self.t));
        let mut count = 0;
        for ((p, g), (m, v)) in pairs.into_iter().zip(self.m.iter_mut().zip(self.v.iter_mut())) {
            *m = BETA1 * *m + ONE_MINUS_BETA1 * g;
            *v = BETA2 * *v + ONE_MINUS_BETA2 * g * g;
            *p -= lr * (*m / c1) / ((*v / c2).sqrt() + EPS);
            count += 1;
        }
        assert_eq!(count, self.m.len(), "Adam: one gradient per parameter");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bias correction makes the first step m̂ = g, v̂ = g², so each parameter moves by
    /// lr·g/(|g| + ε) ≈ lr·sign(g) whatever the gradient's size.
    #[test]
    fn first_step_moves_each_param_by_lr_times_sign() {
        let mut p = vec![1.0, -2.0, 0.5, 3.0];
        let g = [1e-2, -40.0, 2.5, 0.0];
        let mut adam = Adam::new(p.len());
        adam.step(&mut p, &g, 0.01);
        let want = [1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01, 3.0];
        for (i, (a, b)) in p.iter().zip(want).enumerate() {
            assert!((a - b).abs() < 1e-7, "param {i}: {a} vs {b}");
        }
        assert_eq!(adam.steps(), 1);
    }

    /// A constant gradient keeps m̂ = g and v̂ = g² at every step (the bias correction exactly
    /// undoes the zero start), so every step is the same lr·g/(|g| + ε).
    #[test]
    fn bias_correction_keeps_constant_gradient_steps_equal() {
        let mut p = vec![0.0; 2];
        let mut adam = Adam::new(2);
        let g = [0.3, -7.0];
        for k in 1..=50 {
            adam.step(&mut p, &g, 0.1);
            for i in 0..2 {
                let want = -(k as f64) * 0.1 * g[i] / (g[i].abs() + EPS);
                assert!((p[i] - want).abs() < 1e-12 * k as f64, "step {k}, param {i}: {} vs {want}", p[i]);
            }
        }
    }

    /// `step_each` over split parameters is the same update as `step` over one slice.
    #[test]
    fn step_each_equals_step() {
        let (mut a, mut b) = (vec![0.1, 0.2, 0.3], vec![0.1, 0.2, 0.3]);
        let (mut s, mut e) = (Adam::new(3), Adam::new(3));
        for k in 0..5 {
            let g: Vec<f64> = (0..3).map(|i| (k * 3 + i) as f64 * 0.37 - 1.0).collect();
            s.step(&mut a, &g, 0.05);
            let (x, y) = b.split_at_mut(1);
            e.step_each(x.iter_mut().chain(y.iter_mut()).zip(g.iter().copied()), 0.05);
        }
        assert_eq!(a, b);
    }
}
