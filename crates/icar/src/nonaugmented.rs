//! The reference's non-augmented model (spec icar §2b, Fig 7) in f64 with a hand-written backward
//! pass, trained as `non_augmented.py` `train()` does (spec §2e) on Haar O(d) sequences.
//!
//! Token x_t = (s_t, s_t) ∈ R^{2d} (E = 2d), H heads of width E, Q, K, V = Linear(E, H·E) with
//! bias, learned positional embeddings p_t = Embedding(100, E) (N(0, 1) init), positions 0..n−1.
//! Head h: A_h[q,k] = [(Q_h x_q + b)·(K_h x_k + b)/√E] × softmax_{k≤q}[(Q_h p_q + b)·(K_h p_k + b)/√E]
//! (the same Q_h, K_h and biases on tokens and on PEs; masked entries are 0). Output
//! Σ_h Σ_{k≤q} A_h[q,k](V_h x_k + b) → fc_out (E×E, bias) → LayerNorm(E) → no residual →
//! Linear(E, d). MSE against s_{t+1}.
//!
//! Speed: the positional softmax Π_h does not depend on the batch and is computed once per step;
//! with z = (s, 1) the token score is z_qᵀ M_h z_k with M_h = Q̃_hᵀK̃_h/√E (Q̃_h: the two halves of
//! Q_h summed, bias as last column), so a (head, query, key) triple costs O(d); and the
//! batch-dependent pass runs W = 8 sequences at once, one per vector lane ([`chunk_pass`], compiled
//! for AVX-512F or AVX2+FMA where the CPU has them through `attnlab_kernels::dispatch`, see [`ChunkPass`]).

use attnlab_core::config::rules;
use attnlab_core::seeded_rng;
use rand::Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::{Add, Mul, Sub};

use crate::IcarError;
use crate::augmented::{CurvePoint, Schedule, block_offsets, fit};
use attnlab_kernels::{Multiversion, Path, dispatch};

/// Settings of `non_augmented.py` `train()` (spec §2b, §2e).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NonAugConfig {
    /// Dimension d (1..=8).
    pub d: usize,
    /// Transitions per sequence n (≤ 100, the PE table size).
    pub n: usize,
    /// Heads H (reference 64).
    pub heads: usize,
    /// Training sequences (2^14).
    pub train_seqs: usize,
    /// Test sequences (2^10).
    pub test_seqs: usize,
    /// Minibatch size (reference 1024).
    pub batch: usize,
    /// Epochs (reference 200).
    pub epochs: usize,
    /// Adam learning rate (1e-2).
    pub lr: f64,
    /// Seed of weights (child 0), data (child 1), shuffling (child 2).
    pub seed: u64,
    /// Float precision of the batch-dependent pass (f32, the reference's, by default).
    pub precision: Precision,
}

impl NonAugConfig {
    /// Checks 1 ≤ d ≤ 8, 2 ≤ n ≤ 100, heads ≥ 1, 1 ≤ batch ≤ train_seqs, epochs ≥ 1, lr > 0.
    pub fn new(
        d: usize,
        n: usize,
        heads: usize,
        train_seqs: usize,
        test_seqs: usize,
        batch: usize,
        epochs: usize,
        lr: f64,
        seed: u64,
    ) -> Result<Self, IcarError> {
        if d > 8 {
            return Err(attnlab_core::ConfigError::new("d", d, "must be at most 8").into());
        }
        if n > 100 {
            return Err(attnlab_core::ConfigError::new("n", n, "must be at most 100 (the PE table)").into());
        }
        let s = Schedule::checked(d, n, train_seqs, test_seqs, batch, epochs, lr, seed)?;
        let heads = rules::at_least("heads", heads, 1)?;
        Ok(Self { d, n, heads, train_seqs, test_seqs, batch, epochs, lr: s.lr, seed, precision: Precision::F32 })
    }
    /// The training schedule of [`fit`].
    fn schedule(&self) -> Schedule {
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
    /// The reference defaults: d 5, n 50, H 64, 2^14 / 2^10 sequences, batch 1024, 200 epochs, lr 1e-2.
    pub fn reference(seed: u64) -> Self {
        Self {
            d: 5,
            n: 50,
            heads: 64,
            train_seqs: 1 << 14,
            test_seqs: 1 << 10,
            batch: 1024,
            epochs: 200,
            lr: 1e-2,
            seed,
            precision: Precision::F32,
        }
    }
    /// Steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.train_seqs / self.batch
    }
}

/// Flat parameter layout: Q, K, V (each H·E×E), bq, bk, bv (H·E), PE (100×E), W_o (E×E), b_o, γ, β
/// (E), W_f (d×E), b_f (d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NaLayout {
    /// d.
    pub d: usize,
    /// H.
    pub h: usize,
}

impl NaLayout {
    fn e(&self) -> usize {
        2 * self.d
    }
    /// Offsets of [Q, K, V, bq, bk, bv, PE, Wo, bo, γ, β, Wf, bf, end].
    pub fn offsets(&self) -> [usize; 14] {
        let (e, h, d) = (self.e(), self.h, self.d);
        let sizes = [h * e * e, h * e * e, h * e * e, h * e, h * e, h * e, 100 * e, e * e, e, e, e, d * e, d];
        block_offsets(&sizes)
    }
    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.offsets()[13]
    }
    /// Always false.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// PyTorch default init (Linear U(±1/√E), Embedding N(0, 1), γ = 1, β = 0).
