//! Attention heads from fixed bilinear weights and the path inputs ξ_π (spec §1, §3, §10.1–2).
//!
//! Head (ℓ, h) has logits A[s, t] = x_sᵀ W^{ℓ,h} x_t computed from the *raw* input x at every layer
//! (s the key, t the query); the softmax normalises over the key s, so every column of Ω sums to 1.
//! A path π = (h_1, …, h_L) has the attentioned input ξ_π(x) = x Ω^{1,h1} ⋯ Ω^{L−1,h_{L−1}} ω^{L,hL},
//! with ω the read-out query column (last token) or the mean over all query columns (average pooling).
//! Paths are flattened row-major over (h_1, …, h_L): h_1 slowest, h_L fastest.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Which query column the last layer reads out (spec §1 "Readout").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readout {
    /// t* = T − 1 (Markov task).
    LastToken,
    /// Mean over all query columns, bos included (image task).
    AveragePooling,
}

/// Column-softmax attention Ω of one head on one input: Ω[s, t] = softmax_s(x_sᵀ W x_t), computed
/// max-subtracted in f64 (spec §10.11). `x` is N0 × T, `w` is N0 × N0; the result is T × T.
pub fn attention(x: &DMatrix<f64>, w: &DMatrix<f64>) -> DMatrix<f64> {
    let wx = w * x; // N0 × T: column t is W x_t
    let mut a = x.transpose() * wx; // A[s, t] = x_sᵀ W x_t
    for mut col in a.column_iter_mut() {
        softmax_in_place(col.as_mut_slice());
    }
    a
}

/// The read-out column ω of the last layer for one head: Ω[:, T−1] or the mean of Ω's columns.
pub fn readout_column(x: &DMatrix<f64>, w: &DMatrix<f64>, readout: Readout) -> DVector<f64> {
    match readout {
        Readout::LastToken => {
            let t = x.ncols() - 1;
            let wxt = w * x.column(t);
            let mut col = x.transpose() * wxt;
            softmax_in_place(col.as_mut_slice());
            col
        }
        Readout::AveragePooling => {
            let om = attention(x, w);
            let t = om.ncols() as f64;
            om.column_sum() / t
        }
    }
}

fn softmax_in_place(v: &mut [f64]) {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut z = 0.0;
    for e in v.iter_mut() {
        *e = (*e - m).exp();
        z += *e;
    }
    for e in v.iter_mut() {
        *e /= z;
    }
}

/// The number of paths Π = ∏_ℓ H_ℓ.
pub fn n_paths(heads_per_layer: &[usize]) -> usize {
    heads_per_layer.iter().product()
}

/// The head of layer ℓ (0-based) on path π (row-major over (h_1, …, h_L), h_1 slowest).
pub fn head_of_path(heads_per_layer: &[usize], pi: usize, layer: usize) -> usize {
    let stride: usize = heads_per_layer[layer + 1..].iter().product();
    (pi / stride) % heads_per_layer[layer]
}

/// ξ_π(x) for every path, as the columns of an N0 × Π matrix (spec §1 "Path decomposition").
/// `heads[ℓ][h]` is W^{ℓ+1,h}.
pub fn path_xi(x: &DMatrix<f64>, heads: &[Vec<DMatrix<f64>>], readout: Readout) -> DMatrix<f64> {
    let l = heads.len();
    let hpl: Vec<usize> = heads.iter().map(Vec::len).collect();
    let pi_n = n_paths(&hpl);
    // Ω for layers 1..L−1 (all heads) and ω for layer L.
    let omegas: Vec<Vec<DMatrix<f64>>> =
        heads[..l - 1].iter().map(|layer| layer.iter().map(|w| attention(x, w)).collect()).collect();
    let last: Vec<DVector<f64>> = heads[l - 1].iter().map(|w| readout_column(x, w, readout)).collect();
    let mut xi = DMatrix::zeros(x.nrows(), pi_n);
    for pi in 0..pi_n {
        let mut v = last[head_of_path(&hpl, pi, l - 1)].clone();
        for layer in (0..l - 1).rev() {
            v = &omegas[layer][head_of_path(&hpl, pi, layer)] * v;
        }
        xi.set_column(pi, &(x * v));
    }
    xi
}

