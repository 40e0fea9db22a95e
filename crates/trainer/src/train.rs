//! The training loop: seeded data and init, AdamW + OneCycle, evaluation on fresh batches every k
//! steps, divergence detection. How a run ended and its plateau at U are judgements, made from the
//! stored curve by the lab's claims (`attnlab_lab::markov::claims::train::ending`), not here.

use std::time::Instant;

use attnlab_core::rng::{child_seed, seeded_rng};
use attnlab_markov::sample::{Start, sample_binary, sample_lagged, sample_multistate};
use candle_core::{DType, Device, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::TrainError;
use crate::config::{Data, TrainConfig};
use crate::model::{Arch, Batch, Model, Param};
use crate::optim::{AdamState, OneCycle};

/// Occurrences of the conditioning state 0 read off the test sequence (F5, F7, F12: "the first 100").
pub const OCCURRENCES: usize = 100;
/// Side of the attention matrix kept for F14 ("the first 30×30").
pub const ATTENTION_SIDE: usize = 30;

/// One evaluation on fresh batches.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Eval {
    /// Iteration (number of optimiser steps taken before this evaluation).
    pub iter: usize,
    /// Mean cross-entropy over the evaluation batches (nats).
    pub loss: f64,
    /// Standard error of that mean across batches.
    pub se: f64,
    /// Model's P(x_{n+1} = 1 | conditioning symbol = 0), averaged over positions (binary data;
    /// the conditioning symbol is x_{n−k+1} for the lagged order-k chain).
    pub p1_given_0: Option<f64>,
    /// Same, conditioning symbol = 1.
    pub p1_given_1: Option<f64>,
    /// ‖attention output‖/‖x + attention output‖ of the first layer (F13), when probed.
    pub attn_ratio: Option<f64>,
}

/// Everything a run produces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// The config that produced it.
    pub config: TrainConfig,
    /// Number of parameters.
    pub num_params: usize,
    /// Final loss on `final_batches` fresh held-out batches (nats); None if diverged.
    pub final_loss: Option<f64>,
    /// Its standard error.
    pub final_loss_se: Option<f64>,
    /// H* of the data.
    pub entropy_rate: f64,
    /// U of the data.
    pub unigram_loss: f64,
    /// π1 (binary data).
    pub pi1: Option<f64>,
    /// Final P(1 | 0).
    pub p1_given_0: Option<f64>,
    /// Final P(1 | 1).
    pub p1_given_1: Option<f64>,
    /// Iteration at which the loss became non-finite.
    pub diverged_at: Option<usize>,
    /// Evaluations every `eval_every` steps (and at the end).
    pub curve: Vec<Eval>,
    /// Training loss of every step (on the training batch).
    pub train_loss: Vec<f64>,
    /// The trained model's P̂(x_{n+1} = 1 | conditioning symbol = 0) at the first
    /// [`OCCURRENCES`] positions of one held-out test sequence whose conditioning symbol (x_n, or
    /// x_{n−k+1} for the lagged chain) is 0, in order (F5, F7, F12; binary data only, else empty).
    #[serde(default)]
    pub occurrences: Vec<f64>,
    /// First-layer attention matrix of the trained model on the test sequence, first
    /// [`ATTENTION_SIDE`] positions, row n = query n (F14; only when `probe` is set and the model
    /// has attention).
    #[serde(default)]
    pub attention: Option<Vec<Vec<f64>>>,
    /// Wall time (s).
    pub wall_s: f64,
}

/// Theory numbers of the data.
pub fn reference_lines(data: &Data) -> (f64, f64, Option<f64>) {
    match data {
        Data::Binary { chain, .. } => {
            let t = attnlab_markov::ChainTheory::new(chain);
            (t.entropy_rate, t.unigram_loss, Some(t.pi1))
        }
        Data::Lagged { chain } => {
            let t = attnlab_markov::LaggedTheory::new(chain);
            (t.entropy_rate, t.unigram_loss, Some(t.base.pi1))
        }
        Data::MultiState { chain } => {
            let t = attnlab_markov::MultiStateTheory::new(chain);
            (t.entropy_rate, t.unigram_loss, None)
        }
    }
}

/// Draws `batch` rows of `len + 1` symbols.
pub fn sample(data: &Data, batch: usize, len: usize, rng: &mut impl Rng) -> Vec<u32> {
    match data {
        Data::Binary { chain, uniform_start } => {
            let start = if *uniform_start { Start::Uniform } else { Start::Stationary };
            sample_binary(chain, batch, len + 1, start, rng).into_iter().map(u32::from).collect()
        }
        Data::Lagged { chain } => sample_lagged(chain, batch, len + 1, rng).into_iter().map(u32::from).collect(),
        Data::MultiState { chain } => sample_multistate(chain, batch, len + 1, rng),
    }
}