pub fn init_params(l: NaLayout, seed: u64) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    let o = l.offsets();
    let bound = 1.0 / (l.e() as f64).sqrt();
    let mut p: Vec<f64> = (0..l.len()).map(|_| bound * (2.0 * rng.random::<f64>() - 1.0)).collect();
    for v in &mut p[o[6]..o[7]] {
        *v = rng.sample(StandardNormal);
    }
    p[o[9]..o[10]].iter_mut().for_each(|v| *v = 1.0);
    p[o[10]..o[11]].iter_mut().for_each(|v| *v = 0.0);
    p
}

/// Batch-independent quantities of one step: the positional softmax Π_h (H×n×n, causal), per head
/// M_h (Z×Z) and Ṽ_h (E×Z) with Z = d+1, and the positional queries/keys Q_h p_t + b, K_h p_t + b.
pub(crate) struct Shared<const D: usize, const E: usize, const Z: usize> {
    pi: Vec<f64>,
    m: Vec<[[f64; Z]; Z]>,
    vt: Vec<[[f64; Z]; E]>,
    pq: Vec<[f64; E]>,
    pk: Vec<[f64; E]>,
}

/// Reduced per-head matrix [W[:, :d] + W[:, d:], b] (E×Z) of a Linear(E, H·E) block.
fn reduced<const D: usize, const E: usize, const Z: usize>(p: &[f64], w: usize, b: usize, h: usize) -> [[f64; Z]; E] {
    let mut r = [[0.0; Z]; E];
    for i in 0..E {
        let row = w + (h * E + i) * E;
        for j in 0..D {
            r[i][j] = p[row + j] + p[row + D + j];
        }
        r[i][D] = p[b + h * E + i];
    }
    r
}

fn shared<const D: usize, const E: usize, const Z: usize>(l: NaLayout, p: &[f64], n: usize) -> Shared<D, E, Z> {
    let o = l.offsets();
    let rs = 1.0 / (E as f64).sqrt();
    let mut pi = vec![0.0; l.h * n * n];
    let mut m = Vec::with_capacity(l.h);
    let mut vt = Vec::with_capacity(l.h);
    let mut pq = vec![[0.0; E]; l.h * n];
    let mut pk = vec![[0.0; E]; l.h * n];
    for h in 0..l.h {
        let qt = reduced::<D, E, Z>(p, o[0], o[3], h);
        let kt = reduced::<D, E, Z>(p, o[1], o[4], h);
        let mut mh = [[0.0; Z]; Z];
        for c in 0..Z {
            for b in 0..Z {
                mh[c][b] = rs * (0..E).map(|e| qt[e][c] * kt[e][b]).sum::<f64>();
            }
        }
        m.push(mh);
        vt.push(reduced::<D, E, Z>(p, o[2], o[5], h));
        for t in 0..n {
            let pe = &p[o[6] + t * E..o[6] + (t + 1) * E];
            for i in 0..E {
                let (wq, wk) = (o[0] + (h * E + i) * E, o[1] + (h * E + i) * E);
                pq[h * n + t][i] = p[o[3] + h * E + i] + (0..E).map(|j| p[wq + j] * pe[j]).sum::<f64>();
                pk[h * n + t][i] = p[o[4] + h * E + i] + (0..E).map(|j| p[wk + j] * pe[j]).sum::<f64>();
            }
        }
        for q in 0..n {
            let row = &mut pi[(h * n + q) * n..(h * n + q) * n + n];
            let mut mx = f64::NEG_INFINITY;
            for k in 0..=q {
                row[k] = rs * (0..E).map(|i| pq[h * n + q][i] * pk[h * n + k][i]).sum::<f64>();
                mx = mx.max(row[k]);
            }
            let mut z = 0.0;
            for k in 0..=q {
                row[k] = (row[k] - mx).exp();
                z += row[k];
            }
            for k in 0..=q {
                row[k] /= z;
            }
        }
    }
    Shared { pi, m, vt, pq, pk }
}

/// The float type of the batch-dependent pass: f32 (16 lanes per AVX-512 register; the reference's
/// torch precision, used for training) or f64 (8 lanes; used by the gradient checks). Parameters,
/// the batch-independent parts and all sums over lanes stay f64.
pub(crate) trait Real:
    Copy + Send + Sync + 'static + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn of(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// a·b + c, fused when `FMA`.
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self;
    /// 1/√x.
    fn rsqrt(x: Self) -> Self;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn of(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self {
        if FMA { a.mul_add(b, c) } else { a * b + c }
    }
    #[inline(always)]
    fn rsqrt(x: Self) -> Self {
        1.0 / x.sqrt()
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn madd<const FMA: bool>(a: Self, b: Self, c: Self) -> Self {
        if FMA { a.mul_add(b, c) } else { a * b + c }
    }
    #[inline(always)]
    fn rsqrt(x: Self) -> Self {
        1.0 / x.sqrt()
    }
}

/// Float precision of the batch-dependent pass (see [`loss_grad_on`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precision {
    /// f32, 16 sequences per lane block: the reference's torch precision and twice the speed.
    F32,
    /// f64, 8 sequences per lane block.
    F64,
}

/// `[f(0), …, f(W−1)]` as a plain loop (a closure passed to `std::array::from_fn` is a separate
/// function and may lose the caller's `#[target_feature]`s).
macro_rules! lanes {
    (|$k:ident| $e:expr) => {{
        let mut r = [T::ZERO; W];
        for $k in 0..W {
            r[$k] = $e;
        }
        r
    }};
}

