//! The GPT-style model of spec markov §2b, forward and backward in one pass over buffers allocated
//! once ([`Workspace`]), L blocks, tied or untied head:
//!
//! h = wte[x_n] + wpe[n];
//! per block: h += c_proj · attn(c_attn · LN₁(h)) (causal, scale 1/√d, memory window m),
//!            h += mlp.c_proj · gelu(mlp.c_fc · LN₂(h));
//! logits = head · LN_f(h) + bias (head = wte when tied), the loss the mean cross-entropy over the
//! B·N tokens. Layer norms have a weight and no bias, ε = 1e-5; GELU is the erf form; no biases in
//! the blocks (nanoGPT with `bias=False`).
//!
//! Parameters live in a [`Tensors`] in the candle model's order and names, so the tests check the
//! loss and every gradient against `attnlab_trainer::Model`. (The first layer's attention probe of
//! the F13 figure is not computed here.)

use crate::attend;
use crate::gelu;
use crate::linear::{self, axpy};

/// Layer-norm ε (spec §2b).
const LN_EPS: f32 = 1e-5;

/// Shape of a GPT-style model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Width d.
    pub d: usize,
    /// Blocks L.
    pub layers: usize,
    /// Context length N (rows of wpe).
    pub seq_len: usize,
    /// Vocabulary V.
    pub vocab: usize,
    /// lm_head = wte.
    pub tying: bool,
    /// Memory window m (None: full causal attention).
    pub memory: Option<usize>,
}

/// Named f32 tensors (row-major) in a fixed order: parameters, or their gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensors {
    /// Names, as the candle model names its parameters.
    pub names: Vec<String>,
    /// Values, one per name.
    pub data: Vec<Vec<f32>>,
}

impl Tensors {
    /// The index of `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.index(name).map(|i| self.data[i].as_slice())
    }

    /// The tensor called `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Vec<f32>> {
        let i = self.index(name)?;
        Some(&mut self.data[i])
    }
}

/// Indices into a [`Tensors`] of one block's weights.
#[derive(Debug, Clone, Copy)]
struct Block {
    ln1: usize,
    c_attn: usize,
    c_proj: usize,
    ln2: usize,
    c_fc: usize,
    mlp_proj: usize,
}

/// Indices of every tensor of a shape.
#[derive(Debug, Clone)]
struct Layout {
    wte: usize,
    wpe: usize,
    blocks: Vec<Block>,
    ln_f: usize,
    head: usize,
    bias: usize,
}

impl Shape {
    /// Zero tensors of this shape, named and ordered as the candle model's parameters.
    pub fn zeros(&self) -> Tensors {
        let (d, v) = (self.d, self.vocab);
        let mut names = vec!["wte.weight".to_string(), "wpe.weight".to_string()];
        let mut data = vec![vec![0.0; v * d], vec![0.0; self.seq_len * d]];
        for l in 0..self.layers {
            for (name, len) in [
                ("ln_1.weight", d),
                ("attn.c_attn.weight", 3 * d * d),
                ("attn.c_proj.weight", d * d),
                ("ln_2.weight", d),
                ("mlp.c_fc.weight", 4 * d * d),
                ("mlp.c_proj.weight", 4 * d * d),
            ] {
                names.push(format!("blocks.{l}.{name}"));
                data.push(vec![0.0; len]);
            }
        }
        names.push("ln_f.weight".into());
        data.push(vec![0.0; d]);
        if !self.tying {
            names.push("lm_head.weight".into());
            data.push(vec![0.0; v * d]);
        }
        names.push("lm_head.bias".into());
        data.push(vec![0.0; v]);
        Tensors { names, data }
    }

    fn layout(&self) -> Layout {
        let blocks = (0..self.layers)
            .map(|l| {
                let base = 2 + 6 * l;
                Block {
                    ln1: base,
                    c_attn: base + 1,
                    c_proj: base + 2,
                    ln2: base + 3,
                    c_fc: base + 4,
                    mlp_proj: base + 5,
                }
            })
            .collect();
        let ln_f = 2 + 6 * self.layers;
        let head = if self.tying { 0 } else { ln_f + 1 };
        Layout { wte: 0, wpe: 1, blocks, ln_f, head, bias: ln_f + if self.tying { 1 } else { 2 } }
    }
}

