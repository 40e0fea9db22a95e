//! The trained models of Sander et al. (spec icar §2a, §2e): the reference's augmented-token
//! one-layer linear-attention transformer, in f64 with a hand-written backward pass (the model is
//! small; a neural-network library's graph would be far slower on 2 cores), trained with PyTorch's
//! Adam ([`attnlab_core::optim::Adam`]) on Haar O(d) sequences exactly as in `augmented.py` `train()`.
//!
//! Model (spec §2a): token e_t = (0_d, s_t, s_{t−1}) ∈ R^{3d} (s_{−1} = 0), positions 0..n−1, target
//! s_{t+1}. q, k, v = Linear(3d, 3d) with bias; energy_{qk} = q_q·k_k/√(3d) for k ≤ q (0 above the
//! diagonal: linear attention, no softmax, no 1/T); o_q = Σ_{k≤q} energy_{qk} v_k → fc_out (with
//! bias) → LayerNorm(3d) (affine) → h = e + LN(·) → Linear(3d, 3d) → the first d outputs.
//! Loss: MSE averaged over batch, positions and the d coordinates.
//!
//! Speed: with x_k = (s_k, s_{k−1}, 1) the attention output is o_q = Ṽ Z_q M x_q /√(3d), with
//! Z_q = Σ_{k≤q} x_k x_kᵀ (data only) and M = K̃ᵀQ̃, so a position costs O(d²) instead of O(n·d).

use crate::data::{haar_orthogonal, haar_states};
use attnlab_core::config::rules;
use attnlab_core::optim::Adam;
use attnlab_core::seeded_rng;
use rand::Rng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::IcarError;

/// Settings of `augmented.py` `train()` (spec §2e).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AugConfig {
    /// Dimension d (`dim_in`).
    pub d: usize,
    /// Transitions per sequence n (states s_0..s_n; positions 0..n−1).
    pub n: usize,
    /// Training sequences (2^14).
    pub train_seqs: usize,
    /// Test sequences (2^10).
    pub test_seqs: usize,
    /// Minibatch size (1024).
    pub batch: usize,
    /// Epochs (200; 16 steps each at the defaults).
    pub epochs: usize,
    /// Adam learning rate (1e-2).
    pub lr: f64,
    /// Seed of weights (child 0), data (child 1) and shuffling (child 2).
    pub seed: u64,
}

impl AugConfig {
    /// Checks every count ≥ 1 (n ≥ 2, batch ≤ train_seqs) and lr > 0 ([`Schedule::checked`]).
    pub fn new(
        d: usize,
        n: usize,
        train_seqs: usize,
        test_seqs: usize,
        batch: usize,
        epochs: usize,
        lr: f64,
        seed: u64,
    ) -> Result<Self, IcarError> {
        let s = Schedule::checked(d, n, train_seqs, test_seqs, batch, epochs, lr, seed)?;
        Ok(Self {
            d: s.d,
            n: s.n,
            train_seqs: s.train_seqs,
            test_seqs: s.test_seqs,
            batch: s.batch,
            epochs: s.epochs,
            lr: s.lr,
            seed: s.seed,
        })
    }
    /// The training schedule of [`fit`].
    pub(crate) fn schedule(&self) -> Schedule {
        Schedule {
            d: self.d,
            n: self.n,
            train_seqs: self.train_seqs,
            test_seqs: self.test_seqs,
            batch: self.batch,
            epochs: self.epochs,
            lr: self.lr,
            seed: self.seed,
        }
    }
    /// The reference defaults: d 5, n 50, 2^14 / 2^10 sequences, batch 1024, 200 epochs, lr 1e-2.
    pub fn reference(seed: u64) -> Self {
        Self { d: 5, n: 50, train_seqs: 1 << 14, test_seqs: 1 << 10, batch: 1024, epochs: 200, lr: 1e-2, seed }
    }
    /// Adam steps per epoch (the last partial batch is dropped, as 2^14/1024 = 16 exactly).
    pub fn steps_per_epoch(&self) -> usize {
        self.train_seqs / self.batch
    }
}

/// Parameter layout of the augmented model (E = 3d, X = 2d + 1 input features (s_t, s_{t−1}, 1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// d.
    pub d: usize,
}

