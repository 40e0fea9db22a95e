//! Data models of spec §1: commuting unitary W = diag(λ) (λ_k uniform on the circle), commuting
//! orthogonal W in complex eigen-coordinates (conjugate pairs at (2m, 2m+1)), the PE-only narrow arc
//! λ = exp(iθ/μ), and Haar O(d) (non-commuting, reflections included) for the trained models.

use std::f64::consts::TAU;

use rand::Rng;
use rand_distr::StandardNormal;

use crate::C64;

/// λ_k i.i.d. uniform on the unit circle (spec §1 `unitary.py`).
pub fn unitary_eigenvalues<R: Rng>(d: usize, rng: &mut R) -> Vec<C64> {
    (0..d).map(|_| C64::from_polar(1.0, TAU * rng.random::<f64>())).collect()
}

/// λ = (e^{iθ_1}, e^{−iθ_1}, …, e^{iθ_{d/2}}, e^{−iθ_{d/2}}), θ_m i.i.d. U[0, 2π) — a commuting
/// orthogonal W written in its complex eigen-coordinates (spec §1 `orthogonal.py`, pitfall 2).
/// `d` must be even.
pub fn orthogonal_eigenvalues<R: Rng>(d: usize, rng: &mut R) -> Vec<C64> {
    let mut l = Vec::with_capacity(d);
    for _ in 0..d / 2 {
        let z = C64::from_polar(1.0, TAU * rng.random::<f64>());
        l.push(z);
        l.push(z.conj());
    }
    l
}

/// s_1 with ‖s_1‖ = `norm`, |s_{1,k}|² = norm²/d and uniformly random phases (spec §3a, pitfall 6).
pub fn random_phase_start<R: Rng>(d: usize, norm: f64, rng: &mut R) -> Vec<C64> {
    let r = norm / (d as f64).sqrt();
    (0..d).map(|_| C64::from_polar(r, TAU * rng.random::<f64>())).collect()
}

/// The states s_start, λ⊙s_start, …, λ^{len−1}⊙s_start (the power per coordinate, spec §1).
pub fn diagonal_states(lambda: &[C64], start: &[C64], len: usize) -> Vec<Vec<C64>> {
    let mut out = Vec::with_capacity(len);
    let mut s = start.to_vec();
    for _ in 0..len {
        out.push(s.clone());
        for (x, l) in s.iter_mut().zip(lambda) {
            *x *= l;
        }
    }
    out
}

/// A Haar-distributed W ∈ O(d) (det ±1; for d = 1 this is ±1), row-major: Gram–Schmidt of a
/// Gaussian matrix with the signs fixed so that R has a positive diagonal (spec §1 `ortho_group`).
pub fn haar_orthogonal<R: Rng>(d: usize, rng: &mut R) -> Vec<f64> {
    loop {
        let mut cols: Vec<Vec<f64>> =
            (0..d).map(|_| (0..d).map(|_| rng.sample::<f64, _>(StandardNormal)).collect()).collect();
        let mut ok = true;
        for j in 0..d {
            for i in 0..j {
                let dot: f64 = (0..d).map(|k| cols[i][k] * cols[j][k]).sum();
                for k in 0..d {
                    cols[j][k] -= dot * cols[i][k];
                }
            }
            let n: f64 = cols[j].iter().map(|x| x * x).sum::<f64>().sqrt();
            if n < 1e-10 {
                ok = false;
                break;
            }
            cols[j].iter_mut().for_each(|x| *x /= n);
        }
        if ok {
            // W[i][j] = cols[j][i]
            let mut w = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..d {
                    w[i * d + j] = cols[j][i];
                }
            }
            return w;
        }
    }
}

/// A real AR sequence s_{t+1} = W s_t of `len` states from s_0 = 1_d/√d (the same start for every
/// sequence, spec §1 `augmented.py`), W row-major d×d.
pub fn haar_states(w: &[f64], d: usize, len: usize) -> Vec<Vec<f64>> {
    let mut s = vec![1.0 / (d as f64).sqrt(); d];
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(s.clone());
        s = (0..d).map(|i| (0..d).map(|j| w[i * d + j] * s[j]).sum()).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use attnlab_core::seeded_rng;

    #[test]
    fn haar_is_orthogonal() {
        let mut rng = seeded_rng(1);
        for d in 1..6 {
            let w = haar_orthogonal(d, &mut rng);
            for i in 0..d {
                for j in 0..d {
                    let g: f64 = (0..d).map(|k| w[k * d + i] * w[k * d + j]).sum();
                    assert!((g - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn conjugate_pairs_and_norms() {
        let mut rng = seeded_rng(2);
        let l = orthogonal_eigenvalues(6, &mut rng);
        for m in 0..3 {
            assert!((l[2 * m] - l[2 * m + 1].conj()).norm() < 1e-15);
        }
        let s = random_phase_start(5, 1.0, &mut rng);
        let n: f64 = s.iter().map(|z| z.norm_sqr()).sum();
        assert!((n - 1.0).abs() < 1e-12);
    }
}