/// Whether AdamW's weight decay applies to the tensor called `name` (the Linear weights: c_attn,
/// both c_proj, c_fc and an untied lm_head weight, as the candle model's decay groups).
pub fn decays(name: &str) -> bool {
    name.ends_with("c_attn.weight")
        || name.ends_with("c_proj.weight")
        || name.ends_with("c_fc.weight")
        || name == "lm_head.weight"
}

/// A layer norm's saved state: x̂ (M × d) and 1/σ (M).
#[derive(Debug, Clone)]
struct Norm {
    xhat: Vec<f32>,
    rstd: Vec<f32>,
}

impl Norm {
    fn new(m: usize, d: usize) -> Self {
        Self { xhat: vec![0.0; m * d], rstd: vec![0.0; m] }
    }

    /// out = LN(x) ⊙ g, saving x̂ and 1/σ.
    fn forward(&mut self, x: &[f32], g: &[f32], d: usize, out: &mut [f32]) {
        for (((xr, xh), r), o) in
            x.chunks_exact(d).zip(self.xhat.chunks_exact_mut(d)).zip(self.rstd.iter_mut()).zip(out.chunks_exact_mut(d))
        {
            let mean = xr.iter().sum::<f32>() / d as f32;
            let var = xr.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            *r = 1.0 / (var + LN_EPS).sqrt();
            for ((h, &v), (o, &gv)) in xh.iter_mut().zip(xr).zip(o.iter_mut().zip(g)) {
                *h = (v - mean) * *r;
                *o = *h * gv;
            }
        }
    }

    /// dx += LN backward of dy (dg += Σ dy ⊙ x̂); `scratch` holds d values.
    fn backward(&self, dy: &[f32], g: &[f32], d: usize, dg: &mut [f32], dx: &mut [f32], scratch: &mut [f32]) {
        for (((dyr, xh), &r), dxr) in
            dy.chunks_exact(d).zip(self.xhat.chunks_exact(d)).zip(&self.rstd).zip(dx.chunks_exact_mut(d))
        {
            let (mut mean_dxh, mut mean_dxh_xh) = (0.0f32, 0.0f32);
            for i in 0..d {
                dg[i] += dyr[i] * xh[i];
                scratch[i] = dyr[i] * g[i];
                mean_dxh += scratch[i];
                mean_dxh_xh += scratch[i] * xh[i];
            }
            mean_dxh /= d as f32;
            mean_dxh_xh /= d as f32;
            for i in 0..d {
                dxr[i] += r * (scratch[i] - mean_dxh - xh[i] * mean_dxh_xh);
            }
        }
    }
}

/// One block's saved forward state.
#[derive(Debug, Clone)]
struct BlockState {
    ln1: Norm,
    a: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    o: Vec<f32>,
    lse: Vec<f32>,
    ln2: Norm,
    c: Vec<f32>,
    u: Vec<f32>,
    gu: Vec<f32>,
}

/// Every intermediate of one step for a batch of B rows of N tokens, allocated once.
#[derive(Debug, Clone)]
pub struct Workspace {
    batch: usize,
    len: usize,
    h: Vec<f32>,
    blocks: Vec<BlockState>,
    ln_f: Norm,
    f: Vec<f32>,
    logits: Vec<f32>,
    p1: Vec<f32>,
    // Gradient buffers.
    dh: Vec<f32>,
    dx: Vec<f32>,
    d4: Vec<f32>,
    dq: Vec<f32>,
    dk: Vec<f32>,
    dv: Vec<f32>,
    scratch: Vec<f32>,
}

impl Workspace {
    /// Buffers for `batch` rows of `len` tokens of `shape`.
    pub fn new(shape: &Shape, batch: usize, len: usize) -> Self {
        let (m, d) = (batch * len, shape.d);
        let md = vec![0.0; m * d];
        let block = BlockState {
            ln1: Norm::new(m, d),
            a: md.clone(),
            q: md.clone(),
            k: md.clone(),
            v: md.clone(),
            o: md.clone(),
            lse: vec![0.0; m],
            ln2: Norm::new(m, d),
            c: md.clone(),
            u: vec![0.0; m * 4 * d],
            gu: vec![0.0; m * 4 * d],
        };
        Self {
            batch,
            len,
            h: md.clone(),
            blocks: vec![block; shape.layers],
            ln_f: Norm::new(m, d),
            f: md.clone(),
            logits: vec![0.0; m * shape.vocab],
            p1: vec![0.0; if shape.vocab == 2 { m } else { 0 }],
            dh: md.clone(),
            dx: md.clone(),
            d4: vec![0.0; m * 4 * d],
            dq: md.clone(),
            dk: md.clone(),
            dv: md,
            scratch: vec![0.0; d],
        }
    }
}

