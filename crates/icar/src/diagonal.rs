//! The theoretical non-augmented diagonal multi-head model (spec §2c, §3b): H heads with diagonal
//! query-key vectors a_h (rows of A ∈ R^{H×d}) and value vectors b_h (rows of B), a free positional
//! matrix P ∈ R^{T×T}; row t (0 ≤ t ≤ T−2) predicts s_{t+2} from s_0..s_{t+1} with the query s_t:
//! ŝ_{t+2,i} = Σ_{j≤t+1} P_{t,j} Σ_k C_{ik} conj(s_{t,k}) s_{j,k} s_{j,i}, C = BᵀA.
//!
//! Exact closed-form expected losses per row (s_0 = 1_d, so ‖s_0‖² = d), with p_t = P[t,t],
//! p_{t+1} = P[t,t+1], S = Σ_{j≠t} p_j, Q₂ = Σ_{j≠t} p_j², r = C1:
//! - unitary (the corrected form of §2c; the code's extra p_t²‖C‖_F² double-counts):
//!   L = Q₂‖C‖_F² + p_t²‖r‖² − 2p_{t+1} tr C + d;
//! - orthogonal (conjugate pairs (2m, 2m+1)):
//!   L = p_t²‖r‖² + Q₂‖C‖_F² + 2p_t S X + (S² − Q₂) Y − 2p_{t+1} tr C + d with
//!   X = Σ_m r_{2m}C_{2m,2m+1} + r_{2m+1}C_{2m+1,2m}, Y = Σ_m C_{2m,2m+1}² + C_{2m+1,2m}².
//!
//! Their minima (§3b): per-row floor max(d − H, 0) (unitary) and max(d − 2H, 0) (orthogonal), with
//! C = cI, cP_{t,t+1} = 1, P_{t,t} = 0 (unitary) and C = c·blockdiag(J₂), P_{t,t} = −P_{t,t+1}/2
//! (orthogonal). Full-gradient descent (or Adam) on (A, B, P) with analytic gradients.

use attnlab_core::config::rules;
use attnlab_core::optim::Adam;
use attnlab_core::{MeanSe, seeded_rng};
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{diagonal_states, orthogonal_eigenvalues, unitary_eigenvalues};
use crate::{C64, ConfigError, IcarError};

/// Which commuting W (spec §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// W = diag(λ), λ_k i.i.d. uniform on the circle.
    Unitary,
    /// Commuting orthogonal W in complex eigen-coordinates, conjugate pairs (2m, 2m+1).
    Orthogonal,
}

impl Case {
    /// Name as on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Case::Unitary => "unitary",
            Case::Orthogonal => "orthogonal",
        }
    }
}

/// A checked diagonal multi-head model: case, dimension d, heads H, sequence length T.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Diagonal {
    case: Case,
    d: usize,
    heads: usize,
    t: usize,
}

impl Diagonal {
    /// Checks d ≥ 1 (even for the orthogonal case), heads ≥ 1, T ≥ 2.
    pub fn new(case: Case, d: usize, heads: usize, t: usize) -> Result<Self, IcarError> {
        let d = rules::at_least("d", d, 1)?;
        if case == Case::Orthogonal && d % 2 != 0 {
            return Err(ConfigError::new("d", d, "must be even for the orthogonal case (conjugate pairs)").into());
        }
        Ok(Self { case, d, heads: rules::at_least("heads", heads, 1)?, t: rules::at_least("t", t, 2)? })
    }
    /// The case.
    pub fn case(&self) -> Case {
        self.case
    }
    /// d.
    pub fn d(&self) -> usize {
        self.d
    }
    /// H.
    pub fn heads(&self) -> usize {
        self.heads
    }
    /// T.
    pub fn t(&self) -> usize {
        self.t
    }
    /// Number of rows in the loss, T − 1.
    pub fn rows(&self) -> usize {
        self.t - 1
    }
    /// The theory's per-row loss floor: max(d − H, 0) (unitary), max(d − 2H, 0) (orthogonal).
    pub fn floor_per_row(&self) -> f64 {
        let k = match self.case {
            Case::Unitary => self.heads,
            Case::Orthogonal => 2 * self.heads,
        };
        self.d.saturating_sub(k) as f64
    }
}

/// Dense row-major matrix helpers.
fn at(m: &[f64], n: usize, i: usize, j: usize) -> f64 {
    m[i * n + j]
}

