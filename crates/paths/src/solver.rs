//! Minimising S(U)/N over Cholesky factors U_ℓ = L_ℓ L_ℓᵀ (spec §3 "What I recommend instead"):
//! L-BFGS with a backtracking Armijo line search, then a few Newton steps on the analytic gradient
//! (Hessian by central differences of the gradient) to drive max |∂(S/N)/∂U| below round-off level,
//! where function-value line searches can no longer see progress.
//!
//! Positive definiteness is never lost: any trial point where some U_ℓ or K + τI is not positive
//! definite has S = +∞ and is rejected by the line search.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};

use crate::PathsError;
use crate::action::{Action, Evaluation, OrderParams};

/// Solver settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SolverOptions {
    /// Maximum L-BFGS iterations.
    pub max_iter: usize,
    /// Target max |∂(S/N)/∂U| over all entries of all U_ℓ.
    pub grad_tol: f64,
    /// L-BFGS memory.
    pub memory: usize,
    /// Maximum Newton polishing steps.
    pub newton_steps: usize,
}

impl Default for SolverOptions {
    fn default() -> Self {
        Self { max_iter: 2000, grad_tol: 1e-10, memory: 12, newton_steps: 20 }
    }
}

/// The solved saddle point.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// U_1, …, U_L and u_a.
    pub params: OrderParams,
    /// S/N at the solution (N = the largest width).
    pub action_per_width: f64,
    /// Iterations (L-BFGS + Newton).
    pub iterations: usize,
    /// Of which Newton polishing steps.
    pub newton_iterations: usize,
    /// Evaluations of S and its gradient.
    pub evaluations: usize,
    /// Final max |∂(S/N)/∂U|.
    pub max_grad: f64,
    /// Whether max_grad reached the target.
    pub converged: bool,
}

struct Problem<'a> {
    action: &'a Action,
    sizes: Vec<usize>,
    n: f64,
    evals: usize,
}

impl Problem<'_> {
    fn dim(&self) -> usize {
        self.sizes.iter().map(|m| m * (m + 1) / 2).sum()
    }

    fn unpack(&self, theta: &DVector<f64>) -> Vec<DMatrix<f64>> {
        let mut k = 0;
        self.sizes
            .iter()
            .map(|&m| {
                let mut l = DMatrix::zeros(m, m);
                for i in 0..m {
                    for j in 0..=i {
                        l[(i, j)] = theta[k];
                        k += 1;
                    }
                }
                &l * l.transpose()
            })
            .collect()
    }

    fn pack(&self, u: &[DMatrix<f64>]) -> Option<DVector<f64>> {
        let mut theta = Vec::with_capacity(self.dim());
        for m in u {
            let l = nalgebra::Cholesky::new(m.clone())?.l();
            for i in 0..m.nrows() {
                for j in 0..=i {
                    theta.push(l[(i, j)]);
                }
            }
        }
        Some(DVector::from_vec(theta))
    }

    /// (S/N, ∂(S/N)/∂θ, max |∂(S/N)/∂U|, evaluation).
    fn eval(&mut self, theta: &DVector<f64>) -> Option<(f64, DVector<f64>, f64, Evaluation)> {
        self.evals += 1;
        let mut k = 0;
        let mut ls = Vec::with_capacity(self.sizes.len());
        for &m in &self.sizes {
            let mut l = DMatrix::zeros(m, m);
            for i in 0..m {
                for j in 0..=i {
                    l[(i, j)] = theta[k];
                    k += 1;
                }
            }
            ls.push(l);
        }
        let u: Vec<DMatrix<f64>> = ls.iter().map(|l| l * l.transpose()).collect();
        let ev = self.action.evaluate(&u)?;
        let mut g = Vec::with_capacity(self.dim());
        let mut max_grad: f64 = 0.0;
        for (gu, l) in ev.grad.iter().zip(&ls) {
            max_grad = gu.iter().fold(max_grad, |a, v| a.max(v.abs()));
            let gl = gu * l * 2.0;
            for i in 0..l.nrows() {
                for j in 0..=i {
                    g.push(gl[(i, j)] / self.n);
                }
            }
        }
        Some((ev.s / self.n, DVector::from_vec(g), max_grad / self.n, ev))
    }
}

