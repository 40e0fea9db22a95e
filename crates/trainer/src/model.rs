//! The three Markov-paper models (spec markov §2a theory, §2b GPT-style, F15 attention-free), built
//! from seeded draws and candle `Var`s, with their losses.

use candle_core::{DType, Device, Result, Tensor, Var};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::attention::{self, Impl};
use crate::ops;

/// Which architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Spec §2b: pre-LN (weight, no bias), GELU MLP, LN_f, 2-logit head with bias, learned positions.
    Gpt,
    /// Spec §2a: x_n·e + p_n, one attention layer and a ReLU FFN, no layer norm, output ⟨a, z⟩ + b.
    Theory,
    /// F15: the theory model with the attention layer removed.
    Mlp,
}

impl Arch {
    /// Name as used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Gpt => "gpt",
            Arch::Theory => "theory",
            Arch::Mlp => "mlp",
        }
    }
}

/// Shape of a model (already validated by [`crate::TrainConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Architecture.
    pub arch: Arch,
    /// Width d.
    pub d: usize,
    /// Number of blocks L (GPT only; the theory model has one).
    pub layers: usize,
    /// Context length N (size of the learned positions).
    pub seq_len: usize,
    /// Vocabulary size V (2 for binary chains).
    pub vocab: usize,
    /// Weight tying (GPT: lm_head = wte; theory/MLP: a = e).
    pub tying: bool,
    /// Memory mask m (None = full causal attention).
    pub memory: Option<usize>,
    /// Std of the Gaussian init (0.02 in the reference).
    pub init_std: f64,
}

/// One named trainable tensor with its AdamW decay group.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name, PyTorch-style (`blocks.0.attn.c_attn.weight`).
    pub name: String,
    /// The variable.
    pub var: Var,
    /// Whether weight decay applies (Linear weights only, spec §2b).
    pub decay: bool,
}

/// A model: its parameters and architecture.
#[derive(Debug, Clone)]
pub struct Model {
    /// Shape.
    pub spec: ModelSpec,
    /// Parameters in a fixed order.
    pub params: Vec<Param>,
    /// Attention implementation.
    pub attention: Impl,
}

/// One batch as tensors.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Rows B.
    pub batch: usize,
    /// Positions N.
    pub len: usize,
    /// Input symbols x_1..x_N, (B·N) u32.
    pub ids: Tensor,
    /// Input symbols as floats, (B·N, 1) (theory model, V = 2).
    pub xf: Tensor,
    /// Targets x_2..x_{N+1} one-hot, (B·N, V).
    pub onehot: Tensor,
    /// Targets as floats, (B·N, 1).
    pub yf: Tensor,
    /// Per-row weights summing to 1 (None = uniform 1/B); the exact loss weights rows by probability.
    pub row_weight: Option<Tensor>,
}

impl Batch {
    /// Builds a batch from `batch` rows of `len + 1` symbols (row-major).
    pub fn from_symbols(
        symbols: &[u32],
        batch: usize,
        len: usize,
        vocab: usize,
        dtype: DType,
        dev: &Device,
    ) -> Result<Self> {
        let mut ids = Vec::with_capacity(batch * len);
        let mut xf = Vec::with_capacity(batch * len);
        let mut yf = Vec::with_capacity(batch * len);
        let mut onehot = vec![0f32; batch * len * vocab];
        for b in 0..batch {
            let row = &symbols[b * (len + 1)..(b + 1) * (len + 1)];
            for n in 0..len {
                ids.push(row[n]);
                xf.push(row[n] as f32);
                yf.push(row[n + 1] as f32);
                onehot[(b * len + n) * vocab + row[n + 1] as usize] = 1.0;
            }
        }
        Ok(Self {
            batch,
            len,
            ids: Tensor::from_vec(ids, batch * len, dev)?,
            xf: Tensor::from_vec(xf, (batch * len, 1), dev)?.to_dtype(dtype)?,
            onehot: Tensor::from_vec(onehot, (batch * len, vocab), dev)?.to_dtype(dtype)?,
            yf: Tensor::from_vec(yf, (batch * len, 1), dev)?.to_dtype(dtype)?,
            row_weight: None,
        })
    }
}

