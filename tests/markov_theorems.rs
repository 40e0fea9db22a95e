//! Property tests of the Markov paper's theorems on the exact canonical loss (spec markov §3),
//! with p, q drawn from [0.02, 0.98]. Each property is checked numerically (finite differences,
//! integration), never by re-evaluating the closed form it is meant to test.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_markov::canonical::{Basin, Canonical, W_CRIT, c_of};
use attnlab_markov::chain::ChainTheory;
use attnlab_markov::flow::{Endpoint, gradient_flow};
use attnlab_markov::{BinaryChain, FlowConfig};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

fn config(cases: u32, file: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

fn model(p: f64, q: f64) -> Canonical {
    Canonical::new(&BinaryChain::new(p, q).expect("p, q in [0.02, 0.98]"))
}

/// Central finite-difference ∂²L/∂e² at (e, w, b).
fn fd_curvature_e(m: &Canonical, e: f64, w: f64, b: f64, h: f64) -> f64 {
    (m.loss(e + h, w, b) - 2.0 * m.loss(e, w, b) + m.loss(e - h, w, b)) / (h * h)
}

const PQ: std::ops::RangeInclusive<f64> = 0.02..=0.98;

proptest! {
    #![proptest_config(config(256, "proptest-regressions/markov_theorems.txt"))]

    /// H* ≤ U, with equality on p+q = 1 and strict inequality off it.
    #[test]
    fn entropy_rate_below_unigram_loss(p in PQ, q in PQ) {
        let t = ChainTheory::new(&BinaryChain::new(p, q).unwrap());
        prop_assert!(t.entropy_rate <= t.unigram_loss + 1e-15, "H* = {} > U = {}", t.entropy_rate, t.unigram_loss);
        if (p + q - 1.0).abs() > 0.01 {
            prop_assert!(t.unigram_loss - t.entropy_rate > 1e-9);
        }
        let on_line = ChainTheory::new(&BinaryChain::new(p, 1.0 - p).unwrap());
        prop_assert!((on_line.unigram_loss - on_line.entropy_rate).abs() < 1e-14);
    }

    /// ∂L/∂b = 0 at the closed-form optimal bias b*(e, w), and it is a minimum in b.
    #[test]
    fn optimal_bias_is_stationary(p in PQ, q in PQ, e in -3.0..3.0f64, w in -3.0..3.0f64) {
        let m = model(p, q);
        let b = m.optimal_bias(e, w);
        let g = m.loss_grad(e, w, b).db;
        prop_assert!(g.abs() < 1e-10, "∂L/∂b = {g}");
        let l = m.loss(e, w, b);
        // A minimum in b (up to rounding: far out the loss is nearly flat in b).
        prop_assert!(m.loss(e, w, b + 1e-3) >= l - 1e-14 && m.loss(e, w, b - 1e-3) >= l - 1e-14);
    }

    /// L = H* on the global set and L = U on the unigram set; both are critical points.
    #[test]
    fn loss_on_critical_sets(p in PQ, q in PQ, w in -3.0..3.0f64) {
        let m = model(p, q);
        let u = m.unigram_point(w);
        prop_assert!((m.loss(u.e, u.w, u.b) - m.chain.unigram_loss).abs() < 1e-12);
        let gu = m.loss_grad(u.e, u.w, u.b);
        prop_assert!(gu.de.abs() < 1e-12 && gu.dw.abs() < 1e-12 && gu.db.abs() < 1e-12);
        if let Some(g) = m.global_point(w) {
            prop_assert!((m.loss(g.e, g.w, g.b) - m.chain.entropy_rate).abs() < 1e-12);
            let gg = m.loss_grad(g.e, g.w, g.b);
            prop_assert!(gg.de.abs() < 1e-9 && gg.dw.abs() < 1e-9 && gg.db.abs() < 1e-9, "{gg:?}");
        }
    }

    /// The sign of ∂²L/∂e² on the unigram set (by finite differences) is the sign of
    /// (p+q−1)(1+2w|w|), and its value is the closed form.
    #[test]
    fn curvature_sign_at_unigram_set(p in PQ, q in PQ, w in -3.0..3.0f64) {
        prop_assume!((p + q - 1.0).abs() > 0.02 && c_of(w).abs() > 0.05);
        let m = model(p, q);
        // h = 1e-4: truncation ~ h²·c² stays below 1e-6 for |w| ≤ 3; rounding ~ 1e-16/h² = 1e-8.
        let fd = fd_curvature_e(&m, 0.0, w, m.chain.unigram_logit, 1e-4);
        let predicted_sign = ((p + q - 1.0) * c_of(w)).signum();
        prop_assert_eq!(fd.signum(), predicted_sign, "fd curvature {}", fd);
        prop_assert!((fd - m.unigram_curvature_e(w)).abs() < 1e-5 * (1.0 + fd.abs()));
    }

    /// The energy E(e, w) is conserved along gradient flow with b at b* (relative drift < 1e-4).
    #[test]
    fn energy_is_conserved(p in PQ, q in PQ, e in -2.0..2.0f64, w in -2.0..2.0f64) {
        prop_assume!(w.abs() > 0.02 && e.abs() > 0.02);
        let m = model(p, q);
        let cfg = FlowConfig::new(200.0, 1e-10, 1e-12, 1e-12).unwrap();
        let out = gradient_flow(&m, e, w, &cfg, 0);
        let drift = out.energy_drift.unwrap();
        prop_assert!(drift < 1e-4, "relative energy drift {drift} from ({e}, {w}) to {:?}", out.end);
        // Also recompute the end energy directly (not only the tracked maximum).
        let (e0, e1) = (Canonical::energy(e, w).unwrap(), Canonical::energy(out.end.0, out.end.1).unwrap());
        prop_assert!((e1 - e0).abs() <= 1e-4 * e0.abs().max(1e-3));
    }
}

proptest! {
    #![proptest_config(config(512, "proptest-regressions/markov_closed_forms.txt"))]

    /// `ChainTheory` (what `attnlab markov theory` prints) is exact for any valid (p, q), even near
    /// 0 and 1: H* and U against the direct sums −Σ π_i P_ij ln P_ij and −Σ π_i ln π_i.
    #[test]
    fn closed_forms_are_exact_everywhere(
        p in prop_oneof![1e-12..1e-3f64, 1e-3..0.999f64, 0.999..(1.0 - 1e-12)],
        q in prop_oneof![1e-12..1e-3f64, 1e-3..0.999f64, 0.999..(1.0 - 1e-12)],
    ) {
        let t = ChainTheory::new(&BinaryChain::new(p, q).unwrap());
        let pi = [q / (p + q), p / (p + q)];
        let kernel = [[1.0 - p, p], [q, 1.0 - q]];
        let xlnx = |x: f64| if x > 0.0 { x * x.ln() } else { 0.0 };
        let h_direct: f64 = -(0..2).flat_map(|i| (0..2).map(move |j| (i, j))).map(|(i, j)| pi[i] * xlnx(kernel[i][j])).sum::<f64>();
        let u_direct: f64 = -(xlnx(pi[0]) + xlnx(pi[1]));
        prop_assert!((t.entropy_rate - h_direct).abs() <= 1e-9, "H* {} vs {}", t.entropy_rate, h_direct);
        prop_assert!((t.unigram_loss - u_direct).abs() <= 1e-9, "U {} vs {}", t.unigram_loss, u_direct);
        prop_assert!((t.pi0 + t.pi1 - 1.0).abs() < 1e-15);
        prop_assert_eq!(t.slope.signum(), (1.0 - p - q).signum());
    }
}

proptest! {
    #![proptest_config(config(48, "proptest-regressions/markov_theorems_basins.txt"))]

    /// For initial points not near a basin boundary, gradient flow ends where spec §3 predicts.
    #[test]
    fn basin_prediction_matches_flow(p in PQ, q in PQ, e in -2.0..2.0f64, w in -2.0..2.0f64) {
        prop_assume!((p + q - 1.0).abs() > 0.1);
        prop_assume!(Canonical::separatrix_distance(e, w) > 0.05);
        let m = model(p, q);
        let out = gradient_flow(&m, e, w, &FlowConfig::default(), 0);
        let predicted = m.predicted_basin(e, w);
        let expected = match predicted {
            Basin::Global => Endpoint::Global,
            Basin::Unigram => Endpoint::Unigram,
            Basin::Degenerate => Endpoint::Degenerate,
        };
        prop_assert_eq!(out.endpoint, expected, "from ({}, {}) [w_crit {}] ended at {:?}, loss fraction {}", e, w, W_CRIT, out.end, out.gap_fraction);
    }
}
