//! The worked cases of spec §8 (independent numpy reference), reproduced to 1e-6 through the same
//! JSON path as `attnlab paths theory`.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use attnlab_paths::case::{Case, CaseSolution};
use attnlab_paths::solver::SolverOptions;
use attnlab_paths::{PathInputs, Readout};
use nalgebra::DMatrix;
use serde_json::json;

const X2: [[[f64; 3]; 3]; 4] = [
    [[1., 0., 1.], [0., 1., 0.], [1., 1., 0.]],
    [[0., 1., 1.], [1., 0., 0.], [0., 1., 1.]],
    [[1., 1., 0.], [1., 0., 1.], [0., 0., 1.]],
    [[0., 0., 1.], [1., 1., 1.], [1., 0., 0.]],
];
const W1: [[f64; 3]; 3] = [[1., 0., 0.], [0., -1., 0.], [0., 0., 2.]];
const W2: [[f64; 3]; 3] = [[0., 1., 0.], [1., 0., 0.], [0., 0., 0.]];
const Z3: [[f64; 3]; 3] = [[0.; 3]; 3];

fn solve(case: serde_json::Value) -> CaseSolution {
    Case::from_json(&case.to_string()).unwrap().solve(&SolverOptions::default()).unwrap()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

fn case2(width: f64, readout: &str) -> CaseSolution {
    solve(json!({"x": X2, "y": [1, 1, -1, -1], "heads": [[W1, W2]], "readout": readout, "tau": 0.05, "width": width}))
}

/// §8.1: L = 1, H = 1, τ = 0 — deep linear network on ξ; with T = 1 and W = 0, ξ = x.
#[test]
fn case1_deep_linear_closed_form() {
    let x = [[[1.], [0.], [2.], [-1.]], [[0.], [1.], [1.], [1.]], [[1.], [-1.], [0.], [2.]]];
    let w = [[0.; 4]; 4];
    for (n, u, ua) in [
        (6.0, 1.247184, Some(1.116774)),
        (3.0, 1.332676, Some(1.154416)),
        (30.0, 1.085263, None),
        (1e6, 1.000003, None),
    ] {
        let s =
            solve(json!({"x": x, "y": [1, -1, 1], "heads": [[w]], "readout": "last_token", "tau": 0.0, "width": n}));
        assert!(s.converged, "N = {n}: max_grad {}", s.max_grad);
        close(s.u[0][0][0], u, 1e-6, &format!("u at N = {n}"));
        if let Some(ua) = ua {
            close(s.u_a, ua, 1e-6, &format!("u_a at N = {n}"));
        }
        // Closed form: s = √u solves s³ − (1 − α)s² − r/N = 0 with r = yᵀC⁻¹y = 4.615385, u_a = s.
        let (sq, alpha, r) = (s.u[0][0][0].sqrt(), 3.0 / n, 60.0 / 13.0);
        close(sq.powi(3) - (1.0 - alpha) * sq * sq - r / n, 0.0, 1e-9, "cubic");
        close(s.u_a, sq, 1e-8, "u_a = √u");
    }
}

/// §8.2: the attentioned input X̃ of the first example.
#[test]
fn case2_attentioned_input() {
    let x: Vec<DMatrix<f64>> = X2.iter().map(|m| DMatrix::from_fn(3, 3, |i, t| m[i][t])).collect();
    let heads = vec![vec![DMatrix::from_fn(3, 3, |i, j| W1[i][j]), DMatrix::from_fn(3, 3, |i, j| W2[i][j])]];
    let xt = PathInputs::new(&x, &heads, Readout::LastToken, 1.0);
    let want = [[0.344822, 0.17305], [0.063426, 0.235199], [0.235837, 0.321724]];
    for i in 0..3 {
        for pi in 0..2 {
            close(xt.z[pi][(0, i)], want[i][pi], 1e-6, &format!("X̃[0][{i}][{pi}]"));
        }
    }
}

/// §8.2: U, u_a and S/N at N = 2, 5, 50, 10⁶; train means at N = 5 and 10⁶.
#[test]
fn case2_order_parameter() {
    let rows = [
        (2.0, [3.848832, -0.306648, 2.351524], 2.039755, Some(5.10443775)),
        (5.0, [2.717153, -0.115696, 1.996538], 1.727934, Some(4.09879180)),
        (50.0, [1.301413, -0.002202, 1.213465], 1.162792, None),
    ];
    for (n, u, ua, s_n) in rows {
        let s = case2(n, "last_token");
        assert!(s.converged && s.max_grad < 1e-9, "N = {n}: max_grad {}", s.max_grad);
        close(s.u[0][0][0], u[0], 1e-6, "U11");
        close(s.u[0][0][1], u[1], 1e-6, "U12");
        close(s.u[0][1][0], u[1], 1e-6, "U21");
        close(s.u[0][1][1], u[2], 1e-6, "U22");
        close(s.u_a, ua, 1e-6, "u_a");
        if let Some(sn) = s_n {
            close(s.action_per_width, sn, 1e-6, "S/N");
        }
    }
    let s = case2(5.0, "last_token");
    close(s.train_mean[0], 0.855271, 1e-6, "train mean 0 at N = 5");
    close(s.train_mean[1], 0.957405, 1e-6, "train mean 1 at N = 5");
    let s = case2(1e6, "last_token");
    close(s.action_per_width, 3.00001, 1e-5, "S/N at N = 1e6");
    for (i, row) in s.u[0].iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            close(*v, if i == j { 1.0 } else { 0.0 }, 1e-4, "U ≈ I at N = 1e6");
        }
    }
    close(s.train_mean[0], 0.752119, 1e-6, "train mean 0 at N = 1e6");
    close(s.train_mean[1], 0.846469, 1e-6, "train mean 1 at N = 1e6");
}

/// §8.2 with average pooling at N = 5.
#[test]
fn case2_average_pooling() {
    let s = case2(5.0, "average_pooling");
    close(s.u[0][0][0], 2.632396, 1e-6, "U11");
    close(s.u[0][0][1], 0.747242, 1e-6, "U12");
    close(s.u[0][1][1], 2.514447, 1e-6, "U22");
}

/// §8.3: L = 2, H = [2, 1] (layer 2 uniform), mean readout, N = 3.
#[test]
fn case3_two_layers() {
    let s = solve(
        json!({"x": X2, "y": [1, 1, -1, -1], "heads": [[W1, W2], [Z3]], "readout": "average_pooling", "tau": 0.05, "width": 3}),
    );
    assert!(s.converged);
    close(s.u[0][0][0], 4.024095, 1e-6, "U1[0][0]");
    close(s.u[0][0][1], 1.212294, 1e-6, "U1[0][1]");
    close(s.u[0][1][1], 4.039626, 1e-6, "U1[1][1]");
    close(s.u[1][0][0], 2.963112, 1e-6, "U2");
    close(s.u_a, 1.721369, 1e-6, "u_a");
    close(s.action_per_width, 5.71058283, 1e-6, "S/N");
}
