//! The fused theory model against the candle trainer's: the same parameters and batch give the
//! same mean loss and the same gradient of every parameter, for every variant the figures train
//! (V = 2 and V = 5, tied and untied, full attention and a memory window, attention-free).
//!
//! Tolerance: both run in f32 and sum in different orders (candle's matmuls block the inner
//! products, the fused loops run them in sequence; the attention kernel is the same), so each
//! gradient may differ by a few f32 roundings of its largest terms: |Δ| ≤ 2e-4 · max|g| per tensor,
//! and the losses by 1e-5 relative (each is a mean of B·N terms near 0.6).

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_fused::adamw::{AdamState, AdamW};
use attnlab_fused::theory::{self, Params, Shape, Workspace};
use attnlab_trainer::model::Batch;
use attnlab_trainer::optim;
use attnlab_trainer::{Arch, Model, ModelSpec};
use candle_core::{DType, Device};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn check(shape: Shape, batch: usize, len: usize, seed: u64) {
    let spec = ModelSpec {
        arch: if shape.attention { Arch::Theory } else { Arch::Mlp },
        d: shape.d,
        layers: 1,
        seq_len: shape.seq_len,
        vocab: shape.vocab,
        tying: shape.tying,
        memory: shape.memory,
        // Larger than the reference's 0.02 so every path carries gradients well above rounding.
        init_std: 0.3,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = Model::init(spec, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let symbols: Vec<u32> = (0..batch * (len + 1)).map(|_| rng.random_range(0..shape.vocab as u32)).collect();
    let b = Batch::from_symbols(&symbols, batch, len, shape.vocab, DType::F32, &Device::Cpu).unwrap();
    let f = model.forward(&b, false).unwrap();
    let want_loss = f64::from(f.loss.to_scalar::<f32>().unwrap());
    let store = f.loss.backward().unwrap();

    let mut w = Params::zeros(&shape);
    for p in &model.params {
        let v = p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let dst = w.get_mut(&p.name).unwrap_or_else(|| panic!("no fused parameter {}", p.name));
        assert_eq!(dst.len(), v.len(), "{}", p.name);
        *dst = v;
    }
    let mut ws = Workspace::new(&shape, batch, len);
    let mut grads = Params::zeros(&shape);
    // The evaluation pass: P(x = 1) per token for V = 2 and the attention probe.
    let probed = model.forward(&b, true).unwrap();
    let (eval_loss, ratio) = theory::forward(&shape, &w, &symbols, &mut ws, true);
    assert!((eval_loss - want_loss).abs() <= 1e-5 * want_loss.abs(), "{shape:?}: evaluation loss");
    match (ratio, probed.attn_ratio) {
        (Some(r), Some(want)) => {
            assert!((r - want).abs() <= 1e-5 * want.abs(), "{shape:?}: probe {r} vs candle {want}")
        }
        (None, None) => assert!(!shape.attention, "{shape:?}: no probe from a model with attention"),
        other => panic!("{shape:?}: probe {other:?}"),
    }
    if shape.vocab == 2 {
        let want_p1 = probed.probs.narrow(1, 1, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let worst = ws.p1().iter().zip(&want_p1).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(ws.p1().len() == want_p1.len() && worst < 1e-5, "{shape:?}: P(x = 1) off by {worst:e}");
    }
    let loss = theory::loss_and_grads(&shape, &w, &symbols, &mut ws, &mut grads);
    assert!((loss - want_loss).abs() <= 1e-5 * want_loss.abs(), "{shape:?}: loss {loss} vs candle {want_loss}");

    let named = grads.named();
    assert_eq!(named.len(), model.params.len(), "{shape:?}: the same parameters");
    for p in &model.params {
        let want = store.get(p.var.as_tensor()).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let got = named.iter().find(|(n, _)| *n == p.name).unwrap().1;
        let scale = want.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(scale > 1e-6, "{shape:?}: {}: a vanishing gradient tests nothing", p.name);
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 2e-4 * scale, "{shape:?}: ∂/∂{}: max |Δ| {worst:e} against max |g| {scale:e}", p.name);
    }
}

#[test]
fn theory_model_matches_candle_in_loss_and_every_gradient() {
    let base = Shape { d: 4, seq_len: 40, vocab: 2, tying: true, memory: None, attention: true };
    check(base, 3, 32, 1);
    check(Shape { tying: false, ..base }, 3, 32, 2);
    check(Shape { memory: Some(5), ..base }, 2, 40, 3);
    check(Shape { d: 8, vocab: 5, ..base }, 3, 24, 4);
    check(Shape { d: 8, vocab: 5, tying: false, ..base }, 2, 24, 5);
}

#[test]
fn attention_free_model_matches_candle() {
    let base = Shape { d: 4, seq_len: 32, vocab: 2, tying: true, memory: None, attention: false };
    check(base, 3, 32, 6);
    check(Shape { tying: false, ..base }, 3, 32, 7);
}

/// Twenty AdamW steps both ways from the same parameters on the same batches: the per-step losses
/// stay within 1e-4 relative (rounding differences grow through the steps but stay far below the
/// loss's own step-to-step change) and the decay groups agree with the candle model's.
#[test]
fn twenty_adamw_steps_match_candle() {
    for (shape, seed) in [
        (Shape { d: 4, seq_len: 32, vocab: 2, tying: true, memory: None, attention: true }, 11),
        (Shape { d: 8, seq_len: 24, vocab: 5, tying: false, memory: Some(3), attention: true }, 12),
    ] {
        let (batch, len) = (4, shape.seq_len);
        let spec = ModelSpec {
            arch: Arch::Theory,
            d: shape.d,
            layers: 1,
            seq_len: shape.seq_len,
            vocab: shape.vocab,
            tying: shape.tying,
            memory: shape.memory,
            init_std: 0.3,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let model = Model::init(spec, &mut rng, DType::F32, &Device::Cpu).unwrap();
        let hp = optim::AdamW::default();
        let mut candle_opt = optim::AdamState::new(hp, &model.params).unwrap();
        let mut w = Params::zeros(&shape);
        for p in &model.params {
            *w.get_mut(&p.name).unwrap() = p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(theory::decays(&p.name), p.decay, "decay group of {}", p.name);
        }
        let names: Vec<&str> = model.params.iter().map(|p| p.name.as_str()).collect();
        let lens: Vec<usize> = model.params.iter().map(|p| p.var.elem_count()).collect();
        let mut opt = AdamState::new(
            AdamW { beta1: hp.beta1, beta2: hp.beta2, eps: hp.eps, weight_decay: hp.weight_decay },
            &lens,
        );
        let (mut ws, mut grads) = (Workspace::new(&shape, batch, len), Params::zeros(&shape));
        let lr = 1e-2;
        for step in 0..20 {
            let symbols: Vec<u32> = (0..batch * (len + 1)).map(|_| rng.random_range(0..shape.vocab as u32)).collect();
            let b = Batch::from_symbols(&symbols, batch, len, shape.vocab, DType::F32, &Device::Cpu).unwrap();
            let f = model.forward(&b, false).unwrap();
            let want = f64::from(f.loss.to_scalar::<f32>().unwrap());
            candle_opt.step(&model.params, &f.loss.backward().unwrap(), lr).unwrap();
            let got = theory::loss_and_grads(&shape, &w, &symbols, &mut ws, &mut grads);
            assert!((got - want).abs() <= 1e-4 * want, "{shape:?} step {step}: loss {got} vs candle {want}");
            opt.begin_step();
            for (i, name) in names.iter().enumerate() {
                let g = grads.get_mut(name).unwrap().clone();
                opt.update(i, w.get_mut(name).unwrap(), &g, lr, theory::decays(name));
            }
        }
    }
}
