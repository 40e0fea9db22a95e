//! exchangeable claims: an E1–E5 result → judgements through the comparator, with each claim's
//! pass interval (its tolerance, registered in the ledger `crates/lab/ledger.jsonl`) next to it. The figures and the CLI both
//! call these; neither judges on its own.
//!
//! The paper has no numerical experiments; these are attnlab's own checks of its theorems T1–T5
//! (kind `theorem`) on the spec §3 models, plus controls. A slope (or the E4 ratio) is observed with
//! its seeded bootstrap 95% CI (method `bootstrap`); *predicted* is the theorem's exponent, and the
//! pass rule is declared as a `Rule` constant next to the claim with its rationale (the spec §3 pass
//! criterion where there is one; where the spec states a law but no interval, attnlab's, and the
//! rationale says so).
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

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule};

use super::experiments::{PAPER, SlopeFit};

/// A slope claim: the fit's bootstrap 95% CI (from `n` independent replicates) judged by `rule`
/// around the theory's exponent `predicted` (None for a claim with no theory value).
#[allow(clippy::too_many_arguments)]
fn slope_claim(
    id: &str,
    kind: Kind,
    statement: &str,
    source: &str,
    fit: &SlopeFit,
    n: usize,
    predicted: Option<f64>,
    rule: Rule,
    figure: &str,
) -> Judgement {
    Judgement::new(
        Claim::new(id, PAPER, kind, statement, source),
        predicted,
        Observation::bootstrap(fit.slope, fit.ci, n),
        rule,
        figure,
        "slope",
    )
}

/// Formats a fit for statements and legends: `slope −0.495 [−0.509, −0.480]`.
pub fn fit_label(fit: &SlopeFit) -> String {
    format!("slope {:.3} [{:.3}, {:.3}]", fit.slope, fit.ci[0], fit.ci[1])
}
