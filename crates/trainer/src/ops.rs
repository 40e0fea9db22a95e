//! Fused f32 CPU ops of the GPT-style model (spec markov §2b) as candle custom ops with their own
//! backward: layer norm with a weight and no bias, GELU in its erf form, and the per-token
//! cross-entropy of the logits. Each replaces a chain of plain candle ops (one fresh buffer per op
//! and per gradient term) by one pass over the rows, parallel over row chunks; the math is the
//! same (f32, same formulas). Other dtypes and devices take the plain-op definitions, which the
//! tests compare against.
//!
//! (candle 0.11's own fused `layer_norm` / `softmax_last_dim` drop gradients, hence these.)

use crate::par;
use attnlab_kernels::{Multiversion, Path, dispatch, exp_neg};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, D, DType, Device, Layout, Result, Shape, Tensor, bail};

/// Layer-norm ε (PyTorch's default, spec §2b).
pub const LN_EPS: f64 = 1e-5;

/// Rows per parallel task (small ops are not worth splitting).
const ROWS_PER_TASK: usize = 2048;

fn slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("{what} must be f32") };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => bail!("{what} must be contiguous"),
    }
}

fn fused(x: &Tensor) -> bool {
    x.dtype() == DType::F32 && matches!(x.device(), Device::Cpu)
}

/// Last dimension and number of rows of a layout.
fn rows_of(l: &Layout) -> (usize, usize) {
    let d = l.dims().last().copied().unwrap_or(1);
    (d, l.shape().elem_count() / d.max(1))
}

// ---------------------------------------------------------------------------------------------
// Layer norm: y = (x − μ)/√(σ² + ε) · w per row (μ, σ² the row mean and population variance).

#[derive(Debug, Clone, Copy)]
struct LayerNorm;

/// The normalised row x̂ = (x − μ)/√(σ² + ε) into `xhat`; returns 1/√(σ² + ε).
#[inline(always)]
fn normalise(x: &[f32], xhat: &mut [f32]) -> f32 {
    let d = x.len() as f32;
    let mu = x.iter().sum::<f32>() / d;
    for (h, &v) in xhat.iter_mut().zip(x) {
        *h = v - mu;
    }
    let var = xhat.iter().map(|c| c * c).sum::<f32>() / d;
    let sd = (var + LN_EPS as f32).sqrt();
    for h in xhat.iter_mut() {
        *h /= sd;
    }
    1.0 / sd
}

impl CustomOp2 for LayerNorm {
    fn name(&self) -> &'static str {
        "layer-norm"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, w) = (slice(s1, l1, "layer norm: x")?, slice(s2, l2, "layer norm: w")?);
        let (d, _) = rows_of(l1);
        if w.len() != d {
            bail!("layer norm: weight has {} entries for rows of {d}", w.len());
        }
        let mut y = vec![0f32; x.len()];
        let chunks = y.chunks_mut(ROWS_PER_TASK * d).zip(x.chunks(ROWS_PER_TASK * d)).collect::<Vec<_>>();
        par::for_each(chunks, |_, (yc, xc)| {
            for (yr, xr) in yc.chunks_exact_mut(d).zip(xc.chunks_exact(d)) {
                normalise(xr, yr);
                for (v, &wc) in yr.iter_mut().zip(w) {
                    *v *= wc;
                }
            }
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, w: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // One buffer: dx (rows × d) followed by dw (d).
        let both = x.apply_op2_no_bwd(&dy.contiguous()?, &LayerNormBwd { w: w.flatten_all()?.to_vec1::<f32>()? })?;
        let dx = both.narrow(0, 0, x.elem_count())?.reshape(x.shape())?;
        let dw = both.narrow(0, x.elem_count(), w.elem_count())?.reshape(w.shape())?;
        Ok((Some(dx), Some(dw)))
    }
}

/// Backward of [`LayerNorm`] on (x, dy): with x̂ the normalised row, r = 1/√(σ² + ε) and
/// g = dy ⊙ w, dx = r (g − mean(g) − x̂ mean(g ⊙ x̂)) and dw = Σ_rows dy ⊙ x̂; returns dx then dw,
/// flat.
struct LayerNormBwd {
    w: Vec<f32>,
}