impl Layout {
    /// Embedding width 3d.
    pub fn e(&self) -> usize {
        3 * self.d
    }
    /// Input features 2d + 1.
    pub fn x(&self) -> usize {
        2 * self.d + 1
    }
    fn sizes(&self) -> [usize; 10] {
        let (e, x, d) = (self.e(), self.x(), self.d);
        [e * x, e * x, e * x, e * e, e, e, e, d * e, d, 0]
    }
    /// Offsets of Q̃, K̃, Ṽ (E×X: weights on the (s_t, s_{t−1}) slots and the bias as last column),
    /// W_o (E×E), b_o, γ, β, W_f (first d rows, d×E), b_f.
    pub fn offsets(&self) -> [usize; 10] {
        block_offsets(&self.sizes())
    }
    /// Number of parameters (those that can move; the zero slot's weights and the unused read-out
    /// rows of the reference get no gradient and are omitted).
    pub fn len(&self) -> usize {
        self.offsets()[9]
    }
    /// Always false (a model has parameters).
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Where each block of a flat parameter vector starts, from the blocks' sizes, with the total as the
/// last entry: o[0] = 0, o[i + 1] = o[i] + sizes[i] (the layouts of both trained models).
pub(crate) fn block_offsets<const M: usize>(sizes: &[usize]) -> [usize; M] {
    let mut o = [0; M];
    for (i, s) in sizes.iter().enumerate().take(M - 1) {
        o[i + 1] = o[i] + s;
    }
    o
}

/// PyTorch default init: Linear weights and biases U(−1/√fan_in, 1/√fan_in) (fan_in = 3d), γ = 1, β = 0.
pub fn init_params(l: Layout, seed: u64) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    let bound = 1.0 / (l.e() as f64).sqrt();
    let o = l.offsets();
    let mut p: Vec<f64> = (0..l.len()).map(|_| bound * (2.0 * rng.random::<f64>() - 1.0)).collect();
    p[o[5]..o[6]].iter_mut().for_each(|v| *v = 1.0);
    p[o[6]..o[7]].iter_mut().for_each(|v| *v = 0.0);
    p
}

/// Forward pass (and, with `grad`, backward pass accumulating `scale`·∂(Σ squared errors)/∂θ) of
/// one sequence `s` (n+1 states, row-major (n+1)×d); returns the sum of squared errors over the n
/// positions and d coordinates. `m` = K̃ᵀQ̃ (X×X) precomputed; `gm` accumulates ∂/∂M.
fn seq_pass(
    l: Layout,
    p: &[f64],
    m: &[f64],
    s: &[f64],
    n: usize,
    mut grad: Option<(&mut [f64], &mut [f64], f64)>,
) -> f64 {
    let (d, e, x) = (l.d, l.e(), l.x());
    let o = l.offsets();
    let (vt, wo, bo, ga, be, wf, bf) = (
        &p[o[2]..o[3]],
        &p[o[3]..o[4]],
        &p[o[4]..o[5]],
        &p[o[5]..o[6]],
        &p[o[6]..o[7]],
        &p[o[7]..o[8]],
        &p[o[8]..o[9]],
    );
    let r = 1.0 / (e as f64).sqrt();
    let mut z = vec![0.0; x * x];
    let mut xq = vec![0.0; x];
    let (mut a, mut b, mut att, mut f, mut xh, mut h) =
        (vec![0.0; x], vec![0.0; x], vec![0.0; e], vec![0.0; e], vec![0.0; e], vec![0.0; e]);
    let (mut gh, mut gx, mut gf, mut go, mut gb, mut gaa) =
        (vec![0.0; e], vec![0.0; e], vec![0.0; e], vec![0.0; e], vec![0.0; x], vec![0.0; x]);
    let mut loss = 0.0;
    for q in 0..n {
        // x_q = (s_q, s_{q−1}, 1); Z_q += x_q x_qᵀ
        xq[..d].copy_from_slice(&s[q * d..q * d + d]);
        if q > 0 {
            xq[d..2 * d].copy_from_slice(&s[(q - 1) * d..q * d]);
        } else {
            xq[d..2 * d].iter_mut().for_each(|v| *v = 0.0);
        }
        xq[2 * d] = 1.0;
        for i in 0..x {
            let xi = xq[i];
            for j in 0..x {
                z[i * x + j] += xi * xq[j];
            }
        }
        for i in 0..x {
            a[i] = (0..x).map(|j| m[i * x + j] * xq[j]).sum();
        }
        for i in 0..x {
            b[i] = (0..x).map(|j| z[i * x + j] * a[j]).sum();
        }
        for i in 0..e {
            att[i] = r * (0..x).map(|j| vt[i * x + j] * b[j]).sum::<f64>();
        }
        for i in 0..e {
            f[i] = bo[i] + (0..e).map(|j| wo[i * e + j] * att[j]).sum::<f64>();
        }
        let mu = f.iter().sum::<f64>() / e as f64;
        let var = f.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / e as f64;
        let sig = (var + 1e-5).sqrt();
        for i in 0..e {
            xh[i] = (f[i] - mu) / sig;
            // e_q = (0_d, s_q, s_{q−1})
            let ei = if i < d { 0.0 } else { xq[i - d] };
            h[i] = ei + ga[i] * xh[i] + be[i];
        }
        let target = &s[(q + 1) * d..(q + 2) * d];
        let mut errs = [0.0f64; 64];
        for i in 0..d {
            let y = bf[i] + (0..e).map(|j| wf[i * e + j] * h[j]).sum::<f64>();
            let err = y - target[i];
            loss += err * err;
            if i < 64 {
                errs[i] = err;
            }
        }
        let Some((g, gm, scale)) = grad.as_mut() else { continue };
        let g: &mut [f64] = g;
        gh.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..d {
            let gy = 2.0 * errs[i] * *scale;
            g[o[8] + i] += gy;
            for j in 0..e {
                g[o[7] + i * e + j] += gy * h[j];
                gh[j] += gy * wf[i * e + j];
            }
        }
        let mut m1 = 0.0;
        let mut m2 = 0.0;
        for i in 0..e {
            g[o[5] + i] += gh[i] * xh[i];
            g[o[6] + i] += gh[i];
            gx[i] = gh[i] * ga[i];
            m1 += gx[i];
            m2 += gx[i] * xh[i];
        }
        m1 /= e as f64;
        m2 /= e as f64;
        for i in 0..e {
            gf[i] = (gx[i] - m1 - xh[i] * m2) / sig;
        }
        go.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..e {
            let gfi = gf[i];
            g[o[4] + i] += gfi;
            for j in 0..e {
                g[o[3] + i * e + j] += gfi * att[j];
                go[j] += gfi * wo[i * e + j];
            }
        }
        gb.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..e {
            let goi = r * go[i];
            for j in 0..x {
                g[o[2] + i * x + j] += goi * b[j];
                gb[j] += goi * vt[i * x + j];
            }
        }
        for i in 0..x {
            gaa[i] = (0..x).map(|j| z[i * x + j] * gb[j]).sum();
        }
        for i in 0..x {
            for j in 0..x {
                gm[i * x + j] += gaa[i] * xq[j];
            }
        }
    }
    loss
}

