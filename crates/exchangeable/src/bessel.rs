//! Scaled modified Bessel functions of the first kind, e^{-r}I₀(r) and e^{-r}I₁(r), and the mean
//! resultant length A(r) = I₁(r)/I₀(r) of the von Mises law (spec §2 "Useful closed form", §5.8).
//!
//! Evaluated by the power series for r < 20 and by the Hankel asymptotic expansion beyond, both to
//! about 1e-15 relative. The periodic trapezoid rule of spec §3 (128 nodes) is kept as the
//! independent reference [`scaled_trapezoid`]; the unit tests check the two agree.

use std::f64::consts::PI;

/// Switch from the power series to the asymptotic expansion.
const R_ASYMPTOTIC: f64 = 20.0;

/// (e^{-r}I₀(r), e^{-r}I₁(r)) for r ≥ 0 (negative r is treated as |r|, with I₁ odd).
pub fn i0i1_scaled(r: f64) -> (f64, f64) {
    let a = r.abs();
    let (i0, i1) = if a < R_ASYMPTOTIC { series(a) } else { asymptotic(a) };
    (i0, if r < 0.0 { -i1 } else { i1 })
}

/// Power series I₀ = Σ (r²/4)^k/(k!)², I₁ = (r/2) Σ (r²/4)^k/(k!(k+1)!), scaled by e^{-r}.
fn series(r: f64) -> (f64, f64) {
    let x = 0.25 * r * r;
    let (mut t0, mut t1) = (1.0, 1.0);
    let (mut s0, mut s1) = (1.0, 1.0);
    for k in 1..200 {
        let kf = k as f64;
        t0 *= x / (kf * kf);
        t1 *= x / (kf * (kf + 1.0));
        s0 += t0;
        s1 += t1;
        if t0 < 1e-17 * s0 && t1 < 1e-17 * s1 {
            break;
        }
    }
    let e = (-r).exp();
    (s0 * e, 0.5 * r * s1 * e)
}

/// Hankel expansion e^{-r}I_ν(r) ≈ (2πr)^{-1/2} Σ_k (−1)^k a_k(ν) r^{-k},
/// a_k(ν) = Π_{j=1..k} (4ν² − (2j−1)²) / (k! 8^k); summed while the terms shrink.
fn asymptotic(r: f64) -> (f64, f64) {
    let sum = |nu: f64| {
        let mu = 4.0 * nu * nu;
        let (mut term, mut s) = (1.0_f64, 1.0_f64);
        for k in 1..60 {
            let kf = k as f64;
            let next = -term * (mu - (2.0 * kf - 1.0).powi(2)) / (kf * 8.0 * r);
            if next.abs() >= term.abs() {
                break;
            }
            term = next;
            s += term;
            if term.abs() < 1e-17 {
                break;
            }
        }
        s
    };
    let c = 1.0 / (2.0 * PI * r).sqrt();
    (c * sum(0.0), c * sum(1.0))
}

/// ln I₀(r).
pub fn ln_i0(r: f64) -> f64 {
    r.abs() + i0i1_scaled(r).0.ln()
}

/// A(r) = I₁(r)/I₀(r), the mean resultant length of a von Mises law with concentration r.
pub fn a_ratio(r: f64) -> f64 {
    let (i0, i1) = i0i1_scaled(r);
    i1 / i0
}

/// A'(r) = 1 − A(r)/r − A(r)² (→ 1/2 as r → 0).
pub fn a_ratio_derivative(r: f64) -> f64 {
    if r.abs() < 1e-8 {
        return 0.5;
    }
    let a = a_ratio(r);
    1.0 - a / r - a * a
}

/// Reference: e^{-r}I_ν(r) = (1/2π)∫cos(νθ)e^{r(cos θ − 1)}dθ by the periodic trapezoid rule with
/// `nodes` nodes (spec §3 uses 128), exact to rounding for analytic periodic integrands once
/// `nodes` ≫ √r.
pub fn scaled_trapezoid(nu: u32, r: f64, nodes: usize) -> f64 {
    let h = 2.0 * PI / nodes as f64;
    (0..nodes)
        .map(|j| {
            let t = j as f64 * h;
            (f64::from(nu) * t).cos() * (r * (t.cos() - 1.0)).exp()
        })
        .sum::<f64>()
        / nodes as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_and_asymptotic_match_the_trapezoid_rule() {
        for &r in &[0.0, 1e-6, 0.3, 1.0, 2.5, 7.0, 15.0, 19.9, 20.0, 20.1, 35.0, 80.0, 300.0] {
            let (i0, i1) = i0i1_scaled(r);
            let nodes = if r > 100.0 { 1024 } else { 128 };
            let (t0, t1) = (scaled_trapezoid(0, r, nodes), scaled_trapezoid(1, r, nodes));
            assert!((i0 - t0).abs() <= 1e-13 * t0, "I0 at {r}: {i0} vs {t0}");
            assert!((i1 - t1).abs() <= 1e-13 * t0, "I1 at {r}: {i1} vs {t1}");
        }
    }

    #[test]
    fn known_values() {
        // I0(1) = 1.2660658777520082, I1(1) = 0.5651591039924851 (Abramowitz & Stegun table 9.8).
        let (i0, i1) = i0i1_scaled(1.0);
        assert!((i0 * 1f64.exp() - 1.266_065_877_752_008_2).abs() < 1e-14);
        assert!((i1 * 1f64.exp() - 0.565_159_103_992_485_1).abs() < 1e-14);
    }

    #[test]
    fn a_ratio_derivative_matches_finite_differences() {
        for &r in &[0.05, 0.7, 3.0, 12.0, 25.0] {
            let h = 1e-5;
            let fd = (a_ratio(r + h) - a_ratio(r - h)) / (2.0 * h);
            assert!((fd - a_ratio_derivative(r)).abs() < 1e-8, "A'({r})");
        }
        assert!((a_ratio(1e-9) - 0.5e-9).abs() < 1e-20);
    }
}
