//! Causal attention for the trainer: the fused CPU op (candle `CustomOp3` with its own backward)
//! and the naive reference that materialises the B×N×N matrix (any dtype; used for f64 and tests).

use std::sync::Mutex;

use crate::par;
use attnlab_kernels::{self as kernel, Dims};
use candle_core::{CpuStorage, CustomOp1, CustomOp3, DType, Device, Layout, Result, Shape, Tensor, bail};

/// Mask value for invisible keys in the naive path.
const MASKED: f64 = -1e30;

/// Fused causal attention: inputs q, k, v of shape (B, N, d), output (B, N, d + 1) whose last
/// column is the row log-sum-exp (kept for the backward pass; callers narrow it away and must not
/// differentiate through it).
#[derive(Debug, Clone, Copy)]
struct Fused {
    memory: usize,
    scale: f32,
}

fn slice<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("fused attention: {what} must be f32") };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => bail!("fused attention: {what} must be contiguous"),
    }
}

fn dims_of(l: &Layout, memory: usize, scale: f32) -> Result<Dims> {
    let &[batch, len, d] = l.dims() else { bail!("fused attention: expected (B, N, d), got {:?}", l.dims()) };
    Ok(Dims { batch, len, d, memory, scale })
}

impl CustomOp3 for Fused {
    fn name(&self) -> &'static str {
        "fused-causal-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = dims_of(l1, self.memory, self.scale)?;
        if l2.dims() != l1.dims() || l3.dims() != l1.dims() {
            bail!("fused attention: q, k, v shapes differ");
        }
        let (q, k, v) = (slice(s1, l1, "q")?, slice(s2, l2, "k")?, slice(s3, l3, "v")?);
        let (n, d) = (dims.len, dims.d);
        let row = n * (d + 1);
        let mut out = vec![0f32; dims.batch * row];
        par::for_each(out.chunks_mut(row).collect(), |b, dst: &mut [f32]| {
            let r = b * n * d..(b + 1) * n * d;
            let mut o = vec![0f32; n * d];
            let mut lse = vec![0f32; n];
            kernel::forward_row(&q[r.clone()], &k[r.clone()], &v[r], dims, &mut o, &mut lse);
            for t in 0..n {
                dst[t * (d + 1)..t * (d + 1) + d].copy_from_slice(&o[t * d..(t + 1) * d]);
                dst[t * (d + 1) + d] = lse[t];
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((dims.batch, n, d + 1))))
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (batch, n, d) = q.dims3()?;
        let dims = Dims { batch, len: n, d, memory: self.memory, scale: self.scale };
        let flat = |t: &Tensor| -> Result<Vec<f32>> { t.contiguous()?.flatten_all()?.to_vec1::<f32>() };
        let (qv, kv, vv) = (flat(q)?, flat(k)?, flat(v)?);
        let o = flat(&res.narrow(2, 0, d)?)?;
        let lse = flat(&res.narrow(2, d, 1)?)?;
        let dout = flat(&grad_res.narrow(2, 0, d)?)?;
        let mut grads = vec![0f32; 3 * batch * n * d];
        let (dq, rest) = grads.split_at_mut(batch * n * d);
        let (dk, dv) = rest.split_at_mut(batch * n * d);
        let rows = dq.chunks_mut(n * d).zip(dk.chunks_mut(n * d)).zip(dv.chunks_mut(n * d)).collect::<Vec<_>>();
        par::for_each(rows, |b, ((dq, dk), dv)| {
            let r = b * n * d..(b + 1) * n * d;
            let (qs, ks, vs) = (&qv[r.clone()], &kv[r.clone()], &vv[r.clone()]);
            let (os, ds) = (&o[r.clone()], &dout[r]);
            kernel::backward_row(qs, ks, vs, os, &lse[b * n..(b + 1) * n], ds, dims, dq, dk, dv);
        });
        let dev = q.device();
        let m = batch * n * d;
        let t = |a: usize| Tensor::from_slice(&grads[a..a + m], (batch, n, d), dev);
        Ok((Some(t(0)?), Some(t(m)?), Some(t(2 * m)?)))
    }
}

