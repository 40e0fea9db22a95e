//! Trainer checks: the fused attention equals the naive one (values and gradients), every parameter
#![allow(clippy::unwrap_used)]
//! of every model gets a finite, non-zero gradient, training is reproducible from the seed.

use attnlab_core::rng::seeded_rng;
use attnlab_core::BinaryChain;
use attnlab_trainer::attention::{self, Impl};
use attnlab_trainer::model::{Batch, Model};
use attnlab_trainer::{Arch, Data, TrainConfig};
use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;

fn randn(rng: &mut impl Rng, shape: (usize, usize, usize)) -> Var {
    let n = shape.0 * shape.1 * shape.2;
    let v: Vec<f32> = (0..n).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect();
    Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu).unwrap()).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn fused_attention_matches_naive_values_and_gradients() {
    let mut rng = seeded_rng(7);
    // Widths 4, 8, 16, 32 take the intrinsics path on AVX2 CPUs (key blocks of 2048/d keys: the
    // long rows cross block boundaries, with and without a memory window reaching across them),
    // 5 and 12 the portable one.
    let shapes = [
        (3, 37, 8, None),
        (2, 64, 4, Some(5)),
        (2, 19, 5, None),
        (1, 50, 32, Some(0)),
        (2, 33, 16, Some(40)),
        (2, 300, 8, None),
        (1, 290, 8, Some(100)),
        (1, 200, 16, Some(70)),
        (1, 150, 32, Some(3)),
        (1, 530, 4, None),
        (1, 41, 12, Some(7)),
    ];
    for &(b, n, d, memory) in &shapes {
        let (q, k, v) = (randn(&mut rng, (b, n, d)), randn(&mut rng, (b, n, d)), randn(&mut rng, (b, n, d)));
        let w = Tensor::from_vec((0..b * n * d).map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5).collect::<Vec<_>>(), (b, n, d), &Device::Cpu).unwrap();
        let run = |how| {
            let o = attention::causal(q.as_tensor(), k.as_tensor(), v.as_tensor(), memory, how).unwrap();
            let loss = (&o * &w).unwrap().sum_all().unwrap();
            let g = loss.backward().unwrap();
            let grads: Vec<Tensor> = [&q, &k, &v].iter().map(|x| g.get(x.as_tensor()).unwrap().clone()).collect();
            (o, grads)
        };
        let (of, gf) = run(Impl::Auto);
        let (on, gn) = run(Impl::Naive);
        assert!(max_abs_diff(&of, &on) < 2e-5, "output differs at {:?}", (b, n, d, memory));
        for (i, (a, c)) in gf.iter().zip(&gn).enumerate() {
            let diff = max_abs_diff(a, c);
            assert!(diff < 1e-4, "gradient {i} differs by {diff} at {:?}", (b, n, d, memory));
        }
    }
}

#[test]
fn every_parameter_gets_a_finite_nonzero_gradient() {
    let chain = BinaryChain::new(0.3, 0.6).unwrap();
    for arch in [Arch::Gpt, Arch::Theory, Arch::Mlp] {
        for tying in [true, false] {
            let mut cfg = TrainConfig::defaults(arch, Data::binary(chain), 3);
            cfg.tying = tying;
            cfg.seq_len = 24;
            cfg.layers = if arch == Arch::Gpt { 2 } else { 1 };
            cfg.init_std = 0.3; // large enough that no gradient is exactly zero by symmetry
            let cfg = cfg.check().unwrap();
            let mut rng = seeded_rng(11);
            let model = Model::init(cfg.model_spec(), &mut rng, DType::F32, &Device::Cpu).unwrap();
            let sym = attnlab_trainer::train::sample(&cfg.data, 4, 24, &mut rng);
            let batch = Batch::from_symbols(&sym, 4, 24, 2, DType::F32, &Device::Cpu).unwrap();
            let f = model.forward(&batch, false).unwrap();
            let grads = f.loss.backward().unwrap();
            for p in &model.params {
                let g = grads.get(p.var.as_tensor()).unwrap_or_else(|| panic!("{arch:?} tying={tying}: no gradient for {}", p.name));
                let v = g.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                assert!(v.iter().all(|x| x.is_finite()), "{}: non-finite gradient", p.name);
                assert!(v.iter().any(|x| *x != 0.0), "{arch:?} tying={tying}: zero gradient for {}", p.name);
            }
        }
    }
}

#[test]
fn parameter_counts_match_spec_section_7() {
    let data = Data::binary(BinaryChain::new(0.5, 0.8).unwrap());
    let count = |cfg: TrainConfig| {
        Model::init(cfg.check().unwrap().model_spec(), &mut seeded_rng(0), DType::F32, &Device::Cpu).unwrap().num_params()
    };
    assert_eq!(count(TrainConfig::defaults(Arch::Gpt, data, 0)), 9002);
    let mut untied = TrainConfig::defaults(Arch::Gpt, data, 0);
    untied.tying = false;
    assert_eq!(count(untied), 9018);
    for (layers, want) in [(1, 4906), (2, 5690), (4, 7258), (8, 10394)] {
        let mut c = TrainConfig::defaults(Arch::Gpt, data, 0);
        c.seq_len = 512;
        c.layers = layers;
        assert_eq!(count(c), want, "L = {layers}");
    }
    assert_eq!(count(TrainConfig::defaults(Arch::Theory, data, 0)), 4293);
}

#[test]
fn training_is_reproducible_and_learns() {
    let data = Data::binary(BinaryChain::new(0.2, 0.3).unwrap());
    let mut cfg = TrainConfig::defaults(Arch::Gpt, data, 5);
    cfg.seq_len = 64;
    cfg.iters = 60;
    cfg.eval_every = 20;
    let a = cfg.clone().run().unwrap();
    let b = cfg.run().unwrap();
    assert_eq!(a.final_loss, b.final_loss);
    assert_eq!(a.train_loss, b.train_loss);
    let first = a.curve[0].loss;
    assert!(a.final_loss.unwrap() < first - 0.05, "loss {first} → {:?}", a.final_loss);
}

#[test]
fn bad_config_names_the_field() {
    let data = Data::binary(BinaryChain::new(0.2, 0.3).unwrap());
    let mut cfg = TrainConfig::defaults(Arch::Gpt, data, 5);
    cfg.d = 0;
    assert_eq!(cfg.clone().check().unwrap_err().field, "d");
    cfg.d = 8;
    cfg.lr = f64::NAN;
    assert_eq!(cfg.clone().check().unwrap_err().field, "lr");
    let mut t = TrainConfig::defaults(Arch::Theory, data, 5);
    t.layers = 2;
    assert_eq!(t.check().unwrap_err().field, "layers");
}
