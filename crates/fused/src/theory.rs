//! The theory model of spec markov §2a and its attention-free F15 variant, forward and backward in
//! one pass over buffers allocated once ([`Workspace`]):
//!
//! x_n = x_n·e + p_n (V = 2; V > 2: the state's row of e plus p_n),
//! y = x + W_O attn(W_Q x, W_K x, W_V x)   (causal, scale 1/√d, memory window m; F15: y = x),
//! z = y + W_2 relu(W_1 y),
//! logit = ⟨a, z⟩ + b (a = e when tied; V = 2 one logit and binary cross-entropy, V > 2 one logit
//! per state and cross-entropy), the loss their mean over the B·N tokens.
//!
//! The attention runs on `attnlab_kernels`' fused row kernels; the gradients are those of the
//! candle model (`attnlab_trainer::Model`), against which the tests check them.

use crate::attend;
use crate::linear::{self, axpy};

/// Shape of a theory (or F15 attention-free) model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Width d.
    pub d: usize,
    /// Context length N (rows of p).
    pub seq_len: usize,
    /// Vocabulary V (2: the scalar input x_n·e and one logit).
    pub vocab: usize,
    /// a = e.
    pub tying: bool,
    /// Memory window m (None: full causal attention).
    pub memory: Option<usize>,
    /// The attention layer (false: F15's attention-free model).
    pub attention: bool,
}

impl Shape {
    /// Rows of e and a: 1 for V = 2, else V.
    pub fn rows(&self) -> usize {
        if self.vocab == 2 { 1 } else { self.vocab }
    }
}

/// Parameters (or their gradients), each row-major, named as the candle model names them.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// e: rows × d.
    pub e: Vec<f32>,
    /// p: N × d.
    pub p: Vec<f32>,
    /// W_Q, W_K, W_V, W_O: d × d each (empty without attention).
    pub wq: Vec<f32>,
    /// W_K.
    pub wk: Vec<f32>,
    /// W_V.
    pub wv: Vec<f32>,
    /// W_O.
    pub wo: Vec<f32>,
    /// W_1: 4d × d.
    pub w1: Vec<f32>,
    /// W_2: d × 4d.
    pub w2: Vec<f32>,
    /// a: rows × d (empty when tied).
    pub a: Vec<f32>,
    /// b: rows.
    pub b: Vec<f32>,
}

impl Params {
    /// All zeros in `shape`'s sizes (a gradient accumulator).
    pub fn zeros(shape: &Shape) -> Self {
        let (d, r) = (shape.d, shape.rows());
        let att = if shape.attention { d * d } else { 0 };
        Self {
            e: vec![0.0; r * d],
            p: vec![0.0; shape.seq_len * d],
            wq: vec![0.0; att],
            wk: vec![0.0; att],
            wv: vec![0.0; att],
            wo: vec![0.0; att],
            w1: vec![0.0; 4 * d * d],
            w2: vec![0.0; 4 * d * d],
            a: if shape.tying { Vec::new() } else { vec![0.0; r * d] },
            b: vec![0.0; r],
        }
    }

    /// Every tensor by its candle name, in the candle model's order (absent ones left out).
    pub fn named(&self) -> Vec<(&'static str, &[f32])> {
        let all: [(&'static str, &[f32]); 10] = [
            ("e", &self.e),
            ("p", &self.p),
            ("W_Q", &self.wq),
            ("W_K", &self.wk),
            ("W_V", &self.wv),
            ("W_O", &self.wo),
            ("W_1", &self.w1),
            ("W_2", &self.w2),
            ("a", &self.a),
            ("b", &self.b),
        ];
        all.into_iter().filter(|(_, v)| !v.is_empty()).collect()
    }

    /// Mutable access by candle name.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Vec<f32>> {
        Some(match name {
            "e" => &mut self.e,
            "p" => &mut self.p,
            "W_Q" => &mut self.wq,
            "W_K" => &mut self.wk,
            "W_V" => &mut self.wv,
            "W_O" => &mut self.wo,
            "W_1" => &mut self.w1,
            "W_2" => &mut self.w2,
            "a" => &mut self.a,
            "b" => &mut self.b,
            _ => return None,
        })
    }

    fn fill_zero(&mut self) {
        for v in [
            &mut self.e,
            &mut self.p,
            &mut self.wq,
            &mut self.wk,
            &mut self.wv,
            &mut self.wo,
            &mut self.w1,
            &mut self.w2,
            &mut self.a,
            &mut self.b,
        ] {
            v.fill(0.0);
        }
    }
}

/// Whether AdamW's weight decay applies to the tensor called `name` (the Linear weights W_Q, W_K,
/// W_V, W_O, W_1, W_2 and an untied a, as the candle model's decay groups).
pub fn decays(name: &str) -> bool {
    name.starts_with("W_") || name == "a"
}

