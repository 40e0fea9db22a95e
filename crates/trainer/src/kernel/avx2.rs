//! AVX2+FMA intrinsics for the fused causal attention (x86-64, head widths 4, 8, 16, 32): the same
//! math as the portable rows in `kernel.rs`, eight keys per vector.
//!
//! Layout: K, V (and the accumulated dK, dV) are packed into tiles of eight keys, each tile a
//! contiguous d × 8 block (`[tile][channel][lane]`), zero-padded past the last key. A query's scores
//! against one tile are d FMAs with the query's channels broadcast; its output / dq are d vector
//! accumulators summed across lanes once per query and key block.
//!
//! Keys are processed in blocks (outer loop) and the queries that see a block in the inner loop,
//! so the block's K, V, dK, dV tiles stay in L1 while every query passes over them. The forward pass
//! carries the online-softmax state (running max, sum, unnormalised output) per query across blocks;
//! the backward pass needs no such state since P_{ni} = e^{s_{ni} − ℓ_n} comes from the stored ℓ_n.

use std::arch::x86_64::*;

use super::{Dims, EXP_LN2_HI, EXP_LN2_LO, EXP_LOG2E, EXP_MAGIC};

/// Keys per vector.
const W: usize = 8;

/// Head widths with an intrinsics path.
pub(super) fn supported(d: usize) -> bool {
    matches!(d, 4 | 8 | 16 | 32)
}

/// Keys per block: 2048/d keys, i.e. 8 KiB per packed tensor, so the four of the backward pass fit L1.
fn block_keys(d: usize) -> usize {
    (2048 / d).max(W) / W * W
}

/// Per-thread scratch: vectors (packed K, V, dK, dV, per-tile scores) and floats (per-query
/// state), reused across rows and steps.
#[derive(Default)]
pub(super) struct Scratch {
    vecs: Vec<__m256>,
    floats: Vec<f32>,
}

const ZERO: __m256 = unsafe { std::mem::transmute::<[f32; W], __m256>([0.0; W]) };

impl Scratch {
    /// `vecs` vectors and `floats` floats of scratch (contents unspecified).
    fn get(&mut self, vecs: usize, floats: usize) -> (&mut [__m256], &mut [f32]) {
        if self.vecs.len() < vecs {
            self.vecs.resize(vecs, ZERO);
        }
        if self.floats.len() < floats {
            self.floats.resize(floats, 0.0);
        }
        (&mut self.vecs[..vecs], &mut self.floats[..floats])
    }
}

/// x (len × D, row-major) → tiles of eight keys (`out[t·D + c]` lane l = x[(8t + l)·D + c]), zero
/// past `len`.
#[inline(always)]
fn pack<const D: usize>(x: &[f32], len: usize, out: &mut [__m256]) {
    for (t, tile) in out.chunks_exact_mut(D).enumerate() {
        for c in 0..D {
            let mut lanes = [0f32; W];
            for l in 0..W.min(len.saturating_sub(t * W)) {
                lanes[l] = x[(t * W + l) * D + c];
            }
            // SAFETY: [f32; 8] and __m256 have the same size and every bit pattern is valid.
            tile[c] = unsafe { std::mem::transmute::<[f32; W], __m256>(lanes) };
        }
    }
}

/// Inverse of [`pack`] for the first `len` keys.
#[inline(always)]
fn unpack<const D: usize>(tiles: &[__m256], len: usize, x: &mut [f32]) {
    for (t, tile) in tiles.chunks_exact(D).enumerate() {
        for c in 0..D {
            // SAFETY: as in `pack`.
            let lanes = unsafe { std::mem::transmute::<__m256, [f32; W]>(tile[c]) };
            for l in 0..W.min(len.saturating_sub(t * W)) {
                x[(t * W + l) * D + c] = lanes[l];
            }
        }
    }
}