/// The same pass as [`seq_pass`] with compile-time sizes (D = d, E = 3d, X = 2d+1) so the small
/// loops unroll and vectorise; used for d ≤ 8. Accumulates into `gl` (layout order, without the
/// Q̃/K̃ part) and `gm`.
fn seq_pass_fixed<const D: usize, const E: usize, const X: usize>(
    w: &FixedParams<D, E, X>,
    s: &[f64],
    n: usize,
    mut grad: Option<(&mut FixedParams<D, E, X>, f64)>,
) -> f64 {
    let r = 1.0 / (E as f64).sqrt();
    let mut z = [[0.0f64; X]; X];
    let mut xq = [0.0f64; X];
    let mut loss = 0.0;
    for q in 0..n {
        xq[..D].copy_from_slice(&s[q * D..q * D + D]);
        if q > 0 {
            xq[D..2 * D].copy_from_slice(&s[(q - 1) * D..q * D]);
        }
        xq[2 * D] = 1.0;
        for i in 0..X {
            for j in 0..X {
                z[i][j] += xq[i] * xq[j];
            }
        }
        let mut a = [0.0f64; X];
        for i in 0..X {
            let mut acc = 0.0;
            for j in 0..X {
                acc += w.m[i][j] * xq[j];
            }
            a[i] = acc;
        }
        let mut b = [0.0f64; X];
        for i in 0..X {
            let mut acc = 0.0;
            for j in 0..X {
                acc += z[i][j] * a[j];
            }
            b[i] = acc;
        }
        let mut att = [0.0f64; E];
        for i in 0..E {
            let mut acc = 0.0;
            for j in 0..X {
                acc += w.vt[i][j] * b[j];
            }
            att[i] = r * acc;
        }
        let mut f = w.bo;
        for i in 0..E {
            let mut acc = 0.0;
            for j in 0..E {
                acc += w.wo[i][j] * att[j];
            }
            f[i] += acc;
        }
        let mu = f.iter().sum::<f64>() / E as f64;
        let var = f.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / E as f64;
        let sig = (var + 1e-5).sqrt();
        let mut xh = [0.0f64; E];
        let mut h = [0.0f64; E];
        for i in 0..E {
            xh[i] = (f[i] - mu) / sig;
            let ei = if i < D { 0.0 } else { xq[i - D] };
            h[i] = ei + w.ga[i] * xh[i] + w.be[i];
        }
        let mut err = [0.0f64; D];
        for i in 0..D {
            let mut acc = w.bf[i];
            for j in 0..E {
                acc += w.wf[i][j] * h[j];
            }
            err[i] = acc - s[(q + 1) * D + i];
            loss += err[i] * err[i];
        }
        let Some((g, scale)) = grad.as_mut() else { continue };
        let mut gh = [0.0f64; E];
        for i in 0..D {
            let gy = 2.0 * err[i] * *scale;
            g.bf[i] += gy;
            for j in 0..E {
                g.wf[i][j] += gy * h[j];
                gh[j] += gy * w.wf[i][j];
            }
        }
        let (mut m1, mut m2) = (0.0, 0.0);
        let mut gx = [0.0f64; E];
        for i in 0..E {
            g.ga[i] += gh[i] * xh[i];
            g.be[i] += gh[i];
            gx[i] = gh[i] * w.ga[i];
            m1 += gx[i];
            m2 += gx[i] * xh[i];
        }
        m1 /= E as f64;
        m2 /= E as f64;
        let mut gf = [0.0f64; E];
        for i in 0..E {
            gf[i] = (gx[i] - m1 - xh[i] * m2) / sig;
        }
        let mut go = [0.0f64; E];
        for i in 0..E {
            g.bo[i] += gf[i];
            for j in 0..E {
                g.wo[i][j] += gf[i] * att[j];
                go[j] += gf[i] * w.wo[i][j];
            }
        }
        let mut gb = [0.0f64; X];
        for i in 0..E {
            let goi = r * go[i];
            for j in 0..X {
                g.vt[i][j] += goi * b[j];
                gb[j] += goi * w.vt[i][j];
            }
        }
        let mut ga = [0.0f64; X];
        for i in 0..X {
            let mut acc = 0.0;
            for j in 0..X {
                acc += z[i][j] * gb[j];
            }
            ga[i] = acc;
        }
        for i in 0..X {
            for j in 0..X {
                g.m[i][j] += ga[i] * xq[j];
            }
        }
    }
    loss
}

