//! The mean predictor and its variance on test inputs (spec §3 "Predictor on a test input"):
//! f̄(x*) = k*ᵀ (K + τI)⁻¹ y and Var = K(x*, x*) − k*ᵀ (K + τI)⁻¹ k*, τ on the train block only.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use crate::PathsError;
use crate::attention::PathInputs;
use crate::kernel::PreKernels;

/// A fitted kernel predictor for one U.
pub struct Predictor<'a> {
    train: &'a PathInputs,
    u: DMatrix<f64>,
    chol: Cholesky<f64, Dyn>,
    alpha: DVector<f64>,
    /// The training kernel K_U (without τ).
    pub k_train: DMatrix<f64>,
}

impl<'a> Predictor<'a> {
    /// Fits (K_U + τI)⁻¹ y on the training set.
    pub fn new(
        train: &'a PathInputs,
        kernels: &PreKernels,
        u: &DMatrix<f64>,
        y: &DVector<f64>,
        tau: f64,
    ) -> Result<Self, PathsError> {
        let k_train = kernels.kernel(u);
        let mut a = k_train.clone();
        for i in 0..a.nrows() {
            a[(i, i)] += tau;
        }
        let chol = Cholesky::new(a).ok_or(PathsError::NotPositiveDefinite("K + τI"))?;
        let alpha = chol.solve(y);
        Ok(Self { train, u: u.clone(), chol, alpha, k_train })
    }

    /// The mean predictor on the training inputs.
    pub fn train_mean(&self) -> Vec<f64> {
        (&self.k_train * &self.alpha).iter().copied().collect()
    }

    /// Mean predictor on `test`.
    pub fn mean(&self, test: &PathInputs) -> Vec<f64> {
        let ks = test.cross_kernel(self.train, &self.u);
        (ks * &self.alpha).iter().copied().collect()
    }

    /// Mean and variance (without observation noise) on `test`.
    pub fn mean_var(&self, test: &PathInputs) -> (Vec<f64>, Vec<f64>) {
        let ks = test.cross_kernel(self.train, &self.u);
        let mean: Vec<f64> = (&ks * &self.alpha).iter().copied().collect();
        let sol = self.chol.solve(&ks.transpose()); // P × P_test
        let diag = test.self_kernel_diag(&self.u);
        let var = (0..ks.nrows()).map(|i| diag[i] - ks.row(i).transpose().dot(&sol.column(i))).collect();
        (mean, var)
    }
}

/// Accuracy mean[sign(f̄) = y]; a prediction of exactly 0 counts as wrong (spec §10.8).
pub fn accuracy(pred: &[f64], y: &[f64]) -> f64 {
    let ok = pred.iter().zip(y).filter(|(p, y)| **p != 0.0 && p.signum() == y.signum()).count();
    ok as f64 / y.len().max(1) as f64
}

/// Pearson correlation of two equally long vectors.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}
