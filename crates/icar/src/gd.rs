//! Augmented tokens → one gradient step (spec §3a): the predictor ŝ_{T+1} = Γ s_T with
//! Γ = η Σ_{t=2}^{T} s_t s_{t−1}^*, one gradient step from W_0 = 0 on ½Σ_t‖s_t − W s_{t−1}‖²; the
//! optimal step η* = d/(‖s_1‖²(T+d−2)) and loss* = ‖s_1‖²(d−1)/(T+d−2) for commuting unitary W
//! with uniformly random initial phases; Monte Carlo of the same; and the reference predictors of
//! the spec §5 Haar table (zero, copy-last, GD with a shared or per-position scalar, exact
//! in-context least squares) under the code objective (MSE averaged over coordinates and positions).

use attnlab_core::config::rules;
use attnlab_core::{MeanSe, seeded_rng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{diagonal_states, haar_orthogonal, haar_states, random_phase_start, unitary_eigenvalues};
use crate::{C64, IcarError};

/// The augmented one-step-GD setting of spec §3a: dimension d, T context tokens s_1..s_T,
/// ‖s_1‖ = `norm`, |s_{1,k}|² = norm²/d, random phases, commuting unitary W.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Augmented {
    d: usize,
    t: usize,
    norm: f64,
}

impl Augmented {
    /// Checks d ≥ 1, T ≥ 2 (at least one (s_{t−1}, s_t) pair) and norm > 0.
    pub fn new(d: usize, t: usize, norm: f64) -> Result<Self, IcarError> {
        Ok(Self {
            d: rules::at_least("d", d, 1)?,
            t: rules::at_least("t", t, 2)?,
            norm: rules::positive("norm", norm)?,
        })
    }
    /// Dimension d.
    pub fn d(&self) -> usize {
        self.d
    }
    /// Number of context tokens T.
    pub fn t(&self) -> usize {
        self.t
    }
    /// ‖s_1‖.
    pub fn norm(&self) -> f64 {
        self.norm
    }
    /// η* = d/(‖s_1‖²(T+d−2)) (spec §3a).
    pub fn eta_star(&self) -> f64 {
        self.d as f64 / (self.norm.powi(2) * (self.t + self.d - 2) as f64)
    }
    /// loss* = E‖Γ* s_T − s_{T+1}‖² = ‖s_1‖²(d−1)/(T+d−2) (spec §3a, §5 table).
    pub fn loss_star(&self) -> f64 {
        self.norm.powi(2) * (self.d - 1) as f64 / (self.t + self.d - 2) as f64
    }
    /// The exact loss of the one-step-GD predictor with step η: with n = T−1 pairs and
    /// v = η‖s_1‖²/d, E‖ŝ − s_{T+1}‖² = ‖s_1‖²[(vn − 1)² + v²n(d−1)] (signal term per coordinate,
    /// n(d−1) orthogonal cross terms; derived in §3a).
    pub fn gd_loss(&self, eta: f64) -> f64 {
        let n = (self.t - 1) as f64;
        let v = eta * self.norm.powi(2) / self.d as f64;
        self.norm.powi(2) * ((v * n - 1.0).powi(2) + v * v * n * (self.d - 1) as f64)
    }
    /// One sequence s_1..s_{T+1} (T+1 states) with its eigenvalues λ.
    pub fn sample<R: rand::Rng>(&self, rng: &mut R) -> Vec<Vec<C64>> {
        let lambda = unitary_eigenvalues(self.d, rng);
        let s1 = random_phase_start(self.d, self.norm, rng);
        diagonal_states(&lambda, &s1, self.t + 1)
    }
    /// Monte Carlo of E‖Γ s_T − s_{T+1}‖² over `n` sequences (rayon over 64 chunks, child seeds).
    pub fn mc_gd_loss(&self, eta: f64, n: usize, seed: u64) -> MeanSe {
        let chunks = 64usize;
        let per = n.div_ceil(chunks);
        let xs: Vec<f64> = (0..chunks)
            .into_par_iter()
            .flat_map_iter(|c| {
                let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, c as u64));
                (0..per)
                    .map(|_| {
                        let s = self.sample(&mut rng);
                        let pred = gd_predict(&s[..self.t], eta);
                        pred.iter().zip(&s[self.t]).map(|(a, b)| (a - b).norm_sqr()).sum::<f64>()
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        MeanSe::of(&xs)
    }
}

/// ⟨a, b⟩ = Σ_k conj(a_k) b_k.
pub fn inner(a: &[C64], b: &[C64]) -> C64 {
    a.iter().zip(b).map(|(x, y)| x.conj() * y).sum()
}

/// One-step GD prediction Γ s_T with Γ = η Σ_{t=2}^{T} s_t s_{t−1}^*, from the context
/// `ctx` = s_1..s_T (spec §3a). Equal to one gradient step from W_0 = 0 on ½Σ_t‖s_t − W s_{t−1}‖²
/// at learning rate η, applied to s_T.
pub fn gd_predict(ctx: &[Vec<C64>], eta: f64) -> Vec<C64> {
    let t = ctx.len();
    let last = &ctx[t - 1];
    let d = last.len();
    let mut out = vec![C64::new(0.0, 0.0); d];
    for k in 1..t {
        let a = inner(&ctx[k - 1], last) * eta;
        for (o, x) in out.iter_mut().zip(&ctx[k]) {
            *o += a * x;
        }
    }
    out
}

/// The one-step gradient on the inner loss ½Σ_t‖s_t − W s_{t−1}‖² at W_0 = 0, as a matrix:
/// −∇_W = Σ_{t=2}^{T} s_t s_{t−1}^* (row-major d×d). Γ = η times this.
pub fn inner_loss_neg_gradient(ctx: &[Vec<C64>]) -> Vec<C64> {
    let d = ctx[0].len();
    let mut g = vec![C64::new(0.0, 0.0); d * d];
    for k in 1..ctx.len() {
        for i in 0..d {
            for j in 0..d {
                g[i * d + j] += ctx[k][i] * ctx[k - 1][j].conj();
            }
        }
    }
    g
}

/// One shared scalar for all positions under the code's all-positions objective, commuting case
/// (spec §5): position q has n = q pairs, relative loss (vn − 1)² + v²n(d − 1), minimised by
/// v* = Σn/Σn(n+d−1); returns (v*, mean relative loss over the positions 0..n_max−1).
pub fn shared_scalar_all_positions(d: usize, positions: usize) -> (f64, f64) {
    let d1 = (d - 1) as f64;
    let num: f64 = (0..positions).map(|q| q as f64).sum();
    let den: f64 = (0..positions).map(|q| q as f64 * (q as f64 + d1)).sum();
    let v = num / den;
    let loss =
        (0..positions).map(|q| (v * q as f64 - 1.0).powi(2) + v * v * q as f64 * d1).sum::<f64>() / positions as f64;
    (v, loss)
}

/// MSE (averaged over coordinates and positions, the code objective) of the reference predictors on
/// Haar O(d) sequences s_0 = 1/√d, …, s_n, predicting s_{q+1} from s_0..s_q at q = 0..n−1 (spec §5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HaarReference {
    /// ŝ = 0.
    pub zero: f64,
    /// ŝ = s_q.
    pub copy_last: f64,
    /// One-step GD ŝ = v Σ_{k≤q} s_k s_{k−1}ᵀ s_q with one scalar v fitted over all positions.
    pub gd_shared: f64,
    /// That fitted v.
    pub gd_shared_v: f64,
    /// One-step GD with a scalar fitted per position.
    pub gd_per_position: f64,
    /// Exact in-context least squares (min-norm Ŵ from the q pairs), ŝ = Ŵ s_q.
    pub exact_ls: f64,
    /// Number of sequences.
    pub samples: usize,
}

/// Solves the symmetric positive (semi)definite system M x = b (n×n, row-major) by Gaussian
/// elimination with partial pivoting; tiny pivots give a zero component (min-norm-like).
fn solve(mut m: Vec<f64>, mut b: Vec<f64>, n: usize) -> Vec<f64> {
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| m[i * n + c].abs().total_cmp(&m[j * n + c].abs())).unwrap_or(c);
        if p != c {
            for k in 0..n {
                m.swap(c * n + k, p * n + k);
            }
            b.swap(c, p);
        }
        let piv = m[c * n + c];
        if piv.abs() < 1e-14 {
            continue;
        }
        for r in c + 1..n {
            let f = m[r * n + c] / piv;
            for k in c..n {
                m[r * n + k] -= f * m[c * n + k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for c in (0..n).rev() {
        let piv = m[c * n + c];
        if piv.abs() < 1e-14 {
            continue;
        }
        let s: f64 = (c + 1..n).map(|k| m[c * n + k] * x[k]).sum();
        x[c] = (b[c] - s) / piv;
    }
    x
}

/// Exact in-context least squares: ŝ = Ŵ s_q with Ŵ the min-norm solution of s_k = W s_{k−1},
/// k = 1..q, from `states` = s_0..s_q (real, d-dim).
pub fn exact_ls_predict(states: &[Vec<f64>]) -> Vec<f64> {
    let q = states.len() - 1;
    let d = states[0].len();
    let last = &states[q];
    if q == 0 {
        return vec![0.0; d];
    }
    let x = &states[..q];
    let y = &states[1..];
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| u * v).sum::<f64>();
    if q <= d {
        // Ŵ = Y (XᵀX)^{-1} Xᵀ: coefficients c = (XᵀX)^{-1} Xᵀ s_q, ŝ = Σ c_k y_k.
        let g: Vec<f64> = (0..q).flat_map(|i| (0..q).map(move |j| (i, j))).map(|(i, j)| dot(&x[i], &x[j])).collect();
        let rhs: Vec<f64> = (0..q).map(|i| dot(&x[i], last)).collect();
        let c = solve(g, rhs, q);
        (0..d).map(|i| (0..q).map(|k| c[k] * y[k][i]).sum()).collect()
    } else {
        // Ŵ = Y Xᵀ (X Xᵀ)^{-1}: z = (XXᵀ)^{-1} s_q, ŝ = Σ_k y_k ⟨x_k, z⟩.
        let g: Vec<f64> = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .map(|(i, j)| (0..q).map(|k| x[k][i] * x[k][j]).sum())
            .collect();
        let z = solve(g, last.clone(), d);
        (0..d).map(|i| (0..q).map(|k| y[k][i] * dot(&x[k], &z)).sum()).collect()
    }
}

/// The spec §5 Haar table: MSE of each reference predictor over `samples` Haar sequences of n+1
/// states in dimension d (seeded; rayon over chunks).
pub fn haar_reference(d: usize, n: usize, samples: usize, seed: u64) -> HaarReference {
    struct Acc {
        zero: f64,
        copy: f64,
        ls: f64,
        // per position: Σ⟨u,y⟩, Σ‖u‖², Σ‖y‖²
        uy: Vec<f64>,
        uu: Vec<f64>,
        yy: Vec<f64>,
    }
    let chunks = 32usize;
    let per = samples.div_ceil(chunks);
    let accs: Vec<Acc> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, c as u64));
            let mut a = Acc { zero: 0.0, copy: 0.0, ls: 0.0, uy: vec![0.0; n], uu: vec![0.0; n], yy: vec![0.0; n] };
            for _ in 0..per {
                let w = haar_orthogonal(d, &mut rng);
                let s = haar_states(&w, d, n + 1);
                for q in 0..n {
                    let target = &s[q + 1];
                    let sq = |v: &[f64]| v.iter().zip(target).map(|(a, b)| (a - b).powi(2)).sum::<f64>();
                    a.zero += target.iter().map(|x| x * x).sum::<f64>();
                    a.copy += sq(&s[q]);
                    a.ls += sq(&exact_ls_predict(&s[..=q]));
                    // u = Σ_{k=1}^{q} s_k ⟨s_{k−1}, s_q⟩
                    let mut u = vec![0.0; d];
                    for k in 1..=q {
                        let c: f64 = s[k - 1].iter().zip(&s[q]).map(|(x, y)| x * y).sum();
                        for i in 0..d {
                            u[i] += c * s[k][i];
                        }
                    }
                    a.uy[q] += u.iter().zip(target).map(|(x, y)| x * y).sum::<f64>();
                    a.uu[q] += u.iter().map(|x| x * x).sum::<f64>();
                    a.yy[q] += target.iter().map(|x| x * x).sum::<f64>();
                }
            }
            a
        })
        .collect();
    let total = (per * chunks) as f64;
    let norm = total * n as f64 * d as f64;
    let sum = |f: &dyn Fn(&Acc) -> f64| accs.iter().map(f).sum::<f64>();
    let pos = |q: usize, f: &dyn Fn(&Acc, usize) -> f64| accs.iter().map(|a| f(a, q)).sum::<f64>();
    let (uy, uu, yy): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        (0..n).map(|q| pos(q, &|a, q| a.uy[q])).collect(),
        (0..n).map(|q| pos(q, &|a, q| a.uu[q])).collect(),
        (0..n).map(|q| pos(q, &|a, q| a.yy[q])).collect(),
    );
    let v = uy.iter().sum::<f64>() / uu.iter().sum::<f64>();
    let shared: f64 = (0..n).map(|q| yy[q] - 2.0 * v * uy[q] + v * v * uu[q]).sum();
    let per_pos: f64 = (0..n).map(|q| if uu[q] > 0.0 { yy[q] - uy[q] * uy[q] / uu[q] } else { yy[q] }).sum();
    HaarReference {
        zero: sum(&|a| a.zero) / norm,
        copy_last: sum(&|a| a.copy) / norm,
        gd_shared: shared / norm,
        gd_shared_v: v,
        gd_per_position: per_pos / norm,
        exact_ls: sum(&|a| a.ls) / norm,
        samples: per * chunks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_table_cells() {
        // Spec §5 table: (T, d) = (50, 5) → .0943/.0755; (10, 2) → .2/.1; (100, 10) → .0926/.0833.
        let a = Augmented::new(5, 50, 1.0).unwrap();
        assert!((a.eta_star() - 0.0943).abs() < 5e-5 && (a.loss_star() - 0.0755).abs() < 5e-5);
        let b = Augmented::new(2, 10, 1.0).unwrap();
        assert!((b.eta_star() - 0.2).abs() < 1e-12 && (b.loss_star() - 0.1).abs() < 1e-12);
        let c = Augmented::new(10, 100, 1.0).unwrap();
        assert!((c.eta_star() - 0.0926).abs() < 5e-5 && (c.loss_star() - 0.0833).abs() < 5e-5);
        // the closed-form GD loss is minimised at η* with value loss*
        assert!((a.gd_loss(a.eta_star()) - a.loss_star()).abs() < 1e-12);
        assert!(a.gd_loss(a.eta_star() * 1.05) > a.loss_star());
    }

    #[test]
    fn shared_scalar_matches_spec() {
        let (v, l) = shared_scalar_all_positions(5, 50);
        assert!((v - 0.02703).abs() < 5e-6, "{v}");
        assert!((l - 0.338).abs() < 5e-4, "{l}");
    }

    #[test]
    fn bad_input_names_field() {
        assert_eq!(
            Augmented::new(0, 5, 1.0).unwrap_err(),
            IcarError::Config(attnlab_core::ConfigError::new("d", 0, "must be at least 1"))
        );
        assert!(matches!(Augmented::new(3, 1, 1.0), Err(IcarError::Config(e)) if e.field == "t"));
    }
}