/// Lag of the conditioning symbol for P(1 | ·): k for the lagged chain, 1 otherwise.
fn lag(data: &Data) -> usize {
    match data {
        Data::Lagged { chain } => chain.order(),
        _ => 1,
    }
}

/// Model, data and device for one run.
pub struct Run {
    /// The config.
    pub config: TrainConfig,
    /// The model (after training: the trained weights).
    pub model: Model,
    pub(crate) dev: Device,
}

impl Run {
    /// Draws the initial model from `child_seed(seed, 0)`.
    pub fn new(config: TrainConfig) -> Result<Self, TrainError> {
        let dev = Device::Cpu;
        let mut rng = seeded_rng(child_seed(config.seed, 0));
        let model = Model::init(config.model_spec(), &mut rng, DType::F32, &dev)?;
        Ok(Self { config, model, dev })
    }

    /// Evaluates the model on `batches` fresh batches from `rng`.
    pub fn evaluate(&self, iter: usize, batches: usize, probe: bool, rng: &mut impl Rng) -> Result<Eval, TrainError> {
        let c = &self.config;
        let (b, n) = (c.batch, c.seq_len);
        let k = lag(&c.data);
        let mut losses = Vec::with_capacity(batches);
        let (mut s0, mut c0, mut s1, mut c1) = (0.0, 0usize, 0.0, 0usize);
        let mut ratio = 0.0;
        for _ in 0..batches {
            let sym = sample(&c.data, b, n, rng);
            let batch = Batch::from_symbols(&sym, b, n, c.vocab(), DType::F32, &self.dev)?;
            let f = self.model.forward(&batch, probe)?;
            losses.push(f64::from(f.loss.to_scalar::<f32>()?));
            ratio += f.attn_ratio.unwrap_or(0.0);
            if c.vocab() == 2 {
                let p1 = f.probs.narrow(1, 1, 1)?.flatten_all()?.to_vec1::<f32>()?;
                for row in 0..b {
                    // Position n predicts x_{n+1}; its conditioning symbol is x_{n+1−k} (index n+1−k).
                    for t in (k - 1)..n {
                        let cond = sym[row * (n + 1) + t + 1 - k];
                        let p = f64::from(p1[row * n + t]);
                        if cond == 0 {
                            (s0 += p, c0 += 1)
                        } else {
                            (s1 += p, c1 += 1)
                        };
                    }
                }
            }
        }
        let ms = attnlab_core::stats::MeanSe::of(&losses);
        let mean = |s: f64, c: usize| (c > 0).then(|| s / c as f64);
        Ok(Eval {
            iter,
            loss: ms.mean,
            se: ms.se,
            p1_given_0: mean(s0, c0),
            p1_given_1: mean(s1, c1),
            attn_ratio: probe.then_some(ratio / batches as f64),
        })
    }

    /// One held-out test sequence (`len + 1` symbols) from its own stream, `child_seed(seed, 3)`.
    fn test_sequence(&self) -> Vec<u32> {
        let c = &self.config;
        sample(&c.data, 1, c.seq_len, &mut seeded_rng(child_seed(c.seed, 3)))
    }

    /// P̂(x_{n+1} = 1 | conditioning symbol = 0) at the first [`OCCURRENCES`] positions of `seq`
    /// whose conditioning symbol is 0 (empty for V > 2).
    pub fn occurrence_estimates(&self, seq: &[u32]) -> Result<Vec<f64>, TrainError> {
        let c = &self.config;
        if c.vocab() != 2 {
            return Ok(Vec::new());
        }
        let (n, k) = (c.seq_len, lag(&c.data));
        let batch = Batch::from_symbols(seq, 1, n, 2, DType::F32, &self.dev)?;
        let p1 = self.model.forward(&batch, false)?.probs.narrow(1, 1, 1)?.flatten_all()?.to_vec1::<f32>()?;
        Ok(((k - 1)..n).filter(|&t| seq[t + 1 - k] == 0).take(OCCURRENCES).map(|t| f64::from(p1[t])).collect())
    }

