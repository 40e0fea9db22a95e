//! Milliseconds per training step (forward, backward; no optimiser) of the fused models against the
//! candle models at the figures' shapes (theory V 2 d 4 and V 5 d 8; GPT-style d 32, L 1, full and
//! m 40; N 1024, B 16), one thread each: `cargo run --release -p attnlab-fused --example
//! step_time`. A first look, not yet the benchmark the fused trainer will have.

#![allow(clippy::unwrap_used)]

use attnlab_fused::gpt;
use attnlab_fused::theory::{self, Params, Shape, Workspace};
use attnlab_trainer::model::Batch;
use attnlab_trainer::{Arch, Model, ModelSpec};
use candle_core::{DType, Device};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mean wall milliseconds of `reps` calls of `step`.
fn ms_per_step(reps: usize, mut step: impl FnMut()) -> f64 {
    let t0 = std::time::Instant::now();
    for _ in 0..reps {
        step();
    }
    t0.elapsed().as_secs_f64() * 1e3 / reps as f64
}

fn main() {
    let (batch, len) = (16, 1024);
    for (d, vocab) in [(4, 2), (8, 5)] {
        let shape = Shape { d, seq_len: len, vocab, tying: true, memory: None, attention: true };
        let spec = ModelSpec {
            arch: Arch::Theory,
            d,
            layers: 1,
            seq_len: len,
            vocab,
            tying: true,
            memory: None,
            init_std: 0.02,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let model = Model::init(spec, &mut rng, DType::F32, &Device::Cpu).unwrap();
        let symbols: Vec<u32> = (0..batch * (len + 1)).map(|_| rng.random_range(0..vocab as u32)).collect();
        let b = Batch::from_symbols(&symbols, batch, len, vocab, DType::F32, &Device::Cpu).unwrap();
        let mut w = Params::zeros(&shape);
        for p in &model.params {
            *w.get_mut(&p.name).unwrap() = p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        }
        let (mut ws, mut g) = (Workspace::new(&shape, batch, len), Params::zeros(&shape));
        let candle_ms = ms_per_step(20, || {
            let f = model.forward(&b, false).unwrap();
            let _ = f.loss.backward().unwrap();
        });
        let fused_ms = ms_per_step(20, || {
            let _ = theory::loss_and_grads(&shape, &w, &symbols, &mut ws, &mut g);
        });
        println!(
            "theory V {vocab}, d {d}, N {len}, B {batch}: candle {candle_ms:.1} ms, fused {fused_ms:.1} ms a step (forward + backward)"
        );
    }
    for memory in [None, Some(40)] {
        let shape = gpt::Shape { d: 32, layers: 1, seq_len: len, vocab: 2, tying: true, memory };
        let spec = ModelSpec {
            arch: Arch::Gpt,
            d: 32,
            layers: 1,
            seq_len: len,
            vocab: 2,
            tying: true,
            memory,
            init_std: 0.02,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let model = Model::init(spec, &mut rng, DType::F32, &Device::Cpu).unwrap();
        let symbols: Vec<u32> = (0..batch * (len + 1)).map(|_| rng.random_range(0..2)).collect();
        let b = Batch::from_symbols(&symbols, batch, len, 2, DType::F32, &Device::Cpu).unwrap();
        let mut w = shape.zeros();
        for (i, p) in model.params.iter().enumerate() {
            w.data[i] = p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        }
        let (mut ws, mut g) = (gpt::Workspace::new(&shape, batch, len), shape.zeros());
        let candle_ms = ms_per_step(5, || {
            let f = model.forward(&b, false).unwrap();
            let _ = f.loss.backward().unwrap();
        });
        let fused_ms = ms_per_step(5, || {
            let _ = gpt::loss_and_grads(&shape, &w, &symbols, &mut ws, &mut g);
        });
        println!(
            "gpt d 32, L 1, memory {memory:?}, N {len}, B {batch}: candle {candle_ms:.1} ms, fused {fused_ms:.1} ms a step (forward + backward)"
        );
    }
}