/// Solves the saddle point from `start` (the GP limit when `None`).
pub fn solve(action: &Action, start: Option<&OrderParams>, opts: &SolverOptions) -> Result<Solution, PathsError> {
    let arch = &action.arch;
    let sizes: Vec<usize> = (0..arch.depth()).map(|l| arch.size(l)).collect();
    let mut pb = Problem { action, sizes, n: arch.n_max(), evals: 0 };
    let gp = OrderParams::gp(arch);
    let start = start.unwrap_or(&gp);
    let mut theta = pb.pack(&start.u).ok_or(PathsError::NotPositiveDefinite("starting U"))?;
    let (mut f, mut g, mut max_grad, mut ev) = match pb.eval(&theta) {
        Some(r) => r,
        None if start != &gp => {
            theta = pb.pack(&gp.u).ok_or(PathsError::NotPositiveDefinite("GP U"))?;
            pb.eval(&theta).ok_or(PathsError::NotPositiveDefinite("K + τI at the GP point"))?
        }
        None => return Err(PathsError::NotPositiveDefinite("K + τI at the GP point")),
    };

    // L-BFGS.
    let mut s_hist: Vec<DVector<f64>> = Vec::new();
    let mut y_hist: Vec<DVector<f64>> = Vec::new();
    let mut iterations = 0;
    let lbfgs_tol = opts.grad_tol.max(1e-7);
    while max_grad > lbfgs_tol && iterations < opts.max_iter {
        iterations += 1;
        // Two-loop recursion.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / y.dot(s);
            let a = rho * s.dot(&q);
            q -= y * a;
            alphas.push((a, rho));
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => s.dot(y) / y.dot(y),
            _ => 1.0 / g.amax().max(1.0),
        };
        let mut r = q * gamma;
        for ((s, y), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * y.dot(&r);
            r += s * (a - b);
        }
        let mut d = -r;
        let mut slope = g.dot(&d);
        if slope >= 0.0 {
            d = -g.clone();
            slope = g.dot(&d);
            s_hist.clear();
            y_hist.clear();
        }
        // Backtracking Armijo.
        let mut step = 1.0;
        let mut accepted = None;
        for _ in 0..60 {
            let trial = &theta + &d * step;
            if let Some(r) = pb.eval(&trial).filter(|r| r.0 <= f + 1e-4 * step * slope) {
                accepted = Some((trial, r));
                break;
            }
            step *= 0.5;
        }
        let Some((trial, (f2, g2, mg2, ev2))) = accepted else { break };
        let s = &trial - &theta;
        let y = &g2 - &g;
        if s.dot(&y) > 1e-14 * s.norm() * y.norm() {
            s_hist.push(s);
            y_hist.push(y);
            if s_hist.len() > opts.memory {
                s_hist.remove(0);
                y_hist.remove(0);
            }
        }
        theta = trial;
        (f, g, max_grad, ev) = (f2, g2, mg2, ev2);
    }

    // Newton polishing on the gradient norm.
    let mut newton_iterations = 0;
    while max_grad > opts.grad_tol && newton_iterations < opts.newton_steps {
        newton_iterations += 1;
        let n = theta.len();
        let h = 1e-6 * theta.amax().max(1.0);
        let mut hess = DMatrix::zeros(n, n);
        let mut ok = true;
        for k in 0..n {
            let mut tp = theta.clone();
            tp[k] += h;
            let mut tm = theta.clone();
            tm[k] -= h;
            match (pb.eval(&tp), pb.eval(&tm)) {
                (Some(a), Some(b)) => hess.set_column(k, &((a.1 - b.1) / (2.0 * h))),
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            break;
        }
        let hs = (&hess + hess.transpose()) * 0.5;
        let eig = SymmetricEigen::new(hs);
        let scale = eig.eigenvalues.amax().max(1e-300);
        let coef = eig.eigenvectors.transpose() * &g;
        let mut d = DVector::zeros(n);
        for i in 0..n {
            let lam = eig.eigenvalues[i].abs().max(1e-12 * scale);
            d -= eig.eigenvectors.column(i) * (coef[i] / lam);
        }
        let mut step = 1.0;
        let mut improved = false;
        for _ in 0..30 {
            let trial = &theta + &d * step;
            if let Some(r) = pb.eval(&trial).filter(|r| r.2 < max_grad) {
                theta = trial;
                (f, g, max_grad, ev) = r;
                improved = true;
                break;
            }
            step *= 0.5;
        }
        if !improved {
            break;
        }
    }

    let u = pb.unpack(&theta);
    Ok(Solution {
        params: OrderParams { u, u_a: ev.u_a },
        action_per_width: f,
        iterations: iterations + newton_iterations,
        newton_iterations,
        evaluations: pb.evals,
        max_grad,
        converged: max_grad <= opts.grad_tol,
    })
}
