//! x86-64 intrinsics for the fused causal attention (head widths 4, 8, 16, 32): the same math as the
//! portable rows in `attention.rs`, written once over a small vector trait [`Simd`] with two
//! implementations, AVX2+FMA (8 keys per vector) and AVX-512F (16 keys per vector).
//!
//! Layout: K, V (and the accumulated dK, dV) are packed into tiles of W keys (W the vector width),
//! each tile d vectors (`[tile][channel]`, lane l = key W·t + l), zero-padded past the last key. A
//! query's scores against one tile are d FMAs with the query's channels broadcast; its output / dq
//! are d vector accumulators summed across lanes once per query and key block.
//!
//! Keys are processed in blocks (outer loop) and the queries that see a block in the inner loop,
//! so the block's K, V, dK, dV tiles stay in L1 while every query passes over them. The forward pass
//! carries the online-softmax state (running max, sum, unnormalised output) per query across blocks;
//! the backward pass needs no such state since P_{ni} = e^{s_{ni} − ℓ_n} comes from the stored ℓ_n.

use std::arch::x86_64::*;

use super::{Dims, EXP_LN2_HI, EXP_LN2_LO, EXP_LOG2E, EXP_MAGIC};

/// Head widths with an intrinsics path.
pub(super) fn supported(d: usize) -> bool {
    matches!(d, 4 | 8 | 16 | 32)
}

/// Keys per block: 2048/d keys, i.e. 8 KiB per packed tensor, so the four of the backward pass fit
/// L1; `scale` 2 for the forward pass, which streams two (measured: 2048/d is best for the
/// backward, 4096/d for the forward at d = 8).
fn block_keys(d: usize, w: usize, scale: usize) -> usize {
    (scale * 2048 / d).max(w) / w * w
}

/// The vector operations the kernel needs. Every method is `unsafe`: the caller runs with the
/// implementation's target features enabled.
pub(super) trait Simd {
    /// Keys (f32 lanes) per vector.
    const W: usize;
    /// 32 vector registers (the backward pass then fuses its four passes over the keys into two
    /// for widths up to 8; with 16 the broadcast query and output gradient would spill).
    const MANY_REGISTERS: bool;
    /// A vector of W floats.
    type V: Copy;
    /// A lane mask.
    type M: Copy;
    unsafe fn zero() -> Self::V;
    unsafe fn splat(x: f32) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn sub(a: Self::V, b: Self::V) -> Self::V;
    unsafe fn mul(a: Self::V, b: Self::V) -> Self::V;
    /// a·b + c (fused).
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// c − a·b (fused).
    unsafe fn fnmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn max(a: Self::V, b: Self::V) -> Self::V;
    /// 2^n for the float `shifted` = n + 1.5·2^23 (n in its low mantissa bits).
    unsafe fn pow2_of_shifted(shifted: Self::V) -> Self::V;
    /// Lanes of the tile starting at key `t0` that lie in lo..=hi.
    unsafe fn lane_mask(t0: usize, lo: usize, hi: usize) -> Self::M;
    /// `v` where the mask is set, `other` elsewhere.
    unsafe fn select(m: Self::M, v: Self::V, other: Self::V) -> Self::V;
    /// `v` where the mask is set, 0 elsewhere.
    unsafe fn keep(m: Self::M, v: Self::V) -> Self::V;
    unsafe fn hsum(v: Self::V) -> f32;
    unsafe fn hmax(v: Self::V) -> f32;
    /// The first W floats of `x`.
    unsafe fn load(x: &[f32]) -> Self::V;
    /// Into the first W floats of `x`.
    unsafe fn store(v: Self::V, x: &mut [f32]);

    /// out[c] ← f(out[c], Σ_lanes acc[c]) for c < D.
    #[inline(always)]
    unsafe fn reduce_into<const D: usize>(acc: &[Self::V; D], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
        for c in 0..D {
            out[c] = f(out[c], unsafe { Self::hsum(acc[c]) });
        }
    }

