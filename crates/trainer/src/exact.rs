//! The exact finite-N population loss of the theory model (spec markov §2a) on a stationary binary
//! chain, by enumerating all 2^(N+1) sequences weighted by their probability, in f64; its gradient
//! (autograd) and Hessian (central differences of gradients), and the explicit critical points θ*
//! (bigram) and θ_π (unigram) of spec §3 "Explicit critical points".

use attnlab_markov::BinaryChain;
use attnlab_markov::ChainTheory;
use candle_core::{DType, Device, Result, Tensor};
use nalgebra::{DMatrix, SymmetricEigen};

use crate::attention::Impl;
use crate::model::{Arch, Batch, Model, ModelSpec};

/// All sequences of length N + 1 with their stationary-chain probabilities, as one weighted batch.
#[derive(Debug)]
pub struct ExactData {
    /// The chain.
    pub chain: BinaryChain,
    /// Positions N.
    pub len: usize,
    /// The weighted batch (2^(N+1) rows).
    pub batch: Batch,
    /// Row probabilities (sum 1).
    pub weights: Vec<f64>,
    /// Row symbols (N + 1 each).
    pub symbols: Vec<u32>,
}

/// Enumerates the 2^(N+1) sequences of a stationary binary chain (N ≤ 16).
pub fn enumerate(chain: BinaryChain, len: usize) -> Result<ExactData> {
    if len == 0 || len > 16 {
        candle_core::bail!("exact loss: N = {len} must be in 1..=16");
    }
    let t = ChainTheory::new(&chain);
    let rows = 1usize << (len + 1);
    let mut symbols = Vec::with_capacity(rows * (len + 1));
    let mut weights = Vec::with_capacity(rows);
    for r in 0..rows {
        let seq: Vec<u32> = (0..=len).map(|i| ((r >> i) & 1) as u32).collect();
        let mut w = if seq[0] == 1 { t.pi1 } else { t.pi0 };
        for pair in seq.windows(2) {
            let p1 = if pair[0] == 0 { t.p } else { 1.0 - t.q };
            w *= if pair[1] == 1 { p1 } else { 1.0 - p1 };
        }
        weights.push(w);
        symbols.extend(seq);
    }
    let dev = Device::Cpu;
    let mut batch = Batch::from_symbols(&symbols, rows, len, 2, DType::F64, &dev)?;
    batch.row_weight = Some(Tensor::from_slice(&weights, rows, &dev)?);
    Ok(ExactData { chain, len, batch, weights, symbols })
}

/// The exact conditional entropy (1/N) Σ_n E[−ln P(x_{n+1} | x_n)] of the enumerated sequences,
/// computed from the chain alone (no model) — the loss of the Bayes predictor.
pub fn exact_entropy(data: &ExactData) -> f64 {
    let t = ChainTheory::new(&data.chain);
    let n = data.len;
    let mut total = 0.0;
    for (r, w) in data.weights.iter().enumerate() {
        let seq = &data.symbols[r * (n + 1)..(r + 1) * (n + 1)];
        let mut s = 0.0;
        for pair in seq.windows(2) {
            let p1 = if pair[0] == 0 { t.p } else { 1.0 - t.q };
            s -= if pair[1] == 1 { p1.ln() } else { (1.0 - p1).ln() };
        }
        total += w * s / n as f64;
    }
    total
}

/// A theory model (f64, naive attention) with every parameter 0.
pub fn zero_model(d: usize, len: usize, tying: bool) -> Result<Model> {
    let spec =
        ModelSpec { arch: Arch::Theory, d, layers: 1, seq_len: len, vocab: 2, tying, memory: None, init_std: 0.0 };
    let mut rng = attnlab_core::rng::seeded_rng(0);
    let mut m = Model::init(spec, &mut rng, DType::F64, &Device::Cpu)?;
    m.attention = Impl::Naive;
    Ok(m)
}

fn set(model: &Model, name: &str, values: Vec<f64>) -> Result<()> {
    let p = model.param(name)?;
    let shape = p.var.shape().clone();
    p.var.set(&Tensor::from_vec(values, shape, &Device::Cpu)?)
}

/// θ_π (spec §3): e = a = 0, b = ln(p/q), everything else 0; f ≡ π1.
pub fn theta_pi(chain: BinaryChain, d: usize, len: usize, tying: bool) -> Result<Model> {
    let m = zero_model(d, len, tying)?;
    set(&m, "b", vec![ChainTheory::new(&chain).unigram_logit])?;
    Ok(m)
}