/// Fused causal attention on the packed projections: input qkv (B·N, 3d), each row q ‖ k ‖ v (the
/// c_attn output as it comes), output (B·N, d). Saves the three narrow-and-copy ops on the way in,
/// the interleaved log-sum-exp column on the way out, and on the way back the three zero-padded
/// gradients candle builds for the narrows: d(qkv) comes out in one piece. The row log-sum-exps
/// the backward pass needs stay in the op.
#[derive(Debug)]
struct FusedQkv {
    batch: usize,
    memory: usize,
    scale: f32,
    lse: Mutex<Vec<f32>>,
}

/// (B·N, 3d) layout → Dims, checked.
fn qkv_dims(l: &Layout, batch: usize, memory: usize, scale: f32) -> Result<Dims> {
    let &[rows, w3] = l.dims() else { bail!("fused attention: expected (B·N, 3d), got {:?}", l.dims()) };
    if w3 % 3 != 0 || batch == 0 || rows % batch != 0 {
        bail!("fused attention: qkv {:?} is not (B·N, 3d) for B = {batch}", l.dims());
    }
    Ok(Dims { batch, len: rows / batch, d: w3 / 3, memory, scale })
}

/// Splits one batch row of packed q ‖ k ‖ v (len × 3d) into three len × d matrices.
fn unpack_qkv(src: &[f32], d: usize) -> [Vec<f32>; 3] {
    let len = src.len() / (3 * d);
    let mut out = [vec![0f32; len * d], vec![0f32; len * d], vec![0f32; len * d]];
    for (t, row) in src.chunks_exact(3 * d).enumerate() {
        for (j, part) in out.iter_mut().enumerate() {
            part[t * d..(t + 1) * d].copy_from_slice(&row[j * d..(j + 1) * d]);
        }
    }
    out
}

impl CustomOp1 for FusedQkv {
    fn name(&self) -> &'static str {
        "fused-causal-attention-qkv"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let dims = qkv_dims(l, self.batch, self.memory, self.scale)?;
        let x = slice(s, l, "qkv")?;
        let (n, d) = (dims.len, dims.d);
        let mut o = vec![0f32; dims.batch * n * d];
        let mut lse = vec![0f32; dims.batch * n];
        let rows = o.chunks_mut(n * d).zip(lse.chunks_mut(n)).collect::<Vec<_>>();
        par::for_each(rows, |b, (ob, lb)| {
            let [q, k, v] = unpack_qkv(&x[b * n * 3 * d..(b + 1) * n * 3 * d], d);
            kernel::forward_row(&q, &k, &v, dims, ob, lb);
        });
        *self.lse.lock().unwrap_or_else(|e| e.into_inner()) = lse;
        Ok((CpuStorage::F32(o), Shape::from((dims.batch * n, d))))
    }

    fn bwd(&self, qkv: &Tensor, o: &Tensor, dout: &Tensor) -> Result<Option<Tensor>> {
        let lse = self.lse.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let op = FusedQkvBwd { batch: self.batch, memory: self.memory, scale: self.scale, lse };
        Ok(Some(qkv.apply_op3_no_bwd(o, &dout.contiguous()?, &op)?))
    }
}

/// Backward of [`FusedQkv`] on (qkv, o, do): d(qkv) (B·N, 3d).
struct FusedQkvBwd {
    batch: usize,
    memory: usize,
    scale: f32,
    lse: Vec<f32>,
}

