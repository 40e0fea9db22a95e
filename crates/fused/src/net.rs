//! One training run's model on the fused path: its parameters, gradients, AdamW moments and
//! workspace, behind the two calls a training loop makes — a step on a batch, an evaluation of a
//! batch — so the trainer can run either the candle model or this one on the same data streams.

use crate::adamw::{AdamState, AdamW};
use crate::{gpt, theory};

/// Which model (spec markov §2a theory, F15 attention-free, §2b GPT-style).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// §2a.
    Theory,
    /// F15: §2a without attention.
    Mlp,
    /// §2b.
    Gpt,
}

/// A model's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Architecture.
    pub arch: Arch,
    /// Width d.
    pub d: usize,
    /// Blocks L (GPT-style only; the theory model has one).
    pub layers: usize,
    /// Context length N.
    pub seq_len: usize,
    /// Vocabulary V.
    pub vocab: usize,
    /// Weight tying.
    pub tying: bool,
    /// Memory window m (None: full causal attention).
    pub memory: Option<usize>,
}

/// What an evaluation of one batch gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy over the batch's tokens (nats).
    pub loss: f64,
    /// The attention probe, when asked and the model has attention.
    pub attn_ratio: Option<f64>,
}

// One per training run, built once and never moved in a loop: the size difference is harmless.
#[allow(clippy::large_enum_variant)]
enum Model {
    Theory { shape: theory::Shape, w: theory::Params, g: theory::Params, ws: theory::Workspace },
    Gpt { shape: gpt::Shape, w: gpt::Tensors, g: gpt::Tensors, ws: gpt::Workspace },
}

/// A model on the fused path with its optimiser, for batches of `batch` rows of `seq_len` tokens.
pub struct Net {
    model: Model,
    names: Vec<String>,
    decay: Vec<bool>,
    opt: AdamState,
}

/// Why a [`Net`] cannot be built from the given parameters (each names the tensor).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// Not one tensor per parameter of the model.
    #[error("{given} tensors given, the model has {want}: {names:?}")]
    Count {
        /// Tensors given.
        given: usize,
        /// Tensors the model has.
        want: usize,
        /// Their names.
        names: Vec<String>,
    },
    /// A name the model does not have.
    #[error("the model has no tensor `{0}`")]
    Unknown(String),
    /// A tensor of the wrong size.
    #[error("`{name}` has {got} values, the model needs {want}")]
    Size {
        /// The tensor.
        name: String,
        /// Values given.
        got: usize,
        /// Values needed.
        want: usize,
    },
}

impl Net {
    /// A model of `spec` holding `params` — (name, values row-major) in the candle model's names,
    /// every tensor the model has and no other — with zero AdamW moments.
    pub fn new(spec: Spec, params: &[(String, Vec<f32>)], hp: AdamW, batch: usize) -> Result<Self, NetError> {
        let len = spec.seq_len;
        let mut model = match spec.arch {
            Arch::Theory | Arch::Mlp => {
                let shape = theory::Shape {
                    d: spec.d,
                    seq_len: spec.seq_len,
                    vocab: spec.vocab,
                    tying: spec.tying,
                    memory: spec.memory,
                    attention: spec.arch == Arch::Theory,
                };
                let w = theory::Params::zeros(&shape);
                Model::Theory { shape, g: w.clone(), w, ws: theory::Workspace::new(&shape, batch, len) }
            }
            Arch::Gpt => {
                let shape = gpt::Shape {
                    d: spec.d,
                    layers: spec.layers,
                    seq_len: spec.seq_len,
                    vocab: spec.vocab,
                    tying: spec.tying,
                    memory: spec.memory,
                };
                let w = shape.zeros();
                Model::Gpt { shape, g: w.clone(), w, ws: gpt::Workspace::new(&shape, batch, len) }
            }
        };
        let names: Vec<String> = match &model {
            Model::Theory { w, .. } => w.named().iter().map(|(n, _)| n.to_string()).collect(),
            Model::Gpt { w, .. } => w.names.clone(),
        };
        if params.len() != names.len() {
            return Err(NetError::Count { given: params.len(), want: names.len(), names });
        }
        for (name, values) in params {
            let slot = match &mut model {
                Model::Theory { w, .. } => w.get_mut(name),
                Model::Gpt { w, .. } => w.get_mut(name),
            }
            .ok_or_else(|| NetError::Unknown(name.clone()))?;
            if slot.len() != values.len() {
                return Err(NetError::Size { name: name.clone(), got: values.len(), want: slot.len() });
            }
            slot.copy_from_slice(values);
        }
        let decay =
            names.iter().map(|n| if spec.arch == Arch::Gpt { gpt::decays(n) } else { theory::decays(n) }).collect();
        let lens: Vec<usize> = names.iter().map(|n| Self::lookup(&model, n).map_or(0, <[f32]>::len)).collect();
        Ok(Self { model, names, decay, opt: AdamState::new(hp, &lens) })
    }

    fn lookup<'a>(model: &'a Model, name: &str) -> Option<&'a [f32]> {
        match model {
            Model::Theory { w, .. } => w.named().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v),
            Model::Gpt { w, .. } => w.get(name),
        }
    }

    /// One training step on `symbols` (batch rows of N + 1 symbols): the mean loss on the batch,
    /// then — only when it is finite — one AdamW update at `lr`. A non-finite loss leaves the
    /// weights as they were (the trainer stops there: the run diverged).
    pub fn step(&mut self, symbols: &[u32], lr: f64) -> f64 {
        let loss = match &mut self.model {
            Model::Theory { shape, w, g, ws } => theory::loss_and_grads(shape, w, symbols, ws, g),
            Model::Gpt { shape, w, g, ws } => gpt::loss_and_grads(shape, w, symbols, ws, g),
        };
        if !loss.is_finite() {
            return loss;
        }
        self.opt.begin_step();
        for (i, name) in self.names.iter().enumerate() {
            let decay = self.decay[i];
            match &mut self.model {
                Model::Theory { w, g, .. } => {
                    if let (Some(wv), Some(gv)) = (w.get_mut(name), g.get_mut(name)) {
                        self.opt.update(i, wv, gv, lr, decay);
                    }
                }
                Model::Gpt { w, g, .. } => self.opt.update(i, &mut w.data[i], &g.data[i], lr, decay),
            }
        }
        loss
    }

    /// The loss on `symbols` without training, the attention probe when `probe`, and then
    /// [`p1`](Self::p1) holds P(x_{n+1} = 1) at each token (V = 2).
    pub fn evaluate(&mut self, symbols: &[u32], probe: bool) -> Evaluation {
        let (loss, attn_ratio) = match &mut self.model {
            Model::Theory { shape, w, ws, .. } => theory::forward(shape, w, symbols, ws, probe),
            Model::Gpt { shape, w, ws, .. } => gpt::forward(shape, w, symbols, ws, probe),
        };
        Evaluation { loss, attn_ratio }
    }

    /// P(x_{n+1} = 1) per token after the last [`evaluate`](Self::evaluate) (V = 2; empty else).
    pub fn p1(&self) -> &[f32] {
        match &self.model {
            Model::Theory { ws, .. } => ws.p1(),
            Model::Gpt { ws, .. } => ws.p1(),
        }
    }

    /// The current parameters by name, in the candle model's order (to copy back into it).
    pub fn params(&self) -> Vec<(&str, &[f32])> {
        self.names.iter().filter_map(|n| Self::lookup(&self.model, n).map(|v| (n.as_str(), v))).collect()
    }
}
