//! The theoretical augmented single linear-attention head of spec §3a, complex, and its training.
//!
//! Tokens e_t = (s_t, s_{t−1}) ∈ C^{2d} (the always-zero output slot of (0, s_t, s_{t−1}) dropped,
//! s_0 := 0 so e_1 is zero-padded). The head predicts
//! ŝ_{T+1} = V Σ_{t=1}^{T} a_t e_t with a_t = e_tᴴ Q e_T (the conjugate on the key side, as §3a
//! "gauge" requires), V ∈ C^{d×2d}, Q ∈ C^{2d×2d}. With V = [I, 0] and the (key s_{t−1} slot,
//! query s_T slot) block of Q equal to ηI it is exactly the one-step-GD predictor Γ s_T.
//! Training: Adam on (Re, Im) of every entry, fresh minibatches of commuting unitary sequences with
//! random initial phases, cosine-decayed learning rate; evaluation on fresh sequences.

use attnlab_core::config::rules;
use attnlab_core::optim::Adam;
use attnlab_core::{MeanSe, seeded_rng};
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::gd::{Augmented, inner};
use crate::{C64, IcarError};

const Z: C64 = C64 { re: 0.0, im: 0.0 };

/// The head's weights: V (d×2d) and Q (2d×2d), row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugHead {
    /// Dimension d.
    pub d: usize,
    /// Value/read-out matrix V, d×2d.
    pub v: Vec<C64>,
    /// Query-key matrix Q, 2d×2d.
    pub q: Vec<C64>,
}

/// Gradients G with dL = 2 Re⟨G, dθ⟩ (Wirtinger ∂L/∂θ̄), same layout as [`AugHead`].
#[derive(Debug, Clone, PartialEq)]
pub struct HeadGrad {
    /// ∂L/∂V̄.
    pub v: Vec<C64>,
    /// ∂L/∂Q̄.
    pub q: Vec<C64>,
}

/// e_t = (s_t, s_{t−1}) with s_0 = 0.
fn token(ctx: &[Vec<C64>], t: usize) -> Vec<C64> {
    let d = ctx[0].len();
    let mut e = ctx[t].clone();
    if t == 0 {
        e.extend(std::iter::repeat_n(Z, d));
    } else {
        e.extend_from_slice(&ctx[t - 1]);
    }
    e
}

impl AugHead {
    /// The one-step-GD weights: V = [I, 0], Q[(s_{t−1} slot) i, (s_T slot) i] = η.
    pub fn constructed(d: usize, eta: f64) -> Self {
        let mut v = vec![Z; d * 2 * d];
        let mut q = vec![Z; 4 * d * d];
        for i in 0..d {
            v[i * 2 * d + i] = C64::new(1.0, 0.0);
            q[(d + i) * 2 * d + i] = C64::new(eta, 0.0);
        }
        Self { d, v, q }
    }

    /// Small random complex weights, entries N(0, σ²/2) in real and imaginary part.
    pub fn random<R: Rng>(d: usize, sigma: f64, rng: &mut R) -> Self {
        let mut draw = |n: usize| -> Vec<C64> {
            (0..n)
                .map(|_| {
                    let re: f64 = rng.sample(StandardNormal);
                    let im: f64 = rng.sample(StandardNormal);
                    C64::new(re, im) * (sigma / std::f64::consts::SQRT_2)
                })
                .collect()
        };
        let v = draw(d * 2 * d);
        let q = draw(4 * d * d);
        Self { d, v, q }
    }

    fn parts(&self, ctx: &[Vec<C64>]) -> (Vec<Vec<C64>>, Vec<C64>, Vec<C64>) {
        let d2 = 2 * self.d;
        let tokens: Vec<Vec<C64>> = (0..ctx.len()).map(|t| token(ctx, t)).collect();
        let et = &tokens[ctx.len() - 1];
        let u: Vec<C64> = (0..d2).map(|a| (0..d2).map(|b| self.q[a * d2 + b] * et[b]).sum()).collect();
        let mut y = vec![Z; d2];
        for e in &tokens {
            let at = inner(e, &u);
            for (yy, x) in y.iter_mut().zip(e) {
                *yy += at * x;
            }
        }
        (tokens, u, y)
    }

    /// ŝ_{T+1} from the context s_1..s_T (forward pass of the linear attention head).
    pub fn forward(&self, ctx: &[Vec<C64>]) -> Vec<C64> {
        let (_, _, y) = self.parts(ctx);
        let d2 = 2 * self.d;
        (0..self.d).map(|i| (0..d2).map(|b| self.v[i * d2 + b] * y[b]).sum()).collect()
    }