/// acc += a·b lane-wise (copied in and out whole, so LLVM keeps it in vector registers).
#[inline(always)]
fn fma_v<T: Real, const W: usize, const FMA: bool>(acc: &mut [T; W], a: &[T; W], b: &[T; W]) {
    let (x, y, mut z) = (*a, *b, *acc);
    for i in 0..W {
        z[i] = T::madd::<FMA>(x[i], y[i], z[i]);
    }
    *acc = z;
}
/// acc += s·b lane-wise.
#[inline(always)]
fn fma_s<T: Real, const W: usize, const FMA: bool>(acc: &mut [T; W], s: T, b: &[T; W]) {
    let (y, mut z) = (*b, *acc);
    for i in 0..W {
        z[i] = T::madd::<FMA>(s, y[i], z[i]);
    }
    *acc = z;
}
#[inline(always)]
fn mul_v<T: Real, const W: usize>(a: &[T; W], b: &[T; W]) -> [T; W] {
    lanes!(|i| a[i] * b[i])
}
/// acc += a lane-wise.
#[inline(always)]
fn add_v<T: Real, const W: usize>(acc: &mut [T; W], a: &[T; W]) {
    let (x, mut z) = (*a, *acc);
    for i in 0..W {
        z[i] = z[i] + x[i];
    }
    *acc = z;
}
/// Σ over the lanes, in f64.
#[inline(always)]
fn hsum<T: Real, const W: usize>(v: &[T; W]) -> f64 {
    v.iter().map(|x| x.to_f64()).sum()
}

/// W sequences in lane layout: z_t = (s_t, 1) for t < n, the targets s_{t+1}, and a lane mask (0
/// for the padding lanes of the last block).
pub(crate) struct Block<T: Real, const W: usize, const D: usize, const Z: usize> {
    z: Vec<[[T; W]; Z]>,
    target: Vec<[[T; W]; D]>,
    mask: [T; W],
}

fn blocks<T: Real, const W: usize, const D: usize, const Z: usize>(
    seqs: &[&[f64]],
    n: usize,
) -> Vec<Block<T, W, D, Z>> {
    seqs.chunks(W)
        .map(|ch| {
            let mut z = vec![[[T::ONE; W]; Z]; n];
            let mut target = vec![[[T::ZERO; W]; D]; n];
            let mut mask = [T::ZERO; W];
            for (lane, s) in ch.iter().enumerate() {
                mask[lane] = T::ONE;
                for t in 0..n {
                    for i in 0..D {
                        z[t][i][lane] = T::of(s[t * D + i]);
                        target[t][i][lane] = T::of(s[(t + 1) * D + i]);
                    }
                }
            }
            Block { z, target, mask }
        })
        .collect()
}

/// The parameters the batch-dependent pass sees, in one shape: Π_h (H×n×n), M_h (Z×Z) and Ṽ_h
/// (E×Z) per head, fc_out (W_o, b_o), LayerNorm (γ, β) and the read-out (W_f, b_f). `X` is the pass's
/// float for the step's weights ([`Weights`]), f64 for gradient sums ([`Acc`]) and a lane vector
/// for the per-lane sums inside a chunk (with Π left empty: its lanes are summed per query).
#[derive(Clone)]
pub(crate) struct HeadParams<X, const D: usize, const E: usize, const Z: usize> {
    pi: Vec<X>,
    m: Vec<[[X; Z]; Z]>,
    vt: Vec<[[X; Z]; E]>,
    wo: [[X; E]; E],
    bo: [X; E],
    gamma: [X; E],
    beta: [X; E],
    wf: [[X; E]; D],
    bf: [X; D],
}

/// The step's weights in the pass's precision.
pub(crate) type Weights<T, const D: usize, const E: usize, const Z: usize> = HeadParams<T, D, E, Z>;
/// Gradient sums over sequences.
pub(crate) type Acc<const D: usize, const E: usize, const Z: usize> = HeadParams<f64, D, E, Z>;

impl<X: Copy, const D: usize, const E: usize, const Z: usize> HeadParams<X, D, E, Z> {
    /// Every entry `x`, with `pi_len` entries of Π.
    fn filled(heads: usize, pi_len: usize, x: X) -> Self {
        Self {
            pi: vec![x; pi_len],
            m: vec![[[x; Z]; Z]; heads],
            vt: vec![[[x; Z]; E]; heads],
            wo: [[x; E]; E],
            bo: [x; E],
            gamma: [x; E],
            beta: [x; E],
            wf: [[x; E]; D],
            bf: [x; D],
        }
    }

    /// Calls `f(mine, theirs)` on every pair of corresponding entries (Π only as far as both have it).
    fn zip_with<Y>(&mut self, o: &HeadParams<Y, D, E, Z>, f: impl Fn(&mut X, &Y)) {
        self.pi.iter_mut().zip(&o.pi).for_each(|(x, y)| f(x, y));
        for (a, b) in self.m.iter_mut().zip(&o.m) {
            a.iter_mut().flatten().zip(b.iter().flatten()).for_each(|(x, y)| f(x, y));
        }
        for (a, b) in self.vt.iter_mut().zip(&o.vt) {
            a.iter_mut().flatten().zip(b.iter().flatten()).for_each(|(x, y)| f(x, y));
        }
        self.wo.iter_mut().flatten().zip(o.wo.iter().flatten()).for_each(|(x, y)| f(x, y));
        self.wf.iter_mut().flatten().zip(o.wf.iter().flatten()).for_each(|(x, y)| f(x, y));
        for (a, b) in [(&mut self.bo, &o.bo), (&mut self.gamma, &o.gamma), (&mut self.beta, &o.beta)] {
            a.iter_mut().zip(b).for_each(|(x, y)| f(x, y));
        }
        self.bf.iter_mut().zip(&o.bf).for_each(|(x, y)| f(x, y));
    }
}