/// Fixed-size copies of the parameters (or their gradients) used by [`seq_pass_fixed`].
#[derive(Clone)]
struct FixedParams<const D: usize, const E: usize, const X: usize> {
    m: [[f64; X]; X],
    vt: [[f64; X]; E],
    wo: [[f64; E]; E],
    bo: [f64; E],
    ga: [f64; E],
    be: [f64; E],
    wf: [[f64; E]; D],
    bf: [f64; D],
}

impl<const D: usize, const E: usize, const X: usize> FixedParams<D, E, X> {
    fn zero() -> Self {
        Self {
            m: [[0.0; X]; X],
            vt: [[0.0; X]; E],
            wo: [[0.0; E]; E],
            bo: [0.0; E],
            ga: [0.0; E],
            be: [0.0; E],
            wf: [[0.0; E]; D],
            bf: [0.0; D],
        }
    }
    fn from(l: Layout, p: &[f64], m: &[f64]) -> Self {
        let o = l.offsets();
        let mut w = Self::zero();
        for i in 0..X {
            for j in 0..X {
                w.m[i][j] = m[i * X + j];
            }
        }
        for i in 0..E {
            for j in 0..X {
                w.vt[i][j] = p[o[2] + i * X + j];
            }
            for j in 0..E {
                w.wo[i][j] = p[o[3] + i * E + j];
            }
            w.bo[i] = p[o[4] + i];
            w.ga[i] = p[o[5] + i];
            w.be[i] = p[o[6] + i];
        }
        for i in 0..D {
            for j in 0..E {
                w.wf[i][j] = p[o[7] + i * E + j];
            }
            w.bf[i] = p[o[8] + i];
        }
        w
    }
    /// Adds this gradient into the flat gradient `g` and ∂M into `gm`.
    fn add_to(&self, l: Layout, g: &mut [f64], gm: &mut [f64]) {
        let o = l.offsets();
        for i in 0..X {
            for j in 0..X {
                gm[i * X + j] += self.m[i][j];
            }
        }
        for i in 0..E {
            for j in 0..X {
                g[o[2] + i * X + j] += self.vt[i][j];
            }
            for j in 0..E {
                g[o[3] + i * E + j] += self.wo[i][j];
            }
            g[o[4] + i] += self.bo[i];
            g[o[5] + i] += self.ga[i];
            g[o[6] + i] += self.be[i];
        }
        for i in 0..D {
            for j in 0..E {
                g[o[7] + i * E + j] += self.wf[i][j];
            }
            g[o[8] + i] += self.bf[i];
        }
    }
}

/// Runs a chunk of sequences with the fixed-size pass; returns (loss sum, grad, ∂M).
fn chunk_fixed<const D: usize, const E: usize, const X: usize>(
    l: Layout,
    p: &[f64],
    m: &[f64],
    ch: &[&[f64]],
    n: usize,
    scale: Option<f64>,
) -> (f64, Vec<f64>, Vec<f64>) {
    let w = FixedParams::<D, E, X>::from(l, p, m);
    let mut loss = 0.0;
    match scale {
        None => {
            for s in ch {
                loss += seq_pass_fixed(&w, s, n, None);
            }
            (loss, Vec::new(), Vec::new())
        }
        Some(sc) => {
            let mut gacc = Box::new(FixedParams::<D, E, X>::zero());
            for s in ch {
                loss += seq_pass_fixed(&w, s, n, Some((&mut gacc, sc)));
            }
            let mut g = vec![0.0; l.len()];
            let mut gm = vec![0.0; X * X];
            gacc.add_to(l, &mut g, &mut gm);
            (loss, g, gm)
        }
    }
}

