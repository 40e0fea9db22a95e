//! Brent's one-dimensional minimiser (golden section with parabolic steps), used by the ERM of E4.

const CGOLD: f64 = 0.381_966_011_250_105;

/// Minimises `f` on [a, b] to absolute tolerance `tol` in x; returns (x, f(x)).
pub fn brent_min(f: impl Fn(f64) -> f64, a: f64, b: f64, tol: f64) -> (f64, f64) {
    let (mut a, mut b) = (a.min(b), a.max(b));
    let mut x = a + CGOLD * (b - a);
    let (mut w, mut v) = (x, x);
    let mut fx = f(x);
    let (mut fw, mut fv) = (fx, fx);
    let (mut d, mut e) = (0.0_f64, 0.0_f64);
    for _ in 0..500 {
        let xm = 0.5 * (a + b);
        let tol1 = tol;
        let tol2 = 2.0 * tol1;
        if (x - xm).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        if e.abs() > tol1 {
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            } else {
                q = -q;
            }
            let etemp = e;
            e = d;
            if p.abs() >= (0.5 * q * etemp).abs() || p <= q * (a - x) || p >= q * (b - x) {
                e = if x >= xm { a - x } else { b - x };
                d = CGOLD * e;
            } else {
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = tol1.copysign(xm - x);
                }
            }
        } else {
            e = if x >= xm { a - x } else { b - x };
            d = CGOLD * e;
        }
        let u = if d.abs() >= tol1 { x + d } else { x + tol1.copysign(d) };
        let fu = f(u);
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            v = w;
            fv = fw;
            w = x;
            fw = fx;
            x = u;
            fx = fu;
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                v = w;
                fv = fw;
                w = u;
                fw = fu;
            } else if fu <= fv || v == x || v == w {
                v = u;
                fv = fu;
            }
        }
    }
    (x, fx)
}

/// Index of the smallest entry in `total_cmp` order (the first of equal ones).
pub fn argmin(xs: &[f64]) -> usize {
    xs.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

/// Minimises `f` over [lo, hi]: the best of `grid` equally spaced points, then Brent on the
/// bracket around it (spec §3 E4: a grid alone gave exactly zero excess at large N).
pub fn grid_then_brent(f: impl Fn(f64) -> f64, lo: f64, hi: f64, grid: usize, tol: f64) -> (f64, f64) {
    let xs: Vec<f64> = (0..grid).map(|i| lo + (hi - lo) * i as f64 / (grid - 1) as f64).collect();
    let fs: Vec<f64> = xs.iter().map(|&x| f(x)).collect();
    let i = argmin(&fs);
    let (a, b) = (xs[i.saturating_sub(1)], xs[(i + 1).min(grid - 1)]);
    let (x, fx) = brent_min(&f, a, b, tol);
    if fx <= fs[i] { (x, fx) } else { (xs[i], fs[i]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_smooth_functions() {
        let (x, _) = brent_min(|x| (x - 0.3).powi(2) + 1.0, -2.0, 5.0, 1e-9);
        assert!((x - 0.3).abs() < 1e-8);
        // Near a minimum f is flat: f64 resolves x only to ~√ε·scale ≈ 1e-8.
        let (x, _) = grid_then_brent(|x: f64| x.cosh() - 0.2 * x, -3.0, 3.0, 25, 1e-9);
        assert!((x - 0.2f64.asinh()).abs() < 1e-7);
        // A minimum at the edge of the range.
        let (x, _) = grid_then_brent(|x| x, 1.0, 2.0, 25, 1e-9);
        assert!((x - 1.0).abs() < 1e-8);
    }
}
