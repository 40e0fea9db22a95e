//! Theorems T1–T3 (spec markov §3) on the exact finite-N loss of the theory model: enumerating all
//! 2^(N+1) sequences, autograd gradients and finite-difference Hessians, over random (p, q).
#![allow(clippy::unwrap_used)]

use attnlab_core::rng::seeded_rng;
use attnlab_markov::BinaryChain;
use attnlab_markov::ChainTheory;
use attnlab_trainer::exact::*;
use proptest::prelude::*;
use rand::Rng;

const D: usize = 2;
const N: usize = 5;

fn chain_away_from_the_line() -> impl Strategy<Value = BinaryChain> {
    (0.05f64..0.95, 0.05f64..0.95)
        .prop_filter("|p+q−1| ≥ 0.15", |(p, q)| (p + q - 1.0).abs() >= 0.15)
        .prop_map(|(p, q)| BinaryChain::new(p, q).unwrap())
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// T1: θ* attains the exact finite-N entropy (= H* with a stationary start) with ∇L = 0,
    /// tied and untied, on both sides of p+q = 1.
    #[test]
    fn bigram_point_is_a_global_minimum(chain in chain_away_from_the_line(), tying in any::<bool>()) {
        let data = enumerate(chain, N).unwrap();
        let m = theta_star(chain, D, N, tying).unwrap();
        let l = loss(&m, &data).unwrap();
        let h = exact_entropy(&data);
        prop_assert!((l - h).abs() < 1e-12, "L(θ*) = {l}, exact entropy {h}");
        prop_assert!((h - ChainTheory::new(&chain).entropy_rate).abs() < 1e-12);
        let g = gradient(&m, &data).unwrap();
        prop_assert!(max_abs(&g) < 1e-10, "|∇L(θ*)| = {}", max_abs(&g));
    }

    /// T2/T3 at θ_π: L = U and ∇L = 0 always; the smallest Hessian eigenvalue is 2c (tied) or −|c|
    /// (untied) with c = pq(p+q−1)/(p+q)², so: tied with p+q > 1 no negative eigenvalue and no
    /// random small perturbation lowers the loss; tied with p+q < 1, or untied, a clearly negative
    /// eigenvalue.
    #[test]
    fn unigram_point_curvature(chain in chain_away_from_the_line(), tying in any::<bool>(), seed in 0u64..1000) {
        let data = enumerate(chain, N).unwrap();
        let t = ChainTheory::new(&chain);
        let m = theta_pi(chain, D, N, tying).unwrap();
        let l0 = loss(&m, &data).unwrap();
        prop_assert!((l0 - t.unigram_loss).abs() < 1e-12, "L(θ_π) = {l0}, U = {}", t.unigram_loss);
        prop_assert!(max_abs(&gradient(&m, &data).unwrap()) < 1e-12);
        let hess = hessian(&m, &data, 1e-4).unwrap();
        let lam = min_eigenvalue(&hess);
        let c = slope_derivative(chain);
        let predicted = if tying { (2.0 * c).min(0.0) } else { -c.abs() };
        prop_assert!((lam - predicted).abs() < 1e-6, "λ_min = {lam}, predicted {predicted} (c = {c})");
        let trapped = tying && t.switching > 1.0;
        if trapped {
            prop_assert!(lam > -1e-8);
            let theta = flat(&m).unwrap();
            let mut rng = seeded_rng(seed);
            for _ in 0..10 {
                let dir: Vec<f64> = (0..theta.len()).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
                let norm = dir.iter().map(|x| x * x).sum::<f64>().sqrt();
                let moved: Vec<f64> = theta.iter().zip(&dir).map(|(a, b)| a + 1e-3 * b / norm).collect();
                set_flat(&m, &moved).unwrap();
                let l = loss(&m, &data).unwrap();
                prop_assert!(l >= l0 - 1e-12, "loss dropped from {l0} to {l} along a random perturbation");
            }
        } else {
            prop_assert!(lam < -0.01, "expected a clearly negative eigenvalue, got {lam}");
        }
    }
}

/// The same contrast at a larger N and d (one fixed chain per side), N = 8, d = 3.
#[test]
fn unigram_point_at_n8_d3() {
    for (p, q, tying, negative) in [(0.7, 0.6, true, false), (0.7, 0.6, false, true), (0.15, 0.35, true, true)] {
        let chain = BinaryChain::new(p, q).unwrap();
        let data = enumerate(chain, 8).unwrap();
        let m = theta_pi(chain, 3, 8, tying).unwrap();
        let lam = min_eigenvalue(&hessian(&m, &data, 1e-4).unwrap());
        assert_eq!(lam < -0.01, negative, "({p}, {q}) tying={tying}: λ_min = {lam}");
    }
}