    /// The vector form of `attention::exp_neg` (same constants and operation order, so the same values).
    #[inline(always)]
    unsafe fn exp_neg(x: Self::V) -> Self::V {
        unsafe {
            let x = Self::max(x, Self::splat(-87.0));
            let magic = Self::splat(EXP_MAGIC);
            let shifted = Self::fmadd(x, Self::splat(EXP_LOG2E), magic);
            let n = Self::sub(shifted, magic);
            let f = Self::fnmadd(n, Self::splat(EXP_LN2_LO), Self::fnmadd(n, Self::splat(EXP_LN2_HI), x));
            let mut p = Self::splat(1.0 / 720.0);
            p = Self::fmadd(p, f, Self::splat(1.0 / 120.0));
            p = Self::fmadd(p, f, Self::splat(1.0 / 24.0));
            p = Self::fmadd(p, f, Self::splat(1.0 / 6.0));
            p = Self::fmadd(p, f, Self::splat(0.5));
            p = Self::fmadd(p, f, Self::splat(1.0));
            p = Self::fmadd(p, f, Self::splat(1.0));
            Self::mul(p, Self::pow2_of_shifted(shifted))
        }
    }
}

/// AVX2 + FMA: 8 keys per vector.
pub(super) struct Avx2;

impl Simd for Avx2 {
    const W: usize = 8;
    const MANY_REGISTERS: bool = false;
    type V = __m256;
    type M = __m256;
    #[inline(always)]
    unsafe fn zero() -> __m256 {
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m256 {
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn fnmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fnmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn max(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn pow2_of_shifted(shifted: __m256) -> __m256 {
        unsafe {
            let n_bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(EXP_MAGIC.to_bits() as i32));
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n_bits, _mm256_set1_epi32(127))))
        }
    }
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
    unsafe fn select(m: __m256, v: __m256, other: __m256) -> __m256 {
        unsafe { _mm256_blendv_ps(other, v, m) }
    }
    #[inline(always)]
    unsafe fn keep(m: __m256, v: __m256) -> __m256 {
        unsafe { _mm256_and_ps(m, v) }
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
    #[inline(always)]
    unsafe fn load(x: &[f32]) -> __m256 {
        assert!(x.len() >= 8);
        unsafe { _mm256_loadu_ps(x.as_ptr()) }
    }
    #[inline(always)]
    unsafe fn store(v: __m256, x: &mut [f32]) {
        assert!(x.len() >= 8);
        unsafe { _mm256_storeu_ps(x.as_mut_ptr(), v) }
    }

    /// Eight accumulators reduced together (hadd tree) when D is a multiple of 8.
    #[inline(always)]
    unsafe fn reduce_into<const D: usize>(acc: &[__m256; D], out: &mut [f32], f: impl Fn(f32, f32) -> f32) {
        unsafe {
            if D.is_multiple_of(8) {
                for g in 0..D / 8 {
                    let a = &acc[g * 8..(g + 1) * 8];
                    let s0123 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
                    let s4567 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
                    let lo = _mm256_permute2f128_ps::<0x20>(s0123, s4567);
                    let hi = _mm256_permute2f128_ps::<0x31>(s0123, s4567);
                    let sums = std::mem::transmute::<__m256, [f32; 8]>(_mm256_add_ps(lo, hi));
                    for l in 0..8 {
                        out[g * 8 + l] = f(out[g * 8 + l], sums[l]);
                    }
                }
            } else {
                for c in 0..D {
                    out[c] = f(out[c], Self::hsum(acc[c]));
                }
            }
        }
    }
}

/// AVX-512F: 16 keys per vector.
pub(super) struct Avx512;