/// What a forward pass returns.
#[derive(Debug)]
pub struct Forward {
    /// Mean cross-entropy in nats (scalar).
    pub loss: Tensor,
    /// Predicted P(x_{n+1} = v), (B·N, V).
    pub probs: Tensor,
    /// ‖attention output‖ / ‖x + attention output‖ per token, averaged (first layer), if asked.
    pub attn_ratio: Option<f64>,
}

fn draw(rng: &mut impl Rng, shape: &[usize], std: f64, dtype: DType, dev: &Device) -> Result<Var> {
    let n: usize = shape.iter().product();
    let normal = Normal::new(0.0, std).map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let v: Vec<f64> = (0..n).map(|_| if std > 0.0 { normal.sample(rng) } else { 0.0 }).collect();
    Var::from_tensor(&Tensor::from_vec(v, shape, dev)?.to_dtype(dtype)?)
}

impl Model {
    /// Draws a model: every Linear/Embedding weight ~ N(0, std²), the two residual output
    /// projections ~ N(0, (std/√(2L))²), biases 0, LN weights 1 (spec §2b; the theory model uses
    /// the same rule). (A training binary also switches on `attnlab_kernels::alloc`.)
    pub fn init(spec: ModelSpec, rng: &mut impl Rng, dtype: DType, dev: &Device) -> Result<Self> {
        let (d, s) = (spec.d, spec.init_std);
        let s_proj = s / (2.0 * spec.layers as f64).sqrt();
        let mut params = Vec::new();
        let mut add = |name: String, var: Var, decay: bool| params.push(Param { name, var, decay });
        let ones = |n: usize| Var::from_tensor(&Tensor::ones(n, dtype, dev)?);
        match spec.arch {
            Arch::Gpt => {
                add("wte.weight".into(), draw(rng, &[spec.vocab, d], s, dtype, dev)?, false);
                add("wpe.weight".into(), draw(rng, &[spec.seq_len, d], s, dtype, dev)?, false);
                for l in 0..spec.layers {
                    add(format!("blocks.{l}.ln_1.weight"), ones(d)?, false);
                    add(format!("blocks.{l}.attn.c_attn.weight"), draw(rng, &[3 * d, d], s, dtype, dev)?, true);
                    add(format!("blocks.{l}.attn.c_proj.weight"), draw(rng, &[d, d], s_proj, dtype, dev)?, true);
                    add(format!("blocks.{l}.ln_2.weight"), ones(d)?, false);
                    add(format!("blocks.{l}.mlp.c_fc.weight"), draw(rng, &[4 * d, d], s, dtype, dev)?, true);
                    add(format!("blocks.{l}.mlp.c_proj.weight"), draw(rng, &[d, 4 * d], s_proj, dtype, dev)?, true);
                }
                add("ln_f.weight".into(), ones(d)?, false);
                if !spec.tying {
                    add("lm_head.weight".into(), draw(rng, &[spec.vocab, d], s, dtype, dev)?, true);
                }
                add("lm_head.bias".into(), Var::from_tensor(&Tensor::zeros(spec.vocab, dtype, dev)?)?, false);
            }
            Arch::Theory | Arch::Mlp => {
                // V = 2: the scalar input x_n·e (spec §2a). V > 2: one embedding row per state.
                let rows = if spec.vocab == 2 { 1 } else { spec.vocab };
                add("e".into(), draw(rng, &[rows, d], s, dtype, dev)?, false);
                add("p".into(), draw(rng, &[spec.seq_len, d], s, dtype, dev)?, false);
                if spec.arch == Arch::Theory {
                    for w in ["W_Q", "W_K", "W_V"] {
                        add(w.into(), draw(rng, &[d, d], s, dtype, dev)?, true);
                    }
                    add("W_O".into(), draw(rng, &[d, d], s_proj, dtype, dev)?, true);
                }
                add("W_1".into(), draw(rng, &[4 * d, d], s, dtype, dev)?, true);
                add("W_2".into(), draw(rng, &[d, 4 * d], s_proj, dtype, dev)?, true);
                if !spec.tying {
                    add("a".into(), draw(rng, &[rows, d], s, dtype, dev)?, true);
                }
                let outs = if spec.vocab == 2 { 1 } else { spec.vocab };
                add("b".into(), Var::from_tensor(&Tensor::zeros(outs, dtype, dev)?)?, false);
            }
        }
        Ok(Self { spec, params, attention: Impl::Auto })
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Result<&Param> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| candle_core::Error::Msg(format!("no parameter `{name}`")))
    }

    /// The value of the parameter called `name`.
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        Ok(self.param(name)?.var.as_tensor())
    }

    /// Theory/MLP input embedding before positions: x_n·e (V = 2, spec §2a) or the state's row of e.
    fn embed_theory(&self, batch: &Batch) -> Result<Tensor> {
        let e = self.get("e")?;
        if self.spec.vocab == 2 { batch.xf.broadcast_mul(e) } else { e.index_select(&batch.ids, 0) }
    }

    /// [W_Q; W_K; W_V] stacked, (3d × d).
    fn theory_wqkv(&self) -> Result<Tensor> {
        Tensor::cat(&[self.get("W_Q")?, self.get("W_K")?, self.get("W_V")?], 0)
    }

    /// Total number of scalars.
    pub fn num_params(&self) -> usize {
        self.params.iter().map(|p| p.var.elem_count()).sum()
    }

    /// The forward pass and mean cross-entropy (row-weighted when the batch carries weights).
    pub fn forward(&self, batch: &Batch, probe: bool) -> Result<Forward> {
        let (b, n, d) = (batch.batch, batch.len, self.spec.d);
        let pos = self.get(if self.spec.arch == Arch::Gpt { "wpe.weight" } else { "p" })?.narrow(0, 0, n)?;
        let add_pos = |h: Tensor| -> Result<Tensor> { h.reshape((b, n, d))?.broadcast_add(&pos)?.reshape((b * n, d)) };
        let mut ratio = None;
        let logits = match self.spec.arch {
            Arch::Gpt => {
                let mut h = add_pos(self.get("wte.weight")?.index_select(&batch.ids, 0)?)?;
                for l in 0..self.spec.layers {
                    let w = |s: &str| self.get(&format!("blocks.{l}.{s}"));
                    let a = layer_norm(&h, w("ln_1.weight")?)?;
                    let qkv = a.matmul(&w("attn.c_attn.weight")?.t()?)?;
                    let att = self.attend(&qkv, b, n, d)?.matmul(&w("attn.c_proj.weight")?.t()?)?;
                    if probe && l == 0 {
                        ratio = Some(norm_ratio(&att, &(&h + &att)?)?);
                    }
                    h = (h + att)?;
                    let m = layer_norm(&h, w("ln_2.weight")?)?.matmul(&w("mlp.c_fc.weight")?.t()?)?;
                    let m = ops::gelu(&m)?;
                    h = (&h + m.matmul(&w("mlp.c_proj.weight")?.t()?)?)?;
                }
                let h = layer_norm(&h, self.get("ln_f.weight")?)?;
                let head = if self.spec.tying { self.get("wte.weight")? } else { self.get("lm_head.weight")? };
                h.matmul(&head.t()?)?.broadcast_add(self.get("lm_head.bias")?)?
            }
            Arch::Theory | Arch::Mlp => {
                let e = self.get("e")?;
                let x = add_pos(self.embed_theory(batch)?)?;
                let y = if self.spec.arch == Arch::Theory {
                    let qkv = x.matmul(&self.theory_wqkv()?.t()?)?;
                    let att = self.attend(&qkv, b, n, d)?.matmul(&self.get("W_O")?.t()?)?;
                    let y = (&x + &att)?;
                    if probe {
                        ratio = Some(norm_ratio(&att, &y)?);
                    }
                    y
                } else {
                    x
                };
                let z = (&y + y.matmul(&self.get("W_1")?.t()?)?.relu()?.matmul(&self.get("W_2")?.t()?)?)?;
                let a = if self.spec.tying { e } else { self.get("a")? };
                z.matmul(&a.t()?)?.broadcast_add(self.get("b")?)?
            }
        };
        let scalar = logits.dim(1)? == 1;
        // Per-token cross-entropy, then the (weighted) mean.
        let (tok, probs) = if scalar {
            // BCE with logits: softplus(l) − y·l, softplus(l) = relu(l) + ln(1 + e^{−|l|}).
            let abs = logits.abs()?;
            let softplus = (logits.relu()? + (abs.neg()?.exp()? + 1.0)?.log()?)?;
            let tok = (softplus - (&batch.yf * &logits)?)?;
            let p1 = sigmoid(&logits)?;
            let probs = Tensor::cat(&[(1.0 - &p1)?, p1], 1)?;
            (tok, probs)
        } else {
            ops::cross_entropy(&logits, &batch.onehot)?
        };
        let loss = match &batch.row_weight {
            None => tok.mean_all()?,
            Some(w) => tok.reshape((b, n))?.mean(1)?.mul(w)?.sum_all()?,
        };
        Ok(Forward { loss, probs: probs.detach(), attn_ratio: ratio })
    }

    fn attend(&self, qkv: &Tensor, b: usize, n: usize, d: usize) -> Result<Tensor> {
        debug_assert_eq!(qkv.dims2()?, (b * n, 3 * d));
        attention::causal_qkv(qkv, b, n, self.spec.memory, self.attention)
    }

    /// Attention matrix of the first layer on one sequence of symbols (first `n` positions),
    /// (n × n) row-major, for F14.
    pub fn attention_matrix(&self, symbols: &[u32], n: usize) -> Result<Vec<Vec<f64>>> {
        let (dev, dtype) = (self.params[0].var.device().clone(), self.params[0].var.dtype());
        let mut seq: Vec<u32> = symbols[..n].to_vec();
        seq.push(0);
        let batch = Batch::from_symbols(&seq, 1, n, self.spec.vocab, dtype, &dev)?;
        let d = self.spec.d;
        let pos = self.get(if self.spec.arch == Arch::Gpt { "wpe.weight" } else { "p" })?.narrow(0, 0, n)?;
        let (x, wqkv) = match self.spec.arch {
            Arch::Gpt => {
                let h = self.get("wte.weight")?.index_select(&batch.ids, 0)?.broadcast_add(&pos)?;
                (layer_norm(&h, self.get("blocks.0.ln_1.weight")?)?, self.get("blocks.0.attn.c_attn.weight")?.clone())
            }
            Arch::Theory => (self.embed_theory(&batch)?.broadcast_add(&pos)?, self.theory_wqkv()?),
            Arch::Mlp => return Err(candle_core::Error::Msg("the MLP model has no attention".into())),
        };
        let qkv = x.matmul(&wqkv.t()?)?;
        let q = qkv.narrow(1, 0, d)?.contiguous()?.reshape((1, n, d))?;
        let k = qkv.narrow(1, d, d)?.contiguous()?.reshape((1, n, d))?;
        let w = attention::weights(&q, &k, self.spec.memory)?.squeeze(0)?.to_dtype(DType::F64)?;
        w.to_vec2::<f64>()
    }
}

/// Layer norm with a weight and no bias (eps 1e-5): the fused op of [`ops::layer_norm`] with its
/// own backward (candle's fused layer norm drops gradients, DEVELOPERS.md).
pub fn layer_norm(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    ops::layer_norm(x, w)
}

/// σ(x) = 1/(1 + e^{−x}).
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    (x.neg()?.exp()? + 1.0)?.recip()
}

fn norm_ratio(num: &Tensor, den: &Tensor) -> Result<f64> {
    let a = num.sqr()?.sum_keepdim(1)?.sqrt()?;
    let b = den.sqr()?.sum_keepdim(1)?.sqrt()?;
    let r = a.div(&(b + 1e-12)?)?.mean_all()?.to_dtype(DType::F64)?;
    r.to_scalar::<f64>()
}