    /// Trains for `config.iters` steps. `on_step(i)` is called after each step (progress bars).
    pub fn train(&mut self, mut on_step: impl FnMut(usize)) -> Result<TrainOutcome, TrainError> {
        let t0 = Instant::now();
        let c = self.config.clone();
        let (h_star, unigram, pi1) = reference_lines(&c.data);
        let mut data_rng = seeded_rng(child_seed(c.seed, 1));
        let mut eval_rng = seeded_rng(child_seed(c.seed, 2));
        let sched = OneCycle::reference(c.lr, c.iters);
        let mut opt = AdamState::new(c.adamw, &self.model.params)?;
        let mut curve = Vec::new();
        let mut train_loss = Vec::with_capacity(c.iters);
        let this = &*self;
        // Per step: evaluate every `eval_every` steps (before the step), then one training batch.
        let mut diverged_at = step_loop(
            &this.model.params,
            &mut opt,
            |i| sched.lr(i),
            c.iters,
            |i| {
                if i % c.eval_every == 0 {
                    curve.push(this.evaluate(i, c.eval_batches, c.probe, &mut eval_rng)?);
                }
                let sym = sample(&c.data, c.batch, c.seq_len, &mut data_rng);
                let batch = Batch::from_symbols(&sym, c.batch, c.seq_len, c.vocab(), DType::F32, &this.dev)?;
                Ok(this.model.forward(&batch, false)?.loss)
            },
            |i, loss| {
                train_loss.push(loss);
                on_step(i);
            },
        )?;
        let final_eval = if diverged_at.is_some() {
            None
        } else {
            let fin = self.evaluate(c.iters, c.final_batches, c.probe, &mut eval_rng)?;
            if !fin.loss.is_finite() {
                diverged_at = Some(c.iters);
                None
            } else {
                curve.push(fin);
                Some(fin)
            }
        };
        let (occurrences, attention) = if diverged_at.is_some() {
            (Vec::new(), None)
        } else {
            let seq = self.test_sequence();
            let side = ATTENTION_SIDE.min(c.seq_len);
            let att = (c.probe && self.model.spec.arch != Arch::Mlp)
                .then(|| self.model.attention_matrix(&seq, side))
                .transpose()?;
            (self.occurrence_estimates(&seq)?, att)
        };
        Ok(TrainOutcome {
            num_params: self.model.num_params(),
            final_loss: final_eval.map(|e| e.loss),
            final_loss_se: final_eval.map(|e| e.se),
            entropy_rate: h_star,
            unigram_loss: unigram,
            pi1,
            p1_given_0: final_eval.and_then(|e| e.p1_given_0),
            p1_given_1: final_eval.and_then(|e| e.p1_given_1),
            diverged_at,
            curve,
            train_loss,
            occurrences,
            attention,
            wall_s: t0.elapsed().as_secs_f64(),
            config: c,
        })
    }

    /// The final evaluation of [`Run::train`] on the current weights: the same held-out batches
    /// (the eval stream `child_seed(seed, 2)`, advanced past the batches the training-time
    /// evaluations drew), so a run's saved weights give back its `final_loss` to the last bit.
    pub fn final_evaluation(&self) -> Result<Eval, TrainError> {
        let c = &self.config;
        let mut eval_rng = seeded_rng(child_seed(c.seed, 2));
        for _ in (0..c.iters).filter(|i| i % c.eval_every == 0) {
            for _ in 0..c.eval_batches {
                let _ = sample(&c.data, c.batch, c.seq_len, &mut eval_rng);
            }
        }
        self.evaluate(c.iters, c.final_batches, c.probe, &mut eval_rng)
    }
}

/// The one training loop of the trainer's models: for each step `i` in `0..iters`, `loss(i)` draws
/// the step's batch and returns the scalar loss tensor; a non-finite loss stops the loop before any
/// update (its step is returned); otherwise backward, one optimiser step at learning rate `lr(i)`,
/// then `after_step(i, loss)`. Returns None when every step was taken.
pub fn step_loop(
    params: &[Param],
    opt: &mut AdamState,
    lr: impl Fn(usize) -> f64,
    iters: usize,
    mut loss: impl FnMut(usize) -> Result<Tensor, TrainError>,
    mut after_step: impl FnMut(usize, f64),
) -> Result<Option<usize>, TrainError> {
    for i in 0..iters {
        let l = loss(i)?;
        let value = l.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if !value.is_finite() {
            return Ok(Some(i));
        }
        let grads = l.backward()?;
        opt.step(params, &grads, lr(i))?;
        after_step(i, value);
    }
    Ok(None)
}

/// Trains one config (convenience).
pub fn train(config: TrainConfig) -> Result<TrainOutcome, TrainError> {
    Run::new(config)?.train(|_| {})
}