impl<T: Real, const D: usize, const E: usize, const Z: usize> Weights<T, D, E, Z> {
    fn of_step(l: NaLayout, p: &[f64], sh: &Shared<D, E, Z>) -> Self {
        let o = l.offsets();
        let mut w = Self::filled(l.h, sh.pi.len(), T::ZERO);
        let mut f = Acc::<D, E, Z>::filled(l.h, 0, 0.0);
        f.pi.clone_from(&sh.pi);
        f.m.clone_from(&sh.m);
        f.vt.clone_from(&sh.vt);
        for i in 0..E {
            for j in 0..E {
                f.wo[i][j] = p[o[7] + i * E + j];
            }
            (f.bo[i], f.gamma[i], f.beta[i]) = (p[o[8] + i], p[o[9] + i], p[o[10] + i]);
        }
        for i in 0..D {
            for j in 0..E {
                f.wf[i][j] = p[o[11] + i * E + j];
            }
            f.bf[i] = p[o[12] + i];
        }
        w.zip_with(&f, |x, y| *x = T::of(*y));
        w
    }
}

/// Forward (and backward when `grad` is given: the gradient of `scale`·Σ squared errors) of a
/// chunk of lane blocks; returns Σ squared errors. Every (head, query, key) triple costs O(d) vector
/// operations on W sequences at once; the loop runs query-outer so the per-lane dΠ row stays in
/// cache and is summed over the lanes once per query and chunk.
#[inline(always)]
pub(crate) fn chunk_pass<T: Real, const W: usize, const D: usize, const E: usize, const Z: usize, const FMA: bool>(
    hn: usize,
    wt: &Weights<T, D, E, Z>,
    blocks: &[Block<T, W, D, Z>],
    n: usize,
    grad: Option<(&mut Acc<D, E, Z>, f64)>,
) -> f64 {
    let zero = [T::ZERO; W];
    let mut sc = vec![zero; hn * n];
    let mut y = vec![[zero; Z]; hn];
    let mut dpi = vec![zero; hn * n];
    let (mut acc, scale) = match grad {
        Some((a, s)) => (Some(a), T::of(2.0 * s)),
        None => (None, T::ZERO),
    };
    let mut la = acc.is_some().then(|| HeadParams::<[T; W], D, E, Z>::filled(hn, 0, zero));
    let mut loss = 0.0;
    let inv_e = T::of(1.0 / E as f64);
    let eps = T::of(1e-5);
    for q in 0..n {
        for blk in blocks {
            let zs = &blk.z[..=q];
            let zq = &zs[q];
            // Forward: y_h = Σ_k Π_h[q,k] (z_qᵀ M_h z_k) z_k, att = Σ_h Ṽ_h y_h.
            let mut att = [zero; E];
            for h in 0..hn {
                let mh = &wt.m[h];
                let mut u = [zero; Z];
                for b in 0..Z {
                    for c in 0..Z {
                        fma_s::<T, W, FMA>(&mut u[b], mh[c][b], &zq[c]);
                    }
                }
                let pirow = &wt.pi[(h * n + q) * n..(h * n + q) * n + q + 1];
                let scrow = &mut sc[h * n..h * n + q + 1];
                let mut yy = [zero; Z];
                for ((zk, &pik), sck) in zs.iter().zip(pirow).zip(scrow.iter_mut()) {
                    let mut s = mul_v(&u[0], &zk[0]);
                    for b in 1..Z {
                        fma_v::<T, W, FMA>(&mut s, &u[b], &zk[b]);
                    }
                    *sck = s;
                    let a = lanes!(|i| pik * s[i]);
                    for b in 0..Z {
                        fma_v::<T, W, FMA>(&mut yy[b], &a, &zk[b]);
                    }
                }
                y[h] = yy;
                let v = &wt.vt[h];
                for i in 0..E {
                    for b in 0..Z {
                        fma_s::<T, W, FMA>(&mut att[i], v[i][b], &yy[b]);
                    }
                }
            }
            // fc_out → LayerNorm → read-out, squared error.
            let mut f = [zero; E];
            for i in 0..E {
                f[i] = [wt.bo[i]; W];
                for j in 0..E {
                    fma_s::<T, W, FMA>(&mut f[i], wt.wo[i][j], &att[j]);
                }
            }
            let mut mu = zero;
            f.iter().for_each(|fi| fma_s::<T, W, FMA>(&mut mu, inv_e, fi));
            let mut var = zero;
            for fi in &f {
                let c = lanes!(|k| fi[k] - mu[k]);
                fma_v::<T, W, FMA>(&mut var, &c, &c);
            }
            let rsig = lanes!(|k| T::rsqrt(var[k] * inv_e + eps));
            let mut xh = [zero; E];
            let mut ln = [zero; E];
            for i in 0..E {
                xh[i] = lanes!(|k| (f[i][k] - mu[k]) * rsig[k]);
                ln[i] = lanes!(|k| T::madd::<FMA>(wt.gamma[i], xh[i][k], wt.beta[i]));
            }
            let mut err = [zero; D];
            let mut se = zero;
            for i in 0..D {
                let mut out = [wt.bf[i]; W];
                for j in 0..E {
                    fma_s::<T, W, FMA>(&mut out, wt.wf[i][j], &ln[j]);
                }
                err[i] = lanes!(|k| (out[k] - blk.target[q][i][k]) * blk.mask[k]);
                let e = err[i];
                fma_v::<T, W, FMA>(&mut se, &e, &e);
            }
            loss += hsum(&se);
            let Some(a) = la.as_mut() else { continue };
            // Backward through the read-out, LayerNorm and fc_out.
            let mut gl = [zero; E];
            for i in 0..D {
                let gy = lanes!(|k| scale * err[i][k]);
                add_v(&mut a.bf[i], &gy);
                for j in 0..E {
                    fma_v::<T, W, FMA>(&mut a.wf[i][j], &gy, &ln[j]);
                    fma_s::<T, W, FMA>(&mut gl[j], wt.wf[i][j], &gy);
                }
            }
            let (mut m1, mut m2) = (zero, zero);
            let mut gx = [zero; E];
            for i in 0..E {
                fma_v::<T, W, FMA>(&mut a.gamma[i], &gl[i], &xh[i]);
                add_v(&mut a.beta[i], &gl[i]);
                gx[i] = lanes!(|k| gl[i][k] * wt.gamma[i]);
                fma_s::<T, W, FMA>(&mut m1, inv_e, &gx[i]);
                let gxh = mul_v(&gx[i], &xh[i]);
                fma_s::<T, W, FMA>(&mut m2, inv_e, &gxh);
            }
            let mut gatt = [zero; E];
            for i in 0..E {
                let gf = lanes!(|k| (gx[i][k] - m1[k] - xh[i][k] * m2[k]) * rsig[k]);
                add_v(&mut a.bo[i], &gf);
                for j in 0..E {
                    fma_v::<T, W, FMA>(&mut a.wo[i][j], &gf, &att[j]);
                    fma_s::<T, W, FMA>(&mut gatt[j], wt.wo[i][j], &gf);
                }
            }
            // Backward through the heads: gy_h = Ṽ_hᵀ gatt, dΠ_h[q,k] += (gy_h·z_k)(z_qᵀM_h z_k),
            // dM_h += z_q (Σ_k Π_h[q,k] (gy_h·z_k) z_k)ᵀ.
            for h in 0..hn {
                let v = &wt.vt[h];
                let mut gy = [zero; Z];
                for i in 0..E {
                    for b in 0..Z {
                        fma_s::<T, W, FMA>(&mut gy[b], v[i][b], &gatt[i]);
                        fma_v::<T, W, FMA>(&mut a.vt[h][i][b], &gatt[i], &y[h][b]);
                    }
                }
                let pirow = &wt.pi[(h * n + q) * n..(h * n + q) * n + q + 1];
                let scrow = &sc[h * n..h * n + q + 1];
                let dpirow = &mut dpi[h * n..h * n + q + 1];
                let mut gu = [zero; Z];
                for (((zk, &pik), sck), dk) in zs.iter().zip(pirow).zip(scrow).zip(dpirow.iter_mut()) {
                    let mut g = mul_v(&gy[0], &zk[0]);
                    for b in 1..Z {
                        fma_v::<T, W, FMA>(&mut g, &gy[b], &zk[b]);
                    }
                    fma_v::<T, W, FMA>(dk, &g, sck);
                    let gs = lanes!(|i| pik * g[i]);
                    for b in 0..Z {
                        fma_v::<T, W, FMA>(&mut gu[b], &gs, &zk[b]);
                    }
                }
                for c in 0..Z {
                    for b in 0..Z {
                        fma_v::<T, W, FMA>(&mut a.m[h][c][b], &zq[c], &gu[b]);
                    }
                }
            }
        }
        if let Some(acc) = acc.as_deref_mut() {
            for h in 0..hn {
                for k in 0..=q {
                    acc.pi[(h * n + q) * n + k] += hsum(&dpi[h * n + k]);
                    dpi[h * n + k] = zero;
                }
            }
        }
    }
    if let (Some(acc), Some(a)) = (acc, la) {
        acc.zip_with(&a, |x, y| *x += hsum(y));
    }
    loss
}

