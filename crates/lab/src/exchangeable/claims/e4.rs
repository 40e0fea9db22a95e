//! Claims of E4 (spec §3, T4), drawn in figure `exchangeable.f4.erm` (one claim per L where marked;
//! the spec's L are 16, 64 and 256):
//! - `exchangeable.e4.param-slope.L16`, `exchangeable.e4.param-slope.L64`,
//!   `exchangeable.e4.param-slope.L256`: RMS |ln ŵ − ln w_L*| falls like N^(-1/2), slope −0.5 ± 0.1;
//! - `exchangeable.e4.excess-slope.L16`, `exchangeable.e4.excess-slope.L64`,
//!   `exchangeable.e4.excess-slope.L256`: the excess risk of this one-parameter ERM falls like
//!   N^(-1), ± 0.2 (the paper's N^(-1/2) is only an upper bound);
//! - `exchangeable.e4.excess-ratio`: max over N of excess(L_max)/excess(L_min) ≤ 1 (the rate does
//!   not grow with L);
//! - `exchangeable.e4.w-opt.L64`, `exchangeable.e4.w-opt.L256` (control): w_L* within 0.15 of w*
//!   for L ≥ 64;
//! - `exchangeable.e4.ols-control` (control): the flattened-features OLS gap grows about linearly
//!   in L.

use attnlab_comparator::{Claim, Judgement, Kind, Observation, Rule, fmt_num};

use super::slope_claim;
use crate::exchangeable::experiments::PAPER;
use crate::exchangeable::experiments::e4::{E4Config, E4Len, E4Result, ID};

/// T4's parameter-error exponent in N: N^(-1/2).
pub const PARAM_PREDICTED: f64 = -0.5;
/// E4: parameter-error slope in N, −0.5 ± 0.1.
pub const PARAM: Rule = Rule::abs(0.1, "spec §3 E4 pass criterion (a numpy reference gave −0.44, −0.47, −0.54)");
/// The excess risk ½R''·(ln ŵ − ln w_L*)² of a smooth one-parameter ERM falls like N^(-1)
/// (ŵ is asymptotically normal with variance ∝ 1/N); the paper's N^(-1/2) is an upper bound.
pub const EXCESS_PREDICTED: f64 = -1.0;
/// E4: excess-risk slope in N, −1 ± 0.2 (tightened from the spec's one-sided "≤ −0.4").
pub const EXCESS: Rule = Rule::abs(
    0.2,
    "smooth parametric ERM gives N^(-1) (derived); ±0.2, set from a numpy reference at 40 training sets per N (−0.89, −0.95, −1.07) and kept for the 160 per N run here; tightened from the spec's ≤ −0.4",
);
/// E4: max over N of excess(L_max)/excess(L_min) at most 1: T4's bound has no L, so the excess does
/// not grow with L (tightened from the spec's ≤ 1.5; a numpy reference gave 0.2–0.5).
pub const EXCESS_RATIO: Rule = Rule::within(
    0.0,
    1.0,
    "T4: the bound has no L, so the excess must not grow with L (ratio ≤ 1); tightened from the spec's ≤ 1.5",
);
/// E4: |w_L* − w*| ≤ 0.15 for L ≥ [`W_OPT_MIN_LEN`].
pub const W_OPT: Rule = Rule::abs(0.15, "spec §3 E4 pass criterion (a numpy reference gave 2.90, 3.04, 3.03)");
/// E4: w_L* is judged for L ≥ this.
pub const W_OPT_MIN_LEN: usize = 64;
/// E4 control: "about linear" growth of the OLS gap in L: slope 1.
pub const OLS_GAP_PREDICTED: f64 = 1.0;
/// E4 control: slope of the OLS generalisation gap in L, about linear (attnlab's [0.75, 1.5]).
pub const OLS_GAP: Rule = Rule::within(
    0.75,
    1.5,
    "attnlab's: spec §3 says only 'about linearly'; wide on the high side as the gap diverges as N → 2L + 2",
);

/// `exchangeable.e4.param-slope.L<len>` of the row `pl`.
pub fn param_slope(cfg: &E4Config, d: &E4Result, pl: &E4Len) -> Judgement {
    slope_claim(
        &format!("exchangeable.e4.param-slope.L{}", pl.len),
        Kind::Theorem,
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
        Some(PARAM_PREDICTED),
        PARAM,
        ID,
    )
}

/// `exchangeable.e4.excess-slope.L<len>` of the row `pl`.
pub fn excess_slope(cfg: &E4Config, pl: &E4Len) -> Judgement {
    slope_claim(
        &format!("exchangeable.e4.excess-slope.L{}", pl.len),
        Kind::Theorem,
        &format!(
            "T4: excess risk ½R''(ln ŵ − ln w_L*)² of the one-parameter ERM falls like N^(-1) at L = {} (the paper's N^(-1/2) is an upper bound)",
            pl.len
        ),
        "§3 E4, §5.3; §1 T4",
        &pl.excess_fit,
        cfg.train_sets,
        Some(EXCESS_PREDICTED),
        EXCESS,
        ID,
    )
    // The excess ½R''·(ln ŵ − ln w_L*)² is a function of the same log-error: its slope is twice the
    // parameter slope's, not a second finding.
    .derived(&format!("exchangeable.e4.param-slope.L{}", pl.len))
}

/// `exchangeable.e4.excess-ratio`: the bootstrap CI of max over N of excess(L_max)/excess(L_min)
/// against [`EXCESS_RATIO`].
pub fn excess_ratio(cfg: &E4Config, d: &E4Result) -> Judgement {
    let (l0, l1) = (d.per_len[0].len, d.per_len[d.per_len.len() - 1].len);
    Judgement::new(
        Claim::new(
            "exchangeable.e4.excess-ratio",
            PAPER,
            Kind::Theorem,
            format!(
                "T4: the excess does not grow with L: max over N of excess(L = {l1})/excess(L = {l0}) ≤ 1 (per N: {}; {} training sets per N)",
                d.excess_ratio.iter().map(|r| fmt_num(*r)).collect::<Vec<_>>().join(", "),
                cfg.train_sets
            ),
            "§3 E4; T4",
        ),
        None,
        Observation::bootstrap(d.excess_ratio_max, d.excess_ratio_ci, cfg.train_sets),
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
                Kind::Control,
                format!(
                    "the population-optimal temperature w_L* (argmin of the test risk on {} sequences, common random numbers) is within 0.15 of the label's w* = {} for L ≥ 64",
                    cfg.test_size, cfg.w_star
                ),
                "§3 E4; §1 T4",
            ),
            Some(cfg.w_star),
            // A minimiser on one large test set: its standard error by the delta method, normal.
            Observation::t(pl.w_opt, pl.w_opt * pl.ln_w_opt_se, cfg.test_size.saturating_sub(1), cfg.test_size),
            W_OPT,
            ID,
            "w",
        )
    })
}

/// `exchangeable.e4.ols-control`.
pub fn ols_control(cfg: &E4Config, d: &E4Result) -> Judgement {
    slope_claim(
        "exchangeable.e4.ols-control",
        Kind::Control,
        &format!(
            "control: OLS on the 2L flattened key coordinates (+ intercept) at N = {}: its generalisation gap grows about linearly in L (slope of ln gap against ln L), unlike attention's",
            d.ns[d.ns.len() - 1]
        ),
        "§3 E4 control",
        &d.ols_gap_fit,
        cfg.ols_sets,
        Some(OLS_GAP_PREDICTED),
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
