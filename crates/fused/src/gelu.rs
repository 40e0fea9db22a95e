//! GELU in its erf form, gelu(x) = x Φ(x), Φ(x) = ½(1 + erf(x/√2)), and its derivative
//! gelu′(x) = Φ(x) + x φ(x) — the trainer's activation (spec markov §2b).

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// erfc(z) by the Chebyshev fit of Numerical Recipes (§6.2, `erfcc`): fractional error below
/// 1.2e-7 for every z, evaluated in f64.
fn erfc(z: f64) -> f64 {
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if z >= 0.0 { r } else { 2.0 - r }
}

/// Φ(x), the standard normal CDF.
pub fn phi_cdf(x: f32) -> f64 {
    0.5 * erfc(-f64::from(x) * FRAC_1_SQRT_2)
}

/// gelu(x) = x Φ(x).
pub fn gelu(x: f32) -> f32 {
    (f64::from(x) * phi_cdf(x)) as f32
}

/// gelu′(x) = Φ(x) + x φ(x).
pub fn gelu_grad(x: f32) -> f32 {
    let xf = f64::from(x);
    (phi_cdf(x) + xf * (-0.5 * xf * xf).exp() / (2.0 * PI).sqrt()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Φ at known points, and gelu′ against a central difference of gelu in f64.
    #[test]
    fn values_and_derivative() {
        for (x, want) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746_068_542_9),
            (-2.0, 0.022_750_131_948_179_2),
            (3.5, 0.999_767_370_920_964_2),
        ] {
            assert!((phi_cdf(x) - want).abs() < 2e-7 * want.max(1e-3), "Φ({x})");
        }
        for i in -60..=60 {
            let x = i as f64 / 10.0;
            let g = |x: f64| x * 0.5 * erfc(-x * FRAC_1_SQRT_2);
            let h = 1e-4;
            let num = (g(x + h) - g(x - h)) / (2.0 * h);
            assert!((f64::from(gelu_grad(x as f32)) - num).abs() < 1e-5, "gelu′({x})");
        }
    }
}