impl CustomOp2 for LayerNormBwd {
    fn name(&self) -> &'static str {
        "layer-norm-bwd"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, dy) = (slice(s1, l1, "layer norm: x")?, slice(s2, l2, "layer norm: dy")?);
        let (d, _) = rows_of(l1);
        let w = &self.w;
        let mut out = vec![0f32; x.len() + d];
        let (dx, dw) = out.split_at_mut(x.len());
        let chunk = ROWS_PER_TASK * d;
        let mut partial = vec![vec![0f32; d]; x.len().div_ceil(chunk)];
        let chunks =
            dx.chunks_mut(chunk).zip(x.chunks(chunk).zip(dy.chunks(chunk))).zip(partial.iter_mut()).collect::<Vec<_>>();
        par::for_each(chunks, |_, ((dxc, (xc, dyc)), dw)| {
            let mut xhat = vec![0f32; d];
            let mut g = vec![0f32; d];
            for ((dxr, xr), dyr) in dxc.chunks_exact_mut(d).zip(xc.chunks_exact(d)).zip(dyc.chunks_exact(d)) {
                let r = normalise(xr, &mut xhat);
                for c in 0..d {
                    g[c] = dyr[c] * w[c];
                    dw[c] += dyr[c] * xhat[c];
                }
                let mean_g = g.iter().sum::<f32>() / d as f32;
                let mean_gx = g.iter().zip(&xhat).map(|(a, b)| a * b).sum::<f32>() / d as f32;
                for c in 0..d {
                    dxr[c] = r * (g[c] - mean_g - xhat[c] * mean_gx);
                }
            }
        });
        // Chunk partials summed in chunk order: the same result for any thread count.
        for p in partial {
            for (a, b) in dw.iter_mut().zip(p) {
                *a += b;
            }
        }
        Ok((CpuStorage::F32(out), Shape::from(x.len() + d)))
    }
}

/// Layer norm over the last dimension with weight `w` and no bias, ε = 1e-5 (spec §2b): the fused
/// op for f32 on the CPU, [`layer_norm_plain`] otherwise.
pub fn layer_norm(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    if fused(x) && fused(w) {
        return x.contiguous()?.apply_op2(&w.contiguous()?, LayerNorm);
    }
    layer_norm_plain(x, w)
}

/// Layer norm from plain differentiable ops (the reference the fused op is tested against).
pub fn layer_norm_plain(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let mu = x.mean_keepdim(D::Minus1)?;
    let xc = x.broadcast_sub(&mu)?;
    let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
    xc.broadcast_div(&(var + LN_EPS)?.sqrt()?)?.broadcast_mul(w)
}

// ---------------------------------------------------------------------------------------------
// GELU, erf form: gelu(x) = x Φ(x), Φ(x) = ½(1 + erf(x/√2)); gelu′(x) = Φ(x) + x φ(x).

/// erf(z) in f32, branch-free so loops over it vectorise; |error| < 2e-7 (absolute; GELU and its
/// derivative only need absolute accuracy in Φ). |z| < 1: the Maclaurin series
/// erf(z) = (2/√π) Σ_k (−1)^k z^{2k+1}/(k!(2k+1)) to k = 11 (truncation < 1e-9); |z| ≥ 1:
/// Abramowitz & Stegun 7.1.26, erf(|z|) = 1 − t(a₁ + t(a₂ + t(a₃ + t(a₄ + t a₅)))) e^{−z²},
/// t = 1/(1 + p|z|), |error| ≤ 1.5e-7 (near 0 its f32 evaluation would cancel, hence the series).
#[inline(always)]
pub fn erf(z: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152_1, 1.061_405_4];
    // (2/√π)(−1)^k/(k!(2k+1)), k = 0..=11.
    const C: [f32; 12] = [
        std::f32::consts::FRAC_2_SQRT_PI,
        -0.376_126_38,
        0.112_837_92,
        -0.026_866_172,
        0.005_223_978,
        -0.000_854_832_7,
        0.000_120_553_33,
        -1.492_565e-5,
        1.646_211_4e-6,
        -1.636_584_4e-7,
        1.480_719_3e-8,
        -1.229_055_5e-9,
    ];
    let a = z.abs();
    let s = a * a;
    let mut series = C[11];
    for &c in C[..11].iter().rev() {
        series = series * s + c;
    }
    let series = a * series;
    let t = 1.0 / (1.0 + P * a);
    let poly = t * (A[0] + t * (A[1] + t * (A[2] + t * (A[3] + t * A[4]))));
    let tail = 1.0 - poly * exp_neg::<false>(-s);
    let y = if a < 1.0 { series } else { tail };
    y.copysign(z)
}

/// Φ(x) = ½(1 + erf(x/√2)).
#[inline(always)]
fn cdf(x: f32) -> f32 {
    0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// y = x Φ(x) elementwise (compiled per instruction set through [`GeluFwd`]).
#[inline(always)]
pub(crate) fn gelu_fwd_loop(x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = v * cdf(v);
    }
}