/// Every intermediate of one step for a batch of B rows of N tokens, allocated once.
#[derive(Debug, Clone)]
pub struct Workspace {
    batch: usize,
    len: usize,
    x: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    o: Vec<f32>,
    lse: Vec<f32>,
    y: Vec<f32>,
    h: Vec<f32>,
    z: Vec<f32>,
    logits: Vec<f32>,
    p1: Vec<f32>,
    // Gradients of the intermediates.
    dz: Vec<f32>,
    dh: Vec<f32>,
    dy: Vec<f32>,
    d_o: Vec<f32>,
    dq: Vec<f32>,
    dk: Vec<f32>,
    dv: Vec<f32>,
}

impl Workspace {
    /// Buffers for `batch` rows of `len` tokens of `shape`.
    pub fn new(shape: &Shape, batch: usize, len: usize) -> Self {
        let (m, d) = (batch * len, shape.d);
        let att = if shape.attention { m * d } else { 0 };
        let outs = shape.rows();
        Self {
            batch,
            len,
            x: vec![0.0; m * d],
            q: vec![0.0; att],
            k: vec![0.0; att],
            v: vec![0.0; att],
            o: vec![0.0; att],
            lse: vec![0.0; if shape.attention { m } else { 0 }],
            y: vec![0.0; m * d],
            h: vec![0.0; m * 4 * d],
            z: vec![0.0; m * d],
            logits: vec![0.0; m * outs],
            p1: vec![0.0; if shape.vocab == 2 { m } else { 0 }],
            dz: vec![0.0; m * d],
            dh: vec![0.0; m * 4 * d],
            dy: vec![0.0; m * d],
            d_o: vec![0.0; att],
            dq: vec![0.0; att],
            dk: vec![0.0; att],
            dv: vec![0.0; att],
        }
    }
}

impl Workspace {
    /// After a forward pass with V = 2: P(x_{n+1} = 1) at each of the B·N tokens (row-major).
    pub fn p1(&self) -> &[f32] {
        &self.p1
    }
}

/// One forward and backward pass: the mean loss over the B·N tokens of `symbols` (B rows of N + 1
/// symbols: inputs x_1..x_N, targets x_2..x_{N+1}), with the gradients written into `grads`
/// (overwritten, not accumulated).
pub fn loss_and_grads(shape: &Shape, w: &Params, symbols: &[u32], ws: &mut Workspace, grads: &mut Params) -> f64 {
    let (loss, _) = forward(shape, w, symbols, ws, false);
    backward(shape, w, symbols, ws, grads);
    loss
}

/// The forward pass alone: the mean loss, and with `probe` the attention probe
/// ‖attention output‖ / ‖x + attention output‖ averaged over tokens (None without attention or
/// probe); [`Workspace::p1`] then holds the model's P(x_{n+1} = 1) for V = 2.
pub fn forward(shape: &Shape, w: &Params, symbols: &[u32], ws: &mut Workspace, probe: bool) -> (f64, Option<f64>) {
    let (b, n, d) = (ws.batch, ws.len, shape.d);
    let m = b * n;
    let outs = shape.rows();
    let a = if shape.tying { &w.e } else { &w.a };
    let token = |t: usize| (symbols[(t / n) * (n + 1) + t % n], symbols[(t / n) * (n + 1) + t % n + 1]);
    debug_assert_eq!(symbols.len(), b * (n + 1));

    // Forward. x = x_n·e (or e[x_n]) + p_n.
    for t in 0..m {
        let (sym, _) = token(t);
        let xr = &mut ws.x[t * d..(t + 1) * d];
        xr.copy_from_slice(&w.p[(t % n) * d..(t % n + 1) * d]);
        if shape.vocab == 2 {
            axpy(sym as f32, &w.e, xr);
        } else {
            axpy(1.0, &w.e[sym as usize * d..(sym as usize + 1) * d], xr);
        }
    }
    ws.y.copy_from_slice(&ws.x);
    let mut ratio = None;
    if shape.attention {
        linear::forward(&ws.x, &w.wq, m, d, d, &mut ws.q, false);
        linear::forward(&ws.x, &w.wk, m, d, d, &mut ws.k, false);
        linear::forward(&ws.x, &w.wv, m, d, d, &mut ws.v, false);
        let dm = attend::dims(b, n, d, shape.memory);
        attend::forward(dm, &ws.q, &ws.k, &ws.v, &mut ws.o, &mut ws.lse);
        // y = x + o W_Oᵀ (dz is free until the backward pass: the probe's scratch).
        ratio = attend::add_projection(&ws.o, &w.wo, d, &mut ws.y, &mut ws.dz, probe);
    }
    // z = y + relu(y W_1ᵀ) W_2ᵀ (h holds the pre-activation).
    linear::forward(&ws.y, &w.w1, m, d, 4 * d, &mut ws.h, false);
    ws.z.copy_from_slice(&ws.y);
    // relu(h) into dh (as scratch) for the second product.
    for (r, &h) in ws.dh.iter_mut().zip(&ws.h) {
        *r = h.max(0.0);
    }
    linear::forward(&ws.dh, &w.w2, m, 4 * d, d, &mut ws.z, true);
    // Logits and the loss, and dlogits = ∂loss/∂logit (into logits' place after use).
    linear::forward(&ws.z, a, m, d, outs, &mut ws.logits, false);
    let inv_m = 1.0 / m as f32;
    let mut loss = 0.0f64;
    for t in 0..m {
        let (_, target) = token(t);
        let l = &mut ws.logits[t * outs..(t + 1) * outs];
        for (lv, bv) in l.iter_mut().zip(&w.b) {
            *lv += bv;
        }
        if outs == 1 {
            // softplus(l) − y·l; ∂/∂l = σ(l) − y.
            let (x, y) = (l[0], target as f32);
            loss += f64::from(x.max(0.0) + (-x.abs()).exp().ln_1p() - y * x);
            let p = 1.0 / (1.0 + (-x).exp());
            ws.p1[t] = p;
            l[0] = (p - y) * inv_m;
        } else {
            let mx = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = l.iter().map(|&v| (v - mx).exp()).sum();
            let lse = mx + sum.ln();
            loss += f64::from(lse - l[target as usize]);
            for (j, lv) in l.iter_mut().enumerate() {
                let pj = (*lv - lse).exp();
                *lv = (pj - if j == target as usize { 1.0 } else { 0.0 }) * inv_m;
            }
        }
    }
    (loss / m as f64, ratio)
}