    /// L = ‖ŝ_{T+1} − target‖² and its Wirtinger gradients (accumulated into `g`, scaled by `w`).
    pub fn loss_grad(&self, ctx: &[Vec<C64>], target: &[C64], g: &mut HeadGrad, w: f64) -> f64 {
        let d2 = 2 * self.d;
        let (tokens, _u, y) = self.parts(ctx);
        let r: Vec<C64> =
            (0..self.d).map(|i| (0..d2).map(|b| self.v[i * d2 + b] * y[b]).sum::<C64>() - target[i]).collect();
        let loss: f64 = r.iter().map(|z| z.norm_sqr()).sum();
        for i in 0..self.d {
            for b in 0..d2 {
                g.v[i * d2 + b] += r[i] * y[b].conj() * w;
            }
        }
        // g_y = Vᴴ r; w_vec = Σ_t (e_tᴴ g_y) e_t; G_Q = w_vec e_Tᴴ
        let gy: Vec<C64> = (0..d2).map(|b| (0..self.d).map(|i| self.v[i * d2 + b].conj() * r[i]).sum()).collect();
        let mut wv = vec![Z; d2];
        for e in &tokens {
            let c = inner(e, &gy);
            for (x, ee) in wv.iter_mut().zip(e) {
                *x += c * ee;
            }
        }
        let et = &tokens[tokens.len() - 1];
        for a in 0..d2 {
            for b in 0..d2 {
                g.q[a * d2 + b] += wv[a] * et[b].conj() * w;
            }
        }
        loss
    }

    fn params_mut(&mut self) -> impl Iterator<Item = &mut C64> {
        self.v.iter_mut().chain(self.q.iter_mut())
    }
}

/// Training settings of the theoretical augmented head.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadTrain {
    /// The data setting (d, T, ‖s_1‖).
    pub setting: Augmented,
    /// Adam steps.
    pub steps: usize,
    /// Minibatch size (fresh sequences each step).
    pub batch: usize,
    /// Peak Adam learning rate (cosine-decayed to 1% of it).
    pub lr: f64,
    /// Standard deviation of the initial weights.
    pub init_std: f64,
    /// Fresh evaluation sequences.
    pub eval_samples: usize,
    /// Seed of weights, training data (child 1) and evaluation data (child 2).
    pub seed: u64,
}

impl HeadTrain {
    /// Checks steps, batch, eval_samples ≥ 1 and lr, init_std > 0.
    pub fn new(
        setting: Augmented,
        steps: usize,
        batch: usize,
        lr: f64,
        init_std: f64,
        eval_samples: usize,
        seed: u64,
    ) -> Result<Self, IcarError> {
        Ok(Self {
            setting,
            steps: rules::at_least("steps", steps, 1)?,
            batch: rules::at_least("batch", batch, 1)?,
            lr: rules::positive("lr", lr)?,
            init_std: rules::positive("init_std", init_std)?,
            eval_samples: rules::at_least("eval_samples", eval_samples, 2)?,
            seed,
        })
    }

    /// Defaults that converge for d ≤ 10, T ≤ 100: 3000 steps, batch 256, lr 0.01, init 0.1.
    pub fn defaults(setting: Augmented, seed: u64) -> Self {
        Self { setting, steps: 3000, batch: 256, lr: 0.01, init_std: 0.1, eval_samples: 20_000, seed }
    }
}

/// Evaluation of a head on fresh sequences.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadEval {
    /// E‖ŝ_{T+1} − s_{T+1}‖² (summed over coordinates).
    pub loss: MeanSe,
    /// η_eff = d·Re E⟨ŝ_{T+1}, s_{T+1}⟩/((T−1)‖s_1‖⁴) — gauge invariant, = η for any one-step-GD predictor.
    pub effective_eta: MeanSe,
    /// The same loss estimated with the optimal GD predictor as a control variate: loss* + mean over
    /// the same sequences of (‖ŝ − s‖² − ‖Γ*s_T − s‖²) — unbiased, with a much smaller standard error.
    pub loss_paired: MeanSe,
}

/// Evaluates `head` on `n` fresh sequences from `seed`.
pub fn evaluate(head: &AugHead, setting: &Augmented, n: usize, seed: u64) -> HeadEval {
    let chunks = 32usize;
    let per = n.div_ceil(chunks);
    let t = setting.t();
    let scale = setting.d() as f64 / ((t - 1) as f64 * setting.norm().powi(4));
    let eta_star = setting.eta_star();
    let triples: Vec<(f64, f64, f64)> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, c as u64));
            (0..per)
                .map(|_| {
                    let s = setting.sample(&mut rng);
                    let p = head.forward(&s[..t]);
                    let l: f64 = p.iter().zip(&s[t]).map(|(a, b)| (a - b).norm_sqr()).sum();
                    let g = crate::gd::gd_predict(&s[..t], eta_star);
                    let lg: f64 = g.iter().zip(&s[t]).map(|(a, b)| (a - b).norm_sqr()).sum();
                    (l, inner(&p, &s[t]).re * scale, l - lg)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let ls: Vec<f64> = triples.iter().map(|x| x.0).collect();
    let es: Vec<f64> = triples.iter().map(|x| x.1).collect();
    let diff = MeanSe::of(&triples.iter().map(|x| x.2).collect::<Vec<_>>());
    let loss_paired = MeanSe { mean: setting.loss_star() + diff.mean, ..diff };
    HeadEval { loss: MeanSe::of(&ls), effective_eta: MeanSe::of(&es), loss_paired }
}

/// A trained head with its curve and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadOutcome {
    /// Final weights.
    pub head: AugHead,
    /// (step, minibatch loss) every 50 steps.
    pub curve: Vec<(usize, f64)>,
    /// Evaluation on fresh sequences.
    pub eval: HeadEval,
}