/// Dispatches a chunk to the fixed-size pass for d ≤ 8, else the dynamic one.
fn run_chunk(
    l: Layout,
    p: &[f64],
    m: &[f64],
    ch: &[&[f64]],
    n: usize,
    scale: Option<f64>,
) -> (f64, Vec<f64>, Vec<f64>) {
    match l.d {
        1 => chunk_fixed::<1, 3, 3>(l, p, m, ch, n, scale),
        2 => chunk_fixed::<2, 6, 5>(l, p, m, ch, n, scale),
        3 => chunk_fixed::<3, 9, 7>(l, p, m, ch, n, scale),
        4 => chunk_fixed::<4, 12, 9>(l, p, m, ch, n, scale),
        5 => chunk_fixed::<5, 15, 11>(l, p, m, ch, n, scale),
        6 => chunk_fixed::<6, 18, 13>(l, p, m, ch, n, scale),
        7 => chunk_fixed::<7, 21, 15>(l, p, m, ch, n, scale),
        8 => chunk_fixed::<8, 24, 17>(l, p, m, ch, n, scale),
        _ => {
            let x = l.x();
            let mut g = if scale.is_some() { vec![0.0; l.len()] } else { Vec::new() };
            let mut gm = if scale.is_some() { vec![0.0; x * x] } else { Vec::new() };
            let mut loss = 0.0;
            for s in ch {
                loss += match scale {
                    Some(sc) => seq_pass(l, p, m, s, n, Some((&mut g, &mut gm, sc))),
                    None => seq_pass(l, p, m, s, n, None),
                };
            }
            (loss, g, gm)
        }
    }
}

/// M = K̃ᵀQ̃ (X×X).
fn m_of(l: Layout, p: &[f64]) -> Vec<f64> {
    let (e, x) = (l.e(), l.x());
    let o = l.offsets();
    let (qt, kt) = (&p[o[0]..o[1]], &p[o[1]..o[2]]);
    (0..x * x).map(|ij| (0..e).map(|c| kt[c * x + ij / x] * qt[c * x + ij % x]).sum()).collect()
}

/// Mean squared error (over sequences, positions and coordinates) and, if `with_grad`, its gradient.
/// `seqs` holds whole sequences of n+1 states (row-major); work is split over rayon chunks.
pub fn loss_grad(l: Layout, p: &[f64], seqs: &[&[f64]], n: usize, with_grad: bool) -> (f64, Vec<f64>) {
    let (e, x) = (l.e(), l.x());
    let m = m_of(l, p);
    let denom = (seqs.len() * n * l.d) as f64;
    let scale = 1.0 / denom;
    // A fixed number of chunks, whatever the thread count: the partial sums are added in chunk
    // order, so the result is the same to the last bit on 1, 2 or 16 threads (and on every node of
    // a cluster).
    let chunk = seqs.len().div_ceil(crate::REDUCTION_CHUNKS).max(1);
    let parts: Vec<(f64, Vec<f64>, Vec<f64>)> =
        seqs.par_chunks(chunk).map(|ch| run_chunk(l, p, &m, ch, n, with_grad.then_some(scale))).collect();
    let loss = parts.iter().map(|t| t.0).sum::<f64>() / denom;
    if !with_grad {
        return (loss, Vec::new());
    }
    let mut g = vec![0.0; l.len()];
    let mut gm = vec![0.0; x * x];
    for (_, pg, pm) in &parts {
        g.iter_mut().zip(pg).for_each(|(a, b)| *a += b);
        gm.iter_mut().zip(pm).for_each(|(a, b)| *a += b);
    }
    // M = K̃ᵀQ̃: ∂Q̃ = K̃ ∂M, ∂K̃ = Q̃ ∂Mᵀ.
    let o = l.offsets();
    for c in 0..e {
        for j in 0..x {
            let mut dq = 0.0;
            let mut dk = 0.0;
            for i in 0..x {
                dq += p[o[1] + c * x + i] * gm[i * x + j];
                dk += p[o[0] + c * x + i] * gm[j * x + i];
            }
            g[o[0] + c * x + j] += dq;
            g[o[1] + c * x + j] += dk;
        }
    }
    (loss, g)
}

/// Haar O(d) sequences s_0 = 1/√d, …, s_n, each flattened row-major ((n+1)×d).
pub fn haar_dataset(d: usize, n: usize, count: usize, seed: u64) -> Vec<Vec<f64>> {
    (0..count)
        .into_par_iter()
        .map(|i| {
            let mut rng = seeded_rng(attnlab_core::rng::child_seed(seed, i as u64));
            let w = haar_orthogonal(d, &mut rng);
            haar_states(&w, d, n + 1).concat()
        })
        .collect()
}

