//! One-dimensional minimisation: Brent's minimiser (golden section with parabolic steps), used by
//! the ERM of E4, and the parabola-refined minimiser of a sampled curve (E3, F3b).

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

/// The minimiser of a curve sampled at `ws`, refined by a parabola in (ln w, ln err) through the
/// grid minimum and its two neighbours.
pub fn refined_argmin(ws: &[f64], err: &[f64]) -> f64 {
    let k = argmin(err);
    if k == 0 || k + 1 >= ws.len() {
        return ws[k];
    }
    let (x0, x1, x2) = (ws[k - 1].ln(), ws[k].ln(), ws[k + 1].ln());
    let (y0, y1, y2) = (err[k - 1].ln(), err[k].ln(), err[k + 1].ln());
    // Vertex of the parabola through three points.
    let num = (x1 - x0).powi(2) * (y1 - y2) - (x1 - x2).powi(2) * (y1 - y0);
    let den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0);
    if den == 0.0 || !den.is_finite() {
        return ws[k];
    }
    (x1 - 0.5 * num / den).clamp(x0, x2).exp()
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

    #[test]
    fn refined_argmin_finds_the_vertex_of_a_log_parabola() {
        let ws: Vec<f64> = (0..=16).map(|j| 2f64.powf(f64::from(j) / 2.0)).collect();
        let w0: f64 = 37.0;
        let err: Vec<f64> = ws.iter().map(|w| (0.3 * (w.ln() - w0.ln()).powi(2)).exp() * 0.02).collect();
        assert!((refined_argmin(&ws, &err) / w0 - 1.0).abs() < 1e-10);
        // A minimum at the end of the grid stays there.
        let falling: Vec<f64> = ws.iter().map(|w| 1.0 / w).collect();
        assert_eq!(refined_argmin(&ws, &falling), 256.0);
    }
}