/// Trains the head with Adam (β = 0.9, 0.999) on fresh minibatches (single thread; run several
/// configs in parallel with rayon).
pub fn train_head(cfg: &HeadTrain) -> HeadOutcome {
    train_head_with(cfg, || {})
}

/// [`train_head`], calling `on_step` after every Adam step (progress reporting).
pub fn train_head_with(cfg: &HeadTrain, mut on_step: impl FnMut()) -> HeadOutcome {
    let s = cfg.setting;
    let d = s.d();
    let t = s.t();
    let mut rng = seeded_rng(attnlab_core::rng::child_seed(cfg.seed, 0));
    let mut head = AugHead::random(d, cfg.init_std, &mut rng);
    let mut data_rng = seeded_rng(attnlab_core::rng::child_seed(cfg.seed, 1));
    // Adam on (Re, Im) of every entry: two real parameters per complex one.
    let mut adam = Adam::new(2 * (head.v.len() + head.q.len()));
    let mut curve = Vec::new();
    for step in 0..cfg.steps {
        let mut g = HeadGrad { v: vec![Z; head.v.len()], q: vec![Z; head.q.len()] };
        let w = 1.0 / cfg.batch as f64;
        let mut loss = 0.0;
        for _ in 0..cfg.batch {
            let seq = s.sample(&mut data_rng);
            loss += head.loss_grad(&seq[..t], &seq[t], &mut g, w) * w;
        }
        if step % 50 == 0 || step + 1 == cfg.steps {
            curve.push((step, loss));
        }
        let lr = cfg.lr * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / cfg.steps as f64).cos()));
        // real gradient of (Re, Im) = 2 (Re G, Im G)
        let pairs = head
            .params_mut()
            .zip(g.v.iter().chain(g.q.iter()))
            .flat_map(|(p, gi)| [(&mut p.re, 2.0 * gi.re), (&mut p.im, 2.0 * gi.im)]);
        adam.step_each(pairs, lr);
        on_step();
    }
    let eval = evaluate(&head, &s, cfg.eval_samples, attnlab_core::rng::child_seed(cfg.seed, 2));
    HeadOutcome { head, curve, eval }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gd::gd_predict;

    #[test]
    fn constructed_head_is_one_step_gd() {
        let s = Augmented::new(3, 7, 1.0).unwrap();
        let mut rng = seeded_rng(3);
        let seq = s.sample(&mut rng);
        let h = AugHead::constructed(3, 0.37);
        let a = h.forward(&seq[..7]);
        let b = gd_predict(&seq[..7], 0.37);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).norm() < 1e-12);
        }
    }

    #[test]
    fn wirtinger_gradient_matches_finite_differences() {
        let s = Augmented::new(2, 5, 1.0).unwrap();
        let mut rng = seeded_rng(4);
        let seq = s.sample(&mut rng);
        let h = AugHead::random(2, 0.5, &mut rng);
        let mut g = HeadGrad { v: vec![Z; h.v.len()], q: vec![Z; h.q.len()] };
        h.loss_grad(&seq[..5], &seq[5], &mut g, 1.0);
        let f = |h: &AugHead| {
            let mut gg = HeadGrad { v: vec![Z; h.v.len()], q: vec![Z; h.q.len()] };
            h.loss_grad(&seq[..5], &seq[5], &mut gg, 1.0)
        };
        let eps = 1e-6;
        for which in 0..2 {
            let n = if which == 0 { h.v.len() } else { h.q.len() };
            for i in 0..n {
                for (dir, part) in [(C64::new(eps, 0.0), 0), (C64::new(0.0, eps), 1)] {
                    let (mut hp, mut hm) = (h.clone(), h.clone());
                    if which == 0 {
                        hp.v[i] += dir;
                        hm.v[i] -= dir;
                    } else {
                        hp.q[i] += dir;
                        hm.q[i] -= dir;
                    }
                    let fd = (f(&hp) - f(&hm)) / (2.0 * eps);
                    let gi = if which == 0 { g.v[i] } else { g.q[i] };
                    let an = 2.0 * if part == 0 { gi.re } else { gi.im };
                    assert!((fd - an).abs() < 1e-6 * (1.0 + an.abs()), "{which} {i} {part}: {fd} vs {an}");
                }
            }
        }
    }
}
