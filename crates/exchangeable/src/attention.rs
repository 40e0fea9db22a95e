//! The estimators of spec §2: softmax attention, CME attention (kernel ridge regression of v on k)
//! and the Nadaraya–Watson estimator, plus the small dense Cholesky solver CME attention needs.

use crate::{ExchError, Mat2, Vec2, dot, wt_times};

/// Scores s_l = qᵀW k_l = (Wᵀq)ᵀk_l.
pub fn scores(q: Vec2, w: &Mat2, keys: &[Vec2]) -> Vec<f64> {
    let wq = wt_times(w, q);
    keys.iter().map(|&k| dot(wq, k)).collect()
}

/// Softmax weights a_l = exp(s_l)/Σ_j exp(s_j), by log-sum-exp (spec §5.8).
pub fn softmax(scores: &[f64]) -> Vec<f64> {
    let mx = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut a: Vec<f64> = scores.iter().map(|&s| (s - mx).exp()).collect();
    let tot: f64 = a.iter().sum();
    a.iter_mut().for_each(|x| *x /= tot);
    a
}

/// attn_W(q, K, V) = Σ_l a_l v_l with vector values (spec §2).
pub fn softmax_attention(q: Vec2, w: &Mat2, keys: &[Vec2], values: &[Vec2]) -> Vec2 {
    let a = softmax(&scores(q, w, keys));
    a.iter().zip(values).fold([0.0, 0.0], |acc, (&al, v)| [acc[0] + al * v[0], acc[1] + al * v[1]])
}

/// attn_W(q, K, V) with scalar values.
pub fn softmax_attention_scalar(q: Vec2, w: &Mat2, keys: &[Vec2], values: &[f64]) -> f64 {
    let a = softmax(&scores(q, w, keys));
    a.iter().zip(values).map(|(al, v)| al * v).sum()
}

/// Softmax attention of scalar values at inverse temperature `w` from precomputed base scores
/// c_l = qᵀk_l (W = wI): Σ_l e^{w(c_l − max c)} v_l / Σ_l e^{w(c_l − max c)}. The fast path of the
/// experiments that sweep w on common random numbers.
pub fn softmax_scaled(base: &[f64], w: f64, values: &[f64]) -> f64 {
    let mx = base.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut num, mut den) = (0.0, 0.0);
    for (&c, &v) in base.iter().zip(values) {
        let e = (w * (c - mx)).exp();
        num += e * v;
        den += e;
    }
    num / den
}

/// A Gaussian RBF kernel 𝔨(q, k) = exp(−‖q − k‖²/(2h²)) of bandwidth h (spec §3 E3(iv)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rbf {
    /// Bandwidth h > 0.
    pub h: f64,
}

impl Rbf {
    /// 𝔨(a, b).
    pub fn eval(&self, a: Vec2, b: Vec2) -> f64 {
        let d = [a[0] - b[0], a[1] - b[1]];
        (-dot(d, d) / (2.0 * self.h * self.h)).exp()
    }
}

/// The Nadaraya–Watson estimator Σ𝔨(q, k_l)v_l / Σ𝔨(q, k_l).
pub fn nadaraya_watson(q: Vec2, kernel: Rbf, keys: &[Vec2], values: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (&k, &v) in keys.iter().zip(values) {
        let e = kernel.eval(q, k);
        num += e * v;
        den += e;
    }
    num / den
}

/// CME attention (spec §2): α = (G_K + λL·I)⁻¹𝔨_K(q); returns (Vᵀα, 1ᵀα). The first entry is
/// attn^CME_λ(q); their ratio is the normalised CME, which tends to Nadaraya–Watson as λ → ∞ at the
/// O(1/λ) rate (spec §2 "Link to softmax").
pub fn cme_attention(
    q: Vec2,
    kernel: Rbf,
    lambda: f64,
    keys: &[Vec2],
    values: &[f64],
) -> Result<(f64, f64), ExchError> {
    let l = keys.len();
    let mut g = vec![0.0; l * l];
    for i in 0..l {
        for j in 0..=i {
            let v = kernel.eval(keys[i], keys[j]);
            g[i * l + j] = v;
            g[j * l + i] = v;
        }
        g[i * l + i] += lambda * l as f64;
    }
    let kq: Vec<f64> = keys.iter().map(|&k| kernel.eval(q, k)).collect();
    let alpha = cholesky_solve(&mut g, l, &kq).ok_or(ExchError::NotPositiveDefinite("CME Gram matrix"))?;
    Ok((alpha.iter().zip(values).map(|(a, v)| a * v).sum(), alpha.iter().sum()))
}

/// Solves A x = b for symmetric positive definite A (row-major n×n, overwritten by its Cholesky
/// factor). None if A is not positive definite.
pub fn cholesky_solve(a: &mut [f64], n: usize, b: &[f64]) -> Option<Vec<f64>> {
    // In-place lower Cholesky, row by row (A = LLᵀ, L in the lower triangle).
    for i in 0..n {
        for j in 0..=i {
            let (ri, rj) = (&a[i * n..i * n + j], &a[j * n..j * n + j]);
            let s: f64 = ri.iter().zip(rj).map(|(x, y)| x * y).sum();
            let v = a[i * n + j] - s;
            if i == j {
                if v <= 0.0 || !v.is_finite() {
                    return None;
                }
                a[i * n + i] = v.sqrt();
            } else {
                a[i * n + j] = v / a[j * n + j];
            }
        }
    }
    // Forward then backward substitution.
    let mut y = b.to_vec();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| a[i * n + k] * y[k]).sum();
        y[i] = (y[i] - s) / a[i * n + i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[k * n + i] * y[k]).sum();
        y[i] = (y[i] - s) / a[i * n + i];
    }
    Some(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_known_system() {
        let mut a = vec![4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let x = [1.0, -2.0, 0.5];
        let b: Vec<f64> = (0..3).map(|i| (0..3).map(|j| a[i * 3 + j] * x[j]).sum()).collect();
        let got = cholesky_solve(&mut a, 3, &b).expect("positive definite");
        for i in 0..3 {
            assert!((got[i] - x[i]).abs() < 1e-14);
        }
        let mut bad = vec![1.0, 2.0, 2.0, 1.0];
        assert!(cholesky_solve(&mut bad, 2, &[1.0, 1.0]).is_none());
    }

    #[test]
    fn softmax_scaled_equals_softmax_attention_with_w_identity() {
        let keys = [[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8]];
        let vals = [0.3, -0.2, 0.9];
        let q = [0.8, -0.6];
        let base: Vec<f64> = keys.iter().map(|&k| dot(q, k)).collect();
        let a = softmax_attention_scalar(q, &crate::scaled_identity(7.0), &keys, &vals);
        assert!((a - softmax_scaled(&base, 7.0, &vals)).abs() < 1e-15);
    }
}
