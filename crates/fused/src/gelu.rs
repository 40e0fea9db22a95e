//! GELU in its erf form, gelu(x) = x Φ(x), Φ(x) = ½(1 + erf(x/√2)), and its derivative
//! gelu′(x) = Φ(x) + x φ(x) — the trainer's activation (spec markov §2b): the f64 reference
//! ([`gelu`], [`gelu_grad`]) and the f32 loops the fused passes run ([`forward`], [`backward`]),
//! branch-free so they vectorise, compiled per code path.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use attnlab_kernels::{Multiversion, Path, dispatch, exp_neg};

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

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// The Chebyshev coefficients of [`erfc`], highest degree first after the leading one (as
/// published, so some carry more digits than an f32 holds).
#[allow(clippy::excessive_precision)]
const ERFC_C: [f32; 9] = [
    -0.822_152_23,
    1.488_515_87,
    -1.135_203_98,
    0.278_868_07,
    -0.186_288_06,
    0.096_784_18,
    0.374_091_96,
    1.000_023_68,
    -1.265_512_23,
];

/// [`erfc`] in f32 with `attnlab_kernels::exp_neg`, branch-free.
#[inline(always)]
fn erfc_f32<const FMA: bool>(z: f32) -> f32 {
    let a = z.abs();
    let t = 1.0 / madd::<FMA>(0.5, a, 1.0);
    let mut p = 0.170_872_8_f32;
    for c in ERFC_C {
        p = madd::<FMA>(p, t, c);
    }
    // The exponent −z² + P(t) is ≤ 0 up to rounding at z = 0.
    let r = t * exp_neg::<FMA>(madd::<FMA>(-a, a, p).min(0.0));
    if z >= 0.0 { r } else { 2.0 - r }
}

/// Φ(x) in f32.
#[inline(always)]
fn phi_cdf_f32<const FMA: bool>(x: f32) -> f32 {
    0.5 * erfc_f32::<FMA>(-x * std::f32::consts::FRAC_1_SQRT_2)
}

/// 1/√(2π).
const INV_SQRT_TAU: f32 = 0.398_942_3;

struct Fwd<'a> {
    x: &'a [f32],
    y: &'a mut [f32],
}

impl Multiversion for Fwd<'_> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        for (y, &x) in self.y.iter_mut().zip(self.x) {
            *y = x * phi_cdf_f32::<FMA>(x);
        }
    }
}

struct Bwd<'a> {
    x: &'a [f32],
    g: &'a mut [f32],
}

impl Multiversion for Bwd<'_> {
    type Output = ();
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        for (g, &x) in self.g.iter_mut().zip(self.x) {
            let density = INV_SQRT_TAU * exp_neg::<FMA>(-0.5 * x * x);
            *g *= madd::<FMA>(x, density, phi_cdf_f32::<FMA>(x));
        }
    }
}

/// y = gelu(x), elementwise (f32, this CPU's best code path).
pub fn forward(x: &[f32], y: &mut [f32]) {
    dispatch(Path::best(), Fwd { x, y });
}

/// g ← g ⊙ gelu′(x), elementwise (f32, this CPU's best code path).
pub fn backward(x: &[f32], g: &mut [f32]) {
    dispatch(Path::best(), Bwd { x, g });
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

    /// The f32 loops against the f64 reference on every code path, over [−10, 10] and beyond:
    /// within 5e-7 of max(1, |x|) for gelu and 5e-7 for gelu′.
    #[test]
    fn f32_loops_match_the_reference_on_every_path() {
        let x: Vec<f32> = (-4000..=4000).map(|i| i as f32 / 397.0).chain([-30.0, -12.5, 12.5, 30.0, 0.0]).collect();
        for path in [Path::Portable, Path::Avx2, Path::Avx512] {
            let mut y = vec![0f32; x.len()];
            dispatch(path, Fwd { x: &x, y: &mut y });
            let mut g = vec![1f32; x.len()];
            dispatch(path, Bwd { x: &x, g: &mut g });
            for ((&xv, &yv), &gv) in x.iter().zip(&y).zip(&g) {
                let (want_y, want_g) = (f64::from(gelu(xv)), f64::from(gelu_grad(xv)));
                assert!(
                    (f64::from(yv) - want_y).abs() <= 5e-7 * f64::from(xv.abs()).max(1.0),
                    "{path:?} gelu({xv}): {yv} vs {want_y}"
                );
                assert!((f64::from(gv) - want_g).abs() <= 5e-7, "{path:?} gelu'({xv}): {gv} vs {want_g}");
            }
        }
    }
}
