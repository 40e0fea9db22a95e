//! Run-time choice of a code path and the generic multiversioning that uses it.
//!
//! A client writes its hot loop once, generic over `const FMA: bool`, as the `#[inline(always)]`
//! [`Multiversion::run`] of a small struct holding the loop's arguments; [`dispatch`] calls it from
//! inside a `#[target_feature]` function for the chosen path, so the loop is compiled (vectorised)
//! for AVX-512F, for AVX2+FMA or for the baseline. `run::<true>()` is used on the vector paths and
//! `run::<false>()` on the portable one; a body that never fuses (ignores `FMA`) gives the same
//! values on every path, since Rust does not contract `a * b + c` by itself.

/// An explicit code path (for tests comparing them; the kernels pick [`Path::best`] by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Plain Rust, no target features.
    Portable,
    /// AVX2 + FMA (attention: intrinsics for widths 4, 8, 16, 32, the portable code with AVX2+FMA
    /// otherwise).
    Avx2,
    /// AVX-512F (attention: intrinsics for widths 4, 8, 16, 32, as `Avx2` otherwise).
    Avx512,
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Path {
    /// The fastest path this CPU runs.
    pub fn best() -> Self {
        if has_avx2_fma() && has_avx512() {
            Path::Avx512
        } else if has_avx2_fma() {
            Path::Avx2
        } else {
            Path::Portable
        }
    }

    /// Whether this CPU can run the path.
    pub fn available(self) -> bool {
        match self {
            Path::Portable => true,
            Path::Avx2 => has_avx2_fma(),
            Path::Avx512 => has_avx2_fma() && has_avx512(),
        }
    }
}

/// Which code path the kernels take on this CPU ("avx512f", "avx2+fma" or "portable").
pub fn code_path() -> &'static str {
    match Path::best() {
        Path::Avx512 => "avx512f",
        Path::Avx2 => "avx2+fma",
        Path::Portable => "portable",
    }
}

/// A loop body compiled once per code path by [`dispatch`]: the struct carries the arguments,
/// [`run`](Multiversion::run) is the body. Mark the implementation `#[inline(always)]` (and the
/// functions it calls), so it is compiled inside the `#[target_feature]` wrapper; a closure or a
/// non-inlined call would lose the wrapper's features.
pub trait Multiversion {
    /// What the body returns.
    type Output;
    /// The body; `FMA` is true on the vector paths (AVX-512F, AVX2+FMA), false on the portable one.
    fn run<const FMA: bool>(self) -> Self::Output;
}

/// Runs `k` on `path`: `k.run::<true>()` compiled with AVX-512F (+AVX2, FMA) or AVX2+FMA when the
/// path is one of those and the CPU has it ([`Path::available`]), else `k.run::<false>()` compiled
/// for the baseline (a path the CPU lacks falls back to portable).
pub fn dispatch<K: Multiversion>(path: Path, k: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn wide512<K: Multiversion>(k: K) -> K::Output {
            k.run::<true>()
        }
        #[target_feature(enable = "avx2,fma")]
        fn wide256<K: Multiversion>(k: K) -> K::Output {
            k.run::<true>()
        }
        match path {
            // SAFETY: the path is checked against the CPU's features first.
            Path::Avx512 if path.available() => return unsafe { wide512(k) },
            // SAFETY: as above.
            Path::Avx2 if path.available() => return unsafe { wide256(k) },
            _ => {}
        }
    }
    k.run::<false>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports which `FMA` the body ran with.
    struct Which;
    impl Multiversion for Which {
        type Output = bool;
        #[inline(always)]
        fn run<const FMA: bool>(self) -> bool {
            FMA
        }
    }

    #[test]
    fn dispatch_runs_fma_only_on_available_vector_paths() {
        assert!(!dispatch(Path::Portable, Which));
        for path in [Path::Avx2, Path::Avx512] {
            assert_eq!(dispatch(path, Which), path.available(), "{path:?}");
        }
        assert_eq!(dispatch(Path::best(), Which), Path::best() != Path::Portable);
        assert!(Path::best().available());
    }

    /// A body that does real work gives the same values on every path when it does not fuse.
    #[test]
    fn unfused_body_is_path_independent() {
        struct Poly<'a>(&'a [f32], &'a mut [f32]);
        impl Multiversion for Poly<'_> {
            type Output = ();
            #[inline(always)]
            fn run<const FMA: bool>(self) {
                for (o, &x) in self.1.iter_mut().zip(self.0) {
                    *o = (x * 0.5 + 1.25) * x - 3.0;
                }
            }
        }
        let x: Vec<f32> = (0..1000).map(|i| i as f32 / 77.0 - 6.0).collect();
        let mut want = vec![0f32; x.len()];
        dispatch(Path::Portable, Poly(&x, &mut want));
        for path in [Path::Avx2, Path::Avx512] {
            let mut got = vec![0f32; x.len()];
            dispatch(path, Poly(&x, &mut got));
            assert_eq!(got, want, "{path:?}");
        }
    }
}