/// Exact per-row loss and its gradient for one row: `c` is d×d, `p` = P[t, 0..t+2], `t` the row.
/// Returns (L, ∂L/∂C, ∂L/∂p).
pub fn row_loss_grad(case: Case, c: &[f64], d: usize, p: &[f64], t: usize) -> (f64, Vec<f64>, Vec<f64>) {
    let pt = p[t];
    let pn = p[t + 1];
    let s: f64 = p.iter().enumerate().filter(|&(j, _)| j != t).map(|(_, x)| x).sum();
    let q2: f64 = p.iter().enumerate().filter(|&(j, _)| j != t).map(|(_, x)| x * x).sum();
    let r: Vec<f64> = (0..d).map(|i| (0..d).map(|k| at(c, d, i, k)).sum()).collect();
    let r2: f64 = r.iter().map(|x| x * x).sum();
    let f2: f64 = c.iter().map(|x| x * x).sum();
    let tr: f64 = (0..d).map(|i| at(c, d, i, i)).sum();
    let mut gc = vec![0.0; d * d];
    let mut gp = vec![0.0; p.len()];
    let mut loss = q2 * f2 + pt * pt * r2 - 2.0 * pn * tr + d as f64;
    for i in 0..d {
        for k in 0..d {
            gc[i * d + k] = 2.0 * q2 * at(c, d, i, k) + 2.0 * pt * pt * r[i];
        }
        gc[i * d + i] -= 2.0 * pn;
    }
    for (j, g) in gp.iter_mut().enumerate() {
        *g = if j == t { 2.0 * pt * r2 } else { 2.0 * p[j] * f2 };
    }
    gp[t + 1] -= 2.0 * tr;
    if case == Case::Orthogonal {
        let partner = |a: usize| a ^ 1;
        let x: f64 = (0..d).map(|a| r[a] * at(c, d, a, partner(a))).sum();
        let y: f64 = (0..d).map(|a| at(c, d, a, partner(a)).powi(2)).sum();
        loss += 2.0 * pt * s * x + (s * s - q2) * y;
        for a in 0..d {
            let pa = partner(a);
            let cap = at(c, d, a, pa);
            for b in 0..d {
                let mut dx = cap;
                let mut dy = 0.0;
                if b == pa {
                    dx += r[a];
                    dy = 2.0 * cap;
                }
                gc[a * d + b] += 2.0 * pt * s * dx + (s * s - q2) * dy;
            }
        }
        for (j, g) in gp.iter_mut().enumerate() {
            if j == t {
                *g += 2.0 * s * x;
            } else {
                *g += 2.0 * pt * x + (2.0 * s - 2.0 * p[j]) * y;
            }
        }
    }
    (loss, gc, gp)
}

/// The code's (double-counting) unitary row loss of `unitary.py`: the exact form plus p_t²‖C‖_F².
pub fn unitary_code_row_loss(c: &[f64], d: usize, p: &[f64], t: usize) -> f64 {
    let f2: f64 = c.iter().map(|x| x * x).sum();
    row_loss_grad(Case::Unitary, c, d, p, t).0 + p[t] * p[t] * f2
}

/// Monte Carlo of one row's loss E Σ_i |ŝ_{t+2,i} − s_{t+2,i}|² straight from the model definition.
pub fn mc_row_loss(case: Case, c: &[f64], d: usize, p: &[f64], t: usize, n: usize, seed: u64) -> MeanSe {
    let chunks = 16usize;
    let per = n.div_ceil(chunks);
    let xs: Vec<f64> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|ch| {
            let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, ch as u64));
            (0..per)
                .map(|_| {
                    let lambda = match case {
                        Case::Unitary => unitary_eigenvalues(d, &mut rng),
                        Case::Orthogonal => orthogonal_eigenvalues(d, &mut rng),
                    };
                    let s = diagonal_states(&lambda, &vec![C64::new(1.0, 0.0); d], t + 3);
                    let mut l = 0.0;
                    for i in 0..d {
                        let mut pred = C64::new(0.0, 0.0);
                        for (j, pj) in p.iter().enumerate() {
                            let mut inner = C64::new(0.0, 0.0);
                            for k in 0..d {
                                inner += s[t][k].conj() * s[j][k] * c[i * d + k];
                            }
                            pred += inner * s[j][i] * *pj;
                        }
                        l += (pred - s[t + 2][i]).norm_sqr();
                    }
                    l
                })
                .collect::<Vec<_>>()
        })
        .collect();
    MeanSe::of(&xs)
}