/// The backward pass after [`forward`] on the same `symbols` (the workspace holds its
/// intermediates and ∂loss/∂logits): every gradient into `grads` (overwritten).
pub fn backward(shape: &Shape, w: &Params, symbols: &[u32], ws: &mut Workspace, grads: &mut Params) {
    let (b, n, d) = (ws.batch, ws.len, shape.d);
    let m = b * n;
    let outs = shape.rows();
    let a = if shape.tying { &w.e } else { &w.a };
    let token = |t: usize| (symbols[(t / n) * (n + 1) + t % n], symbols[(t / n) * (n + 1) + t % n + 1]);
    grads.fill_zero();
    let dl = &ws.logits;
    for t in 0..m {
        for (gb, &g) in grads.b.iter_mut().zip(&dl[t * outs..(t + 1) * outs]) {
            *gb += g;
        }
    }
    // da = dlᵀ z; dz = dl a.
    {
        let ga = if shape.tying { &mut grads.e } else { &mut grads.a };
        linear::grad_weight(dl, &ws.z, m, d, outs, ga);
    }
    linear::grad_input(dl, a, m, d, outs, &mut ws.dz, false);
    // z = y + W_2 relu(h): dW_2 = dzᵀ relu(h) (relu(h) still in dh), d relu = dz W_2.
    linear::grad_weight(&ws.dz, &ws.dh, m, 4 * d, d, &mut grads.w2);
    linear::grad_input(&ws.dz, &w.w2, m, 4 * d, d, &mut ws.dh, false);
    for (g, &h) in ws.dh.iter_mut().zip(&ws.h) {
        if h <= 0.0 {
            *g = 0.0;
        }
    }
    // h = y W_1ᵀ: dW_1 = dhᵀ y; dy = dz + dh W_1.
    linear::grad_weight(&ws.dh, &ws.y, m, d, 4 * d, &mut grads.w1);
    ws.dy.copy_from_slice(&ws.dz);
    linear::grad_input(&ws.dh, &w.w1, m, d, 4 * d, &mut ws.dy, true);
    // y = x + o W_Oᵀ: dx = dy (+ the attention's input gradients), do = dy W_O.
    if shape.attention {
        linear::grad_weight(&ws.dy, &ws.o, m, d, d, &mut grads.wo);
        linear::grad_input(&ws.dy, &w.wo, m, d, d, &mut ws.d_o, false);
        let dm = attend::dims(b, n, d, shape.memory);
        attend::backward(dm, (&ws.q, &ws.k, &ws.v), &ws.o, &ws.lse, &ws.d_o, &mut ws.dq, &mut ws.dk, &mut ws.dv);
        linear::grad_weight(&ws.dq, &ws.x, m, d, d, &mut grads.wq);
        linear::grad_weight(&ws.dk, &ws.x, m, d, d, &mut grads.wk);
        linear::grad_weight(&ws.dv, &ws.x, m, d, d, &mut grads.wv);
        linear::grad_input(&ws.dq, &w.wq, m, d, d, &mut ws.dy, true);
        linear::grad_input(&ws.dk, &w.wk, m, d, d, &mut ws.dy, true);
        linear::grad_input(&ws.dv, &w.wv, m, d, d, &mut ws.dy, true);
    }
    // x = x_n·e + p_n: de += x_n dx (or into the state's row), dp_n += dx.
    for t in 0..m {
        let (sym, _) = token(t);
        let dx = &ws.dy[t * d..(t + 1) * d];
        axpy(1.0, dx, &mut grads.p[(t % n) * d..(t % n + 1) * d]);
        if shape.vocab == 2 {
            axpy(sym as f32, dx, &mut grads.e);
        } else {
            axpy(1.0, dx, &mut grads.e[sym as usize * d..(sym as usize + 1) * d]);
        }
    }
}
