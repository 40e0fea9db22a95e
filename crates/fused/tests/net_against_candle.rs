//! A training run's model on the fused path ([`attnlab_fused::net::Net`]) against the candle model
//! and optimiser on the same batches: ten steps of each model kind keep the losses within 1e-4
//! relative and the parameters within 1e-3 of their largest value (rounding differences pass
//! through Adam's normalisation), an evaluation gives the same loss, probe and P(x = 1), and bad
//! parameter lists are refused naming the tensor.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_fused::adamw::AdamW;
use attnlab_fused::net::{self, Net, NetError};
use attnlab_trainer::model::Batch;
use attnlab_trainer::{Arch, Model, ModelSpec, optim};
use candle_core::{DType, Device};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn params_of(model: &Model) -> Vec<(String, Vec<f32>)> {
    model
        .params
        .iter()
        .map(|p| (p.name.clone(), p.var.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap()))
        .collect()
}

fn run(arch: Arch, d: usize, layers: usize, vocab: usize, tying: bool, memory: Option<usize>, seed: u64) {
    let (batch, len) = (3, 20);
    let spec = ModelSpec { arch, d, layers, seq_len: len, vocab, tying, memory, init_std: 0.3 };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = Model::init(spec, &mut rng, DType::F32, &Device::Cpu).unwrap();
    let fused_arch = match arch {
        Arch::Theory => net::Arch::Theory,
        Arch::Mlp => net::Arch::Mlp,
        Arch::Gpt => net::Arch::Gpt,
    };
    let hp = optim::AdamW::default();
    let fused_hp = AdamW { beta1: hp.beta1, beta2: hp.beta2, eps: hp.eps, weight_decay: hp.weight_decay };
    let fspec = net::Spec { arch: fused_arch, d, layers, seq_len: len, vocab, tying, memory };
    let mut fused = Net::new(fspec, &params_of(&model), fused_hp, batch).unwrap();
    let mut opt = optim::AdamState::new(hp, &model.params).unwrap();
    let draw = |rng: &mut ChaCha8Rng| -> Vec<u32> {
        (0..batch * (len + 1)).map(|_| rng.random_range(0..vocab as u32)).collect()
    };
    for step in 0..10 {
        let symbols = draw(&mut rng);
        let b = Batch::from_symbols(&symbols, batch, len, vocab, DType::F32, &Device::Cpu).unwrap();
        let f = model.forward(&b, false).unwrap();
        let want = f64::from(f.loss.to_scalar::<f32>().unwrap());
        opt.step(&model.params, &f.loss.backward().unwrap(), 1e-2).unwrap();
        let got = fused.step(&symbols, 1e-2);
        assert!((got - want).abs() <= 1e-4 * want, "{arch:?} step {step}: {got} vs {want}");
    }
    for ((name, got), (want_name, want)) in fused.params().into_iter().zip(params_of(&model)) {
        assert_eq!(name, want_name);
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-3 * scale, "{arch:?} {name}: after 10 steps max |Δ| {worst:e} against {scale:e}");
    }
    let symbols = draw(&mut rng);
    let b = Batch::from_symbols(&symbols, batch, len, vocab, DType::F32, &Device::Cpu).unwrap();
    let f = model.forward(&b, true).unwrap();
    let e = fused.evaluate(&symbols, true);
    let want = f64::from(f.loss.to_scalar::<f32>().unwrap());
    assert!((e.loss - want).abs() <= 1e-4 * want, "{arch:?}: evaluation loss");
    match (e.attn_ratio, f.attn_ratio) {
        (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-4 * b.abs(), "{arch:?}: probe {a} vs {b}"),
        (None, None) => assert_eq!(arch, Arch::Mlp),
        other => panic!("{arch:?}: probe {other:?}"),
    }
    if vocab == 2 {
        let want_p1 = f.probs.narrow(1, 1, 1).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let worst = fused.p1().iter().zip(&want_p1).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-4, "{arch:?}: P(x = 1) off by {worst:e}");
    }
}

#[test]
fn every_model_kind_trains_as_the_candle_model() {
    run(Arch::Theory, 4, 1, 2, true, None, 1);
    run(Arch::Theory, 8, 1, 5, false, Some(4), 2);
    run(Arch::Mlp, 4, 1, 2, false, None, 3);
    run(Arch::Gpt, 8, 2, 2, true, Some(6), 4);
    run(Arch::Gpt, 8, 1, 5, false, None, 5);
}

#[test]
fn bad_parameter_lists_name_the_tensor() {
    let spec = net::Spec { arch: net::Arch::Theory, d: 2, layers: 1, seq_len: 4, vocab: 2, tying: true, memory: None };
    let hp = AdamW { beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.0 };
    let good: Vec<(String, Vec<f32>)> =
        [("e", 2), ("p", 8), ("W_Q", 4), ("W_K", 4), ("W_V", 4), ("W_O", 4), ("W_1", 16), ("W_2", 16), ("b", 1)]
            .iter()
            .map(|&(n, len)| (n.to_string(), vec![0.1; len]))
            .collect();
    assert!(Net::new(spec, &good, hp, 1).is_ok());
    let mut short = good.clone();
    short.pop();
    assert!(matches!(Net::new(spec, &short, hp, 1), Err(NetError::Count { given: 8, want: 9, .. })));
    let mut renamed = good.clone();
    renamed[2].0 = "W_X".into();
    assert_eq!(Net::new(spec, &renamed, hp, 1).err(), Some(NetError::Unknown("W_X".into())));
    let mut resized = good;
    resized[1].1.push(0.0);
    assert_eq!(Net::new(spec, &resized, hp, 1).err(), Some(NetError::Size { name: "p".into(), got: 9, want: 8 }));
}