impl Workspace {
    /// After a forward pass with V = 2: P(x_{n+1} = 1) at each of the B·N tokens (row-major).
    pub fn p1(&self) -> &[f32] {
        &self.p1
    }
}

/// One forward and backward pass: the mean cross-entropy over the B·N tokens of `symbols` (B rows
/// of N + 1 symbols), with every gradient written into `grads` (overwritten; same names as `w`).
pub fn loss_and_grads(shape: &Shape, w: &Tensors, symbols: &[u32], ws: &mut Workspace, grads: &mut Tensors) -> f64 {
    let (loss, _) = forward(shape, w, symbols, ws, false);
    backward(shape, w, symbols, ws, grads);
    loss
}

/// The forward pass alone: the mean loss, and with `probe` the first block's attention probe
/// ‖attention output‖ / ‖h + attention output‖ averaged over tokens; [`Workspace::p1`] then holds
/// the model's P(x_{n+1} = 1) for V = 2.
pub fn forward(shape: &Shape, w: &Tensors, symbols: &[u32], ws: &mut Workspace, probe: bool) -> (f64, Option<f64>) {
    let (b, n, d, vocab) = (ws.batch, ws.len, shape.d, shape.vocab);
    let m = b * n;
    let lay = shape.layout();
    let at = |t: usize| symbols[(t / n) * (n + 1) + t % n] as usize;
    let target = |t: usize| symbols[(t / n) * (n + 1) + t % n + 1] as usize;
    let dims = attend::dims(b, n, d, shape.memory);
    let (wte, wpe) = (&w.data[lay.wte], &w.data[lay.wpe]);

    // Forward: embeddings.
    for t in 0..m {
        let hr = &mut ws.h[t * d..(t + 1) * d];
        hr.copy_from_slice(&wpe[(t % n) * d..(t % n + 1) * d]);
        axpy(1.0, &wte[at(t) * d..(at(t) + 1) * d], hr);
    }
    let mut ratio = None;
    for (blk, st) in lay.blocks.iter().zip(ws.blocks.iter_mut()) {
        st.ln1.forward(&ws.h, &w.data[blk.ln1], d, &mut st.a);
        let wqkv = &w.data[blk.c_attn];
        linear::forward(&st.a, &wqkv[..d * d], m, d, d, &mut st.q, false);
        linear::forward(&st.a, &wqkv[d * d..2 * d * d], m, d, d, &mut st.k, false);
        linear::forward(&st.a, &wqkv[2 * d * d..], m, d, d, &mut st.v, false);
        attend::forward(dims, &st.q, &st.k, &st.v, &mut st.o, &mut st.lse);
        // The first block's attention output apart for the probe (dx is free until the backward
        // pass); the other blocks add it in place.
        let probe_here = probe && ratio.is_none();
        let r = attend::add_projection(&st.o, &w.data[blk.c_proj], d, &mut ws.h, &mut ws.dx, probe_here);
        ratio = ratio.or(r);
        st.ln2.forward(&ws.h, &w.data[blk.ln2], d, &mut st.c);
        linear::forward(&st.c, &w.data[blk.c_fc], m, d, 4 * d, &mut st.u, false);
        gelu::forward(&st.u, &mut st.gu);
        linear::forward(&st.gu, &w.data[blk.mlp_proj], m, 4 * d, d, &mut ws.h, true);
    }
    ws.ln_f.forward(&ws.h, &w.data[lay.ln_f], d, &mut ws.f);
    let head = &w.data[lay.head];
    linear::forward(&ws.f, head, m, d, vocab, &mut ws.logits, false);
    // Cross-entropy; logits become ∂loss/∂logits.
    let inv_m = 1.0 / m as f32;
    let mut loss = 0.0f64;
    for t in 0..m {
        let l = &mut ws.logits[t * vocab..(t + 1) * vocab];
        for (lv, bv) in l.iter_mut().zip(&w.data[lay.bias]) {
            *lv += bv;
        }
        let mx = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let lse = mx + l.iter().map(|&v| (v - mx).exp()).sum::<f32>().ln();
        let y = target(t);
        loss += f64::from(lse - l[y]);
        if vocab == 2 {
            ws.p1[t] = (l[1] - lse).exp();
        }
        for (j, lv) in l.iter_mut().enumerate() {
            *lv = ((*lv - lse).exp() - if j == y { 1.0 } else { 0.0 }) * inv_m;
        }
    }
    (loss / m as f64, ratio)
}