/// θ* (spec §3): b = ℓ0, logit slope s*, attention off (W_V = 0), positions 0. Tied with s* > 0:
/// ‖e‖² = s*; tied with s* < 0: ‖e‖ = 1 and the FFN flips the sign (W_1 = u eᵀ, W_2 = −k e uᵀ/‖u‖²,
/// k = 1 − s*); untied: ‖e‖ = 1, a = s*·e.
pub fn theta_star(chain: BinaryChain, d: usize, len: usize, tying: bool) -> Result<Model> {
    let t = ChainTheory::new(&chain);
    let m = zero_model(d, len, tying)?;
    set(&m, "b", vec![t.logit0])?;
    let unit = |scale: f64| -> Vec<f64> { (0..d).map(|i| if i == 0 { scale } else { 0.0 }).collect() };
    if !tying {
        set(&m, "e", unit(1.0))?;
        set(&m, "a", unit(t.slope))?;
    } else if t.slope >= 0.0 {
        set(&m, "e", unit(t.slope.sqrt()))?;
    } else {
        set(&m, "e", unit(1.0))?;
        let k = 1.0 - t.slope;
        let h = 4 * d;
        // u = (1, …, 1) ∈ R^{4d}: W_1 = u eᵀ (4d × d), W_2 = −k e uᵀ/‖u‖² (d × 4d).
        let w1: Vec<f64> = (0..h * d).map(|i| if i % d == 0 { 1.0 } else { 0.0 }).collect();
        let w2: Vec<f64> = (0..d * h).map(|i| if i / h == 0 { -k / h as f64 } else { 0.0 }).collect();
        set(&m, "W_1", w1)?;
        set(&m, "W_2", w2)?;
    }
    Ok(m)
}

/// The exact loss L(θ) in nats.
pub fn loss(model: &Model, data: &ExactData) -> Result<f64> {
    model.forward(&data.batch, false)?.loss.to_scalar::<f64>()
}

/// All parameters flattened in `model.params` order.
pub fn flat(model: &Model) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for p in &model.params {
        out.extend(p.var.flatten_all()?.to_vec1::<f64>()?);
    }
    Ok(out)
}

/// Writes flattened parameters back.
pub fn set_flat(model: &Model, theta: &[f64]) -> Result<()> {
    let mut at = 0;
    for p in &model.params {
        let n = p.var.elem_count();
        p.var.set(&Tensor::from_slice(&theta[at..at + n], p.var.shape().clone(), &Device::Cpu)?)?;
        at += n;
    }
    Ok(())
}

/// ∇L(θ), flattened (autograd, f64).
pub fn gradient(model: &Model, data: &ExactData) -> Result<Vec<f64>> {
    let f = model.forward(&data.batch, false)?;
    let grads = f.loss.backward()?;
    let mut out = Vec::new();
    for p in &model.params {
        match grads.get(p.var.as_tensor()) {
            Some(g) => out.extend(g.flatten_all()?.to_vec1::<f64>()?),
            None => out.extend(std::iter::repeat_n(0.0, p.var.elem_count())),
        }
    }
    Ok(out)
}

/// Hessian by central differences of the gradient with step h, symmetrised.
pub fn hessian(model: &Model, data: &ExactData, h: f64) -> Result<DMatrix<f64>> {
    let theta = flat(model)?;
    let n = theta.len();
    let mut hm = DMatrix::zeros(n, n);
    let mut work = theta.clone();
    for i in 0..n {
        work[i] = theta[i] + h;
        set_flat(model, &work)?;
        let gp = gradient(model, data)?;
        work[i] = theta[i] - h;
        set_flat(model, &work)?;
        let gm = gradient(model, data)?;
        work[i] = theta[i];
        for j in 0..n {
            hm[(i, j)] = (gp[j] - gm[j]) / (2.0 * h);
        }
    }
    set_flat(model, &theta)?;
    Ok((&hm + hm.transpose()) * 0.5)
}

/// Smallest eigenvalue of a symmetric matrix.
pub fn min_eigenvalue(h: &DMatrix<f64>) -> f64 {
    SymmetricEigen::new(h.clone()).eigenvalues.iter().copied().fold(f64::INFINITY, f64::min)
}

/// c = ∂L/∂(slope) at slope 0 on the unigram point = π1(π1 − 1 + q) = pq(p+q−1)/(p+q)² (spec §3).
pub fn slope_derivative(chain: BinaryChain) -> f64 {
    let t = ChainTheory::new(&chain);
    t.pi1 * (t.pi1 - 1.0 + t.q)
}