/// One chunk of the batch pass ([`chunk_pass`]: W sequences per lane block, f32 or f64) as a
/// [`Multiversion`] body: [`dispatch`] compiles it for AVX-512F (+FMA), AVX2+FMA or plain (no FMA),
/// like the attention kernels, and runs it on the configured path (a path the CPU lacks falls back
/// to plain).
struct ChunkPass<'a, T: Real, const W: usize, const D: usize, const E: usize, const Z: usize> {
    heads: usize,
    wt: &'a Weights<T, D, E, Z>,
    blocks: &'a [Block<T, W, D, Z>],
    n: usize,
    grad: Option<(&'a mut Acc<D, E, Z>, f64)>,
}

impl<T: Real, const W: usize, const D: usize, const E: usize, const Z: usize> Multiversion
    for ChunkPass<'_, T, W, D, E, Z>
{
    type Output = f64;
    #[inline(always)]
    fn run<const FMA: bool>(self) -> f64 {
        chunk_pass::<T, W, D, E, Z, FMA>(self.heads, self.wt, self.blocks, self.n, self.grad)
    }
}

/// The batch-dependent pass over all sequences: lane blocks split across the rayon threads, one
/// (Σ squared errors, gradient sums) per thread.
fn batch_pass<T: Real, const W: usize, const D: usize, const E: usize, const Z: usize>(
    l: NaLayout,
    p: &[f64],
    sh: &Shared<D, E, Z>,
    seqs: &[&[f64]],
    n: usize,
    with_grad: bool,
    path: Path,
    denom: f64,
) -> Vec<(f64, Option<Acc<D, E, Z>>)> {
    let wt = Weights::<T, D, E, Z>::of_step(l, p, sh);
    let blocks = blocks::<T, W, D, Z>(seqs, n);
    // A fixed number of chunks, whatever the thread count (see `crate::REDUCTION_CHUNKS`).
    let chunk = blocks.len().div_ceil(crate::REDUCTION_CHUNKS).max(1);
    blocks
        .par_chunks(chunk)
        .map(|ch| {
            let mut acc = with_grad.then(|| Acc::filled(l.h, l.h * n * n, 0.0));
            let loss = dispatch(
                path,
                ChunkPass { heads: l.h, wt: &wt, blocks: ch, n, grad: acc.as_mut().map(|a| (a, 1.0 / denom)) },
            );
            (loss, acc)
        })
        .collect()
}