/// Parameters (A, B, P): A, B are H×d, P is T×T, all row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Query-key vectors a_h (rows).
    pub a: Vec<f64>,
    /// Value vectors b_h (rows).
    pub b: Vec<f64>,
    /// Positional attention.
    pub p: Vec<f64>,
}

impl Params {
    /// Init std·N(0, 1) for every entry (spec §2c: 0.1).
    pub fn random(m: &Diagonal, std: f64, seed: u64) -> Self {
        let mut rng = seeded_rng(seed);
        let mut draw = |n: usize| (0..n).map(|_| std * rng.sample::<f64, _>(StandardNormal)).collect::<Vec<_>>();
        let a = draw(m.heads * m.d);
        let b = draw(m.heads * m.d);
        let p = draw(m.t * m.t);
        Self { a, b, p }
    }

    /// C = BᵀA (d×d): C_{ik} = Σ_h b_{hi} a_{hk}.
    pub fn c(&self, m: &Diagonal) -> Vec<f64> {
        let (h, d) = (m.heads, m.d);
        let mut c = vec![0.0; d * d];
        for hh in 0..h {
            for i in 0..d {
                let bi = self.b[hh * d + i];
                for k in 0..d {
                    c[i * d + k] += bi * self.a[hh * d + k];
                }
            }
        }
        c
    }

    /// ABᵀ (H×H): ⟨a_h, b_{h'}⟩.
    pub fn abt(&self, m: &Diagonal) -> Vec<f64> {
        let (h, d) = (m.heads, m.d);
        (0..h * h).map(|x| (0..d).map(|k| self.a[(x / h) * d + k] * self.b[(x % h) * d + k]).sum()).collect()
    }
}

/// Total loss Σ_{t=0}^{T−2} L_t and its gradients (same layout as [`Params`]).
pub fn loss_grad(m: &Diagonal, x: &Params) -> (f64, Params) {
    let d = m.d;
    let c = x.c(m);
    let mut gc = vec![0.0; d * d];
    let mut gp = vec![0.0; m.t * m.t];
    let mut loss = 0.0;
    for t in 0..m.rows() {
        let row = &x.p[t * m.t..t * m.t + t + 2];
        let (l, g, grow) = row_loss_grad(m.case, &c, d, row, t);
        loss += l;
        gc.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        gp[t * m.t..t * m.t + t + 2].iter_mut().zip(&grow).for_each(|(a, b)| *a += b);
    }
    // ∂/∂A = B G, ∂/∂B = A Gᵀ
    let h = m.heads;
    let mut ga = vec![0.0; h * d];
    let mut gb = vec![0.0; h * d];
    for hh in 0..h {
        for k in 0..d {
            ga[hh * d + k] = (0..d).map(|i| x.b[hh * d + i] * gc[i * d + k]).sum();
            gb[hh * d + k] = (0..d).map(|j| x.a[hh * d + j] * gc[k * d + j]).sum();
        }
    }
    (loss, Params { a: ga, b: gb, p: gp })
}

/// Total loss only.
pub fn loss(m: &Diagonal, x: &Params) -> f64 {
    loss_grad(m, x).0
}

/// Optimiser of the closed-form loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimiser {
    /// Full-gradient descent at a fixed learning rate (spec §2c).
    Gd {
        /// Learning rate.
        lr: f64,
    },
    /// Adam (β 0.9, 0.999) with a cosine decay to 1% (for sweeps that must converge).
    Adam {
        /// Peak learning rate.
        lr: f64,
    },
}

/// A training run on the closed form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// Final parameters.
    pub params: Params,
    /// (iteration, total loss), about 200 points, log-spaced.
    pub curve: Vec<(usize, f64)>,
    /// Final total loss.
    pub loss: f64,
}

/// Minimises the total loss from `init` for `iters` iterations.
pub fn fit(m: &Diagonal, init: Params, opt: Optimiser, iters: usize) -> Fit {
    fit_with(m, init, opt, iters, &|| {})
}

