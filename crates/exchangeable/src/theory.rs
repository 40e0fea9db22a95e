//! Closed forms of spec §2–§3: the tilted mean m_W(q, z), the M1(a) latent posterior P(z | X) on a
//! grid centred at its mode, and the M2 Gaussian posterior.

use std::f64::consts::TAU;

use crate::bessel::{a_ratio, a_ratio_derivative, ln_i0};
use crate::model::{G_AMPLITUDE, M2, g};
use crate::{Mat2, Vec2, dot, norm, wt_times};

/// η = z + Wᵀq: under M1 the key law tilted by exp(qᵀWk) is vMF(η) (spec §2).
pub fn tilted_eta(q: Vec2, w: &Mat2, z: Vec2) -> Vec2 {
    let wq = wt_times(w, q);
    [z[0] + wq[0], z[1] + wq[1]]
}

/// m_W(q, z) under M1(a) (v = k), spec §2: the tilted key law is vMF(η), η = z + Wᵀq, so
/// m_W = A(‖η‖)·η/‖η‖ with A = I₁/I₀.
pub fn tilted_mean_keys(q: Vec2, w: &Mat2, z: Vec2) -> Vec2 {
    let eta = tilted_eta(q, w, z);
    let r = norm(eta);
    if r == 0.0 {
        return [0.0, 0.0];
    }
    let a = a_ratio(r);
    [a * eta[0] / r, a * eta[1] / r]
}

/// Trapezoid nodes for m_W under M1(b) (spec §3): 256, or 4096 once the tilted law is sharp
/// (‖η‖ ≥ 32, i.e. w ≥ 32 for W = wI).
pub fn tanh_nodes(eta_norm: f64) -> usize {
    if eta_norm >= 32.0 { 4096 } else { 256 }
}

/// m_W(q, z) under M1(b): E[g(k, z)] for k ~ vMF(η), η = z + Wᵀq, by the periodic trapezoid rule
/// over the angle with [`tanh_nodes`] nodes (ε has mean zero and drops out).
pub fn tilted_mean_tanh(q: Vec2, w: &Mat2, z: Vec2) -> f64 {
    let eta = tilted_eta(q, w, z);
    tilted_mean_tanh_nodes(eta, z, tanh_nodes(norm(eta)))
}

/// Concentration ‖η‖ from which [`tilted_mean_tanh_nodes`] integrates over a window around the mode
/// instead of the whole circle: the tilted law's width 1/√‖η‖ is then within 7 spacings of a
/// 4096-node circle grid, and past ‖η‖ ≈ 1e7 every circle node's weight underflows (0/0: the
/// command line's `exchangeable e1 --w 1e10` answered NaN).
pub const R_WINDOW: f64 = 1e4;

/// [`tilted_mean_tanh`] with an explicit node count (for the convergence test). Below [`R_WINDOW`]
/// the periodic trapezoid rule over the circle; from it, the trapezoid rule over θ₀ ± c around the
/// mode θ₀ = arg η, c = 40/√‖η‖ (the weight e^{−2‖η‖sin²((θ−θ₀)/2)} is below e^{−790} outside, so
/// the rule stays spectrally accurate), at any concentration up to f64's largest.
pub fn tilted_mean_tanh_nodes(eta: Vec2, z: Vec2, nodes: usize) -> f64 {
    let r = norm(eta);
    if r >= R_WINDOW {
        let theta0 = eta[1].atan2(eta[0]);
        let c = 40.0 / r.sqrt();
        let h = 2.0 * c / (nodes - 1) as f64;
        let (mut num, mut den) = (0.0, 0.0);
        for j in 0..nodes {
            let phi = -c + j as f64 * h;
            let t = theta0 + phi;
            let k = [t.cos(), t.sin()];
            let half = (0.5 * phi).sin();
            let e = (-2.0 * r * half * half).exp();
            // The end nodes carry half weight (their weight is below e^{−790} anyway).
            let wt = if j == 0 || j == nodes - 1 { 0.5 * e } else { e };
            num += wt * g(k, z);
            den += wt;
        }
        return num / den;
    }
    circle_rule(eta, z, nodes)
}

