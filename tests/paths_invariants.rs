//! Property tests of the attention-paths theory (spec paths §8.4) on random small problems: any
//! depth L ∈ {1, 2, 3}, heads per layer, inputs, heads and widths. Each property is checked
//! numerically (finite differences, the stationarity equation, large-N limits), never by
//! re-evaluating the formula it is meant to test.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_core::rng::seeded_rng;
use attnlab_paths::action::{Action, Architecture, OrderParams, kron_identity, partial_trace};
use attnlab_paths::analysis::{head_scores, prune};
use attnlab_paths::attention::path_xi;
use attnlab_paths::solver::{SolverOptions, solve};
use attnlab_paths::{PathInputs, PreKernels, Readout};
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rand::Rng;

fn config(cases: u32, file: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

struct Problem {
    inputs: PathInputs,
    y: DVector<f64>,
    hpl: Vec<usize>,
}

/// A random problem: P inputs of N0 features × T tokens, heads W ~ N(0, 1)-ish, labels ±1.
fn problem(seed: u64, hpl: &[usize], p: usize, n0: usize, t: usize, readout: Readout) -> Problem {
    let mut rng = seeded_rng(seed);
    let mut g = || rng.random::<f64>() * 2.0 - 1.0;
    let x: Vec<DMatrix<f64>> = (0..p).map(|_| DMatrix::from_fn(n0, t, |_, _| g())).collect();
    let heads: Vec<Vec<DMatrix<f64>>> =
        hpl.iter().map(|&h| (0..h).map(|_| DMatrix::from_fn(n0, n0, |_, _| 2.0 * g())).collect()).collect();
    let y = DVector::from_fn(p, |i, _| if i % 2 == 0 { 1.0 } else { -1.0 });
    Problem { inputs: PathInputs::new(&x, &heads, readout, 1.0), y, hpl: hpl.to_vec() }
}

fn action(pb: &Problem, n: f64, tau: f64) -> Action {
    let arch = Architecture::equal_width(&pb.hpl, n).unwrap();
    Action::new(arch, PreKernels::new(&pb.inputs), pb.y.clone(), tau).unwrap()
}

/// A random symmetric positive-definite m × m matrix near `scale`·I.
fn random_spd(m: usize, seed: u64, scale: f64) -> DMatrix<f64> {
    let mut rng = seeded_rng(seed);
    let a = DMatrix::from_fn(m, m, |_, _| rng.random::<f64>() - 0.5);
    &a * a.transpose() * 0.5 + DMatrix::identity(m, m) * scale
}

fn heads_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=3, 1..=3).prop_filter("at most 12 paths", |h| h.iter().product::<usize>() <= 12)
}

