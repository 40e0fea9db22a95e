//! Trainer checks: the fused attention equals the naive one (values and gradients), every parameter
#![allow(clippy::unwrap_used)]
//! of every model gets a finite, non-zero gradient, training is reproducible from the seed.

use attnlab_core::rng::seeded_rng;
use attnlab_markov::BinaryChain;
use attnlab_trainer::attention::{self, Impl};
use attnlab_trainer::model::{Batch, Model};
use attnlab_trainer::{Arch, Data, TrainSettings};
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
        let w = Tensor::from_vec(
            (0..b * n * d).map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5).collect::<Vec<_>>(),
            (b, n, d),
            &Device::Cpu,
        )
        .unwrap();
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
            let mut cfg = TrainSettings::defaults(arch, Data::binary(chain), 3);
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
                let g = grads
                    .get(p.var.as_tensor())
                    .unwrap_or_else(|| panic!("{arch:?} tying={tying}: no gradient for {}", p.name));
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
    let count = |cfg: TrainSettings| {
        Model::init(cfg.check().unwrap().model_spec(), &mut seeded_rng(0), DType::F32, &Device::Cpu)
            .unwrap()
            .num_params()
    };
    assert_eq!(count(TrainSettings::defaults(Arch::Gpt, data, 0)), 9002);
    let mut untied = TrainSettings::defaults(Arch::Gpt, data, 0);
    untied.tying = false;
    assert_eq!(count(untied), 9018);
    for (layers, want) in [(1, 4906), (2, 5690), (4, 7258), (8, 10394)] {
        let mut c = TrainSettings::defaults(Arch::Gpt, data, 0);
        c.seq_len = 512;
        c.layers = layers;
        assert_eq!(count(c), want, "L = {layers}");
    }
    assert_eq!(count(TrainSettings::defaults(Arch::Theory, data, 0)), 4293);
}

#[test]
fn training_is_reproducible_and_learns() {
    let data = Data::binary(BinaryChain::new(0.2, 0.3).unwrap());
    let mut cfg = TrainSettings::defaults(Arch::Gpt, data, 5);
    cfg.seq_len = 64;
    cfg.iters = 60;
    cfg.eval_every = 20;
    let cfg = cfg.check().unwrap();
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
    let mut cfg = TrainSettings::defaults(Arch::Gpt, data, 5);
    cfg.d = 0;
    assert_eq!(cfg.clone().check().unwrap_err().field, "d");
    cfg.d = 8;
    cfg.lr = f64::NAN;
    assert_eq!(cfg.clone().check().unwrap_err().field, "lr");
    let mut t = TrainSettings::defaults(Arch::Theory, data, 5);
    t.layers = 2;
    assert_eq!(t.check().unwrap_err().field, "layers");
}

/// Values and gradients of y = Σ f(inputs) ⊙ w for a fixed weighting w, for the fused op and its
/// plain-op reference; returns the largest absolute differences.
fn compare_ops(
    inputs: &[Var],
    fused: impl Fn(&[Tensor]) -> Tensor,
    plain: impl Fn(&[Tensor]) -> Tensor,
) -> (f32, Vec<f32>) {
    let xs: Vec<Tensor> = inputs.iter().map(|v| v.as_tensor().clone()).collect();
    let run = |f: &dyn Fn(&[Tensor]) -> Tensor| {
        let y = f(&xs);
        let n = y.elem_count();
        let w = Tensor::from_vec(
            (0..n).map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5).collect::<Vec<_>>(),
            y.shape(),
            &Device::Cpu,
        )
        .unwrap();
        let g = (&y * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let grads: Vec<Tensor> = xs.iter().map(|x| g.get(x).unwrap().clone()).collect();
        (y, grads)
    };
    let (yf, gf) = run(&fused);
    let (yp, gp) = run(&plain);
    (max_abs_diff(&yf, &yp), gf.iter().zip(&gp).map(|(a, b)| max_abs_diff(a, b)).collect())
}

#[test]
fn fused_layer_norm_matches_plain_ops() {
    use attnlab_trainer::ops;
    let mut rng = seeded_rng(3);
    // d = 8 (the reference width), 5 and 33 (odd widths); rows crossing the parallel chunking.
    for &(rows, d) in &[(5000, 8), (37, 5), (300, 33)] {
        let x = randn(&mut rng, (1, rows, d));
        let x = Var::from_tensor(&(x.as_tensor().reshape((rows, d)).unwrap() * 3.0).unwrap()).unwrap();
        let w = Var::from_tensor(&(randn(&mut rng, (1, 1, d)).as_tensor().reshape(d).unwrap() + 1.0).unwrap()).unwrap();
        let (dy, dg) = compare_ops(
            &[x, w],
            |t| ops::layer_norm(&t[0], &t[1]).unwrap(),
            |t| ops::layer_norm_plain(&t[0], &t[1]).unwrap(),
        );
        assert!(dy < 1e-5, "layer norm values differ by {dy} at {:?}", (rows, d));
        assert!(dg[0] < 1e-5, "layer norm dx differs by {} at {:?}", dg[0], (rows, d));
        assert!(dg[1] < 1e-3, "layer norm dw differs by {} at {:?}", dg[1], (rows, d));
    }
}

