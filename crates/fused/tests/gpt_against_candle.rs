//! The fused GPT-style model against the candle trainer's: the same parameters and batch give the
//! same mean loss and the same gradient of every parameter, for the variants the figures train
//! (V 2 and V 5, tied and untied, 1 and 3 blocks, full attention and a memory window), and twenty
//! AdamW steps on the same batches keep the losses together.
//!
//! Tolerance, as for the theory model: both in f32 with different summation orders, so each
//! gradient within 2e-4 · max|g| of its tensor and the loss within 1e-5 relative; GELU's erf differs
//! by < 2e-7 between the two implementations, far below that.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_fused::adamw::{AdamState, AdamW};
use attnlab_fused::gpt::{self, Shape, Workspace};
use attnlab_trainer::model::Batch;
use attnlab_trainer::{Arch, Model, ModelSpec, optim};
use candle_core::{DType, Device};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn spec(shape: &Shape) -> ModelSpec {
    ModelSpec {
        arch: Arch::Gpt,
        d: shape.d,
        layers: shape.layers,
        seq_len: shape.seq_len,
        vocab: shape.vocab,
        tying: shape.tying,
        memory: shape.memory,
        // Larger than the reference's 0.02 so every path carries gradients well above rounding.
        init_std: 0.3,
    }
}

/// The fused parameters of a candle model, checking names and sizes.
fn copy(shape: &Shape, model: &Model) -> gpt::Tensors {
    let mut w = shape.zeros();
    assert_eq!(w.names.len(), model.params.len(), "{shape:?}: the same parameters");
    for (i, p) in model.params.iter().enumerate() {
        assert_eq!(w.names[i], p.name, "{shape:?}: parameter order");
        assert_eq!(gpt::decays(&p.name), p.decay, "decay group of {}", p.name);
        let v = p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(w.data[i].len(), v.len(), "{}", p.name);
        w.data[i] = v;
    }
    w
}

fn check(shape: Shape, batch: usize, len: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = Model::init(spec(&shape), &mut rng, DType::F32, &Device::Cpu).unwrap();
    let symbols: Vec<u32> = (0..batch * (len + 1)).map(|_| rng.random_range(0..shape.vocab as u32)).collect();
    let b = Batch::from_symbols(&symbols, batch, len, shape.vocab, DType::F32, &Device::Cpu).unwrap();
    let f = model.forward(&b, false).unwrap();
    let want_loss = f64::from(f.loss.to_scalar::<f32>().unwrap());
    let store = f.loss.backward().unwrap();
    let w = copy(&shape, &model);
    let mut ws = Workspace::new(&shape, batch, len);
    let mut grads = shape.zeros();
    // The evaluation pass: P(x = 1) per token for V = 2 and the attention probe.
    let probed = model.forward(&b, true).unwrap();
    let (eval_loss, ratio) = gpt::forward(&shape, &w, &symbols, &mut ws, true);
    assert!((eval_loss - want_loss).abs() <= 1e-5 * want_loss.abs(), "{shape:?}: evaluation loss");
    match (ratio, probed.attn_ratio) {
        (Some(r), Some(want)) => {
            assert!((r - want).abs() <= 1e-5 * want.abs(), "{shape:?}: probe {r} vs candle {want}")
        }
        other => panic!("{shape:?}: probe {other:?} (every GPT-style block has attention)"),
    }
    if shape.vocab == 2 {
        let want_p1 = probed.probs.narrow(1, 1, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let worst = ws.p1().iter().zip(&want_p1).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(ws.p1().len() == want_p1.len() && worst < 1e-5, "{shape:?}: P(x = 1) off by {worst:e}");
    }
    let loss = gpt::loss_and_grads(&shape, &w, &symbols, &mut ws, &mut grads);
    assert!((loss - want_loss).abs() <= 1e-5 * want_loss.abs(), "{shape:?}: loss {loss} vs candle {want_loss}");
    for (i, p) in model.params.iter().enumerate() {
        let want = store.get(p.var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let got = &grads.data[i];
        let scale = want.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(scale > 1e-6, "{shape:?}: {}: a vanishing gradient tests nothing", p.name);
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 2e-4 * scale, "{shape:?}: ∂/∂{}: max |Δ| {worst:e} against max |g| {scale:e}", p.name);
    }
}

#[test]
fn gpt_model_matches_candle_in_loss_and_every_gradient() {
    let base = Shape { d: 8, layers: 1, seq_len: 40, vocab: 2, tying: true, memory: None };
    check(base, 3, 32, 1);
    check(Shape { tying: false, ..base }, 3, 32, 2);
    check(Shape { layers: 3, ..base }, 2, 24, 3);
    check(Shape { memory: Some(4), d: 16, ..base }, 2, 40, 4);
    check(Shape { vocab: 5, tying: false, layers: 2, ..base }, 2, 24, 5);
}

#[test]
fn twenty_adamw_steps_match_candle() {
    let shape = Shape { d: 8, layers: 2, seq_len: 24, vocab: 2, tying: true, memory: Some(6) };
    let (batch, len) = (4, 24);
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let model = Model::init(spec(&shape), &mut rng, DType::F32, &Device::Cpu).unwrap();
    let hp = optim::AdamW::default();
    let mut candle_opt = optim::AdamState::new(hp, &model.params).unwrap();
    let mut w = copy(&shape, &model);
    let lens: Vec<usize> = w.data.iter().map(Vec::len).collect();
    let mut opt =
        AdamState::new(AdamW { beta1: hp.beta1, beta2: hp.beta2, eps: hp.eps, weight_decay: hp.weight_decay }, &lens);
    let (mut ws, mut grads) = (Workspace::new(&shape, batch, len), shape.zeros());
    let lr = 1e-2;
    for step in 0..20 {
        let symbols: Vec<u32> = (0..batch * (len + 1)).map(|_| rng.random_range(0..2)).collect();
        let b = Batch::from_symbols(&symbols, batch, len, 2, DType::F32, &Device::Cpu).unwrap();
        let f = model.forward(&b, false).unwrap();
        let want = f64::from(f.loss.to_scalar::<f32>().unwrap());
        candle_opt.step(&model.params, &f.loss.backward().unwrap(), lr).unwrap();
        let got = gpt::loss_and_grads(&shape, &w, &symbols, &mut ws, &mut grads);
        assert!((got - want).abs() <= 1e-4 * want, "step {step}: loss {got} vs candle {want}");
        opt.begin_step();
        for i in 0..w.data.len() {
            opt.update(i, &mut w.data[i], &grads.data[i], lr, gpt::decays(&w.names[i]));
        }
    }
}
