//! Claims of E3 (spec §3, T3), drawn in figure `exchangeable.f3.cme`:
//! - `exchangeable.e3.bias`: (i) the RMS bias of m_wI(q, z) against g(q, z) is O(1/w), slope −1 ± 0.15
//!   over w ≥ 8;
//! - `exchangeable.e3.fluctuation`: (ii) at L = 1024 the fluctuation grows like w^(1/4), slope
//!   +1/4 ± 0.05;
//! - `exchangeable.e3.argmin`: F3b, the total-error minimiser moves like L^(2/5) (attnlab's
//!   tolerance ± 0.15; the spec states no pass criterion);
//! - `exchangeable.e3.schedule`: (iii) along w_L = L^(2/5) the error to g has slope in [−0.55, −0.25];
//! - `exchangeable.e3.cme-nw`: (iv) normalised CME attention − Nadaraya–Watson is O(1/λ), slope
//!   −1 ± 0.1;
//! - `exchangeable.e3.cme-schedule`: (iv) CME attention along λ_L = 0.1·L^(-1/2), slope −1/4 ± 0.1.

use attnlab_comparator::{Judgement, Kind, Rule};

use super::{fit_label, slope_claim};
use crate::exchangeable::experiments::e3::{E3Config, E3Result, ID};

/// E3(i): T3's bias exponent, O(h²) = O(1/w).
pub const BIAS_PREDICTED: f64 = -1.0;
/// E3(i): bias slope in w over w ≥ 8, −1 ± 0.15.
pub const BIAS: Rule = Rule::abs(0.15, "spec §3 E3(i) pass criterion (a numpy reference gave −0.90 over w = 2…128)");
/// E3(ii): T3's fluctuation exponent: variance 1/(L·h) with h = w^(-1/2), so the RMS grows like w^(1/4).
pub const FLUCTUATION_PREDICTED: f64 = 0.25;
/// E3(ii): fluctuation slope in w at L = 1024, +1/4 ± 0.05. Tightened from the spec's [0, 0.4]
/// (which only says "grows") to the precision the spec asks of E1's exponent; this change was made
/// after an earlier run's CI [0.096, 0.178] had been seen (issue "Verdicts a referee would accept").
pub const FLUCTUATION: Rule = Rule::abs(
    0.05,
    "T3 predicts +1/4; ±0.05 as spec §3 asks of E1's rate exponent (tightened from the spec's [0, 0.4] after an earlier run was seen)",
);
/// F3b: the total-error minimiser moves like L^(2/5) (NW bandwidth h ∝ L^(-1/5)).
pub const ARGMIN_PREDICTED: f64 = 0.4;
/// F3b: slope of the refined total-error minimiser in L, 2/5 ± 0.15 (attnlab's tolerance).
pub const ARGMIN: Rule = Rule::abs(
    0.15,
    "attnlab's: the spec states the law but no criterion; the minimiser is located on a half-octave w grid (parabola-refined) over a 16× range of L",
);
/// E3(iii): T3's rate along w_L = L^(2/5) on the circle (d_k = 1): L^(-2/5).
pub const SCHEDULE_PREDICTED: f64 = -0.4;
/// E3(iii): slope in L along w_L = L^{2/5}, in [−0.55, −0.25].
pub const SCHEDULE: Rule = Rule::within(
    -0.55,
    -0.25,
    "spec §3 E3(iii) pass criterion: −0.4 is asymptotic; the spec saw −0.26 to −0.34 at R = 200–300",
);
/// E3(iv-a): the CME ↔ NW link's relative error is O(1/λ) (spec §2).
pub const CME_NW_PREDICTED: f64 = -1.0;
/// E3(iv-a): normalised CME − NW slope in λ, −1 ± 0.1.
pub const CME_NW: Rule = Rule::abs(0.1, "spec §3 E3(iv) pass criterion");
/// E3(iv-b): kernel ridge with λ_L ∝ L^(-1/2) balances its bias √λ against its variance
/// 1/√(Lλ) at L^(-1/4) (the standard KRR rate; derived here, the spec gives only an interval).
pub const CME_SCHEDULE_PREDICTED: f64 = -0.25;
/// E3(iv-b): CME error slope in L along λ_L = 0.1·L^{-1/2}, −1/4 ± 0.1 (the spec's [−0.5, −0.15]
/// hardly binds).
pub const CME_SCHEDULE: Rule = Rule::abs(
    0.1,
    "KRR rate L^(-1/4) at λ ∝ L^(-1/2) (derived); ±0.1, twice E1's ±0.05, as the spec marks E3(iv) not independently computed",
);