#[test]
fn fused_gelu_matches_candle_gelu_erf() {
    use attnlab_trainer::ops;
    // x from −8 to 8 in steps of 1/256, plus the rest of the line's scale.
    let v: Vec<f32> = (-2048..=2048).map(|i| i as f32 / 256.0).chain([-30.0, -12.5, 12.5, 30.0]).collect();
    let n = v.len();
    let x = Var::from_tensor(&Tensor::from_vec(v, (1, n), &Device::Cpu).unwrap()).unwrap();
    let (dy, dg) = compare_ops(&[x], |t| ops::gelu(&t[0]).unwrap(), |t| t[0].gelu_erf().unwrap());
    assert!(dy < 1e-6, "gelu values differ by {dy}");
    // candle's derivative uses 0.398942 for 1/√(2π) (relative error 7e-7).
    assert!(dg[0] < 2e-6, "gelu gradient differs by {}", dg[0]);
}

#[test]
fn vector_erf_is_within_its_bound() {
    // Series below 1, Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7) above, plus f32 rounding.
    let z: Vec<f32> = (-60000..=60000).map(|i| i as f32 / 10000.0).collect();
    let z64: Vec<f64> = z.iter().map(|&x| f64::from(x)).collect();
    let exact = Tensor::from_vec(z64, z.len(), &Device::Cpu).unwrap().erf().unwrap().to_vec1::<f64>().unwrap();
    let mut worst = 0f64;
    for (zi, e) in z.iter().zip(exact) {
        let got = f64::from(attnlab_trainer::ops::erf(*zi));
        worst = worst.max((got - e).abs());
    }
    assert!(worst < 2e-7, "worst erf error {worst}");
}

#[test]
fn fused_cross_entropy_matches_plain_ops() {
    use attnlab_trainer::ops;
    let mut rng = seeded_rng(5);
    for &(rows, v) in &[(5000, 2), (40, 3)] {
        let l = randn(&mut rng, (1, rows, v));
        let l = Var::from_tensor(&(l.as_tensor().reshape((rows, v)).unwrap() * 4.0).unwrap()).unwrap();
        let mut y = vec![0f32; rows * v];
        for r in 0..rows {
            y[r * v + rng.random_range(0..v)] = 1.0;
        }
        let y = Tensor::from_vec(y, (rows, v), &Device::Cpu).unwrap();
        let (dt, dg) = compare_ops(
            std::slice::from_ref(&l),
            |t| ops::cross_entropy(&t[0], &y).unwrap().0,
            |t| ops::cross_entropy_plain(&t[0], &y).unwrap().0,
        );
        assert!(dt < 1e-5, "token loss differs by {dt}");
        assert!(dg[0] < 1e-6, "logit gradient differs by {}", dg[0]);
        let (_, pf) = ops::cross_entropy(l.as_tensor(), &y).unwrap();
        let (_, pp) = ops::cross_entropy_plain(l.as_tensor(), &y).unwrap();
        assert!(max_abs_diff(&pf, &pp) < 1e-6);
    }
}

#[test]
fn fused_packed_attention_matches_naive_values_and_gradients() {
    // The model's path: q ‖ k ‖ v packed in one (B·N, 3d) tensor, one gradient for it.
    let mut rng = seeded_rng(9);
    for &(b, n, d, memory) in &[(3, 37, 8, None), (2, 300, 8, Some(40)), (1, 45, 12, None), (2, 20, 4, Some(0))] {
        let qkv = randn(&mut rng, (1, b * n, 3 * d));
        let qkv = Var::from_tensor(&qkv.as_tensor().reshape((b * n, 3 * d)).unwrap()).unwrap();
        let (dy, dg) = compare_ops(
            std::slice::from_ref(&qkv),
            |t| attention::causal_qkv(&t[0], b, n, memory, Impl::Auto).unwrap(),
            |t| attention::causal_qkv(&t[0], b, n, memory, Impl::Naive).unwrap(),
        );
        assert!(dy < 2e-5, "output differs by {dy} at {:?}", (b, n, d, memory));
        assert!(dg[0] < 1e-4, "d(qkv) differs by {} at {:?}", dg[0], (b, n, d, memory));
    }
}
