//! Claims of E3 (spec §3, T3), drawn in figure `exchangeable.f3.cme`:
//! - `exchangeable.e3.bias`: (i) the RMS bias of m_wI(q, z) against g(q, z) is O(1/w), slope −1 ± 0.15
//!   over w ≥ 8;
//! - `exchangeable.e3.fluctuation`: (ii) at L = 1024 the fluctuation grows like w^(1/4), slope in
//!   [0, 0.4];
//! - `exchangeable.e3.argmin`: F3b, the total-error minimiser moves like L^(2/5) (attnlab's
//!   tolerance ± 0.15; the spec states no pass criterion);
//! - `exchangeable.e3.schedule`: (iii) along w_L = L^(2/5) the error to g has slope in [−0.55, −0.25];
//! - `exchangeable.e3.cme-nw`: (iv) normalised CME attention − Nadaraya–Watson is O(1/λ), slope
//!   −1 ± 0.1;
//! - `exchangeable.e3.cme-schedule`: (iv) CME attention along λ_L = 0.1·L^(-1/2), slope in
//!   [−0.5, −0.15].

use attnlab_comparator::Judgement;

use super::{fit_label, slope_claim};
use crate::exchangeable::experiments::e3::{E3Config, E3Result, ID};

/// E3(i): bias slope in w over w ≥ 8, −1 ± 0.15.
pub const BIAS: [f64; 2] = [-1.15, -0.85];
/// E3(ii): fluctuation slope in w at L = 1024, in [0, 0.4] (prediction +1/4).
pub const FLUCTUATION: [f64; 2] = [0.0, 0.4];
/// F3b: slope of the refined total-error minimiser in L, 2/5 ± 0.15 (attnlab's tolerance).
pub const ARGMIN: [f64; 2] = [0.25, 0.55];
/// E3(iii): slope in L along w_L = L^{2/5}, in [−0.55, −0.25].
pub const SCHEDULE: [f64; 2] = [-0.55, -0.25];
/// E3(iv-a): normalised CME − NW slope in λ, −1 ± 0.1.
pub const CME_NW: [f64; 2] = [-1.1, -0.9];
/// E3(iv-b): CME error slope in L along λ_L = 0.1·L^{-1/2}, in [−0.5, −0.15].
pub const CME_SCHEDULE: [f64; 2] = [-0.5, -0.15];

/// `exchangeable.e3.bias`.
pub fn bias(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.bias",
        &format!(
            "T3 bias: RMS over {} (z, q) pairs of m_wI(q, z) − g(q, z) is O(1/w): slope in w over w ≥ {} (theory −1; fit over all w: {})",
            cfg.bias_pairs,
            cfg.fit_min_w,
            fit_label(&d.bias_fit_all)
        ),
        "§3 E3(i)",
        &d.bias_fit,
        cfg.bias_pairs,
        BIAS,
        ID,
    )
}

/// `exchangeable.e3.fluctuation`.
pub fn fluctuation(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.fluctuation",
        &format!(
            "T3 variance: at L = {}, RMS of attn − m_wI grows like w^(1/4) (variance 1/(L·h), h = w^(-1/2)); slope over {} ≤ w ≤ {}, pass interval [0, 0.4]",
            cfg.fluct_len, cfg.fit_min_w, cfg.fit_max_w
        ),
        "§3 E3(ii)",
        &d.fluct_fit,
        cfg.sweep_replicates,
        FLUCTUATION,
        ID,
    )
}

/// `exchangeable.e3.argmin`.
pub fn argmin(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.argmin",
        &format!(
            "F3b: the minimiser of the total error to g moves right like L^(2/5) (NW bandwidth h ∝ L^(-1/5)): slope of ln argmin_w (parabola-refined on the half-octave w grid) against ln L over L ∈ {:?}; the spec states the law but no pass criterion, attnlab's tolerance 0.4 ± 0.15",
            cfg.sweep_lens
        ),
        "§3 E3 F3b",
        &d.argmin_fit,
        cfg.sweep_replicates,
        ARGMIN,
        ID,
    )
}

/// `exchangeable.e3.schedule`.
pub fn schedule(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.schedule",
        &format!(
            "T3 rate: with w_L = L^{}, RMS error of attention to g(q, z) falls like L^(-2/5) (asymptotically); slope over L = {} … {}, {} replicates, pass [−0.55, −0.25]",
            cfg.schedule_exponent,
            cfg.schedule_lens[0],
            cfg.schedule_lens[cfg.schedule_lens.len() - 1],
            cfg.schedule_replicates
        ),
        "§3 E3(iii)",
        &d.schedule_fit,
        cfg.schedule_replicates,
        SCHEDULE,
        ID,
    )
}

/// `exchangeable.e3.cme-nw`.
pub fn cme_nw(cfg: &E3Config, d: &E3Result) -> Judgement {
    slope_claim(
        "exchangeable.e3.cme-nw",
        &format!(
            "§2 link: RBF bandwidth {}, L = {}: RMS of normalised CME attention − Nadaraya–Watson is O(1/λ), slope in λ over {:?}",
            cfg.cme_h, cfg.cme_len, cfg.cme_lambdas
        ),
        "§3 E3(iv), §2",
        &d.cme_gap_fit,
        cfg.cme_replicates,
        CME_NW,
        ID,
    )
}

/// `exchangeable.e3.cme-schedule` (its statement says whether the error falls monotonically).
pub fn cme_schedule(cfg: &E3Config, d: &E3Result) -> Judgement {
    let monotone = d.cme_schedule.windows(2).all(|w| w[1] < w[0]);
    slope_claim(
        "exchangeable.e3.cme-schedule",
        &format!(
            "CME attention with λ_L = {}·L^(-1/2): RMS error to g(q, z) falls (monotonically: {}) with slope in [−0.5, −0.15] over L = {} … {}, {} replicates",
            cfg.cme_c,
            if monotone { "yes" } else { "no" },
            cfg.cme_schedule_lens[0],
            cfg.cme_schedule_lens[cfg.cme_schedule_lens.len() - 1],
            cfg.cme_schedule_replicates
        ),
        "§3 E3(iv)",
        &d.cme_schedule_fit,
        cfg.cme_schedule_replicates,
        CME_SCHEDULE,
        ID,
    )
}

/// Every E3 claim, in report order.
pub fn judge(cfg: &E3Config, d: &E3Result) -> Vec<Judgement> {
    vec![bias(cfg, d), fluctuation(cfg, d), argmin(cfg, d), schedule(cfg, d), cme_nw(cfg, d), cme_schedule(cfg, d)]
}
