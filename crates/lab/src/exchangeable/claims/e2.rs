//! Claims of E2 (spec §3, T1/T2), drawn in figure `exchangeable.f2.posterior`: each of the three
//! RMSE curves on M1(a) falls like L^(-1/2), slope −0.5 ± 0.07:
//! - `exchangeable.e2.attn-posterior`: attention vs the posterior functional ∫m_W(q, z)p(z | X)dz;
//! - `exchangeable.e2.attn-truth`: attention vs m_W(q, z_true);
//! - `exchangeable.e2.posterior-truth`: the posterior functional vs m_W(q, z_true).

use attnlab_comparator::{Judgement, Kind, Rule};

use super::slope_claim;
use crate::exchangeable::experiments::e2::{E2Config, E2Result, ID};

/// T1/T2's exponent: each error falls like L^(-1/2).
pub const PREDICTED: f64 = -0.5;
/// E2: each of the three RMSE slopes in L, −0.5 ± 0.07.
pub const SLOPE: Rule = Rule::abs(0.07, "spec §3 E2 pass criterion (a numpy reference gave −0.53, −0.51, −0.48)");

/// The claim ids of the three curves, in the order of `E2Result::rmse` and `E2Result::fits`.
pub const IDS: [&str; 3] =
    ["exchangeable.e2.attn-posterior", "exchangeable.e2.attn-truth", "exchangeable.e2.posterior-truth"];

/// The three E2 curves in words, in the same order.
pub const CURVES: [&str; 3] =
    ["attention vs posterior functional", "attention vs m_W(q, z)", "posterior functional vs m_W(q, z)"];

/// The claim of curve `c` (0, 1 or 2; see [`IDS`]): its slope against [`SLOPE`].
pub fn curve(cfg: &E2Config, d: &E2Result, c: usize) -> Judgement {
    slope_claim(
        IDS[c],
        Kind::Theorem,
        &format!(
            "T1/T2: RMSE of {} (M1(a), W = {}I, posterior on a 41×41 mode-centred grid) falls like L^(-1/2): slope over L = {} … {}, {} replicates per L",
            CURVES[c],
            cfg.w,
            d.lens[0],
            d.lens[d.lens.len() - 1],
            cfg.replicates
        ),
        "§3 E2, §1 T1–T2",
        &d.fits[c],
        cfg.replicates,
        Some(PREDICTED),
        SLOPE,
        ID,
    )
}

/// Every E2 claim, in report order. The three curves share their replicates; attention against
/// the truth composes the other two (T1 then T2) on the same data, so it is derived from
/// `attn-posterior` rather than counted as a third finding.
pub fn judge(cfg: &E2Config, d: &E2Result) -> Vec<Judgement> {
    (0..3).map(|c| if c == 1 { curve(cfg, d, c).derived(IDS[0]) } else { curve(cfg, d, c) }).collect()
}
