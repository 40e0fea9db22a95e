//! exchangeable claims: an E1–E5 result → judgements through the comparator, with each claim's
//! pass interval (its tolerance, fixed before the run) next to it. The figures and the CLI both
//! call these; neither judges on its own.
//!
//! The paper has no numerical experiments; these are attnlab's own rate checks. A slope (or the E4
//! ratio) agrees when its seeded bootstrap 95% CI lies inside the pass interval of spec §3
//! (`attnlab_comparator::judge_interval`); where the spec states a law but no interval, the
//! interval is attnlab's and the claim says so.
//!
//! | module | claim ids |
//! |---|---|
//! | [`e1`] | `exchangeable.e1.slope`, `exchangeable.e1.control` |
//! | [`e2`] | `exchangeable.e2.attn-posterior`, `exchangeable.e2.attn-truth`, `exchangeable.e2.posterior-truth` |
//! | [`e3`] | `exchangeable.e3.bias`, `exchangeable.e3.fluctuation`, `exchangeable.e3.argmin`, `exchangeable.e3.schedule`, `exchangeable.e3.cme-nw`, `exchangeable.e3.cme-schedule` |
//! | [`e4`] | `exchangeable.e4.param-slope.L16`, `exchangeable.e4.param-slope.L64`, `exchangeable.e4.param-slope.L256`, `exchangeable.e4.excess-slope.L16`, `exchangeable.e4.excess-slope.L64`, `exchangeable.e4.excess-slope.L256`, `exchangeable.e4.excess-ratio`, `exchangeable.e4.w-opt.L64`, `exchangeable.e4.w-opt.L256`, `exchangeable.e4.ols-control` |
//! | [`e5`] | `exchangeable.e5.weak-slope`, `exchangeable.e5.strong-slope`, `exchangeable.e5.uniform-sufficient` |

pub mod e1;
pub mod e2;
pub mod e3;
pub mod e4;
pub mod e5;

use attnlab_comparator::{Claim, Judgement, fmt_num};

use super::experiments::{PAPER, SlopeFit};

/// A slope claim judged by its bootstrap CI against the pass interval `pass`; the statement gets the
/// observed CI and the pass interval appended.
fn slope_claim(id: &str, statement: &str, section: &str, fit: &SlopeFit, n: usize, pass: [f64; 2], figure: &str) -> Judgement {
    Judgement::interval(
        Claim::new(
            id,
            PAPER,
            format!(
                "{statement}. Observed: bootstrap 95% CI [{}, {}], judged against the pass interval [{}, {}]",
                fmt_num(fit.ci[0]),
                fmt_num(fit.ci[1]),
                fmt_num(pass[0]),
                fmt_num(pass[1])
            ),
            section,
        ),
        fit.slope,
        fit.ci,
        n,
        pass,
        figure,
        "slope",
    )
}

/// Formats a fit for statements and legends: `slope −0.495 [−0.509, −0.480]`.
pub fn fit_label(fit: &SlopeFit) -> String {
    format!("slope {:.3} [{:.3}, {:.3}]", fit.slope, fit.ci[0], fit.ci[1])
}