/// The vector form of `kernel::exp_neg` (same constants and operation order, so the same values).
#[inline(always)]
unsafe fn exp_neg(x: __m256) -> __m256 {
    unsafe {
        let x = _mm256_max_ps(x, _mm256_set1_ps(-87.0));
        let magic = _mm256_set1_ps(EXP_MAGIC);
        let shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(EXP_LOG2E), magic);
        let n = _mm256_sub_ps(shifted, magic);
        let f = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_LO), _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_HI), x));
        let mut p = _mm256_set1_ps(1.0 / 720.0);
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0 / 120.0));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0 / 24.0));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0 / 6.0));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(0.5));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0));
        p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0));
        let n_bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(EXP_MAGIC.to_bits() as i32));
        let two_n = _mm256_slli_epi32::<23>(_mm256_add_epi32(n_bits, _mm256_set1_epi32(127)));
        _mm256_mul_ps(p, _mm256_castsi256_ps(two_n))
    }
}

/// Lanes of the tile starting at key `t0` that lie in lo..=hi (all ones) or not (zero).
#[inline(always)]
unsafe fn lane_mask(t0: usize, lo: usize, hi: usize) -> __m256 {
    unsafe {
        let idx = _mm256_add_epi32(_mm256_set1_epi32(t0 as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        let ge_lo = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(lo as i32 - 1));
        let le_hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(hi as i32 + 1), idx);
        _mm256_castsi256_ps(_mm256_and_si256(ge_lo, le_hi))
    }
}

#[inline(always)]
unsafe fn hsum(x: __m256) -> f32 {
    unsafe {
        let s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
}

#[inline(always)]
unsafe fn hmax(x: __m256) -> f32 {
    unsafe {
        let s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps::<1>(x));
        let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_max_ss(s, _mm_movehdup_ps(s));
        _mm_cvtss_f32(s)
    }
}

/// out[c] ← f(out[c], Σ_lanes acc[c]) for c < D: eight accumulators reduced together (hadd tree)
/// when D is a multiple of 8, one at a time otherwise.
#[inline(always)]
unsafe fn reduce_into<const D: usize>(acc: &[__m256; D], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
    unsafe {
        if D.is_multiple_of(W) {
            for g in 0..D / W {
                let a = &acc[g * W..(g + 1) * W];
                let s0123 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
                let s4567 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
                let lo = _mm256_permute2f128_ps::<0x20>(s0123, s4567);
                let hi = _mm256_permute2f128_ps::<0x31>(s0123, s4567);
                let sums = std::mem::transmute::<__m256, [f32; W]>(_mm256_add_ps(lo, hi));
                for l in 0..W {
                    out[g * W + l] = f(out[g * W + l], sums[l]);
                }
            }
        } else {
            for c in 0..D {
                out[c] = f(out[c], hsum(acc[c]));
            }
        }
    }
}

