//! Fused causal attention on the CPU (f32): online-softmax forward and its backward, with no N×N tensor.
//!
//! Per batch row the forward pass computes, for each query n and the visible keys i ∈ [n − m, n]
//! (m = memory, `usize::MAX` for full attention), s_{ni} = scale·⟨q_n, k_i⟩, the log-sum-exp
//! ℓ_n = log Σ_i e^{s_{ni}} and o_n = Σ_i e^{s_{ni} − ℓ_n} v_i. The backward pass recomputes the
//! probabilities from ℓ_n (the flash-attention scheme):
//! dv_i += P_{ni} do_n, dP_{ni} = ⟨do_n, v_i⟩, Δ_n = ⟨do_n, o_n⟩, dS_{ni} = P_{ni}(dP_{ni} − Δ_n),
//! dq_n = scale Σ_i dS_{ni} k_i, dk_i += scale dS_{ni} q_n.
//!
//! Scores are computed against a transposed copy of K (so the loop runs over contiguous keys and
//! vectorises), the value/gradient accumulations run over the head dimension. The portable code is
//! plain Rust; on x86-64 CPUs the common head widths (4, 8, 16, 32) run explicit intrinsics
//! (`attention/x86.rs`: key tiles, key blocks kept in L1, gradients accumulated in registers) with
//! AVX-512F where the CPU has it, else AVX2+FMA, and other widths the portable code compiled with
//! AVX2+FMA, picked at run time ([`Path`]).

use crate::dispatch::Path;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Shape of one fused-attention problem: `batch` rows of `len` positions with head width `d`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dims {
    /// Batch rows B.
    pub batch: usize,
    /// Sequence length N.
    pub len: usize,
    /// Head width d.
    pub d: usize,
    /// Memory m: query n sees keys n − m ..= n. `usize::MAX` = full causal attention.
    pub memory: usize,
    /// Score scale (1/√d).
    pub scale: f32,
}

const LANES: usize = 8;

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

const EXP_LOG2E: f32 = std::f32::consts::LOG2_E;
/// 1.5·2^23: adding it rounds to an integer in the low bits.
const EXP_MAGIC: f32 = 12_582_912.0;
/// ln 2 split in two (Cody–Waite), so the reduced argument carries no rounding of n·ln2.
const EXP_LN2_HI: f32 = 0.693_145_75;
const EXP_LN2_LO: f32 = 1.428_606_8e-6;

/// e^x for x ≤ 0 (clamped below at −87), relative error ≈ 2e-7; branch-free and cast-free (the
/// integer part goes through the float's bits) so loops over it vectorise.
#[inline(always)]
pub fn exp_neg<const FMA: bool>(x: f32) -> f32 {
    const MAGIC: f32 = EXP_MAGIC;
    let x = if x < -87.0 { -87.0 } else { x };
    let shifted = madd::<FMA>(x, EXP_LOG2E, MAGIC);
    let n = shifted - MAGIC;
    // Cody–Waite reduction f = x − n·ln2.
    let f = madd::<FMA>(-n, EXP_LN2_LO, madd::<FMA>(-n, EXP_LN2_HI, x)); // |f| ≤ ln2/2
    // Taylor series of e^f to degree 6 (truncation error < 2e-7 on |f| ≤ 0.347).
    let mut p = 1.0 / 720.0;
    p = madd::<FMA>(p, f, 1.0 / 120.0);
    p = madd::<FMA>(p, f, 1.0 / 24.0);
    p = madd::<FMA>(p, f, 1.0 / 6.0);
    p = madd::<FMA>(p, f, 0.5);
    p = madd::<FMA>(p, f, 1.0);
    p = madd::<FMA>(p, f, 1.0);
    // The low bits of `shifted` hold n (two's complement); 2^n = (n + 127) << 23 as float bits.
    let n_bits = shifted.to_bits().wrapping_sub(MAGIC.to_bits());
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

#[inline(always)]
fn lane_max(s: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = s.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            acc[l] = if c[l] > acc[l] { c[l] } else { acc[l] };
        }
    }
    let mut m = chunks.remainder().iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for a in acc {
        m = if a > m { a } else { m };
    }
    m
}

/// s[i] ← exp(s[i] − shift); returns Σ_i s[i].
#[inline(always)]
fn exp_shift_sum<const FMA: bool>(s: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0f32; LANES];
    let mut chunks = s.chunks_exact_mut(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            c[l] = exp_neg::<FMA>(c[l] - shift);
            acc[l] += c[l];
        }
    }
    let mut sum = 0.0;
    for x in chunks.into_remainder() {
        *x = exp_neg::<FMA>(*x - shift);
        sum += *x;
    }
    sum + acc.iter().sum::<f32>()
}