/// One logged point of the training curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Epoch (1-based: after this many epochs).
    pub epoch: usize,
    /// The last minibatch's training loss (None at epoch 0, before any step; an `Option`, not NaN,
    /// so the record survives its JSON round trip through the figure cache).
    pub train: Option<f64>,
    /// Test MSE on the held-out sequences.
    pub test: f64,
}

/// Result of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugOutcome {
    /// The config.
    pub config: AugConfig,
    /// Final parameters (layout [`Layout`]).
    pub params: Vec<f64>,
    /// Test MSE at init and after every epoch.
    pub curve: Vec<CurvePoint>,
    /// Final test MSE.
    pub test_mse: f64,
    /// Wall time of the training, seconds.
    pub wall_s: f64,
}

/// What the reference's `train()` loop needs of a config (shared by the augmented and the
/// non-augmented models).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub d: usize,
    pub n: usize,
    pub train_seqs: usize,
    pub test_seqs: usize,
    pub batch: usize,
    pub epochs: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Schedule {
    /// Checks d ≥ 1, n ≥ 2, train_seqs, test_seqs, batch, epochs ≥ 1, batch ≤ train_seqs and lr > 0;
    /// the error names the field.
    pub(crate) fn checked(
        d: usize,
        n: usize,
        train_seqs: usize,
        test_seqs: usize,
        batch: usize,
        epochs: usize,
        lr: f64,
        seed: u64,
    ) -> Result<Self, IcarError> {
        let train_seqs = rules::at_least("train_seqs", train_seqs, 1)?;
        let batch = rules::at_least("batch", batch, 1)?;
        if batch > train_seqs {
            return Err(attnlab_core::ConfigError::new(
                "batch",
                batch,
                format!("must be at most train_seqs = {train_seqs}"),
            )
            .into());
        }
        Ok(Self {
            d: rules::at_least("d", d, 1)?,
            n: rules::at_least("n", n, 2)?,
            train_seqs,
            test_seqs: rules::at_least("test_seqs", test_seqs, 1)?,
            batch,
            epochs: rules::at_least("epochs", epochs, 1)?,
            lr: rules::positive("lr", lr)?,
            seed,
        })
    }
}

/// The reference's training loop: a fixed Haar training set (seed `child_seed(seed, 1)`) and test
/// set, reshuffled every epoch (`child_seed(seed, 2)`), Adam on full mini-batches (the last partial
/// batch dropped), the test loss after every epoch. `loss_grad(p, seqs, with_grad)` is the model.
pub(crate) fn fit(
    p: &mut [f64],
    s: Schedule,
    loss_grad: impl Fn(&[f64], &[&[f64]], bool) -> (f64, Vec<f64>),
) -> Vec<CurvePoint> {
    let data_seed = attnlab_core::rng::child_seed(s.seed, 1);
    let train = haar_dataset(s.d, s.n, s.train_seqs, data_seed);
    let test = haar_dataset(s.d, s.n, s.test_seqs, data_seed ^ 0x5eed);
    let test_refs: Vec<&[f64]> = test.iter().map(Vec::as_slice).collect();
    let mut rng = seeded_rng(attnlab_core::rng::child_seed(s.seed, 2));
    let mut idx: Vec<usize> = (0..s.train_seqs).collect();
    let mut adam = Adam::new(p.len());
    let mut curve = vec![CurvePoint { epoch: 0, train: None, test: loss_grad(p, &test_refs, false).0 }];
    for epoch in 0..s.epochs {
        idx.shuffle(&mut rng);
        let mut last = None;
        for step in 0..s.train_seqs / s.batch {
            let batch: Vec<&[f64]> =
                idx[step * s.batch..(step + 1) * s.batch].iter().map(|&i| train[i].as_slice()).collect();
            let (loss, g) = loss_grad(p, &batch, true);
            adam.step(p, &g, s.lr);
            last = Some(loss);
        }
        curve.push(CurvePoint { epoch: epoch + 1, train: last, test: loss_grad(p, &test_refs, false).0 });
    }
    curve
}

/// Trains the augmented model as `augmented.py` `train()` does (spec §2e).
pub fn train_augmented(cfg: &AugConfig) -> AugOutcome {
    let t0 = std::time::Instant::now();
    let l = Layout { d: cfg.d };
    let mut p = init_params(l, attnlab_core::rng::child_seed(cfg.seed, 0));
    let curve = fit(&mut p, cfg.schedule(), |p, seqs, with_grad| loss_grad(l, p, seqs, cfg.n, with_grad));
    let test_mse = curve.last().map_or(f64::NAN, |c| c.test);
    AugOutcome { config: *cfg, params: p, curve, test_mse, wall_s: t0.elapsed().as_secs_f64() }
}