impl CustomOp3 for FusedQkvBwd {
    fn name(&self) -> &'static str {
        "fused-causal-attention-qkv-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let dims = qkv_dims(l1, self.batch, self.memory, self.scale)?;
        let (x, o, dout) = (slice(s1, l1, "qkv")?, slice(s2, l2, "o")?, slice(s3, l3, "do")?);
        let (n, d) = (dims.len, dims.d);
        if o.len() != dims.batch * n * d || dout.len() != o.len() || self.lse.len() != dims.batch * n {
            bail!("fused attention: backward inputs do not match qkv {:?}", l1.dims());
        }
        let mut grad = vec![0f32; x.len()];
        par::for_each(grad.chunks_mut(n * 3 * d).collect(), |b, g: &mut [f32]| {
            let [q, k, v] = unpack_qkv(&x[b * n * 3 * d..(b + 1) * n * 3 * d], d);
            let r = b * n * d..(b + 1) * n * d;
            let mut parts = [vec![0f32; n * d], vec![0f32; n * d], vec![0f32; n * d]];
            let [dq, dk, dv] = &mut parts;
            kernel::backward_row(&q, &k, &v, &o[r.clone()], &self.lse[b * n..(b + 1) * n], &dout[r], dims, dq, dk, dv);
            for (t, row) in g.chunks_exact_mut(3 * d).enumerate() {
                for (j, part) in parts.iter().enumerate() {
                    row[j * d..(j + 1) * d].copy_from_slice(&part[t * d..(t + 1) * d]);
                }
            }
        });
        Ok((CpuStorage::F32(grad), l1.shape().clone()))
    }
}

/// Causal attention on the packed projections qkv (B·N, 3d), rows q ‖ k ‖ v, batch rows of
/// `len` positions: output (B·N, d). Fused (one op in, one gradient out) for f32 on the CPU with
/// `Impl::Auto`; otherwise [`causal`] on the three narrowed parts.
pub fn causal_qkv(qkv: &Tensor, batch: usize, len: usize, memory: Option<usize>, how: Impl) -> Result<Tensor> {
    let (_, w3) = qkv.dims2()?;
    let d = w3 / 3;
    if how == Impl::Auto && qkv.dtype() == DType::F32 && matches!(qkv.device(), Device::Cpu) {
        let scale = (1.0 / (d as f64).sqrt()) as f32;
        let op = FusedQkv { batch, memory: memory.unwrap_or(usize::MAX), scale, lse: Mutex::new(Vec::new()) };
        return qkv.contiguous()?.apply_op1(op);
    }
    let part = |i: usize| qkv.narrow(1, i * d, d)?.contiguous()?.reshape((batch, len, d));
    causal(&part(0)?, &part(1)?, &part(2)?, memory, how)?.reshape((batch * len, d))
}

/// How attention is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Impl {
    /// The fused op for f32 on the CPU, the naive path otherwise.
    #[default]
    Auto,
    /// Always materialise the attention matrix.
    Naive,
}

/// Causal softmax attention softmax(q kᵀ·scale + mask) v over (B, N, d) tensors; `memory` = Some(m)
/// lets position n see only n − m ..= n (spec markov §2b), None = full causal.
pub fn causal(q: &Tensor, k: &Tensor, v: &Tensor, memory: Option<usize>, how: Impl) -> Result<Tensor> {
    let (_, _, d) = q.dims3()?;
    let scale = 1.0 / (d as f64).sqrt();
    if how == Impl::Auto && q.dtype() == DType::F32 && matches!(q.device(), Device::Cpu) {
        let op = Fused { memory: memory.unwrap_or(usize::MAX), scale: scale as f32 };
        let out = q.contiguous()?.apply_op3(&k.contiguous()?, &v.contiguous()?, op)?;
        return out.narrow(2, 0, d);
    }
    let att = weights(q, k, memory)?;
    att.matmul(&v.contiguous()?)
}

/// The attention matrix softmax(q kᵀ/√d + mask), shape (B, N, N), by plain differentiable ops.
pub fn weights(q: &Tensor, k: &Tensor, memory: Option<usize>) -> Result<Tensor> {
    let (_, n, d) = q.dims3()?;
    let scale = 1.0 / (d as f64).sqrt();
    let scores = (q.contiguous()?.matmul(&k.t()?.contiguous()?)? * scale)?;
    let mut mask = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            let visible = j <= i && memory.is_none_or(|m| i - j <= m);
            if !visible {
                mask[i * n + j] = MASKED;
            }
        }
    }
    let mask = Tensor::from_vec(mask, (n, n), q.device())?.to_dtype(q.dtype())?;
    let scores = scores.broadcast_add(&mask)?;
    // Softmax invariance: subtracting a detached row maximum changes no gradient.
    let max = scores.max_keepdim(2)?.detach();
    let e = scores.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(2)?)
}
