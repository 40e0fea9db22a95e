//! Speed measurement of the ICAR trained models (the `cargo xtask bench icar` backend): one
//! gradient evaluation of the augmented (spec icar §2a) and non-augmented (§2b) models at the
//! reference shape, median over steps.

use std::time::Instant;

use serde::Serialize;

/// Result of `cargo xtask bench icar`: one gradient evaluation (the whole cost of an Adam step) of
/// the ICAR trained models at the reference shape (spec icar §2e: batch 1024, n 50, d 5).
#[derive(Debug, Clone, Serialize)]
pub struct IcarBench {
    /// Augmented model (§2a), median ms per step.
    pub augmented_ms: f64,
    /// Non-augmented model (§2b, H 64), f32 pass (the training default), median ms per step.
    pub nonaug_f32_ms: f64,
    /// Non-augmented model, f64 pass (the gradient checks' precision), median ms per step.
    pub nonaug_f64_ms: f64,
    /// Timed steps per model.
    pub steps: usize,
}

fn median_ms(steps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..steps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    1e3 * times[times.len() / 2]
}

/// Times `steps` gradient evaluations (after one warm-up) of each ICAR model on one fixed batch of
/// 1024 Haar sequences.
pub fn icar_step(steps: usize) -> IcarBench {
    use crate::augmented::{self as icar, AugConfig, Layout};
    use crate::nonaugmented::{self as icar_nonaug, NaLayout, NonAugConfig, Precision};
    use attnlab_kernels::Path;
    let a = AugConfig::reference(0);
    let na = NonAugConfig::reference(0);
    let data = icar::haar_dataset(a.d, a.n, a.batch, 1);
    let refs: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
    let la = Layout { d: a.d };
    let pa = icar::init_params(la, 0);
    let augmented_ms = median_ms(steps, || {
        std::hint::black_box(icar::loss_grad(la, &pa, &refs, a.n, true));
    });
    let ln = NaLayout { d: na.d, h: na.heads };
    let pn = icar_nonaug::init_params(ln, 0);
    let nonaug = |precision| {
        median_ms(steps, || {
            std::hint::black_box(icar_nonaug::loss_grad_on(Path::best(), precision, ln, &pn, &refs, na.n, true));
        })
    };
    IcarBench { augmented_ms, nonaug_f32_ms: nonaug(Precision::F32), nonaug_f64_ms: nonaug(Precision::F64), steps }
}