/// Forward pass of one batch row (see `kernel::fwd_row`).
#[inline(always)]
unsafe fn fwd_row<const D: usize>(q: &[f32], k: &[f32], v: &[f32], dims: Dims, o: &mut [f32], lse: &mut [f32], scratch: &mut Scratch) {
    let len = dims.len;
    let tiles = len.div_ceil(W);
    let (vecs, floats) = scratch.get(2 * tiles * D + tiles, 2 * len);
    let (kt, rest) = vecs.split_at_mut(tiles * D);
    let (vt, s) = rest.split_at_mut(tiles * D);
    let (run_max, run_sum) = floats.split_at_mut(len);
    pack::<D>(&k[..len * D], len, kt);
    pack::<D>(&v[..len * D], len, vt);
    run_max.fill(f32::NEG_INFINITY);
    run_sum.fill(0.0);
    o[..len * D].fill(0.0);
    let bk = block_keys(D);
    unsafe {
        for b0 in (0..len).step_by(bk) {
            let b1 = (b0 + bk).min(len) - 1;
            let last_query = b1.saturating_add(dims.memory).min(len - 1);
            for n in b0..=last_query {
                let lo = n.saturating_sub(dims.memory).max(b0);
                let hi = n.min(b1);
                let (t_lo, t_hi) = (lo / W, hi / W);
                let edge = |t: usize| t * W < lo || t * W + W - 1 > hi;
                let mut bq = [ZERO; D];
                for c in 0..D {
                    bq[c] = _mm256_set1_ps(q[n * D + c] * dims.scale);
                }
                // s_{ni} = scale·⟨q_n, k_i⟩ (−∞ outside the window) and its maximum.
                let mut vmax = _mm256_set1_ps(f32::NEG_INFINITY);
                let ks = kt[t_lo * D..(t_hi + 1) * D].chunks_exact(D);
                for ((t, kp), st) in (t_lo..).zip(ks).zip(&mut s[t_lo..=t_hi]) {
                    let mut acc = _mm256_mul_ps(bq[0], kp[0]);
                    for c in 1..D {
                        acc = _mm256_fmadd_ps(bq[c], kp[c], acc);
                    }
                    if edge(t) {
                        acc = _mm256_blendv_ps(_mm256_set1_ps(f32::NEG_INFINITY), acc, lane_mask(t * W, lo, hi));
                    }
                    *st = acc;
                    vmax = _mm256_max_ps(vmax, acc);
                }
                let m_old = run_max[n];
                let m_new = m_old.max(hmax(vmax));
                let shift = _mm256_set1_ps(m_new);
                // e^{s − m}, their sum and Σ e^{s − m} v_i.
                let mut vsum = ZERO;
                let mut oa = [ZERO; D];
                let vs = vt[t_lo * D..(t_hi + 1) * D].chunks_exact(D);
                for ((t, vp), st) in (t_lo..).zip(vs).zip(&s[t_lo..=t_hi]) {
                    let mut e = exp_neg(_mm256_sub_ps(*st, shift));
                    if edge(t) {
                        e = _mm256_and_ps(e, lane_mask(t * W, lo, hi));
                    }
                    vsum = _mm256_add_ps(vsum, e);
                    for c in 0..D {
                        oa[c] = _mm256_fmadd_ps(e, vp[c], oa[c]);
                    }
                }
                // Rescale the earlier blocks' sum and output to the new maximum (α = 0 on the first).
                let alpha = if m_old == f32::NEG_INFINITY { 0.0 } else { super::exp_neg::<true>(m_old - m_new) };
                run_max[n] = m_new;
                run_sum[n] = run_sum[n].mul_add(alpha, hsum(vsum));
                reduce_into::<D>(&oa, &mut o[n * D..(n + 1) * D], |old, new| old.mul_add(alpha, new));
            }
        }
    }
    for n in 0..len {
        let inv = 1.0 / run_sum[n];
        for x in &mut o[n * D..(n + 1) * D] {
            *x *= inv;
        }
        lse[n] = run_max[n] + run_sum[n].ln();
    }
}