/// [`fit`], calling `on_iter` after every iteration (progress reporting).
pub fn fit_with(m: &Diagonal, init: Params, opt: Optimiser, iters: usize, on_iter: &(dyn Fn() + Sync)) -> Fit {
    let mut x = init;
    let mut curve = Vec::new();
    let mut adam = Adam::new(x.a.len() + x.b.len() + x.p.len());
    let mut next_log = 0usize;
    for it in 0..iters {
        let (l, g) = loss_grad(m, &x);
        if it == next_log {
            curve.push((it, l));
            next_log = ((it as f64 * 1.04).ceil() as usize).max(it + 1);
        }
        let params = x.a.iter_mut().chain(x.b.iter_mut()).chain(x.p.iter_mut());
        let grads = g.a.iter().chain(g.b.iter()).chain(g.p.iter()).copied();
        match opt {
            Optimiser::Gd { lr } => params.zip(grads).for_each(|(p, g)| *p -= lr * g),
            Optimiser::Adam { lr } => {
                let lr_t = lr * (0.01 + 0.99 * 0.5 * (1.0 + (std::f64::consts::PI * it as f64 / iters as f64).cos()));
                adam.step_each(params.zip(grads), lr_t);
            }
        }
        on_iter();
    }
    let l = loss(m, &x);
    curve.push((iters, l));
    Fit { params: x, curve, loss: l }
}

/// Best of `restarts` Adam fits (lr 0.02, cosine decay, init 0.1·N(0, 1), child seeds of `seed`),
/// run in parallel; also returns every restart's final total loss. Several restarts are needed
/// because the orthogonal landscape has non-global minima (found here: e.g. d = 10, H = 4 stalls at
/// 3.09 per row from some inits, against the floor 2).
pub fn fit_restarts(m: &Diagonal, restarts: usize, iters: usize, seed: u64) -> (Fit, Vec<f64>) {
    fit_restarts_with(m, restarts, iters, seed, &|| {})
}

/// [`fit_restarts`], calling `on_iter` after every iteration of every restart (progress reporting).
pub fn fit_restarts_with(
    m: &Diagonal,
    restarts: usize,
    iters: usize,
    seed: u64,
    on_iter: &(dyn Fn() + Sync),
) -> (Fit, Vec<f64>) {
    let fits: Vec<Fit> = (0..restarts.max(1))
        .into_par_iter()
        .map(|r| {
            fit_with(
                m,
                Params::random(m, 0.1, attnlab_core::rng::child_seed(seed, r as u64)),
                Optimiser::Adam { lr: 0.02 },
                iters,
                on_iter,
            )
        })
        .collect();
    let losses: Vec<f64> = fits.iter().map(|f| f.loss).collect();
    let best = fits.into_iter().min_by(|a, b| a.loss.total_cmp(&b.loss)).expect("at least one restart");
    (best, losses)
}

/// Gauge-invariant summary of a fit (spec §3b, pitfall 9): never raw A, B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invariants {
    /// c = mean diagonal of C = BᵀA.
    pub c: f64,
    /// ‖C − c·S‖_F/‖C‖_F with S = I (unitary) or blockdiag(J₂) (orthogonal): 0 at the theory's optimum.
    pub c_structure_residual: f64,
    /// Mean over rows t = 0..T−2 of c·P_{t,t+1} (theory: 1).
    pub c_times_p: f64,
    /// Max over rows of |c·P_{t,t+1} − mean|.
    pub c_times_p_spread: f64,
    /// Mean over rows of P_{t,t}/P_{t,t+1} (theory: 0 unitary, −½ orthogonal).
    pub pe_ratio: f64,
    /// Max over rows of |P_{t,j}|/|P_{t,t+1}| for j < t (theory: 0).
    pub off_entries: f64,
    /// ‖ABᵀ − c·I_H‖_F/‖ABᵀ‖_F (orthogonality between heads when H = d, unitary).
    pub abt_residual: f64,
    /// (tr C)²/(rank-bound·‖C‖_F²): 1 when C = c × (rank-k projection), k = min(H, d).
    pub trace_ratio: f64,
}

