//! Claims of E4 (spec §3, T4), drawn in figure `exchangeable.f4.erm` (one claim per L where marked;
//! the spec's L are 16, 64 and 256):
//! - `exchangeable.e4.param-slope.L16`, `exchangeable.e4.param-slope.L64`,
//!   `exchangeable.e4.param-slope.L256`: RMS |ln ŵ − ln w_L*| falls like N^(-1/2), slope −0.5 ± 0.1;
//! - `exchangeable.e4.excess-slope.L16`, `exchangeable.e4.excess-slope.L64`,
//!   `exchangeable.e4.excess-slope.L256`: the excess risk falls at least like N^(-0.4) (judged as
//!   N^(-1) ± 0.6);
//! - `exchangeable.e4.excess-ratio`: max over N of excess(L_max)/excess(L_min) ≤ 1.5;
//! - `exchangeable.e4.w-opt.L64`, `exchangeable.e4.w-opt.L256`: w_L* within 0.15 of w* for L ≥ 64;
//! - `exchangeable.e4.ols-control`: the flattened-features OLS gap grows about linearly in L.

use attnlab_comparator::{Claim, Judgement, Observation, Tolerance, fmt_num};

use super::slope_claim;
use crate::exchangeable::experiments::PAPER;
use crate::exchangeable::experiments::e4::{E4Config, E4Len, E4Result, ID};

/// E4: parameter-error slope in N, −0.5 ± 0.1.
pub const PARAM: [f64; 2] = [-0.6, -0.4];
/// E4: excess-risk slope in N, at most −0.4 (judged as N^{-1} ± 0.6).
pub const EXCESS: [f64; 2] = [-1.6, -0.4];
/// E4: max over N of excess(L_max)/excess(L_min), at most 1.5.
pub const EXCESS_RATIO: [f64; 2] = [0.0, 1.5];
/// E4: |w_L* − w*| ≤ 0.15 for L ≥ [`W_OPT_MIN_LEN`].
pub const W_OPT: f64 = 0.15;
/// E4: w_L* is judged for L ≥ this.
pub const W_OPT_MIN_LEN: usize = 64;
/// E4 control: slope of the OLS generalisation gap in L, about linear (attnlab's [0.75, 1.5]).
pub const OLS_GAP: [f64; 2] = [0.75, 1.5];

/// `exchangeable.e4.param-slope.L<len>` of the row `pl`.
pub fn param_slope(cfg: &E4Config, d: &E4Result, pl: &E4Len) -> Judgement {
    slope_claim(
        &format!("exchangeable.e4.param-slope.L{}", pl.len),
        &format!(
            "T4: RMS |ln ŵ − ln w_L*| of ERM over ln w falls like N^(-1/2) at L = {} (N = {} … {}, {} fresh training sets per N)",
            pl.len,
            d.ns[0],
            d.ns[d.ns.len() - 1],
            cfg.train_sets
        ),
        "§3 E4, §1 T4",
        &pl.param_fit,
        cfg.train_sets,
        PARAM,
        ID,
    )
}

/// `exchangeable.e4.excess-slope.L<len>` of the row `pl`.
pub fn excess_slope(cfg: &E4Config, pl: &E4Len) -> Judgement {
    slope_claim(
        &format!("exchangeable.e4.excess-slope.L{}", pl.len),
        &format!(
            "T4: excess risk ½R''(ln ŵ − ln w_L*)² falls at least like N^(-0.4) at L = {} (the N^(-1/2) bound is an upper bound; smooth parametric ERM gives N^(-1)); pass interval [−1.6, −0.4] = N^(-1) ± 0.6",
            pl.len
        ),
        "§3 E4, §5.3",
        &pl.excess_fit,
        cfg.train_sets,
        EXCESS,
        ID,
    )
}

/// `exchangeable.e4.excess-ratio`: the bootstrap CI of max over N of excess(L_max)/excess(L_min)
/// against [`EXCESS_RATIO`].
pub fn excess_ratio(cfg: &E4Config, d: &E4Result) -> Judgement {
    let (l0, l1) = (d.per_len[0].len, d.per_len[d.per_len.len() - 1].len);
    Judgement::interval(
        Claim::new(
            "exchangeable.e4.excess-ratio",
            PAPER,
            format!(
                "T4: the rate in N does not depend on L: max over N of excess(L = {l1})/excess(L = {l0}) ≤ 1.5 (per N: {}). Observed: bootstrap 95% CI [{}, {}], judged against [0, 1.5]",
                d.excess_ratio.iter().map(|r| fmt_num(*r)).collect::<Vec<_>>().join(", "),
                fmt_num(d.excess_ratio_ci[0]),
                fmt_num(d.excess_ratio_ci[1])
            ),
            "§3 E4",
        ),
        d.excess_ratio_max,
        d.excess_ratio_ci,
        cfg.train_sets,
        EXCESS_RATIO,
        ID,
        "ratio",
    )
}

/// `exchangeable.e4.w-opt.L<len>` of the row `pl`; `None` when L < [`W_OPT_MIN_LEN`] (no claim).
pub fn w_opt(cfg: &E4Config, pl: &E4Len) -> Option<Judgement> {
    (pl.len >= W_OPT_MIN_LEN).then(|| {
        Judgement::new(
            Claim::new(
                &format!("exchangeable.e4.w-opt.L{}", pl.len),
                PAPER,
                format!(
                    "the population-optimal temperature w_L* (argmin of the test risk on {} sequences, common random numbers) is within 0.15 of the label's w* = {} for L ≥ 64",
                    cfg.test_size, cfg.w_star
                ),
                "§3 E4",
            ),
            cfg.w_star,
            Observation { value: pl.w_opt, se: pl.w_opt * pl.ln_w_opt_se, n: cfg.test_size },
            Tolerance::Absolute(W_OPT),
            ID,
            "w",
        )
    })
}

/// `exchangeable.e4.ols-control`.
pub fn ols_control(cfg: &E4Config, d: &E4Result) -> Judgement {
    slope_claim(
        "exchangeable.e4.ols-control",
        &format!(
            "control: OLS on the 2L flattened key coordinates (+ intercept) at N = {}: its generalisation gap grows about linearly in L (slope of ln gap against ln L, pass [0.75, 1.5]), unlike attention's",
            d.ns[d.ns.len() - 1]
        ),
        "§3 E4 control",
        &d.ols_gap_fit,
        cfg.ols_sets,
        OLS_GAP,
        ID,
    )
}

/// Every E4 claim, in report order: the parameter-error slopes, the excess slopes, the ratio, w_L*
/// for L ≥ 64, the OLS control.
pub fn judge(cfg: &E4Config, d: &E4Result) -> Vec<Judgement> {
    let mut js: Vec<Judgement> = d.per_len.iter().map(|pl| param_slope(cfg, d, pl)).collect();
    js.extend(d.per_len.iter().map(|pl| excess_slope(cfg, pl)));
    js.push(excess_ratio(cfg, d));
    js.extend(d.per_len.iter().filter_map(|pl| w_opt(cfg, pl)));
    js.push(ols_control(cfg, d));
    js
}
