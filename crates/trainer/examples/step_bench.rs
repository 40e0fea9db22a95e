//! Times training steps of the reference GPT-style model (the model-only setting of
//! `cargo xtask bench markov`: one fixed batch, AdamW) without building the figures crate, and
//! prints the median and the minimum per step — the minimum is the steadier number on a machine
//! shared with other work: `RAYON_NUM_THREADS=2 cargo run --example step_bench -- [steps]`.
use std::time::Instant;

use attnlab_core::rng::{child_seed, seeded_rng};
use attnlab_trainer::bench::reference_config;
use attnlab_trainer::model::{Batch, Model};
use attnlab_trainer::optim::{AdamState, OneCycle};
use candle_core::{DType, Device};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    attnlab_kernels::alloc::keep_freed_memory();
    let steps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(30);
    let cfg = reference_config().check()?;
    let dev = Device::Cpu;
    let model = Model::init(cfg.model_spec(), &mut seeded_rng(child_seed(cfg.seed, 0)), DType::F32, &dev)?;
    let mut rng = seeded_rng(child_seed(cfg.seed, 1));
    let mut opt = AdamState::new(cfg.adamw, &model.params)?;
    let sched = OneCycle::reference(cfg.lr, steps + 3);
    let symbols = attnlab_trainer::train::sample(&cfg.data, cfg.batch, cfg.seq_len, &mut rng);
    let batch = Batch::from_symbols(&symbols, cfg.batch, cfg.seq_len, cfg.vocab(), DType::F32, &dev)?;
    let mut times = Vec::new();
    for i in 0..steps + 3 {
        let t0 = Instant::now();
        let f = model.forward(&batch, false)?;
        let grads = f.loss.backward()?;
        opt.step(&model.params, &grads, sched.lr(i))?;
        let _ = model.params[0].var.as_tensor().sum_all()?.to_scalar::<f32>()?;
        if i >= 3 {
            times.push(1e3 * t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "min {:6.2}  median {:6.2} ms/step ({} threads, kernel {})",
        times[0],
        times[times.len() / 2],
        candle_core::utils::get_num_threads(),
        attnlab_kernels::code_path()
    );
    Ok(())
}