/// Backward pass of one batch row (see `kernel::bwd_row`).
#[inline(always)]
unsafe fn bwd_row<const D: usize>(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    lse: &[f32],
    dout: &[f32],
    dims: Dims,
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
    scratch: &mut Scratch,
) {
    let len = dims.len;
    let tiles = len.div_ceil(W);
    let (vecs, delta) = scratch.get(4 * tiles * D + 2 * tiles, len);
    let (kt, rest) = vecs.split_at_mut(tiles * D);
    let (vt, rest) = rest.split_at_mut(tiles * D);
    let (dkt, rest) = rest.split_at_mut(tiles * D);
    let (dvt, rest) = rest.split_at_mut(tiles * D);
    let (p, ds) = rest.split_at_mut(tiles);
    pack::<D>(&k[..len * D], len, kt);
    pack::<D>(&v[..len * D], len, vt);
    dkt.fill(ZERO);
    dvt.fill(ZERO);
    dq[..len * D].fill(0.0);
    for n in 0..len {
        let (don, on) = (&dout[n * D..(n + 1) * D], &o[n * D..(n + 1) * D]);
        delta[n] = don.iter().zip(on).map(|(a, b)| a * b).sum();
    }
    let bk = block_keys(D);
    unsafe {
        for b0 in (0..len).step_by(bk) {
            let b1 = (b0 + bk).min(len) - 1;
            let last_query = b1.saturating_add(dims.memory).min(len - 1);
            for n in b0..=last_query {
                let lo = n.saturating_sub(dims.memory).max(b0);
                let hi = n.min(b1);
                let (t_lo, t_hi) = (lo / W, hi / W);
                let edge = |t: usize| t * W < lo || t * W + W - 1 > hi;
                let tr = t_lo * D..(t_hi + 1) * D;
                // P_{ni} = e^{s_{ni} − ℓ_n} (zero outside the window).
                let mut bq = [ZERO; D];
                for c in 0..D {
                    bq[c] = _mm256_set1_ps(q[n * D + c] * dims.scale);
                }
                let ell = _mm256_set1_ps(lse[n]);
                for ((t, kp), pt) in (t_lo..).zip(kt[tr.clone()].chunks_exact(D)).zip(&mut p[t_lo..=t_hi]) {
                    let mut acc = _mm256_mul_ps(bq[0], kp[0]);
                    for c in 1..D {
                        acc = _mm256_fmadd_ps(bq[c], kp[c], acc);
                    }
                    let mut e = exp_neg(_mm256_sub_ps(acc, ell));
                    if edge(t) {
                        e = _mm256_and_ps(e, lane_mask(t * W, lo, hi));
                    }
                    *pt = e;
                }
                // dP_{ni} = ⟨do_n, v_i⟩, dS_{ni} = P_{ni}(dP_{ni} − Δ_n); dv_i += P_{ni} do_n.
                let mut bdo = [ZERO; D];
                for c in 0..D {
                    bdo[c] = _mm256_set1_ps(dout[n * D + c]);
                }
                let bdelta = _mm256_set1_ps(delta[n]);
                let vs = vt[tr.clone()].chunks_exact(D).zip(dvt[tr.clone()].chunks_exact_mut(D));
                for ((vp, dvp), (pt, dst)) in vs.zip(p[t_lo..=t_hi].iter().zip(&mut ds[t_lo..=t_hi])) {
                    let mut acc = _mm256_mul_ps(bdo[0], vp[0]);
                    for c in 1..D {
                        acc = _mm256_fmadd_ps(bdo[c], vp[c], acc);
                    }
                    *dst = _mm256_mul_ps(*pt, _mm256_sub_ps(acc, bdelta));
                    for c in 0..D {
                        dvp[c] = _mm256_fmadd_ps(*pt, bdo[c], dvp[c]);
                    }
                }
                // dq_n += Σ_i dS_{ni} k_i (scaled at the end).
                let mut dqa = [ZERO; D];
                for (kp, dst) in kt[tr.clone()].chunks_exact(D).zip(&ds[t_lo..=t_hi]) {
                    for c in 0..D {
                        dqa[c] = _mm256_fmadd_ps(*dst, kp[c], dqa[c]);
                    }
                }
                reduce_into::<D>(&dqa, &mut dq[n * D..(n + 1) * D], |old, new| old + new);
                // dk_i += scale·dS_{ni} q_n (bq already carries the scale).
                for (dkp, dst) in dkt[tr].chunks_exact_mut(D).zip(&ds[t_lo..=t_hi]) {
                    for c in 0..D {
                        dkp[c] = _mm256_fmadd_ps(bq[c], *dst, dkp[c]);
                    }
                }
            }
        }
    }
    for x in &mut dq[..len * D] {
        *x *= dims.scale;
    }
    unpack::<D>(dkt, len, dk);
    unpack::<D>(dvt, len, dv);
}

/// AVX2 forward row for a supported width. Caller: AVX2 and FMA present, `supported(dims.d)`.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn forward_row(q: &[f32], k: &[f32], v: &[f32], dims: Dims, o: &mut [f32], lse: &mut [f32], scratch: &mut Scratch) {
    unsafe {
        match dims.d {
            4 => fwd_row::<4>(q, k, v, dims, o, lse, scratch),
            8 => fwd_row::<8>(q, k, v, dims, o, lse, scratch),
            16 => fwd_row::<16>(q, k, v, dims, o, lse, scratch),
            32 => fwd_row::<32>(q, k, v, dims, o, lse, scratch),
            _ => unreachable!("unsupported width {}", dims.d),
        }
    }
}

/// AVX2 backward row for a supported width. Caller: as for [`forward_row`].
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn backward_row(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    o: &[f32],
    lse: &[f32],
    dout: &[f32],
    dims: Dims,
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
    scratch: &mut Scratch,
) {
    unsafe {
        match dims.d {
            4 => bwd_row::<4>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
            8 => bwd_row::<8>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
            16 => bwd_row::<16>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
            32 => bwd_row::<32>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
            _ => unreachable!("unsupported width {}", dims.d),
        }
    }
}