/// The trained attention's gauge-free structure: blocks of the bilinear energy form WqᵀWk over
/// the (s_t, s_{t−1}, bias) features (rows: query features, columns: key features), and the value
/// read of each slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugStructure {
    /// The (2d+1)×(2d+1) matrix Q̃ᵀK̃ (query feature i, key feature j), row-major.
    pub qk: Vec<f64>,
    /// Share of ‖·‖_F² of the 2d×2d token part held by the (query s_t, key s_{t−1}) block — the
    /// one-step-GD block (1 in theory).
    pub gd_block_share: f64,
    /// ‖B − (tr B/d)I‖_F/‖B‖_F of that block B (0 when it is βI).
    pub gd_block_non_identity: f64,
    /// Mean diagonal of the GD block.
    pub gd_block_diag: f64,
    /// Mean off-diagonal of the GD block.
    pub gd_block_offdiag: f64,
    /// Mean diagonal of the (query s_{t−1}, key s_t) block.
    pub swap_block_diag: f64,
    /// Frobenius norms of the four token blocks [(s_t,s_t), (s_t,s_{t−1}), (s_{t−1},s_t), (s_{t−1},s_{t−1})].
    pub block_norms: [f64; 4],
    /// ‖Ṽ[:, s_t slot]‖² / (‖Ṽ[:, s_t]‖² + ‖Ṽ[:, s_{t−1}]‖²) (1 when the value path reads s_t).
    pub value_reads_st: f64,
}

/// The structure of trained parameters `p`.
pub fn structure(d: usize, p: &[f64]) -> AugStructure {
    let l = Layout { d };
    let (e, x) = (l.e(), l.x());
    let o = l.offsets();
    // Q̃ᵀK̃[i][j] = Σ_c Q̃[c][i] K̃[c][j]
    let qk: Vec<f64> =
        (0..x * x).map(|ij| (0..e).map(|c| p[o[0] + c * x + ij / x] * p[o[1] + c * x + ij % x]).sum()).collect();
    let block =
        |bi: usize, bj: usize| -> Vec<f64> { (0..d * d).map(|k| qk[(bi * d + k / d) * x + bj * d + k % d]).collect() };
    let fro = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let blocks = [block(0, 0), block(0, 1), block(1, 0), block(1, 1)];
    let norms = [fro(&blocks[0]), fro(&blocks[1]), fro(&blocks[2]), fro(&blocks[3])];
    let total: f64 = norms.iter().map(|v| v * v).sum();
    let gd = &blocks[1];
    let diag = (0..d).map(|i| gd[i * d + i]).sum::<f64>() / d as f64;
    let off = if d > 1 {
        (0..d * d).filter(|k| k / d != k % d).map(|k| gd[k]).sum::<f64>() / (d * d - d) as f64
    } else {
        0.0
    };
    let non_id = fro(&(0..d * d).map(|k| gd[k] - if k / d == k % d { diag } else { 0.0 }).collect::<Vec<_>>())
        / norms[1].max(1e-300);
    let swap = (0..d).map(|i| blocks[2][i * d + i]).sum::<f64>() / d as f64;
    let col_norm =
        |lo: usize| (0..e).map(|c| (lo..lo + d).map(|j| p[o[2] + c * x + j].powi(2)).sum::<f64>()).sum::<f64>();
    let (vs, vp) = (col_norm(0), col_norm(d));
    AugStructure {
        qk,
        gd_block_share: norms[1] * norms[1] / total,
        gd_block_non_identity: non_id,
        gd_block_diag: diag,
        gd_block_offdiag: off,
        swap_block_diag: swap,
        block_norms: norms,
        value_reads_st: vs / (vs + vp),
    }
}

#[cfg(test)]
mod tests {

