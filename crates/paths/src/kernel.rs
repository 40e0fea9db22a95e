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
        // Off-diagonal pairs are summed once into S and added as S + Sᵀ: one transpose in all, not
        // one per pair (a P × P transpose per pair was a quarter of the solver's time at P 600).
        let mut off = DMatrix::<f64>::zeros(self.p, self.p);
        let mut diag = DMatrix::<f64>::zeros(self.p, self.p);
        for a in 0..self.n_paths {
            let w = u[(a, a)];
            diag.zip_apply(&self.c[self.idx(a, a)], |k, c| *k += w * c);
            for b in a + 1..self.n_paths {
                let w = u[(a, b)];
                if w != 0.0 {
                    off.zip_apply(&self.c[self.idx(a, b)], |k, c| *k += w * c);
                }
            }
        }
        diag + &off + off.transpose()
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

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn the_kernel_is_the_u_weighted_sum_of_every_pre_kernel() {
        let z: Vec<DMatrix<f64>> = (0..3)
            .map(|k| DMatrix::from_fn(4, 5, |i, j| ((i * 7 + j * 3 + k * 11) % 13) as f64 / 13.0 - 0.4))
            .collect();
        let pk = PreKernels {
            n_paths: 3,
            p: 4,
            c: (0..3).flat_map(|a| (a..3).map(move |b| (a, b))).map(|(a, b)| &z[a] * z[b].transpose()).collect(),
        };
        let u = DMatrix::from_row_slice(3, 3, &[1.5, -0.3, 0.2, -0.3, 0.8, 0.7, 0.2, 0.7, 2.0]);
        let mut want = DMatrix::zeros(4, 4);
        for a in 0..3 {
            for b in 0..3 {
                want += pk.get(a, b) * u[(a, b)];
            }
        }
        assert!((pk.kernel(&u) - want).abs().max() < 1e-12);
    }
}