fn loss_grad_fixed<const D: usize, const E: usize, const Z: usize>(
    l: NaLayout,
    p: &[f64],
    seqs: &[&[f64]],
    n: usize,
    with_grad: bool,
    path: Path,
    precision: Precision,
) -> (f64, Vec<f64>) {
    let sh = shared::<D, E, Z>(l, p, n);
    let denom = (seqs.len() * n * D) as f64;
    let hn = l.h;
    let parts = match precision {
        Precision::F32 => batch_pass::<f32, 16, D, E, Z>(l, p, &sh, seqs, n, with_grad, path, denom),
        Precision::F64 => batch_pass::<f64, 8, D, E, Z>(l, p, &sh, seqs, n, with_grad, path, denom),
    };
    let loss = parts.iter().map(|x| x.0).sum::<f64>() / denom;
    if !with_grad {
        return (loss, Vec::new());
    }
    let mut a = Acc::<D, E, Z>::filled(hn, hn * n * n, 0.0);
    parts.iter().filter_map(|x| x.1.as_ref()).for_each(|pa| a.zip_with(pa, |x, y| *x += y));
    let o = l.offsets();
    let mut g = vec![0.0; l.len()];
    for i in 0..E {
        for j in 0..E {
            g[o[7] + i * E + j] = a.wo[i][j];
        }
        g[o[8] + i] = a.bo[i];
        g[o[9] + i] = a.gamma[i];
        g[o[10] + i] = a.beta[i];
    }
    for i in 0..D {
        for j in 0..E {
            g[o[11] + i * E + j] = a.wf[i][j];
        }
        g[o[12] + i] = a.bf[i];
    }
    let rs = 1.0 / (E as f64).sqrt();
    for h in 0..hn {
        let qt = reduced::<D, E, Z>(p, o[0], o[3], h);
        let kt = reduced::<D, E, Z>(p, o[1], o[4], h);
        // M = Q̃ᵀK̃/√E: dQ̃ = K̃ dMᵀ/√E, dK̃ = Q̃ dM/√E; reduced → full (both halves, bias).
        for e in 0..E {
            let mut dq = [0.0; Z];
            let mut dk = [0.0; Z];
            for c in 0..Z {
                for b in 0..Z {
                    dq[c] += rs * kt[e][b] * a.m[h][c][b];
                    dk[b] += rs * qt[e][c] * a.m[h][c][b];
                }
            }
            let row = (h * E + e) * E;
            for j in 0..D {
                g[o[0] + row + j] += dq[j];
                g[o[0] + row + D + j] += dq[j];
                g[o[1] + row + j] += dk[j];
                g[o[1] + row + D + j] += dk[j];
                g[o[2] + row + j] += a.vt[h][e][j];
                g[o[2] + row + D + j] += a.vt[h][e][j];
            }
            g[o[3] + h * E + e] += dq[D];
            g[o[4] + h * E + e] += dk[D];
            g[o[5] + h * E + e] += a.vt[h][e][D];
        }
        // Softmax backward, dS = Π ⊙ (dΠ − Σ_k Π dΠ)/√E, then the PE path: the logits are
        // S[q,k] = pq_q·pk_k with pq_t = Q_h p_t + bq, pk_t = K_h p_t + bk.
        let mut dpq = vec![[0.0; E]; n];
        let mut dpk = vec![[0.0; E]; n];
        for q in 0..n {
            let pirow = &sh.pi[(h * n + q) * n..(h * n + q) * n + q + 1];
            let drow = &a.pi[(h * n + q) * n..(h * n + q) * n + q + 1];
            let dot: f64 = pirow.iter().zip(drow).map(|(x, y)| x * y).sum();
            let pqv = sh.pq[h * n + q];
            for k in 0..=q {
                let ds = pirow[k] * (drow[k] - dot) * rs;
                let pkv = sh.pk[h * n + k];
                for i in 0..E {
                    dpq[q][i] += ds * pkv[i];
                    dpk[k][i] += ds * pqv[i];
                }
            }
        }
        for t in 0..n {
            for i in 0..E {
                g[o[3] + h * E + i] += dpq[t][i];
                g[o[4] + h * E + i] += dpk[t][i];
                let (wq, wk) = (o[0] + (h * E + i) * E, o[1] + (h * E + i) * E);
                for j in 0..E {
                    let pe = o[6] + t * E + j;
                    g[wq + j] += dpq[t][i] * p[pe];
                    g[wk + j] += dpk[t][i] * p[pe];
                    g[pe] += dpq[t][i] * p[wq + j] + dpk[t][i] * p[wk + j];
                }
            }
        }
    }
    (loss, g)
}

/// MSE (over sequences, positions, coordinates) and, with `with_grad`, its gradient, in f64 on the
/// fastest code path this CPU has.
pub fn loss_grad(l: NaLayout, p: &[f64], seqs: &[&[f64]], n: usize, with_grad: bool) -> (f64, Vec<f64>) {
    loss_grad_on(Path::best(), Precision::F64, l, p, seqs, n, with_grad)
}