/// The backward pass after [`forward`] on the same `symbols` (the workspace holds its
/// intermediates and ∂loss/∂logits): every gradient into `grads` (overwritten).
pub fn backward(shape: &Shape, w: &Tensors, symbols: &[u32], ws: &mut Workspace, grads: &mut Tensors) {
    let (b, n, d, vocab) = (ws.batch, ws.len, shape.d, shape.vocab);
    let m = b * n;
    let lay = shape.layout();
    let at = |t: usize| symbols[(t / n) * (n + 1) + t % n] as usize;
    let dims = attend::dims(b, n, d, shape.memory);
    let head = &w.data[lay.head];
    for g in &mut grads.data {
        g.fill(0.0);
    }
    let dl = &ws.logits;
    for t in 0..m {
        axpy(1.0, &dl[t * vocab..(t + 1) * vocab], &mut grads.data[lay.bias]);
    }
    linear::grad_weight(dl, &ws.f, m, d, vocab, &mut grads.data[lay.head]);
    linear::grad_input(dl, head, m, d, vocab, &mut ws.dx, false);
    ws.dh.fill(0.0);
    ws.ln_f.backward(&ws.dx, &w.data[lay.ln_f], d, &mut grads.data[lay.ln_f], &mut ws.dh, &mut ws.scratch);
    for (blk, st) in lay.blocks.iter().zip(ws.blocks.iter()).rev() {
        // h += mlp.c_proj · gelu(u): d(gelu) = dh W, du = d(gelu) ⊙ gelu′(u).
        linear::grad_weight(&ws.dh, &st.gu, m, 4 * d, d, &mut grads.data[blk.mlp_proj]);
        linear::grad_input(&ws.dh, &w.data[blk.mlp_proj], m, 4 * d, d, &mut ws.d4, false);
        gelu::backward(&st.u, &mut ws.d4);
        linear::grad_weight(&ws.d4, &st.c, m, d, 4 * d, &mut grads.data[blk.c_fc]);
        linear::grad_input(&ws.d4, &w.data[blk.c_fc], m, d, 4 * d, &mut ws.dx, false);
        st.ln2.backward(&ws.dx, &w.data[blk.ln2], d, &mut grads.data[blk.ln2], &mut ws.dh, &mut ws.scratch);
        // h += c_proj · o.
        linear::grad_weight(&ws.dh, &st.o, m, d, d, &mut grads.data[blk.c_proj]);
        linear::grad_input(&ws.dh, &w.data[blk.c_proj], m, d, d, &mut ws.dx, false);
        attend::backward(dims, (&st.q, &st.k, &st.v), &st.o, &st.lse, &ws.dx, &mut ws.dq, &mut ws.dk, &mut ws.dv);
        let wqkv = &w.data[blk.c_attn];
        {
            let dw = &mut grads.data[blk.c_attn];
            let (dwq, rest) = dw.split_at_mut(d * d);
            let (dwk, dwv) = rest.split_at_mut(d * d);
            linear::grad_weight(&ws.dq, &st.a, m, d, d, dwq);
            linear::grad_weight(&ws.dk, &st.a, m, d, d, dwk);
            linear::grad_weight(&ws.dv, &st.a, m, d, d, dwv);
        }
        linear::grad_input(&ws.dq, &wqkv[..d * d], m, d, d, &mut ws.dx, false);
        linear::grad_input(&ws.dk, &wqkv[d * d..2 * d * d], m, d, d, &mut ws.dx, true);
        linear::grad_input(&ws.dv, &wqkv[2 * d * d..], m, d, d, &mut ws.dx, true);
        st.ln1.backward(&ws.dx, &w.data[blk.ln1], d, &mut grads.data[blk.ln1], &mut ws.dh, &mut ws.scratch);
    }
    // h = wte[x] + wpe[n].
    for t in 0..m {
        let dh = &ws.dh[t * d..(t + 1) * d];
        axpy(1.0, dh, &mut grads.data[lay.wpe][(t % n) * d..(t % n + 1) * d]);
        axpy(1.0, dh, &mut grads.data[lay.wte][at(t) * d..(at(t) + 1) * d]);
    }
}
