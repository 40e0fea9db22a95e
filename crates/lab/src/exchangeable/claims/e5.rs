//! Claims of E5 (spec §3, T5), drawn in figure `exchangeable.f5.condition`:
//! - `exchangeable.e5.weak-slope`: θ = e₂ (weak direction): E_down/E_pre ≈ κ²/2, slope in κ 2 ± 0.25;
//! - `exchangeable.e5.strong-slope`: θ = e₁ (strong direction): ≈ 1/2, flat, slope 0 ± 0.1;
//! - `exchangeable.e5.uniform-sufficient` (control): with W = 0 (attention = x̄, sufficient) E_down is 0 to
//!   machine precision.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule, fmt_num};

use super::slope_claim;
use crate::exchangeable::experiments::PAPER;
use crate::exchangeable::experiments::e5::{E5Config, E5Result, E5Runs, E5RunsResult, ID};

/// T5 (R): with the target in the weakest direction, E_down/E_pre ≈ κ²/2: slope 2 in κ.
pub const WEAK_PREDICTED: f64 = 2.0;
/// E5, θ = e₂: slope of E_down/E_pre in κ, 2 ± 0.25.
pub const WEAK: Rule = Rule::abs(0.25, "spec §3 E5 pass criterion (a numpy reference gave 1.95)");
/// T5 (R): in the strongest direction the ratio is ≈ 1/2 whatever κ: slope 0.
pub const STRONG_PREDICTED: f64 = 0.0;
/// E5, θ = e₁: flat, slope 0 ± 0.1.
pub const STRONG: Rule =
    Rule::abs(0.1, "spec §3 E5 pass criterion (a numpy reference gave ratios 0.49, 0.49, 0.50, 0.47)");
/// E5 with W = 0: largest E_down/Var(θᵀμ_post) at most this (machine precision).
pub const UNIFORM: Rule = Rule::abs(1e-20, "x̄ is sufficient, so E_down is 0 up to f64 rounding of sums of 8000 terms");

/// The fitted κ range in words, e.g. `κ ∈ {1, 2, 4}`.
fn fit_range(cfg: &E5Config) -> String {
    format!(
        "κ ∈ {{{}}}",
        cfg.kappas.iter().filter(|&&k| k <= cfg.fit_max_kappa).map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
    )
}

/// The ratios E_down/E_pre per κ for θ = e_(j+1), in words.
fn ratios(d: &E5Result, j: usize) -> String {
    d.per_kappa.iter().map(|k| format!("κ={}: {}", k.kappa, fmt_num(k.ratio[j]))).collect::<Vec<_>>().join(", ")
}

/// `exchangeable.e5.weak-slope` of a run with W ≠ 0.
pub fn weak_slope(cfg: &E5Config, d: &E5Result) -> Judgement {
    slope_claim(
        "exchangeable.e5.weak-slope",
        Kind::Theorem,
        &format!(
            "T5 (R): target in the weakest direction (θ = e₂): E_down/E_pre ≈ κ²/2, slope in κ over {} is 2 ± 0.25 (ratios {})",
            fit_range(cfg),
            ratios(d, 1)
        ),
        "§3 E5, §1 T5",
        &d.fits[1],
        cfg.n,
        Some(WEAK_PREDICTED),
        WEAK,
        ID,
    )
}

/// `exchangeable.e5.strong-slope` of a run with W ≠ 0.
pub fn strong_slope(cfg: &E5Config, d: &E5Result) -> Judgement {
    slope_claim(
        "exchangeable.e5.strong-slope",
        Kind::Theorem,
        &format!(
            "T5 (R): target in the strongest direction (θ = e₁): E_down/E_pre ≈ 1/2, flat in κ (slope over {} 0 ± 0.1; ratios {})",
            fit_range(cfg),
            ratios(d, 0)
        ),
        "§3 E5, §1 T5",
        &d.fits[0],
        cfg.n,
        Some(STRONG_PREDICTED),
        STRONG,
        ID,
    )
}

/// The largest E_down/Var(θᵀμ_post) over κ and θ of a run (0 for a sufficient representation).
pub fn worst_relative_e_down(d: &E5Result) -> f64 {
    d.per_kappa.iter().flat_map(|k| k.e_down_rel).fold(0.0, f64::max)
}

/// `exchangeable.e5.uniform-sufficient` of the W = 0 run.
pub fn uniform_sufficient(cfg: &E5Config, d: &E5Result) -> Judgement {
    Judgement::new(
        Claim::new(
            "exchangeable.e5.uniform-sufficient",
            PAPER,
            Kind::Control,
            format!(
                "sanity check: with W = 0 attention is the mean x̄, a sufficient statistic, so E_down is 0 to machine precision (largest E_down/Var(θᵀμ_post) over κ and θ, {} sequences per κ)",
                cfg.n
            ),
            "§3 E5",
        ),
        Some(0.0),
        Observation::exact(worst_relative_e_down(d)),
        UNIFORM,
        ID,
        "relative E_down",
    )
}

/// Every E5 claim, in report order.
pub fn judge(cfg: &E5Runs, d: &E5RunsResult) -> Vec<Judgement> {
    vec![weak_slope(&cfg.main, &d.main), strong_slope(&cfg.main, &d.main), uniform_sufficient(&cfg.uniform, &d.uniform)]
}