/// [`loss_grad`] on an explicit code path and precision (tests compare them; the vector paths use
/// FMA, the portable path does not).
pub fn loss_grad_on(
    path: Path,
    precision: Precision,
    l: NaLayout,
    p: &[f64],
    seqs: &[&[f64]],
    n: usize,
    with_grad: bool,
) -> (f64, Vec<f64>) {
    match l.d {
        1 => loss_grad_fixed::<1, 2, 2>(l, p, seqs, n, with_grad, path, precision),
        2 => loss_grad_fixed::<2, 4, 3>(l, p, seqs, n, with_grad, path, precision),
        3 => loss_grad_fixed::<3, 6, 4>(l, p, seqs, n, with_grad, path, precision),
        4 => loss_grad_fixed::<4, 8, 5>(l, p, seqs, n, with_grad, path, precision),
        5 => loss_grad_fixed::<5, 10, 6>(l, p, seqs, n, with_grad, path, precision),
        6 => loss_grad_fixed::<6, 12, 7>(l, p, seqs, n, with_grad, path, precision),
        7 => loss_grad_fixed::<7, 14, 8>(l, p, seqs, n, with_grad, path, precision),
        _ => loss_grad_fixed::<8, 16, 9>(l, p, seqs, n, with_grad, path, precision),
    }
}

/// Result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NonAugOutcome {
    /// The config.
    pub config: NonAugConfig,
    /// Final parameters.
    pub params: Vec<f64>,
    /// Test MSE at init and after every epoch.
    pub curve: Vec<CurvePoint>,
    /// Final test MSE.
    pub test_mse: f64,
    /// The final positional softmax Π_h at the last query (H rows of n weights).
    pub pe_last_row: Vec<Vec<f64>>,
    /// Head-averaged fraction of the last query's PE mass on offsets 0–1 (keys n−1, n−2).
    pub pe_mass_offsets01: f64,
    /// Wall time, seconds.
    pub wall_s: f64,
}

/// Trains the non-augmented model.
pub fn train_nonaug(cfg: &NonAugConfig) -> NonAugOutcome {
    let t0 = std::time::Instant::now();
    let l = NaLayout { d: cfg.d, h: cfg.heads };
    let mut p = init_params(l, attnlab_core::rng::child_seed(cfg.seed, 0));
    let curve = fit(&mut p, cfg.schedule(), |p, seqs, with_grad| {
        loss_grad_on(Path::best(), cfg.precision, l, p, seqs, cfg.n, with_grad)
    });
    let test_mse = curve.last().map_or(f64::NAN, |c| c.test);
    let pe_last_row = pe_last_rows(l, &p, cfg.n);
    let pe_mass_offsets01 = pe_last_row.iter().map(|r| r[cfg.n - 1] + r[cfg.n - 2]).sum::<f64>() / cfg.heads as f64;
    NonAugOutcome {
        config: *cfg,
        params: p,
        curve,
        test_mse,
        pe_last_row,
        pe_mass_offsets01,
        wall_s: t0.elapsed().as_secs_f64(),
    }
}

