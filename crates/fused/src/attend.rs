//! The attention step both fused models share: `attnlab_kernels`' row kernels over a batch of B
//! rows of N tokens (q, k, v, o: B·N × d row-major), and the F13 probe.

use attnlab_kernels::{Dims, backward_row, forward_row};

/// The kernels' problem: B rows of N tokens, head width d (scale 1/√d), memory window m (None:
/// full causal attention).
pub fn dims(batch: usize, len: usize, d: usize, memory: Option<usize>) -> Dims {
    Dims { batch, len, d, memory: memory.unwrap_or(usize::MAX), scale: (1.0 / (d as f64).sqrt()) as f32 }
}

/// o and the row log-sum-exps `lse` (B·N) of causal attention, row by row.
pub fn forward(dims: Dims, q: &[f32], k: &[f32], v: &[f32], o: &mut [f32], lse: &mut [f32]) {
    let (n, nd) = (dims.len, dims.len * dims.d);
    for r in 0..dims.batch {
        let rows = r * nd..(r + 1) * nd;
        forward_row(
            &q[rows.clone()],
            &k[rows.clone()],
            &v[rows.clone()],
            dims,
            &mut o[rows],
            &mut lse[r * n..(r + 1) * n],
        );
    }
}

/// The gradients dq, dk, dv (overwritten) from the output gradient `d_o`, after [`forward`].
pub fn backward(
    dims: Dims,
    (q, k, v): (&[f32], &[f32], &[f32]),
    o: &[f32],
    lse: &[f32],
    d_o: &[f32],
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
) {
    dq.fill(0.0);
    dk.fill(0.0);
    dv.fill(0.0);
    let (n, nd) = (dims.len, dims.len * dims.d);
    for r in 0..dims.batch {
        let rows = r * nd..(r + 1) * nd;
        backward_row(
            &q[rows.clone()],
            &k[rows.clone()],
            &v[rows.clone()],
            &o[rows.clone()],
            &lse[r * n..(r + 1) * n],
            &d_o[rows.clone()],
            dims,
            &mut dq[rows.clone()],
            &mut dk[rows.clone()],
            &mut dv[rows],
        );
    }
}

/// ‖num_t‖ / (‖den_t‖ + 1e-12) averaged over the rows t (the F13 attention probe, as the candle
/// model computes it).
pub fn norm_ratio(num: &[f32], den: &[f32], d: usize) -> f64 {
    let rows = num.len() / d;
    let norm = |r: &[f32]| f64::from(r.iter().map(|v| v * v).sum::<f32>().sqrt());
    let sum: f64 = num.chunks_exact(d).zip(den.chunks_exact(d)).map(|(a, b)| norm(a) / (norm(b) + 1e-12)).sum();
    sum / rows as f64
}

/// resid += o W_outᵀ (W_out d × d). With `probe`, the projection goes through `scratch` first so
/// the probe ‖attention output‖ / ‖resid + attention output‖ can be read (returned); otherwise it
/// is accumulated in place and None is returned.
pub fn add_projection(
    o: &[f32],
    w_out: &[f32],
    d: usize,
    resid: &mut [f32],
    scratch: &mut [f32],
    probe: bool,
) -> Option<f64> {
    let m = o.len() / d;
    if !probe {
        crate::linear::forward(o, w_out, m, d, d, resid, true);
        return None;
    }
    crate::linear::forward(o, w_out, m, d, d, scratch, false);
    for (r, &att) in resid.iter_mut().zip(scratch.iter()) {
        *r += att;
    }
    Some(norm_ratio(scratch, resid, d))
}