/// out[i] ← Σ_c coef[c]·t[c·len + i] for i ∈ lo..=hi (t is d × len): scores against transposed
/// keys, or ⟨do_n, v_i⟩ against transposed values. Eight keys at a time, accumulated in registers.
#[inline(always)]
fn dot_keys<const FMA: bool>(out: &mut [f32], coef: &[f32], t: &[f32], len: usize, d: usize, lo: usize, hi: usize) {
    let mut i = lo;
    while i + LANES <= hi + 1 {
        let mut acc = [0f32; LANES];
        for c in 0..d {
            let (w, row) = (coef[c], &t[c * len + i..c * len + i + LANES]);
            for l in 0..LANES {
                acc[l] = madd::<FMA>(w, row[l], acc[l]);
            }
        }
        out[i..i + LANES].copy_from_slice(&acc);
        i += LANES;
    }
    for j in i..=hi {
        let mut acc = 0.0;
        for c in 0..d {
            acc = madd::<FMA>(coef[c], t[c * len + j], acc);
        }
        out[j] = acc;
    }
}

/// out[c] ← Σ_{i ∈ lo..=hi} w[i]·t[c·len + i] for c < d (t is d × len): the attention output
/// against transposed values, or dq against transposed keys. Contiguous keys, 32 at a time into
/// four independent vector accumulators (no accumulation through memory, no FMA latency chain).
#[inline(always)]
fn weighted_sum<const FMA: bool>(w: &[f32], t: &[f32], len: usize, d: usize, lo: usize, hi: usize, out: &mut [f32]) {
    const BLOCK: usize = 4 * LANES;
    let ws = &w[lo..=hi];
    for c in 0..d {
        let row = &t[c * len + lo..=c * len + hi];
        let mut acc = [0f32; BLOCK];
        let mut wc = ws.chunks_exact(BLOCK);
        let mut rc = row.chunks_exact(BLOCK);
        for (a, b) in (&mut wc).zip(&mut rc) {
            for l in 0..BLOCK {
                acc[l] = madd::<FMA>(a[l], b[l], acc[l]);
            }
        }
        let mut sum = acc.iter().sum::<f32>();
        for (a, b) in wc.remainder().iter().zip(rc.remainder()) {
            sum = madd::<FMA>(*a, *b, sum);
        }
        out[c] = sum;
    }
}

/// dst ← scale·src (the query, scaled once per row before its key dots).
#[inline(always)]
fn scale_into(dst: &mut [f32], src: &[f32], scale: f32) {
    for (a, &b) in dst.iter_mut().zip(src) {
        *a = b * scale;
    }
}

fn transpose(x: &[f32], len: usize, d: usize, out: &mut [f32]) {
    for i in 0..len {
        for c in 0..d {
            out[c * len + i] = x[i * d + c];
        }
    }
}

#[inline(always)]
fn window(n: usize, memory: usize) -> usize {
    n.saturating_sub(memory)
}

/// Forward pass of one batch row: q, k, v are len × d; writes o (len × d) and lse (len).
#[inline(always)]
fn fwd_row<const FMA: bool>(q: &[f32], k: &[f32], v: &[f32], dims: Dims, o: &mut [f32], lse: &mut [f32]) {
    let (len, d) = (dims.len, dims.d);
    let mut kt = vec![0f32; len * d];
    let mut vt = vec![0f32; len * d];
    transpose(k, len, d, &mut kt);
    transpose(v, len, d, &mut vt);
    let mut s = vec![0f32; len];
    let mut qs = vec![0f32; d];
    for n in 0..len {
        let lo = window(n, dims.memory);
        scale_into(&mut qs, &q[n * d..(n + 1) * d], dims.scale);
        dot_keys::<FMA>(&mut s, &qs, &kt, len, d, lo, n);
        let mx = lane_max(&s[lo..=n]);
        let sum = exp_shift_sum::<FMA>(&mut s[lo..=n], mx);
        let on = &mut o[n * d..(n + 1) * d];
        weighted_sum::<FMA>(&s, &vt, len, d, lo, n, on);
        let inv = 1.0 / sum;
        for x in on.iter_mut() {
            *x *= inv;
        }
        lse[n] = mx + sum.ln();
    }
}