/// Π_h[n−1, ·] for every head.
pub fn pe_last_rows(l: NaLayout, p: &[f64], n: usize) -> Vec<Vec<f64>> {
    let pi = match l.d {
        1 => shared::<1, 2, 2>(l, p, n).pi,
        2 => shared::<2, 4, 3>(l, p, n).pi,
        3 => shared::<3, 6, 4>(l, p, n).pi,
        4 => shared::<4, 8, 5>(l, p, n).pi,
        5 => shared::<5, 10, 6>(l, p, n).pi,
        6 => shared::<6, 12, 7>(l, p, n).pi,
        7 => shared::<7, 14, 8>(l, p, n).pi,
        _ => shared::<8, 16, 9>(l, p, n).pi,
    };
    (0..l.h).map(|h| pi[(h * n + n - 1) * n..(h * n + n) * n].to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augmented::haar_dataset;

    #[test]
    fn gradient_matches_finite_differences_and_is_finite() {
        let l = NaLayout { d: 2, h: 3 };
        let mut p = init_params(l, 3);
        // scale the PE down so the softmax is not saturated (a sharper finite-difference check)
        let o = l.offsets();
        p[o[6]..o[7]].iter_mut().for_each(|v| *v *= 0.5);
        let data = haar_dataset(2, 5, 3, 4);
        let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        let (_, g) = loss_grad(l, &p, &refs, 5, true);
        let eps = 1e-6;
        for i in 0..l.len() {
            // PE rows ≥ n get no gradient (unused positions)
            let mut a = p.clone();
            let mut b = p.clone();
            a[i] += eps;
            b[i] -= eps;
            let fd = (loss_grad(l, &a, &refs, 5, false).0 - loss_grad(l, &b, &refs, 5, false).0) / (2.0 * eps);
            assert!(g[i].is_finite());
            assert!((fd - g[i]).abs() < 1e-6 * (1.0 + g[i].abs()), "param {i}: fd {fd} vs {}", g[i]);
        }
    }

    #[test]
    fn outcomes_survive_a_json_round_trip() {
        // The figure cache stores outcomes as JSON: a NaN would come back as null and make every
        // cached record unreadable.
        let mut na = NonAugConfig::reference(3);
        (na.d, na.n, na.heads, na.train_seqs, na.test_seqs, na.batch, na.epochs) = (2, 4, 2, 16, 8, 8, 2);
        let o = train_nonaug(&na);
        assert_eq!(serde_json::from_str::<NonAugOutcome>(&serde_json::to_string(&o).unwrap_or_default()).ok(), Some(o));
    }

    #[test]
    fn configs_name_the_bad_field() {
        let field = |r: Result<NonAugConfig, IcarError>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(NonAugConfig::new(5, 50, 64, 1 << 14, 1 << 10, 1024, 200, 1e-2, 0).is_ok());
        assert!(field(NonAugConfig::new(9, 50, 64, 1 << 14, 1 << 10, 1024, 200, 1e-2, 0)).contains("`d`"));
        assert!(field(NonAugConfig::new(5, 101, 64, 1 << 14, 1 << 10, 1024, 200, 1e-2, 0)).contains("`n`"));
        assert!(field(NonAugConfig::new(5, 50, 0, 1 << 14, 1 << 10, 1024, 200, 1e-2, 0)).contains("`heads`"));
        assert!(field(NonAugConfig::new(5, 50, 64, 100, 1 << 10, 1024, 200, 1e-2, 0)).contains("`batch`"));
        let aug =
            |r: Result<crate::augmented::AugConfig, IcarError>| r.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(crate::augmented::AugConfig::new(5, 50, 1 << 14, 1 << 10, 1024, 200, 1e-2, 0).is_ok());
        assert!(aug(crate::augmented::AugConfig::new(5, 1, 1 << 14, 1 << 10, 1024, 200, 1e-2, 0)).contains("`n`"));
        assert!(aug(crate::augmented::AugConfig::new(5, 50, 1 << 14, 1 << 10, 1024, 200, 0.0, 0)).contains("`lr`"));
    }

    #[test]
    fn code_paths_and_precisions_agree() {
        // 19 sequences: neither a multiple of 8 nor of 16, so the last lane block is padded.
        let (d, n) = (3, 7);
        let l = NaLayout { d, h: 3 };
        let p = init_params(l, 11);
        let data = haar_dataset(d, n, 19, 5);
        let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        let (l0, g0) = loss_grad_on(Path::Portable, Precision::F64, l, &p, &refs, n, true);
        let gmax = g0.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let dist = |g: &[f64]| g.iter().zip(&g0).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / gmax;
        for path in [Path::Avx2, Path::Avx512].into_iter().filter(|p| p.available()) {
            let (l1, g1) = loss_grad_on(path, Precision::F64, l, &p, &refs, n, true);
            assert!((l1 - l0).abs() < 1e-12 * l0, "{path:?}: {l1} vs {l0}");
            assert!(dist(&g1) < 1e-12, "{path:?}: gradient off by {}", dist(&g1));
        }
        for path in [Path::Portable, Path::Avx2, Path::Avx512].into_iter().filter(|p| p.available()) {
            let (l1, g1) = loss_grad_on(path, Precision::F32, l, &p, &refs, n, true);
            assert!((l1 - l0).abs() < 1e-5 * l0, "{path:?} f32: {l1} vs {l0}");
            assert!(dist(&g1) < 1e-4, "{path:?} f32: gradient off by {}", dist(&g1));
            assert!(g1.iter().all(|x| x.is_finite()));
        }
        // the padding lanes contribute nothing: the same loss from the sequences one at a time
        let single: f64 =
            refs.iter().map(|s| loss_grad_on(Path::Portable, Precision::F64, l, &p, &[*s], n, false).0).sum::<f64>()
                / refs.len() as f64;
        assert!((single - l0).abs() < 1e-12 * l0, "{single} vs {l0}");
    }

    #[test]
    fn forward_matches_the_definition() {
        // Direct evaluation of spec §2b with full Q, K, V on x = (s, s), per head and pair.
        let (d, h, n) = (2usize, 2usize, 4usize);
        let l = NaLayout { d, h };
        let p = init_params(l, 7);
        let o = l.offsets();
        let e = 2 * d;
        let data = haar_dataset(d, n, 1, 8);
        let s = &data[0];
        let lin = |w: usize, b: usize, hh: usize, x: &[f64]| -> Vec<f64> {
            (0..e)
                .map(|i| p[b + hh * e + i] + (0..e).map(|j| p[w + (hh * e + i) * e + j] * x[j]).sum::<f64>())
                .collect()
        };
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let rs = 1.0 / (e as f64).sqrt();
        let mut loss = 0.0;
        for q in 0..n {
            let xq: Vec<f64> = [&s[q * d..q * d + d], &s[q * d..q * d + d]].concat();
            let pq = &p[o[6] + q * e..o[6] + (q + 1) * e];
            let mut att = vec![0.0; e];
            for hh in 0..h {
                let logits: Vec<f64> = (0..=q)
                    .map(|k| {
                        dot(&lin(o[0], o[3], hh, pq), &lin(o[1], o[4], hh, &p[o[6] + k * e..o[6] + (k + 1) * e])) * rs
                    })
                    .collect();
                let mx = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = logits.iter().map(|v| (v - mx).exp()).sum();
                for k in 0..=q {
                    let xk: Vec<f64> = [&s[k * d..k * d + d], &s[k * d..k * d + d]].concat();
                    let a = dot(&lin(o[0], o[3], hh, &xq), &lin(o[1], o[4], hh, &xk)) * rs * (logits[k] - mx).exp() / z;
                    let v = lin(o[2], o[5], hh, &xk);
                    att.iter_mut().zip(&v).for_each(|(t, vv)| *t += a * vv);
                }
            }
            let f: Vec<f64> =
                (0..e).map(|i| p[o[8] + i] + (0..e).map(|j| p[o[7] + i * e + j] * att[j]).sum::<f64>()).collect();
            let mu = f.iter().sum::<f64>() / e as f64;
            let var = f.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / e as f64;
            let ln: Vec<f64> = (0..e).map(|i| p[o[9] + i] * (f[i] - mu) / (var + 1e-5).sqrt() + p[o[10] + i]).collect();
            for i in 0..d {
                let y = p[o[12] + i] + (0..e).map(|j| p[o[11] + i * e + j] * ln[j]).sum::<f64>();
                loss += (y - s[(q + 1) * d + i]).powi(2);
            }
        }
        let fast = loss_grad(l, &p, &[s.as_slice()], n, false).0 * (n * d) as f64;
        assert!((fast - loss).abs() < 1e-10 * loss.max(1.0), "{fast} vs {loss}");
    }
}