impl Simd for Avx512 {
    const W: usize = 16;
    const MANY_REGISTERS: bool = true;
    type V = __m512;
    type M = __mmask16;
    #[inline(always)]
    unsafe fn zero() -> __m512 {
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn sub(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn mul(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn fnmadd(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fnmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn max(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_max_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn pow2_of_shifted(shifted: __m512) -> __m512 {
        unsafe {
            let n_bits = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(EXP_MAGIC.to_bits() as i32));
            _mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(n_bits, _mm512_set1_epi32(127))))
        }
    }
    #[inline(always)]
    unsafe fn lane_mask(t0: usize, lo: usize, hi: usize) -> __mmask16 {
        unsafe {
            let idx = _mm512_add_epi32(
                _mm512_set1_epi32(t0 as i32),
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            );
            _mm512_cmpge_epi32_mask(idx, _mm512_set1_epi32(lo as i32))
                & _mm512_cmple_epi32_mask(idx, _mm512_set1_epi32(hi as i32))
        }
    }
    #[inline(always)]
    unsafe fn select(m: __mmask16, v: __m512, other: __m512) -> __m512 {
        unsafe { _mm512_mask_blend_ps(m, other, v) }
    }
    #[inline(always)]
    unsafe fn keep(m: __mmask16, v: __m512) -> __m512 {
        unsafe { _mm512_maskz_mov_ps(m, v) }
    }
    #[inline(always)]
    unsafe fn hsum(x: __m512) -> f32 {
        unsafe { _mm512_reduce_add_ps(x) }
    }
    #[inline(always)]
    unsafe fn hmax(x: __m512) -> f32 {
        unsafe { _mm512_reduce_max_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(x: &[f32]) -> __m512 {
        assert!(x.len() >= 16);
        unsafe { _mm512_loadu_ps(x.as_ptr()) }
    }
    #[inline(always)]
    unsafe fn store(v: __m512, x: &mut [f32]) {
        assert!(x.len() >= 16);
        unsafe { _mm512_storeu_ps(x.as_mut_ptr(), v) }
    }
}

/// Per-thread scratch: vectors (packed K, V, dK, dV, per-tile scores) and floats (per-query
/// state and packing lanes), reused across rows and steps.
pub(super) struct Scratch<V> {
    vecs: Vec<V>,
    floats: Vec<f32>,
}

impl<V> Default for Scratch<V> {
    fn default() -> Self {
        Self { vecs: Vec::new(), floats: Vec::new() }
    }
}

impl<V: Copy> Scratch<V> {
    /// `vecs` vectors and `floats` floats of scratch (contents unspecified).
    fn get(&mut self, vecs: usize, floats: usize, zero: V) -> (&mut [V], &mut [f32]) {
        if self.vecs.len() < vecs {
            self.vecs.resize(vecs, zero);
        }
        if self.floats.len() < floats {
            self.floats.resize(floats, 0.0);
        }
        (&mut self.vecs[..vecs], &mut self.floats[..floats])
    }
}

/// x (len × D, row-major) → tiles of W keys (`out[t·D + c]` lane l = x[(W·t + l)·D + c]), zero
/// past `len`.
#[inline(always)]
unsafe fn pack<S: Simd, const D: usize>(x: &[f32], len: usize, out: &mut [S::V]) {
    let mut lanes = [0f32; 16];
    for (t, tile) in out.chunks_exact_mut(D).enumerate() {
        for c in 0..D {
            let n = S::W.min(len.saturating_sub(t * S::W));
            for l in 0..S::W {
                lanes[l] = if l < n { x[(t * S::W + l) * D + c] } else { 0.0 };
            }
            tile[c] = unsafe { S::load(&lanes) };
        }
    }
}

/// Inverse of [`pack`] for the first `len` keys.
#[inline(always)]
unsafe fn unpack<S: Simd, const D: usize>(tiles: &[S::V], len: usize, x: &mut [f32]) {
    let mut lanes = [0f32; 16];
    for (t, tile) in tiles.chunks_exact(D).enumerate() {
        for c in 0..D {
            unsafe { S::store(tile[c], &mut lanes) };
            for l in 0..S::W.min(len.saturating_sub(t * S::W)) {
                x[(t * S::W + l) * D + c] = lanes[l];
            }
        }
    }
}

/// Forward pass of one batch row (see `attention::fwd_row`).
#[inline(always)]
unsafe fn fwd_row<S: Simd, const D: usize>(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dims: Dims,
    o: &mut [f32],
    lse: &mut [f32],
    scratch: &mut Scratch<S::V>,
) {
    let w = S::W;
    let len = dims.len;
    let tiles = len.div_ceil(w);
    let (vecs, floats) = scratch.get(2 * tiles * D + tiles, 2 * len, unsafe { S::zero() });
    let (kt, rest) = vecs.split_at_mut(tiles * D);
    let (vt, s) = rest.split_at_mut(tiles * D);
    let (run_max, run_sum) = floats.split_at_mut(len);
    unsafe {
        pack::<S, D>(&k[..len * D], len, kt);
        pack::<S, D>(&v[..len * D], len, vt);
    }
    run_max.fill(f32::NEG_INFINITY);
    run_sum.fill(0.0);
    o[..len * D].fill(0.0);
    let bk = block_keys(D, w, 2);
    unsafe {
        for b0 in (0..len).step_by(bk) {
            let b1 = (b0 + bk).min(len) - 1;
            let last_query = b1.saturating_add(dims.memory).min(len - 1);
            for n in b0..=last_query {
                let lo = n.saturating_sub(dims.memory).max(b0);
                let hi = n.min(b1);
                let (t_lo, t_hi) = (lo / w, hi / w);
                let edge = |t: usize| t * w < lo || t * w + w - 1 > hi;
                let mut bq = [S::zero(); D];
                for c in 0..D {
                    bq[c] = S::splat(q[n * D + c] * dims.scale);
                }
                // s_{ni} = scale·⟨q_n, k_i⟩ (−∞ outside the window) and its maximum.
                let mut vmax = S::splat(f32::NEG_INFINITY);
                let ks = kt[t_lo * D..(t_hi + 1) * D].chunks_exact(D);
                for ((t, kp), st) in (t_lo..).zip(ks).zip(&mut s[t_lo..=t_hi]) {
                    let mut acc = S::mul(bq[0], kp[0]);
                    for c in 1..D {
                        acc = S::fmadd(bq[c], kp[c], acc);
                    }
                    if edge(t) {
                        acc = S::select(S::lane_mask(t * w, lo, hi), acc, S::splat(f32::NEG_INFINITY));
                    }
                    *st = acc;
                    vmax = S::max(vmax, acc);
                }
                let m_old = run_max[n];
                let m_new = m_old.max(S::hmax(vmax));
                let shift = S::splat(m_new);
                // e^{s − m}, their sum and Σ e^{s − m} v_i.
                let mut vsum = S::zero();
                let mut oa = [S::zero(); D];
                let vs = vt[t_lo * D..(t_hi + 1) * D].chunks_exact(D);
                for ((t, vp), st) in (t_lo..).zip(vs).zip(&s[t_lo..=t_hi]) {
                    let mut e = S::exp_neg(S::sub(*st, shift));
                    if edge(t) {
                        e = S::keep(S::lane_mask(t * w, lo, hi), e);
                    }
                    vsum = S::add(vsum, e);
                    for c in 0..D {
                        oa[c] = S::fmadd(e, vp[c], oa[c]);
                    }
                }
                // Rescale the earlier blocks' sum and output to the new maximum (α = 0 on the first).
                let alpha = if m_old == f32::NEG_INFINITY { 0.0 } else { super::exp_neg::<true>(m_old - m_new) };
                run_max[n] = m_new;
                run_sum[n] = run_sum[n].mul_add(alpha, S::hsum(vsum));
                S::reduce_into::<D>(&oa, &mut o[n * D..(n + 1) * D], |old, new| old.mul_add(alpha, new));
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

/// Backward pass of one batch row (see `attention::bwd_row`).
#[inline(always)]
unsafe fn bwd_row<S: Simd, const D: usize>(
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
    scratch: &mut Scratch<S::V>,
) {
    let w = S::W;
    let len = dims.len;
    let tiles = len.div_ceil(w);
    let (vecs, delta) = scratch.get(4 * tiles * D + 2 * tiles, len, unsafe { S::zero() });
    let (kt, rest) = vecs.split_at_mut(tiles * D);
    let (vt, rest) = rest.split_at_mut(tiles * D);
    let (dkt, rest) = rest.split_at_mut(tiles * D);
    let (dvt, rest) = rest.split_at_mut(tiles * D);
    let (p, ds) = rest.split_at_mut(tiles);
    unsafe {
        pack::<S, D>(&k[..len * D], len, kt);
        pack::<S, D>(&v[..len * D], len, vt);
    }
    let zero = unsafe { S::zero() };
    dkt.fill(zero);
    dvt.fill(zero);
    dq[..len * D].fill(0.0);
    for n in 0..len {
        let (don, on) = (&dout[n * D..(n + 1) * D], &o[n * D..(n + 1) * D]);
        delta[n] = don.iter().zip(on).map(|(a, b)| a * b).sum();
    }
    let bk = block_keys(D, w, 1);
    unsafe {
        for b0 in (0..len).step_by(bk) {
            let b1 = (b0 + bk).min(len) - 1;
            let last_query = b1.saturating_add(dims.memory).min(len - 1);
            for n in b0..=last_query {
                let lo = n.saturating_sub(dims.memory).max(b0);
                let hi = n.min(b1);
                let (t_lo, t_hi) = (lo / w, hi / w);
                let edge = |t: usize| t * w < lo || t * w + w - 1 > hi;
                let tr = t_lo * D..(t_hi + 1) * D;
                let mut bq = [S::zero(); D];
                let mut bdo = [S::zero(); D];
                for c in 0..D {
                    bq[c] = S::splat(q[n * D + c] * dims.scale);
                    bdo[c] = S::splat(dout[n * D + c]);
                }
                let (ell, bdelta) = (S::splat(lse[n]), S::splat(delta[n]));
                let mut dqa = [S::zero(); D];
                if S::MANY_REGISTERS && D <= 8 {
                    // Enough registers for both broadcast queries: two passes over the keys.
                    // dS and dv_i as below, in one pass.
                    let kv = kt[tr.clone()]
                        .chunks_exact(D)
                        .zip(vt[tr.clone()].chunks_exact(D))
                        .zip(dvt[tr.clone()].chunks_exact_mut(D));
                    for ((t, ((kp, vp), dvp)), dst) in (t_lo..).zip(kv).zip(&mut ds[t_lo..=t_hi]) {
                        let mut acc = S::mul(bq[0], kp[0]);
                        for c in 1..D {
                            acc = S::fmadd(bq[c], kp[c], acc);
                        }
                        let mut e = S::exp_neg(S::sub(acc, ell));
                        if edge(t) {
                            e = S::keep(S::lane_mask(t * w, lo, hi), e);
                        }
                        let mut dp = S::mul(bdo[0], vp[0]);
                        for c in 1..D {
                            dp = S::fmadd(bdo[c], vp[c], dp);
                        }
                        *dst = S::mul(e, S::sub(dp, bdelta));
                        for c in 0..D {
                            dvp[c] = S::fmadd(e, bdo[c], dvp[c]);
                        }
                    }
                    // dq_n and dk_i as below, in one pass.
                    for ((kp, dkp), dst) in
                        kt[tr.clone()].chunks_exact(D).zip(dkt[tr].chunks_exact_mut(D)).zip(&ds[t_lo..=t_hi])
                    {
                        for c in 0..D {
                            dqa[c] = S::fmadd(*dst, kp[c], dqa[c]);
                            dkp[c] = S::fmadd(bq[c], *dst, dkp[c]);
                        }
                    }
                } else {
                    // P_{ni} = e^{s_{ni} − ℓ_n} (zero outside the window).
                    for ((t, kp), pt) in (t_lo..).zip(kt[tr.clone()].chunks_exact(D)).zip(&mut p[t_lo..=t_hi]) {
                        let mut acc = S::mul(bq[0], kp[0]);
                        for c in 1..D {
                            acc = S::fmadd(bq[c], kp[c], acc);
                        }
                        let mut e = S::exp_neg(S::sub(acc, ell));
                        if edge(t) {
                            e = S::keep(S::lane_mask(t * w, lo, hi), e);
                        }
                        *pt = e;
                    }
                    // dP_{ni} = ⟨do_n, v_i⟩, dS_{ni} = P_{ni}(dP_{ni} − Δ_n); dv_i += P_{ni} do_n.
                    let vs = vt[tr.clone()].chunks_exact(D).zip(dvt[tr.clone()].chunks_exact_mut(D));
                    for ((vp, dvp), (pt, dst)) in vs.zip(p[t_lo..=t_hi].iter().zip(&mut ds[t_lo..=t_hi])) {
                        let mut acc = S::mul(bdo[0], vp[0]);
                        for c in 1..D {
                            acc = S::fmadd(bdo[c], vp[c], acc);
                        }
                        *dst = S::mul(*pt, S::sub(acc, bdelta));
                        for c in 0..D {
                            dvp[c] = S::fmadd(*pt, bdo[c], dvp[c]);
                        }
                    }
                    // dq_n += Σ_i dS_{ni} k_i (scaled at the end).
                    for (kp, dst) in kt[tr.clone()].chunks_exact(D).zip(&ds[t_lo..=t_hi]) {
                        for c in 0..D {
                            dqa[c] = S::fmadd(*dst, kp[c], dqa[c]);
                        }
                    }
                    // dk_i += scale·dS_{ni} q_n (bq already carries the scale).
                    for (dkp, dst) in dkt[tr].chunks_exact_mut(D).zip(&ds[t_lo..=t_hi]) {
                        for c in 0..D {
                            dkp[c] = S::fmadd(bq[c], *dst, dkp[c]);
                        }
                    }
                }
                S::reduce_into::<D>(&dqa, &mut dq[n * D..(n + 1) * D], |old, new| old + new);
            }
        }
    }
    for x in &mut dq[..len * D] {
        *x *= dims.scale;
    }
    unsafe {
        unpack::<S, D>(dkt, len, dk);
        unpack::<S, D>(dvt, len, dv);
    }
}

macro_rules! entry_points {
    ($simd:ty, $feature:literal, $fwd:ident, $bwd:ident) => {
        /// Forward row for a supported width. Caller: the CPU has the target features, `supported(dims.d)`.
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $fwd(
            q: &[f32],
            k: &[f32],
            v: &[f32],
            dims: Dims,
            o: &mut [f32],
            lse: &mut [f32],
            scratch: &mut Scratch<<$simd as Simd>::V>,
        ) {
            unsafe {
                match dims.d {
                    4 => fwd_row::<$simd, 4>(q, k, v, dims, o, lse, scratch),
                    8 => fwd_row::<$simd, 8>(q, k, v, dims, o, lse, scratch),
                    16 => fwd_row::<$simd, 16>(q, k, v, dims, o, lse, scratch),
                    32 => fwd_row::<$simd, 32>(q, k, v, dims, o, lse, scratch),
                    _ => unreachable!("unsupported width {}", dims.d),
                }
            }
        }

        /// Backward row for a supported width. Caller: as for the forward row.
        #[target_feature(enable = $feature)]
        pub(super) unsafe fn $bwd(
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
            scratch: &mut Scratch<<$simd as Simd>::V>,
        ) {
            unsafe {
                match dims.d {
                    4 => bwd_row::<$simd, 4>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
                    8 => bwd_row::<$simd, 8>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
                    16 => bwd_row::<$simd, 16>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
                    32 => bwd_row::<$simd, 32>(q, k, v, o, lse, dout, dims, dq, dk, dv, scratch),
                    _ => unreachable!("unsupported width {}", dims.d),
                }
            }
        }
    };
}

entry_points!(Avx2, "avx2,fma", forward_row_avx2, backward_row_avx2);
entry_points!(Avx512, "avx512f", forward_row_avx512, backward_row_avx512);
