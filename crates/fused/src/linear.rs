//! The three products a linear layer y = W x needs on a batch of row vectors (row-major, f32):
//! forward Y = X Wᵀ, the weight gradient dW += dYᵀ X and the input gradient dX (+)= dY W, each one
//! register-tiled product ([`crate::gemm`]); and y += αx for the fused passes.

use crate::gemm::{Gemm, gemm};

/// Y (m × out) = X (m × inp) Wᵀ, W (out × inp); added to Y when `accumulate`, else written.
pub fn forward(x: &[f32], w: &[f32], m: usize, inp: usize, out: usize, y: &mut [f32], accumulate: bool) {
    debug_assert_eq!((x.len(), w.len(), y.len()), (m * inp, out * inp, m * out));
    // Wᵀ (inp × out), so B's rows are contiguous in the output index (at most a few thousand values).
    let mut wt = vec![0f32; inp * out];
    for (j, wr) in w.chunks_exact(inp).enumerate() {
        for (c, &v) in wr.iter().enumerate() {
            wt[c * out + j] = v;
        }
    }
    gemm(Gemm { m, n: out, k: inp, a: x, a_transposed: false, b: &wt, c: y, accumulate });
}

/// dW (out × inp) += dYᵀ (out × m) X (m × inp).
pub fn grad_weight(dy: &[f32], x: &[f32], m: usize, inp: usize, out: usize, dw: &mut [f32]) {
    debug_assert_eq!((dy.len(), x.len(), dw.len()), (m * out, m * inp, out * inp));
    gemm(Gemm { m: out, n: inp, k: m, a: dy, a_transposed: true, b: x, c: dw, accumulate: true });
}

/// dX (m × inp) = dY (m × out) W (out × inp); added to dX when `accumulate`, else written.
pub fn grad_input(dy: &[f32], w: &[f32], m: usize, inp: usize, out: usize, dx: &mut [f32], accumulate: bool) {
    debug_assert_eq!((dy.len(), w.len(), dx.len()), (m * out, out * inp, m * inp));
    gemm(Gemm { m, n: inp, k: out, a: dy, a_transposed: false, b: w, c: dx, accumulate });
}

/// y += α x.
#[inline]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += alpha * xv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three products against their definitions, element by element, in f64.
    #[test]
    fn products_match_their_definitions() {
        let (m, inp, out) = (5, 3, 4);
        let f = |i: usize, s: f32| ((i as f32 * 0.37 + s).sin() * 2.0).round() / 4.0;
        let x: Vec<f32> = (0..m * inp).map(|i| f(i, 0.1)).collect();
        let w: Vec<f32> = (0..out * inp).map(|i| f(i, 1.3)).collect();
        let dy: Vec<f32> = (0..m * out).map(|i| f(i, 2.9)).collect();
        let mut y = vec![1.0; m * out];
        forward(&x, &w, m, inp, out, &mut y, true);
        let mut dw = vec![0.5; out * inp];
        grad_weight(&dy, &x, m, inp, out, &mut dw);
        let mut dx = vec![7.0; m * inp];
        grad_input(&dy, &w, m, inp, out, &mut dx, false);
        for i in 0..m {
            for j in 0..out {
                let want: f64 =
                    1.0 + (0..inp).map(|c| f64::from(x[i * inp + c]) * f64::from(w[j * inp + c])).sum::<f64>();
                assert!((f64::from(y[i * out + j]) - want).abs() < 1e-6);
            }
            for c in 0..inp {
                let want: f64 = (0..out).map(|j| f64::from(dy[i * out + j]) * f64::from(w[j * inp + c])).sum();
                assert!((f64::from(dx[i * inp + c]) - want).abs() < 1e-6);
            }
        }
        for j in 0..out {
            for c in 0..inp {
                let want: f64 =
                    0.5 + (0..m).map(|i| f64::from(dy[i * out + j]) * f64::from(x[i * inp + c])).sum::<f64>();
                assert!((f64::from(dw[j * inp + c]) - want).abs() < 1e-6);
            }
        }
    }
}