/// dx = dy (Φ(x) + x φ(x)) elementwise, φ(x) = e^{−x²/2}/√(2π).
#[inline(always)]
pub(crate) fn gelu_bwd_loop(x: &[f32], dy: &[f32], dx: &mut [f32]) {
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    for ((o, &v), &g) in dx.iter_mut().zip(x).zip(dy) {
        let pdf = INV_SQRT_2PI * exp_neg::<false>(-0.5 * v * v);
        *o = g * (cdf(v) + v * pdf);
    }
}

/// [`gelu_fwd_loop`] over a chunk as a [`Multiversion`] body, run on [`Path::best`] (16, 8 or 4
/// lanes wide). FMA contraction is not allowed, so every path gives the same values.
struct GeluFwd<'a> {
    x: &'a [f32],
    y: &'a mut [f32],
}

impl Multiversion for GeluFwd<'_> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        gelu_fwd_loop(self.x, self.y);
    }
}

/// [`gelu_bwd_loop`] over a chunk as a [`Multiversion`] body (as [`GeluFwd`]).
struct GeluBwdLoop<'a> {
    x: &'a [f32],
    dy: &'a [f32],
    dx: &'a mut [f32],
}

impl Multiversion for GeluBwdLoop<'_> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        gelu_bwd_loop(self.x, self.dy, self.dx);
    }
}

#[derive(Debug, Clone, Copy)]
struct Gelu;

const ELEMS_PER_TASK: usize = 1 << 15;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = slice(s, l, "gelu: x")?;
        let mut y = vec![0f32; x.len()];
        let chunks = y.chunks_mut(ELEMS_PER_TASK).zip(x.chunks(ELEMS_PER_TASK)).collect::<Vec<_>>();
        par::for_each(chunks, |_, (y, x)| dispatch(Path::best(), GeluFwd { x, y }));
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&dy.contiguous()?, &GeluBwd)?))
    }
}

/// dx = dy (Φ(x) + x φ(x)), φ(x) = e^{−x²/2}/√(2π).
struct GeluBwd;

impl CustomOp2 for GeluBwd {
    fn name(&self) -> &'static str {
        "gelu-erf-bwd"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (x, dy) = (slice(s1, l1, "gelu: x")?, slice(s2, l2, "gelu: dy")?);
        let mut dx = vec![0f32; x.len()];
        let chunks = dx
            .chunks_mut(ELEMS_PER_TASK)
            .zip(x.chunks(ELEMS_PER_TASK).zip(dy.chunks(ELEMS_PER_TASK)))
            .collect::<Vec<_>>();
        par::for_each(chunks, |_, (dx, (x, dy))| dispatch(Path::best(), GeluBwdLoop { x, dy, dx }));
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

/// GELU in its erf form: the fused op for f32 on the CPU, candle's `gelu_erf` otherwise.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if fused(x) {
        return x.contiguous()?.apply_op1(Gelu);
    }
    x.gelu_erf()
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy per token: ℓ = log Σ_v e^{l_v} − Σ_v y_v l_v for logits l and target weights y
// (one-hot), and the predicted probabilities p_v = e^{l_v − log Σ e^l}.

#[derive(Debug, Clone, Copy)]
struct CrossEntropy;

/// Log-sum-exp of a row (shifted by its maximum) and e^{l_v − max} into `e`.
#[inline(always)]
fn row_lse(l: &[f32], e: &mut [f32]) -> f32 {
    let mx = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut sum = 0.0;
    for (ev, &lv) in e.iter_mut().zip(l) {
        *ev = (lv - mx).exp();
        sum += *ev;
    }
    mx + sum.ln()
}

impl CustomOp2 for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross-entropy"
    }

    /// Output (R, 1 + V): the token loss, then the probabilities.
    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (l, y) = (slice(s1, l1, "cross-entropy: logits")?, slice(s2, l2, "cross-entropy: targets")?);
        let (v, rows) = rows_of(l1);
        if l2.dims() != l1.dims() {
            bail!("cross-entropy: logits {:?} and targets {:?} differ", l1.dims(), l2.dims());
        }
        let mut out = vec![0f32; rows * (v + 1)];
        let chunks = out
            .chunks_mut(ROWS_PER_TASK * (v + 1))
            .zip(l.chunks(ROWS_PER_TASK * v).zip(y.chunks(ROWS_PER_TASK * v)))
            .collect::<Vec<_>>();
        par::for_each(chunks, |_, (oc, (lc, yc))| {
            for ((or, lr), yr) in oc.chunks_exact_mut(v + 1).zip(lc.chunks_exact(v)).zip(yc.chunks_exact(v)) {
                let (tok, p) = or.split_at_mut(1);
                let lse = row_lse(lr, p);
                // ℓ = −Σ_v y_v (l_v − lse), the same terms as the plain-op definition.
                tok[0] = -yr.iter().zip(lr).map(|(yv, lv)| yv * (lv - lse)).sum::<f32>();
                for (pv, &lv) in p.iter_mut().zip(lr) {
                    *pv = (lv - lse).exp();
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((rows, v + 1))))
    }

    fn bwd(&self, l: &Tensor, y: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        // Only the loss column carries a gradient (the probabilities are detached by the caller).
        let g = grad.narrow(1, 0, 1)?.contiguous()?;
        let dl = l.apply_op2_no_bwd(y, &CrossEntropyBwd { g: g.flatten_all()?.to_vec1::<f32>()? })?;
        Ok((Some(dl), None))
    }
}