/// Backward pass of one batch row. Inputs as in [`fwd_row`] plus o, lse and the output gradient
/// do (len × d); writes dq, dk, dv (len × d).
#[inline(always)]
fn bwd_row<const FMA: bool>(
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
) {
    let (len, d, scale) = (dims.len, dims.d, dims.scale);
    let mut kt = vec![0f32; len * d];
    let mut vt = vec![0f32; len * d];
    transpose(k, len, d, &mut kt);
    transpose(v, len, d, &mut vt);
    dk.fill(0.0);
    dv.fill(0.0);
    let mut p = vec![0f32; len];
    let mut dp = vec![0f32; len];
    let mut qs = vec![0f32; d];
    for n in 0..len {
        let lo = window(n, dims.memory);
        let (qn, don) = (&q[n * d..(n + 1) * d], &dout[n * d..(n + 1) * d]);
        scale_into(&mut qs, qn, scale);
        dot_keys::<FMA>(&mut p, &qs, &kt, len, d, lo, n);
        exp_shift_sum::<FMA>(&mut p[lo..=n], lse[n]);
        // dP_{ni} = ⟨do_n, v_i⟩ over contiguous keys.
        dot_keys::<FMA>(&mut dp, don, &vt, len, d, lo, n);
        let dpw = &mut dp[lo..=n];
        let delta: f32 = don.iter().zip(&o[n * d..(n + 1) * d]).map(|(a, b)| a * b).sum();
        for (x, &pi) in dpw.iter_mut().zip(&p[lo..=n]) {
            *x = pi * (*x - delta);
        }
        let dqn = &mut dq[n * d..(n + 1) * d];
        weighted_sum::<FMA>(&dp, &kt, len, d, lo, n, dqn);
        for i in lo..=n {
            let (ds, pi) = (dp[i], p[i]);
            let sds = scale * ds;
            let dki = &mut dk[i * d..(i + 1) * d];
            for c in 0..d {
                dki[c] = madd::<FMA>(sds, qn[c], dki[c]);
            }
            let dvi = &mut dv[i * d..(i + 1) * d];
            for c in 0..d {
                dvi[c] = madd::<FMA>(pi, don[c], dvi[c]);
            }
        }
        for x in dqn.iter_mut() {
            *x *= scale;
        }
    }
}