/// The periodic trapezoid rule for E[g(k, z)], k ~ vMF(η), over the whole circle with `nodes`
/// nodes (the weights e^{ηᵀk − ‖η‖} underflow everywhere once ‖η‖ is far past nodes²).
fn circle_rule(eta: Vec2, z: Vec2, nodes: usize) -> f64 {
    let r = norm(eta);
    let h = TAU / nodes as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for j in 0..nodes {
        let t = j as f64 * h;
        let k = [t.cos(), t.sin()];
        let e = (dot(eta, k) - r).exp();
        num += e * g(k, z);
        den += e;
    }
    num / den
}

/// m_W(q, z) for the unbounded-key control of E1: k ~ N(z, I₂), v = g(k, z) + ε. The tilted key law
/// is N(z + Wᵀq, I₂), so zᵀJk ~ N(zᵀJWᵀq, ‖z‖²) (zᵀJz = 0) and m_W = 0.8·E tanh(μ + ‖z‖ξ),
/// ξ ~ N(0, 1), by the trapezoid rule on [−12, 12] with 1201 nodes (spectrally accurate).
pub fn tilted_mean_gaussian_keys(q: Vec2, w: &Mat2, z: Vec2) -> f64 {
    let wq = wt_times(w, q);
    let mu = z[1] * wq[0] - z[0] * wq[1];
    let s = norm(z);
    let n = 1201;
    let h = 24.0 / (n - 1) as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for j in 0..n {
        let xi = -12.0 + j as f64 * h;
        let p = (-0.5 * xi * xi).exp();
        num += p * (mu + s * xi).tanh();
        den += p;
    }
    G_AMPLITUDE * num / den
}

/// The M1(a) log posterior up to a constant (spec §3):
/// ln p(z | X) = −‖z‖²/2 + zᵀS − L·ln I₀(‖z‖), S = Σ_l k_l.
pub fn m1_log_posterior(z: Vec2, s: Vec2, len: usize) -> f64 {
    -0.5 * dot(z, z) + dot(z, s) - len as f64 * ln_i0(norm(z))
}

/// Gradient and Hessian of [`m1_log_posterior`] (strictly concave: ln I₀(‖z‖) is convex).
fn m1_grad_hess(z: Vec2, s: Vec2, len: usize) -> (Vec2, Mat2) {
    let l = len as f64;
    let r = norm(z);
    if r < 1e-12 {
        // A(r)/r → 1/2 and A'(r) → 1/2: the Hessian is −(1 + L/2)·I.
        let c = 1.0 + 0.5 * l;
        return ([s[0] - z[0] * c, s[1] - z[1] * c], [[-c, 0.0], [0.0, -c]]);
    }
    let a = a_ratio(r);
    let ap = a_ratio_derivative(r);
    let u = [z[0] / r, z[1] / r];
    let grad = [s[0] - z[0] - l * a * u[0], s[1] - z[1] - l * a * u[1]];
    let mut hess = [[0.0; 2]; 2];
    for i in 0..2 {
        for j in 0..2 {
            let id = if i == j { 1.0 } else { 0.0 };
            hess[i][j] = -id - l * (ap * u[i] * u[j] + a / r * (id - u[i] * u[j]));
        }
    }
    (grad, hess)
}

/// The latent posterior of M1(a) as weighted grid nodes (spec §3, pitfall §5.5): a 41×41 grid in
/// the eigenbasis of the Hessian at the mode (found by damped Newton steps), half-width 8 posterior
/// standard deviations along each axis; weights are normalised posterior masses.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorGrid {
    /// The posterior mode.
    pub mode: Vec2,
    /// Laplace standard deviations along the two principal axes.
    pub sd: Vec2,
    /// Grid nodes z.
    pub nodes: Vec<Vec2>,
    /// Normalised weights (sum to 1).
    pub weights: Vec<f64>,
}

/// Grid points per axis.
pub const GRID_POINTS: usize = 41;
/// Grid half-width in posterior standard deviations.
pub const GRID_HALF_WIDTH_SD: f64 = 8.0;

