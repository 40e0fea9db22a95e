//! The two latent-variable models of spec §3 and their exact samplers.
//!
//! **M1, the "vMF concept" model (d = 2).** z ~ N(0, I₂); keys k_l ∈ S¹ i.i.d. with density
//! ∝ exp(zᵀk) (von Mises, mean angle atan2(z₂, z₁), concentration ‖z‖), sampled by rejection from a
//! uniform angle with acceptance exp(zᵀk − ‖z‖). Values: option (a) v_l = k_l; option (b)
//! v_l = g(k_l, z) + ε_l with g(k, z) = 0.8·tanh(zᵀJk), J the 90° rotation, ε ~ U(−0.2, 0.2), so
//! |v| ≤ 1 and E[v | k = q, z] = g(q, z).
//!
//! **M2, linear-Gaussian.** z ~ N(0, I₂); x_l = Hz + ξ_l, ξ_l ~ N(0, I₂), H = diag(1, 1/κ);
//! keys = values = x_l.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::{Vec2, dot, norm};

/// Value option of M1 (spec §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueOption {
    /// (a) v_l = k_l ∈ S¹.
    Keys,
    /// (b) v_l = g(k_l, z) + ε_l, g = 0.8·tanh(zᵀJk), ε ~ U(−0.2, 0.2).
    Tanh,
}

/// Amplitude of g in M1(b).
pub const G_AMPLITUDE: f64 = 0.8;
/// Half-width of the uniform noise ε in M1(b).
pub const NOISE_HALF_WIDTH: f64 = 0.2;

/// z ~ N(0, I₂).
pub fn sample_z(rng: &mut impl Rng) -> Vec2 {
    [StandardNormal.sample(rng), StandardNormal.sample(rng)]
}

/// A uniform point of S¹ (the query of E1–E3).
pub fn sample_uniform_circle(rng: &mut impl Rng) -> Vec2 {
    let t = rng.random::<f64>() * std::f64::consts::TAU;
    [t.cos(), t.sin()]
}

/// One key k ∈ S¹ with density ∝ exp(zᵀk), by rejection from a uniform angle, accepting with
/// probability exp(zᵀk − ‖z‖) (acceptance e^{-‖z‖}I₀(‖z‖) ≥ 0.2 for ‖z‖ ≤ 4). Exact.
pub fn sample_key(z: Vec2, rng: &mut impl Rng) -> Vec2 {
    let r = norm(z);
    loop {
        let k = sample_uniform_circle(rng);
        let u: f64 = rng.random();
        if u < (dot(z, k) - r).exp() {
            return k;
        }
    }
}

/// zᵀJk with J the 90° rotation, Jk = (−k₂, k₁).
pub fn z_j_k(z: Vec2, k: Vec2) -> f64 {
    z[1] * k[0] - z[0] * k[1]
}

/// g(k, z) = 0.8·tanh(zᵀJk) = E[v | k, z] under M1(b).
pub fn g(k: Vec2, z: Vec2) -> f64 {
    G_AMPLITUDE * z_j_k(z, k).tanh()
}

/// An option-(b) value v = g(k, z) + ε, ε ~ U(−0.2, 0.2).
pub fn sample_value(k: Vec2, z: Vec2, rng: &mut impl Rng) -> f64 {
    g(k, z) + NOISE_HALF_WIDTH * (2.0 * rng.random::<f64>() - 1.0)
}

/// One M1 sequence of length L: z, keys and the option-(b) values (option (a) uses the keys).
#[derive(Debug, Clone, PartialEq)]
pub struct M1Sequence {
    /// The latent concept z.
    pub z: Vec2,
    /// Keys k_l ∈ S¹.
    pub keys: Vec<Vec2>,
    /// Option-(b) values v_l = g(k_l, z) + ε_l (empty for option (a)).
    pub values: Vec<f64>,
}

impl M1Sequence {
    /// Samples z and L tokens of M1 with the given value option.
    pub fn sample(len: usize, option: ValueOption, rng: &mut impl Rng) -> Self {
        let z = sample_z(rng);
        Self::sample_given(z, len, option, rng)
    }

    /// Samples L tokens of M1 given the concept z.
    pub fn sample_given(z: Vec2, len: usize, option: ValueOption, rng: &mut impl Rng) -> Self {
        let keys: Vec<Vec2> = (0..len).map(|_| sample_key(z, rng)).collect();
        let values = match option {
            ValueOption::Keys => Vec::new(),
            ValueOption::Tanh => keys.iter().map(|&k| sample_value(k, z, rng)).collect(),
        };
        Self { z, keys, values }
    }

    /// S = Σ_l k_l, the sufficient statistic of the M1 posterior.
    pub fn key_sum(&self) -> Vec2 {
        self.keys.iter().fold([0.0, 0.0], |s, k| [s[0] + k[0], s[1] + k[1]])
    }
}

/// The linear-Gaussian model M2: H = diag(1, 1/κ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct M2 {
    /// κ = σ_max(H)/σ_min(H) ≥ 1.
    pub kappa: f64,
}

impl M2 {
    /// H = diag(1, 1/κ) as a matrix.
    pub fn h(&self) -> crate::Mat2 {
        [[1.0, 0.0], [0.0, 1.0 / self.kappa]]
    }

    /// Samples z and x_l = Hz + ξ_l, l = 1..L.
    pub fn sample(&self, len: usize, rng: &mut impl Rng) -> (Vec2, Vec<Vec2>) {
        let z = sample_z(rng);
        let hz = [z[0], z[1] / self.kappa];
        let xs = (0..len)
            .map(|_| {
                let a: f64 = StandardNormal.sample(rng);
                let b: f64 = StandardNormal.sample(rng);
                [hz[0] + a, hz[1] + b]
            })
            .collect();
        (z, xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attnlab_core::seeded_rng;

    #[test]
    fn keys_follow_the_von_mises_law() {
        // E[k | z] = A(‖z‖)·z/‖z‖ for the von Mises law; check the sampler's mean to 5 SE.
        let mut rng = seeded_rng(3);
        let z = [1.5, -0.8];
        let n = 200_000;
        let s = M1Sequence::sample_given(z, n, ValueOption::Keys, &mut rng).key_sum();
        let a = crate::bessel::a_ratio(norm(z));
        for i in 0..2 {
            let want = a * z[i] / norm(z);
            let got = s[i] / n as f64;
            assert!((got - want).abs() < 5.0 * (0.5 / n as f64).sqrt(), "coord {i}: {got} vs {want}");
        }
    }

    #[test]
    fn values_are_bounded_and_keys_on_the_circle() {
        let mut rng = seeded_rng(4);
        for _ in 0..50 {
            let s = M1Sequence::sample(64, ValueOption::Tanh, &mut rng);
            assert!(s.values.iter().all(|v| v.abs() <= 1.0));
            assert!(s.keys.iter().all(|k| (norm(*k) - 1.0).abs() < 1e-14));
        }
    }
}