proptest! {
    #![proptest_config(config(48, "proptest-regressions/paths_invariants.txt"))]

    /// At the GP point (all σ = 1, equal widths) S_ent/N = 1 + Σ_ℓ ∏_{k≥ℓ} H_k, and S/N tends to it.
    #[test]
    fn gp_entropy_and_large_n_action(seed in any::<u64>(), hpl in heads_strategy(), p in 3usize..7, tau in 0.05..1.0f64) {
        let pb = problem(seed, &hpl, p, 3, 3, Readout::LastToken);
        let want = 1.0 + (0..hpl.len()).map(|l| hpl[l..].iter().product::<usize>() as f64).sum::<f64>();
        let n = 7.0;
        let a = action(&pb, n, tau);
        let ev = a.evaluate(&OrderParams::gp(&a.arch).u).unwrap();
        prop_assert!((ev.s_ent / n - want).abs() < 1e-12, "S_ent/N = {} vs {want}", ev.s_ent / n);
        prop_assert!((ev.u_a - 1.0).abs() < 1e-12);
        let a = action(&pb, 1e8, tau);
        let sol = solve(&a, None, &SolverOptions::default()).unwrap();
        prop_assert!((sol.action_per_width - want).abs() < 1e-5, "S/N at N = 1e8: {}", sol.action_per_width);
        for u in &sol.params.u {
            let id = DMatrix::identity(u.nrows(), u.ncols());
            prop_assert!((u - id).amax() < 1e-5, "U → I as N → ∞");
        }
    }

    /// The analytic gradient ∂S/∂U_ℓ matches central finite differences at random SPD points.
    #[test]
    fn gradient_matches_finite_differences(seed in any::<u64>(), hpl in heads_strategy(), p in 3usize..7, n in 2.0..50.0f64, tau in 0.05..1.0f64) {
        let pb = problem(seed, &hpl, p, 3, 3, Readout::AveragePooling);
        let a = action(&pb, n, tau);
        let u: Vec<DMatrix<f64>> = (0..hpl.len()).map(|l| random_spd(a.arch.size(l), seed ^ l as u64, 1.0 + l as f64)).collect();
        let ev = a.evaluate(&u).unwrap();
        let h = 1e-5;
        for l in 0..u.len() {
            let m = u[l].nrows();
            for i in 0..m {
                for j in 0..=i {
                    // Symmetric perturbation of (i, j) and (j, i): dS = G_ij + G_ji (or G_ii).
                    let mut e = DMatrix::zeros(m, m);
                    e[(i, j)] = 1.0;
                    e[(j, i)] = 1.0;
                    let mut up = u.clone();
                    up[l] += &e * h;
                    let mut um = u.clone();
                    um[l] -= &e * h;
                    let fd = (a.evaluate(&up).unwrap().s - a.evaluate(&um).unwrap().s) / (2.0 * h);
                    let an = if i == j { ev.grad[l][(i, i)] } else { 2.0 * ev.grad[l][(i, j)] };
                    prop_assert!((fd - an).abs() <= 1e-5 * (1.0 + an.abs()), "layer {l} ({i},{j}): fd {fd} vs analytic {an}");
                }
            }
        }
    }

    /// The solution is symmetric positive definite, converged, and (L = 1) satisfies the spec §3
    /// stationarity equation U⁻¹ = I/(u_a σ1) + (1/N)[tr(G C_{hh'}) − (Gy)ᵀ C_{hh'} (Gy)].
    #[test]
    fn solution_is_spd_and_stationary(seed in any::<u64>(), hpl in heads_strategy(), p in 3usize..7, n in 2.0..200.0f64, tau in 0.05..1.0f64) {
        let pb = problem(seed, &hpl, p, 3, 3, Readout::LastToken);
        let a = action(&pb, n, tau);
        let sol = solve(&a, None, &SolverOptions::default()).unwrap();
        prop_assert!(sol.converged, "max_grad {}", sol.max_grad);
        for u in &sol.params.u {
            prop_assert!((u - u.transpose()).amax() < 1e-12);
            prop_assert!(u.clone().cholesky().is_some(), "U not positive definite");
        }
        if hpl.len() == 1 {
            let u = &sol.params.u[0];
            let mut k = a.kernels.kernel(u);
            for i in 0..k.nrows() { k[(i, i)] += tau; }
            let g = k.try_inverse().unwrap();
            let v = &g * &pb.y;
            let m = u.nrows();
            let rhs = DMatrix::from_fn(m, m, |i, j| {
                let c = a.kernels.get(i, j);
                let base = if i == j { 1.0 / sol.params.u_a } else { 0.0 };
                base + ((&g * &c).trace() - v.dot(&(&c * &v))) / n
            });
            let lhs = u.clone().try_inverse().unwrap();
            prop_assert!((lhs - rhs).amax() < 1e-7, "stationarity violated");
        }
    }

    /// Structure identities: Tr_{h}(I_H ⊗ A) = H A; the path inputs are linear in x; pruning a head
    /// zeroes exactly the paths through it; head scores are normalised with maximum 1.
    #[test]
    fn structure_identities(seed in any::<u64>(), hpl in heads_strategy(), c in -3.0..3.0f64) {
        let a = random_spd(2, seed, 1.0);
        let h = hpl[0];
        prop_assert!((partial_trace(&kron_identity(h, &a), h) - &a * h as f64).amax() < 1e-12);
        let mut rng = seeded_rng(seed);
        let x = DMatrix::from_fn(3, 4, |_, _| rng.random::<f64>() - 0.5);
        let heads: Vec<Vec<DMatrix<f64>>> = hpl.iter().map(|&h| vec![DMatrix::zeros(3, 3); h]).collect();
        // With W = 0 every head is uniform, so ξ_π(c x) = c ξ_π(x) = c · mean token.
        let xi = path_xi(&(&x * c), &heads, Readout::LastToken);
        let mean = x.column_mean() * c;
        for pi in 0..xi.ncols() {
            prop_assert!((xi.column(pi) - &mean).amax() < 1e-12);
        }
        let n = hpl.iter().product::<usize>();
        let u = random_spd(n, seed, 1.0);
        let pruned = prune(&u, &hpl, &[(0, 0)]);
        let stride: usize = hpl[1..].iter().product();
        for a in 0..n {
            let through = a / stride == 0;
            prop_assert_eq!(pruned.row(a).amax() == 0.0, through);
        }
        let s = head_scores(&u, &hpl);
        prop_assert_eq!(s.len(), hpl.iter().sum::<usize>());
        prop_assert!((s.last().unwrap().score - 1.0).abs() < 1e-15);
        prop_assert!(s.windows(2).all(|w| w[0].score <= w[1].score));
    }
}
