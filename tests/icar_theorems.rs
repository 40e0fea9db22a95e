//! Property tests of the ICAR theory (spec icar §2c, §3a, §3b): symmetries of the diagonal
//! multi-head loss, the closed forms against Monte Carlo of the model definition, the loss floors
//! over random (d, H), the one-step-GD predictor as a linear-attention forward pass, and η* against
//! Monte Carlo.

use attnlab_core::seeded_rng;
use attnlab_icar::diagonal::{
    Case, Diagonal, Params, fit_restarts, loss, mc_row_loss, optimum, row_loss_grad, unitary_code_row_loss,
};
use attnlab_icar::gd::{Augmented, gd_predict};
use attnlab_icar::head::AugHead;
use proptest::prelude::*;
use rand::Rng;

fn case_of(b: bool) -> Case {
    if b { Case::Orthogonal } else { Case::Unitary }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// (A, B) → (GA, G^{−T}B) for G ∈ GL(H) and (C, P) → (κC, P/κ), κ ≠ 0 (sign flips included)
    /// leave the loss unchanged (spec §3b "Symmetries").
    #[test]
    fn gl_scale_and_sign_symmetries(orth in any::<bool>(), half_d in 1usize..4, heads in 1usize..5, t in 2usize..7,
                                     seed in any::<u64>(), kappa in prop_oneof![-3.0f64..-0.2, 0.2f64..3.0]) {
        let m = Diagonal::new(case_of(orth), 2 * half_d, heads, t).unwrap();
        let x = Params::random(&m, 0.7, seed);
        let l0 = loss(&m, &x);
        // G = random well-conditioned H×H (identity + small perturbation); G^{−T} via Gauss–Jordan.
        let mut rng = seeded_rng(seed ^ 1);
        let h = heads;
        let g: Vec<f64> = (0..h * h).map(|i| f64::from(u8::from(i / h == i % h)) + 0.3 * (rng.random::<f64>() - 0.5)).collect();
        let ginv = invert(&g, h);
        let d = m.d();
        let mut y = x.clone();
        for r in 0..h {
            for k in 0..d {
                y.a[r * d + k] = (0..h).map(|s| g[r * h + s] * x.a[s * d + k]).sum();
                // (G^{−T}B)_{rk} = Σ_s Ginv_{sr} B_{sk}
                y.b[r * d + k] = (0..h).map(|s| ginv[s * h + r] * x.b[s * d + k]).sum();
            }
        }
        let l1 = loss(&m, &y);
        prop_assert!((l1 - l0).abs() <= 1e-9 * (1.0 + l0.abs()), "GL(H): {l0} vs {l1}");
        let mut z = x.clone();
        z.a.iter_mut().for_each(|v| *v *= kappa);
        z.p.iter_mut().for_each(|v| *v /= kappa);
        let l2 = loss(&m, &z);
        prop_assert!((l2 - l0).abs() <= 1e-9 * (1.0 + l0.abs()), "scale κ = {kappa}: {l0} vs {l2}");
    }

    /// The one-step-GD predictor Γ s_T equals the forward pass of the linear-attention head with
    /// the constructed weights V = [I, 0], Q_{(s_{t−1}, s_T)} = ηI (spec §3a).
    #[test]
    fn gd_predictor_is_the_attention_forward_pass(d in 1usize..7, t in 2usize..30, eta in -2.0f64..2.0, seed in any::<u64>()) {
        let s = Augmented::new(d, t, 1.0).unwrap();
        let seq = s.sample(&mut seeded_rng(seed));
        let a = AugHead::constructed(d, eta).forward(&seq[..t]);
        let b = gd_predict(&seq[..t], eta);
        for (x, y) in a.iter().zip(&b) {
            prop_assert!((x - y).norm() < 1e-10);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Loss floors over random (d, H): the theory's optimum construction attains 0 when H ≥ d
    /// (unitary) or H ≥ d/2 (orthogonal); no random point goes below the floor; and the best of 16
    /// Adam restarts reaches max(d − H, 0) or max(d − 2H, 0) per row (spec §3b).
    #[test]
    fn loss_floors(orth in any::<bool>(), half_d in 1usize..4, heads in 1usize..7, seed in any::<u64>()) {
        let m = Diagonal::new(case_of(orth), 2 * half_d, heads, 5).unwrap();
        let rows = m.rows() as f64;
        let floor = m.floor_per_row();
        if let Some(x) = optimum(&m, -0.8) {
            prop_assert!(floor == 0.0 && loss(&m, &x).abs() < 1e-10);
        } else {
            prop_assert!(floor > 0.0);
        }
        for k in 0..20 {
            let x = Params::random(&m, 1.0, seed.wrapping_add(k));
            prop_assert!(loss(&m, &x) / rows >= floor - 1e-9);
        }
        let (best, _) = fit_restarts(&m, 16, 3000, seed);
        prop_assert!((best.loss / rows - floor).abs() < 0.01, "{:?} d {} H {}: {} vs floor {floor}", m.case(), m.d(), heads, best.loss / rows);
    }

    /// The exact closed forms equal Monte Carlo of the model definition (unitary: the corrected
    /// form; the code's double-counting form misses it by p_t²‖C‖_F² when p_t ≠ 0) (spec §2c).
    #[test]
    fn closed_forms_match_monte_carlo(orth in any::<bool>(), half_d in 1usize..3, t in 0usize..4, seed in any::<u64>()) {
        let case = case_of(orth);
        let d = 2 * half_d;
        let mut rng = seeded_rng(seed);
        let c: Vec<f64> = (0..d * d).map(|_| rng.random::<f64>() - 0.5).collect();
        let p: Vec<f64> = (0..t + 2).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect();
        let exact = row_loss_grad(case, &c, d, &p, t).0;
        let mc = mc_row_loss(case, &c, d, &p, t, 40_000, seed ^ 7);
        prop_assert!((mc.mean - exact).abs() < 5.0 * mc.se + 1e-9, "{case:?}: exact {exact} vs MC {} ± {}", mc.mean, mc.se);
        if case == Case::Unitary {
            let code = unitary_code_row_loss(&c, d, &p, t);
            let gap = code - exact;
            prop_assert!((gap - p[t] * p[t] * c.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-12);
        }
    }

    /// η* = d/(T+d−2) and loss* = (d−1)/(T+d−2) against Monte Carlo of the GD predictor; the
    /// closed-form GD loss agrees with MC at other η too (spec §3a).
    #[test]
    fn eta_star_against_monte_carlo(d in 1usize..7, t in 2usize..40, scale in 0.5f64..1.5, seed in any::<u64>()) {
        let s = Augmented::new(d, t, 1.0).unwrap();
        let mc = s.mc_gd_loss(s.eta_star(), 20_000, seed);
        prop_assert!((mc.mean - s.loss_star()).abs() < 5.0 * mc.se + 1e-9, "loss* {} vs MC {} ± {}", s.loss_star(), mc.mean, mc.se);
        let eta = s.eta_star() * scale;
        let mc2 = s.mc_gd_loss(eta, 20_000, seed ^ 3);
        prop_assert!((mc2.mean - s.gd_loss(eta)).abs() < 5.0 * mc2.se + 1e-9);
        prop_assert!(s.gd_loss(eta) >= s.loss_star() - 1e-12);
    }
}

/// The orthogonal closed form is not the unitary one: with p_t ≠ 0 the conjugate pairs add the
/// X and Y terms (so simulating the orthogonal case with the unitary formula would be wrong).
#[test]
fn orthogonal_and_unitary_forms_differ() {
    let d = 4;
    let c: Vec<f64> = (0..16).map(|i| 0.1 * i as f64 - 0.7).collect();
    let p = [0.3, -0.4, 0.9];
    let u = row_loss_grad(Case::Unitary, &c, d, &p, 1).0;
    let o = row_loss_grad(Case::Orthogonal, &c, d, &p, 1).0;
    assert!((u - o).abs() > 1e-3);
}

fn invert(g: &[f64], n: usize) -> Vec<f64> {
    let mut a = g.to_vec();
    let mut inv: Vec<f64> = (0..n * n).map(|i| f64::from(u8::from(i / n == i % n))).collect();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs())).unwrap_or(c);
        for k in 0..n {
            a.swap(c * n + k, p * n + k);
            inv.swap(c * n + k, p * n + k);
        }
        let piv = a[c * n + c];
        for k in 0..n {
            a[c * n + k] /= piv;
            inv[c * n + k] /= piv;
        }
        for r in 0..n {
            if r != c {
                let f = a[r * n + c];
                for k in 0..n {
                    a[r * n + k] -= f * a[c * n + k];
                    inv[r * n + k] -= f * inv[c * n + k];
                }
            }
        }
    }
    inv
}
