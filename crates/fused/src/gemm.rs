//! C (+)= A·B for the linear layers: A (m × k) row-major or given as its transpose (so dYᵀ X costs
//! no copy), B (k × n) and C (m × n) row-major. Tiles of 4 rows × 16 (or 8, 4) columns of C are accumulated in
//! registers over the whole k, and the body is compiled once per code path by
//! `attnlab_kernels::dispatch` (AVX-512F, AVX2+FMA, portable), all in safe Rust.

use attnlab_kernels::{Multiversion, Path, dispatch};

/// Rows of C per register tile.
const R: usize = 4;

/// a·b + c, fused where the path has FMA (the portable path does not: a software `mul_add` would
/// be slow and its rounding would differ).
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// The operands of one product.
#[derive(Debug)]
pub struct Gemm<'a> {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// A: row-major m × k, or (when `a_transposed`) its transpose stored row-major k × m.
    pub a: &'a [f32],
    /// Whether `a` holds Aᵀ (k × m row-major): element (i, l) at `a[l * m + i]`.
    pub a_transposed: bool,
    /// B, row-major k × n.
    pub b: &'a [f32],
    /// C, row-major m × n.
    pub c: &'a mut [f32],
    /// C += A·B when true, C = A·B otherwise.
    pub accumulate: bool,
}

/// One R × W tile of C at (i0, j0), over the whole k. The loops index only slices whose lengths
/// the compiler knows, so the checks leave the inner loop and the W columns vectorise.
#[inline(always)]
fn tile<const FMA: bool, const W: usize>(g: &mut Gemm<'_>, i0: usize, j0: usize) {
    let (m, n, k) = (g.m, g.n, g.k);
    let mut acc = [[0f32; W]; R];
    if g.accumulate {
        for (r, row) in acc.iter_mut().enumerate() {
            row.copy_from_slice(&g.c[(i0 + r) * n + j0..][..W]);
        }
    }
    let brows = g.b.chunks_exact(n).take(k);
    if g.a_transposed {
        for (acol, brow) in g.a.chunks_exact(m).zip(brows) {
            let av: &[f32; R] = first(&acol[i0..]);
            let bw: &[f32; W] = first(&brow[j0..]);
            for (row, &a) in acc.iter_mut().zip(av) {
                for (x, &bv) in row.iter_mut().zip(bw) {
                    *x = madd::<FMA>(a, bv, *x);
                }
            }
        }
    } else {
        let arows: [&[f32]; R] = std::array::from_fn(|r| &g.a[(i0 + r) * k..][..k]);
        for (l, brow) in brows.enumerate() {
            let bw: &[f32; W] = first(&brow[j0..]);
            for (row, ar) in acc.iter_mut().zip(&arows) {
                let a = ar[l];
                for (x, &bv) in row.iter_mut().zip(bw) {
                    *x = madd::<FMA>(a, bv, *x);
                }
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        g.c[(i0 + r) * n + j0..][..W].copy_from_slice(row);
    }
}

/// The first `N` values of `s` as an array reference (callers keep `s` at least that long).
#[inline(always)]
fn first<const N: usize>(s: &[f32]) -> &[f32; N] {
    match s.first_chunk::<N>() {
        Some(a) => a,
        None => panic!("gemm: a tile reaches past its operand ({} < {N})", s.len()),
    }
}

/// Any leftover element of C, one at a time.
#[inline(always)]
fn single<const FMA: bool>(g: &mut Gemm<'_>, i: usize, j: usize) {
    let (m, n, k) = (g.m, g.n, g.k);
    let mut s = if g.accumulate { g.c[i * n + j] } else { 0.0 };
    for l in 0..k {
        let a = if g.a_transposed { g.a[l * m + i] } else { g.a[i * k + l] };
        s = madd::<FMA>(a, g.b[l * n + j], s);
    }
    g.c[i * n + j] = s;
}

impl Multiversion for Gemm<'_> {
    type Output = ();

    #[inline(always)]
    fn run<const FMA: bool>(mut self) {
        let (m, n) = (self.m, self.n);
        let full_rows = m - m % R;
        for i0 in (0..full_rows).step_by(R) {
            let mut j0 = 0;
            while j0 + 16 <= n {
                tile::<FMA, 16>(&mut self, i0, j0);
                j0 += 16;
            }
            while j0 + 8 <= n {
                tile::<FMA, 8>(&mut self, i0, j0);
                j0 += 8;
            }
            while j0 + 4 <= n {
                tile::<FMA, 4>(&mut self, i0, j0);
                j0 += 4;
            }
            for i in i0..i0 + R {
                for j in j0..n {
                    single::<FMA>(&mut self, i, j);
                }
            }
        }
        for i in full_rows..m {
            for j in 0..n {
                single::<FMA>(&mut self, i, j);
            }
        }
    }
}

/// Runs the product on this CPU's best path.
pub fn gemm(g: Gemm<'_>) {
    gemm_on(Path::best(), g);
}

/// Runs the product on `path` (tests compare the paths).
pub fn gemm_on(path: Path, g: Gemm<'_>) {
    assert!(
        g.a.len() >= g.m * g.k && g.b.len() >= g.k * g.n && g.c.len() >= g.m * g.n,
        "gemm: operands shorter than {} × {} × {}",
        g.m,
        g.k,
        g.n
    );
    dispatch(path, g);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path, every tile width and every leftover row and column against the definition,
    /// with A read plain and transposed.
    #[test]
    fn products_match_the_definition_on_every_path() {
        for (m, n, k) in [(9, 37, 5), (4, 16, 3), (13, 4, 17), (1, 1, 1), (8, 128, 32)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 4.0).collect();
            let c0: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
            let at: Vec<f32> = (0..k * m).map(|idx| a[(idx % m) * k + idx / m]).collect();
            for path in [Path::Portable, Path::Avx2, Path::Avx512] {
                for (transposed, accumulate) in [(false, false), (true, true)] {
                    let mut c = c0.clone();
                    let aa = if transposed { &at } else { &a };
                    gemm_on(path, Gemm { m, n, k, a: aa, a_transposed: transposed, b: &b, c: &mut c, accumulate });
                    for i in 0..m {
                        for j in 0..n {
                            let s: f64 = (0..k).map(|l| f64::from(a[i * k + l]) * f64::from(b[l * n + j])).sum();
                            let want = s + if accumulate { f64::from(c0[i * n + j]) } else { 0.0 };
                            assert!((f64::from(c[i * n + j]) - want).abs() < 1e-4, "{path:?} ({m},{n},{k}) [{i},{j}]");
                        }
                    }
                }
            }
        }
    }
}