    /// The loss and gradient of a batch are the same to the last bit on 1 and 3 threads (fixed
    /// reduction chunks, `REDUCTION_CHUNKS`).
    #[test]
    fn loss_grad_does_not_depend_on_the_thread_count() {
        let (l, n) = (Layout { d: 3 }, 6);
        let p: Vec<f64> = (0..l.len()).map(|k| ((k * 37 % 11) as f64 - 5.0) / 10.0).collect();
        let data: Vec<Vec<f64>> = (0..40)
            .map(|s| (0..(n + 1) * l.d).map(|k| (((s * 13 + k * 7) % 17) as f64 - 8.0) / 8.0).collect())
            .collect();
        let seqs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            pool.install(|| loss_grad(l, &p, &seqs, n, true))
        };
        let (one, three) = (on(1), on(3));
        assert_eq!(one.0.to_bits(), three.0.to_bits());
        assert!(one.1.iter().zip(&three.1).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    use super::*;

    #[test]
    fn outcomes_survive_a_json_round_trip() {
        // The figure cache stores outcomes as JSON: a NaN would come back as null and make every
        // cached record unreadable (the cause of ICAR figures never being reused before).
        let mut a = AugConfig::reference(3);
        (a.d, a.n, a.train_seqs, a.test_seqs, a.batch, a.epochs) = (2, 4, 16, 8, 8, 2);
        let o = train_augmented(&a);
        assert_eq!(serde_json::from_str::<AugOutcome>(&serde_json::to_string(&o).unwrap_or_default()).ok(), Some(o));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let l = Layout { d: 2 };
        let p = init_params(l, 1);
        let data = haar_dataset(2, 6, 3, 2);
        let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        let (_, g) = loss_grad(l, &p, &refs, 6, true);
        let eps = 1e-6;
        for i in 0..l.len() {
            let mut a = p.clone();
            let mut b = p.clone();
            a[i] += eps;
            b[i] -= eps;
            let fd = (loss_grad(l, &a, &refs, 6, false).0 - loss_grad(l, &b, &refs, 6, false).0) / (2.0 * eps);
            assert!((fd - g[i]).abs() < 1e-6 * (1.0 + g[i].abs()), "param {i}: fd {fd} vs {}", g[i]);
            assert!(g[i].is_finite());
        }
    }

    #[test]
    fn fixed_size_pass_equals_the_dynamic_pass() {
        for d in [1usize, 3, 5] {
            let l = Layout { d };
            let p = init_params(l, 11);
            let data = haar_dataset(d, 7, 4, 12);
            let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
            let m = m_of(l, &p);
            let (lf, gf, mf) = run_chunk(l, &p, &m, &refs, 7, Some(0.1));
            let mut g = vec![0.0; l.len()];
            let mut gm = vec![0.0; l.x() * l.x()];
            let mut ld = 0.0;
            for s in &refs {
                ld += seq_pass(l, &p, &m, s, 7, Some((&mut g, &mut gm, 0.1)));
            }
            assert!((lf - ld).abs() < 1e-10 * ld);
            for (a, b) in gf.iter().zip(&g).chain(mf.iter().zip(&gm)) {
                assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()));
            }
        }
    }

    #[test]
    fn efficient_attention_equals_the_quadratic_definition() {
        // o_q = Σ_{k≤q} (q_q·k_k/√E) v_k computed naively vs the Z_q trick, through the loss.
        let d = 2;
        let l = Layout { d };
        let p = init_params(l, 5);
        let data = haar_dataset(d, 5, 1, 6);
        let s = &data[0];
        let (e, x) = (l.e(), l.x());
        let o = l.offsets();
        let feat = |q: usize| {
            let mut v = vec![0.0; x];
            v[..d].copy_from_slice(&s[q * d..q * d + d]);
            if q > 0 {
                v[d..2 * d].copy_from_slice(&s[(q - 1) * d..q * d]);
            }
            v[2 * d] = 1.0;
            v
        };
        let lin = |off: usize, v: &[f64]| {
            (0..e).map(|c| (0..x).map(|j| p[off + c * x + j] * v[j]).sum::<f64>()).collect::<Vec<_>>()
        };
        let mut naive = 0.0;
        for q in 0..5 {
            let qq = lin(o[0], &feat(q));
            let mut att = vec![0.0; e];
            for k in 0..=q {
                let kk = lin(o[1], &feat(k));
                let vv = lin(o[2], &feat(k));
                let en: f64 = qq.iter().zip(&kk).map(|(a, b)| a * b).sum::<f64>() / (e as f64).sqrt();
                att.iter_mut().zip(&vv).for_each(|(a, b)| *a += en * b);
            }
            let f: Vec<f64> =
                (0..e).map(|i| p[o[4] + i] + (0..e).map(|j| p[o[3] + i * e + j] * att[j]).sum::<f64>()).collect();
            let mu = f.iter().sum::<f64>() / e as f64;
            let var = f.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / e as f64;
            let fq = feat(q);
            let h: Vec<f64> = (0..e).map(|i| if i < d { 0.0 } else { fq[i - d] } + p[o[5] + i] * (f[i] - mu) / (var + 1e-5).sqrt() + p[o[6] + i]).collect();
            for i in 0..d {
                let y = p[o[8] + i] + (0..e).map(|j| p[o[7] + i * e + j] * h[j]).sum::<f64>();
                naive += (y - s[(q + 1) * d + i]).powi(2);
            }
        }
        let fast = loss_grad(l, &p, &[s.as_slice()], 5, false).0 * (5 * d) as f64;
        assert!((fast - naive).abs() < 1e-12 * naive.max(1.0), "{fast} vs {naive}");
    }
}