/// Calls `$f::<$fma>(…, dims, …)` with the head width as a compile-time constant for the common
/// widths (so the loops over the head dimension unroll into whole vectors), run-time otherwise.
/// A macro, not a closure: closures are separate functions and would lose the caller's
/// `#[target_feature]`s (and FMA would become a library call).
macro_rules! specialise {
    ($f:ident::<$fma:literal>($($a:expr),*; $dims:expr; $($b:expr),*)) => {{
        let dims: Dims = $dims;
        match dims.d {
            4 => $f::<$fma>($($a),*, Dims { d: 4, ..dims }, $($b),*),
            8 => $f::<$fma>($($a),*, Dims { d: 8, ..dims }, $($b),*),
            16 => $f::<$fma>($($a),*, Dims { d: 16, ..dims }, $($b),*),
            32 => $f::<$fma>($($a),*, Dims { d: 32, ..dims }, $($b),*),
            _ => $f::<$fma>($($a),*, dims, $($b),*),
        }
    }};
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fwd_avx2(q: &[f32], k: &[f32], v: &[f32], dims: Dims, o: &mut [f32], lse: &mut [f32]) {
    specialise!(fwd_row::<true>(q, k, v; dims; o, lse))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn bwd_avx2(
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
) {
    specialise!(bwd_row::<true>(q, k, v, o, lse, dout; dims; dq, dk, dv))
}

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// Per-thread scratch of the intrinsics paths, reused across rows and steps.
    static SCRATCH_AVX2: std::cell::RefCell<x86::Scratch<std::arch::x86_64::__m256>> = std::cell::RefCell::new(x86::Scratch::default());
    static SCRATCH_AVX512: std::cell::RefCell<x86::Scratch<std::arch::x86_64::__m512>> = std::cell::RefCell::new(x86::Scratch::default());
}

/// Forward pass of one batch row (q, k, v: len × d row-major) into o (len × d) and lse (len).
pub fn forward_row(q: &[f32], k: &[f32], v: &[f32], dims: Dims, o: &mut [f32], lse: &mut [f32]) {
    forward_row_on(Path::best(), q, k, v, dims, o, lse);
}

/// [`forward_row`] on a given path (which must be [`Path::available`]; panics otherwise).
pub fn forward_row_on(path: Path, q: &[f32], k: &[f32], v: &[f32], dims: Dims, o: &mut [f32], lse: &mut [f32]) {
    assert!(path.available(), "code path {path:?} not available on this CPU");
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 && x86::supported(dims.d) {
        // SAFETY: AVX-512F was detected (`available`) and the width is supported, the requirements
        // of the entry point.
        SCRATCH_AVX512.with_borrow_mut(|s| unsafe { x86::forward_row_avx512(q, k, v, dims, o, lse, s) });
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if path != Path::Portable && x86::supported(dims.d) {
        // SAFETY: AVX2 and FMA were detected and the width is supported.
        SCRATCH_AVX2.with_borrow_mut(|s| unsafe { x86::forward_row_avx2(q, k, v, dims, o, lse, s) });
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if path != Path::Portable {
        // SAFETY: the CPU supports AVX2 and FMA (`available`), the only requirement of a
        // `#[target_feature]` function; the function itself is safe Rust.
        unsafe { fwd_avx2(q, k, v, dims, o, lse) };
        return;
    }
    specialise!(fwd_row::<false>(q, k, v; dims; o, lse))
}

/// Backward pass of one batch row: gradients dq, dk, dv (len × d) from the output gradient do.
pub fn backward_row(
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
) {
    backward_row_on(Path::best(), q, k, v, o, lse, dout, dims, dq, dk, dv);
}

/// [`backward_row`] on a given path (which must be [`Path::available`]; panics otherwise).
pub fn backward_row_on(
    path: Path,
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
) {
    assert!(path.available(), "code path {path:?} not available on this CPU");
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512 && x86::supported(dims.d) {
        // SAFETY: as in `forward_row_on`.
        SCRATCH_AVX512
            .with_borrow_mut(|s| unsafe { x86::backward_row_avx512(q, k, v, o, lse, dout, dims, dq, dk, dv, s) });
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if path != Path::Portable && x86::supported(dims.d) {
        // SAFETY: as in `forward_row_on`.
        SCRATCH_AVX2.with_borrow_mut(|s| unsafe { x86::backward_row_avx2(q, k, v, o, lse, dout, dims, dq, dk, dv, s) });
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if path != Path::Portable {
        // SAFETY: as in `forward_row_on`.
        unsafe { bwd_avx2(q, k, v, o, lse, dout, dims, dq, dk, dv) };
        return;
    }
    specialise!(bwd_row::<false>(q, k, v, o, lse, dout; dims; dq, dk, dv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_on_the_softmax_range() {
        for i in 0..=20_000 {
            let x = -87.0 * f64::from(i) / 20_000.0;
            let got = f64::from(exp_neg::<false>(x as f32));
            let want = (x as f32 as f64).exp();
            assert!(((got - want) / want).abs() < 5e-7, "x = {x}: {got} vs {want}");
        }
        assert_eq!(exp_neg::<false>(0.0), 1.0);
    }

    /// Every code path this CPU runs gives the portable path's outputs and gradients, for the
    /// intrinsics widths and one other, rows crossing key blocks, with and without a window.
    #[test]
    fn code_paths_agree() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        };
        for &(len, d, memory) in
            &[(1024, 8, usize::MAX), (300, 4, 37), (257, 16, usize::MAX), (130, 32, 70), (45, 12, 9), (7, 8, 0)]
        {
            let dims = Dims { batch: 1, len, d, memory, scale: 1.0 / (d as f32).sqrt() };
            let x: Vec<Vec<f32>> = (0..4).map(|_| (0..len * d).map(|_| 2.0 * next()).collect()).collect();
            let run = |path: Path| {
                let (mut o, mut lse) = (vec![0f32; len * d], vec![0f32; len]);
                forward_row_on(path, &x[0], &x[1], &x[2], dims, &mut o, &mut lse);
                let mut g = vec![vec![0f32; len * d]; 3];
                let [dq, dk, dv] = &mut g[..] else { unreachable!() };
                backward_row_on(path, &x[0], &x[1], &x[2], &o, &lse, &x[3], dims, dq, dk, dv);
                (o, lse, g)
            };
            let reference = run(Path::Portable);
            for path in [Path::Avx2, Path::Avx512].into_iter().filter(|p| p.available()) {
                let got = run(path);
                let close = |a: &[f32], b: &[f32], tol: f32| {
                    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
                };
                assert!(close(&got.0, &reference.0, 1e-5), "{path:?} output, {:?}", (len, d, memory));
                assert!(close(&got.1, &reference.1, 1e-5), "{path:?} lse, {:?}", (len, d, memory));
                for (i, (a, b)) in got.2.iter().zip(&reference.2).enumerate() {
                    assert!(close(a, b, 1e-4), "{path:?} gradient {i}, {:?}", (len, d, memory));
                }
            }
        }
    }
}