impl PosteriorGrid {
    /// The M1(a) posterior given S = Σk_l and L.
    pub fn m1(s: Vec2, len: usize) -> Self {
        // Damped Newton from z = 0 (the log posterior is strictly concave, so this converges).
        let mut z = [0.0, 0.0];
        let f = |z: Vec2| m1_log_posterior(z, s, len);
        for _ in 0..100 {
            let (gr, h) = m1_grad_hess(z, s, len);
            let det = h[0][0] * h[1][1] - h[0][1] * h[1][0];
            let step = [(h[1][1] * gr[0] - h[0][1] * gr[1]) / det, (-h[1][0] * gr[0] + h[0][0] * gr[1]) / det];
            // Newton step is z − H⁻¹∇f.
            let mut t = 1.0;
            let f0 = f(z);
            let mut zn = [z[0] - step[0], z[1] - step[1]];
            while f(zn) < f0 - 1e-12 * f0.abs().max(1.0) && t > 1e-8 {
                t *= 0.5;
                zn = [z[0] - t * step[0], z[1] - t * step[1]];
            }
            let moved = (zn[0] - z[0]).hypot(zn[1] - z[1]);
            z = zn;
            if moved < 1e-13 * (1.0 + norm(z)) {
                break;
            }
        }
        let (_, h) = m1_grad_hess(z, s, len);
        // Eigen-decomposition of the (negative definite) symmetric 2×2 Hessian.
        let (a, b, c) = (-h[0][0], -h[0][1], -h[1][1]);
        let tr = 0.5 * (a + c);
        let disc = (0.25 * (a - c).powi(2) + b * b).sqrt();
        let (l1, l2) = (tr + disc, tr - disc);
        let e1 = if b.abs() > 1e-300 {
            let v = [l1 - c, b];
            let n = norm(v);
            [v[0] / n, v[1] / n]
        } else if a >= c {
            [1.0, 0.0]
        } else {
            [0.0, 1.0]
        };
        let e2 = [-e1[1], e1[0]];
        let sd = [1.0 / l1.sqrt(), 1.0 / l2.sqrt()];
        let n = GRID_POINTS;
        let step = |i: usize| -GRID_HALF_WIDTH_SD + 2.0 * GRID_HALF_WIDTH_SD * i as f64 / (n - 1) as f64;
        let mut nodes = Vec::with_capacity(n * n);
        let mut logw = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                let (t1, t2) = (step(i) * sd[0], step(j) * sd[1]);
                let p = [z[0] + t1 * e1[0] + t2 * e2[0], z[1] + t1 * e1[1] + t2 * e2[1]];
                logw.push(f(p));
                nodes.push(p);
            }
        }
        let mx = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut weights: Vec<f64> = logw.iter().map(|&v| (v - mx).exp()).collect();
        let tot: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|v| *v /= tot);
        Self { mode: z, sd, nodes, weights }
    }

    /// ∫ f(z) p(z | X) dz on the grid.
    pub fn expect<const D: usize>(&self, f: impl Fn(Vec2) -> [f64; D]) -> [f64; D] {
        let mut acc = [0.0; D];
        for (&z, &w) in self.nodes.iter().zip(&self.weights) {
            let v = f(z);
            for d in 0..D {
                acc[d] += w * v[d];
            }
        }
        acc
    }

    /// The posterior functional ∫ m_W(q, z) p(z | X) dz of spec §1 T2 (M1(a)).
    pub fn posterior_functional(&self, q: Vec2, w: &Mat2) -> Vec2 {
        self.expect(|z| tilted_mean_keys(q, w, z))
    }
}

/// The M2 posterior (spec §3): Σ_post = (I + L·HᵀH)⁻¹, μ_post = Σ_post·Hᵀ·Σ_l x_l.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct M2Posterior {
    /// μ_post.
    pub mean: Vec2,
    /// Σ_post.
    pub cov: Mat2,
}

