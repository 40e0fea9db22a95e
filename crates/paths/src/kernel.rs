//! Path–path pre-kernels on the training set: C_{ππ'}(x_μ, x_ν) = X̃_π(x_μ) · X̃_{π'}(x_ν) (spec §3),
//! the total kernel K_U = Σ_{ππ'} U_{ππ'} C_{ππ'} and the contraction ⟨M, C_{ππ'}⟩ that gives ∂S_E/∂U.

use nalgebra::DMatrix;

use crate::attention::PathInputs;

/// The pre-kernels C_{ππ'} for π ≤ π' (C_{π'π} = C_{ππ'}ᵀ), each P × P.
#[derive(Debug, Clone)]
pub struct PreKernels {
    n_paths: usize,
    p: usize,
    c: Vec<DMatrix<f64>>,
}

impl PreKernels {
    /// Computes every C_{ππ'} (π ≤ π') from the scaled path inputs.
    pub fn new(x: &PathInputs) -> Self {
        let n = x.n_paths();
        let mut c = Vec::with_capacity(n * (n + 1) / 2);
        for a in 0..n {
            for b in a..n {
                c.push(&x.z[a] * x.z[b].transpose());
            }
        }
        Self { n_paths: n, p: x.len(), c }
    }

    fn idx(&self, a: usize, b: usize) -> usize {
        // row-major upper triangle
        a * self.n_paths - a * (a + 1) / 2 + b
    }

    /// Number of paths Π.
    pub fn n_paths(&self) -> usize {
        self.n_paths
    }

    /// Number of training inputs P.
    pub fn p(&self) -> usize {
        self.p
    }

    /// C_{ππ'} (a P × P matrix; transposed for π > π').
    pub fn get(&self, a: usize, b: usize) -> DMatrix<f64> {
        if a <= b { self.c[self.idx(a, b)].clone() } else { self.c[self.idx(b, a)].transpose() }
    }

    /// K_U = Σ_{ππ'} U_{ππ'} C_{ππ'} (U symmetric; only its upper triangle is read, doubled).
    pub fn kernel(&self, u: &DMatrix<f64>) -> DMatrix<f64> {
        let mut k = DMatrix::zeros(self.p, self.p);
        for a in 0..self.n_paths {
            k += &self.c[self.idx(a, a)] * u[(a, a)];
            for b in a + 1..self.n_paths {
                let c = &self.c[self.idx(a, b)];
                let w = u[(a, b)];
                if w != 0.0 {
                    k += c * w;
                    k += c.transpose() * w;
                }
            }
        }
        k
    }

    /// The Π × Π matrix ⟨M, C_{ππ'}⟩ = Σ_{μν} M_{μν} C_{ππ'}[μ, ν] for a symmetric M.
    pub fn contract(&self, m: &DMatrix<f64>) -> DMatrix<f64> {
        let n = self.n_paths;
        let mut g = DMatrix::zeros(n, n);
        for a in 0..n {
            for b in a..n {
                let v = m.dot(&self.c[self.idx(a, b)]);
                g[(a, b)] = v;
                g[(b, a)] = v;
            }
        }
        g
    }
}