/// dℓ/dl_v = g (p_v Σ_u y_u − y_v) per row, g the incoming gradient of the row's loss.
struct CrossEntropyBwd {
    g: Vec<f32>,
}

impl CustomOp2 for CrossEntropyBwd {
    fn name(&self) -> &'static str {
        "cross-entropy-bwd"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<(CpuStorage, Shape)> {
        let (l, y) = (slice(s1, l1, "cross-entropy: logits")?, slice(s2, l2, "cross-entropy: targets")?);
        let (v, _) = rows_of(l1);
        let mut dl = vec![0f32; l.len()];
        let chunks = dl
            .chunks_mut(ROWS_PER_TASK * v)
            .zip(l.chunks(ROWS_PER_TASK * v).zip(y.chunks(ROWS_PER_TASK * v)))
            .zip(self.g.chunks(ROWS_PER_TASK))
            .collect::<Vec<_>>();
        par::for_each(chunks, |_, ((dc, (lc, yc)), gc)| {
            let mut p = vec![0f32; v];
            for (((dr, lr), yr), &g) in dc.chunks_exact_mut(v).zip(lc.chunks_exact(v)).zip(yc.chunks_exact(v)).zip(gc) {
                let lse = row_lse(lr, &mut p);
                let ysum: f32 = yr.iter().sum();
                for ((d, &lv), &yv) in dr.iter_mut().zip(lr).zip(yr) {
                    *d = g * ((lv - lse).exp() * ysum - yv);
                }
            }
        });
        Ok((CpuStorage::F32(dl), l1.shape().clone()))
    }
}

/// Per-token cross-entropy of `logits` (R, V) against target weights `onehot` (R, V): the loss
/// (R, 1) and the predicted probabilities (R, V, detached). Fused for f32 on the CPU.
pub fn cross_entropy(logits: &Tensor, onehot: &Tensor) -> Result<(Tensor, Tensor)> {
    if fused(logits) && fused(onehot) {
        let v = logits.dim(D::Minus1)?;
        let out = logits.contiguous()?.apply_op2(&onehot.contiguous()?, CrossEntropy)?;
        return Ok((out.narrow(1, 0, 1)?, out.narrow(1, 1, v)?.detach()));
    }
    cross_entropy_plain(logits, onehot)
}

/// [`cross_entropy`] from plain differentiable ops (the reference).
pub fn cross_entropy_plain(logits: &Tensor, onehot: &Tensor) -> Result<(Tensor, Tensor)> {
    let max = logits.max_keepdim(D::Minus1)?.detach();
    let shifted = logits.broadcast_sub(&max)?;
    let lse = shifted.exp()?.sum_keepdim(D::Minus1)?.log()?;
    let logp = shifted.broadcast_sub(&lse)?;
    let tok = (onehot * &logp)?.sum_keepdim(D::Minus1)?.neg()?;
    Ok((tok, logp.exp()?.detach()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The multiversioned GELU loops give the plain loops' values bit for bit, on every path.
    #[test]
    fn wide_gelu_equals_plain() {
        let x: Vec<f32> = (-4000..4000).map(|i| i as f32 / 397.0).collect();
        let dy: Vec<f32> = x.iter().map(|v| 1.0 - v / 3.0).collect();
        let (mut plain_y, mut plain_dx) = (vec![0f32; x.len()], vec![0f32; x.len()]);
        gelu_fwd_loop(&x, &mut plain_y);
        gelu_bwd_loop(&x, &dy, &mut plain_dx);
        for path in [Path::best(), Path::Avx512, Path::Avx2, Path::Portable] {
            let (mut y, mut dx) = (vec![0f32; x.len()], vec![0f32; x.len()]);
            dispatch(path, GeluFwd { x: &x, y: &mut y });
            dispatch(path, GeluBwdLoop { x: &x, dy: &dy, dx: &mut dx });
            assert_eq!(y, plain_y, "{path:?}");
            assert_eq!(dx, plain_dx, "{path:?}");
        }
    }
}