/// The invariants of `x`.
pub fn invariants(m: &Diagonal, x: &Params) -> Invariants {
    let d = m.d;
    let c = x.c(m);
    let cbar = (0..d).map(|i| c[i * d + i]).sum::<f64>() / d as f64;
    let target = |i: usize, k: usize| match m.case {
        Case::Unitary => f64::from(i == k),
        Case::Orthogonal => f64::from(i / 2 == k / 2),
    };
    let f = c.iter().map(|v| v * v).sum::<f64>().sqrt();
    let res = (0..d * d).map(|x| (c[x] - cbar * target(x / d, x % d)).powi(2)).sum::<f64>().sqrt() / f.max(1e-300);
    let rows = m.rows();
    let cp: Vec<f64> = (0..rows).map(|t| cbar * x.p[t * m.t + t + 1]).collect();
    let cp_mean = cp.iter().sum::<f64>() / rows as f64;
    let spread = cp.iter().map(|v| (v - cp_mean).abs()).fold(0.0, f64::max);
    let ratio = (0..rows).map(|t| x.p[t * m.t + t] / x.p[t * m.t + t + 1]).sum::<f64>() / rows as f64;
    let off = (0..rows)
        .flat_map(|t| (0..t).map(move |j| (t, j)))
        .map(|(t, j)| (x.p[t * m.t + j] / x.p[t * m.t + t + 1]).abs())
        .fold(0.0, f64::max);
    let abt = x.abt(m);
    let h = m.heads;
    let an = abt.iter().map(|v| v * v).sum::<f64>().sqrt();
    let ares = (0..h * h).map(|i| (abt[i] - if i / h == i % h { cbar } else { 0.0 }).powi(2)).sum::<f64>().sqrt()
        / an.max(1e-300);
    let tr = cbar * d as f64;
    let k = match m.case {
        Case::Unitary => h.min(d),
        Case::Orthogonal => d, // blockdiag(J₂) has trace d but rank d/2; report tr²/(d‖C‖²)·2
    };
    let trace_ratio = match m.case {
        Case::Unitary => tr * tr / (k as f64 * f * f),
        Case::Orthogonal => 2.0 * tr * tr / (k as f64 * f * f),
    };
    Invariants {
        c: cbar,
        c_structure_residual: res,
        c_times_p: cp_mean,
        c_times_p_spread: spread,
        pe_ratio: ratio,
        off_entries: off,
        abt_residual: ares,
        trace_ratio,
    }
}

/// The theory's zero-loss point for H ≥ d (unitary) or H ≥ d/2 (orthogonal) at scale c: C = cS
/// realised with A rows = c·e_h-type vectors and B rows = indicator vectors; P_{t,t+1} = 1/c and,
/// orthogonal, P_{t,t} = −1/(2c).
pub fn optimum(m: &Diagonal, c: f64) -> Option<Params> {
    let (d, h) = (m.d, m.heads);
    let mut a = vec![0.0; h * d];
    let mut b = vec![0.0; h * d];
    let mut p = vec![0.0; m.t * m.t];
    match m.case {
        Case::Unitary => {
            if h < d {
                return None;
            }
            for i in 0..d {
                a[i * d + i] = c;
                b[i * d + i] = 1.0;
            }
        }
        Case::Orthogonal => {
            if 2 * h < d {
                return None;
            }
            for mm in 0..d / 2 {
                for k in [2 * mm, 2 * mm + 1] {
                    a[mm * d + k] = c;
                    b[mm * d + k] = 1.0;
                }
            }
        }
    }
    for t in 0..m.rows() {
        p[t * m.t + t + 1] = 1.0 / c;
        if m.case == Case::Orthogonal {
            p[t * m.t + t] = -0.5 / c;
        }
    }
    Some(Params { a, b, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        for case in [Case::Unitary, Case::Orthogonal] {
            let m = Diagonal::new(case, 4, 3, 5).unwrap();
            let x = Params::random(&m, 0.5, 9);
            let (_, g) = loss_grad(&m, &x);
            let eps = 1e-6;
            let n = x.a.len() + x.b.len() + x.p.len();
            for idx in 0..n {
                let bump = |s: f64| {
                    let mut y = x.clone();
                    let v = y.a.iter_mut().chain(y.b.iter_mut()).chain(y.p.iter_mut()).nth(idx).unwrap();
                    *v += s;
                    loss(&m, &y)
                };
                let fd = (bump(eps) - bump(-eps)) / (2.0 * eps);
                let an = *g.a.iter().chain(g.b.iter()).chain(g.p.iter()).nth(idx).unwrap();
                assert!((fd - an).abs() < 1e-5 * (1.0 + an.abs()), "{case:?} {idx}: {fd} vs {an}");
            }
        }
    }

    #[test]
    fn optimum_has_zero_loss() {
        for (case, d, h) in [(Case::Unitary, 5, 5), (Case::Orthogonal, 6, 3), (Case::Orthogonal, 6, 4)] {
            let m = Diagonal::new(case, d, h, 8).unwrap();
            let x = optimum(&m, -1.3).unwrap();
            assert!(loss(&m, &x).abs() < 1e-10);
        }
    }

    #[test]
    fn odd_orthogonal_rejected() {
        assert!(matches!(Diagonal::new(Case::Orthogonal, 5, 2, 4), Err(IcarError::Config(e)) if e.field == "d"));
    }
}
