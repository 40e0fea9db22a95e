//! Speed measurement of one training step at a given shape (the `cargo xtask bench markov`
//! backend): the GPT-style model of spec markov §2b with AdamW, timed per step, median over steps.
//! (The ICAR trained models' bench is `attnlab_icar::bench`.)

use std::time::Instant;

use attnlab_core::rng::{child_seed, seeded_rng};
use attnlab_markov::BinaryChain;
use candle_core::{DType, Device};
use serde::Serialize;

use crate::model::{Arch, Batch, Model};
use crate::optim::{AdamState, OneCycle};
use crate::train::sample;
use crate::{Data, TrainConfig, TrainError, TrainSettings};

/// Result of one benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct StepBench {
    /// Median milliseconds per training step.
    pub ms_per_step: f64,
    /// Tokens per second (B·N / step time).
    pub tokens_per_s: f64,
    /// Whether each step also drew its batch (data sampling + tensor building).
    pub with_data: bool,
    /// Timed steps.
    pub steps: usize,
}

/// Times `steps` training steps (after 3 warm-up steps) of `cfg`'s model, one fixed batch
/// (`with_data = false`, the PyTorch anchor's setting) or a fresh batch per step.
pub fn step(cfg: &TrainConfig, steps: usize, with_data: bool) -> Result<StepBench, TrainError> {
    let dev = Device::Cpu;
    let model = Model::init(cfg.model_spec(), &mut seeded_rng(child_seed(cfg.seed, 0)), DType::F32, &dev)?;
    let mut rng = seeded_rng(child_seed(cfg.seed, 1));
    let mut opt = AdamState::new(cfg.adamw, &model.params)?;
    let sched = OneCycle::reference(cfg.lr, steps + 3);
    let fixed = Batch::from_symbols(
        &sample(&cfg.data, cfg.batch, cfg.seq_len, &mut rng),
        cfg.batch,
        cfg.seq_len,
        cfg.vocab(),
        DType::F32,
        &dev,
    )?;
    let mut times = Vec::with_capacity(steps);
    for i in 0..steps + 3 {
        let t0 = Instant::now();
        let fresh;
        let batch = if with_data {
            fresh = Batch::from_symbols(
                &sample(&cfg.data, cfg.batch, cfg.seq_len, &mut rng),
                cfg.batch,
                cfg.seq_len,
                cfg.vocab(),
                DType::F32,
                &dev,
            )?;
            &fresh
        } else {
            &fixed
        };
        let f = model.forward(batch, false)?;
        let grads = f.loss.backward()?;
        opt.step(&model.params, &grads, sched.lr(i))?;
        // Force the update to complete before stopping the clock.
        let _ = model.params[0].var.as_tensor().sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        if i >= 3 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let ms = 1e3 * times[times.len() / 2];
    Ok(StepBench { ms_per_step: ms, tokens_per_s: (cfg.batch * cfg.seq_len) as f64 / ms * 1e3, with_data, steps })
}

/// The reference shape: GPT-style, B 16, N 1024, d 8, 1 layer, tied, (p, q) = (0.5, 0.8).
pub fn reference_config() -> TrainSettings {
    let chain = BinaryChain::new(0.5, 0.8).unwrap_or_else(|_| unreachable!("constant valid chain"));
    TrainSettings::defaults(Arch::Gpt, Data::binary(chain), 0)
}