/// `exchangeable.e3.bias`.
pub fn bias(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.bias",
        Kind::Theorem,
        &format!(
            "T3 bias: RMS over {} (z, q) pairs of m_wI(q, z) − g(q, z) is O(1/w): slope in w over w ≥ {} (theory −1; fit over all w: {})",
            cfg.bias_pairs,
            cfg.fit_min_w,
            fit_label(&d.bias_fit_all)
        ),
        "§3 E3(i); §1 T3",
        &d.bias_fit,
        cfg.bias_pairs,
        Some(BIAS_PREDICTED),
        BIAS,
        ID,
    )
}

/// `exchangeable.e3.fluctuation`.
pub fn fluctuation(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.fluctuation",
        Kind::Theorem,
        &format!(
            "T3 variance: at L = {}, RMS of attn − m_wI grows like w^(1/4) (variance 1/(L·h), h = w^(-1/2)); slope over {} ≤ w ≤ {}",
            cfg.fluct_len, cfg.fit_min_w, cfg.fit_max_w
        ),
        "§3 E3(ii); §1 T3",
        &d.fluct_fit,
        cfg.sweep_replicates,
        Some(FLUCTUATION_PREDICTED),
        FLUCTUATION,
        ID,
    )
}

/// `exchangeable.e3.argmin`.
pub fn argmin(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.argmin",
        Kind::Theorem,
        &format!(
            "F3b: the minimiser of the total error to g moves right like L^(2/5) (NW bandwidth h ∝ L^(-1/5)): slope of ln argmin_w (parabola-refined on the half-octave w grid) against ln L over L ∈ {:?}",
            cfg.sweep_lens
        ),
        "§3 E3 F3b; §1 T3",
        &d.argmin_fit,
        cfg.sweep_replicates,
        Some(ARGMIN_PREDICTED),
        ARGMIN,
        ID,
    )
}

/// `exchangeable.e3.schedule`.
pub fn schedule(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.schedule",
        Kind::Theorem,
        &format!(
            "T3 rate: with w_L = L^{}, RMS error of attention to g(q, z) falls like L^(-2/5) (asymptotically); slope over L = {} … {}, {} replicates",
            cfg.schedule_exponent,
            cfg.schedule_lens[0],
            cfg.schedule_lens[cfg.schedule_lens.len() - 1],
            cfg.schedule_replicates
        ),
        "§3 E3(iii); §1 T3",
        &d.schedule_fit,
        cfg.schedule_replicates,
        Some(SCHEDULE_PREDICTED),
        SCHEDULE,
        ID,
    )
}

/// `exchangeable.e3.cme-nw`.
pub fn cme_nw(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.cme-nw",
        Kind::Theorem,
        &format!(
            "§2 link: RBF bandwidth {}, L = {}: RMS of normalised CME attention − Nadaraya–Watson is O(1/λ), slope in λ over {:?}",
            cfg.cme_h, cfg.cme_len, cfg.cme_lambdas
        ),
        "§3 E3(iv), §2 (CME ↔ softmax link)",
        &d.cme_gap_fit,
        cfg.cme_replicates,
        Some(CME_NW_PREDICTED),
        CME_NW,
        ID,
    )
}

/// `exchangeable.e3.cme-schedule` (its statement says whether the error falls monotonically).
pub fn cme_schedule(cfg: &E3Config, d: &E3Result) -> Judgement {
    let monotone = d.cme_schedule.windows(2).all(|w| w[1] < w[0]);
    slope_claim(
        "exchangeable.e3.cme-schedule",
        Kind::Theorem,
        &format!(
            "CME attention with λ_L = {}·L^(-1/2): RMS error to g(q, z) falls (monotonically: {}) like L^(-1/4) over L = {} … {}, {} replicates",
            cfg.cme_c,
            if monotone { "yes" } else { "no" },
            cfg.cme_schedule_lens[0],
            cfg.cme_schedule_lens[cfg.cme_schedule_lens.len() - 1],
            cfg.cme_schedule_replicates
        ),
        "§3 E3(iv); §1 T3 (CME form)",
        &d.cme_schedule_fit,
        cfg.cme_schedule_replicates,
        Some(CME_SCHEDULE_PREDICTED),
        CME_SCHEDULE,
        ID,
    )
}

/// Every E3 claim, in report order.
pub fn judge(cfg: &E3Config, d: &E3Result) -> Vec<Judgement> {
    vec![bias(cfg, d), fluctuation(cfg, d), argmin(cfg, d), schedule(cfg, d), cme_nw(cfg, d), cme_schedule(cfg, d)]
}