/// The scaled path inputs X̃_π(x_μ) = √σ0 ξ_π(x_μ)/√(N0 Π) of a data set (spec §3,
/// "attentioned_input"), stored per path as a P × N0 matrix Z_π (row μ = X̃_π(x_μ)ᵀ).
#[derive(Debug, Clone)]
pub struct PathInputs {
    /// Z_π for π = 0..Π, each P × N0.
    pub z: Vec<DMatrix<f64>>,
}

impl PathInputs {
    /// Builds X̃ for every input (in parallel over inputs). `x[μ]` is N0 × T.
    pub fn new(x: &[DMatrix<f64>], heads: &[Vec<DMatrix<f64>>], readout: Readout, sigma0: f64) -> Self {
        let xis: Vec<DMatrix<f64>> = x.par_iter().map(|xm| path_xi(xm, heads, readout)).collect();
        Self::from_xi(&xis, sigma0)
    }

    /// Builds X̃ from ξ (one N0 × Π matrix per input).
    pub fn from_xi(xis: &[DMatrix<f64>], sigma0: f64) -> Self {
        let p = xis.len();
        let (n0, pi_n) = xis.first().map_or((0, 0), |m| (m.nrows(), m.ncols()));
        let scale = (sigma0 / (n0 as f64 * pi_n as f64)).sqrt();
        let z = (0..pi_n).map(|pi| DMatrix::from_fn(p, n0, |mu, i| scale * xis[mu][(i, pi)])).collect();
        Self { z }
    }

    /// Number of inputs P.
    pub fn len(&self) -> usize {
        self.z.first().map_or(0, |m| m.nrows())
    }

    /// True when there are no inputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of paths Π.
    pub fn n_paths(&self) -> usize {
        self.z.len()
    }

    /// Input dimension N0.
    pub fn n0(&self) -> usize {
        self.z.first().map_or(0, |m| m.ncols())
    }

    /// The subset of paths `keep` (in that order), rescaled so that X̃ keeps the 1/√Π of the new
    /// path count (used for the GP reference nets built from a subset of heads).
    pub fn select(&self, keep: &[usize]) -> Self {
        let f = (self.n_paths() as f64 / keep.len() as f64).sqrt();
        Self { z: keep.iter().map(|&k| &self.z[k] * f).collect() }
    }

    /// Cross kernel K(X_self, X_other) = Σ_{ππ'} U_{ππ'} X̃_π(x) · X̃_{π'}(x') (rows: self).
    pub fn cross_kernel(&self, other: &PathInputs, u: &DMatrix<f64>) -> DMatrix<f64> {
        let pi_n = self.n_paths();
        let mut k = DMatrix::zeros(self.len(), other.len());
        for pi in 0..pi_n {
            let mut w = DMatrix::zeros(other.len(), other.n0());
            for pj in 0..pi_n {
                let c = u[(pi, pj)];
                if c != 0.0 {
                    w += &other.z[pj] * c;
                }
            }
            k += &self.z[pi] * w.transpose();
        }
        k
    }

    /// The diagonal K(x, x) = Σ_{ππ'} U_{ππ'} X̃_π(x) · X̃_{π'}(x) for every input.
    pub fn self_kernel_diag(&self, u: &DMatrix<f64>) -> Vec<f64> {
        let pi_n = self.n_paths();
        (0..self.len())
            .map(|mu| {
                let mut s = 0.0;
                for pi in 0..pi_n {
                    for pj in 0..pi_n {
                        s += u[(pi, pj)] * self.z[pi].row(mu).dot(&self.z[pj].row(mu));
                    }
                }
                s
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_sum_to_one_and_key_is_the_softmax_axis() {
        let x = DMatrix::from_row_slice(2, 3, &[1.0, 0.0, 2.0, 0.5, -1.0, 1.0]);
        let w = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 0.0, -1.0]);
        let om = attention(&x, &w);
        for t in 0..3 {
            assert!((om.column(t).sum() - 1.0).abs() < 1e-14);
        }
        // Ω[s, t] ∝ exp(x_sᵀ W x_t) over s.
        let a = |s: usize, t: usize| (x.column(s).transpose() * &w * x.column(t))[(0, 0)];
        let z: f64 = (0..3).map(|s| a(s, 1).exp()).sum();
        assert!((om[(2, 1)] - a(2, 1).exp() / z).abs() < 1e-14);
    }

    #[test]
    fn path_order_is_row_major() {
        let h = [2, 3];
        let pairs: Vec<(usize, usize)> = (0..6).map(|p| (head_of_path(&h, p, 0), head_of_path(&h, p, 1))).collect();
        assert_eq!(pairs, vec![(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    }
}