impl M2Posterior {
    /// The posterior of z given x_1..x_L under M2.
    pub fn new(m: &M2, xs: &[Vec2]) -> Self {
        let h = m.h();
        let l = xs.len() as f64;
        let sx = xs.iter().fold([0.0, 0.0], |s, x| [s[0] + x[0], s[1] + x[1]]);
        // P = I + L·HᵀH.
        let mut p = [[0.0; 2]; 2];
        for i in 0..2 {
            for j in 0..2 {
                let hth = h[0][i] * h[0][j] + h[1][i] * h[1][j];
                p[i][j] = if i == j { 1.0 } else { 0.0 } + l * hth;
            }
        }
        let det = p[0][0] * p[1][1] - p[0][1] * p[1][0];
        let cov = [[p[1][1] / det, -p[0][1] / det], [-p[1][0] / det, p[0][0] / det]];
        let hts = wt_times(&h, sx);
        let mean = [cov[0][0] * hts[0] + cov[0][1] * hts[1], cov[1][0] * hts[0] + cov[1][1] * hts[1]];
        Self { mean, cov }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{M1Sequence, ValueOption};
    use attnlab_core::seeded_rng;

    #[test]
    fn tanh_tilted_mean_converges_in_the_node_count() {
        for &(eta, z) in &[([1.0, 2.0], [0.3, -1.2]), ([40.0, -3.0], [2.0, 1.0]), ([0.1, 0.0], [-3.0, 0.5])] {
            let reference = tilted_mean_tanh_nodes(eta, z, 16384);
            let got = tilted_mean_tanh_nodes(eta, z, tanh_nodes(norm(eta)));
            assert!((got - reference).abs() < 1e-12, "{eta:?}: {got} vs {reference}");
        }
    }

    /// From [`R_WINDOW`] on, the windowed rule matches the circle rule with many nodes while the
    /// latter still resolves the law, and at concentrations where every circle node underflows it
    /// stays finite and tends to g(η/‖η‖, z), with the O(1/‖η‖) gap of a Laplace expansion (and
    /// rounding where 1/‖η‖ is below it).
    #[test]
    fn tanh_tilted_mean_is_finite_and_right_at_any_concentration() {
        let z = [0.9, -0.4];
        for (r, theta) in [(1e4, 0.3), (3e4, -2.0), (1e5, 2.9)] {
            let eta = [r * f64::cos(theta), r * f64::sin(theta)];
            // The circle rule with 2^20 nodes: over 150 nodes per standard deviation at 1e5.
            let circle = circle_rule(eta, z, 1 << 20);
            let got = tilted_mean_tanh_nodes(eta, z, tanh_nodes(r));
            assert!((got - circle).abs() < 1e-12, "‖η‖ = {r}: {got} vs {circle}");
        }
        for r in [1e8, 1e12, 1e100, 1e300] {
            let theta: f64 = 0.7;
            let eta = [r * theta.cos(), r * theta.sin()];
            let got = tilted_mean_tanh_nodes(eta, z, tanh_nodes(r));
            let mode = g([theta.cos(), theta.sin()], z);
            assert!(
                got.is_finite() && (got - mode).abs() < (10.0 / r).max(1e-14),
                "‖η‖ = {r}: {got} vs g at the mode {mode}"
            );
        }
    }

    #[test]
    fn keys_tilted_mean_matches_quadrature() {
        // m_W for v = k by direct quadrature of the tilted law.
        let (q, z, w) = ([0.6, 0.8], [0.5, -1.0], [[2.0, 0.3], [-0.1, 1.5]]);
        let m = tilted_mean_keys(q, &w, z);
        let wq = wt_times(&w, q);
        let eta = [z[0] + wq[0], z[1] + wq[1]];
        let (mut n0, mut n1, mut d) = (0.0, 0.0, 0.0);
        for j in 0..512 {
            let t = TAU * j as f64 / 512.0;
            let e = (eta[0] * t.cos() + eta[1] * t.sin()).exp();
            n0 += e * t.cos();
            n1 += e * t.sin();
            d += e;
        }
        assert!((m[0] - n0 / d).abs() < 1e-13 && (m[1] - n1 / d).abs() < 1e-13);
    }

    #[test]
    fn posterior_mode_is_stationary_and_grid_is_normalised() {
        let mut rng = seeded_rng(5);
        for &len in &[16usize, 256, 4096] {
            let seq = M1Sequence::sample(len, ValueOption::Keys, &mut rng);
            let s = seq.key_sum();
            let post = PosteriorGrid::m1(s, len);
            let (gr, _) = m1_grad_hess(post.mode, s, len);
            assert!(norm(gr) < 1e-8 * len as f64, "gradient at mode {gr:?}");
            assert!((post.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            // The grid's edges carry negligible mass (vs errors of order 1e-2 being measured).
            let edge: f64 = post
                .weights
                .iter()
                .enumerate()
                .filter(|(k, _)| {
                    let (i, j) = (k / GRID_POINTS, k % GRID_POINTS);
                    i == 0 || j == 0 || i == GRID_POINTS - 1 || j == GRID_POINTS - 1
                })
                .map(|(_, w)| w)
                .sum();
            // (At L = 16 the posterior is visibly non-Gaussian and the edge holds ~1e-9.)
            assert!(edge < 1e-7, "edge mass {edge} at L = {len}");
        }
    }
}
